// One module-scope client shared by every request, as the README recommends
// on Workers. Bindings: INTEMPT_ENDPOINT, INTEMPT_API_KEY, FLUSH_DEADLINE_MS,
// OUTBOX ("1": an in-memory outbox that keeps what it is given). Routes:
//   /track-flush?req=R  track 5 events {req: R, n: 0..4} for profile "p<R>",
//                       then ctx.waitUntil(flush()); records when the flush
//                       settled (ms after the request started) and its report
//   /track?req=R        the same without a flush (a handler that forgets it:
//                       the runtime's waitUntil keeps the batch timer's flush)
//   /state              { started, settled, stats, stored: eventIds the
//                       outbox was given }
import { env } from "cloudflare:workers";
import { SDK } from "intempt-edge";

const stored = [];
/** @type {import("intempt-edge").SDKOptions} */
const options = { endpoint: /** @type {string} */ (env.INTEMPT_ENDPOINT), flushDeadlineMs: Number(env.FLUSH_DEADLINE_MS) };
if (env.OUTBOX === "1") options.outbox = { store: (messages) => void stored.push(...messages) };
const intempt = new SDK("demo-organization", "demo-project", /** @type {string} */ (env.INTEMPT_API_KEY), "616010376811536384", 100, 20, options);

let started = 0;
const settled = [];

export default {
  async fetch(request, _env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/state") {
      const storedIds = stored.flatMap((body) => JSON.parse(body).track.map((entry) => entry.payload[0].eventId));
      return Response.json({ started, settled, stats: intempt.stats(), stored: storedIds });
    }
    const req = Number(url.searchParams.get("req"));
    for (let n = 0; n < 5; n++) await intempt.track(`p${req}`, "Shared Client", { req, n });
    if (url.pathname === "/track-flush") {
      started += 1;
      const t0 = Date.now();
      ctx.waitUntil(intempt.flush().then((report) => settled.push({ req, ms: Date.now() - t0, report })));
    }
    return new Response("ok");
  },
};
