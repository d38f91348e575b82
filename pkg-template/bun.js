// Bun: the wasm bytes are read from the package and compiled once at import,
// as in node.js, but requests go through Bun's own fetch: in Bun it costs a
// fraction of its node:http (measured end to end, bench/README.md).
import { readFileSync } from "node:fs";
import { initSync } from "./intempt_edge.js";
import { configureRuntime } from "./sdk.js";

initSync({ module: readFileSync(new URL("./intempt_edge_bg.wasm", import.meta.url)) });
configureRuntime();

export { SDK, IntemptError } from "./sdk.js";
