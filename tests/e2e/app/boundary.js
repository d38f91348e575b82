// The JS↔wasm boundary under hostile callbacks ("Reliability II"), shared by
// the CLI runtimes (boundary-run.mjs: Node, Deno, Bun) and workerd
// (boundary-worker.js). Each function runs one scenario against the packed
// SDK and returns plain data; tests/e2e/boundary.test.mjs asserts on it.
//
//   hostileCase   A. one hostile `fetch` / `logger` / `waitUntil` / `debug`
//                    value: everything settles in time, then the same client
//                    delivers every queued event once the fetch is honest
//   foreign       B. a `fetch` whose Response is not the global class
//   redirects     C. 3xx answers (the ingest server's redirect fault), and a
//                    fetch that follows redirects although told not to
//   boundsItem    D. work before bounds: huge or lying arrays, holes, a huge
//                    validUntil — a prompt INVALID_ARGUMENT, no work, no memory
//   fuzz          E. thousands of clients whose callbacks are drawn from
//                    hostile variants, many at once, seeded (mulberry32)
//
// Nothing here throws out of a scenario: what went wrong is data. A
// `Recorder` collects what must stay empty: traps (a WebAssembly
// RuntimeError, "unreachable", "panicked"), unhandled rejections, uncaught
// exceptions (the runner wires the runtime's global handlers to it).

import { transport } from "./transport.js";
import { mulberry32 } from "./prng.js";

export const SOURCE = "616010376811536384";
export const SUSPICIOUS = /panicked|unreachable|RuntimeError|memory access out of bounds/i;
/** How late past its deadline a flush or a consent/choose call may settle. */
export const SLACK_MS = 250;
/** The first retry's backoff of a consent/choose call is at most this (the retry policy's base). */
export const AT_ONCE_BACKOFF_MS = 200;
/** A consent/choose call ends within its two attempts and the backoff between them. */
export const atOnceDeadline = (chooseTimeoutMs) => 2 * chooseTimeoutMs + AT_ONCE_BACKOFF_MS;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Text of any thrown value; never throws itself (Proxies, throwing getters…). */
export function describe(value) {
  try {
    if (value instanceof Error) return `${value.name}: ${String(value.message)}`.slice(0, 300);
  } catch {
    // a Proxy whose getPrototypeOf or get trap throws
  }
  try {
    return `${typeof value}: ${String(value)}`.slice(0, 300);
  } catch {
    return `${typeof value} (unprintable)`;
  }
}

/** A WebAssembly trap or a Rust panic, by class or by its text. */
export function isTrap(error) {
  try {
    if (typeof WebAssembly === "object" && error instanceof WebAssembly.RuntimeError) return true;
  } catch {
    // not inspectable: judged by its text
  }
  return SUSPICIOUS.test(describe(error));
}

/** Collects traps, unhandled rejections and uncaught exceptions, with samples. */
export class Recorder {
  constructor() {
    this.reset();
  }

  reset() {
    this.counts = { traps: 0, unhandled: 0, uncaught: 0 };
    this.samples = { traps: [], unhandled: [], uncaught: [] };
  }

  #add(kind, text) {
    this.counts[kind]++;
    if (this.samples[kind].length < 20) this.samples[kind].push(text);
  }

  trap(where, error) {
    this.#add("traps", `${where}: ${typeof error === "string" ? error.slice(0, 300) : describe(error)}`);
  }

  onUnhandled(reason) {
    this.#add("unhandled", describe(reason));
  }

  onUncaught(error) {
    this.#add("uncaught", describe(error));
  }

  /** The counts and samples so far; `reset` starts a new window. */
  take({ reset = false } = {}) {
    const out = { counts: { ...this.counts }, samples: structuredClone(this.samples) };
    if (reset) this.reset();
    return out;
  }
}

// ---------------------------------------------------------------------------
// Hostile values
// ---------------------------------------------------------------------------

const TRAPS = [
  "get",
  "set",
  "has",
  "deleteProperty",
  "ownKeys",
  "getOwnPropertyDescriptor",
  "defineProperty",
  "getPrototypeOf",
  "setPrototypeOf",
  "isExtensible",
  "preventExtensions",
  "apply",
  "construct",
];

/** A Proxy that throws on every trap (`overrides` replace some). */
export function throwingProxy(target = {}, overrides = {}) {
  const handler = {};
  for (const trap of TRAPS) {
    handler[trap] =
      overrides[trap] ??
      (() => {
        throw new Error(`hostile ${trap} trap`);
      });
  }
  return new Proxy(target, handler);
}

/** Throws on every trap except reading `then` (undefined): a promise can resolve to it. */
export const thenSafeProxy = (target = {}) =>
  throwingProxy(target, {
    get: (_, key) => {
      if (key === "then") return undefined;
      throw new Error(`hostile get trap (${String(key)})`);
    },
  });

/** An Error whose `message` is replaced by `descriptor`. */
function errorWith(descriptor) {
  const error = new Error("replaced");
  Object.defineProperty(error, "message", { configurable: true, ...descriptor });
  return error;
}

const ERROR_BODY = '{"errors":[{"message":"injected by the boundary test"}]}';

/** A plain 503 (retryable: the events must stay queued). */
const response503 = (init = {}) => new Response(ERROR_BODY, { status: 503, ...init, headers: { "content-type": "application/json", ...(init.headers ?? {}) } });

/** `response` with own properties replacing what the class would answer. */
function patched(response, props) {
  for (const [key, value] of Object.entries(props)) Object.defineProperty(response, key, { configurable: true, ...value });
  return response;
}

function headersWhoseGetThrows() {
  const headers = new Headers({ "content-type": "application/json" });
  Object.defineProperty(headers, "get", {
    value: () => {
      throw new Error("headers.get throws");
    },
  });
  return headers;
}

function statusThrowsResponse() {
  class StatusThrows extends Response {
    /** @returns {number} */
    get status() {
      throw new Error("status getter throws");
    }
  }
  return new StatusThrows(ERROR_BODY, { status: 503 });
}

// ---------------------------------------------------------------------------
// A. One hostile value per case
// ---------------------------------------------------------------------------

/** The options of a hostile case: short deadlines so a case takes about a second. */
export const CASE_OPTIONS = { flushDeadlineMs: 600, requestTimeoutMs: 200, chooseTimeoutMs: 200 };

/**
 * Each case's hostile part. `fetch` is used until the case turns it honest;
 * cases without one get a fetch that answers a plain 503 meanwhile (so
 * nothing is delivered and the logger sees failure lines too).
 */
