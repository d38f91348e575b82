// Node: `callers` concurrent flush() calls on one client against a server
// that never answers. One of them takes the batch; the others wait for it.
// Prints when each settled, the process's CPU time over the run, and its CPU
// time in a window inside the wait (from 300 ms after the calls to 300 ms
// before their deadline), where the waiting is all there is to do.
//   node edges-waiters.mjs <endpoint> <apiKey> <profile> <events> <callers> <flushDeadlineMs>
import { SDK } from "intempt-edge";

const [endpoint, apiKey, profile, events, callers, deadline] = process.argv.slice(2);
// An hour of batch time: no timer flush, only the callers' flushes.
const sdk = new SDK("demo-organization", "demo-project", apiKey, "616010376811536384", 3_600_000, 20, {
  endpoint,
  flushDeadlineMs: Number(deadline),
});
for (let seq = 0; seq < Number(events); seq++) await sdk.track(profile, "Edge", { seq });

const cpuBefore = process.cpuUsage();
const started = Date.now();
// A window inside the wait, after every call was made and before any
// deadline: nothing happens then but the waiting itself.
const idle = {};
setTimeout(() => Object.assign(idle, { from: Date.now(), cpu: process.cpuUsage() }), 300);
setTimeout(() => Object.assign(idle, { to: Date.now(), cpu: process.cpuUsage(idle.cpu) }), Number(deadline) - 300);
const settled = await Promise.all(
  Array.from({ length: Number(callers) }, () => {
    const calledAt = Date.now();
    return sdk.flush().then((report) => ({
      tookMs: Date.now() - calledAt,
      pending: report.pending,
      delivered: report.delivered,
      timedOut: report.timedOut,
      requests: report.requests,
    }));
  }),
);
const wallMs = Date.now() - started;
const cpu = process.cpuUsage(cpuBefore);
const took = settled.map((s) => s.tookMs);
console.log(
  JSON.stringify({
    wallMs,
    cpuUserMs: cpu.user / 1000,
    cpuSystemMs: cpu.system / 1000,
    windowMs: idle.to - idle.from,
    windowCpuMs: (idle.cpu.user + idle.cpu.system) / 1000,
    maxTookMs: Math.max(...took),
    minTookMs: Math.min(...took),
    pending: [...new Set(settled.map((s) => s.pending))],
    delivered: settled.reduce((sum, s) => sum + s.delivered, 0),
    requests: settled.reduce((sum, s) => sum + s.requests, 0),
    timedOut: settled.filter((s) => s.timedOut).length,
    settled: settled.length,
  }),
);
