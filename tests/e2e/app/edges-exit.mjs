// Node, Bun and Deno: track n events with the default options (maxBatchSize
// 20, batchTimeMs 100), then either end without flushing ("no-flush") or
// await flush() ("flush"). Prints {trackedAt} (and the report) as JSON; the
// test measures how long after trackedAt the process exits.
//   <runtime> edges-exit.mjs <endpoint> <apiKey> <profile> <n> <no-flush|flush>
import { SDK } from "intempt-edge";
import { transport } from "./transport.js";

const args = globalThis.Deno ? Deno.args : process.argv.slice(2);
const [endpoint, apiKey, profile, n, mode] = args;
const sdk = new SDK("demo-organization", "demo-project", apiKey, "616010376811536384", undefined, undefined, { endpoint, ...transport() });
for (let seq = 0; seq < Number(n); seq++) await sdk.track(profile, "Edge", { seq });
const trackedAt = Date.now();
if (mode === "flush") {
  const report = await sdk.flush();
  console.log(JSON.stringify({ trackedAt, flushedAt: Date.now(), report, stats: sdk.stats() }));
} else {
  console.log(JSON.stringify({ trackedAt }));
}
