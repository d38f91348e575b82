// Every usage example of the seed document runs verbatim (only the import
// line changed) in Node (18, 20 and 22), workerd and Vercel's Edge Runtime,
// and what the local ingest server received is asserted body by body.
import assert from "node:assert/strict";
import { after, before, beforeEach, test } from "node:test";
import { join } from "node:path";

import { startIngestServer } from "../server/ingest-server.mjs";
import { bundleEdgeFunction, startEdgeFunction } from "./edge-runtime.mjs";
import { API_KEY, bundleWorker, control, nodeBinary, prepareApp, run, startWorker, UUID_V4 } from "./harness.mjs";

let server;
let app;
const CHOICES = [{ name: "login", group: "banner", body: [{ banner: "holiday-banner" }] }];
const EMAIL = "[email protected]";
const SOURCE = "616010376811536384";

before(async () => {
  // The seed SDK's examples choose by the name "new year banner", which the
  // wire contract's name pattern refuses; they are run verbatim here.
  server = await startIngestServer({ apiKey: API_KEY, organization: "demo-organization", project: "demo-project", sourceId: SOURCE, anyChooseNames: true });
  app = await prepareApp("seed");
});
beforeEach(async () => {
  await fetch(`${server.url}/_intempt/reset`, { method: "POST" });
  await fetch(`${server.url}/_intempt/choices`, { method: "POST", body: JSON.stringify(CHOICES) });
});
after(async () => server?.close());

const P = { profileId: "1845348" };
const TRACKED = [
  ["Identify User", { ...P, userId: EMAIL, userAttributes: { country: "USA" } }],
  ["Identify", { ...P, userId: EMAIL }],
  ["Identify User", { ...P, userId: EMAIL }],
  ["Identify User", { ...P, userId: EMAIL, userAttributes: { country: "USA" } }],
  ["Identify Account", { ...P, accountId: "intempt.com", accountAttributes: { country: "USA" } }],
  ["Identify", { ...P, accountId: "intempt.com" }],
  ["Identify Account", { ...P, accountId: "intempt.com" }],
  ["Identify UsAccounter", { ...P, accountId: "intempt.com", accountAttributes: { company_country: "USA" } }],
  ["Purchase", { ...P, data: { purchase_amount: 50, product_name: "Shoes" } }],
  ["Purchase", { ...P, data: { price_amount: 50, product_name: "Shoes" } }],
  ["Identify", { ...P, userId: EMAIL, anotherUserId: "555-555-1234" }],
  ["Identify", { ...P, userId: EMAIL, anotherUserId: "555-555-1234" }],
  [
    "Purchase",
    {
      ...P,
      userId: EMAIL,
      accountId: "intempt.com",
      data: { purchase_amount: 50, product_name: "Shoes" },
      userAttributes: { country: "USA" },
      accountAttributes: { company_country: "USA" },
    },
  ],
  ["Purchase", { ...P, userId: EMAIL, accountId: "intempt.com", data: { purchase_amount: 50, product_name: "Shoes" } }],
  ["Purchase", { ...P, userId: EMAIL, data: { purchase_amount: 50, product_name: "Shoes" }, userAttributes: { country: "USA" } }],
  ["Purchase", { ...P, accountId: "intempt.com", data: { purchase_amount: 50, product_name: "Shoes" }, accountAttributes: { company_country: "USA" } }],
];
const consent = (extra) => ({ action: "accept", ...extra });
const CONSENTS = [
  [consent({}), { validUntil: "1711705256000", email: EMAIL, message: "consents message" }],
  [consent({}), { validUntil: "unlimited" }],
  [consent({}), { validUntil: "unlimited", email: EMAIL, message: "consents message" }],
  [consent({ category: "GDPR" }), { validUntil: "1711705256000", email: EMAIL, message: "consents message" }],
  [consent({ category: "GDPR" }), { validUntil: "unlimited" }],
  [consent({ category: "GDPR" }), { validUntil: "unlimited", email: EMAIL, message: "consents message" }],
];
const choose = (optimizationType, list) => ({ identification: { profileId: "1845348", sourceId: SOURCE }, ...list, optimizationType, device: "all" });
const CHOOSES = [
  choose("personalization", { groups: ["banner"] }),
  choose("personalization", {}),
  choose("personalization", { groups: ["banner"] }),
  choose("personalization", { names: ["new year banner"] }),
  choose("personalization", {}),
  choose("personalization", { names: ["new year banner"] }),
  choose("experiment", { groups: ["banner"] }),
  choose("experiment", {}),
  choose("experiment", { groups: ["banner"] }),
  choose("experiment", {}),
  choose("experiment", { names: ["new year banner"] }),
];
const KEY_ORDER = ["eventId", "timestamp", "profileId", "userId", "accountId", "data", "userAttributes", "accountAttributes", "anotherUserId"];

