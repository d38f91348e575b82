// A module-scope client shared by 200 concurrent requests on workerd
// (Miniflare), as the README recommends on Cloudflare Workers: every
// request's ctx.waitUntil(flush()) settles within flushDeadlineMs + 250 ms,
// workerd never warns that one request's promise was settled from another's
// context, nothing is left in flight once the flushes settled, and every
// event arrives (or, with an outbox, is stored) exactly once. Scenarios: a
// healthy server, a 503 outage then recovery, connections refused then
// recovery, slow answers (300–800 ms), Retry-After bursts, and handlers that
// forget to flush (after an outage); each with and without an outbox.
//
// The same holds for the Rust EdgeClient: tests/e2e/rust-shared/ is a Rust
// Worker with a module-scope client, run through the same scenarios.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { join } from "node:path";

import { startIngestServer } from "../server/ingest-server.mjs";
import { API_KEY, ROOT, bundleWorker, freePort, prepareApp, run, startWorker } from "./harness.mjs";

const REQUESTS = 200;
const EVENTS_PER_REQUEST = 5;
// Requests start evenly over this span, each without waiting for the last.
const SPREAD_MS = 2_000;
const OUTAGE_MS = 2_500;
// With an outbox, a short deadline: flushes during the outage store.
const DEADLINE = { plain: 10_000, outbox: 2_000 };
const SETTLE_SLACK_MS = 250;
const CROSS_REQUEST = /different request context|Cannot perform I\/O on behalf of a different request|hung|never resolve/i;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...args) => console.log("# shared client:", ...args);

const post = (srv, path, body) => fetch(`${srv.url}/_intempt/${path}`, { method: "POST", body: JSON.stringify(body) });
const always = (...modes) => ({ queue: [], random: { seed: 7, probability: 1, modes } });
const healthy = { queue: [], random: null };

// Each scenario: whether handlers flush, and what the server does. `serve`
// starts the ingest server on `port` (at once, or after the outage) and
// returns it once it answers as the scenario wants.
const SCENARIOS = [
  { name: "healthy", flush: true, healthy: true, faults: [] },
  {
    name: "503 outage, then healthy",
    flush: true,
    faults: [
      [0, always({ status: 503 })],
      [OUTAGE_MS, healthy],
    ],
  },
  { name: "connections refused, then healthy", flush: true, refusedMs: OUTAGE_MS, faults: [] },
  { name: "slow answers (300–800 ms)", flush: true, faults: [[0, always({ delayMs: 300 }, { delayMs: 550 }, { delayMs: 800 })]] },
  {
    name: "Retry-After bursts",
    flush: true,
    faults: [
      [0, always({ status: 429, retryAfter: "1" }, { status: 503, retryAfter: "1" })],
      [1_200, healthy],
      [2_000, always({ status: 429, retryAfter: "1" })],
      [2_600, healthy],
    ],
  },
  {
    name: "handlers that forget to flush, after a 503 outage",
    flush: false,
    faults: [
      [0, always({ status: 503 })],
      [OUTAGE_MS, healthy],
    ],
  },
];

/** A Worker (JS or Rust) to run the scenarios on: `bundle` is built in before(). */
const WORKERS = [
  { name: "JS SDK", prepare: prepareJsWorker },
  { name: "Rust EdgeClient", prepare: prepareRustWorker },
];

async function prepareJsWorker() {
  const app = await prepareApp("shared");
  return bundleWorker(app, "shared-worker.js", join(app, "dist"));
}

async function prepareRustWorker() {
  const dir = join(ROOT, "tests", "e2e", "rust-shared");
  const build = await run("bash", [join(dir, "build.sh")], { timeoutMs: 600_000 });
  assert.equal(build.code, 0, `tests/e2e/rust-shared/build.sh failed:\n${build.stdout}\n${build.stderr}`);
  return bundleWorker(dir, "worker.js", join(ROOT, "target", "e2e", "rust-shared-dist"));
}

const cleanups = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

/** Fires the scenario's requests, evenly over SPREAD_MS, all concurrently. */
async function sendRequests(mf, path) {
  const start = Date.now();
  const sent = [];
  for (let req = 0; req < REQUESTS; req++) {
    const wait = start + (req * SPREAD_MS) / REQUESTS - Date.now();
    if (wait > 0) await sleep(wait);
    sent.push(
      mf.dispatchFetch(`http://w${path}?req=${req}`).then(async (response) => {
        assert.equal(await response.text(), "ok", `request ${req}`);
      }),
    );
  }
  await Promise.all(sent);
}

