#!/usr/bin/env node
// A local stand-in for Intempt's ingestion API (docs/wire-protocol.md §7).
//
// It checks every request against the contract (path, auth, headers, body),
// stores what it accepts so tests can read it back, explains every rejection
// in a 400 body, and can be told to misbehave (status codes, Retry-After,
// redirects, delays, hangs, dropped connections) to exercise the SDK's retry
// logic.
//
// It also serves a live event viewer (viewer.html beside this file) at `GET /`,
// fed by Server-Sent Events from `GET /_intempt/stream`.
//
// Zero dependencies on purpose: it must run from a fresh clone with nothing
// installed but Node ≥ 20. See README.md beside this file for the full API.

import http from "node:http";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

// The request checks, fault plans and answers are shared with the recorder of
// `intempt-edge/testing`: one implementation of the contract's rules.
import {
  DEFAULT_CHOICES,
  applyFaultPlan,
  checkAuth,
  checkRequest,
  emptyFaults,
  errorBody,
  errorBodyAll,
  faultBody,
  HIDDEN_HEADERS,
  isPlainObject,
  locationPath,
  matchRoute,
  nextFault,
  parseFaultPlan,
  parseJsonBody,
  redactedQuery,
  refusalBody,
  retryAfterValue,
  splitApiKey,
  splitTarget,
  successAnswer,
} from "../../pkg-template/contract.js";

// ---------------------------------------------------------------------------
// Constants (each with the reason it has this value)
// ---------------------------------------------------------------------------

/** Idle keep-alive sockets stay open long: closing one while a client (workerd)
 *  is about to reuse it is exactly the race that makes "connection lost". */
const KEEP_ALIVE_MS = 120_000;
const MAX_WAIT_MS = 120_000;
/** SSE comment interval: keeps the viewer's stream alive through idle periods. */
const HEARTBEAT_MS = 15_000;
/** The viewer's snapshot carries at most this many (newest) requests; a long
 *  load test must not turn one page load into a multi-megabyte message. */
const VIEWER_SNAPSHOT_MAX = 1000;
/** Request headers the viewer never shows (the key travels in Authorization): the contract's list. */
const VIEWER_HIDDEN_HEADERS = HIDDEN_HEADERS;
const VIEWER_PATH = fileURLToPath(new URL("./viewer.html", import.meta.url));
/** The viewer page allows nothing from outside this server (it works offline). */
const VIEWER_CSP = [
  "default-src 'none'",
  "script-src 'unsafe-inline'",
  "style-src 'unsafe-inline'",
  "connect-src 'self'",
  "img-src data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

// ---------------------------------------------------------------------------
// Responses. Every response carries Content-Length so keep-alive clients never
// have to guess where a body ends.
// ---------------------------------------------------------------------------

/** body: undefined → empty; string → sent as text; anything else → JSON. */
function send(res, status, body, headers = {}) {
  if (res.writableEnded || res.destroyed) return;
  const noBody = status === 204 || status === 304;
  let payload = Buffer.alloc(0);
  const out = { ...headers };
  if (!noBody && body !== undefined) {
    const isText = typeof body === "string";
    payload = Buffer.from(isText ? body : JSON.stringify(body));
    out["content-type"] ??= isText ? "text/plain; charset=utf-8" : "application/json";
  }
  if (!noBody) out["content-length"] = String(payload.length);
  res.writeHead(status, out);
  res.end(noBody ? undefined : payload);
}

/** Reads the whole body, keeping at most `limit` bytes (the rest is drained so keep-alive stays in sync). */
function readBody(req, limit) {
  return new Promise((resolve) => {
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
    });
    req.on("end", () => resolve({ buffer: Buffer.concat(chunks), size, tooLarge: size > limit }));
    req.on("error", () => resolve({ buffer: Buffer.concat(chunks), size, tooLarge: size > limit, aborted: true }));
  });
}

// ---------------------------------------------------------------------------
// Viewer: the page, and what the stream tells it. The page only ever gets
// request views, never the raw records: credentials are removed here.
// ---------------------------------------------------------------------------

