// Bounds: what a full queue costs (10,000 small events at the default
// maxQueueSize, measured in a fresh Node process), and that the bound holds:
// the 10,001st call is refused with QUEUE_FULL, nothing queued is lost (once
// the server recovers, flush() delivers exactly the 10,000), and a call after
// that flush is accepted. And what stays behind per request sent.
import assert from "node:assert/strict";
import { after, before, beforeEach, test } from "node:test";
import { join } from "node:path";

import { startIngestServer } from "../server/ingest-server.mjs";
import { API_KEY, control, prepareApp, run } from "./harness.mjs";

const MB = (bytes) => (bytes / 1024 / 1024).toFixed(1);
const DMB = (bytes) => (bytes < 0 ? "" : "+") + MB(bytes); // a signed delta
let server;
let app;

before(async () => {
  server = await startIngestServer({ apiKey: API_KEY });
  app = await prepareApp("bounds");
});
beforeEach(async () => {
  await fetch(`${server.url}/_intempt/reset`, { method: "POST" });
});
after(async () => {
  await server?.close();
});

async function bounds(mode) {
  const result = await run(process.execPath, ["--expose-gc", join(app, "bounds.mjs"), server.url, API_KEY, mode], { cwd: app, timeoutMs: 60_000 });
  assert.equal(result.code, 0, `node exited with ${result.code}:\n${result.stderr}`);
  return JSON.parse(result.stdout.trim().split("\n").pop());
}

test("memory: 10,000 small events queued at the default bound, against a server that never answers", { timeout: 90_000 }, async () => {
  const { accepted, next, before, after, stats, fillMs, delivered, warm } = await bounds("memory");
  const delta = Object.fromEntries(Object.keys(before).map((k) => [k, after[k] - before[k]]));
  const warmDelta = Object.fromEntries(Object.keys(before).map((k) => [k, warm.after[k] - warm.before[k]]));
  console.log(
    `bounds[node]: queued=${stats.queued} inFlight=${stats.inFlight} wasmMemory=${DMB(delta.wasm)}MB (${MB(before.wasm)}→${MB(after.wasm)}) ` +
      `external=${DMB(delta.external)}MB heapUsed=${DMB(delta.heapUsed)}MB heapTotal=${DMB(delta.heapTotal)}MB arrayBuffers=${DMB(delta.arrayBuffers)}MB ` +
      `rss=${DMB(delta.rss)}MB (${MB(before.rss)}→${MB(after.rss)}) perEvent≈${Math.round((delta.wasm + delta.heapUsed) / accepted)}B fill=${fillMs}ms`,
  );
  console.log(
    `bounds[node]: refilled after delivering ${delivered}: wasmMemory=${DMB(warmDelta.wasm)}MB (${MB(warm.before.wasm)}→${MB(warm.after.wasm)}) ` +
      `heapUsed=${DMB(warmDelta.heapUsed)}MB rss=${DMB(warmDelta.rss)}MB (${MB(warm.before.rss)}→${MB(warm.after.rss)})`,
  );
  assert.equal(accepted, 10_000);
  assert.equal(next, "QUEUE_FULL", "the 10,001st call is refused");
  assert.equal(stats.queued + stats.inFlight, 10_000);
  assert.equal(delivered, 10_000, "the full queue was delivered once the server recovered");
  assert.equal(warm.accepted, 10_000);
  assert.equal(warm.next, "QUEUE_FULL", "full again at the same bound");
  assert.ok(warmDelta.wasm <= delta.wasm / 2, `refilling reuses the wasm memory (grew ${MB(warmDelta.wasm)} MB, first fill ${MB(delta.wasm)} MB)`);
  // Node counts the wasm linear memory in `external` (not in `arrayBuffers`).
  assert.ok(delta.external >= delta.wasm, "the wasm memory growth shows in process.memoryUsage().external");
  // A generous ceiling: each event is ~170 bytes of JSON; 10,000 of them must not cost tens of MB.
  assert.ok(delta.wasm + delta.heapUsed < 16 * 1024 * 1024, `a full queue costs ${MB(delta.wasm + delta.heapUsed)} MB`);
});

