// intempt-edge/hono: the Hono middleware, and examples/hono (one Hono app)
// run in workerd (bundled by wrangler), Deno, Bun and Node against the local
// ingest server. Handlers track through c.var.intempt; every event arrives
// exactly once; the flush is handed to waitUntil on Workers (the response
// does not wait for it) and awaited before the response elsewhere (the
// events are stored when the response arrives); a handler that throws still
// gets its events sent; nothing is printed but the servers' startup line.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, test } from "node:test";

import { startIngestServer } from "../server/ingest-server.mjs";
import { API_KEY, bundleWorker, freePort, prepareCopy, ROOT, run, startWorker, tool, waitForHttp } from "./harness.mjs";

const ORG = { organization: "demo-organization", project: "demo-project", sourceId: "616010376811536384" };
const ENV = () => ({
  INTEMPT_ORGANIZATION: ORG.organization,
  INTEMPT_PROJECT: ORG.project,
  INTEMPT_SOURCE_ID: ORG.sourceId,
  INTEMPT_API_KEY: API_KEY,
  INTEMPT_ENDPOINT: server.url,
});
// The ingest server answers the first track request of a runtime's run this
// late: on Workers the response must arrive before it (the flush is in
// waitUntil), elsewhere after it (the flush is awaited).
const SLOW_MS = 2_000;

let server;
let dir; // examples/hono copied, with the packed package, hono and @hono/node-server installed
before(async () => {
  server = await startIngestServer({ apiKey: API_KEY, ...ORG });
  dir = await prepareCopy(join(ROOT, "examples", "hono"), "example-hono");
});
after(async () => server?.close());

