// `node --test`: the handler with an SDK whose fetch is the recorder of
// "intempt-edge/testing". Every request the SDK makes is checked against
// Intempt's wire contract and answered like Intempt, in process.
import assert from "node:assert/strict";
import http from "node:http";
import { after, before, beforeEach, test } from "node:test";
import { SDK } from "intempt-edge";
import { createRecorder, TEST_API_KEY } from "intempt-edge/testing";

import { createHandler } from "./app.mjs";

const recorder = createRecorder({ sourceId: "616010376811536384" });
const intempt = new SDK("demo-organization", "demo-project", TEST_API_KEY, "616010376811536384", 100, 20, { fetch: recorder });
let server;
let base;

before(async () => {
  server = http.createServer(createHandler(intempt));
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
  base = `http://127.0.0.1:${port}`;
});
after(async () => {
  server.close();
  await intempt.close();
});
beforeEach(() => recorder.reset());

test("a visit to /buy tracks a Purchase", async () => {
  const response = await fetch(`${base}/buy?profile=p1`);
  assert.equal(await response.text(), "ok\n");

  const report = await intempt.flush();

  // Settled, whichever flush sent them: the batch timer's (100 ms) may have
  // started before this one on a busy machine.
  assert.equal(report.pending, 0);
  assert.deepEqual(
    recorder.events().map((e) => [e.name, e.item.profileId, e.item.data]),
    [
      ["Page View", "p1", { path: "/buy", runtime: "node" }],
      ["Purchase", "p1", { price_amount: 50, product_name: "Shoes" }],
    ],
  );
});

test("a 429 with Retry-After is retried and the event still arrives", async () => {
  recorder.failNext({ status: 429, retryAfter: "0" });
  await fetch(`${base}/?profile=p2`);

  const report = await intempt.flush();

  assert.equal(report.pending, 0);
  assert.deepEqual(
    recorder.requests().map((r) => r.status),
    [429, 201],
  );
  assert.deepEqual(
    recorder.events().map((e) => e.name),
    ["Page View"],
  );
});