/** The page, read once per process; a missing file only breaks the viewer. */
let viewerPage;
function loadViewerPage() {
  if (viewerPage === undefined) {
    try {
      viewerPage = { html: readFileSync(VIEWER_PATH, "utf8") };
    } catch (e) {
      viewerPage = { error: `viewer page unavailable: ${e.message}` };
    }
  }
  return viewerPage;
}

/**
 * → (jsonText) => jsonText with every form of the configured key replaced by
 * "[redacted]": the whole key, identifier:secret, its base64 (the Basic
 * credential) and the secret alone. It works on serialized JSON, so it matches
 * each needle in its JSON-escaped form and covers every field at once (a body
 * or a path that happens to carry the key included).
 */
function makeScrubber(apiKey) {
  const { identifier, secret } = splitApiKey(apiKey);
  const pair = `${identifier}:${secret}`;
  const needles = [apiKey, pair, Buffer.from(pair).toString("base64"), secret]
    .filter((n, i, all) => n.length >= 4 && all.indexOf(n) === i)
    .map((n) => JSON.stringify(n).slice(1, -1))
    .sort((a, b) => b.length - a.length);
  return (text) => needles.reduce((acc, n) => acc.split(n).join("[redacted]"), text);
}

/** Which of the viewer's counters a request is in: rejected = answered ≥ 400 by the checks (not by an injected status). */
const viewerClass = (rec) => (rec.status === null ? "pending" : rec.status >= 400 && !rec.fault?.status ? "rejected" : null);

/** One request as the viewer sees it: the record without credentials, plus its stored events. */
function requestView(rec, events) {
  const headers = {};
  for (const [k, v] of Object.entries(rec.headers)) headers[k] = VIEWER_HIDDEN_HEADERS.has(k) ? "[redacted]" : v;
  return {
    id: rec.id,
    method: rec.method,
    path: rec.path,
    query: rec.query,
    headers,
    body: rec.body,
    status: rec.status,
    error: rec.error,
    authMode: rec.authMode,
    kind: rec.kind,
    fault: rec.fault,
    receivedAt: rec.receivedAt,
    events: (events ?? []).map((e) => ({ name: e.name, item: e.item, receivedAt: e.receivedAt })),
  };
}

// ---------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------

function makeState(choices) {
  return {
    events: [],
    requests: [],
    consents: [],
    chooses: [],
    choices,
    faults: emptyFaults(),
    // Paths a redirect fault pointed a client at (its Location), and every
    // request that arrived there: a client that follows a redirect shows up here.
    redirectTargets: new Set(),
    redirectHits: [],
    nextRequestId: 1,
    connections: 0,
    // API requests being handled right now, and the most at once (since
    // the last reset): what a client's concurrency limit bounds.
    inFlight: 0,
    maxInFlight: 0,
  };
}

function stats(state) {
  const ids = new Set(state.events.map((e) => e.item.eventId));
  const byStatus = {};
  for (const r of state.requests) {
    const key = r.status === null ? "none" : String(r.status);
    byStatus[key] = (byStatus[key] ?? 0) + 1;
  }
  return {
    requests: state.requests.length,
    events: state.events.length,
    uniqueEventIds: ids.size,
    duplicates: state.events.length - ids.size,
    byStatus,
    faults: state.faults.applied,
    redirectHits: state.redirectHits.length,
    connections: state.connections,
    inFlight: state.inFlight,
    maxInFlight: state.maxInFlight,
  };
}

/**
 * Starts the server.
 * @returns {Promise<{url: string, port: number, close: () => Promise<void>, state: object,
 *   stats: () => object, reset: () => void, setFaults: (plan: object) => void,
 *   setChoices: (choices: unknown) => void, waitForEvents: (n: number, timeoutMs?: number) => Promise<boolean>}>}
 */
