// The edge lifecycle in the real runtimes: no lost events on workerd even
// without flush(), a module-scope client shared by concurrent requests,
// retries under waitUntil, a bounded flush against a server that never
// answers, the same explicit flush in Deno, Bun and Node (18, 20, 22), a Node
// process that is not held open by the SDK's timer, and Vercel's Edge Runtime
// with the request context's waitUntil.
import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, test } from "node:test";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

import { startIngestServer } from "../server/ingest-server.mjs";
import { bundleEdgeFunction, startEdgeFunction } from "./edge-runtime.mjs";
import { API_KEY, bundleWorker, control, envOf, nodeBinary, prepareApp, run, startWorker, tool } from "./harness.mjs";

let server;
let app;
let worker;
// workerd's own stdout and stderr: the Worker's console output and the
// runtime's warnings (cross-request I/O among them).
const workerdOutput = [];

before(async () => {
  server = await startIngestServer({ apiKey: API_KEY });
  app = await prepareApp("lifecycle");
  worker = await startWorker(await bundleWorker(app, "lifecycle-worker.js", join(app, "dist")), {
    output: workerdOutput,
    bindings: { INTEMPT_API_KEY: API_KEY, INTEMPT_ENDPOINT: server.url },
  });
});
beforeEach(async () => {
  await fetch(`${server.url}/_intempt/reset`, { method: "POST" });
});
// The Worker's clients live across tests (client(url) keeps one per endpoint
// and deadline). A test must not leave undelivered events in one: a later
// background flush would send them and take the faults the next test queued
// for its own client. So, after each test: faults off, then every Worker
// client flushed until nothing is pending. A first drain flush that still had
// something to send means the test left events behind: that test fails.
afterEach(async () => {
  await faults({ queue: [], random: null });
  const drained = await (await worker.dispatchFetch("http://w/drain")).json();
  for (const { client, reports, stats } of drained) {
    assert.deepEqual(
      { queued: stats.queued, inFlight: stats.inFlight },
      { queued: 0, inFlight: 0 },
      `Worker client "${client}" could not be drained: ${JSON.stringify(reports)}`,
    );
    assert.equal(reports[0].requests, 0, `the test left undelivered events in Worker client "${client}": ${JSON.stringify(reports[0])}`);
  }
});
after(async () => {
  await worker?.dispose();
  await server?.close();
});

const faults = (plan) => fetch(`${server.url}/_intempt/faults`, { method: "POST", body: JSON.stringify(plan) });
const query = (extra) => new URLSearchParams({ endpoint: server.url, apiKey: API_KEY, ...extra });
const eventsFor = async (profile) => (await control(server, "events")).filter((e) => e.item.profileId === profile);
async function waitForEvents(count, timeoutMs = 15_000) {
  const response = await fetch(`${server.url}/_intempt/wait?events=${count}&timeoutMs=${timeoutMs}`);
  return response.status === 200;
}
const CROSS_REQUEST = /different request|Cannot perform I\/O|cross-request|hung|never resolve/i;

test("workerd: a Worker that tracks and returns without flush() still delivers every event", async () => {
  const response = await worker.dispatchFetch(`http://w/track?${query({ n: "7", profile: "no-flush" })}`);
  assert.equal(await response.text(), "ok");
  assert.ok(await waitForEvents(7), "the background flush delivered after the response");
  const events = await eventsFor("no-flush");
  assert.deepEqual(
    events.map((e) => e.item.data.i),
    [0, 1, 2, 3, 4, 5, 6],
  );
});

