// The durable outbox on workerd (Miniflare), end to end: a Worker's flushes
// hand what they could not deliver during an API outage to a Cloudflare Queue
// (Miniflare's local queue broker), the same Worker's queue() handler resends
// the stored batches once the API is back, and every event arrives with its
// original eventId. Outages: connections refused (nothing listening on the
// port) and 503 answers, 60 s each; then a stored batch refused for good (400)
// during redelivery. The three scenarios run concurrently, each with its own
// ingest server and Miniflare instance, so the file takes about one outage.
//
// Not true here, and tested as such: surviving a restart. Miniflare's queue
// broker keeps its messages in memory (even with persistence configured), so
// what is stored in one Miniflare instance is gone once it is disposed; the
// last test documents it. On Cloudflare, a queue keeps its messages.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { startIngestServer } from "../server/ingest-server.mjs";
import { API_KEY, BASIC, UUID_V4, bundleWorker, freePort, prepareApp, startWorker } from "./harness.mjs";

const OUTAGE_MS = 60_000;
const REQUESTS = 200;
const EVENTS_PER_REQUEST = 5;
// After the API recovers, every stored batch must be delivered within this
// bound. The consumer's backoff is capped at 5 s (maxRetryDelayMs), so a
// stored batch is resent at most ~5 s after the recovery; the rest is room
// for a loaded 2-core machine.
const RECOVERY_BOUND_MS = 150_000;

// Every form the API key could take in something the Worker stored or logged.
const SECRET_FORMS = [API_KEY, "test-secret", BASIC.slice("Basic ".length), "test-id:test-secret"];

const QUEUE_OPTIONS = {
  queueProducers: { INTEMPT_OUTBOX: { queueName: "intempt-outbox" } },
  queueConsumers: {
    // Enough retries for a 60 s outage with a backoff capped at 5 s; a message
    // Miniflare gives up on lands in the dead-letter queue, which the Worker
    // records (so a loss there is seen, not silent).
    "intempt-outbox": { maxBatchSize: 10, maxBatchTimeout: 1, maxRetries: 100, deadLetterQueue: "intempt-outbox-dlq" },
    "intempt-outbox-dlq": { maxBatchSize: 10, maxBatchTimeout: 1 },
  },
};

const CROSS_REQUEST = /different request context|Cannot perform I\/O on behalf of a different request/;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...args) => console.log("# outbox:", ...args);

let bundle;
const cleanups = [];

before(async () => {
  const app = await prepareApp("outbox");
  bundle = await bundleWorker(app, "outbox-worker.js", join(app, "dist"));
});
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

async function worker(endpoint, output, extra = {}) {
  const mf = await startWorker(bundle, { output, bindings: { INTEMPT_API_KEY: API_KEY, INTEMPT_ENDPOINT: endpoint }, options: { ...QUEUE_OPTIONS, ...extra } });
  cleanups.push(() => mf.dispose());
  await mf.ready;
  return mf;
}

async function server(port) {
  const srv = await startIngestServer({ port, apiKey: API_KEY });
  cleanups.push(() => srv.close());
  return srv;
}

async function control(srv, path, init) {
  const response = await fetch(`${srv.url}/_intempt/${path}`, init);
  return response.json();
}
const setFaults = (srv, plan) => control(srv, "faults", { method: "POST", body: JSON.stringify(plan) });
/**
 * What the Worker's /state answers (app/outbox-worker.js); a queue message's
 * body is the stored batch, a text message.
 * @typedef {{
 *   reports: { req: number, report: import("intempt-edge").FlushReport }[],
 *   stats: import("intempt-edge").SDKStats,
 *   messages: { id: string, body: string, attempts: number[] }[],
 *   summaries: import("intempt-edge").QueueBatchSummary[],
 *   deadLetters: { id: string, body: unknown }[],
 * }} WorkerState
 */
/** @returns {Promise<WorkerState>} */
const state = async (mf) => (await mf.dispatchFetch("http://w/state")).json();

/** Polls `check()` every 250 ms until it returns a truthy value or `timeoutMs` passes; returns the last value. */
async function until(check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value || Date.now() >= deadline) return value;
    await sleep(250);
  }
}

/** Sends `count` track requests spread over `spreadMs`; each tracks 5 events and ends with ctx.waitUntil(flush()). */
async function sendRequests(mf, count, spreadMs) {
  const start = Date.now();
  for (let req = 0; req < count; req++) {
    const response = await mf.dispatchFetch(`http://w/track?req=${req}`);
    assert.equal(await response.text(), "ok");
    const wait = start + ((req + 1) * spreadMs) / count - Date.now();
    if (wait > 0) await sleep(wait);
  }
}