test("the bound holds: the 10,001st call gets QUEUE_FULL, nothing queued is lost, a call after the flush is accepted", { timeout: 90_000 }, async () => {
  const r = await bounds("bound");
  assert.deepEqual(r.rejectedWhileFilling, [], "the first 10,000 calls are accepted");
  assert.deepEqual(r.refusals, ["QUEUE_FULL", "QUEUE_FULL", "QUEUE_FULL"], "the 10,001st call (track, identify, record) is refused with QUEUE_FULL");
  assert.equal(r.statsFull.queued + r.statsFull.inFlight, 10_000);
  assert.deepEqual(
    { queued: r.statsIdle.queued, inFlight: r.statsIdle.inFlight, delivered: r.statsIdle.delivered, dropped: r.statsIdle.dropped },
    { queued: 10_000, inFlight: 0, delivered: 0, dropped: 0 },
    "after the background flushes gave up, all 10,000 are still queued",
  );
  assert.deepEqual(
    { delivered: r.hungFlush.delivered, dropped: r.hungFlush.dropped, pending: r.hungFlush.pending, timedOut: r.hungFlush.timedOut },
    { delivered: 0, dropped: 0, pending: 10_000, timedOut: true },
    "a flush while the server hangs delivers nothing and keeps everything",
  );
  assert.equal(r.refusalAfterHungFlush, "QUEUE_FULL", "still full after a failed flush");

  const delivered = r.recovery.reduce((sum, report) => sum + report.delivered, 0);
  assert.equal(delivered, 10_000, "once the server recovers, flushing delivers exactly the 10,000");
  assert.equal(
    r.recovery.reduce((sum, report) => sum + report.dropped, 0),
    0,
  );
  assert.equal(r.recovery.at(-1).pending, 0);
  assert.equal(r.statsRecovered.delivered, 10_000);
  assert.equal(r.statsRecovered.queued, 0);
  assert.equal(r.afterRecovery, null, "a call after the flush is accepted");
  assert.equal(r.lastFlush.delivered, 1);

  const events = (await control(server, "events")).filter((e) => e.item.profileId === "bound");
  const seqs = events.map((e) => e.item.data.seq).sort((a, b) => a - b);
  assert.deepEqual(
    seqs,
    Array.from({ length: 10_001 }, (_, i) => i),
    "the server holds seq 0..10000, each once",
  );
  assert.equal((await control(server, "stats")).duplicates, 0);
  console.log(
    `bounds[node]: bound=10000 call#10001=${r.refusals[0]} recoveryFlushes=${r.recovery.length} delivered=${delivered} ` +
      `recovery=${(r.recoveryMs / 1000).toFixed(1)}s lost=0 duplicates=0 afterFlush=${r.afterRecovery === null ? "accepted" : r.afterRecovery}`,
  );
});

// This caught a leak of ~0.8 KB of JS heap (and ~0.1 KB of wasm memory) per
// request: the request timeout was a setTimeout promise awaited through a
// JsFuture; when the answer won the race the timer was cleared, the promise
// never settled, and the JsFuture's callbacks were never freed. Sleep now
// owns its callback. See docs/reliability.md.
test("memory stays flat while requests are sent (20,000 one-event flushes)", { timeout: 90_000 }, async () => {
  const { n, delivered, before, after } = await bounds("requests");
  const heap = after.heapUsed - before.heapUsed;
  const wasm = after.wasm - before.wasm;
  console.log(
    `bounds[node]: requests=${n} delivered=${delivered} retained heapUsed=${DMB(heap)}MB (${Math.round(heap / n)}B/request) ` +
      `wasmMemory=${DMB(wasm)}MB (${Math.round(wasm / n)}B/request)`,
  );
  assert.equal(delivered, n);
  assert.ok(heap / n < 100, `${Math.round(heap / n)} B of JS heap kept per request`);
  assert.ok(wasm / n < 100, `${Math.round(wasm / n)} B of wasm memory kept per request`);
});