test("workerd: 50 concurrent requests share one module-scope client and deliver every event", async () => {
  workerdOutput.length = 0;
  // shared=1: the client constructed at module load, before any request.
  const responses = await Promise.all(
    Array.from({ length: 50 }, (_, r) => worker.dispatchFetch(`http://w/track-wait?${query({ n: "3", profile: `c${r}`, shared: "1" })}`)),
  );
  for (const response of responses) assert.equal(await response.text(), "ok");
  assert.ok(await waitForEvents(150), "all 150 events arrived");
  const events = await control(server, "events");
  const ids = new Set(events.map((e) => e.item.eventId));
  assert.equal(ids.size, 150, "each event once");
  for (let r = 0; r < 50; r++) {
    assert.deepEqual(
      events
        .filter((e) => e.item.profileId === `c${r}`)
        .map((e) => e.item.data.i)
        .sort(),
      [0, 1, 2],
    );
  }
  // The capture works: each request's console line arrived here.
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(workerdOutput.filter((line) => line.includes("lifecycle-worker: request")).length, 50, workerdOutput.join("\n"));
  const suspicious = workerdOutput.filter((line) => CROSS_REQUEST.test(line));
  assert.deepEqual(suspicious, [], "no cross-request error or warning in workerd's output");
});

// The harness reads each Worker response's body as it arrives: Miniflare
// hands back undici's body inside a Response of its own, and a garbage
// collection before the read cancelled it ("Body is unusable", once in 3
// runs of the test above; 5 of 5 here without the harness's read).
test("workerd: responses awaited together survive a garbage collection before they are read", async () => {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc");
  const responses = await Promise.all(Array.from({ length: 5 }, () => worker.dispatchFetch(`http://w/reports`)));
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 10));
  }
  for (const response of responses) assert.ok(Array.isArray(await response.json()));
});

test("workerd: ctx.waitUntil(sdk.flush()) against 503 then 200 delivers everything and says so", async () => {
  await faults({ queue: [{ status: 503 }] });
  const before = (await (await worker.dispatchFetch(`http://w/reports`)).json()).length;
  const response = await worker.dispatchFetch(`http://w/track-wait?${query({ n: "4", profile: "retry", deadline: "8000" })}`);
  assert.equal(await response.text(), "ok");
  assert.ok(await waitForEvents(4));
  let reports = [];
  for (let i = 0; i < 100 && reports.length <= before; i++) {
    reports = await (await worker.dispatchFetch(`http://w/reports`)).json();
    await new Promise((r) => setTimeout(r, 50));
  }
  const report = reports.at(-1);
  const stats = await control(server, "stats");
  assert.equal(stats.byStatus["503"], 1, "the server answered 503 once");
  assert.equal((await eventsFor("retry")).length, 4);
  // The caller's flush kept its batch through the retry (the timer's flush,
  // starting meanwhile, waits for it), so its report tells the whole story.
  assert.deepEqual(
    {
      delivered: report.delivered,
      failed: report.failed,
      dropped: report.dropped,
      pending: report.pending,
      retries: report.retries,
      requests: report.requests,
    },
    { delivered: 4, failed: 0, dropped: 0, pending: 0, retries: 1, requests: 2 },
  );
});

test("workerd: against a server that never answers, flush() resolves by its deadline and reports the events failed", async () => {
  await faults({ random: { seed: 1, probability: 1, modes: [{ hang: true }] } });
  const response = await worker.dispatchFetch(`http://w/track-await?${query({ n: "3", profile: "hang", deadline: "2000" })}`);
  const { report, tookMs } = await response.json();
  assert.ok(tookMs <= 2_500, `flush took ${tookMs} ms with a 2000 ms deadline`);
  assert.equal(report.timedOut, true);
  assert.equal(report.delivered, 0);
  assert.equal(report.failed, 3);
  assert.equal(report.pending, 3);
  assert.equal(report.reasons[0].cause, "timeout");
  // Leave nothing behind in this long-lived client: with the server answering
  // again, flush it until nothing is pending. The 3 events arrive, once each.
  await faults({ queue: [] });
  let drained;
  for (let i = 0; i < 10; i++) {
    drained = await (await worker.dispatchFetch(`http://w/track-await?${query({ n: "0", profile: "hang", deadline: "2000" })}`)).json();
    if (drained.report.pending === 0) break;
  }
  assert.equal(drained.report.pending, 0, `the client still holds events after 10 flushes: ${JSON.stringify(drained)}`);
  const delivered = await eventsFor("hang");
  assert.equal(delivered.length, 3, "the 3 events arrived once the server answered again");
  assert.equal(new Set(delivered.map((e) => e.item.eventId)).size, 3, "once each");
});

