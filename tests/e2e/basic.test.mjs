// One track() call travels the whole way in every runtime: JS caller → wasm
// package (installed from the packed tarball) → the host's fetch → the local
// ingest server, which checks the wire contract. The body the server got is
// asserted key by key.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { join } from "node:path";

import { startIngestServer } from "../server/ingest-server.mjs";
import { bundleEdgeFunction, startEdgeFunction } from "./edge-runtime.mjs";
import { API_KEY, BASIC, bundleWorker, control, nodeBinary, prepareApp, run, startWorker, tool, UUID_V4 } from "./harness.mjs";

let server;
let app;

before(async () => {
  server = await startIngestServer({ apiKey: API_KEY });
  app = await prepareApp("basic");
});

after(async () => {
  await server?.close();
});

const TRACK_PATH = "/v1/demo-organization/projects/demo-project/sources/616010376811536384/track";

async function assertDelivered(runtime, result) {
  assert.equal(result.refused?.isIntemptError, true, "a bad call rejects with IntemptError");
  assert.equal(result.refused?.code, "INVALID_ARGUMENT");
  assert.deepEqual(
    { delivered: result.report.delivered, failed: result.report.failed, dropped: result.report.dropped, pending: result.report.pending },
    { delivered: 1, failed: 0, dropped: 0, pending: 0 },
  );
  const events = (await control(server, "events")).filter((e) => e.item.profileId === `${runtime}-p1`);
  assert.equal(events.length, 1, "exactly one event arrived");
  const [event] = events;
  assert.equal(event.name, "Purchase");
  assert.deepEqual(Object.keys(event.item), ["eventId", "timestamp", "profileId", "data"], "every key of the contract, in order");
  assert.match(event.item.eventId, UUID_V4);
  assert.ok(Number.isInteger(event.item.timestamp), "timestamp is an integer");
  assert.ok(event.item.timestamp >= result.before && event.item.timestamp <= result.after, "timestamp in ms, taken at the call");
  assert.deepEqual(event.item.data, { plan: "pro", amount: 42.5, items: ["a", "b"], nested: { k: "v" }, when: "1970-01-01T00:00:00.000Z" });
  const request = (await control(server, "requests")).find((r) => r.id === event.requestId);
  assert.equal(request.path, TRACK_PATH);
  assert.equal(request.headers.authorization, BASIC);
  assert.equal(request.headers["content-type"], "application/json");
  assert.match(request.headers["x-intempt-lib"], /^intempt-edge\/\d+\.\d+\.\d+/);
  assert.equal(request.authMode, "header");
  assert.ok(!request.path.includes("apiKey") && !JSON.stringify(request.query ?? {}).includes("test-secret"), "no key in the URL");
  assert.equal(
    request.body,
    `{"track":[{"name":"Purchase","payload":[{"eventId":"${event.item.eventId}","timestamp":${event.item.timestamp},"profileId":"${runtime}-p1","data":{"plan":"pro","amount":42.5,"items":["a","b"],"nested":{"k":"v"},"when":"1970-01-01T00:00:00.000Z"}}]}]}`,
    "the exact bytes",
  );
}

function parse(runtime, result) {
  assert.equal(result.code, 0, `${runtime} exited with ${result.code}:\n${result.stderr}`);
  return JSON.parse(result.stdout.trim().split("\n").pop());
}

test("node: track() reaches the server byte-exact", async () => {
  const result = await run(process.execPath, [join(app, "node.mjs"), server.url, API_KEY, "node"], { cwd: app });
  await assertDelivered("node", parse("node", result));
});

for (const [runtime, major] of [
  ["node18", 18],
  ["node22", 22],
]) {
  test(`${runtime}: track() reaches the server byte-exact`, async () => {
    const version = await run(nodeBinary(runtime), ["--version"]);
    assert.match(version.stdout, new RegExp(`^v${major}\\.`));
    const result = await run(nodeBinary(runtime), [join(app, "node.mjs"), server.url, API_KEY, runtime], { cwd: app });
    await assertDelivered(runtime, parse(runtime, result));
  });
}

// The package is ES modules. CommonJS callers can require() it where Node
// loads ES modules synchronously (20.19+, 22.12+); Node 18 cannot, so there
// it is import only (README, "Node versions").
test("require() of the package: Node 20 and 22 load it, Node 18 refuses with ERR_REQUIRE_ESM", async () => {
  const code = 'try { const { SDK } = require("intempt-edge"); console.log(typeof SDK); } catch (error) { console.log(error.code); }';
  for (const [runtime, want] of [
    ["node", "function"],
    ["node18", "ERR_REQUIRE_ESM"],
    ["node22", "function"],
  ]) {
    const result = await run(nodeBinary(runtime), ["-e", code], { cwd: app });
    assert.equal(result.stdout.trim(), want, `${runtime}: ${result.stderr}`);
  }
});

test("deno: track() reaches the server byte-exact", async () => {
  const args = ["run", "--allow-net=127.0.0.1", "--allow-read", "--allow-env", join(app, "deno.mjs"), server.url, API_KEY, "deno"];
  const result = await run(tool("deno"), args, { cwd: app, env: { DENO_NO_UPDATE_CHECK: "1" } });
  await assertDelivered("deno", parse("deno", result));
});

test("bun: track() reaches the server byte-exact", async () => {
  const result = await run(tool("bun"), [join(app, "node.mjs"), server.url, API_KEY, "bun"], { cwd: app });
  await assertDelivered("bun", parse("bun", result));
});

test("workerd: track() reaches the server byte-exact (bundled by wrangler, run in Miniflare)", async () => {
  const bundle = await bundleWorker(app, "worker.js", join(app, "dist"));
  const worker = await startWorker(bundle);
  try {
    const query = new URLSearchParams({ endpoint: server.url, apiKey: API_KEY });
    const response = await worker.dispatchFetch(`http://example.com/?${query}`);
    assert.equal(response.status, 200, await response.clone().text());
    await assertDelivered("workerd", await response.json());
  } finally {
    await worker.dispose();
  }
});

// Vercel's Edge Runtime: the function bundled with the `edge-light` condition
// (the package's edge-light.js, not node.js), its wasm a module binding. Run
// twice: with the binding compiled in Node's realm, as `vercel dev` and
// `next dev` make it, and in the function's own realm, as a deployed
// function gets it (edge-light.js takes both).
for (const bindingRealm of /** @type {const} */ (["node", "function"])) {
  test(`edge-runtime: track() reaches the server byte-exact (bundled with edge-light, wasm binding of the ${bindingRealm === "node" ? "Node" : "function's"} realm)`, async () => {
    const bundle = await bundleEdgeFunction(join(app, "edge-basic.js"));
    const entries = bundle.inputs.filter((file) => file.includes("node_modules/intempt-edge/") && !/intempt_edge\.js$|sdk\.js$/.test(file));
    assert.deepEqual(
      entries.map((file) => file.replace(/^.*\//, "")),
      ["edge-light.js"],
      "the edge-light entry is bundled, and no other",
    );
    assert.equal(bundle.wasm.size, 1, "the .wasm became one module binding");
    const edge = await startEdgeFunction(bundle, { bindingRealm });
    try {
      const runtime = `edge-runtime-${bindingRealm}-realm`;
      const query = new URLSearchParams({ endpoint: server.url, apiKey: API_KEY, runtime });
      const response = await fetch(`${edge.url}/?${query}`);
      assert.equal(response.status, 200, await response.clone().text());
      await assertDelivered(runtime, await response.json());
    } finally {
      await edge.close();
    }
  });
}
