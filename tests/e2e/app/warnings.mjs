// Failures are visible without `debug` (tests/e2e/warnings.test.mjs):
//   <runtime> warnings.mjs <endpoint> <apiKey> <mode> <rounds>
// mode: "default" (console.warn), "off" (warnings: false), "logger" (a
// logger that prints "logger: <line>" to stdout). Each round tracks 5
// events and awaits flush(); every report is printed to stdout as JSON.
import { SDK } from "intempt-edge";
import { transport } from "./transport.js";

const [endpoint, apiKey, mode, rounds] = globalThis.Deno ? Deno.args : process.argv.slice(2);
/** @type {import("intempt-edge").SDKOptions} */
const options = { endpoint, flushDeadlineMs: 1_500, requestTimeoutMs: 500, ...transport() };
if (mode === "off") options.warnings = false;
if (mode === "logger") options.logger = (line) => console.log(`logger: ${line}`);
const intempt = new SDK("demo-organization", "demo-project", apiKey, "616010376811536384", 100, 20, options);
for (let round = 0; round < Number(rounds); round++) {
  for (let n = 0; n < 5; n++) await intempt.track("p-warn", "Warning Test", { round, n });
  console.log(JSON.stringify(await intempt.flush()));
}