export const HOSTILE_CASES = {
  "fetch-rejects-message-undefined": {
    title: "fetch rejects with an Error whose message is undefined",
    fetch: () => Promise.reject(errorWith({ value: undefined })),
  },
  "fetch-rejects-message-getter-throws": {
    title: "fetch rejects with an Error whose message getter throws",
    fetch: () =>
      Promise.reject(
        errorWith({
          get() {
            throw new Error("message getter throws");
          },
        }),
      ),
  },
  "fetch-rejects-message-42": { title: "fetch rejects with an Error whose message is 42", fetch: () => Promise.reject(errorWith({ value: 42 })) },
  "fetch-rejects-proxy": { title: "fetch rejects with a Proxy that throws on every trap", fetch: () => Promise.reject(throwingProxy()) },
  "fetch-throws": {
    title: "fetch throws synchronously",
    fetch: () => {
      throw new Error("fetch throws synchronously");
    },
  },
  "fetch-returns-non-promise": { title: "fetch returns a non-promise (42)", fetch: () => 42 },
  "fetch-never-settles": { title: "fetch returns a never-settling promise", fetch: () => new Promise(() => {}) },
  "fetch-resolves-null": { title: "fetch resolves to null", fetch: () => Promise.resolve(null) },
  "fetch-resolves-number": { title: "fetch resolves to a number", fetch: () => Promise.resolve(201) },
  "fetch-resolves-proxy": { title: "fetch resolves to a Proxy that throws on every trap", fetch: () => Promise.resolve(thenSafeProxy()) },
  "status-getter-throws": { title: "a Response subclass whose status getter throws", fetch: () => Promise.resolve(statusThrowsResponse()) },
  "headers-get-throws": { title: "headers.get throws", fetch: () => Promise.resolve(patched(response503(), { headers: { value: headersWhoseGetThrows() } })) },
  "text-throws": {
    title: "text() throws",
    fetch: () =>
      Promise.resolve(
        patched(response503(), {
          text: {
            value: () => {
              throw new Error("text() throws");
            },
          },
        }),
      ),
  },
  "text-never-settles": {
    title: "text() never settles",
    fetch: () => Promise.resolve(patched(response503(), { text: { value: () => new Promise(() => {}) } })),
  },
  "text-non-string": {
    title: "text() resolves to a non-string",
    fetch: () => Promise.resolve(patched(response503(), { text: { value: () => Promise.resolve(42) } })),
  },
  "debug-console-throws": { title: "debug: true while console.log throws", debug: true, consoleThrows: true },
  "logger-throws": {
    title: "a logger that throws",
    logger: () => {
      throw new Error("hostile logger");
    },
  },
  "wait-until-throws": {
    title: "a waitUntil that throws",
    waitUntil: () => {
      throw new Error("hostile waitUntil");
    },
  },
  "wait-until-rejects": { title: "a waitUntil that returns a rejecting promise", waitUntil: () => Promise.reject(new Error("hostile waitUntil rejection")) },
};

/** A flush report as data (read defensively: a broken report is a finding, not a crash). */
function reportData(report) {
  try {
    const fields = ["delivered", "failed", "dropped", "pending", "retries", "requests", "timedOut"];
    const out = Object.fromEntries(fields.map((k) => [k, report?.[k]]));
    out.reasons = Array.isArray(report?.reasons)
      ? report.reasons.map((r) => ({
          fate: r?.fate,
          status: r?.status,
          message: typeof r?.message === "string" ? r.message.slice(0, 300) : r?.message,
          events: r?.events,
        }))
      : report?.reasons;
    return out;
  } catch (error) {
    return { unreadable: describe(error) };
  }
}

/**
 * Calls `call()` (an SDK method that must return a promise) and waits for
 * it, at most `watchMs`. → { sync, notPromise, settled, resolved, value, error, ms }
 */
async function timed(call, watchMs) {
  const started = Date.now();
  let promise;
  try {
    promise = call();
  } catch (error) {
    return { sync: true, settled: true, resolved: false, error, ms: Date.now() - started };
  }
  if (!(promise instanceof Promise))
    return { notPromise: true, settled: true, resolved: false, error: new Error(`returned ${describe(promise)}`), ms: Date.now() - started };
  // How long the event loop was blocked meanwhile (a loaded machine, GC, the
  // other scenarios of this process): time in which no timer of the SDK's
  // could fire, reported beside `ms` so a deadline check can leave it out.
  let lagMs = 0;
  let last = Date.now();
  const probe = setInterval(() => {
    const now = Date.now();
    lagMs += Math.max(0, now - last - LAG_PROBE_MS);
    last = now;
  }, LAG_PROBE_MS);
  let timer;
  const watchdog = new Promise((resolve) => {
    timer = setTimeout(() => resolve({ settled: false }), watchMs);
  });
  const outcome = await Promise.race([
    promise.then(
      (value) => ({ settled: true, resolved: true, value }),
      (error) => ({ settled: true, resolved: false, error }),
    ),
    watchdog,
  ]);
  clearTimeout(timer);
  clearInterval(probe);
  lagMs += Math.max(0, Date.now() - last - LAG_PROBE_MS);
  return { ...outcome, ms: Date.now() - started, lagMs };
}
const LAG_PROBE_MS = 10;

/**
 * An outcome as data: how it ended, and for a rejection what the error was.
 * @param {(value: unknown) => unknown} [describeValue]
 */
function outcomeData(outcome, IntemptError, describeValue = () => undefined) {
  const out = { settled: outcome.settled, ms: outcome.ms, lagMs: outcome.lagMs };
  if (outcome.sync) out.sync = true;
  if (outcome.notPromise) out.notPromise = true;
  if (!outcome.settled) return out;
  out.resolved = outcome.resolved;
  if (outcome.resolved) {
    out.value = describeValue(outcome.value);
    return out;
  }
  const error = outcome.error;
  let isIntemptError = false;
  try {
    isIntemptError = error instanceof IntemptError;
  } catch {
    // a Proxy: not an IntemptError
  }
  out.error = {
    isIntemptError,
    code: isIntemptError ? error.code : undefined,
    status: isIntemptError ? error.status : undefined,
    message: isIntemptError && typeof error.message === "string" ? error.message.slice(0, 500) : describe(error),
    trap: isTrap(error),
  };
  return out;
}

const flushValue = (report) => reportData(report);
const chooseValue = (value) => ({ isArray: Array.isArray(value), length: Array.isArray(value) ? value.length : undefined });

