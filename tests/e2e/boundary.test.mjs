// The JS↔wasm boundary ("Reliability II"), in Node, Deno, Bun and workerd:
// scenarios in app/boundary.js, run by app/boundary-run.mjs (one child
// process each, with process-wide recorders of uncaught exceptions and
// unhandled rejections) and by app/boundary-worker.js in Miniflare.
//
//   A. hostile values through `fetch`, `logger`, `waitUntil` and `debug`:
//      no trap, nothing uncaught or unhandled, flush() resolves with a report
//      and consent/choose reject with NETWORK_ERROR or HTTP_ERROR within
//      their deadlines + 250 ms; then the same client delivers every event
//   B. foreign Response classes (npm undici's; a plain object of the
//      Response shape): 201s are delivered once, nothing re-sent
//   C. redirects (the ingest server's redirect fault): a 3xx is never a
//      delivery, the events stay queued with a reason naming the status, the
//      target is never hit, consent/choose reject with HTTP_ERROR + status;
//      a fetch that follows anyway is no delivery either
//   D. work before bounds: huge and lying arrays, holes, a huge validUntil
//      reject at once with INVALID_ARGUMENT, no synchronous throw, no memory
//   E. a seeded fuzz of all of it: 10,000 clients in Node, 2,000 in workerd
//
//   INTEMPT_BOUNDARY_SEED=n  another fuzz stream (default 20260801)
//   INTEMPT_LONG=1           50,000 fuzz runs in Node, 10,000 in workerd
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { join } from "node:path";

import { startIngestServer } from "../server/ingest-server.mjs";
import { BOUNDS_ITEMS, CASE_OPTIONS, FETCH_VARIANT_NAMES, HOSTILE_CASES, REDIRECT_OPTIONS, SLACK_MS, SUSPICIOUS, atOnceDeadline } from "./app/boundary.js";
import { API_KEY, bundleWorker, control, envOf, prepareApp, run, startWorker, tool } from "./harness.mjs";

const LONG = process.env.INTEMPT_LONG === "1";
const SEED = Number(process.env.INTEMPT_BOUNDARY_SEED ?? 20260801);
const FUZZ_RUNS = { node: LONG ? 50_000 : 10_000, workerd: LONG ? 10_000 : 2_000 };
const FUZZ_CONCURRENCY = { node: 32, workerd: 48 };
const FUZZ_CHUNK = 500; // runs per Worker request
const CLI = ["node", "deno", "bun"];
const REDIRECTS = [301, 302, 303, 307, 308, 300, 304];
const FOLLOWED = [301, 307];
const MIB = 1024 * 1024;
/** "A few MiB": how much the wasm memory may grow across one bounds call. */
const BOUNDS_MEMORY_LIMIT = 4 * MIB;
/** A redirect reason says it was not followed. */
/** A warning line of the SDK's (option `warnings`). */
const SDK_WARNING = /^\[intempt-edge\] (could not (deliver|store) \d+ events|delivering again to )/;
const NOT_FOLLOWED = /\b(not|never)\b[^.;]*\bfollow|n't\s+follow/i;

let server;
let app;
let bundling;
/** The Worker, bundled once (wrangler, as `wrangler deploy` would), however many tests ask at once. */
const workerBundle = () => (bundling ??= bundleWorker(app, "boundary-worker.js", join(app, "dist-boundary")));

before(async () => {
  server = await startIngestServer({ apiKey: API_KEY });
  app = await prepareApp("boundary");
});
after(async () => {
  await server?.close();
});

// ---------------------------------------------------------------------------
// Running a scenario
// ---------------------------------------------------------------------------

const COMMANDS = {
  node: (args) => [process.execPath, [join(app, "boundary-run.mjs"), ...args]],
  // Part C only: the Node app with the global fetch as its `fetch` option.
  "node-fetch": (args) => [process.execPath, [join(app, "boundary-run.mjs"), ...args]],
  deno: (args) => [tool("deno"), ["run", "--allow-net=127.0.0.1", "--allow-read", "--allow-env", join(app, "boundary-run.mjs"), ...args]],
  bun: (args) => [tool("bun"), [join(app, "boundary-run.mjs"), ...args]],
};

