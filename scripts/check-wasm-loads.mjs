// Instantiates the wasm-bindgen output once (initSync with the .wasm file's
// bytes) and fails unless it exports a WebAssembly.Memory. A broken optimiser
// (wasm-opt) shows only at instantiation, so scripts/build.sh runs this right
// after wasm-opt. DIR must hold a package.json with "type": "module" (build.sh
// writes one for the duration of the check).
//
//   node scripts/check-wasm-loads.mjs target/wasm-pack intempt_edge
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [dir, name] = process.argv.slice(2);
const mod = await import(pathToFileURL(`${dir}/${name}.js`).href);
const exports = mod.initSync({ module: readFileSync(`${dir}/${name}_bg.wasm`) });
if (!(exports.memory instanceof WebAssembly.Memory)) throw new Error("no memory export");
