// Other fetch-based runtimes and bundlers that import .wasm files as
// WebAssembly.Module (no compilation from bytes at run time).
import wasm from "./intempt_edge_bg.wasm";
import { initSync } from "./intempt_edge.js";
import { configureRuntime } from "./sdk.js";

initSync({ module: wasm });
configureRuntime();

export { SDK, IntemptError } from "./sdk.js";