/**
 * Waits until the client stored all `count` requests' events and holds
 * nothing (queued and in flight 0), then up to 5 s more for the flushes'
 * reports; asserts that every request's ctx.waitUntil(flush()) reported and
 * that workerd never warned of a promise settled from another request's
 * context (a flush resumed in another request's context; see
 * tests/e2e/workerd-shared.test.mjs). Returns the Worker's state.
 */
async function flushesDone(mf, count, output = []) {
  const events = count * EVENTS_PER_REQUEST;
  /** @type {WorkerState} */
  let last;
  const s = await until(async () => {
    last = await state(mf);
    return last.stats.stored === events && last.stats.queued === 0 && last.stats.inFlight === 0 ? last : null;
  }, 60_000);
  assert.ok(
    s,
    `the client stored all ${events} events within 60 s and holds nothing: stats ${JSON.stringify(last.stats)}, ${last.reports.length} flush reports; workerd said:\n${output
      .filter((l) => !l.startsWith("{"))
      .slice(0, 20)
      .join("\n")}`,
  );
  const reported = await until(async () => {
    last = await state(mf);
    return last.reports.length === count ? last : null;
  }, 5_000);
  assert.deepEqual(missing(last.reports, count), [], "requests whose ctx.waitUntil(flush()) never reported");
  assert.deepEqual(
    output.filter((l) => CROSS_REQUEST.test(l)),
    [],
    "workerd warned of a promise settled from another request's context",
  );
  return { state: reported ?? last };
}

/** Waits until each queue message seen was delivered or dropped by handleQueueBatch; returns the Worker's state. */
async function queueSettled(mf, timeoutMs) {
  /** @type {WorkerState} */
  let last;
  const s = await until(async () => {
    last = await state(mf);
    const done = last.summaries.reduce((sum, x) => sum + x.delivered + x.dropped, 0);
    return done === last.messages.length && last.messages.length > 0 ? last : null;
  }, timeoutMs);
  assert.ok(s, `the queue settled: ${JSON.stringify(totals(last.summaries))} for ${last.messages.length} messages`);
  return s;
}

const missing = (reports, count) => [...Array(count).keys()].filter((req) => !reports.some((r) => r.req === req));

const totals = (summaries) =>
  summaries.reduce((t, x) => ({ delivered: t.delivered + x.delivered, retried: t.retried + x.retried, dropped: t.dropped + x.dropped }), {
    delivered: 0,
    retried: 0,
    dropped: 0,
  });

/** The track items of a stored batch (a track request's JSON body). */
const itemsOf = (body) => JSON.parse(body).track.map((entry) => entry.payload[0]);