/** Flushes until nothing is pending or in flight (at most `tries` flushes). */
async function drain(sdk, IntemptError, deadlineMs, tries = 8) {
  const flushes = [];
  for (let i = 0; i < tries; i++) {
    const outcome = outcomeData(await timed(() => sdk.flush(), deadlineMs + 2_000), IntemptError, flushValue);
    flushes.push(outcome);
    if (!outcome.resolved) break;
    let inFlight = -1;
    try {
      inFlight = sdk.stats().inFlight;
    } catch {
      // reported through stats below
    }
    if (outcome.value?.pending === 0 && inFlight === 0) break;
    await sleep(50);
  }
  return flushes;
}

function statsOf(sdk) {
  try {
    const s = sdk.stats();
    return { queued: s.queued, inFlight: s.inFlight, delivered: s.delivered, dropped: s.dropped, optedOut: s.optedOut };
  } catch (error) {
    return { error: describe(error), trap: isTrap(error) };
  }
}

/**
 * A. One case: a client with the case's hostile value, 3 tracked events, a
 * flush and a consent and a choose call while it is hostile; then its fetch
 * turns honest and the same client must deliver the 3 events and answer
 * consent/choose again.
 */
export async function hostileCase(SDK, IntemptError, { endpoint, apiKey, id, profile, recorder }) {
  const spec = HOSTILE_CASES[id];
  if (!spec) throw new Error(`unknown case ${id}`);
  const counts = { fetch: 0, hostileFetch: 0, logger: 0, waitUntil: 0, waitUntilNoPromise: 0, console: 0 };
  const result = { id, title: spec.title, options: CASE_OPTIONS, counts, accepted: 0, trackErrors: [] };
  let honest = false;
  const hostileFetch = spec.fetch ?? (() => Promise.resolve(response503()));
  /** @type {import("intempt-edge").SDKOptions} */
  const options = {
    endpoint,
    ...CASE_OPTIONS,
    fetch: (url, init) => {
      counts.fetch++;
      if (honest) return fetch(url, init);
      counts.hostileFetch++;
      return hostileFetch(url, init);
    },
  };
  if (spec.logger) {
    options.logger = (line) => {
      counts.logger++;
      if (typeof line !== "string" || SUSPICIOUS.test(line)) recorder.trap("logger line", String(line));
      return spec.logger(line);
    };
  }
  if (spec.waitUntil) {
    options.waitUntil = (promise) => {
      counts.waitUntil++;
      if (!(promise instanceof Promise)) counts.waitUntilNoPromise++;
      return spec.waitUntil(promise);
    };
  }
  if (spec.debug) options.debug = true;
  const originalLog = console.log;
  if (spec.consoleThrows) {
    console.log = (...args) => {
      counts.console++;
      if (args.some((a) => typeof a === "string" && SUSPICIOUS.test(a))) recorder.trap("debug line", String(args[0]));
      throw new Error("hostile console.log");
    };
  }
  try {
    let sdk;
    try {
      // A batch timer of 10 ms when the case is about waitUntil: the timer's
      // background flush is what the SDK hands to waitUntil.
      sdk = new SDK("demo-organization", "demo-project", apiKey, SOURCE, spec.waitUntil ? 10 : 3_600_000, 20, options);
    } catch (error) {
      result.constructError = describe(error);
      if (isTrap(error)) recorder.trap("constructor", error);
      return result;
    }
    for (let seq = 0; seq < 3; seq++) {
      const outcome = outcomeData(await timed(() => sdk.track(profile, "Boundary Hostile", { seq }), 5_000), IntemptError);
      if (outcome.resolved) result.accepted++;
      else result.trackErrors.push(outcome);
      if (outcome.error?.trap) recorder.trap("track", outcome.error.message);
    }
    if (spec.waitUntil) await sleep(80); // the batch timer fires: a background flush, handed to waitUntil
    const deadline = CASE_OPTIONS.flushDeadlineMs;
    const atOnce = atOnceDeadline(CASE_OPTIONS.chooseTimeoutMs);
    result.hostile = {};
    result.hostile.flush = outcomeData(await timed(() => sdk.flush(), deadline + 2_000), IntemptError, flushValue);
    const [consent, choose] = await Promise.all([
      timed(() => sdk.consents(profile, "accept"), atOnce + 2_000),
      timed(() => sdk.choosePersonalizationsByGroups(profile, ["banner"]), atOnce + 2_000),
    ]);
    result.hostile.consent = outcomeData(consent, IntemptError);
    result.hostile.choose = outcomeData(choose, IntemptError, chooseValue);
    result.hostile.stats = statsOf(sdk);

    honest = true;
    result.honest = {};
    result.honest.flushes = await drain(sdk, IntemptError, deadline);
    const [consent2, choose2] = await Promise.all([
      timed(() => sdk.consents(profile, "accept"), atOnce + 2_000),
      timed(() => sdk.choosePersonalizationsByGroups(profile, ["banner"]), atOnce + 2_000),
    ]);
    result.honest.consent = outcomeData(consent2, IntemptError);
    result.honest.choose = outcomeData(choose2, IntemptError, chooseValue);
    result.honest.stats = statsOf(sdk);
    for (const o of [
      result.hostile.flush,
      result.hostile.consent,
      result.hostile.choose,
      ...result.honest.flushes,
      result.honest.consent,
      result.honest.choose,
    ]) {
      if (o.error?.trap) recorder.trap("call", o.error.message);
    }
    return result;
  } finally {
    console.log = originalLog;
  }
}

// ---------------------------------------------------------------------------
// B. Foreign Response classes
// ---------------------------------------------------------------------------

/** Wraps the global fetch; answers a plain object of the Response shape. */
export const plainObjectFetch = async (url, init) => {
  const response = await fetch(url, init);
  const body = await response.text();
  return { status: response.status, headers: { get: (name) => response.headers.get(name) }, text: () => Promise.resolve(body) };
};

/**
 * B. 3 rounds of 10 events through `fetchImpl`, each round one flush (one
 * request): every 201 must count as delivered, nothing re-sent, the queue
 * empty.
 */
export async function foreign(SDK, IntemptError, { endpoint, apiKey, profile, fetchImpl }) {
  const counts = { fetch: 0 };
  const sdk = new SDK("demo-organization", "demo-project", apiKey, SOURCE, 3_600_000, 20, {
    endpoint,
    flushDeadlineMs: 3_000,
    requestTimeoutMs: 1_000,
    fetch: (url, init) => {
      counts.fetch++;
      return fetchImpl(url, init);
    },
  });
  let accepted = 0;
  const flushes = [];
  for (let round = 0; round < 3; round++) {
    for (let seq = round * 10; seq < round * 10 + 10; seq++) {
      await sdk.track(profile, "Boundary Foreign", { seq });
      accepted++;
    }
    flushes.push(outcomeData(await timed(() => sdk.flush(), 10_000), IntemptError, flushValue));
  }
  return { accepted, flushes, counts, stats: statsOf(sdk) };
}

