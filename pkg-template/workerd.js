// Cloudflare Workers (workerd): the wasm is imported as a module (compiling
// bytes is forbidden there), and background flushes are kept alive with the
// runtime's own waitUntil, so a Worker that never calls flush() loses nothing.
import * as cloudflare from "cloudflare:workers";
import wasm from "./intempt_edge_bg.wasm";
import { initSync } from "./intempt_edge.js";
import { configureRuntime } from "./sdk.js";

initSync({ module: wasm });
configureRuntime({ waitUntil: cloudflare.waitUntil });

export { SDK, IntemptError } from "./sdk.js";