/** Checks common to both outages: all 1,000 events arrived once, as stored, and nothing held the key. */
async function checkOutage(srv, mf, output, name) {
  const events = await control(srv, "events");
  const stats = await control(srv, "stats");
  const s = await state(mf);

  // Every event arrived, with its own properties, exactly once per (req, n).
  const ids = new Set(events.map((e) => e.item.eventId));
  assert.equal(ids.size, REQUESTS * EVENTS_PER_REQUEST, `${name}: distinct eventIds at the server`);
  const byKey = new Map();
  for (const e of events) {
    assert.match(e.item.eventId, UUID_V4);
    assert.equal(e.name, "Outbox Test");
    const { req, n } = e.item.data;
    assert.equal(e.item.profileId, `p${req}`);
    const key = `${req}/${n}`;
    if (byKey.has(key)) assert.equal(byKey.get(key), e.item.eventId, `${name}: event ${key} arrived under two eventIds`);
    byKey.set(key, e.item.eventId);
  }
  for (let req = 0; req < REQUESTS; req++) {
    for (let n = 0; n < EVENTS_PER_REQUEST; n++) assert.ok(byKey.has(`${req}/${n}`), `${name}: event ${req}/${n} was lost`);
  }
  // Duplicates: delivery is at-least-once, so an event is stored twice only if
  // a request of it reached the server and its answer was lost (then it is
  // stored or retried and resent). Here the server either refused the
  // connection or answered 503 before storing anything, and the requests
  // stopped before the recovery, so no request was both stored and failed:
  // 0 duplicates is what must happen.
  const duplicates = events.length - ids.size;
  assert.equal(stats.duplicates, duplicates);
  assert.equal(duplicates, 0, `${name}: ${duplicates} duplicate deliveries`);

  // The flushes stored what they could not deliver: all 1,000 events, each in
  // exactly one queue message, with the eventIds and timestamps that arrived.
  const reported = s.reports.reduce((sum, r) => sum + (r.report.stored ?? 0), 0);
  assert.ok(reported > 0, `${name}: the flush reports say events were stored`);
  assert.ok(reported <= REQUESTS * EVENTS_PER_REQUEST);
  assert.equal(
    s.reports.reduce((sum, r) => sum + r.report.delivered, 0),
    0,
    `${name}: no flush delivered during the outage`,
  );
  assert.equal(s.stats.stored, REQUESTS * EVENTS_PER_REQUEST, `${name}: stats().stored`);
  const stored = new Map();
  for (const m of s.messages) {
    assert.equal(typeof m.body, "string", "a stored batch is a text message");
    assert.ok(new TextEncoder().encode(m.body).length <= 120_000, "a stored batch fits a queue message");
    for (const item of itemsOf(m.body)) {
      assert.ok(!stored.has(item.eventId), `${name}: event ${item.eventId} was stored twice`);
      stored.set(item.eventId, item);
    }
  }
  assert.equal(stored.size, REQUESTS * EVENTS_PER_REQUEST, `${name}: events in the queue messages`);
  for (const e of events) {
    const original = stored.get(e.item.eventId);
    assert.ok(original, `${name}: ${e.item.eventId} arrived but was never stored`);
    assert.deepEqual(e.item, original, `${name}: the event arrived as it was stored (eventId, timestamp, data)`);
  }

  // The consumer: retried during the outage, delivered every message after
  // it, dropped none; nothing reached the dead-letter queue or was logged as
  // dropped.
  const t = totals(s.summaries);
  assert.ok(t.retried > 0, `${name}: redeliveries during the outage were retried`);
  assert.equal(t.dropped, 0, `${name}: dropped ${JSON.stringify(s.summaries.flatMap((x) => x.reasons))}`);
  assert.equal(t.delivered, s.messages.length);
  assert.deepEqual(s.deadLetters, [], `${name}: dead letters`);
  assert.deepEqual(
    output.filter((line) => line.includes("dropped a stored batch")),
    [],
  );

  // The resent requests authenticated with the client's key, in the header.
  const requests = await control(srv, "requests");
  const accepted = requests.filter((r) => r.status === 201);
  assert.ok(accepted.length >= s.messages.length);
  assert.ok(accepted.every((r) => r.authMode === "header"));

  // The key is in no queue message and nowhere in the Worker's output.
  for (const m of s.messages) for (const form of SECRET_FORMS) assert.ok(!m.body.includes(form), `${name}: a queue message holds the key`);
  for (const line of output) for (const form of SECRET_FORMS) assert.ok(!line.includes(form), `${name}: the Worker logged the key: ${line}`);

  const attempts = s.messages.map((m) => Math.max(...m.attempts));
  return { messages: s.messages.length, reported, duplicates, ...t, maxAttempts: Math.max(...attempts), requests: requests.length, byStatus: stats.byStatus };
}

/** One outage, already started by the caller: 200 requests during it, `up()` ends it after 60 s, then all events must arrive within the bound. */
async function outage(name, mf, output, srvOf, up) {
  const started = Date.now();
  await sendRequests(mf, REQUESTS, OUTAGE_MS - 5_000);
  const flushed = await flushesDone(mf, REQUESTS, output);
  const left = started + OUTAGE_MS - Date.now();
  if (left > 0) await sleep(left);
  await up();
  const recovered = Date.now();
  const srv = srvOf();
  const all = await until(async () => (await control(srv, "stats")).uniqueEventIds >= REQUESTS * EVENTS_PER_REQUEST, RECOVERY_BOUND_MS);
  const arrivedMs = Date.now() - recovered;
  assert.ok(
    all,
    `${name}: all ${REQUESTS * EVENTS_PER_REQUEST} events arrived within ${RECOVERY_BOUND_MS} ms of the recovery (got ${(await control(srv, "stats")).uniqueEventIds})`,
  );
  await queueSettled(mf, 30_000);
  return { outageMs: recovered - started, arrivedMs, reports: flushed.state.reports.length };
}

