// The 20-line reference in workerd: per event crypto.randomUUID() + an ISO date;
// per 20 events one JSON.stringify and one fetch POST (intempt-edge's body shape,
// so the sink counts it alike); then it awaits every response and counts the 2xx.
import { BATCH, PROFILES, PROPS, TITLE } from "../event.mjs";

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get("n"));
    const target = `${url.searchParams.get("endpoint")}/v1/bench-org/projects/bench-project/sources/616010376811536384/track`;
    const headers = { "Content-Type": "application/json", Authorization: "Basic YmVuY2g6c2VjcmV0" };
    const sends = [];
    let batch = [];
    const send = (payload) =>
      sends.push(
        fetch(target, { method: "POST", headers, body: JSON.stringify({ track: [{ name: TITLE, payload }] }) }).then(
          async (r) => {
            await r.text();
            return r.ok ? payload.length : 0;
          },
          () => 0,
        ),
      );
    const track = (profileId, title, data) => {
      batch.push({ eventId: crypto.randomUUID(), timestamp: new Date().toISOString(), profileId, data });
      if (batch.length === BATCH) {
        send(batch);
        batch = [];
      }
    };
    const t0 = performance.now();
    for (let i = 0; i < n; i++) track(PROFILES[i % 100], TITLE, PROPS);
    const callsMs = performance.now() - t0;
    if (batch.length) send(batch);
    const delivered = (await Promise.all(sends)).reduce((a, b) => a + b, 0);
    return Response.json({ sdk: "reference: fetch", callsMs, delivered });
  },
};