// ---------------------------------------------------------------------------
// C. Redirects
// ---------------------------------------------------------------------------

export const REDIRECT_OPTIONS = { flushDeadlineMs: 500, requestTimeoutMs: 300, chooseTimeoutMs: 250 };

async function controlPost(endpoint, name, body) {
  const response = await fetch(`${endpoint}/_intempt/${name}`, { method: "POST", body: JSON.stringify(body) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`POST /_intempt/${name}: ${response.status} ${text}`);
}

async function controlGet(endpoint, name) {
  const response = await fetch(`${endpoint}/_intempt/${name}`);
  return response.json();
}

/** A fetch that follows redirects whatever the SDK asked (`redirect: "follow"`). */
export const followingFetch = (url, init) => fetch(url, { method: init.method, headers: init.headers, body: init.body, redirect: "follow" });

/**
 * C. For each status: every request to the server answers it with a
 * Location on the same server; 3 tracked events, a flush, a consent and a
 * choose call; which redirect targets were hit; then the server is healthy
 * and the same client flushes again. `follow`: the statuses to repeat with
 * a fetch that follows redirects anyway.
 */
export async function redirects(SDK, IntemptError, { endpoint, apiKey, runtime, statuses, follow = [] }) {
  const results = [];
  const plan = [...statuses.map((status) => ({ status, following: false })), ...follow.map((status) => ({ status, following: true }))];
  for (const { status, following } of plan) {
    const location = `/moved-${runtime}-${status}${following ? "-followed" : ""}`;
    const profile = `redirect-${runtime}-${status}${following ? "-followed" : ""}`;
    await controlPost(endpoint, "faults", { random: { seed: 1, probability: 1, modes: [{ status, location }] } });
    const result = { status, following, location, profile, accepted: 0 };
    results.push(result);
    const options = { endpoint, ...REDIRECT_OPTIONS, ...transport() };
    if (following) options.fetch = followingFetch;
    const sdk = new SDK("demo-organization", "demo-project", apiKey, SOURCE, 3_600_000, 20, options);
    for (let seq = 0; seq < 3; seq++) {
      await sdk.track(profile, "Boundary Redirect", { seq });
      result.accepted++;
    }
    const atOnce = atOnceDeadline(REDIRECT_OPTIONS.chooseTimeoutMs);
    result.flush = outcomeData(await timed(() => sdk.flush(), REDIRECT_OPTIONS.flushDeadlineMs + 2_000), IntemptError, flushValue);
    result.stats = statsOf(sdk);
    const [consent, choose] = await Promise.all([
      timed(() => sdk.consents(profile, "accept"), atOnce + 2_000),
      timed(() => sdk.chooseExperimentsByGroups(profile, ["banner"]), atOnce + 2_000),
    ]);
    result.consent = outcomeData(consent, IntemptError);
    result.choose = outcomeData(choose, IntemptError, chooseValue);
    result.hits = (await controlGet(endpoint, "redirects")).filter((h) => h.path === location).map((h) => ({ method: h.method, path: h.path }));
    await controlPost(endpoint, "faults", {});
    result.later = await drain(sdk, IntemptError, REDIRECT_OPTIONS.flushDeadlineMs);
    result.laterStats = statsOf(sdk);
  }
  return results;
}

// ---------------------------------------------------------------------------
// D. Work before bounds
// ---------------------------------------------------------------------------

/** Each item: one call that must return a promise rejecting at once with INVALID_ARGUMENT. */
export const BOUNDS_ITEMS = {
  "groups-array-2e8": {
    title: "choosePersonalizationsByGroups(p, new Array(2e8))",
    length: 2e8,
    call: (sdk) => sdk.choosePersonalizationsByGroups("p1", new Array(2e8)),
  },
  "groups-array-3e7": {
    title: "choosePersonalizationsByGroups(p, new Array(3e7))",
    length: 3e7,
    call: (sdk) => sdk.choosePersonalizationsByGroups("p1", new Array(3e7)),
  },
  "groups-proxy-length-1e9": {
    title: "choosePersonalizationsByGroups(p, a Proxy of an array whose length says 1e9)",
    length: 1e9,
    call: (sdk) =>
      sdk.choosePersonalizationsByGroups(
        "p1",
        new Proxy([], { get: (target, key, receiver) => (key === "length" ? 1e9 : Reflect.get(target, key, receiver)) }),
      ),
  },
  // biome-ignore lint/suspicious/noSparseArray: the hole is what this case sends
  "names-hole": { title: 'chooseExperimentsByNames(p, ["a", , "b"])', hole: "names", call: (sdk) => sdk.chooseExperimentsByNames("p1", ["a", , "b"]) },
  "groups-hole": {
    title: 'choosePersonalizationsByGroups(p, ["a", , "b"])',
    hole: "groups",
    // biome-ignore lint/suspicious/noSparseArray: the hole is what this case sends
    call: (sdk) => sdk.choosePersonalizationsByGroups("p1", ["a", , "b"]),
  },
  "valid-until-2m": {
    title: 'consents(p, "accept", a 2,000,000-character validUntil)',
    longString: true,
    call: (sdk) => sdk.consents("p1", "accept", "9".repeat(2_000_000)),
  },
};

/**
 * D. One item: was a promise returned (nothing thrown synchronously), how
 * fast it rejected and with what; how much the wasm memory grew
 * (`memory()` → bytes, or null where it cannot be seen); no request sent.
 */
export async function boundsItem(SDK, IntemptError, { endpoint, apiKey, item, memory = () => null }) {
  const spec = BOUNDS_ITEMS[item];
  if (!spec) throw new Error(`unknown item ${item}`);
  const counts = { fetch: 0 };
  const sdk = new SDK("demo-organization", "demo-project", apiKey, SOURCE, 3_600_000, 20, {
    endpoint,
    chooseTimeoutMs: 2_000,
    fetch: () => {
      counts.fetch++;
      return Promise.resolve(new Response('{"choices":[]}', { status: 200, headers: { "content-type": "application/json" } }));
    },
  });
  // Warm up the code paths (a valid choose and consent), so the memory figure is the item's alone.
  await sdk.choosePersonalizationsByGroups("p1", ["banner"]);
  await sdk.consents("p1", "accept", "unlimited");
  counts.fetch = 0;
  const memoryBefore = memory();
  const started = Date.now();
  let promise;
  let syncError;
  try {
    promise = spec.call(sdk);
  } catch (error) {
    syncError = error;
  }
  const returnedMs = Date.now() - started;
  const result = { item, title: spec.title, returnedMs, memoryBefore };
  if (syncError !== undefined) {
    result.threwSync = describe(syncError);
    result.trap = isTrap(syncError);
  } else if (!(promise instanceof Promise)) {
    result.notPromise = describe(promise);
  } else {
    let timer;
    const outcome = await Promise.race([
      promise.then(
        (value) => ({ settled: true, resolved: true, value }),
        (error) => ({ settled: true, resolved: false, error }),
      ),
      new Promise((resolve) => {
        timer = setTimeout(() => resolve({ settled: false }), 10_000);
      }),
    ]);
    clearTimeout(timer);
    result.outcome = outcomeData({ ...outcome, ms: Date.now() - started }, IntemptError, (v) => describe(v));
  }
  result.memoryAfter = memory();
  result.requests = counts.fetch; // requests the item made (the check below makes one)
  // The client still works afterwards.
  result.after = outcomeData(await timed(() => sdk.choosePersonalizationsByGroups("p1", ["banner"]), 5_000), IntemptError, chooseValue);
  return result;
}

// ---------------------------------------------------------------------------
// E. The boundary fuzz
// ---------------------------------------------------------------------------

export const FUZZ_OPTIONS = { flushDeadlineMs: 300, requestTimeoutMs: [100, 200], chooseTimeoutMs: 150 };
/** The batch time of runs without waitUntil: longer than any run lasts. */
const FUZZ_IDLE_BATCH_MS = 30_000;

const real = (url, init) => fetch(url, init);
const text503 = (text, extra = {}) => patched(response503(), { text: { value: text }, ...extra });
const WEIRD_STATUS = (status) => ({ status, headers: { get: () => null }, text: () => Promise.resolve(ERROR_BODY) });

/**
 * Fetch variants. `server`: they reach the ingest server and answer what it
 * said, in another shape (the events are delivered). `retry`: no request
 * reaches the server and the answer can only mean "not delivered, try
 * again" (errors, nonsense, broken Responses, 5xx/408/429, 3xx, a followed
 * redirect). `any`: also answers a careful SDK may drop the events for
 * (4xx, statuses that are not HTTP statuses): used only by runs whose fetch
 * never reaches the server before they turn honest.
 */
const FETCH_VARIANTS = {
  server: {
    honest: real,
    "plain-object": plainObjectFetch,
    subclass: async (url, init) => {
      const response = await fetch(url, init);
      class Sub extends Response {}
      return new Sub(await response.text(), { status: response.status, headers: response.headers });
    },
    undici: (url, init, extra) => (extra.undici ? extra.undici(url, init) : fetch(url, init)),
  },
  retry: {
    "throw-error": () => {
      throw new Error("fetch throws");
    },
    "throw-string": () => {
      throw "a string";
    },
    "throw-symbol": () => {
      throw Symbol("thrown");
    },
    "throw-proxy": () => {
      throw throwingProxy();
    },
    "throw-undefined": () => {
      throw undefined;
    },
    "reject-message-undefined": () => Promise.reject(errorWith({ value: undefined })),
    "reject-message-getter": () =>
      Promise.reject(
        errorWith({
          get() {
            throw new Error("message getter");
          },
        }),
      ),
    "reject-message-42": () => Promise.reject(errorWith({ value: 42 })),
    "reject-name-getter": () =>
      Promise.reject(
        Object.defineProperty(new TypeError("x"), "name", {
          get() {
            throw new Error("name getter");
          },
        }),
      ),
    "reject-proxy": () => Promise.reject(throwingProxy()),
    "reject-error-proxy": () => Promise.reject(throwingProxy(new Error("target"))),
    "reject-symbol": () => Promise.reject(Symbol("rejected")),
    "reject-null": () => Promise.reject(null),
    "reject-undefined": () => Promise.reject(undefined),
    "reject-to-string-throws": () =>
      Promise.reject({
        toString() {
          throw new Error("toString");
        },
        [Symbol.toPrimitive]() {
          throw new Error("toPrimitive");
        },
      }),
    "reject-abort": () => Promise.reject(new DOMException("aborted", "AbortError")),
    "reject-huge-message": () => Promise.reject(new Error("m".repeat(1 << 20))),
    "return-42": () => 42,
    "return-null": () => null,
    "return-undefined": () => undefined,
    "return-string": () => "a string",
    "return-object": () => ({}),
    "return-proxy": () => throwingProxy(),
    "never-settles": () => new Promise(() => {}),
    "resolve-null": () => Promise.resolve(null),
    "resolve-42": () => Promise.resolve(42),
    "resolve-string": () => Promise.resolve("201"),
    "resolve-array": () => Promise.resolve([201]),
    "resolve-object": () => Promise.resolve({}),
    "resolve-proxy": () => Promise.resolve(thenSafeProxy()),
    "thenable-throws": () => ({
      // biome-ignore lint/suspicious/noThenProperty: a hostile thenable is the case
      then() {
        throw new Error("then throws");
      },
    }),
    // biome-ignore lint/suspicious/noThenProperty: a thenable that never settles is the case
    "thenable-never": () => ({ then() {} }),
    "status-503": () => Promise.resolve(response503()),
    "status-500": () => Promise.resolve(new Response("", { status: 500 })),
    "status-502-html": () => Promise.resolve(new Response("<html>bad gateway</html>", { status: 502, headers: { "content-type": "text/html" } })),
    "status-408": () => Promise.resolve(new Response("", { status: 408 })),
    "status-429-retry-after-0": () => Promise.resolve(new Response("", { status: 429, headers: { "retry-after": "0" } })),
    "status-429-retry-after-garbage": () => Promise.resolve(new Response("", { status: 429, headers: { "retry-after": "soon, or \u00ff" } })),
    "status-503-retry-after-huge-garbage": () => Promise.resolve(response503({ headers: { "retry-after": "x".repeat(100_000) } })),
    "status-getter-throws": () => Promise.resolve(statusThrowsResponse()),
    "headers-null": () => Promise.resolve(patched(response503(), { headers: { value: null } })),
    "headers-42": () => Promise.resolve(patched(response503(), { headers: { value: 42 } })),
    "headers-get-throws": () => Promise.resolve(patched(response503(), { headers: { value: headersWhoseGetThrows() } })),
    "headers-getter-throws": () =>
      Promise.resolve(
        patched(response503(), {
          headers: {
            get() {
              throw new Error("headers getter");
            },
          },
        }),
      ),
    "headers-get-returns-42": () => Promise.resolve(patched(response503(), { headers: { value: { get: () => 42 } } })),
    "headers-get-returns-proxy": () => Promise.resolve(patched(response503(), { headers: { value: { get: () => throwingProxy() } } })),
    "text-throws": () =>
      Promise.resolve(
        text503(() => {
          throw new Error("text throws");
        }),
      ),
    "text-rejects": () => Promise.resolve(text503(() => Promise.reject(throwingProxy()))),
    "text-never": () => Promise.resolve(text503(() => new Promise(() => {}))),
    "text-42": () => Promise.resolve(text503(() => Promise.resolve(42))),
    "text-null": () => Promise.resolve(text503(() => Promise.resolve(null))),
    "text-object": () => Promise.resolve(text503(() => Promise.resolve({ errors: [] }))),
    "text-proxy": () => Promise.resolve(text503(() => Promise.resolve(thenSafeProxy()))),
    "text-huge": () => Promise.resolve(text503(() => Promise.resolve(`{"errors":[{"message":"${"e".repeat(2 << 20)}"}]}`))),
    "text-not-function": () => Promise.resolve(patched(response503(), { text: { value: "text" } })),
    "text-returns-non-promise": () => Promise.resolve(text503(() => ERROR_BODY)),
    "proxy-response": () => Promise.resolve(thenSafeProxy(response503())),
    "plain-503": () => Promise.resolve({ status: 503, headers: { get: () => null }, text: () => Promise.resolve(ERROR_BODY) }),
    ...Object.fromEntries(
      [300, 301, 302, 303, 304, 307, 308].map((status) => [
        `redirect-${status}`,
        () => Promise.resolve(new Response(null, { status, headers: { location: "/moved" } })),
      ]),
    ),
    "followed-redirect": () => Promise.resolve(patched(new Response('{"choices":[]}', { status: 200 }), { redirected: { value: true } })),
    "followed-redirect-plain": () => Promise.resolve({ status: 201, redirected: true, headers: { get: () => null }, text: () => Promise.resolve("") }),
  },
  any: {
    "status-400": () => Promise.resolve(new Response('{"errors":[{"message":"bad"}]}', { status: 400 })),
    "status-401": () => Promise.resolve(new Response("", { status: 401 })),
    "status-404": () => Promise.resolve(new Response("", { status: 404 })),
    "status-413": () => Promise.resolve(new Response("", { status: 413 })),
    "status-501": () => Promise.resolve(new Response("", { status: 501 })),
    "response-error": () => Promise.resolve(Response.error()),
    "status-string-503": () => Promise.resolve(WEIRD_STATUS("503")),
    "status-nan": () => Promise.resolve(WEIRD_STATUS(NaN)),
    "status-negative": () => Promise.resolve(WEIRD_STATUS(-1)),
    "status-0": () => Promise.resolve(WEIRD_STATUS(0)),
    "status-99": () => Promise.resolve(WEIRD_STATUS(99)),
    "status-600": () => Promise.resolve(WEIRD_STATUS(600)),
    "status-1e9": () => Promise.resolve(WEIRD_STATUS(1e9)),
    "status-symbol": () => Promise.resolve(WEIRD_STATUS(Symbol("status"))),
    "status-null": () => Promise.resolve(WEIRD_STATUS(null)),
    "status-bigint": () => Promise.resolve(WEIRD_STATUS(503n)),
  },
};
const SERVER = Object.entries(FETCH_VARIANTS.server);
const RETRY = Object.entries(FETCH_VARIANTS.retry);
const ANY = [...RETRY, ...Object.entries(FETCH_VARIANTS.any)];
export const FETCH_VARIANT_NAMES = [...SERVER, ...ANY].map(([name]) => name);

const LOGGERS = ["honest", "throws", "throws-symbol", "throws-proxy", "rejects", "reenters", "proxy-function"];
const WAIT_UNTILS = ["honest", "throws", "rejects", "returns-42", "reenters", "proxy-function"];

/** Per run, its own PRNG (so a run is the same whatever runs beside it). */
const runRng = (seed, i) => mulberry32((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b)) >>> 0);

