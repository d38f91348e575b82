// Node ≥ 18: the wasm bytes are read from the package and compiled
// once at import. No top-level await, so require() of this ESM works too
// (Node ≥ 20.19). Requests go through node:http / node:https with keep-alive
// agents (node-http.js) unless the caller passes a `fetch` option: Node's
// global fetch costs about 1 ms of CPU per request.
import { readFileSync } from "node:fs";
import { initSync } from "./intempt_edge.js";
import { nodeFetch } from "./node-http.js";
import { configureRuntime } from "./sdk.js";

initSync({ module: readFileSync(new URL("./intempt_edge_bg.wasm", import.meta.url)) });
configureRuntime({ fetch: nodeFetch });

export { SDK, IntemptError } from "./sdk.js";