describe("outbox on workerd", { concurrency: true }, () => {
  test("connections refused for 60 s: the 1,000 events are stored, then all arrive once, with their original eventIds", { timeout: 300_000 }, async () => {
    const output = [];
    const port = await freePort();
    // Nothing listens on `port` until the recovery.
    const mf = await worker(`http://127.0.0.1:${port}`, output);
    let srv;
    const timing = await outage(
      "refused",
      mf,
      output,
      () => srv,
      async () => {
        srv = await server(port);
      },
    );
    const result = await checkOutage(srv, mf, output, "refused");
    assert.equal(result.requests, result.byStatus["201"], "every request that reached the server was accepted");
    log("refused", JSON.stringify({ ...timing, ...result }));
  });

  test("503 for 60 s: the 1,000 events are stored, then all arrive once, with their original eventIds", { timeout: 300_000 }, async () => {
    const output = [];
    const srv = await server(await freePort());
    await setFaults(srv, { random: { seed: 1, probability: 1, modes: [{ status: 503 }] } });
    const mf = await worker(srv.url, output);
    const timing = await outage(
      "503",
      mf,
      output,
      () => srv,
      async () => {
        await setFaults(srv, { queue: [], random: null });
      },
    );
    const result = await checkOutage(srv, mf, output, "503");
    assert.ok(result.byStatus["503"] > 0, "the server answered 503 during the outage");
    log("503", JSON.stringify({ ...timing, ...result }));
  });

  test("a stored batch refused with 400 on redelivery is dropped with a logged reason; the others arrive", { timeout: 300_000 }, async () => {
    const output = [];
    const srv = await server(await freePort());
    await setFaults(srv, { random: { seed: 2, probability: 1, modes: [{ status: 503 }] } });
    const mf = await worker(srv.url, output);
    const requests = 20;
    await sendRequests(mf, requests, 4_000);
    const flushed = await flushesDone(mf, requests, output);
    assert.equal(flushed.state.stats.stored, requests * EVENTS_PER_REQUEST, "every event was stored");
    // Let the consumer fail a few redeliveries (503: retried), so batches are
    // waiting in the queue with a backoff.
    const retried = await until(async () => totals((await state(mf)).summaries).retried >= 3, 30_000);
    assert.ok(retried, "redeliveries were retried during the outage");
    // The client holds nothing and sends nothing (stats above), so the next
    // request to reach the server is a redelivery: it alone gets the 400.
    await setFaults(srv, { queue: [{ status: 400 }], random: null });
    const s = await queueSettled(mf, 60_000);
    const t = totals(s.summaries);
    assert.equal(t.dropped, 1, `exactly one stored batch was dropped: ${JSON.stringify(s.summaries)}`);
    assert.equal(t.delivered, s.messages.length - 1);
    const reasons = s.summaries.flatMap((x) => x.reasons);
    assert.equal(reasons.length, 1);
    assert.match(reasons[0], /^HTTP 400: /);
    // The drop is logged by the Worker (console.warn reaches workerd's output).
    const warned = await until(async () => output.filter((line) => line.includes("[intempt-edge] outbox: dropped a stored batch: HTTP 400: ")), 10_000);
    assert.equal(warned.length, 1, output.join("\n"));
    assert.ok(warned[0].includes(reasons[0]), `the log line carries the reason: ${warned[0]}`);

    // The 400 request carried one stored batch (its body); exactly its events
    // are missing, every other stored event arrived once.
    const all = await control(srv, "requests");
    const refused = all.filter((r) => r.status === 400);
    assert.equal(refused.length, 1);
    assert.ok(
      s.messages.some((m) => m.body === refused[0].body),
      "the refused request was a stored batch",
    );
    const dropped = new Set(itemsOf(refused[0].body).map((i) => i.eventId));
    const stored = s.messages.flatMap((m) => itemsOf(m.body).map((i) => i.eventId));
    assert.equal(stored.length, requests * EVENTS_PER_REQUEST);
    const events = await control(srv, "events");
    const arrived = events.map((e) => e.item.eventId);
    assert.equal(new Set(arrived).size, arrived.length, "no duplicates");
    assert.deepEqual(new Set(arrived), new Set(stored.filter((id) => !dropped.has(id))));
    assert.deepEqual(s.deadLetters, []);
    log(
      "400",
      JSON.stringify({ reports: flushed.state.reports.length, messages: s.messages.length, droppedEvents: dropped.size, arrived: arrived.length, ...t }),
    );
  });

  test("Miniflare's local queue does not survive a restart: stored batches are gone (not delivered by a new instance)", { timeout: 120_000 }, async () => {
    const persist = mkdtempSync(join(tmpdir(), "intempt-outbox-"));
    cleanups.push(async () => rmSync(persist, { recursive: true, force: true }));
    const port = await freePort();
    const outputA = [];
    // Persistence on, in the same directory for both instances: it does not
    // cover queues.
    const a = await worker(`http://127.0.0.1:${port}`, outputA, { defaultPersistRoot: persist });
    await sendRequests(a, 5, 1_000);
    await flushesDone(a, 5, outputA);
    const seen = await until(async () => {
      const s = await state(a);
      return s.messages.flatMap((m) => itemsOf(m.body)).length === 25 ? s : null;
    }, 30_000);
    assert.ok(seen, "the 25 events were stored in the queue and handed to its consumer");
    assert.equal(totals(seen.summaries).delivered, 0);
    await a.dispose();

    const srv = await server(port);
    const outputB = [];
    const b = await worker(srv.url, outputB, { defaultPersistRoot: persist });
    // A stored message would reach the consumer within its 1 s batch timeout.
    await sleep(15_000);
    const s = await state(b);
    assert.deepEqual({ messages: s.messages.length, summaries: s.summaries.length }, { messages: 0, summaries: 0 }, "the new instance's queue is empty");
    assert.equal((await control(srv, "stats")).events, 0, "nothing was delivered after the restart");
    log("restart", JSON.stringify({ storedMessages: seen.messages.length, afterRestart: s.messages.length }));
  });
});
