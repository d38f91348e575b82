// The module entry of the Rust Worker: instantiate the wasm (imported as a
// module, as workerd requires) and forward each request to Rust.
import wasm from "./pkg/intempt_edge_rust_worker_bg.wasm";
import { initSync, handle } from "./pkg/intempt_edge_rust_worker.js";

initSync({ module: wasm });

export default {
  fetch(request, env, ctx) {
    return handle(request, env, ctx);
  },
};
