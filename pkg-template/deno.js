// Deno and Deno Deploy: the wasm is imported as a WebAssembly.Module with a
// source-phase import, so no read permission is needed.
import source wasm from "./intempt_edge_bg.wasm";
import { initSync } from "./intempt_edge.js";
import { configureRuntime } from "./sdk.js";

initSync({ module: wasm });
configureRuntime();

export { SDK, IntemptError } from "./sdk.js";
