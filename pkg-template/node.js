// Node ≥ 18 and Bun: the wasm bytes are read from the package and compiled
// once at import. No top-level await, so require() of this ESM works too
// (Node ≥ 20.19).
import { readFileSync } from "node:fs";
import { initSync } from "./intempt_edge.js";
import { configureRuntime } from "./sdk.js";

initSync({ module: readFileSync(new URL("./intempt_edge_bg.wasm", import.meta.url)) });
configureRuntime();

export { SDK, IntemptError } from "./sdk.js";
