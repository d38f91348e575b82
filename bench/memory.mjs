// wasm memory of idle clients: how much one more client costs, and whether
// the memory of dropped clients is used again. Prints figures; run with
//   node --expose-gc bench/memory.mjs [package dir, default pkg/]
// Not yet a phase of bench/run.sh. Targets (issue "Performance III"): an idle
// client ≤ 1 KiB of wasm memory; 10,000 kept clients ≤ 10 MiB; dropped
// clients' memory reused (the figure levels off).
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

// The package's wasm memory: the first instance's `memory` export, caught
// as the package instantiates it (it is not exported to callers).
/** @type {WebAssembly.Memory | undefined} */
let memory;
WebAssembly.Instance = class extends WebAssembly.Instance {
  constructor(module, imports) {
    super(module, imports);
    memory ??= /** @type {WebAssembly.Memory} */ (this.exports.memory);
  }
};

const dir = resolve(process.argv[2] ?? "pkg");
const { SDK } = await import(pathToFileURL(`${dir}/node.js`).href);
if (typeof globalThis.gc !== "function") throw new Error("run with node --expose-gc");
const gc = /** @type {() => void} */ (globalThis.gc);

const client = () => new SDK("bench-org", "bench-project", "bench-id.bench-secret", "1", { endpoint: "http://127.0.0.1:9" });
const bytes = () => memory.buffer.byteLength;
const mib = (n) => (n / 1048576).toFixed(2) + " MiB";
const settle = async () => {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
};

client();
const base = bytes();
console.log(`wasm memory with one client: ${mib(base)}`);
const kept = [];
for (let i = 0; i < 10_000; i++) kept.push(client());
const grown = bytes() - base;
console.log(`10,000 kept idle clients: +${mib(grown)} (${(grown / 10_000 / 1024).toFixed(2)} KiB each; memory grows in 64 KiB pages)`);
kept.length = 0;
await settle();
for (let round = 1; round <= 4; round++) {
  for (let i = 0; i < 20_000; i++) client();
  await settle();
  console.log(`after ${(round * 20_000).toLocaleString("en")} more created and dropped: ${mib(bytes())}`);
}
process.exit(0);