export async function startIngestServer(opts = {}) {
  const config = {
    port: opts.port ?? 0,
    host: opts.host ?? "127.0.0.1",
    apiKey: opts.apiKey ?? "test-id.test-secret",
    organization: opts.organization,
    project: opts.project,
    sourceId: opts.sourceId,
    maxBodyBytes: opts.maxBodyBytes ?? 5 * 1024 * 1024,
    // Choose names outside ^[a-zA-Z0-9_-]*$ are accepted instead of the
    // API's 400 (the seed SDK's own examples use "new year banner").
    anyChooseNames: opts.anyChooseNames ?? false,
    log: opts.log ?? false,
    heartbeatMs: opts.heartbeatMs ?? HEARTBEAT_MS,
  };
  splitApiKey(config.apiKey); // fail fast on a malformed configured key
  loadViewerPage();
  const initialChoices = structuredClone(opts.choices ?? DEFAULT_CHOICES);
  const state = makeState(structuredClone(initialChoices));
  const sockets = new Set();
  const timers = new Set();
  const waiters = new Set();
  let closing = false;
  // Viewer: open SSE responses, their shared heartbeat, and each track
  // request's stored events (so a view never scans state.events).
  const streams = new Set();
  let heartbeat = null;
  const eventsOf = new Map();
  const scrub = makeScrubber(config.apiKey);
  // The header's counters, kept up to date as requests change (O(1) each, so
  // an open viewer costs nothing per request during a long load test). A
  // request from before a reset is not in `counted` and is ignored.
  const counters = { rejected: 0, pending: 0 };
  let counted = new WeakMap(); // rec → its viewerClass when last seen
  const viewerStats = () => ({
    requests: state.requests.length,
    events: state.events.length,
    rejected: counters.rejected,
    faults: state.faults.applied,
    pending: counters.pending,
  });

  const sleep = (ms) =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  const logLine = (rec, ms) => {
    if (!config.log) return;
    const q = Object.entries(rec.query)
      .flatMap(([k, v]) => [].concat(v).map((x) => `${encodeURIComponent(k)}=${x === "[redacted]" ? x : encodeURIComponent(x)}`))
      .join("&");
    const fault = rec.fault ? ` fault=${JSON.stringify(rec.fault)}` : "";
    const err = rec.error ? ` error=${JSON.stringify(rec.error)}` : "";
    process.stderr.write(`ingest-server: #${rec.id} ${rec.method} ${rec.path}${q ? `?${q}` : ""} → ${rec.status ?? "-"} ${rec.kind}${fault}${err} ${ms}ms\n`);
  };

  // ---- state operations (shared by the control API and the module handle) ----

  const notifyWaiters = () => {
    for (const w of waiters) if (state.events.length >= w.n) w.done(true);
  };

  const waitForEvents = (n, timeoutMs = 5000) =>
    new Promise((resolve) => {
      const w = {
        n,
        done: (ok) => {
          clearTimeout(w.timer);
          timers.delete(w.timer);
          waiters.delete(w);
          resolve(ok);
        },
      };
      waiters.add(w);
      w.timer = setTimeout(() => w.done(false), Math.min(timeoutMs, MAX_WAIT_MS));
      timers.add(w.timer);
      notifyWaiters();
    });

  const setFaults = (plan) => {
    applyFaultPlan(state.faults, plan);
  };

  const reset = () => {
    for (const key of ["events", "requests", "consents", "chooses", "redirectHits"]) state[key].length = 0;
    state.redirectTargets.clear();
    Object.assign(state.faults, emptyFaults());
    state.choices = structuredClone(initialChoices);
    state.nextRequestId = 1;
    state.maxInFlight = state.inFlight;
    eventsOf.clear();
    counted = new WeakMap();
    Object.assign(counters, { rejected: 0, pending: 0 });
    broadcast("reset", { stats: viewerStats() });
  };

  const setChoices = (choices) => {
    state.choices = structuredClone(choices);
  };

  // ---- viewer: the page and its Server-Sent Events stream ----

  /** Writes one SSE message to every open stream (nothing to do when none is open). */
  function broadcast(event, data) {
    if (streams.size === 0 || closing) return;
    const message = `event: ${event}\ndata: ${scrub(JSON.stringify(data))}\n\n`;
    for (const res of streams) res.write(message);
  }

  /** Counts the request and sends its current view; called on arrival and again once it is answered (or abandoned). */
  function publish(rec, { arrived = false } = {}) {
    if (!arrived && !counted.has(rec)) return; // it arrived before a reset
    const before = counted.get(rec);
    const now = viewerClass(rec);
    if (before) counters[before] -= 1;
    if (now) counters[now] += 1;
    counted.set(rec, now);
    if (streams.size === 0 || closing) return;
    broadcast("request", { request: requestView(rec, eventsOf.get(rec.id)), stats: viewerStats() });
  }

  function serveViewer(res) {
    const page = loadViewerPage();
    if (page.error) return send(res, 500, `${page.error}\n`);
    return send(res, 200, page.html, {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      "content-security-policy": VIEWER_CSP,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
    });
  }

  /** GET /_intempt/stream: a snapshot of the newest requests, then every change, plus heartbeats. */
  function openStream(req, res) {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    });
    const recent = state.requests.slice(-VIEWER_SNAPSHOT_MAX);
    const snapshot = {
      requests: recent.map((r) => requestView(r, eventsOf.get(r.id))),
      omitted: state.requests.length - recent.length,
      stats: viewerStats(),
    };
    // retry: how soon EventSource reconnects after the server restarts.
    res.write(`retry: 1000\n\nevent: snapshot\ndata: ${scrub(JSON.stringify(snapshot))}\n\n`);
    streams.add(res);
    res.on("close", () => {
      streams.delete(res);
      if (streams.size === 0 && heartbeat) {
        clearInterval(heartbeat);
        heartbeat = null;
      }
    });
    heartbeat ??= setInterval(() => {
      for (const s of streams) s.write(`: heartbeat ${new Date().toISOString()}\n\n`);
    }, config.heartbeatMs);
  }

  // ---- contract requests ----

  /** Runs the contract's checks (contract.js, shared with the recorder) and stores what passes. → { status, body?, error } */
  function processRequest(rec, req, bodyRead, rawPath, query) {
    const checked = checkRequest({ method: req.method, rawPath, query, headers: req.headers, body: bodyRead.buffer, bodySize: bodyRead.size }, config);
    rec.authMode = checked.authMode;
    if (!checked.ok) return checked;
    return store(rec, checked, checked.value);
  }

  function store(rec, route, body) {
    const { organization, project, sourceId } = route.params;
    const receivedAt = Date.now();
    if (route.kind === "track") {
      const stored = body.track.map(({ name, payload }) => ({ name, item: payload[0], organization, project, sourceId, requestId: rec.id, receivedAt }));
      for (const e of stored) state.events.push(e);
      eventsOf.set(rec.id, stored);
      notifyWaiters();
    } else if (route.kind === "consents") {
      state.consents.push({ body, organization, project, requestId: rec.id, receivedAt });
    } else {
      state.chooses.push({ body, organization, project, requestId: rec.id, receivedAt });
    }
    return successAnswer(route.kind, state.choices);
  }

  function respond(rec, res, outcome) {
    rec.status = outcome.status;
    rec.error = outcome.error ?? null;
    const body = outcome.error ? refusalBody(outcome) : outcome.body;
    send(res, outcome.status, body, outcome.headers);
  }

  /** Writes a status line and half a header, then cuts the connection: the
   *  server accepted the request but the client never learns it. */
  function dropMid(socket, status) {
    const partial = `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? "Unknown"}\r\nContent-Type: appl`;
    socket.write(partial, () => socket.destroy());
  }

  async function handleContract(req, res, rec, route, query) {
    const fault = nextFault(state);
    rec.fault = fault ?? null;
    if (fault) state.faults.applied += 1;
    // Recorded even when a fault pre-empts the checks: retry tests assert how each attempt authenticated.
    rec.authMode = checkAuth(req.headers, query, config).authMode;
    const bodyRead = await readBody(req, config.maxBodyBytes);
    rec.body = bodyRead.tooLarge ? null : bodyRead.buffer.toString("utf8");
    let clientGone = false;
    res.on("close", () => {
      if (!res.writableFinished) clientGone = true;
    });

    if (fault?.delayMs) {
      await sleep(fault.delayMs);
      // Timers run before I/O in an event-loop turn: after a stall, the
      // client's close may be waiting behind this timer. Let pending I/O run
      // first, so a client that gave up is seen as gone (not stored).
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (closing) return;
    if (fault?.hang) {
      rec.error = "injected hang";
      return; // never answer; close() destroys the socket
    }
    if (fault?.drop === "before") {
      rec.error = "injected drop before response";
      req.socket.destroy();
      return;
    }
    if (fault?.status) {
      const headers = { ...(fault.headers ?? {}) };
      if (fault.retryAfter !== undefined) headers["retry-after"] = retryAfterValue(fault.retryAfter);
      if (fault.location !== undefined) {
        // From now on the target answers 200 to anything and records the hit.
        state.redirectTargets.add(locationPath(fault.location));
        headers.location = fault.location;
      }
      rec.status = fault.status;
      rec.error = `injected ${fault.status}`;
      send(res, fault.status, faultBody(fault), headers);
      return;
    }
    // A client that gave up during an injected delay never sees an answer; we
    // do not store its request either, so a timeout-and-retry yields one event.
    if (clientGone || req.socket.destroyed) {
      rec.error = "client went away during the injected delay; not processed";
      return;
    }
    const outcome = processRequest(rec, req, bodyRead, rec.path, query);
    if (fault?.drop === "mid") {
      rec.status = outcome.status;
      rec.error = outcome.error ?? "injected drop after processing";
      dropMid(req.socket, outcome.status);
      return;
    }
    respond(rec, res, outcome);
  }

  // ---- redirect targets ----

  /** A redirect fault's Location: 200 to any method and body, the hit recorded
   *  (not in `requests`, which holds what the SDK sent to the API). The body
   *  looks like every success of the contract (a choose answer included), so a
   *  client that follows the redirect cannot tell it from the API by the body. */
  async function serveRedirectTarget(req, res, rawPath, query) {
    const bodyRead = await readBody(req, config.maxBodyBytes);
    state.redirectHits.push({
      method: req.method,
      path: rawPath,
      query: redactedQuery(query),
      headers: { ...req.headers },
      body: bodyRead.tooLarge ? null : bodyRead.buffer.toString("utf8"),
      receivedAt: Date.now(),
    });
    send(res, 200, { choices: [] });
  }

  // ---- control API ----

  async function handleControl(req, res, rawPath, query) {
    const name = rawPath.slice("/_intempt/".length);
    const bodyRead = await readBody(req, config.maxBodyBytes);
    const readJson = () => {
      if (bodyRead.buffer.length === 0) return { value: {} };
      return parseJsonBody(bodyRead.buffer);
    };
    const reads = {
      events: () => state.events,
      requests: () => state.requests,
      consents: () => state.consents,
      chooses: () => state.chooses,
      redirects: () => state.redirectHits,
      stats: () => stats(state),
      faults: () => ({ queue: state.faults.queue, random: state.faults.random, applied: state.faults.applied }),
      choices: () => ({ choices: state.choices }),
      health: () => ({ ok: true }),
    };
    if (req.method === "GET" && name in reads) return send(res, 200, reads[name]());
    if (req.method === "GET" && name === "stream") return openStream(req, res);
    if ((req.method === "GET" || req.method === "HEAD") && name === "viewer") return serveViewer(res);
    if (req.method === "GET" && name === "wait") {
      const n = Number(query.get("events") ?? "1");
      const timeoutMs = Number(query.get("timeoutMs") ?? "5000");
      if (!Number.isInteger(n) || n < 0 || !Number.isFinite(timeoutMs) || timeoutMs < 0) {
        return send(res, 400, errorBody("wait needs events=<integer ≥ 0> and timeoutMs=<ms ≥ 0>"));
      }
      const ok = await waitForEvents(n, timeoutMs);
      return send(res, ok ? 200 : 408, stats(state));
    }
    if (req.method === "POST" && name === "reset") {
      reset();
      return send(res, 200, { ok: true });
    }
    if (req.method === "POST" && (name === "faults" || name === "choices")) {
      const parsed = readJson();
      if (parsed.error) return send(res, 400, errorBody(parsed.error));
      if (name === "faults") {
        const plan = parseFaultPlan(parsed.value);
        if (plan.errors) return send(res, 400, errorBodyAll(plan.errors));
        setFaults(parsed.value);
        return send(res, 200, { ok: true });
      }
      // Either {"choices": <any JSON>} or a bare array; any shape is allowed on
      // purpose so tests can feed the SDK the odd shapes seen in the wild.
      const v = parsed.value;
      if (Array.isArray(v)) setChoices(v);
      else if (isPlainObject(v) && "choices" in v) setChoices(v.choices);
      else return send(res, 400, errorBody('body must be {"choices": …} or an array'));
      return send(res, 200, { ok: true });
    }
    const known = [...Object.keys(reads), "wait", "reset", "faults", "choices", "stream", "viewer"];
    if (known.includes(name)) return send(res, 405, errorBody(`method ${req.method} not allowed on /_intempt/${name}`));
    return send(res, 404, errorBody(`unknown control endpoint /_intempt/${name} (known: ${known.join(", ")})`));
  }

  // ---- dispatch ----

  async function onRequest(req, res) {
    const started = Date.now();
    const { rawPath, rawQuery } = splitTarget(req.url);
    const query = new URLSearchParams(rawQuery);
    // The viewer page at the root; like the control API it is not a contract request.
    if (rawPath === "/" && (req.method === "GET" || req.method === "HEAD")) {
      serveViewer(res);
      return;
    }
    if (rawPath.startsWith("/_intempt/")) {
      // Control requests are not logged in `requests`: tests read that list
      // to see exactly what the SDK sent.
      await handleControl(req, res, rawPath, query);
      return;
    }
    if (state.redirectTargets.has(rawPath)) {
      await serveRedirectTarget(req, res, rawPath, query);
      return;
    }
    const route = matchRoute(rawPath);
    const rec = {
      id: state.nextRequestId++,
      method: req.method,
      path: rawPath,
      query: redactedQuery(query),
      headers: { ...req.headers },
      body: null,
      status: null,
      error: null,
      authMode: null,
      kind: route.kind,
      fault: null,
      receivedAt: started,
    };
    state.requests.push(rec);
    publish(rec, { arrived: true });
    // Open until its response is sent or its connection closes.
    state.inFlight += 1;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    let open = true;
    const done = () => {
      if (open) state.inFlight -= 1;
      open = false;
    };
    res.once("finish", done);
    res.once("close", done);
    try {
      await handleContract(req, res, rec, route, query);
    } catch (e) {
      rec.error = `internal error: ${e.message}`;
      rec.status = 500;
      send(res, 500, errorBody(rec.error));
    }
    logLine(rec, Date.now() - started);
    publish(rec);
  }

  const server = http.createServer({ keepAlive: true, requestTimeout: 0 }, (req, res) => {
    onRequest(req, res).catch((e) => {
      send(res, 500, errorBody(`internal error: ${e.message}`));
    });
  });
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.headersTimeout = KEEP_ALIVE_MS + 1000;
  server.on("connection", (socket) => {
    state.connections += 1;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
  const hostForUrl = config.host.includes(":") ? `[${config.host}]` : config.host;

  let closed;
  const close = () => {
    closed ??= new Promise((resolve) => {
      closing = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const w of waiters) w.done(false);
      if (heartbeat) clearInterval(heartbeat);
      heartbeat = null;
      // End the viewer's streams (chunked: a clean end); the sockets go below.
      for (const res of streams) res.end();
      streams.clear();
      server.close(() => resolve());
      // Hung, delayed and idle keep-alive sockets would otherwise hold close() open.
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
    });
    return closed;
  };

  return {
    url: `http://${hostForUrl}:${port}`,
    port,
    close,
    state,
    stats: () => stats(state),
    reset,
    setFaults,
    setChoices,
    waitForEvents,
  };
}

// ---------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------

async function main(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      "api-key": { type: "string" },
      organization: { type: "string" },
      project: { type: "string" },
      "source-id": { type: "string" },
      "max-body-bytes": { type: "string" },
      log: { type: "boolean" },
    },
    strict: true,
  });
  const server = await startIngestServer({
    port: values.port !== undefined ? Number(values.port) : 0,
    host: values.host,
    apiKey: values["api-key"],
    organization: values.organization,
    project: values.project,
    sourceId: values["source-id"],
    maxBodyBytes: values["max-body-bytes"] !== undefined ? Number(values["max-body-bytes"]) : undefined,
    log: values.log ?? false,
  });
  process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
  const stop = async () => {
    await server.close();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`ingest-server: ${e.message}\n`);
    process.exit(1);
  });
}
