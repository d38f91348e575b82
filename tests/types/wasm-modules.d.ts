// What the runtime entries' `.wasm` imports give them: a compiled
// WebAssembly.Module (workerd, Vercel's edge-light with `?module`, and
// esbuild's binary loader in node.js, which hands the bytes; initSync takes
// either). Used by tsconfig.entries.json.
declare module "*.wasm" {
  const wasm: WebAssembly.Module | Uint8Array;
  export default wasm;
}
declare module "*.wasm?module" {
  const wasm: WebAssembly.Module;
  export default wasm;
}
