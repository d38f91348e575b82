// @segment/analytics-node in workerd: one request tracks ?n= events to ?endpoint=, then closes and flushes.
import { Analytics } from "@segment/analytics-node";
import { BATCH, PROFILES, PROPS, TITLE } from "../event.mjs";

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get("n"));
    const analytics = new Analytics({ writeKey: "bench-write-key", host: url.searchParams.get("endpoint"), path: "/v1/batch", flushAt: BATCH });
    let errors = 0;
    analytics.on("error", () => errors++);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) analytics.track({ userId: PROFILES[i % 100], event: TITLE, properties: PROPS });
    const callsMs = performance.now() - t0; // time inside the calls (see bench/README.md)
    await analytics.closeAndFlush();
    return Response.json({ callsMs, sdk: "@segment/analytics-node", errors });
  },
};
