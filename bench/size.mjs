// Package size: what a Worker loads, raw, gzip (level 9) and brotli (quality
// 11), with node:zlib. Each file is compressed on its own and the sizes summed.
//   intempt-edge (as shipped): the Worker entry and what it loads, as installed:
//     workerd.js, sdk.js, intempt_edge.js, snippets/**, intempt_edge_bg.wasm
//   every SDK (esbuild bundle): `export { X } from "<sdk>"` bundled for a Worker
//     (esbuild --bundle --platform=browser --format=esm, workerd conditions,
//     minified), plus intempt-edge's .wasm, which a bundle cannot inline.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { BENCH, SDKS } from "./sdks.mjs";
import { WORKER_BUILD } from "./workerd.mjs";

const EXPORTS = { "intempt-edge": "SDK", "posthog-node": "PostHog", "@segment/analytics-node": "Analytics" };
const INTEMPT_WORKER_FILES = ["workerd.js", "sdk.js", "intempt_edge.js", "intempt_edge_bg.wasm"];

export function sizesOf(buffer) {
  return {
    raw: buffer.length,
    gzip: gzipSync(buffer, { level: 9 }).length,
    brotli: brotliCompressSync(buffer, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

function sum(parts) {
  const total = { raw: 0, gzip: 0, brotli: 0 };
  for (const p of parts) for (const k of Object.keys(total)) total[k] += p[k];
  return total;
}

function filesUnder(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((f) => {
    const path = join(dir, f);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** intempt-edge as installed: the Worker entry's files, each measured. */
function intemptShipped() {
  const dir = SDKS["intempt-edge"].pkgDir();
  const paths = [...INTEMPT_WORKER_FILES.map((f) => join(dir, f)), ...filesUnder(join(dir, "snippets"))];
  const files = paths.map((path) => ({ file: relative(dir, path), ...sizesOf(readFileSync(path)) }));
  const wasm = files.filter((f) => f.file.endsWith(".wasm"));
  const js = files.filter((f) => !f.file.endsWith(".wasm"));
  return { total: sum(files), wasm: sum(wasm), js: sum(js), files };
}

/** One SDK bundled for a Worker, minified (intempt-edge's .wasm added). */
async function bundled(sdk) {
  const esbuild = await import("esbuild");
  const result = await esbuild.build({
    ...WORKER_BUILD,
    stdin: { contents: `export { ${EXPORTS[sdk]} } from ${JSON.stringify(sdk)};`, resolveDir: BENCH, loader: "js" },
    minify: true,
    write: false,
  });
  const js = sizesOf(Buffer.from(result.outputFiles[0].contents));
  const wasmFile = sdk === "intempt-edge" ? join(SDKS[sdk].pkgDir(), "intempt_edge_bg.wasm") : null;
  const wasm = wasmFile ? sizesOf(readFileSync(wasmFile)) : { raw: 0, gzip: 0, brotli: 0 };
  return { total: sum([js, wasm]), js, wasm };
}

/** { "intempt-edge": {shipped, bundle}, peer: {bundle}, … } */
export async function measureSizes() {
  const out = {};
  for (const sdk of Object.keys(EXPORTS)) {
    out[sdk] = { bundle: await bundled(sdk) };
    if (sdk === "intempt-edge") out[sdk].shipped = intemptShipped();
  }
  return out;
}
