// Deno and Deno Deploy: the wasm bytes are read from the package.
import { initSync } from "./intempt_edge.js";
import { configureRuntime } from "./sdk.js";

initSync({ module: Deno.readFileSync(new URL("./intempt_edge_bg.wasm", import.meta.url)) });
configureRuntime();

export { SDK, IntemptError } from "./sdk.js";
