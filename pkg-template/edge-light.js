// Vercel's Edge Runtime (edge functions, Next.js middleware and edge routes):
// Vercel's bundlers resolve the `edge-light` condition and turn an import of
// `*.wasm?module` into a WebAssembly.Module binding (the runtime forbids
// compiling wasm from bytes). Without this entry they would pick `node`
// (Next.js also lists that condition) or `default`, whose plain `.wasm`
// import they do not load.
import wasm from "./intempt_edge_bg.wasm?module";
import { initSync } from "./intempt_edge.js";
import { configureRuntime } from "./sdk.js";

// `vercel dev` and `next dev` (the npm edge-runtime) compile the binding in
// Node's realm, outside the function's: a WebAssembly.Module all the same,
// but `instanceof WebAssembly.Module` is false for it, and initSync would
// then try to compile it as bytes. Give it this realm's prototype.
const moduleOfAnotherRealm = !(wasm instanceof WebAssembly.Module) && Object.prototype.toString.call(wasm) === "[object WebAssembly.Module]";
if (moduleOfAnotherRealm) Object.setPrototypeOf(wasm, WebAssembly.Module.prototype);
initSync({ module: wasm });
configureRuntime();

export { SDK, IntemptError } from "./sdk.js";
