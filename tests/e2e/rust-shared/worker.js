// The module entry of the Rust test Worker (tests/e2e/workerd-shared.test.mjs):
// the same routes as tests/e2e/app/shared-worker.js, served by a module-scope
// EdgeClient in Rust (src/lib.rs). The in-memory outbox lives here.
import wasm from "./pkg/intempt_edge_rust_shared_bg.wasm";
import { initSync, configure, record, state } from "./pkg/intempt_edge_rust_shared.js";

initSync({ module: wasm });

const stored = [];
const outbox = { store: (messages) => void stored.push(...messages) };

export default {
  async fetch(request, env, ctx) {
    configure(env.INTEMPT_ENDPOINT, env.INTEMPT_API_KEY, Number(env.FLUSH_DEADLINE_MS), env.OUTBOX === "1" ? outbox : undefined);
    const url = new URL(request.url);
    if (url.pathname === "/state") {
      const storedIds = stored.flatMap((body) => JSON.parse(body).track.map((entry) => entry.payload[0].eventId));
      return Response.json({ ...JSON.parse(state()), stored: storedIds });
    }
    record(Number(url.searchParams.get("req")), url.pathname === "/track-flush", ctx);
    return new Response("ok");
  },
};
