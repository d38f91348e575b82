// The module entry of the Rust test Worker (tests/e2e/workers-rs.test.mjs),
// as examples/workers-rs/worker.js: each request goes to `#[event(fetch)]`.
import wasm from "./pkg/intempt_edge_rust_no_flush_bg.wasm";
import { initSync, fetch as handle } from "./pkg/intempt_edge_rust_no_flush.js";

initSync({ module: wasm });

export default {
  fetch(request, env, ctx) {
    return handle(request, env, ctx);
  },
};
