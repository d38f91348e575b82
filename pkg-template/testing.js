// intempt-edge/testing: a recorder for your own tests.
//
//   import { SDK } from "intempt-edge";
//   import { createRecorder } from "intempt-edge/testing";
//   const recorder = createRecorder();
//   const intempt = new SDK(org, project, "test-id.test-secret", source, 100, 20, { fetch: recorder });
//   ...; await intempt.flush();
//   recorder.events().map((e) => e.name); // ["Purchase"]
//
// The recorder is a `fetch`-compatible function. It checks every request
// against the wire contract with the very checks of the project's local ingest
// server (contract.js, shared by both), answers as Intempt does (201 for
// track, 200 for consents and choose, `{"errors":[{"message"}]}` with the
// reasons otherwise), stores what it accepted, and can be told to misbehave
// (status, Retry-After, delay, hang, dropped connection). Nothing leaves the
// process. It is its own entry point: the SDK's entries never import it.
import {
  DEFAULT_CHOICES,
  applyFaultPlan,
  checkAuth,
  checkRequest,
  emptyFaults,
  faultBody,
  matchRoute,
  nextFault,
  parseFaultPlan,
  redactedHeaders,
  redactedQuery,
  refusalBody,
  retryAfterValue,
  splitApiKey,
  splitTarget,
  successAnswer,
} from "./contract.js";

/** The key the recorder accepts unless told otherwise (the ingest server's default too). */
export const TEST_API_KEY = "test-id.test-secret";

/** A network error, as `fetch` raises one (a TypeError). */
const networkError = (why) => new TypeError(`fetch failed: ${why} (injected by the recorder)`);