/**
 * Runs a scenario in a child process of `runtime`; asserts the process
 * itself ended well (exit code 0; in Node nothing on stderr; nowhere a
 * trap in the output) and returns {result, recorder}.
 */
async function cli(runtime, mode, args, { timeoutMs = 60_000 } = {}) {
  const [command, argv] = COMMANDS[runtime]([mode, JSON.stringify(args)]);
  const child = await run(command, argv, { cwd: app, env: { DENO_NO_UPDATE_CHECK: "1", ...envOf(runtime) }, timeoutMs });
  const line = child.stdout.split("\n").find((l) => l.startsWith("BOUNDARY-RESULT "));
  const other = `${child.stdout
    .split("\n")
    .filter((l) => !l.startsWith("BOUNDARY-RESULT "))
    .join("\n")}\n${child.stderr}`;
  assert.ok(
    line,
    `${runtime} printed no result (exit ${child.code}, signal ${child.signal}${child.signal === "SIGKILL" ? `: killed after ${timeoutMs} ms` : ""}):\n${other.slice(0, 3000)}`,
  );
  assert.equal(child.code, 0, `${runtime} exited with ${child.code}:\n${child.stderr.slice(0, 3000)}`);
  // Node: nothing on stderr but the SDK's own warnings (a failing transport
  // is what these scenarios are; tests/e2e/warnings.test.mjs checks the lines).
  if (runtime.startsWith("node"))
    assert.deepEqual(
      child.stderr.split("\n").filter((l) => l && !SDK_WARNING.test(l)),
      [],
      "node wrote nothing else to stderr",
    );
  assert.deepEqual(
    other.split("\n").filter((l) => SUSPICIOUS.test(l)),
    [],
    `no trap in ${runtime}'s output`,
  );
  return JSON.parse(line.slice("BOUNDARY-RESULT ".length));
}

/**
 * Runs a scenario in a fresh Miniflare (so a broken case cannot spoil the
 * next); asserts workerd printed nothing uncaught and no trap. The request
 * is given up after `timeoutMs` (a call that blocks the isolate).
 */
