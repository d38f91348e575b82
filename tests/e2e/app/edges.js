// Edge cases of "Reliability II", shared by Node (tests/e2e/edges.test.mjs
// runs them in a child process) and workerd (edges-worker.js runs them in a
// Worker request). Each scenario makes its own client, never throws, and
// returns what it saw; the test asserts. Every event carries `{seq: i}`.
import { transport } from "./transport.js";

const ORG = "demo-organization";
const PROJECT = "demo-project";
const SOURCE = "616010376811536384";
const HOUR = 3_600_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The fields of a flush report a test looks at. */
export const brief = (r) => ({
  delivered: r.delivered,
  failed: r.failed,
  dropped: r.dropped,
  pending: r.pending,
  retries: r.retries,
  requests: r.requests,
  timedOut: r.timedOut,
  reasons: r.reasons.map((x) => `${x.fate} ${x.status ?? "-"} ${x.message} (${x.events})`),
});

/**
 * A `logger` option that tells when the first 429 came back (the core logs
 * each answer as it reads it, whatever its transport): `got429` resolves to
 * that time (or to null after 15 s without one).
 */
function watch429() {
  let seen429;
  let timer;
  const got429 = new Promise((resolve) => {
    seen429 = resolve;
    timer = setTimeout(() => resolve(null), 15_000);
  }).finally(() => clearTimeout(timer));
  const logger = (line) => {
    if (/-> HTTP 429\b/.test(line)) seen429(Date.now());
  };
  return { logger, got429 };
}

/** One flush, timed. */
async function timedFlush(sdk) {
  const calledAt = Date.now();
  const report = await sdk.flush();
  const endedAt = Date.now();
  return { calledAt, endedAt, tookMs: endedAt - calledAt, ...brief(report) };
}

/**
 * Duplicates from a healthy (slow) server: `n` events, then flush() again
 * and again until nothing is pending. A flush after which pending did not
 * go down ends the loop (no progress: the test fails), as does `maxFlushes`.
 * batchTimeMs is the default, so full batches start background flushes too.
 */
export async function runDuplicates(SDK, { endpoint, apiKey, profile, n, maxBatchSize, flushDeadlineMs, maxFlushes }) {
  /** @type {import("intempt-edge").SDKOptions} */
  const options = { endpoint, ...transport() };
  if (flushDeadlineMs !== undefined) options.flushDeadlineMs = flushDeadlineMs;
  const sdk = new SDK(ORG, PROJECT, apiKey, SOURCE, undefined, maxBatchSize, options);
  const started = Date.now();
  const rejected = [];
  for (let seq = 0; seq < n; seq++) {
    try {
      await sdk.track(profile, "Edge", { seq });
    } catch (error) {
      rejected.push(`seq ${seq}: ${error?.code} ${error?.message}`);
    }
  }
  const flushes = [];
  for (let i = 0; i < maxFlushes; i++) {
    const before = sdk.stats();
    const pendingBefore = before.queued + before.inFlight;
    const flush = await timedFlush(sdk);
    flushes.push({ pendingBefore, ...flush });
    if (flush.pending === 0 || flush.pending >= pendingBefore) break;
  }
  return { rejected, flushes, stats: sdk.stats(), ms: Date.now() - started };
}

/**
 * A 429 with Retry-After 2 answers the first flush (deadline 5 s); right
 * after the answer, while that flush waits out the pause, more events are
 * tracked and a second flush is called. It must wait for the pause to end,
 * then deliver. The `fetch` option tells when the 429 came back.
 */
export async function runRetryAfterShort(SDK, { endpoint, apiKey, profile }) {
  const { logger, got429 } = watch429();
  const sdk = new SDK(ORG, PROJECT, apiKey, SOURCE, HOUR, 20, { endpoint, flushDeadlineMs: 5_000, logger, ...transport() });
  for (let seq = 0; seq < 5; seq++) await sdk.track(profile, "Edge", { seq });
  const first = timedFlush(sdk);
  const answeredAt = await got429;
  // A moment for the SDK to read the answer (the pause starts there).
  await sleep(20);
  for (let seq = 5; seq < 10; seq++) await sdk.track(profile, "Edge", { seq });
  const second = await timedFlush(sdk);
  return { answeredAt, first: await first, second, stats: sdk.stats() };
}

/**
 * A 429 with Retry-After 30 (the SDK caps it at 10 s) answers the first
 * flush (deadline 3 s); then flush() is called in a loop until nothing is
 * pending (at most `maxFlushes` times). No call may return at once.
 */
export async function runRetryAfterLong(SDK, { endpoint, apiKey, profile, maxFlushes = 8 }) {
  const { logger, got429 } = watch429();
  const sdk = new SDK(ORG, PROJECT, apiKey, SOURCE, HOUR, 20, { endpoint, flushDeadlineMs: 3_000, logger, ...transport() });
  for (let seq = 0; seq < 5; seq++) await sdk.track(profile, "Edge", { seq });
  const first = await timedFlush(sdk);
  const answeredAt = await got429;
  const loop = [];
  for (let i = 0; i < maxFlushes; i++) {
    const flush = await timedFlush(sdk);
    loop.push(flush);
    if (flush.pending === 0) break;
  }
  return { answeredAt, first, loop, stats: sdk.stats() };
}

/** consents()/consent() with empty-string email and message. */
export async function runConsent(SDK, { endpoint, apiKey, profile }) {
  const sdk = new SDK(ORG, PROJECT, apiKey, SOURCE, HOUR, 20, { endpoint, ...transport() });
  const calls = {
    consents: () => sdk.consents(profile, "accept", undefined, "", ""),
    consent: () => sdk.consent(profile, "reject", "marketing", 1711705256000, "", ""),
  };
  const results = {};
  for (const [name, call] of Object.entries(calls)) {
    try {
      results[name] = { resolved: true, value: (await call()) ?? null };
    } catch (error) {
      results[name] = { resolved: false, code: error?.code, message: error?.message };
    }
  }
  return results;
}

export const SCENARIOS = { duplicates: runDuplicates, "retry-after-short": runRetryAfterShort, "retry-after-long": runRetryAfterLong, consent: runConsent };
