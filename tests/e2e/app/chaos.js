// The chaos scenario, shared by Node (tests/e2e/chaos.test.mjs runs it in a
// child process) and workerd (chaos-worker.js runs it in a Worker request).
//
// Events are tracked in rounds of 50–99 (seeded), each followed by flush()
// repeated until nothing is pending. A round stays below maxBatchSize (100),
// and batchTimeMs is an hour, so no background flush ever starts: every event
// is delivered by an explicit flush, and the sum of `delivered` over the
// reports must equal what the server stored. Each event carries `{seq: i}`,
// so the test can tell which ids arrived without any logger.

import { mulberry32 } from "./prng.js";
import { transport } from "./transport.js";

/** The faults the server recovers from: every one is retried by the SDK. */
export const CHAOS_MODES = [
  { status: 500 },
  { status: 502 },
  { status: 503 },
  { status: 429, retryAfter: "1" },
  { status: 429, retryAfter: "http-date:+1" },
  { delayMs: 1200 }, // slower than requestTimeoutMs (800): the SDK times out and retries
  { drop: "mid" }, // stored, then the connection breaks: the retry is a duplicate
  { drop: "before" },
];

/**
 * A 429 asking for longer than the flush deadline (30 s, capped by the SDK at
 * 10 s = flushDeadlineMs): the flush gives its batch back (reported failed,
 * timedOut) and the next flush waits for the pause to end, then sends it —
 * the path where one flush's failed events are another flush's delivered
 * ones. (A next flush that returned at once instead, pause end == its
 * deadline, is what made this suite flaky: 30 such flushes in the same
 * millisecond ended the round with events pending.)
 */
export const BEYOND_DEADLINE = { status: 429, retryAfter: "30" };

/** Every mode once (each followed by a healthy request), then seeded random faults. */
export function chaosPlan(seed, probability = 0.2) {
  return {
    queue: [...CHAOS_MODES, BEYOND_DEADLINE].flatMap((fault) => [fault, { ok: true }]),
    random: { seed, probability, modes: CHAOS_MODES },
  };
}

export const CHAOS_OPTIONS = { requestTimeoutMs: 800, flushDeadlineMs: 10_000 };

/** The client: an hour of batch time (no timer flush), 100 events per request. */
export function chaosClient(SDK, { endpoint, apiKey }) {
  return new SDK("demo-organization", "demo-project", apiKey, "616010376811536384", 3_600_000, 100, {
    endpoint,
    ...CHAOS_OPTIONS,
    ...transport(),
  });
}

export function emptyTotals() {
  return { tracked: 0, rejected: [], flushes: 0, delivered: 0, failed: 0, dropped: 0, retries: 0, requests: 0, timedOut: 0, reasons: {}, pending: 0 };
}

/** Adds one chunk's totals to another (the workerd test sums its requests). */
export function addTotals(into, t) {
  for (const k of ["tracked", "flushes", "delivered", "failed", "dropped", "retries", "requests", "timedOut"]) into[k] += t[k];
  into.rejected.push(...t.rejected);
  for (const [k, v] of Object.entries(t.reasons)) into.reasons[k] = (into.reasons[k] ?? 0) + v;
  into.pending = t.pending;
  return into;
}

/**
 * Tracks events `from`..`to`-1 and flushes them; stops starting new rounds
 * after `budgetMs` (a Worker request must stay short) and returns where it
 * stopped (and, if a round ended with events pending, that round's flushes
 * in `stuck`). Never throws: a refused track() is recorded in `rejected`.
 */
export async function runChaos(sdk, { profile, from, to, seed, budgetMs = Infinity, maxFlushesPerRound = 30 }) {
  const started = Date.now();
  const rng = mulberry32(seed ^ Math.imul(from + 1, 0x9e3779b1));
  const totals = emptyTotals();
  let next = from;
  // The flushes of the current round: returned when a round ends with
  // events pending, so a failure shows what the flushes did (e.g. returned
  // at once again and again) rather than only where the scenario stopped.
  let round = [];
  while (next < to && Date.now() - started < budgetMs) {
    const size = Math.min(to - next, 50 + Math.floor(rng() * 50));
    for (let i = 0; i < size; i++, next++) {
      try {
        await sdk.track(profile, "Chaos", { seq: next });
        totals.tracked++;
      } catch (error) {
        totals.rejected.push(`seq ${next}: ${error?.code} ${error?.message}`);
      }
    }
    let report;
    let flushes = 0;
    round = [];
    do {
      const calledAt = Date.now();
      report = await sdk.flush();
      round.push({ tookMs: Date.now() - calledAt, delivered: report.delivered, pending: report.pending, requests: report.requests, timedOut: report.timedOut });
      flushes++;
      totals.flushes++;
      totals.delivered += report.delivered;
      totals.failed += report.failed;
      totals.dropped += report.dropped;
      totals.retries += report.retries;
      totals.requests += report.requests;
      if (report.timedOut) totals.timedOut++;
      for (const r of report.reasons) {
        const key = `${r.fate} ${r.status ?? r.cause}`;
        totals.reasons[key] = (totals.reasons[key] ?? 0) + r.events;
      }
    } while (report.pending > 0 && flushes < maxFlushesPerRound);
    totals.pending = report.pending;
    if (report.pending > 0) break; // the test sees pending > 0 and fails
  }
  const stuck = totals.pending > 0 ? round : [];
  return { next, totals, stats: sdk.stats(), ms: Date.now() - started, stuck };
}
