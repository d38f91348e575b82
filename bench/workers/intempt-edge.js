// intempt-edge in workerd: one request tracks ?n= events to ?endpoint=, then flushes.
import { SDK } from "intempt-edge";
import { BATCH, INTEMPT_ARGS, PROFILES, PROPS, QUEUE, TITLE } from "../event.mjs";

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get("n"));
    const sdk = new SDK(...INTEMPT_ARGS, { endpoint: url.searchParams.get("endpoint"), maxQueueSize: QUEUE });
    let refused = 0;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) sdk.track(PROFILES[i % 100], TITLE, PROPS).catch(() => refused++);
    const callsMs = performance.now() - t0; // time inside the calls (see bench/README.md)
    const report = await sdk.flush();
    return Response.json({ callsMs, sdk: "intempt-edge", batch: BATCH, reported: sdk.stats().delivered, refused, report });
  },
};