const eventsOf = (profile) => server.state.events.filter((e) => e.item.profileId === profile);
const names = (events) => events.map((e) => [e.name, e.item.data.path ?? null]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitForEvents(profile, count) {
  const until = Date.now() + 10_000;
  while (eventsOf(profile).length < count && Date.now() < until) await sleep(25);
  return eventsOf(profile);
}

/**
 * The same requests against one running copy of the app: `get(path)` returns
 * a fetch Response. `awaited`: the runtime has no ExecutionContext, so the
 * middleware awaits the flush and each request's events are stored before its
 * response arrives.
 */
async function exercise(get, profile, awaited) {
  // 1. A Page View while the ingest server takes SLOW_MS to answer.
  server.setFaults({ queue: [{ delayMs: SLOW_MS }] });
  const started = Date.now();
  let response = await get(`/?profile=${profile}`);
  const elapsed = Date.now() - started;
  assert.equal(response.status, 200);
  assert.equal(await response.text(), `recorded for profile ${profile}\n`);
  if (awaited) {
    assert.ok(elapsed >= SLOW_MS - 50, `the response came after ${elapsed} ms, before the flush could end`);
    assert.deepEqual(names(eventsOf(profile)), [["Page View", "/"]], "stored before the response");
  } else {
    assert.ok(elapsed < SLOW_MS, `the response waited ${elapsed} ms for the flush`);
    assert.deepEqual(eventsOf(profile), [], "the flush runs after the response (waitUntil)");
    await waitForEvents(profile, 1);
  }
  // 2. Two events in one handler.
  response = await get(`/buy?profile=${profile}`);
  assert.equal(response.status, 200);
  await response.text();
  if (awaited) assert.equal(eventsOf(profile).length, 3, "stored before the response");
  // 3. A handler that tracks, then throws: Hono's onError answers 500, the event is still sent.
  response = await get(`/checkout?profile=${profile}`);
  assert.equal(response.status, 500);
  assert.equal(await response.text(), "failed: payment service unavailable\n");
  if (awaited) assert.equal(eventsOf(profile).length, 4, "stored before the response");
  // Exactly once: all of them, nothing more a while later, no eventId twice.
  await waitForEvents(profile, 4);
  await sleep(500);
  const events = eventsOf(profile);
  assert.deepEqual(names(events), [
    ["Page View", "/"],
    ["Page View", "/buy"],
    ["Purchase", null],
    ["Checkout Started", "/checkout"],
  ]);
  assert.equal(new Set(events.map((e) => e.item.eventId)).size, events.length);
  assert.deepEqual(events[2].item.data, { price_amount: 50, product_name: "Shoes" });
}

/** Starts a server entry of the example; runs `body(get)`; stops it; returns its output. */
async function withServer(command, args, body) {
  const port = await freePort();
  const child = spawn(command, args, { cwd: dir, env: { ...process.env, ...ENV(), PORT: String(port), NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const exited = new Promise((resolve) => child.on("close", resolve));
  try {
    // A path no route has: Hono's 404, through the middleware (nothing to send).
    await waitForHttp(`http://127.0.0.1:${port}/health`);
    await body((path) => fetch(`http://127.0.0.1:${port}${path}`));
  } finally {
    child.kill("SIGTERM");
  }
  await exited;
  return output;
}

/** Every line of `output` that is not the server's startup line. */
const strayLines = (output) =>
  output
    .split("\n")
    .filter(Boolean)
    // Node (node.js's own line), Deno.serve's, Bun's for a default export with fetch.
    .filter((line) => !/^(listening on \d+|Listening on http:\/\/127\.0\.0\.1:\d+\/.*|Started development server: http:\/\/127\.0\.0\.1:\d+)$/.test(line));

for (const [runtime, command, args] of [
  ["node", process.execPath, ["node.js"]],
  ["deno", tool("deno"), ["run", "--allow-net=127.0.0.1", "--allow-env", "deno.js"]],
  ["bun", tool("bun"), ["bun.js"]],
]) {
  test(`examples/hono in ${runtime}: the middleware awaits the flush; every event arrives once, a throwing handler's too`, { timeout: 120_000 }, async () => {
    server.reset();
    const output = await withServer(command, args, (get) => exercise(get, `hono-${runtime}`, true));
    assert.deepEqual(strayLines(output), [], output);
    // The probe (profile-less 404) tracked nothing; only our profile's events were sent.
    assert.equal(server.state.events.length, 4);
  });
}

test("examples/hono in workerd (bundled by wrangler): the flush goes to waitUntil; every event arrives once, a throwing handler's too", {
  timeout: 180_000,
}, async () => {
  server.reset();
  const output = [];
  const worker = await startWorker(await bundleWorker(dir, "app.js", join(dir, "dist")), { bindings: ENV(), output });
  try {
    await exercise((path) => worker.dispatchFetch(`http://w${path}`), "hono-workerd", false);
  } finally {
    await worker.dispose();
  }
  assert.deepEqual(output, []);
  assert.equal(server.state.events.length, 4);
});

// The middleware's contract, with Hono itself (installed in the example's copy)
// and a stand-in client whose flush the test settles.

async function hono() {
  return import(pathToFileURL(join(dir, "node_modules", "hono", "dist", "index.js")).href);
}
const middleware = () => import(pathToFileURL(join(dir, "node_modules", "intempt-edge", "hono.js")).href);

function fakeClient() {
  const client = { flushes: 0, tracked: [], settle: [] };
  client.track = async (profileId, title) => void client.tracked.push([profileId, title]);
  client.flush = () => {
    client.flushes += 1;
    return new Promise((resolve) => client.settle.push(() => resolve({ delivered: client.tracked.length })));
  };
  client.settleAll = () => {
    for (const f of client.settle.splice(0)) f();
  };
  return client;
}

/** Whether `promise` is still pending after the macrotask queue ran once more. */
async function pending(promise) {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await sleep(20);
  return !done;
}

test("middleware: with an ExecutionContext the flush is handed to waitUntil and the response does not wait", { timeout: 10_000 }, async () => {
  const { Hono } = await hono();
  const { intempt } = await middleware();
  const client = fakeClient();
  const app = new Hono().use(intempt(client)).get("/", async (c) => {
    assert.equal(c.get("intempt"), client);
    await c.var.intempt.track("p1", "Page View");
    return c.text("ok");
  });
  const handed = [];
  const ctx = { waitUntil: (p) => handed.push(p), passThroughOnException() {}, props: {} };
  const response = await app.request("/", undefined, {}, ctx);
  assert.equal(await response.text(), "ok");
  assert.equal(client.flushes, 1);
  assert.equal(handed.length, 1);
  assert.equal(await pending(handed[0]), true, "the response came before the flush ended");
  client.settleAll();
  assert.deepEqual(await handed[0], { delivered: 1 });
});

test("middleware: without an ExecutionContext (c.executionCtx throws) the response waits for the flush", { timeout: 10_000 }, async () => {
  const { Hono } = await hono();
  const { intempt } = await middleware();
  const client = fakeClient();
  const app = new Hono().use(intempt(client)).get("/", async (c) => {
    assert.throws(() => c.executionCtx, /no ExecutionContext/);
    await c.var.intempt.track("p1", "Page View");
    return c.text("ok");
  });
  const answer = app.request("/");
  assert.equal(await pending(answer), true, "the response waits for the flush");
  assert.equal(client.flushes, 1);
  client.settleAll();
  assert.equal(await (await answer).text(), "ok");
});

test("middleware: the factory is called once, lazily, with the first request's context", { timeout: 10_000 }, async () => {
  const { Hono } = await hono();
  const { intempt } = await middleware();
  const client = fakeClient();
  const calls = [];
  const app = new Hono().use(
    intempt((c) => {
      calls.push(c.env.KEY);
      return client;
    }),
  );
  app.get("/", (c) => c.text(String(c.var.intempt === client)));
  assert.deepEqual(calls, [], "not called before a request");
  const ctx = { waitUntil() {}, passThroughOnException() {} };
  for (const key of ["first", "second", "third"]) assert.equal(await (await app.request("/", undefined, { KEY: key }, ctx)).text(), "true");
  assert.deepEqual(calls, ["first"]);
  assert.equal(client.flushes, 3);
});

test("middleware: a factory that throws fails that request; the next request calls it again", { timeout: 10_000 }, async () => {
  const { Hono } = await hono();
  const { intempt } = await middleware();
  const client = fakeClient();
  let calls = 0;
  const app = new Hono().use(
    intempt(() => {
      calls += 1;
      if (calls === 1) throw new Error("no API key yet");
      return client;
    }),
  );
  app.get("/", (c) => c.text("ok"));
  app.onError((err, c) => c.text(`failed: ${err.message}`, 500));
  const ctx = { waitUntil() {}, passThroughOnException() {} };
  assert.equal(await (await app.request("/", undefined, {}, ctx)).text(), "failed: no API key yet");
  assert.equal(await (await app.request("/", undefined, {}, ctx)).text(), "ok");
  assert.equal(calls, 2);
  assert.throws(() => intempt("id.secret"), TypeError);
  const notAClient = new Hono().use(intempt(() => ({})));
  notAClient.onError((err, c) => c.text(err.message, 500));
  assert.match(await (await notAClient.request("/", undefined, {}, ctx)).text(), /must return an SDK/);
});

test("middleware: a handler that throws still flushes what it tracked, then its error goes on", { timeout: 10_000 }, async () => {
  const { Hono } = await hono();
  const { intempt } = await middleware();
  const client = fakeClient();
  const app = new Hono().use(intempt(client));
  app.get("/error", async (c) => {
    await c.var.intempt.track("p1", "Checkout Started");
    throw new Error("boom");
  });
  // A thrown value that is not an Error: Hono's compose passes it on through
  // next(), so the middleware sees it, flushes, and rethrows the same value.
  const thrown = { reason: "not an Error" };
  app.get("/value", async (c) => {
    await c.var.intempt.track("p1", "Checkout Started");
    throw thrown;
  });
  app.onError((err, c) => c.text(`failed: ${err.message}`, 500));

  const answer = app.request("/error");
  assert.equal(await pending(answer), true, "the flush is awaited on the error path too");
  client.settleAll();
  const response = await answer;
  assert.equal(response.status, 500);
  assert.equal(await response.text(), "failed: boom");
  assert.equal(client.flushes, 1);

  const handed = [];
  const rejected = app.request("/value", undefined, {}, { waitUntil: (p) => handed.push(p), passThroughOnException() {} });
  await assert.rejects(rejected, (err) => err === thrown);
  assert.equal(client.flushes, 2);
  assert.equal(handed.length, 1, "handed to waitUntil before the error went on");
  client.settleAll();
  await handed[0];
  assert.equal(client.tracked.length, 2);
});

test("middleware: a flush that rejects or throws never fails the response", { timeout: 10_000 }, async () => {
  const { Hono } = await hono();
  const { intempt } = await middleware();
  const rejecting = { track: async () => {}, flush: () => Promise.reject(new Error("flush failed")) };
  const throwing = {
    track: async () => {},
    flush: () => {
      throw new Error("flush threw");
    },
  };
  for (const client of [rejecting, throwing]) {
    const app = new Hono().use(intempt(client)).get("/", (c) => c.text("ok"));
    const awaitedResponse = await app.request("/");
    assert.equal(awaitedResponse.status, 200);
    const handed = [];
    const response = await app.request("/", undefined, {}, { waitUntil: (p) => handed.push(p), passThroughOnException() {} });
    assert.equal(response.status, 200);
    assert.equal(await handed[0], undefined, "the handed promise resolves");
  }
  // A waitUntil that throws: the flush is awaited instead.
  const client = fakeClient();
  const app = new Hono().use(intempt(client)).get("/", (c) => c.text("ok"));
  const answer = app.request(
    "/",
    undefined,
    {},
    {
      waitUntil() {
        throw new Error("the request is over");
      },
      passThroughOnException() {},
    },
  );
  assert.equal(await pending(answer), true);
  client.settleAll();
  assert.equal((await answer).status, 200);
});

test("the hono entry is its own: it imports nothing, and no main entry imports it", () => {
  const pkg = join(dir, "node_modules", "intempt-edge");
  const manifest = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8"));
  assert.deepEqual(manifest.exports["./hono"], { types: "./hono.d.ts", default: "./hono.js" });
  const source = readFileSync(join(pkg, "hono.js"), "utf8");
  assert.doesNotMatch(source, /^\s*import\b|\bimport\s*\(|\brequire\s*\(/m, "hono.js must not import anything at run time");
  assert.doesNotMatch(readFileSync(join(pkg, "hono.d.ts"), "utf8"), /^import (?!type )/m, "hono.d.ts imports types only");
  for (const file of readdirSync(pkg).filter((f) => f.endsWith(".js") && f !== "hono.js")) {
    assert.doesNotMatch(
      readFileSync(join(pkg, file), "utf8"),
      /["'`]\.\/hono(\.js)?["'`]|intempt-edge\/hono|["'`]hono["'`/]/,
      `${file} must not load the hono entry or hono`,
    );
  }
});

test("the hono entry's types: documented use type-checks; wrong types fail on exactly the marked lines", { timeout: 120_000 }, async () => {
  cpSync(join(ROOT, "tests", "e2e", "types"), join(dir, "types"), { recursive: true });
  const tsc = (file) =>
    run(
      tool("tsc"),
      [
        "--noEmit",
        "--strict",
        "--target",
        "es2022",
        "--module",
        "nodenext",
        "--moduleResolution",
        "nodenext",
        "--lib",
        "es2022,dom",
        "--skipLibCheck",
        "false",
        file,
      ],
      { cwd: dir },
    );
  const ok = await tsc("types/hono-ok.ts");
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  const bad = await tsc("types/hono-bad.ts");
  assert.notEqual(bad.code, 0, "tsc accepted wrong types");
  const reported = new Set([...bad.stdout.matchAll(/^types\/hono-bad\.ts\((\d+),\d+\): error/gm)].map((m) => Number(m[1])));
  const expected = readFileSync(join(dir, "types", "hono-bad.ts"), "utf8")
    .split("\n")
    .flatMap((line, i) => (line.includes("// expect-error") ? [i + 1] : []));
  assert.deepEqual(
    [...reported].sort((a, b) => a - b),
    expected,
    bad.stdout,
  );
});
