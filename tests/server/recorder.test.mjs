// The recorder of `intempt-edge/testing` (pkg-template/testing.js): it must
// answer every request exactly as the ingest server does (both use
// pkg-template/contract.js), store what it accepts, and apply faults.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";

import { createRecorder, TEST_API_KEY } from "../../pkg-template/testing.js";
import { startIngestServer } from "./ingest-server.mjs";

const ORG = "demo-organization";
const PROJECT = "demo-project";
const SOURCE = "616010376811536384";
const BASIC = `Basic ${Buffer.from("test-id:test-secret").toString("base64")}`;
const TRACK = `/v1/${ORG}/projects/${PROJECT}/sources/${SOURCE}/track`;
const CONSENTS = `/v1/${ORG}/projects/${PROJECT}/consents/data`;
const CHOOSE = `/v1/${ORG}/projects/${PROJECT}/optimization/choose-api`;
const JSON_HEADERS = { "content-type": "application/json", authorization: BASIC };

const item = (over = {}) => ({
  eventId: "0b6f3c2e-8f1a-4d2b-9c3e-1a2b3c4d5e6f",
  timestamp: Date.now(),
  profileId: "p1",
  ...over,
});
const trackBody = (name = "Purchase", it = item({ data: { total: 99.99 } })) => JSON.stringify({ track: [{ name, payload: [it] }] });
const consent = (over = {}) =>
  JSON.stringify({
    action: "accept",
    timestamp: Math.floor(Date.now() / 1000),
    profileId: "p1",
    sourceId: SOURCE,
    validUntil: "unlimited",
    source: "intempt-edge",
    ...over,
  });

const chooseByNames = (names) =>
  JSON.stringify({ identification: { profileId: "p1", sourceId: SOURCE }, names, optimizationType: "personalization", device: "all" });

/** @typedef {{ method?: string, path: string, headers?: Record<string, string>, body?: BodyInit }} Spec */

/**
 * The same requests, valid and invalid, sent to both.
 * @type {[string, Spec][]}
 */
const CASES = [
  ["a valid track batch", { path: TRACK, body: trackBody() }],
  ["a valid consent", { path: CONSENTS, body: consent() }],
  [
    "a valid choose",
    {
      path: CHOOSE,
      body: JSON.stringify({ identification: { profileId: "p1", sourceId: SOURCE }, groups: ["banner"], optimizationType: "personalization", device: "all" }),
    },
  ],
  ["GET", { method: "GET", path: TRACK }],
  ["an unknown path", { path: `/v1/${ORG}/projects/${PROJECT}/events` }],
  ["malformed percent-encoding", { path: `/v1/${ORG}%zz/projects/${PROJECT}/sources/${SOURCE}/track` }],
  ["another organization", { path: `/v1/other/projects/${PROJECT}/sources/${SOURCE}/track`, body: trackBody() }],
  ["no key", { path: TRACK, headers: { "content-type": "application/json" }, body: trackBody() }],
  ["a wrong key", { path: TRACK, headers: { "content-type": "application/json", authorization: `Basic ${btoa("test-id:wrong")}` }, body: trackBody() }],
  ["a malformed Authorization", { path: TRACK, headers: { "content-type": "application/json", authorization: "Bearer x" }, body: trackBody() }],
  ["the key in the query", { path: `${TRACK}?apiKey=${TEST_API_KEY}`, headers: { "content-type": "application/json" }, body: trackBody() }],
  ["a wrong key in the query", { path: `${TRACK}?apiKey=test-id.nope`, headers: { "content-type": "application/json" }, body: trackBody() }],
  ["header and query", { path: `${TRACK}?apiKey=${TEST_API_KEY}`, body: trackBody() }],
  ["gzip", { path: TRACK, headers: { ...JSON_HEADERS, "content-encoding": "gzip" }, body: trackBody() }],
  ["no Content-Type", { path: TRACK, headers: { authorization: BASIC }, body: new Blob([trackBody()]) }],
  ["text/plain", { path: TRACK, headers: { ...JSON_HEADERS, "content-type": "text/plain" }, body: trackBody() }],
  ["latin1 charset", { path: TRACK, headers: { ...JSON_HEADERS, "content-type": "application/json; charset=latin1" }, body: trackBody() }],
  ["an empty body", { path: TRACK, body: "" }],
  ["invalid JSON", { path: TRACK, body: '{"track": [' }],
  ["invalid UTF-8", { path: TRACK, body: new Uint8Array([0x7b, 0xff, 0x7d]) }],
  ["too large", { path: TRACK, body: JSON.stringify({ track: [], pad: "x".repeat(2048) }) }],
  ["timestamp in seconds", { path: TRACK, body: trackBody("Purchase", item({ timestamp: Math.floor(Date.now() / 1000) })) }],
  ["null userId, unknown key, bad uuid", { path: TRACK, body: trackBody("Purchase", item({ userId: null, properties: {}, eventId: "X" })) }],
  ["Identify with data", { path: TRACK, body: trackBody("Identify", item({ userId: "u", data: {} })) }],
  ["an empty batch", { path: TRACK, body: JSON.stringify({ track: [] }) }],
  ["consent in milliseconds", { path: CONSENTS, body: consent({ timestamp: Date.now() }) }],
  ["consent with another source", { path: CONSENTS, body: consent({ sourceId: "1" }) }],
  ["choose by a name with spaces", { path: CHOOSE, body: chooseByNames(["new year banner"]) }],
  ["choose by names outside [a-zA-Z0-9_-]", { path: CHOOSE, body: chooseByNames(["ok_name-1", "é", "a.b", ""]) }],
  ["choose by valid names", { path: CHOOSE, body: chooseByNames(["new-year_banner", "Banner2", ""]) }],
  [
    "choose by groups with spaces (only names are checked)",
    {
      path: CHOOSE,
      body: JSON.stringify({ identification: { profileId: "p1", sourceId: SOURCE }, groups: ["new year"], optimizationType: "personalization", device: "all" }),
    },
  ],
  [
    "choose with groups and names",
    {
      path: CHOOSE,
      body: JSON.stringify({ identification: { profileId: "p1", sourceId: SOURCE }, groups: [], names: [], optimizationType: "x", device: "all" }),
    },
  ],
];