async function assertReceived(result, before, after) {
  assert.deepEqual({ failed: result.report.failed, dropped: result.report.dropped, pending: result.report.pending }, { failed: 0, dropped: 0, pending: 0 });
  assert.equal(result.optedOut, 1, "the tracking call after optOut() was counted, not sent");
  assert.equal(result.afterOptOut.delivered, 0);
  assert.deepEqual(
    result.choices,
    CHOOSES.map(() => CHOICES),
    "each choose call resolves to the choices array",
  );

  const events = await control(server, "events");
  assert.equal(events.length, TRACKED.length, "every tracking example arrived once, the opted-out one not");
  events.forEach((event, i) => {
    const [name, fields] = TRACKED[i];
    const { eventId, timestamp, ...rest } = event.item;
    assert.equal(event.name, name, `event ${i}`);
    assert.deepEqual(rest, fields, `event ${i} fields`);
    assert.match(eventId, UUID_V4);
    assert.ok(Number.isInteger(timestamp) && timestamp >= before && timestamp <= after, `event ${i} timestamp in ms`);
    const order = Object.keys(event.item);
    assert.deepEqual(
      order,
      KEY_ORDER.filter((k) => order.includes(k)),
      `event ${i} key order`,
    );
  });

  const consents = await control(server, "consents");
  assert.equal(consents.length, CONSENTS.length);
  consents.forEach((entry, i) => {
    const body = entry.body;
    const [head, tail] = CONSENTS[i];
    assert.deepEqual(
      body,
      { ...head, timestamp: body.timestamp, profileId: "1845348", sourceId: SOURCE, validUntil: tail.validUntil, source: "intempt-edge", ...tail },
      `consent ${i}`,
    );
    assert.deepEqual(
      Object.keys(body),
      Object.keys({ ...head, timestamp: 0, profileId: 0, sourceId: 0, validUntil: 0, source: 0, ...tail }),
      `consent ${i} key order`,
    );
    assert.ok(
      Number.isInteger(body.timestamp) && body.timestamp >= Math.floor(before / 1000) && body.timestamp <= Math.ceil(after / 1000),
      "consent timestamp in seconds",
    );
  });

  const chooses = await control(server, "chooses");
  assert.deepEqual(
    chooses.map((c) => c.body),
    CHOOSES,
  );
}

for (const runtime of ["node", "node18", "node22"]) {
  test(`${runtime}: every seed example, verbatim`, async () => {
    const before = Date.now();
    const result = await run(nodeBinary(runtime), [join(app, "seed.mjs"), server.url, API_KEY], { cwd: app });
    assert.equal(result.code, 0, result.stderr);
    await assertReceived(JSON.parse(result.stdout), before, Date.now());
  });
}

test("workerd: every seed example, verbatim", async () => {
  const worker = await startWorker(await bundleWorker(app, "worker-seed.js", join(app, "dist-seed")));
  try {
    const before = Date.now();
    const query = new URLSearchParams({ endpoint: server.url, apiKey: API_KEY });
    const response = await worker.dispatchFetch(`http://example.com/?${query}`);
    assert.equal(response.status, 200, await response.clone().text());
    await assertReceived(await response.json(), before, Date.now());
  } finally {
    await worker.dispose();
  }
});

test("edge-runtime: every seed example, verbatim", async () => {
  const edge = await startEdgeFunction(await bundleEdgeFunction(join(app, "edge-seed.js")));
  try {
    const before = Date.now();
    const query = new URLSearchParams({ endpoint: server.url, apiKey: API_KEY });
    const response = await fetch(`${edge.url}/?${query}`);
    assert.equal(response.status, 200, await response.clone().text());
    await assertReceived(await response.json(), before, Date.now());
  } finally {
    await edge.close();
  }
});