for (const runtime of ["node", "node-fetch", "node18", "node22", "bun", "deno"]) {
  test(`${runtime}: await flush() against 503 then 200 delivers everything and says so`, async () => {
    await faults({ queue: [{ status: 503 }] });
    const script = join(app, "lifecycle.mjs");
    const args = [server.url, API_KEY, `${runtime}-retry`, "5", "flush"];
    const command = /** @type {Record<string, [string, string[]]>} */ ({
      node: [process.execPath, [script, ...args]],
      "node-fetch": [process.execPath, [script, ...args]],
      node18: [nodeBinary("node18"), [script, ...args]],
      node22: [nodeBinary("node22"), [script, ...args]],
      bun: [tool("bun"), [script, ...args]],
      deno: [tool("deno"), ["run", "--allow-net=127.0.0.1", script, ...args]],
    })[runtime];
    const result = await run(...command, { cwd: app, env: envOf(runtime) });
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout.trim());
    // The queued 503 must have been answered to this process's own request,
    // not taken by another client's traffic (the server's fault queue is global).
    const track = (await control(server, "requests")).filter((r) => r.kind === "track");
    assert.deepEqual(
      track.map((r) => ({ status: r.status, own: Boolean(r.body?.includes(`"profileId":"${runtime}-retry"`)) })),
      [
        { status: 503, own: true },
        { status: 201, own: true },
      ],
      "the server answered this process 503, then 201, and saw no other tracking request",
    );
    assert.deepEqual(
      { delivered: report.delivered, failed: report.failed, dropped: report.dropped, pending: report.pending, retries: report.retries },
      { delivered: 5, failed: 0, dropped: 0, pending: 0, retries: 1 },
    );
    assert.equal((await eventsFor(`${runtime}-retry`)).length, 5);
  });
}

for (const runtime of ["node", "node18", "node22"]) {
  test(`${runtime}: the waitUntil option receives the background flush, which delivers`, async () => {
    const result = await run(nodeBinary(runtime), [join(app, "wait-until.mjs"), server.url, API_KEY, "wait-until"], { cwd: app });
    assert.equal(result.code, 0, result.stderr);
    const { handedBeforeWait, stats } = JSON.parse(result.stdout.trim());
    assert.equal(handedBeforeWait, 1, "one batch timer, handed to waitUntil when it was armed");
    assert.deepEqual({ queued: stats.queued, inFlight: stats.inFlight, delivered: stats.delivered }, { queued: 0, inFlight: 0, delivered: 3 });
    assert.equal((await eventsFor("wait-until")).length, 3);
  });
}

