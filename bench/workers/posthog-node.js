// posthog-node (its workerd/edge build) in workerd: one request captures ?n= events to ?endpoint=, then shuts down.
import { PostHog } from "posthog-node";
import { BATCH, PROFILES, PROPS, QUEUE, TITLE } from "../event.mjs";

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get("n"));
    const client = new PostHog("phc_bench", { host: url.searchParams.get("endpoint"), flushAt: BATCH, maxBatchSize: BATCH, maxQueueSize: QUEUE });
    const t0 = performance.now();
    for (let i = 0; i < n; i++) client.capture({ distinctId: PROFILES[i % 100], event: TITLE, properties: PROPS });
    const callsMs = performance.now() - t0; // time inside the calls (see bench/README.md)
    await client.shutdown(150_000);
    return Response.json({ callsMs, sdk: "posthog-node" });
  },
};