class FuzzTotals {
  constructor() {
    this.runs = 0;
    this.accepted = 0;
    this.delivered = 0;
    this.dropped = 0;
    this.pending = 0;
    this.flushes = 0;
    this.atOnce = 0;
    this.fetchCalls = 0;
    this.loggerCalls = 0;
    this.waitUntilCalls = 0;
    this.modes = { honest: 0, fixed: 0, mixed: 0 };
    this.background = 0;
    this.maxFlushMs = 0;
    this.maxAtOnceMs = 0;
    this.variants = {};
    this.atOnceOutcomes = {};
    this.problems = {};
    this.problemSamples = [];
    /** How long the event loop was blocked during [from, until] (set while `fuzz` runs). @type {((from: number, until: number) => number) | undefined} */
    this.lagDuring;
  }

  problem(kind, run, detail) {
    this.problems[kind] = (this.problems[kind] ?? 0) + 1;
    if (this.problemSamples.length < 40) this.problemSamples.push(`${kind} (run ${run.i}, ${run.describe()}): ${detail}`.slice(0, 500));
  }
}

/**
 * E. Runs `from`..`to`-1 with `concurrency` clients at a time. Returns the
 * totals, problem samples and one compact record per run ([profile,
 * accepted, delivered, dropped, pending, mode]) for the server-side check.
 */