for (const runtime of ["node", "node-fetch", "node18", "node22"]) {
  test(`${runtime}: a process that tracked events and never flushed exits promptly (no timer holds it)`, async () => {
    // batchTimeMs is 60 s in this mode: a timer that kept the process alive would hold it a minute.
    const started = Date.now();
    const result = await run(nodeBinary(runtime), [join(app, "lifecycle.mjs"), server.url, API_KEY, "exit", "3", "no-flush"], {
      cwd: app,
      env: envOf(runtime),
      timeoutMs: 30_000,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(Date.now() - started < 10_000, `exited after ${Date.now() - started} ms`);
  });
}

for (const runtime of ["node", "node18", "node22"]) {
  test(`${runtime}: a process that tracked and flushed exits promptly — the keep-alive socket left in the pool does not hold it`, async () => {
    const started = Date.now();
    const result = await run(nodeBinary(runtime), [join(app, "lifecycle.mjs"), server.url, API_KEY, "flushed-exit", "30", "flush"], {
      cwd: app,
      timeoutMs: 30_000,
    });
    const tookMs = Date.now() - started;
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout.trim());
    // Full batches left in background flushes: this flush's report counts the rest.
    assert.deepEqual({ failed: report.failed, pending: report.pending }, { failed: 0, pending: 0 });
    assert.equal((await eventsFor("flushed-exit")).length, 30);
    // The server keeps idle connections for 2 minutes: a pooled socket that held the process would hold it that long.
    assert.ok(tookMs < 3_000, `exited ${tookMs} ms after it started`);
  });
}

// Vercel's Edge Runtime: a fresh runtime per test (its module-scope clients
// start empty), closed at the end of the test; close() first waits for every
// promise handed to the request contexts' waitUntil.
let edgeBundle;
async function withEdgeFunction(body) {
  edgeBundle ??= await bundleEdgeFunction(join(app, "edge-lifecycle.js"));
  const edge = await startEdgeFunction(edgeBundle);
  try {
    return await body(edge);
  } finally {
    await edge.close();
  }
}

test("edge-runtime: a function that tracks and returns without flush(), its client given the context's waitUntil, delivers every event", async () => {
  await withEdgeFunction(async (edge) => {
    const response = await fetch(`${edge.url}/track?${query({ n: "7", profile: "edge-no-flush" })}`);
    const { handed, stats } = await response.json();
    assert.equal(handed, 1, "the batch timer's flush was handed to context.waitUntil before the response");
    assert.equal(stats.queued, 7);
    // The runtime keeps the function alive for what waitUntil received: once
    // that settled, every event has arrived.
    await edge.waitUntil();
    const events = await eventsFor("edge-no-flush");
    assert.deepEqual(
      events.map((e) => e.item.data.i),
      [0, 1, 2, 3, 4, 5, 6],
    );
  });
});

test("edge-runtime: context.waitUntil(sdk.flush()) against 503 then 200 delivers everything and says so", async () => {
  await faults({ queue: [{ status: 503 }] });
  await withEdgeFunction(async (edge) => {
    const response = await fetch(`${edge.url}/track-wait?${query({ n: "4", profile: "edge-retry", deadline: "8000" })}`);
    assert.equal(await response.text(), "ok");
    await edge.waitUntil();
    const [report] = await (await fetch(`${edge.url}/reports`)).json();
    const stats = await control(server, "stats");
    assert.equal(stats.byStatus["503"], 1, "the server answered 503 once");
    assert.equal((await eventsFor("edge-retry")).length, 4);
    assert.deepEqual(
      {
        delivered: report.delivered,
        failed: report.failed,
        dropped: report.dropped,
        pending: report.pending,
        retries: report.retries,
        requests: report.requests,
      },
      { delivered: 4, failed: 0, dropped: 0, pending: 0, retries: 1, requests: 2 },
    );
  });
});

test("edge-runtime: against a server that never answers, await flush() resolves by its deadline and reports the events failed", async () => {
  await faults({ random: { seed: 1, probability: 1, modes: [{ hang: true }] } });
  await withEdgeFunction(async (edge) => {
    const response = await fetch(`${edge.url}/track-await?${query({ n: "3", profile: "edge-hang", deadline: "2000" })}`);
    const { report, tookMs } = await response.json();
    assert.ok(tookMs <= 2_500, `flush took ${tookMs} ms with a 2000 ms deadline`);
    assert.deepEqual(
      { timedOut: report.timedOut, delivered: report.delivered, failed: report.failed, pending: report.pending },
      { timedOut: true, delivered: 0, failed: 3, pending: 3 },
    );
    assert.equal(report.reasons[0].cause, "timeout");
    // The server answers again: the next flush of the same client delivers them, once each.
    await faults({ queue: [], random: null });
    const again = await (await fetch(`${edge.url}/track-await?${query({ n: "0", profile: "edge-hang", deadline: "2000" })}`)).json();
    assert.equal(again.report.pending, 0, JSON.stringify(again));
    const delivered = await eventsFor("edge-hang");
    assert.equal(new Set(delivered.map((e) => e.item.eventId)).size, 3, "the 3 events arrived once each");
  });
});
