// Vercel's Edge Runtime for the end-to-end suites: an edge function of the
// scratch app is bundled the way Vercel's bundlers do it, then served by the
// npm `edge-runtime` package (the runtime `vercel dev` runs edge functions in).
//
//   - esbuild with the export conditions of Next.js's edge compiler
//     (`edge-light` first, `node` last), so the package's `edge-light` entry
//     is what gets bundled;
//   - `import x from "*.wasm?module"` becomes a global binding that holds a
//     WebAssembly.Module compiled outside the function, and compiling wasm
//     inside it is forbidden (codeGeneration.wasm off), as on Vercel. By
//     default the module is compiled in Node's realm, as `vercel dev` and
//     `next dev` do it (an `instanceof WebAssembly.Module` in the function
//     is false for it); `bindingRealm: "function"` compiles it in the
//     function's own realm instead, as a deployed function gets it;
//   - the bundle's default export `(request, context)` answers each request,
//     with the runtime's FetchEvent as `context` (its `waitUntil` keeps work
//     alive after the response, like Vercel's request context);
//   - `runServer` serves it on loopback; `waitUntil()` resolves when every
//     promise handed to `context.waitUntil` has settled.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { runInContext } from "node:vm";

/** Next.js's export conditions for edge code (its webpack config's edge `conditionNames`). */
export const EDGE_LIGHT_CONDITIONS = ["edge-light", "worker", "browser", "module", "import", "node"];

/**
 * Bundles `entry` (an ES module whose default export is `(request, context) => Response`).
 * Returns `{ code, wasm, inputs }`: the script to evaluate, the wasm files by
 * binding name, and the bundle's input files (to see which entry it took).
 */
export async function bundleEdgeFunction(entry) {
  const { build } = await import("esbuild");
  const wasm = new Map();
  const wasmModules = {
    name: "wasm-module",
    setup(b) {
      b.onResolve({ filter: /\.wasm\?module$/i }, async (args) => {
        const file = await b.resolve(args.path.replace(/\?module$/i, ""), { importer: args.importer, resolveDir: args.resolveDir, kind: args.kind });
        if (file.errors.length > 0) return { errors: file.errors };
        const name = `wasm_${createHash("sha1").update(readFileSync(file.path)).digest("hex")}`;
        wasm.set(name, file.path);
        return { path: name, namespace: "wasm-module" };
      });
      b.onLoad({ filter: /.*/, namespace: "wasm-module" }, (args) => ({ contents: `export default globalThis[${JSON.stringify(args.path)}];`, loader: "js" }));
    },
  };
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    format: "cjs",
    platform: "browser",
    conditions: EDGE_LIGHT_CONDITIONS,
    target: "es2022",
    logLevel: "silent",
    plugins: [wasmModules],
  });
  const inputs = Object.keys(result.metafile.inputs);
  const code = `"use strict";
const module = { exports: {} };
(function (module, exports) {
${result.outputFiles[0].text}
})(module, module.exports);
const handler = module.exports.default;
if (typeof handler !== "function") throw new TypeError("the edge function has no default export");
addEventListener("fetch", (event) => {
  event.respondWith((async () => handler(event.request, event))());
});
`;
  return { code, wasm, inputs };
}

/**
 * Serves a bundled edge function on loopback; the caller must `close()` it.
 * `env`: the function's `process.env` (Vercel exposes environment variables so).
 * `output`: an array that receives the function's console lines.
 * `bindingRealm`: "node" (default) or "function", see the top of this file.
 * @param {{ code: string, wasm: Map<string, string> }} bundle what `bundleEdgeFunction` returns
 * @param {{ env?: Record<string, string>, output?: string[], bindingRealm?: "node" | "function" }} [options]
 */
export async function startEdgeFunction(bundle, { env = {}, output, bindingRealm = "node" } = {}) {
  const { EdgeRuntime, runServer } = await import("edge-runtime");
  const runtime = new EdgeRuntime({
    // Compiling wasm is allowed only to make a binding in the function's
    // realm (a context cannot compile on behalf of another); the default
    // run forbids it, which shows the SDK never compiles from bytes.
    codeGeneration: { strings: false, wasm: bindingRealm === "function" },
    extend(context) {
      const Wasm = bindingRealm === "function" ? runInContext("WebAssembly", context) : WebAssembly;
      for (const [name, file] of bundle.wasm) {
        Object.defineProperty(context, name, { value: new Wasm.Module(readFileSync(file)), enumerable: false });
      }
      Object.defineProperty(context, "process", { value: { env: { ...env } }, enumerable: false });
      return context;
    },
  });
  if (output) {
    for (const level of ["log", "info", "warn", "error", "debug"]) {
      const original = runtime.context.console[level];
      runtime.context.console[level] = (...args) => {
        output.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
        return original?.apply(runtime.context.console, args);
      };
    }
  }
  runtime.evaluate(bundle.code);
  const server = await runServer({ runtime, host: "127.0.0.1" });
  return { url: server.url.replace(/\/$/, ""), waitUntil: () => server.waitUntil(), close: () => server.close(), runtime };
}