export async function fuzz(
  SDK,
  IntemptError,
  { endpoint, apiKey, seed, from, to, concurrency = 64, runtime = "?", extra = {}, recorder, memory = () => null },
) {
  const memoryBefore = memory();
  const totals = new FuzzTotals();
  /** [when, how long] the event loop was blocked ≥ 20 ms: printed beside a late call. */
  const lags = [];
  // How long the loop was blocked in all during [from, until]: every block
  // delays the SDK's timers, so they add up (on a busy machine several 60–85
  // ms blocks fell inside one 650 ms flush; the largest alone did not cover them).
  totals.lagDuring = (from, until) => lags.filter(([t, lag]) => t >= from && t - lag <= until).reduce((sum, [, lag]) => sum + lag, 0);
  const perRun = [];
  const started = Date.now();
  // Event-loop lag, so a late flush can be told apart from a blocked loop.
  let maxLagMs = 0;
  let last = Date.now();
  const lagTimer = setInterval(() => {
    const now = Date.now();
    const lag = now - last - 20;
    maxLagMs = Math.max(maxLagMs, lag);
    if (lag >= 20) lags.push([now, lag]);
    if (lags.length > 1_000) lags.splice(0, 500);
    last = now;
  }, 20);
  const originalLog = console.log;
  let consoleCalls = 0;
  // debug: true runs log through console.log, which throws on every other line meanwhile.
  console.log = (...args) => {
    consoleCalls++;
    if (args.some((a) => typeof a === "string" && SUSPICIOUS.test(a))) recorder.trap("debug line", String(args[0]));
    if (consoleCalls % 2) throw new Error("hostile console.log");
  };
  try {
    let next = from;
    const worker = async () => {
      while (next < to) {
        const i = next++;
        try {
          await fuzzRun(SDK, IntemptError, { endpoint, apiKey, seed, i, runtime, extra, recorder, totals, perRun });
        } catch (error) {
          totals.problem("runner", { i, describe: () => "?" }, describe(error));
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    console.log = originalLog;
    clearInterval(lagTimer);
  }
  delete totals.lagDuring;
  return { totals, perRun, consoleCalls, maxLagMs, ms: Date.now() - started, wasmMemory: [memoryBefore, memory()] };
}

async function fuzzRun(SDK, IntemptError, { endpoint, apiKey, seed, i, runtime, extra, recorder, totals, perRun }) {
  const rng = runRng(seed, i);
  const pick = (list) => list[Math.floor(rng() * list.length)];
  const profile = `fz-${runtime}-${seed}-${i}`;
  const r = rng();
  const mode = r < 0.25 ? "honest" : r < 0.6 ? "fixed" : "mixed";
  const fixed = mode === "fixed" ? pick(ANY) : null;
  const requestTimeoutMs = pick(FUZZ_OPTIONS.requestTimeoutMs);
  const events = 1 + Math.floor(rng() * 4);
  const maxBatchSize = rng() < 0.15 ? pick([1, 2]) : 20;
  const waitUntilKind = rng() < 0.3 ? pick(WAIT_UNTILS) : "none";
  const loggerKind = rng() < 0.35 ? pick(LOGGERS) : "none";
  const debug = loggerKind === "none" && rng() < 0.25;
  const atOnceKind =
    rng() < 0.3
      ? pick(["consents", "choosePersonalizationsByGroups", "choosePersonalizationsByNames", "chooseExperimentsByGroups", "chooseExperimentsByNames"])
      : null;
  const atOnceWithFlush = rng() < 0.5;
  // A background flush (its report unseen): a batch timer handed to waitUntil, or a full batch.
  const background = waitUntilKind !== "none" || maxBatchSize <= events + (loggerKind === "reenters" ? 1 : 0);
  const run = {
    i,
    describe: () =>
      `mode=${mode}${fixed ? `:${fixed[0]}` : ""} logger=${loggerKind} waitUntil=${waitUntilKind} debug=${debug} batch=${maxBatchSize} events=${events} used=[${[...used].join(",")}]`,
  };
  const used = new Set();
  const flushReports = [];
  const pendingPromises = [];
  let honest = false;
  let accepted = 0;
  let reentered = 0;
  let sdk;
  totals.runs++;
  totals.modes[mode]++;
  if (background) totals.background++;

  const track = async (title, seq) => {
    const outcome = await timed(() => sdk.track(profile, title, { seq }), 5_000);
    if (!outcome.settled) totals.problem("track-never-settled", run, title);
    else if (outcome.sync || outcome.notPromise) totals.problem(isTrap(outcome.error) ? "trap" : "sync-throw", run, `track: ${describe(outcome.error)}`);
    else if (outcome.resolved) accepted++;
    else totals.problem(isTrap(outcome.error) ? "trap" : "track-rejected", run, describe(outcome.error));
  };

  /** A timed flush: settled in time, resolved with a report. */
  const flush = async (where) => {
    const outcome = await timed(() => sdk.flush(), FUZZ_OPTIONS.flushDeadlineMs + 1_000);
    totals.flushes++;
    totals.maxFlushMs = Math.max(totals.maxFlushMs, outcome.ms);
    if (!outcome.settled) totals.problem("flush-never-settled", run, where);
    else if (outcome.sync || outcome.notPromise)
      totals.problem(isTrap(outcome.error) ? "trap" : "sync-throw", run, `${where} flush: ${describe(outcome.error)}`);
    else if (!outcome.resolved) totals.problem(isTrap(outcome.error) ? "trap" : "flush-rejected", run, `${where}: ${describe(outcome.error)}`);
    else {
      // As for at-once calls below: a blocked event loop's time is not the SDK's.
      const lag = totals.lagDuring(Date.now() - outcome.ms, Date.now());
      if (outcome.ms - lag > FUZZ_OPTIONS.flushDeadlineMs + SLACK_MS) {
        totals.problem("flush-late", run, `${where} flush took ${outcome.ms} ms (event loop blocked ${lag} ms in all meanwhile)`);
      }
      const report = outcome.value;
      if (typeof report?.delivered !== "number" || typeof report?.pending !== "number" || typeof report?.dropped !== "number")
        totals.problem("flush-no-report", run, describe(report));
      else {
        flushReports.push(report);
        for (const reason of report.reasons ?? []) if (SUSPICIOUS.test(String(reason?.message))) totals.problem("trap", run, `reason: ${reason.message}`);
      }
      return report;
    }
    return undefined;
  };

  const fetchImpl = (url, init) => {
    totals.fetchCalls++;
    if (honest) return fetch(url, init);
    const [name, variant] = mode === "fixed" ? fixed : mode === "honest" ? pick(SERVER) : rng() < 0.4 ? pick(SERVER) : pick(RETRY);
    used.add(name);
    totals.variants[name] = (totals.variants[name] ?? 0) + 1;
    return variant(url, init, extra);
  };
  const options = {
    endpoint,
    flushDeadlineMs: FUZZ_OPTIONS.flushDeadlineMs,
    requestTimeoutMs,
    chooseTimeoutMs: FUZZ_OPTIONS.chooseTimeoutMs,
    fetch: fetchImpl,
  };
  if (debug) options.debug = true;
  if (loggerKind !== "none") {
    const logger = (line) => {
      totals.loggerCalls++;
      if (typeof line !== "string" || SUSPICIOUS.test(line)) totals.problem("trap", run, `log line: ${describe(line)}`);
      switch (loggerKind) {
        case "throws":
          throw new Error("hostile logger");
        case "throws-symbol":
          throw Symbol("hostile logger");
        case "throws-proxy":
          throw throwingProxy();
        case "rejects": // an async logger that fails
          return Promise.reject(new Error("hostile logger rejection"));
        case "reenters":
          sdk.stats();
          if (!honest && reentered++ === 0) pendingPromises.push(track("Boundary Reentrant", 100));
          return undefined;
        default:
          return undefined;
      }
    };
    options.logger =
      loggerKind === "proxy-function"
        ? new Proxy(logger, {
            get: () => {
              throw new Error("hostile logger get trap");
            },
          })
        : logger;
  }
  if (waitUntilKind !== "none") {
    const waitUntil = (promise) => {
      totals.waitUntilCalls++;
      switch (waitUntilKind) {
        case "honest":
          if (promise instanceof Promise)
            pendingPromises.push(
              promise.then(
                () => {},
                (error) => totals.problem("background-rejected", run, describe(error)),
              ),
            );
          else totals.problem("wait-until-no-promise", run, describe(promise));
          return undefined;
        case "throws":
          throw new Error("hostile waitUntil");
        case "rejects":
          return Promise.reject(new Error("hostile waitUntil rejection"));
        case "returns-42":
          return 42;
        case "reenters":
          sdk.stats();
          if (!honest && reentered++ === 0) pendingPromises.push(flush("waitUntil reentrant"));
          return undefined;
        default:
          return undefined;
      }
    };
    options.waitUntil =
      waitUntilKind === "proxy-function"
        ? new Proxy(waitUntil, {
            get: () => {
              throw new Error("hostile waitUntil get trap");
            },
          })
        : waitUntil;
  }

  try {
    // Without waitUntil the batch timer must not fire during the run (its flush's report would be
    // unseen); 30 s outlasts any run. (An armed timer holds its client until it fires: a longer one
    // would keep thousands of finished clients alive.)
    sdk = new SDK(
      "demo-organization",
      "demo-project",
      apiKey,
      SOURCE,
      waitUntilKind !== "none" ? 1 + Math.floor(rng() * 5) : FUZZ_IDLE_BATCH_MS,
      maxBatchSize,
      options,
    );
  } catch (error) {
    totals.problem(isTrap(error) ? "trap" : "constructor", run, describe(error));
    return;
  }
  for (let seq = 0; seq < events; seq++) await track("Boundary Fuzz", seq);

  const atOnce = async () => {
    if (!atOnceKind) return;
    totals.atOnce++;
    const call = atOnceKind === "consents" ? () => sdk.consents(profile, "accept") : () => sdk[atOnceKind](profile, ["banner"]);
    const deadline = atOnceDeadline(FUZZ_OPTIONS.chooseTimeoutMs);
    const outcome = await timed(call, deadline + 1_000);
    totals.maxAtOnceMs = Math.max(totals.maxAtOnceMs, outcome.ms);
    const key = (k) => (totals.atOnceOutcomes[k] = (totals.atOnceOutcomes[k] ?? 0) + 1);
    if (!outcome.settled) return totals.problem("at-once-never-settled", run, atOnceKind);
    if (outcome.sync || outcome.notPromise)
      return totals.problem(isTrap(outcome.error) ? "trap" : "sync-throw", run, `${atOnceKind}: ${describe(outcome.error)}`);
    // Late only by the SDK's doing: time the event loop was blocked (the
    // harness's own work, GC, a loaded machine) is time no timer could fire.
    const lag = totals.lagDuring(Date.now() - outcome.ms, Date.now());
    if (outcome.ms - lag > deadline + SLACK_MS)
      totals.problem("at-once-late", run, `${atOnceKind} took ${outcome.ms} ms (event loop blocked ${lag} ms in all meanwhile)`);
    if (outcome.resolved) {
      key("resolved");
      if (atOnceKind !== "consents" && !Array.isArray(outcome.value)) totals.problem("choose-not-array", run, describe(outcome.value));
      return undefined;
    }
    const data = outcomeData(outcome, IntemptError);
    key(data.error.isIntemptError ? data.error.code : "not an IntemptError");
    if (data.error.trap) totals.problem("trap", run, `${atOnceKind}: ${data.error.message}`);
    else if (!data.error.isIntemptError || !["NETWORK_ERROR", "HTTP_ERROR"].includes(data.error.code))
      totals.problem("at-once-bad-rejection", run, `${atOnceKind}: ${data.error.code} ${data.error.message}`);
    return undefined;
  };

  if (atOnceWithFlush) await Promise.all([atOnce(), flush("first")]);
  else {
    await atOnce();
    await flush("first");
  }

  // The fetch turns honest: everything still queued must now be delivered.
  honest = true;
  for (let k = 0; k < 10; k++) {
    const report = await flush("drain");
    if (!report) break; // it did not resolve with a report: recorded; more flushes show nothing new
    let inFlight = -1;
    try {
      inFlight = sdk.stats().inFlight;
    } catch (error) {
      totals.problem(isTrap(error) ? "trap" : "stats-threw", run, describe(error));
    }
    if (report && report.pending === 0 && inFlight === 0) break;
    await sleep(25);
  }
  // Background work handed to waitUntil, reentrant calls: they end too.
  let watchdog;
  const ended = await Promise.race([
    Promise.all(pendingPromises).then(() => true),
    new Promise((resolve) => {
      watchdog = setTimeout(() => resolve(false), FUZZ_OPTIONS.flushDeadlineMs + 5_000);
    }),
  ]);
  clearTimeout(watchdog);
  if (!ended) totals.problem("background-never-settled", run, `${pendingPromises.length} background or reentrant promises`);

  let stats;
  try {
    stats = sdk.stats();
  } catch (error) {
    totals.problem(isTrap(error) ? "trap" : "stats-threw", run, describe(error));
    return;
  }
  const finalPending = stats.queued + stats.inFlight;
  totals.accepted += accepted;
  totals.delivered += stats.delivered;
  totals.dropped += stats.dropped;
  totals.pending += finalPending;
  if (stats.delivered + stats.dropped + finalPending !== accepted) {
    totals.problem("accounting", run, `stats: delivered ${stats.delivered} + dropped ${stats.dropped} + pending ${finalPending} != accepted ${accepted}`);
  }
  if (!background) {
    const delivered = flushReports.reduce((a, r) => a + r.delivered, 0);
    const dropped = flushReports.reduce((a, r) => a + r.dropped, 0);
    if (delivered + dropped + finalPending !== accepted) {
      totals.problem("accounting", run, `reports: delivered ${delivered} + dropped ${dropped} + pending ${finalPending} != accepted ${accepted}`);
    }
    if (delivered !== stats.delivered || dropped !== stats.dropped) {
      totals.problem("accounting", run, `reports (delivered ${delivered}, dropped ${dropped}) disagree with stats() (${stats.delivered}, ${stats.dropped})`);
    }
  }
  perRun.push([profile, accepted, stats.delivered, stats.dropped, finalPending, mode]);
}