async function runScenario(bundle, scenario, outbox) {
  const deadline = outbox ? DEADLINE.outbox : DEADLINE.plain;
  const port = await freePort();
  /** @type {Awaited<ReturnType<typeof startIngestServer>>} */
  let srv;
  const startServer = async () => {
    srv = await startIngestServer({ port, apiKey: API_KEY });
    cleanups.push(() => srv.close());
  };
  if (!scenario.refusedMs) await startServer();
  const output = [];
  const mf = await startWorker(bundle, {
    output,
    bindings: { INTEMPT_API_KEY: API_KEY, INTEMPT_ENDPOINT: `http://127.0.0.1:${port}`, FLUSH_DEADLINE_MS: String(deadline), OUTBOX: outbox ? "1" : "0" },
  });
  cleanups.push(() => mf.dispose());
  await mf.ready;
  const state = async () => (await mf.dispatchFetch("http://w/state")).json();

  // The server's behaviour over time, from the first request on.
  const t0 = Date.now();
  const plan = (async () => {
    for (const [at, faults] of scenario.faults) {
      await sleep(t0 + at - Date.now());
      await post(srv, "faults", faults);
    }
    if (scenario.refusedMs) {
      await sleep(t0 + scenario.refusedMs - Date.now());
      await startServer();
    }
  })();
  await sendRequests(mf, scenario.flush ? "/track-flush" : "/track");
  await plan;

  // Every flush settles within its deadline (+ slack) of its request; after
  // the last request, wait that long (and a little) for the last one.
  const events = REQUESTS * EVENTS_PER_REQUEST;
  let s;
  const until = Date.now() + deadline + 5_000;
  for (;;) {
    s = await state();
    const quiet = s.stats.queued === 0 && s.stats.inFlight === 0;
    const done = scenario.flush ? s.settled.length === REQUESTS : quiet && s.stats.delivered + s.stats.stored === events;
    if (done || Date.now() >= until) break;
    await sleep(100);
  }
  const warnings = output.filter((line) => CROSS_REQUEST.test(line));
  const received = await (await fetch(`${srv.url}/_intempt/events`)).json();
  const serverStats = await (await fetch(`${srv.url}/_intempt/stats`)).json();
  const summary = {
    settled: s.settled.length,
    slowestMs: Math.max(0, ...s.settled.map((x) => x.ms)),
    stats: s.stats,
    delivered: received.length,
    stored: s.stored.length,
    warnings: warnings.length,
    requests: serverStats.requests,
    byStatus: serverStats.byStatus,
  };
  log(scenario.name, outbox ? "(outbox)" : "(no outbox)", JSON.stringify(summary));

  assert.deepEqual(warnings, [], "workerd warned of cross-request promises or hung work");
  if (scenario.flush) {
    assert.equal(s.started, REQUESTS);
    const unsettled = [...Array(REQUESTS).keys()].filter((req) => !s.settled.some((x) => x.req === req));
    assert.deepEqual(unsettled, [], "requests whose waitUntil(flush()) never settled");
    const late = s.settled.filter((x) => x.ms > deadline + SETTLE_SLACK_MS);
    assert.deepEqual(
      late.map((x) => ({ req: x.req, ms: x.ms })),
      [],
      `flushes that settled later than flushDeadlineMs (${deadline}) + ${SETTLE_SLACK_MS} ms`,
    );
  }
  // Nothing is held once the flushes settled.
  assert.deepEqual({ queued: s.stats.queued, inFlight: s.stats.inFlight }, { queued: 0, inFlight: 0 }, "events left in the client");

  // Every event arrived or was stored, exactly once.
  const ids = new Map();
  for (const e of received) {
    assert.ok(!ids.has(e.item.eventId), `${e.item.eventId} arrived twice`);
    ids.set(e.item.eventId, `${e.item.data.req}/${e.item.data.n}`);
  }
  assert.equal(serverStats.duplicates, 0, "duplicate deliveries");
  for (const id of s.stored) assert.ok(!ids.has(id), `${id} was both delivered and stored`);
  assert.equal(new Set(s.stored).size, s.stored.length, "an event was stored twice");
  // The outbox is for what could not be delivered: a healthy server's
  // events are all delivered, under any load.
  if (!outbox || scenario.healthy) assert.equal(s.stored.length, 0, "events stored in the outbox");
  const keys = new Set(ids.values());
  assert.equal(keys.size + s.stored.length, events, `events delivered (${keys.size}) + stored (${s.stored.length})`);
  assert.equal(s.stats.delivered, received.length, "stats().delivered is what the server accepted");
  assert.equal(s.stats.stored, s.stored.length, "stats().stored is what the outbox was given");
  assert.equal(s.stats.dropped, 0);

  await mf.dispose();
  await srv.close();
}

for (const worker of WORKERS) {
  describe(`workerd, a module-scope ${worker.name} shared by ${REQUESTS} concurrent requests`, () => {
    let bundle;
    before(async () => {
      bundle = await worker.prepare();
    });
    for (const scenario of SCENARIOS) {
      for (const outbox of [false, true]) {
        test(`${scenario.name}, ${outbox ? "with" : "without"} an outbox`, { timeout: 120_000 }, () => runScenario(bundle, scenario, outbox));
      }
    }
  });
}
