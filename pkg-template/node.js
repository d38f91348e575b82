// Node ≥ 18: the wasm is compiled once at import. No top-level await, so
// require() of this ESM works too (Node ≥ 20.19). Requests go through
// node:http / node:https with keep-alive agents (node-http.js) unless the
// caller passes a `fetch` option: Node's global fetch costs about 1 ms of CPU
// per request.
//
// The wasm's bytes are part of this module: scripts/build.sh bundles it with
// esbuild's binary loader (base64, decoded with Buffer at import). Bundlers
// that bundle the package for Node (Next.js's Turbopack and webpack do, for
// its Node.js runtime) then have no file to find: reading the file beside
// this module, readFileSync(new URL("./intempt_edge_bg.wasm",
// import.meta.url)), fails under Next.js's webpack, which turns that URL into
// a relative one ("/_next/static/media/…") that is no path on disk.
import wasm from "./intempt_edge_bg.wasm";
import { initSync } from "./intempt_edge.js";
import { nodeFetch } from "./node-http.js";
import { configureRuntime } from "./sdk.js";

initSync({ module: wasm });
configureRuntime({ fetch: nodeFetch });

export { SDK, IntemptError } from "./sdk.js";