/** @type {(spec: Spec) => [string, RequestInit]} */
const request = ({ method = "POST", path, headers = JSON_HEADERS, body }) => [path, { method, headers, body: method === "GET" ? undefined : body }];

/** What a client can see of an answer. */
async function seen(response) {
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    wwwAuthenticate: response.headers.get("www-authenticate"),
    allow: response.headers.get("allow"),
    body: text === "" ? "" : JSON.parse(text),
  };
}

describe("the recorder answers exactly as the ingest server", () => {
  let server;
  const options = { organization: ORG, project: PROJECT, sourceId: SOURCE, maxBodyBytes: 1024 };
  before(async () => {
    server = await startIngestServer(options);
  });
  after(() => server.close());

  for (const [name, spec] of CASES) {
    test(name, async () => {
      const recorder = createRecorder(options);
      const [path, init] = request(spec);
      const fromServer = await seen(await fetch(`${server.url}${path}`, init));
      const fromRecorder = await seen(await recorder(`https://api.intempt.com${path}`, init));
      assert.deepEqual(fromRecorder, fromServer);
      const [rec] = recorder.requests();
      const serverRec = server.state.requests.at(-1);
      for (const key of ["method", "path", "query", "status", "error", "authMode", "kind"]) assert.deepEqual(rec[key], serverRec[key], key);
    });
  }

  test("choose names follow the wire contract (§5): outside ^[a-zA-Z0-9_-]*$ → 400, in both", async () => {
    const recorder = createRecorder(options);
    const init = { method: "POST", headers: JSON_HEADERS, body: chooseByNames(["new year banner"]) };
    for (const response of [await recorder(`https://api.intempt.com${CHOOSE}`, init), await fetch(`${server.url}${CHOOSE}`, init)]) {
      assert.equal(response.status, 400);
      assert.deepEqual(await response.json(), {
        errors: [{ message: 'body.names[0] must match ^[a-zA-Z0-9_-]*$ (letters, digits, _ and -; got "new year banner")' }],
      });
    }
    assert.deepEqual(recorder.chooses(), [], "a refused choose is not stored");
    const ok = await recorder(`https://api.intempt.com${CHOOSE}`, { ...init, body: chooseByNames(["new-year_banner"]) });
    assert.equal(ok.status, 200);
  });

  test("anyChooseNames: both accept names outside the pattern (the seed SDK's examples)", async () => {
    const lenient = await startIngestServer({ ...options, anyChooseNames: true });
    try {
      const recorder = createRecorder({ ...options, anyChooseNames: true });
      const init = { method: "POST", headers: JSON_HEADERS, body: chooseByNames(["new year banner"]) };
      assert.equal((await recorder(`https://api.intempt.com${CHOOSE}`, init)).status, 200);
      assert.equal((await fetch(`${lenient.url}${CHOOSE}`, init)).status, 200);
    } finally {
      await lenient.close();
    }
  });

  test("requests() never holds the key: Authorization (and Cookie) redacted, as in the ingest server's views", async () => {
    const recorder = createRecorder(options);
    await recorder(`https://api.intempt.com${TRACK}`, {
      method: "POST",
      headers: { ...JSON_HEADERS, cookie: "session=s3cret", "Proxy-Authorization": "Basic eA==" },
      body: trackBody(),
    });
    await recorder(`https://api.intempt.com${TRACK}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer x" },
      body: trackBody(),
    });
    const [accepted, refused] = recorder.requests();
    assert.equal(accepted.status, 201, "the key was checked before it was redacted");
    assert.equal(accepted.authMode, "header");
    assert.equal(accepted.headers.authorization, "[redacted]");
    assert.equal(accepted.headers.cookie, "[redacted]");
    assert.equal(accepted.headers["proxy-authorization"], "[redacted]");
    assert.equal(accepted.headers["content-type"], "application/json");
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.authorization, "[redacted]");
    const text = JSON.stringify(recorder.requests());
    for (const form of [BASIC, BASIC.slice("Basic ".length), "test-secret", "s3cret"]) assert.ok(!text.includes(form), `requests() holds ${form}`);
  });

  test("an invalid request is refused with the server's reasons and stores nothing", async () => {
    const recorder = createRecorder();
    const response = await recorder(`https://api.intempt.com${TRACK}`, { method: "POST", headers: JSON_HEADERS, body: trackBody("Identify", item()) });
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), {
      errors: [{ message: 'track[0].payload[0]: name "Identify" needs userId (identify/alias) or accountId (group)' }],
    });
    assert.deepEqual(recorder.events(), []);
  });
});

