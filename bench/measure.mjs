// The measurements that run inside a fresh Node process (one per SDK and
// repetition), and the statistics the parent computes over repetitions.
//
//   node bench/measure.mjs calls <sdk> <calls> <warmup> <endpoint>
//   node bench/measure.mjs e2e   <sdk> <events> <endpoint>      (<sdk> "none": the bare baseline)
//
// Each prints one line `BENCH_RESULT {json}` on stdout. Calls are made in
// chunks of YIELD_EVERY with a macrotask yield between chunks (as a server
// handling requests would), so that every SDK's background sends can run and
// none has to queue all events: "bare" times only the synchronous calls,
// "incl" times everything from the first call until the flush/close resolved.
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { PROFILES, PROPS, SDKS, load } from "./sdks.mjs";

export const YIELD_EVERY = 200;
export const RESULT_PREFIX = "BENCH_RESULT ";

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** Makes `n` calls on `client`; returns bare call time, wall and CPU including delivery, and the SDK's own account. */
export async function timedCalls(adapter, client, n) {
  const track = adapter.track;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let bareMs = 0;
  for (let i = 0; i < n; ) {
    const end = Math.min(n, i + YIELD_EVERY);
    const s = performance.now();
    for (; i < end; i++) track(client, PROFILES[i % 100], PROPS);
    bareMs += performance.now() - s;
    await tick();
  }
  const account = await adapter.finish(client);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { n, bareMs, wallMs, cpuMs: (cpu.user + cpu.system) / 1000, ...account };
}

/** Per-call cost: a warm-up client (finished), then the measured client. */
async function calls(name, n, warmup, endpoint) {
  const adapter = SDKS[name];
  const mod = await load(name);
  await timedCalls(adapter, adapter.create(mod, endpoint), warmup);
  const r = await timedCalls(adapter, adapter.create(mod, endpoint), n);
  return {
    bareUsPerCall: (r.bareMs * 1000) / n,
    inclUsPerCall: (r.wallMs * 1000) / n,
    cpuUsPerCall: (r.cpuMs * 1000) / n,
    reported: r.reported,
    failed: r.failed ?? 0,
  };
}

/** End-to-end delivery of `n` events from a fresh process; peak memory after it. */
async function e2e(name, n, endpoint) {
  if (name === "none") return { maxRssKB: process.resourceUsage().maxRSS };
  const adapter = SDKS[name];
  const mod = await load(name);
  const r = await timedCalls(adapter, adapter.create(mod, endpoint), n);
  return {
    wallMs: r.wallMs,
    cpuMs: r.cpuMs,
    wallUsPerEvent: (r.wallMs * 1000) / n,
    cpuUsPerEvent: (r.cpuMs * 1000) / n,
    maxRssKB: process.resourceUsage().maxRSS,
    reported: r.reported,
    failed: r.failed ?? 0,
  };
}

// ---- statistics over repetitions (used by the parent) -------------------------

/** { median, min, max, n } of the finite numbers in `values` (null when none). */
export function summarize(values) {
  const xs = values.filter((v) => typeof v === "number" && Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const mid = xs.length >> 1;
  const median = xs.length % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
  return { median, min: xs[0], max: xs[xs.length - 1], n: xs.length };
}

// ---- child entry ----------------------------------------------------------------

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [mode, name, ...args] = process.argv.slice(2);
  // A run that hangs is a failure, not a stuck suite.
  setTimeout(() => {
    console.error(`measure: ${mode} ${name} timed out`);
    process.exit(3);
  }, 170_000).unref();
  let result;
  if (mode === "calls") result = await calls(name, Number(args[0]), Number(args[1]), args[2]);
  else if (mode === "e2e") result = await e2e(name, Number(args[0]), args[1]);
  else throw new Error(`unknown mode ${mode}`);
  process.stdout.write(RESULT_PREFIX + JSON.stringify(result) + "\n");
  process.exit(0);
}
