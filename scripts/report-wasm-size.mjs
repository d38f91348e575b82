// Prints one line with a file's size raw, gzip (level 9) and brotli (quality
// 11), in bytes and KiB: what a Worker downloads and what counts against its
// size limit. scripts/build.sh prints it for the optimised .wasm.
//
//   node scripts/report-wasm-size.mjs pkg/intempt_edge_bg.wasm
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import zlib from "node:zlib";

const file = process.argv[2];
const buf = readFileSync(file);
const gz = zlib.gzipSync(buf, { level: 9 }).length;
const br = zlib.brotliCompressSync(buf, {
  params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 },
}).length;
const kb = (n) => (n / 1024).toFixed(1) + " KiB";
console.log(`build: ${basename(file)}: ${buf.length} bytes raw (${kb(buf.length)}), ${gz} gzip (${kb(gz)}), ${br} brotli (${kb(br)})`);
