// The queue bound, in a fresh Node process (run with --expose-gc).
//
//   node --expose-gc bounds.mjs ENDPOINT API_KEY memory
//     10,000 small events queued with the default options against a server
//     that never answers; prints process.memoryUsage() before and after.
//   node --expose-gc bounds.mjs ENDPOINT API_KEY bound
//     fills the queue against a server that never answers, checks that the
//     10,001st call is refused with QUEUE_FULL and that nothing queued is
//     lost: once the server recovers, flush() delivers exactly the 10,000;
//     a call after that is accepted.
//   node --expose-gc bounds.mjs ENDPOINT API_KEY requests
//     memory while requests are sent: 20,000 one-event flushes to a `fetch`
//     that answers 201 at once; prints the growth per request.
// The ENDPOINT's fault plan is set here (it is the local ingest server).
import { SDK } from "intempt-edge";

const [endpoint, apiKey, mode] = process.argv.slice(2);
const SMALL = { plan: "pro", amount: 42.5, items: ["a", "b"], nested: { k: "v" } };
const BOUND = 10_000; // the default maxQueueSize
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const faults = (plan) => fetch(`${endpoint}/_intempt/faults`, { method: "POST", body: JSON.stringify(plan) }).then((r) => r.text());
const hangAll = () => faults({ random: { seed: 1, probability: 1, modes: [{ hang: true }] } });

// The wasm instance's linear memory, for the figure only: the package's
// wasm-bindgen glue (the same module instance the package entry loaded)
// hands back the instance's exports once initialised.
const glue = await import(new URL("./node_modules/intempt-edge/intempt_edge.js", import.meta.url).href);
const wasmExports = await glue.default();

function memory() {
  globalThis.gc();
  globalThis.gc();
  const m = process.memoryUsage();
  return {
    rss: m.rss,
    heapTotal: m.heapTotal,
    heapUsed: m.heapUsed,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    wasm: wasmExports.memory.buffer.byteLength,
  };
}

async function refusal(call) {
  try {
    await call();
    return null;
  } catch (error) {
    return error?.code ?? String(error);
  }
}

if (mode === "memory") {
  // Cold: a fresh process fills the queue once. Warm: after that queue was
  // delivered, it fills it again (one-time costs such as compiling the hot
  // wasm code are then behind it, and the wasm memory is reused).
  await hangAll();
  const sdk = new SDK("demo-organization", "demo-project", apiKey, "616010376811536384", undefined, undefined, {
    endpoint,
    requestTimeoutMs: 1_000,
    flushDeadlineMs: 2_000,
  });
  const fill = async () => {
    const started = Date.now();
    let accepted = 0;
    for (let i = 0; i < BOUND; i++) {
      await sdk.track(`profile-${i % 100}`, "Purchase", SMALL);
      accepted++;
    }
    return { accepted, ms: Date.now() - started, next: await refusal(() => sdk.track("profile-0", "Purchase", SMALL)) };
  };
  const before = memory();
  const cold = await fill();
  const after = memory();
  const stats = sdk.stats();
  // Deliver everything (the background flushes give up first), then fill again.
  for (let i = 0; i < 100 && sdk.stats().inFlight > 0; i++) await sleep(100);
  await faults({ queue: [] });
  for (let i = 0; i < 5 && (await sdk.flush()).pending > 0; i++);
  const delivered = sdk.stats().delivered;
  await hangAll();
  const warmBefore = memory();
  const warm = await fill();
  const warmAfter = memory();
  console.log(
    JSON.stringify({
      accepted: cold.accepted,
      next: cold.next,
      before,
      after,
      stats,
      fillMs: cold.ms,
      delivered,
      warm: { accepted: warm.accepted, next: warm.next, before: warmBefore, after: warmAfter, stats: sdk.stats() },
    }),
  );
  process.exit(0); // requests to the server that never answers are still open
}

if (mode === "requests") {
  const sdk = new SDK("demo-organization", "demo-project", apiKey, "616010376811536384", 3_600_000, 20, {
    endpoint,
    requestTimeoutMs: 200,
    fetch: async () => new Response(null, { status: 201 }),
  });
  const requests = async (n) => {
    let delivered = 0;
    for (let i = 0; i < n; i++) {
      await sdk.track("requests", "Purchase", SMALL);
      delivered += (await sdk.flush()).delivered;
    }
    return delivered;
  };
  await requests(1_000); // warm up
  await sleep(500);
  const before = memory();
  const n = 20_000;
  const delivered = await requests(n);
  await sleep(500); // past requestTimeoutMs: no timer of these requests is still pending
  const after = memory();
  console.log(JSON.stringify({ n, delivered, before, after }));
  process.exit(0);
}

if (mode === "bound") {
  await hangAll();
  // Short timeouts so the background flushes against the hung server give up quickly.
  const sdk = new SDK("demo-organization", "demo-project", apiKey, "616010376811536384", 100, 500, {
    endpoint,
    requestTimeoutMs: 300,
    flushDeadlineMs: 2_000,
  });
  const result = { rejectedWhileFilling: [], refusals: [] };
  for (let i = 0; i < BOUND; i++) {
    try {
      await sdk.track("bound", "Purchase", { seq: i, ...SMALL });
    } catch (error) {
      result.rejectedWhileFilling.push(`${i}: ${error?.code}`);
    }
  }
  // The 10,001st call, and a few more of other kinds, while the server still hangs.
  result.refusals.push(await refusal(() => sdk.track("bound", "Purchase", { seq: BOUND, ...SMALL })));
  result.refusals.push(await refusal(() => sdk.identify("bound", "user-1")));
  result.refusals.push(await refusal(() => sdk.record("bound", "Purchase", "user-1", undefined, { seq: BOUND })));
  result.statsFull = sdk.stats();
  // Wait for the background flushes to give their batches back (deadline
  // 2 s each), and for the follow-up a flush arms for events recorded during
  // it (a batch timer, then one more flush): idle for a whole second.
  let idleSince = Date.now();
  for (const until = Date.now() + 30_000; Date.now() < until; await sleep(50)) {
    if (sdk.stats().inFlight > 0) idleSince = Date.now();
    else if (Date.now() - idleSince >= 1_000) break;
  }
  result.statsIdle = sdk.stats();
  result.hungFlush = await sdk.flush(); // still hanging: fails, keeps everything
  result.statsAfterHungFlush = sdk.stats();
  result.refusalAfterHungFlush = await refusal(() => sdk.track("bound", "Purchase", { seq: BOUND, ...SMALL }));
  // The server recovers.
  await faults({ queue: [] });
  const started = Date.now();
  result.recovery = [];
  for (let i = 0; i < 5; i++) {
    const report = await sdk.flush();
    result.recovery.push(report);
    if (report.pending === 0) break;
  }
  result.recoveryMs = Date.now() - started;
  result.statsRecovered = sdk.stats();
  result.afterRecovery = await refusal(() => sdk.track("bound", "Purchase", { seq: BOUND, ...SMALL }));
  result.lastFlush = await sdk.flush();
  result.statsEnd = sdk.stats();
  console.log(JSON.stringify(result));
  process.exit(0);
}
