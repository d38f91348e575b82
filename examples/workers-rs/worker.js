// The module entry of the workers-rs Worker: instantiate the wasm (imported
// as a module, as workerd requires) and forward each request to the
// `#[event(fetch)]` handler, as worker-build's generated shim does.
import wasm from "./pkg/intempt_edge_workers_rs_bg.wasm";
import { initSync, fetch as handle } from "./pkg/intempt_edge_workers_rs.js";

initSync({ module: wasm });

export default {
  fetch(request, env, ctx) {
    return handle(request, env, ctx);
  },
};
