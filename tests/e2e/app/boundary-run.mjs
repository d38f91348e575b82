// Runs one boundary scenario (app/boundary.js) in Node, Deno or Bun and
// prints its result as one line, `BOUNDARY-RESULT {json}`, with what the
// process-wide recorders saw (uncaught exceptions, unhandled rejections).
//
//   node boundary-run.mjs MODE 'ARGS_JSON'
//   deno run --allow-net=127.0.0.1 --allow-read --allow-env boundary-run.mjs MODE 'ARGS_JSON'
//   bun boundary-run.mjs MODE 'ARGS_JSON'
//
// MODE: hostile (args.id), foreign (args.fetch: "undici" | "plain-object"),
// redirects, bounds (args.item), fuzz (args.seed, args.runs, args.concurrency).
import { SDK, IntemptError } from "intempt-edge";
import { runtimeName } from "./transport.js";
import * as boundary from "./boundary.js";

const argv = globalThis.Deno ? Deno.args : process.argv.slice(2);
const [mode, json] = argv;
const args = JSON.parse(json);
const runtime = runtimeName();
const recorder = new boundary.Recorder();

if (globalThis.Deno) {
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    recorder.onUnhandled(event.reason);
  });
  globalThis.addEventListener("error", (event) => {
    event.preventDefault();
    recorder.onUncaught(event.error);
  });
} else {
  process.on("unhandledRejection", (reason) => recorder.onUnhandled(reason));
  process.on("uncaughtException", (error) => recorder.onUncaught(error));
}

/** The wasm instance's linear memory in bytes (as bounds.mjs reads it), or null. */
async function wasmMemory() {
  try {
    const glue = await import(new URL("./node_modules/intempt-edge/intempt_edge.js", import.meta.url).href);
    const exports = await glue.default();
    return () => exports.memory.buffer.byteLength;
  } catch {
    return () => null;
  }
}

async function undiciFetch() {
  const { fetch } = await import("undici");
  return fetch;
}

const common = { endpoint: args.endpoint, apiKey: args.apiKey, recorder };
let result;
switch (mode) {
  case "hostile":
    result = await boundary.hostileCase(SDK, IntemptError, { ...common, id: args.id, profile: args.profile });
    break;
  case "foreign": {
    const fetchImpl = args.fetch === "undici" ? await undiciFetch() : boundary.plainObjectFetch;
    result = await boundary.foreign(SDK, IntemptError, { ...common, profile: args.profile, fetchImpl });
    break;
  }
  case "redirects":
    result = await boundary.redirects(SDK, IntemptError, { ...common, runtime, statuses: args.statuses, follow: args.follow });
    break;
  case "bounds":
    result = await boundary.boundsItem(SDK, IntemptError, { ...common, item: args.item, memory: await wasmMemory() });
    break;
  case "fuzz": {
    const extra = runtime === "node" ? { undici: await undiciFetch() } : {};
    result = await boundary.fuzz(SDK, IntemptError, {
      ...common,
      seed: args.seed,
      from: 0,
      to: args.runs,
      concurrency: args.concurrency,
      runtime,
      extra,
      memory: await wasmMemory(),
    });
    break;
  }
  default:
    throw new Error(`unknown mode ${mode}`);
}
// Late failures (a timer or an abandoned promise of the scenario) surface here.
await new Promise((resolve) => setTimeout(resolve, 300));
const line = `BOUNDARY-RESULT ${JSON.stringify({ runtime, result, recorder: recorder.take() })}\n`;
if (globalThis.Deno) {
  const bytes = new TextEncoder().encode(line);
  for (let written = 0; written < bytes.length; ) written += Deno.stdout.writeSync(bytes.subarray(written));
  Deno.exit(0);
} else {
  // A large line to a pipe is written asynchronously: exit once it is out.
  process.stdout.write(line, () => process.exit(0));
}