describe("the recorder stores and resets", () => {
  const recorder = createRecorder();
  beforeEach(() => recorder.reset());

  test("events, consents, chooses and requests; reset forgets them", async () => {
    const post = (path, body) => recorder(`https://api.intempt.com${path}`, { method: "POST", headers: JSON_HEADERS, body });
    assert.equal((await post(TRACK, trackBody())).status, 201);
    assert.equal((await post(CONSENTS, consent())).status, 200);
    const chosen = await post(CHOOSE, JSON.stringify({ identification: { profileId: "p1", sourceId: SOURCE }, optimizationType: "experiment", device: "all" }));
    assert.equal(chosen.status, 200);
    assert.equal((await chosen.json()).choices[0].name, "new year banner");
    assert.deepEqual(
      recorder.events().map((e) => [e.name, e.item.data, e.organization, e.sourceId]),
      [["Purchase", { total: 99.99 }, ORG, SOURCE]],
    );
    assert.equal(recorder.consents()[0].body.action, "accept");
    assert.equal(recorder.chooses()[0].body.optimizationType, "experiment");
    assert.deepEqual(
      recorder.requests().map((r) => [r.id, r.kind, r.status, r.authMode]),
      [
        [1, "track", 201, "header"],
        [2, "consents", 200, "header"],
        [3, "choose", 200, "header"],
      ],
    );
    recorder.setChoices([]);
    assert.deepEqual(
      await (
        await post(CHOOSE, JSON.stringify({ identification: { profileId: "p1", sourceId: SOURCE }, optimizationType: "experiment", device: "all" }))
      ).json(),
      { choices: [] },
    );
    recorder.reset();
    for (const list of ["events", "requests", "consents", "chooses"]) assert.deepEqual(recorder[list](), [], list);
  });

  test("the query key is redacted in requests()", async () => {
    await recorder(`https://api.intempt.com${TRACK}?apiKey=${TEST_API_KEY}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: trackBody(),
    });
    assert.deepEqual(recorder.requests()[0].query, { apiKey: "[redacted]" });
    assert.equal(recorder.requests()[0].authMode, "query");
  });

  test("a Request object and a URL are accepted as input", async () => {
    const url = new URL(`https://api.intempt.com${TRACK}`);
    assert.equal((await recorder(new Request(url, { method: "POST", headers: JSON_HEADERS, body: trackBody() }))).status, 201);
    assert.equal((await recorder(url, { method: "POST", headers: JSON_HEADERS, body: trackBody() })).status, 201);
    assert.equal(recorder.events().length, 2);
  });

  test("a malformed key is refused at creation", () => {
    assert.throws(() => createRecorder({ apiKey: "no-dot" }), /identifier\.secret/);
  });
});

describe("the recorder misbehaves on demand", () => {
  const recorder = createRecorder();
  const send = (init = {}) => recorder(`https://api.intempt.com${TRACK}`, { method: "POST", headers: JSON_HEADERS, body: trackBody(), ...init });
  beforeEach(() => recorder.reset());

  test("status and Retry-After, then normal service", async () => {
    recorder.failNext({ status: 429, retryAfter: "2" }, { status: 503 });
    const first = await send();
    assert.equal(first.status, 429);
    assert.equal(first.headers.get("retry-after"), "2");
    assert.deepEqual(await first.json(), { errors: [{ message: "injected 429" }] });
    assert.equal((await send()).status, 503);
    assert.equal((await send()).status, 201);
    assert.equal(recorder.events().length, 1, "a faulted request stores nothing");
    assert.deepEqual(
      recorder.requests().map((r) => r.fault),
      [{ status: 429, retryAfter: "2" }, { status: 503 }, null],
    );
  });

  test("Retry-After as an HTTP date", async () => {
    recorder.failNext({ status: 503, retryAfter: "http-date:+3" });
    const date = Date.parse((await send()).headers.get("retry-after"));
    assert.ok(date > Date.now() + 1000 && date < Date.now() + 5000, String(date));
  });

  test("a delay, then the answer; an abort during the delay rejects and stores nothing", async () => {
    recorder.failNext({ delayMs: 100 }, { delayMs: 5000 });
    const started = Date.now();
    assert.equal((await send()).status, 201);
    assert.ok(Date.now() - started >= 95);
    await assert.rejects(send({ signal: AbortSignal.timeout(50) }), (/** @type {Error} */ e) => e.name === "TimeoutError");
    assert.equal(recorder.events().length, 1);
    assert.match(recorder.requests()[1].error, /went away/);
  });

  test("hang until aborted; drop before and mid", async () => {
    recorder.failNext({ hang: true }, { drop: "before" }, { drop: "mid" });
    await assert.rejects(send({ signal: AbortSignal.timeout(50) }), (/** @type {Error} */ e) => e.name === "TimeoutError");
    await assert.rejects(send(), TypeError);
    assert.equal(recorder.events().length, 0);
    await assert.rejects(send(), TypeError);
    assert.equal(recorder.events().length, 1, 'drop "mid" stores the request');
  });

  test("a custom body, headers and a redirect", async () => {
    recorder.failNext({ status: 500, body: "oops", headers: { "x-a": "b" } }, { status: 308, location: "/moved" });
    const custom = await send();
    assert.equal(await custom.text(), "oops");
    assert.equal(custom.headers.get("x-a"), "b");
    const moved = await send();
    assert.equal(moved.status, 308);
    assert.equal(moved.headers.get("location"), "/moved");
  });

  test("a seeded random plan faults the same requests every time", async () => {
    const run = async () => {
      recorder.reset();
      recorder.setFaults({ random: { seed: 7, probability: 0.5, modes: [{ status: 503 }], maxFaults: 3 } });
      const statuses = [];
      for (let i = 0; i < 10; i += 1) statuses.push((await send()).status);
      return statuses;
    };
    const first = await run();
    assert.deepEqual(await run(), first);
    assert.equal(first.filter((s) => s === 503).length, 3);
  });

  test("a malformed plan throws with every reason", () => {
    // @ts-expect-error -- a malformed plan on purpose: `nope` is no Fault field, and the test is that it is refused
    assert.throws(() => recorder.setFaults({ queue: [{ status: 99 }, { nope: 1 }] }), /queue\[0\]\.status.*queue\[1\]\.nope/s);
  });
});

test("the main entries never import the recorder or the contract (it adds nothing to their size)", async () => {
  const { readFileSync, readdirSync } = await import("node:fs");
  const dir = new URL("../../pkg-template/", import.meta.url);
  const manifest = JSON.parse(readFileSync(new URL("package.json", dir), "utf8"));
  const main = Object.values(manifest.exports["."]).filter((f) => f.endsWith(".js"));
  assert.ok(main.length >= 5, String(main));
  assert.deepEqual(manifest.exports["./testing"], { types: "./testing.d.ts", default: "./testing.js" });
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".js") && f !== "testing.js" && f !== "contract.js")) {
    const text = readFileSync(new URL(file, dir), "utf8");
    assert.doesNotMatch(text, /testing|contract\.js/, `${file} must not import the testing entry`);
  }
});

test("failNext queues faults ahead of a random plan without restarting its sequence", async () => {
  const send = (recorder) => recorder(`https://api.intempt.com${TRACK}`, { method: "POST", headers: JSON_HEADERS, body: trackBody() });
  const plan = { random: { seed: 3, probability: 0.5, modes: [{ status: 500 }] } };
  const plain = createRecorder();
  plain.setFaults(plan);
  const expected = [];
  for (let i = 0; i < 8; i += 1) expected.push((await send(plain)).status);

  const mixed = createRecorder();
  mixed.setFaults(plan);
  const got = [];
  for (let i = 0; i < 4; i += 1) got.push((await send(mixed)).status);
  mixed.failNext({ status: 418 });
  got.push((await send(mixed)).status);
  for (let i = 4; i < 8; i += 1) got.push((await send(mixed)).status);
  assert.deepEqual(got, [...expected.slice(0, 4), 418, ...expected.slice(4)]);
  assert.throws(() => mixed.failNext({ status: 1 }), /queue\[0\]\.status/);
});