/** Waits `ms`, or rejects with the signal's reason when the caller aborts first. */
function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Never settles unless the caller aborts (then rejects with the reason). Like
 *  the open socket of a real hung request, a timer keeps the process alive meanwhile
 *  (a signal's own timeout timer does not, in Node). */
function hang(signal) {
  return new Promise((_, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const keepAlive = setInterval(() => {}, 60_000);
    signal?.addEventListener(
      "abort",
      () => {
        clearInterval(keepAlive);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/** body: undefined → empty; string → text; anything else → JSON (as the ingest server sends it). */
function answer(status, body, headers = {}) {
  const out = new Headers(headers);
  const noBody = status === 204 || status === 304 || body === undefined;
  let payload = null;
  if (!noBody) {
    const isText = typeof body === "string";
    payload = isText ? body : JSON.stringify(body);
    if (!out.has("content-type")) out.set("content-type", isText ? "text/plain; charset=utf-8" : "application/json");
  }
  return new Response(payload, { status, headers: out });
}

/**
 * Creates a recorder: a `fetch` that checks, answers and stores like the
 * local ingest server. Options: `apiKey` (default "test-id.test-secret"),
 * `organization`, `project`, `sourceId` (when given, requests must match),
 * `maxBodyBytes` (default 5 MiB → 413 above), `choices` (what choose returns),
 * `anyChooseNames` (accept choose names outside ^[a-zA-Z0-9_-]*$, which the
 * API answers with 400).
 * @param {import("./testing.js").RecorderOptions} [options]
 * @returns {import("./testing.js").Recorder} (checked against testing.d.ts)
 */
export function createRecorder(options = {}) {
  const config = {
    apiKey: options.apiKey ?? TEST_API_KEY,
    organization: options.organization,
    project: options.project,
    sourceId: options.sourceId,
    maxBodyBytes: options.maxBodyBytes ?? 5 * 1024 * 1024,
    anyChooseNames: options.anyChooseNames ?? false,
  };
  splitApiKey(config.apiKey); // a malformed key fails here, not at the first request
  const initialChoices = structuredClone(options.choices ?? DEFAULT_CHOICES);
  const fresh = () => ({
    events: [],
    requests: [],
    consents: [],
    chooses: [],
    choices: structuredClone(initialChoices),
    faults: emptyFaults(),
    nextRequestId: 1,
  });
  let state = fresh();

  function store(rec, checked) {
    const { organization, project, sourceId } = checked.params;
    const body = checked.value;
    const receivedAt = Date.now();
    if (checked.kind === "track") {
      for (const { name, payload } of body.track) {
        state.events.push({ name, item: payload[0], organization, project, sourceId, requestId: rec.id, receivedAt });
      }
    } else if (checked.kind === "consents") {
      state.consents.push({ body, organization, project, requestId: rec.id, receivedAt });
    } else {
      state.chooses.push({ body, organization, project, requestId: rec.id, receivedAt });
    }
    return successAnswer(checked.kind, state.choices);
  }

  async function recorder(input, init) {
    const request = new Request(input, init);
    // The target as the caller wrote it when it is a string: `new Request`
    // would resolve dot segments, which the contract's path check must see.
    const target = typeof input === "string" ? input : request.url;
    const { rawPath, rawQuery } = splitTarget(target);
    const query = new URLSearchParams(rawQuery);
    const headers = Object.fromEntries(request.headers);
    const signal = init?.signal ?? request.signal;
    if (signal?.aborted) throw signal.reason;
    const bytes = new Uint8Array(await request.arrayBuffer());
    const current = state; // a reset() during a delay does not mix old and new
    const rec = {
      id: current.nextRequestId++,
      method: request.method,
      path: rawPath,
      query: redactedQuery(query),
      // Credentials never stay in a record, as in the ingest server's views.
      headers: redactedHeaders(headers),
      body: bytes.length > config.maxBodyBytes ? null : new TextDecoder().decode(bytes),
      status: null,
      error: null,
      authMode: checkAuth(headers, query, config).authMode,
      kind: matchRoute(rawPath).kind,
      fault: null,
      receivedAt: Date.now(),
    };
    current.requests.push(rec);
    const fault = nextFault(current);
    rec.fault = fault ?? null;
    if (fault) current.faults.applied += 1;

    try {
      if (fault?.delayMs) await sleep(fault.delayMs, signal);
      if (fault?.hang) {
        rec.error = "injected hang";
        await hang(signal);
      }
    } catch (reason) {
      if (!rec.error) rec.error = "the caller went away during the injected delay; not processed";
      throw reason;
    }
    if (fault?.drop === "before") {
      rec.error = "injected drop before response";
      throw networkError("connection closed before a response");
    }
    if (fault?.status) {
      const faultHeaders = { ...(fault.headers ?? {}) };
      if (fault.retryAfter !== undefined) faultHeaders["retry-after"] = retryAfterValue(fault.retryAfter);
      if (fault.location !== undefined) faultHeaders.location = fault.location;
      rec.status = fault.status;
      rec.error = `injected ${fault.status}`;
      return answer(fault.status, faultBody(fault), faultHeaders);
    }

    const checked = checkRequest({ method: request.method, rawPath, query, headers, body: bytes, bodySize: bytes.length }, config);
    rec.authMode = checked.authMode;
    const outcome = checked.ok ? store(rec, checked) : checked;
    rec.status = outcome.status;
    rec.error = outcome.error ?? null;
    if (fault?.drop === "mid") {
      rec.error = outcome.error ?? "injected drop after processing";
      throw networkError("connection closed mid-response");
    }
    return answer(outcome.status, checked.ok ? outcome.body : refusalBody(outcome), outcome.headers);
  }

  const copy = (list) => list.map((x) => x);
  return Object.assign(recorder, {
    /** Accepted track items, oldest first: `{name, item, organization, project, sourceId, requestId, receivedAt}`. */
    events: () => copy(state.events),
    /** Every request, refused and faulted ones too: `{id, method, path, query, headers, body, status, error, authMode, kind, fault, receivedAt}`. */
    requests: () => copy(state.requests),
    /** Accepted consent bodies: `{body, organization, project, requestId, receivedAt}`. */
    consents: () => copy(state.consents),
    /** Accepted choose bodies: `{body, organization, project, requestId, receivedAt}`. */
    chooses: () => copy(state.chooses),
    /** Forgets everything: requests, events, consents, chooses, faults; choices back to the start value. */
    reset: () => {
      state = fresh();
    },
    /** Replaces the fault plan (`{queue: [fault…], random: {seed, probability, modes, maxFaults} | null}`), as the ingest server's. */
    setFaults: (plan) => applyFaultPlan(state.faults, plan),
    /** Appends faults for the next requests, one each: `failNext({status: 503}, {status: 429, retryAfter: "1"})`. */
    failNext: (...faults) => {
      const parsed = parseFaultPlan({ queue: faults });
      if (parsed.errors) throw new Error(parsed.errors.join("; "));
      state.faults.queue.push(...parsed.plan.queue); // a random plan keeps its place in its sequence
    },
    /** What choose answers from now on (any JSON). */
    setChoices: (choices) => {
      state.choices = structuredClone(choices);
    },
  });
}
