// The durable outbox on workerd: one Worker that is both the producer (its
// flushes hand what they could not deliver to the INTEMPT_OUTBOX queue) and
// the consumer (its queue() handler resends the stored batches). Routes:
//   /track?req=R   track 5 events {req: R, n: 0..4} for profile "p<R>", then
//                  ctx.waitUntil(flush()); the flush's report is recorded
//   /state         what the test checks: the flush reports, the client's
//                  stats, every queue message seen (its body as first seen,
//                  the attempts it was delivered with), what each
//                  handleQueueBatch returned, and what reached the
//                  dead-letter queue
import { env } from "cloudflare:workers";
import { SDK } from "intempt-edge";

const intempt = new SDK("demo-organization", "demo-project", /** @type {string} */ (env.INTEMPT_API_KEY), "616010376811536384", 100, 20, {
  endpoint: /** @type {string} */ (env.INTEMPT_ENDPOINT),
  flushDeadlineMs: 2000,
  outbox: /** @type {import("intempt-edge").CloudflareQueue} */ (env.INTEMPT_OUTBOX),
});

const reports = [];
const messages = new Map(); // queue message id → { body, attempts: [..] }
const summaries = [];
const deadLetters = [];

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/state") {
      return Response.json({
        reports,
        stats: intempt.stats(),
        messages: [...messages].map(([id, m]) => ({ id, ...m })),
        summaries,
        deadLetters,
      });
    }
    if (url.pathname !== "/track") return new Response("not found", { status: 404 });
    const req = Number(url.searchParams.get("req"));
    for (let n = 0; n < 5; n++) await intempt.track(`p${req}`, "Outbox Test", { req, n });
    ctx.waitUntil(intempt.flush().then((report) => reports.push({ req, report })));
    return new Response("ok");
  },

  async queue(batch, env, ctx) {
    if (batch.queue !== "intempt-outbox") {
      // The dead-letter queue: messages Miniflare gave up on (maxRetries).
      for (const message of batch.messages) {
        deadLetters.push({ id: message.id, body: message.body });
        message.ack();
      }
      return;
    }
    for (const message of batch.messages) {
      const seen = messages.get(message.id);
      if (seen) seen.attempts.push(message.attempts);
      else messages.set(message.id, { body: message.body, attempts: [message.attempts] });
    }
    summaries.push(await intempt.handleQueueBatch(batch, { maxRetryDelayMs: 5000 }));
  },
};