async function workerd(path, args, { timeoutMs = 60_000 } = {}) {
  const output = [];
  const worker = await startWorker(await workerBundle(), { output });
  let timer;
  try {
    const query = new URLSearchParams({ a: JSON.stringify(args) });
    const response = await Promise.race([
      worker.dispatchFetch(`http://boundary${path}?${query}`),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the Worker did not answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    const text = await response.text();
    assert.equal(response.status, 200, text.slice(0, 3000));
    assert.ok(
      output.some((l) => l.startsWith("boundary-worker: ")),
      "workerd's output was captured",
    );
    assert.deepEqual(
      output.filter((l) => /Uncaught|panicked|unreachable|RuntimeError/i.test(l)),
      [],
      "nothing uncaught and no trap in workerd's output",
    );
    return JSON.parse(text);
  } finally {
    clearTimeout(timer);
    await worker.dispose();
  }
}

const runScenario = (runtime, mode, args, options) => (runtime === "workerd" ? workerd(`/${mode}`, args, options) : cli(runtime, mode, args, options));

/** What the recorders saw must be empty. */
function assertRecorderClean(recorder, what) {
  assert.deepEqual(recorder.samples.uncaught, [], `${what}: no uncaught exception`);
  assert.deepEqual(recorder.samples.unhandled, [], `${what}: no unhandled rejection`);
  assert.deepEqual(recorder.samples.traps, [], `${what}: no trap`);
  assert.deepEqual(recorder.counts, { traps: 0, unhandled: 0, uncaught: 0 }, what);
}

/**
 * A call of the SDK ended within `deadlineMs` + SLACK_MS as a promise (not a
 * throw), not counting the time its process's event loop was blocked
 * (`lagMs`, measured by the scenario: no timer of the SDK's can fire then).
 */
function assertSettledInTime(outcome, deadlineMs, what) {
  assert.ok(!outcome.sync, `${what} threw synchronously instead of returning a promise: ${outcome.error?.message}`);
  assert.ok(!outcome.notPromise, `${what} did not return a promise`);
  assert.ok(outcome.settled, `${what} did not settle (given up after ${outcome.ms} ms; its deadline is ${deadlineMs} ms)`);
  const lag = outcome.lagMs ?? 0;
  assert.ok(
    outcome.ms - lag <= deadlineMs + SLACK_MS,
    `${what} settled after ${outcome.ms} ms (event loop blocked ${lag} ms of it), past its deadline ${deadlineMs} ms + ${SLACK_MS} ms`,
  );
}

function assertFlushResolved(outcome, deadlineMs, what) {
  assertSettledInTime(outcome, deadlineMs, what);
  assert.ok(outcome.resolved, `${what} rejected: ${JSON.stringify(outcome.error)}`);
  for (const key of ["delivered", "failed", "dropped", "pending"])
    assert.equal(typeof outcome.value?.[key], "number", `${what} resolved with a report (${key})`);
}

function assertRejected(outcome, deadlineMs, codes, what) {
  assertSettledInTime(outcome, deadlineMs, what);
  assert.equal(outcome.resolved, false, `${what} resolved; it must reject`);
  assert.equal(outcome.error.trap, false, `${what} trapped: ${outcome.error.message}`);
  assert.ok(outcome.error.isIntemptError, `${what} rejected with something that is not an IntemptError: ${outcome.error.message}`);
  assert.ok(codes.includes(outcome.error.code), `${what} rejected with ${outcome.error.code} (${outcome.error.message}); expected ${codes.join(" or ")}`);
}

/** The server stored exactly `seqs` for `profile`, each once with one eventId. */
async function assertStoredOnce(profile, seqs, srv = server) {
  const events = (await control(srv, "events")).filter((e) => e.item.profileId === profile);
  const ids = new Set(events.map((e) => e.item.eventId));
  assert.deepEqual(
    events.map((e) => e.item.data.seq).sort((a, b) => a - b),
    seqs,
    `the server stored each event of ${profile} once`,
  );
  assert.equal(ids.size, events.length, "no event stored twice");
}

/**
 * Every event stored, each under one eventId. A second copy is allowed only
 * when the client resent a batch (a 200 ms request timeout can fire while a
 * loaded machine's server is still storing it: delivery is at-least-once,
 * and the copy carries the same eventId, so it is deduplicable); the
 * honest phase's flush reports must then show the retry.
 */
async function assertStoredOnceOrResent(profile, seqs, flushes) {
  const events = (await control(server, "events")).filter((e) => e.item.profileId === profile);
  const idsBySeq = new Map();
  for (const e of events) {
    if (!idsBySeq.has(e.item.data.seq)) idsBySeq.set(e.item.data.seq, new Set());
    idsBySeq.get(e.item.data.seq).add(e.item.eventId);
  }
  assert.deepEqual(
    [...idsBySeq.keys()].sort((a, b) => a - b),
    seqs,
    `the server stored each event of ${profile}`,
  );
  for (const [seq, ids] of idsBySeq) assert.equal(ids.size, 1, `event ${seq}: one eventId however many copies`);
  if (events.length > seqs.length) {
    // Resent within a flush (retries), or given back after a timeout and
    // sent by the next flush (its reason stays in the first one's report).
    const retries = flushes.reduce((n, f) => n + (f.value?.retries ?? 0), 0);
    const timedOut = flushes.some((f) => f.value?.reasons?.some?.((r) => r.cause === "timeout"));
    assert.ok(retries > 0 || timedOut, `${events.length - seqs.length} extra copies stored, but no flush resent anything: ${JSON.stringify(flushes)}`);
  }
}

// ---------------------------------------------------------------------------
// A. Hostile callbacks
// ---------------------------------------------------------------------------

function assertHostileCase(runtime, { result: r, recorder }) {
  const what = `${runtime} / ${r.title}`;
  assertRecorderClean(recorder, what);
  assert.equal(r.constructError, undefined, "the client was made");
  assert.deepEqual(r.trackErrors, [], "the 3 events were accepted");
  assert.equal(r.accepted, 3);
  const spec = HOSTILE_CASES[r.id];
  assert.ok(r.counts.hostileFetch >= 1, "the hostile fetch was called");
  if (spec.logger) assert.ok(r.counts.logger >= 1, "the logger was called");
  if (spec.waitUntil) assert.ok(r.counts.waitUntil >= 1, "waitUntil was called");
  if (spec.consoleThrows) assert.ok(r.counts.console >= 1, "the debug lines went to console.log");

  const deadline = CASE_OPTIONS.flushDeadlineMs;
  const atOnce = atOnceDeadline(CASE_OPTIONS.chooseTimeoutMs);
  assertFlushResolved(r.hostile.flush, deadline, "flush() while hostile");
  const { delivered, dropped, pending } = r.hostile.flush.value;
  assert.deepEqual({ delivered, dropped, pending }, { delivered: 0, dropped: 0, pending: 3 }, "nothing reached the server, nothing was given up");
  assertRejected(r.hostile.consent, atOnce, ["NETWORK_ERROR", "HTTP_ERROR"], "consents() while hostile");
  assertRejected(r.hostile.choose, atOnce, ["NETWORK_ERROR", "HTTP_ERROR"], "choosePersonalizationsByGroups() while hostile");

  // The same client, once its fetch is honest.
  for (const [i, flush] of r.honest.flushes.entries()) assertFlushResolved(flush, deadline, `honest flush() #${i + 1}`);
  assert.equal(r.honest.flushes.at(-1).value.pending, 0, "the honest flushes left nothing pending");
  const { queued, inFlight, delivered: total, dropped: lost } = r.honest.stats;
  assert.deepEqual(
    { queued, inFlight, delivered: total, dropped: lost },
    { queued: 0, inFlight: 0, delivered: 3, dropped: 0 },
    "stats(): all 3 delivered, none lost",
  );
  assertSettledInTime(r.honest.consent, atOnce, "consents() once honest");
  assert.ok(r.honest.consent.resolved, `consents() once honest rejected: ${JSON.stringify(r.honest.consent.error)}`);
  assertSettledInTime(r.honest.choose, atOnce, "choosePersonalizationsByGroups() once honest");
  assert.ok(r.honest.choose.resolved && r.honest.choose.value.isArray, `choose once honest: ${JSON.stringify(r.honest.choose)}`);
}

const caseIds = Object.keys(HOSTILE_CASES);

describe("A. hostile fetch, logger, waitUntil and debug values", { concurrency: 6 }, () => {
  for (const runtime of [...CLI, "workerd"]) {
    for (const id of caseIds) {
      it(`${runtime}: ${HOSTILE_CASES[id].title} — settles in time, no trap, then the same client delivers all`, { timeout: 90_000 }, async () => {
        const profile = `hostile-${runtime}-${id}`;
        const out = await runScenario(runtime, "hostile", { endpoint: server.url, apiKey: API_KEY, id, profile });
        assertHostileCase(runtime, out);
        await assertStoredOnceOrResent(profile, [0, 1, 2], out.result.honest.flushes);
      });
    }
  }
});

// ---------------------------------------------------------------------------
// B. Foreign Response classes
// ---------------------------------------------------------------------------

async function assertForeign(out, profile) {
  const { result: r, recorder } = out;
  assertRecorderClean(recorder, profile);
  for (const [i, flush] of r.flushes.entries()) {
    assertFlushResolved(flush, 3_000, `flush() #${i + 1}`);
    const { delivered, failed, dropped, pending, retries } = flush.value;
    assert.deepEqual(
      { delivered, failed, dropped, pending, retries },
      { delivered: 10, failed: 0, dropped: 0, pending: 0, retries: 0 },
      `flush() #${i + 1}: the 201 counted as delivered`,
    );
  }
  assert.equal(r.counts.fetch, 3, "3 requests of 10 events, none re-sent");
  const { queued, inFlight, delivered } = r.stats;
  assert.deepEqual({ queued, inFlight, delivered }, { queued: 0, inFlight: 0, delivered: 30 }, "stats(): the queue is empty");
  await assertStoredOnce(
    profile,
    Array.from({ length: 30 }, (_, i) => i),
  );
}

describe("B. foreign Response classes", { concurrency: 5 }, () => {
  it("node: a fetch from the npm undici package (its own Response class) — 201s delivered, nothing re-sent, queue empty", { timeout: 60_000 }, async () => {
    const profile = "foreign-node-undici";
    await assertForeign(await cli("node", "foreign", { endpoint: server.url, apiKey: API_KEY, profile, fetch: "undici" }), profile);
  });
  for (const runtime of [...CLI, "workerd"]) {
    it(`${runtime}: a fetch answering a plain object of the Response shape — 201s delivered, nothing re-sent, queue empty`, { timeout: 60_000 }, async () => {
      const profile = `foreign-${runtime}-plain`;
      await assertForeign(await runScenario(runtime, "foreign", { endpoint: server.url, apiKey: API_KEY, profile, fetch: "plain-object" }), profile);
    });
  }
});

// ---------------------------------------------------------------------------
// C. Redirects (each runtime against its own server: the fault plan is per server)
// ---------------------------------------------------------------------------

describe("C. redirects", { concurrency: 5 }, () => {
  for (const runtime of [...CLI, "node-fetch", "workerd"]) {
    describe(`${runtime}`, () => {
      let srv;
      let out;
      let failure;
      before(async () => {
        srv = await startIngestServer({ apiKey: API_KEY });
        try {
          out = await runScenario(runtime, "redirects", { endpoint: srv.url, apiKey: API_KEY, statuses: REDIRECTS, follow: FOLLOWED }, { timeoutMs: 110_000 });
        } catch (error) {
          failure = error;
        }
      });
      after(() => srv?.close());
      const resultFor = (status, following) => {
        if (failure) throw failure;
        assertRecorderClean(out.recorder, `${runtime} redirects`);
        const r = out.result.find((x) => x.status === status && x.following === following);
        assert.ok(r, `a result for ${status}`);
        return r;
      };
      const deadline = REDIRECT_OPTIONS.flushDeadlineMs;
      const atOnce = atOnceDeadline(REDIRECT_OPTIONS.chooseTimeoutMs);

      for (const status of REDIRECTS) {
        it(`${runtime}: ${status} is no delivery — events kept with the status and "not followed", the target never hit, consent/choose HTTP_ERROR ${status}, later delivered once`, {
          timeout: 120_000,
        }, async () => {
          const r = resultFor(status, false);
          assertFlushResolved(r.flush, deadline, `flush() answered ${status}`);
          const { delivered, failed, dropped, pending, reasons } = r.flush.value;
          assert.deepEqual(
            { delivered, failed, dropped, pending },
            { delivered: 0, failed: 3, dropped: 0, pending: 3 },
            `a ${status} is not a delivery; the events stay queued`,
          );
          const reason = reasons.find((x) => x.status === status);
          assert.ok(reason, `a reason with status ${status}: ${JSON.stringify(reasons)}`);
          assert.equal(reason.fate, "failed");
          assert.match(reason.message, /redirect/i, "the reason says it was a redirect");
          assert.match(reason.message, NOT_FOLLOWED, "the reason says the redirect was not followed");
          assert.deepEqual(r.hits, [], "the redirect target was never hit");
          for (const [name, outcome] of [
            ["consents()", r.consent],
            ["chooseExperimentsByGroups()", r.choose],
          ]) {
            assertRejected(outcome, atOnce, ["HTTP_ERROR"], `${name} answered ${status}`);
            assert.equal(outcome.error.status, status, `${name}: err.status is the ${status}`);
          }
          for (const [i, flush] of r.later.entries()) assertFlushResolved(flush, deadline, `flush() #${i + 1} against the healthy server`);
          assert.equal(r.later.at(-1).value.pending, 0);
          assert.deepEqual(
            { queued: r.laterStats.queued, delivered: r.laterStats.delivered, dropped: r.laterStats.dropped },
            { queued: 0, delivered: 3, dropped: 0 },
          );
          await assertStoredOnce(r.profile, [0, 1, 2], srv);
        });
      }

      for (const status of FOLLOWED) {
        it(`${runtime}: a fetch that follows a ${status} anyway — the followed answer (redirected) is no delivery, later delivered once`, {
          timeout: 120_000,
        }, async () => {
          const r = resultFor(status, true);
          assert.ok(r.hits.length >= 1, "the custom fetch did follow the redirect (its target was hit)");
          assertFlushResolved(r.flush, deadline, `flush() through a followed ${status}`);
          const { delivered, dropped, pending } = r.flush.value;
          assert.deepEqual(
            { delivered, dropped, pending },
            { delivered: 0, dropped: 0, pending: 3 },
            "a followed redirect is not a delivery; the events stay queued",
          );
          assertRejected(r.consent, atOnce, ["HTTP_ERROR", "NETWORK_ERROR"], "consents() through a followed redirect");
          assertRejected(r.choose, atOnce, ["HTTP_ERROR", "NETWORK_ERROR"], "chooseExperimentsByGroups() through a followed redirect");
          for (const [i, flush] of r.later.entries()) assertFlushResolved(flush, deadline, `flush() #${i + 1} against the healthy server`);
          assert.deepEqual(
            { queued: r.laterStats.queued, delivered: r.laterStats.delivered, dropped: r.laterStats.dropped },
            { queued: 0, delivered: 3, dropped: 0 },
          );
          await assertStoredOnce(r.profile, [0, 1, 2], srv);
        });
      }
    });
  }
});

// ---------------------------------------------------------------------------
// D. Work before bounds
// ---------------------------------------------------------------------------

/** The integers written in `text` (digits with optional , _ or space grouping). */
const numbersIn = (text) => [...text.matchAll(/\d[\d,_]*/g)].map((m) => Number(m[0].replace(/[,_]/g, "")));

function assertBoundsItem(runtime, { result: r, recorder }) {
  const spec = BOUNDS_ITEMS[r.item];
  assertRecorderClean(recorder, `${runtime} ${r.item}`);
  assert.equal(r.threwSync, undefined, `${spec.title} threw synchronously: ${r.threwSync}`);
  assert.equal(r.notPromise, undefined, `${spec.title} returned ${r.notPromise}, not a promise`);
  const o = r.outcome;
  assert.ok(o.settled, `${spec.title} did not settle within 10 s`);
  assert.equal(o.resolved, false, `${spec.title} resolved; it must reject`);
  assert.ok(o.error.isIntemptError, `rejected with something that is not an IntemptError: ${o.error.message}`);
  assert.equal(o.error.code, "INVALID_ARGUMENT", o.error.message);
  assert.ok(o.ms < 1_000, `rejected after ${o.ms} ms; it must take < 1 s`);
  if (runtime === "node") {
    assert.equal(typeof r.memoryBefore, "number", "the wasm memory was measured");
    const grew = r.memoryAfter - r.memoryBefore;
    assert.ok(grew <= BOUNDS_MEMORY_LIMIT, `the wasm memory grew by ${(grew / MIB).toFixed(1)} MiB (limit ${BOUNDS_MEMORY_LIMIT / MIB} MiB)`);
  }
  const message = o.error.message;
  if (spec.length) {
    assert.match(message, /groups/, `the message names the argument: ${message}`);
    assert.match(message, /\b(items?|entries|elements|strings|values)\b/i, `the message speaks of items: ${message}`);
    assert.ok(
      numbersIn(message).some((n) => n > 0 && n < spec.length),
      `the message names the item limit: ${message}`,
    );
  }
  if (spec.hole) {
    assert.match(message, /groups\[1\]|names\[1\]/, `the message names the index: ${message}`);
    assert.match(message, new RegExp(`${spec.hole}\\[1\\]`), `the message names ${spec.hole}[1]: ${message}`);
    assert.match(message, /hole/, `the message says it is a hole: ${message}`);
  }
  if (spec.longString) assert.match(message, /longer than \d+ characters/, `the message says the string is too long: ${message}`);
  assert.equal(r.requests, 0, "no request was sent");
  assert.ok(r.after.settled && r.after.resolved, `the client still works afterwards: ${JSON.stringify(r.after)}`);
}

describe("D. work before bounds", { concurrency: 4 }, () => {
  const growth = {};
  for (const runtime of [...CLI, "workerd"]) {
    for (const item of Object.keys(BOUNDS_ITEMS)) {
      it(`${runtime}: ${BOUNDS_ITEMS[item].title} — returns a promise that rejects at once with INVALID_ARGUMENT${runtime === "node" ? ", wasm memory flat" : ""}`, {
        timeout: 60_000,
      }, async () => {
        const out = await runScenario(runtime, "bounds", { endpoint: server.url, apiKey: API_KEY, item }, { timeoutMs: 30_000 });
        const r = out.result;
        if (typeof r.memoryBefore === "number") {
          growth[runtime] ??= [];
          growth[runtime].push(`${item}=${((r.memoryAfter - r.memoryBefore) / MIB).toFixed(2)}MiB`);
        }
        assertBoundsItem(runtime, out);
      });
    }
  }
  after(() => {
    for (const [runtime, items] of Object.entries(growth)) console.log(`boundary-bounds[${runtime}]: wasm memory growth ${items.join(" ")}`);
  });
});

// ---------------------------------------------------------------------------
// E. The boundary fuzz
// ---------------------------------------------------------------------------

/**
 * Over all runs: 0 traps, nothing uncaught or unhandled, no problem the
 * runs found (late or unsettled calls, wrong rejections, broken
 * accounting), every fetch variant used; and per run the events the server
 * stored (unique eventIds) are exactly the ones the client counts delivered.
 */
async function verifyFuzz(runtime, srv, { totals, perRun, consoleCalls, maxLagMs, ms, wasmMemory = [null, null] }, recorder, runs) {
  const events = await control(srv, "events");
  const byProfile = new Map();
  for (const e of events) {
    const ids = byProfile.get(e.item.profileId) ?? new Set();
    ids.add(e.item.eventId);
    byProfile.set(e.item.profileId, ids);
  }
  const mismatched = [];
  let storedUnique = 0;
  let honestRuns = 0;
  let honestDelivered = 0;
  for (const [profile, accepted, delivered, dropped, pending, mode] of perRun) {
    const unique = byProfile.get(profile)?.size ?? 0;
    storedUnique += unique;
    if (mode === "honest") {
      honestRuns++;
      honestDelivered += delivered;
    }
    if (unique !== delivered && mismatched.length < 20)
      mismatched.push(`${profile} (${mode}): stored ${unique} unique, delivered ${delivered}, dropped ${dropped}, pending ${pending}, accepted ${accepted}`);
    byProfile.delete(profile);
  }
  const problems =
    Object.entries(totals.problems)
      .map(([k, n]) => `${k}=${n}`)
      .join(" ") || "none";
  console.log(
    `boundary-fuzz[${runtime}]: seed=${SEED} runs=${totals.runs} (honest ${totals.modes.honest}, fixed ${totals.modes.fixed}, mixed ${totals.modes.mixed}; background ${totals.background}) ` +
      `accepted=${totals.accepted} delivered=${totals.delivered} dropped=${totals.dropped} pending=${totals.pending} stored=${events.length} unique=${storedUnique} ` +
      `honestRuns=${honestRuns} honestDelivered=${honestDelivered} flushes=${totals.flushes} maxFlush=${totals.maxFlushMs}ms atOnce=${totals.atOnce} maxAtOnce=${totals.maxAtOnceMs}ms ${JSON.stringify(totals.atOnceOutcomes)} ` +
      `fetches=${totals.fetchCalls} variants=${Object.keys(totals.variants).length}/${FETCH_VARIANT_NAMES.length} loggerLines=${totals.loggerCalls} consoleLines=${consoleCalls} waitUntils=${totals.waitUntilCalls} ` +
      `traps=${recorder.counts.traps + (totals.problems.trap ?? 0)} unhandled=${recorder.counts.unhandled} uncaught=${recorder.counts.uncaught} problems=${problems} maxLag=${maxLagMs}ms ` +
      `${wasmMemory[0] === null ? "" : `wasmMemory=${(wasmMemory[0] / MIB).toFixed(1)}→${(wasmMemory[1] / MIB).toFixed(1)}MiB `}time=${(ms / 1000).toFixed(1)}s`,
  );
  assertRecorderClean(recorder, `fuzz[${runtime}]`);
  assert.deepEqual(totals.problemSamples, [], "no problem in any run");
  assert.deepEqual(totals.problems, {}, "no problem in any run");
  assert.equal(totals.runs, runs, "every run ran");
  assert.equal(perRun.length, runs, "every run finished");
  assert.deepEqual(mismatched, [], "per run, the server stored exactly the events the client counts delivered");
  assert.deepEqual([...byProfile.keys()].slice(0, 10), [], "the server holds no event of an unknown run");
  assert.equal(storedUnique, totals.delivered);
  assert.equal(totals.delivered + totals.dropped + totals.pending, totals.accepted, "every accepted event is delivered, dropped (reported) or pending");
  const unused = FETCH_VARIANT_NAMES.filter((name) => !totals.variants[name]);
  assert.deepEqual(unused, [], "every fetch variant was used");
  assert.ok(
    honestDelivered > 0 && totals.dropped > 0 && totals.loggerCalls > 0 && consoleCalls > 0 && totals.waitUntilCalls > 0,
    "deliveries, drops, logger, debug and waitUntil all happened",
  );
}

describe("E. boundary fuzz", () => {
  let srv;
  before(async () => {
    srv = await startIngestServer({ apiKey: API_KEY });
  });
  after(() => srv?.close());

  it(`node: ${FUZZ_RUNS.node} seeded runs (seed ${SEED}), ${FUZZ_CONCURRENCY.node} clients at a time — no trap, every flush in time, every event delivered or reported`, {
    timeout: LONG ? 600_000 : 120_000,
  }, async () => {
    await fetch(`${srv.url}/_intempt/reset`, { method: "POST" });
    const out = await cli(
      "node",
      "fuzz",
      { endpoint: srv.url, apiKey: API_KEY, seed: SEED, runs: FUZZ_RUNS.node, concurrency: FUZZ_CONCURRENCY.node },
      { timeoutMs: LONG ? 580_000 : 110_000 },
    );
    await verifyFuzz("node", srv, out.result, out.recorder, FUZZ_RUNS.node);
  });

  it(`workerd: ${FUZZ_RUNS.workerd} seeded runs (seed ${SEED}), ${FUZZ_CHUNK} per Worker request, ${FUZZ_CONCURRENCY.workerd} clients at a time — the same`, {
    timeout: LONG ? 600_000 : 120_000,
  }, async () => {
    await fetch(`${srv.url}/_intempt/reset`, { method: "POST" });
    const output = [];
    const worker = await startWorker(await workerBundle(), { output });
    const merged = { totals: null, perRun: [], consoleCalls: 0, maxLagMs: 0, ms: 0 };
    const recorder = { counts: { traps: 0, unhandled: 0, uncaught: 0 }, samples: { traps: [], unhandled: [], uncaught: [] } };
    try {
      for (let from = 0; from < FUZZ_RUNS.workerd; from += FUZZ_CHUNK) {
        const a = {
          endpoint: srv.url,
          apiKey: API_KEY,
          seed: SEED,
          from,
          to: Math.min(FUZZ_RUNS.workerd, from + FUZZ_CHUNK),
          concurrency: FUZZ_CONCURRENCY.workerd,
        };
        const response = await worker.dispatchFetch(`http://boundary/fuzz?${new URLSearchParams({ a: JSON.stringify(a) })}`);
        const text = await response.text();
        assert.equal(response.status, 200, text.slice(0, 3000));
        const { result, recorder: r } = JSON.parse(text);
        merged.totals = mergeTotals(merged.totals, result.totals);
        merged.perRun.push(...result.perRun);
        merged.consoleCalls += result.consoleCalls;
        merged.maxLagMs = Math.max(merged.maxLagMs, result.maxLagMs);
        merged.ms += result.ms;
        for (const k of Object.keys(recorder.counts)) {
          recorder.counts[k] += r.counts[k];
          recorder.samples[k].push(...r.samples[k]);
        }
      }
      assert.ok(
        output.some((l) => l.startsWith("boundary-worker: /fuzz")),
        "workerd's output was captured",
      );
      assert.deepEqual(
        output.filter((l) => /Uncaught|panicked|unreachable|RuntimeError/i.test(l)).slice(0, 20),
        [],
        "nothing uncaught and no trap in workerd's output",
      );
    } finally {
      await worker.dispose();
    }
    await verifyFuzz("workerd", srv, merged, recorder, FUZZ_RUNS.workerd);
  });
});

/** Adds one Worker request's fuzz totals to the sum so far. */
function mergeTotals(sum, add) {
  if (!sum) return structuredClone(add);
  for (const [k, v] of Object.entries(add)) {
    if (typeof v === "number") sum[k] = k.startsWith("max") ? Math.max(sum[k], v) : sum[k] + v;
    else if (Array.isArray(v)) sum[k].push(...v.slice(0, Math.max(0, 40 - sum[k].length)));
    else for (const [name, n] of Object.entries(v)) sum[k][name] = (sum[k][name] ?? 0) + n;
  }
  return sum;
}
