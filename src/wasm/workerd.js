// The `workerd` feature (a Worker written in Rust): the runtime's own
// `waitUntil`, which keeps work alive in whichever request is running, as the
// npm package's Worker entry (workerd.js) uses it. A namespace import: a
// workerd without that export gives undefined instead of failing to load.
// Declared for Rust in src/wasm/js.rs; loads in workerd only.
import * as cloudflare from "cloudflare:workers";

export function runtimeWaitUntil() {
  try {
    const f = cloudflare.waitUntil;
    return typeof f === "function" ? f : undefined;
  } catch (_) {
    return undefined;
  }
}
