// The wire contract's request checks (docs/wire-protocol.md), in one place:
// the local ingest server (tests/server/ingest-server.mjs) and the recorder of
// `intempt-edge/testing` (testing.js beside this file) both import this
// module, so both refuse and accept exactly the same requests with exactly
// the same answers.
//
// Plain ES module on purpose: no Node-only API (no Buffer, no node:crypto), so
// it runs in workerd, Deno, Bun and Node. Not imported by the SDK's main
// entries: it adds nothing to their size.

// ---------------------------------------------------------------------------
// Constants (each with the reason it has this value)
// ---------------------------------------------------------------------------

/** The API rejects track timestamps before 2010 (wire doc §3, "known server facts"). */
const MIN_TIMESTAMP_MS = 1262304000000;
/** Clocks drift; a day of slack catches seconds-vs-ms and garbage without flaking. */
const MAX_FUTURE_MS = 24 * 60 * 60 * 1000;
/** Anything above this is certainly milliseconds (1e11 s is the year 5138). */
const MAX_CONSENT_SECONDS = 1e11;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** The reserved event title (exact match) used by identify/group/alias. */
const IDENTIFY = "Identify";
/** Enough to diagnose a broken body without producing a megabyte of errors. */
const MAX_ERRORS = 50;
const MAX_DELAY_MS = 600_000;

const DEFAULT_CHOICES = Object.freeze([{ name: "new year banner", group: "banner", body: [{ banner: "holiday-banner" }] }]);

// ---------------------------------------------------------------------------
// Small value checks. Each returns null when fine, else the reason as the end
// of a sentence ("must be …") that the caller prefixes with the field path.
// ---------------------------------------------------------------------------

const isPlainObject = (v) => typeof v === "object" && v !== null && !Array.isArray(v);
/** Names a received value in an error message, briefly (bodies can be large). */
function describe(v) {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${JSON.stringify(v)}`;
}

const nonEmptyString = (v) => (typeof v === "string" && v.length > 0 ? null : `must be a non-empty string (got ${describe(v)})`);
const anyString = (v) => (typeof v === "string" ? null : `must be a string (got ${describe(v)})`);
const plainObject = (v) => (isPlainObject(v) ? null : `must be a JSON object, not ${describe(v)}`);
const oneOf =
  (...allowed) =>
  (v) =>
    allowed.includes(v) ? null : `must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")} (got ${describe(v)})`;
const stringArray = (v) => {
  if (!Array.isArray(v)) return `must be an array of strings (got ${describe(v)})`;
  const bad = v.findIndex((s) => typeof s !== "string");
  return bad === -1 ? null : `must be an array of strings ([${bad}] is ${describe(v[bad])})`;
};

const uuidV4 = (v) => (typeof v === "string" && UUID_V4.test(v) ? null : `must be a lowercase hyphenated UUID v4 (got ${describe(v)})`);

const epochMs = (v) => {
  if (!Number.isInteger(v)) return `must be an integer (epoch ms) (got ${describe(v)})`;
  if (v < MIN_TIMESTAMP_MS) {
    const hint = v >= 1e9 && v < 1e11 ? "; this looks like epoch seconds" : "";
    return `must be epoch ms on or after 2010-01-01 (${MIN_TIMESTAMP_MS}) (got ${v}${hint})`;
  }
  if (v > Date.now() + MAX_FUTURE_MS) return `must not be more than 1 day in the future (got ${v})`;
  return null;
};

// Consents are the one place that takes epoch seconds (wire doc §4, Decision).
const epochSeconds = (v) => {
  if (!Number.isInteger(v)) return `must be an integer (epoch seconds) (got ${describe(v)})`;
  if (v > MAX_CONSENT_SECONDS) return `must be epoch seconds, not milliseconds (got ${v})`;
  if (v < MIN_TIMESTAMP_MS / 1000) return `must be epoch seconds on or after 2010-01-01 (${MIN_TIMESTAMP_MS / 1000}) (got ${v})`;
  if (v > (Date.now() + MAX_FUTURE_MS) / 1000) return `must not be more than 1 day in the future (got ${v})`;
  return null;
};

// validUntil is "sent as given" by the caller, else "unlimited".
const validUntil = (v) =>
  (typeof v === "string" && v.length > 0) || (typeof v === "number" && Number.isFinite(v))
    ? null
    : `must be a non-empty string or a finite number (got ${describe(v)})`;

// ---------------------------------------------------------------------------
// Validation tables. A table maps each allowed key to { required, check }.
// Keys not in the table are errors; null is an error everywhere (absent
// values are omitted, never sent as null — wire doc §3).
// ---------------------------------------------------------------------------

const TRACK_ITEM = {
  eventId: { required: true, check: uuidV4 },
  timestamp: { required: true, check: epochMs },
  profileId: { required: true, check: nonEmptyString },
  userId: { check: nonEmptyString },
  accountId: { check: nonEmptyString },
  data: { check: plainObject },
  userAttributes: { check: plainObject },
  accountAttributes: { check: plainObject },
  anotherUserId: { check: nonEmptyString },
};

const TRACK_ENTRY = {
  name: { required: true, check: nonEmptyString },
  payload: { required: true, check: (v) => (Array.isArray(v) ? null : `must be an array (got ${describe(v)})`) },
};

const CONSENT = {
  action: { required: true, check: oneOf("accept", "reject") },
  category: { check: nonEmptyString },
  timestamp: { required: true, check: epochSeconds },
  profileId: { required: true, check: nonEmptyString },
  sourceId: { required: true, check: nonEmptyString },
  validUntil: { required: true, check: validUntil },
  source: { required: true, check: nonEmptyString },
  email: { check: anyString },
  message: { check: anyString },
};

const CHOOSE = {
  identification: { required: true, check: plainObject },
  groups: { check: stringArray },
  names: { check: stringArray },
  optimizationType: { required: true, check: oneOf("personalization", "experiment") },
  device: { required: true, check: oneOf("all") },
};

// What the API accepts as a choose name (docs/wire-protocol.md §5): the
// server answers 400 for any other; the SDK sends names as given.
const CHOOSE_NAME = /^[a-zA-Z0-9_-]*$/;

const CHOOSE_IDENTIFICATION = {
  profileId: { required: true, check: nonEmptyString },
  sourceId: { required: true, check: nonEmptyString },
};

/** Hints for keys that are easy to put in the wrong place. */
const KEY_HINTS = {
  sourceId: " (sourceId belongs in the URL path, not in the item)",
  properties: ' (event properties go in "data")',
};

/**
 * The method → item table of wire doc §3, as rules over one item. Only
 * identify/group/alias use the reserved title, and each of them sends exactly
 * one id and no properties; record() may send any other combination (every
 * field given), so non-"Identify" names are only barred from anotherUserId.
 */
const TRACK_ITEM_RULES = [
  (name, it) => (name === IDENTIFY && !("userId" in it) && !("accountId" in it) ? 'name "Identify" needs userId (identify/alias) or accountId (group)' : null),
  (name, it) =>
    name === IDENTIFY && "userId" in it && "accountId" in it
      ? 'name "Identify" carries userId or accountId, not both (no call sends both under "Identify")'
      : null,
  ...["data", "userAttributes", "accountAttributes"].map(
    (key) => (name, it) =>
      name === IDENTIFY && key in it
        ? `.${key} is not allowed with name "Identify" (attributes need an event title other than 'Identify'; "Identify" is reserved)`
        : null,
  ),
  (name, it) =>
    "anotherUserId" in it && name !== IDENTIFY ? `.anotherUserId is only sent by alias(), whose name is "Identify" (got name ${JSON.stringify(name)})` : null,
  (name, it) => ("anotherUserId" in it && !("userId" in it) ? ".anotherUserId needs userId (alias(p, u, other))" : null),
];

/** Collects error messages, stopping at MAX_ERRORS so a huge bad batch stays readable. */
class Errors {
  list = [];
  total = 0;
  add(message) {
    this.total += 1;
    if (this.list.length < MAX_ERRORS) this.list.push(message);
  }
  get ok() {
    return this.total === 0;
  }
  messages() {
    const extra = this.total - this.list.length;
    return extra > 0 ? [...this.list, `… and ${extra} more errors`] : this.list;
  }
}

/** Checks one object against a table: shape, unknown keys, nulls, required keys, values. */
function checkObject(value, where, table, errors) {
  if (!isPlainObject(value)) {
    errors.add(`${where} must be a JSON object (got ${describe(value)})`);
    return false;
  }
  for (const key of Object.keys(value)) {
    if (!(key in table)) {
      errors.add(`${where}.${key} is not a known key${KEY_HINTS[key] ?? ""} (allowed: ${Object.keys(table).join(", ")})`);
    }
  }
  for (const [key, spec] of Object.entries(table)) {
    if (!(key in value)) {
      if (spec.required) errors.add(`${where}.${key} is required`);
      continue;
    }
    const v = value[key];
    if (v === null) {
      errors.add(spec.required ? `${where}.${key} must not be null` : `${where}.${key} must be omitted when absent, not null`);
      continue;
    }
    const reason = spec.check(v);
    if (reason) errors.add(`${where}.${key} ${reason}`);
  }
  return true;
}

function validateTrack(body) {
  const errors = new Errors();
  if (!checkObject(body, "body", { track: { required: true, check: () => null } }, errors)) return errors;
  const { track } = body;
  if (!Array.isArray(track)) {
    if (track !== undefined && track !== null) errors.add(`body.track must be an array (got ${describe(track)})`);
    return errors;
  }
  if (track.length === 0) errors.add("body.track must be a non-empty array");
  track.forEach((entry, i) => {
    const where = `track[${i}]`;
    if (!checkObject(entry, where, TRACK_ENTRY, errors) || !Array.isArray(entry.payload)) return;
    if (entry.payload.length !== 1) {
      errors.add(`${where}.payload must hold exactly 1 item (the SDK sends one item per call) (got ${entry.payload.length})`);
    }
    entry.payload.forEach((item, j) => {
      const itemWhere = `${where}.payload[${j}]`;
      if (!checkObject(item, itemWhere, TRACK_ITEM, errors)) return;
      for (const rule of TRACK_ITEM_RULES) {
        const reason = rule(entry.name, item);
        if (reason) errors.add(reason.startsWith(".") ? `${itemWhere}${reason}` : `${itemWhere}: ${reason}`);
      }
    });
  });
  return errors;
}

function checkConfiguredSource(where, sourceId, config, errors) {
  if (config.sourceId !== undefined && typeof sourceId === "string" && sourceId !== config.sourceId) {
    errors.add(`${where} ${JSON.stringify(sourceId)} does not match the configured source ${JSON.stringify(config.sourceId)}`);
  }
}

function validateConsents(body, config) {
  const errors = new Errors();
  if (checkObject(body, "body", CONSENT, errors)) checkConfiguredSource("body.sourceId", body.sourceId, config, errors);
  return errors;
}

function validateChoose(body, config) {
  const errors = new Errors();
  if (!checkObject(body, "body", CHOOSE, errors)) return errors;
  if (isPlainObject(body.identification)) {
    checkObject(body.identification, "body.identification", CHOOSE_IDENTIFICATION, errors);
    checkConfiguredSource("body.identification.sourceId", body.identification.sourceId, config, errors);
  }
  if ("groups" in body && "names" in body) errors.add("body: send groups or names, not both");
  if (Array.isArray(body.names) && !config?.anyChooseNames) {
    body.names.forEach((name, i) => {
      if (typeof name === "string" && !CHOOSE_NAME.test(name)) {
        errors.add(`body.names[${i}] must match ^[a-zA-Z0-9_-]*$ (letters, digits, _ and -; got ${JSON.stringify(name)})`);
      }
    });
  }
  return errors;
}

const VALIDATORS = { track: validateTrack, consents: validateConsents, choose: validateChoose };

// ---------------------------------------------------------------------------
// Routing. Matched from the END of the path so any gateway prefix before /v1
// is accepted. Segments are split on the raw "/" first and then decoded, so an
// organization "a/b" (sent as a%2Fb) stays one segment. We never use `new URL`
// for the path: it would resolve "..", "%2e%2e" and friends.
// ---------------------------------------------------------------------------

const ROUTES = [
  { kind: "track", pattern: ["v1", ":organization", "projects", ":project", "sources", ":sourceId", "track"] },
  { kind: "consents", pattern: ["v1", ":organization", "projects", ":project", "consents", "data"] },
  { kind: "choose", pattern: ["v1", ":organization", "projects", ":project", "optimization", "choose-api"] },
];
const ROUTE_HELP = `expected one of ${[
  "…/v1/{organization}/projects/{project}/sources/{sourceId}/track",
  "…/v1/{organization}/projects/{project}/consents/data",
  "…/v1/{organization}/projects/{project}/optimization/choose-api",
].join(", ")}`;

/** Splits a request target into its raw path and query string. */
function splitTarget(target) {
  let rest = target;
  // Absolute-form (only proxies send it), keep just the path.
  const abs = /^[a-z][a-z0-9+.-]*:\/\/[^/?]*/i.exec(rest);
  if (abs) rest = rest.slice(abs[0].length) || "/";
  const q = rest.indexOf("?");
  return q === -1 ? { rawPath: rest, rawQuery: "" } : { rawPath: rest.slice(0, q), rawQuery: rest.slice(q + 1) };
}

/** → { kind, params } | { kind, status, error } for a contract path. */
function matchRoute(rawPath) {
  const segments = rawPath.split("/");
  for (const { kind, pattern } of ROUTES) {
    // +1: the segment before /v1 (or the leading empty segment) must exist.
    if (segments.length < pattern.length + 1) continue;
    const tail = segments.slice(segments.length - pattern.length);
    if (!pattern.every((p, i) => p.startsWith(":") || p === tail[i])) continue;
    const params = {};
    for (const [i, p] of pattern.entries()) {
      if (!p.startsWith(":")) continue;
      const name = p.slice(1);
      try {
        params[name] = decodeURIComponent(tail[i]);
      } catch {
        return { kind, status: 400, error: `path segment {${name}} has malformed percent-encoding` };
      }
      if (params[name] === "") return { kind, status: 404, error: `path segment {${name}} is empty` };
    }
    return { kind, params };
  }
  return { kind: "unknown", status: 404, error: `no such endpoint ${JSON.stringify(rawPath)}: ${ROUTE_HELP}` };
}

/** When the server was started with a fixed organization/project/sourceId, the path must match it. */
function checkConfiguredPath(params, config) {
  for (const name of ["organization", "project", "sourceId"]) {
    if (config[name] === undefined || !(name in params)) continue;
    if (params[name] !== config[name]) {
      return `unknown ${name} ${JSON.stringify(params[name])} (this server serves ${JSON.stringify(config[name])})`;
    }
  }
  return null;
}
// ---------------------------------------------------------------------------
// Authentication (wire doc §2). Messages never contain the key or the header.
// ---------------------------------------------------------------------------

function splitApiKey(apiKey) {
  const dot = typeof apiKey === "string" ? apiKey.indexOf(".") : -1;
  if (dot <= 0 || dot === apiKey.length - 1) {
    throw new Error("apiKey must have the form identifier.secret (both halves non-empty)");
  }
  return { identifier: apiKey.slice(0, dot), secret: apiKey.slice(dot + 1) };
}

const utf8Encoder = new TextEncoder();

/** Compares two strings in time that depends only on their lengths (never on where they differ). */
function sameSecret(a, b) {
  const x = utf8Encoder.encode(a);
  const y = utf8Encoder.encode(b);
  if (x.length !== y.length) return false;
  let diff = 0;
  for (let i = 0; i < x.length; i += 1) diff |= x[i] ^ y[i];
  return diff === 0;
}

/** base64 → UTF-8 text (invalid sequences become U+FFFD, as Node's Buffer does). */
function base64Text(b64) {
  const binary = atob(b64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return new TextDecoder().decode(bytes);
}

/** → { authMode, status?, error? } — status absent means authenticated. */
function checkAuth(headers, query, config) {
  const header = headers.authorization;
  const queryKeys = query.getAll("apiKey");
  const hasHeader = header !== undefined;
  const hasQuery = queryKeys.length > 0;
  if (hasHeader && hasQuery) {
    return { authMode: "both", status: 400, error: "send the API key in the header or the query, not both" };
  }
  if (hasQuery) {
    if (queryKeys.length > 1) return { authMode: "query", status: 400, error: "query parameter apiKey given more than once" };
    return sameSecret(queryKeys[0], config.apiKey)
      ? { authMode: "query" }
      : { authMode: "query", status: 401, error: "invalid API key (query parameter apiKey)" };
  }
  if (!hasHeader) {
    return { authMode: null, status: 401, error: "missing API key: send Authorization: Basic base64(identifier:secret)" };
  }
  const m = /^basic +([A-Za-z0-9+/]+={0,2})$/i.exec(header.trim());
  if (!m || m[1].length % 4 !== 0) {
    return { authMode: "header", status: 401, error: 'Authorization header must be "Basic " + base64(identifier:secret)' };
  }
  const { identifier, secret } = splitApiKey(config.apiKey);
  return sameSecret(base64Text(m[1]), `${identifier}:${secret}`)
    ? { authMode: "header" }
    : { authMode: "header", status: 401, error: "invalid API key (Authorization header)" };
}

// ---------------------------------------------------------------------------
// Header checks
// ---------------------------------------------------------------------------

function checkContentHeaders(headers) {
  const encoding = headers["content-encoding"];
  // The real API answers 400 to gzip (wire doc §3); identity is harmless.
  const compressed = encoding !== undefined && encoding.trim().toLowerCase() !== "identity";
  if (compressed) {
    return { status: 400, error: `compressed bodies are rejected (Content-Encoding: ${encoding}); send plain JSON` };
  }
  const type = headers["content-type"];
  if (type === undefined) return { status: 415, error: "Content-Type: application/json is required" };
  const [media, ...params] = type.split(";").map((s) => s.trim().toLowerCase());
  if (media !== "application/json") return { status: 415, error: `Content-Type must be application/json (got ${JSON.stringify(type)})` };
  const charset = params.find((p) => p.startsWith("charset="));
  if (charset && !/^charset="?utf-8"?$/.test(charset)) {
    return { status: 415, error: `Content-Type charset must be utf-8 (got ${JSON.stringify(type)})` };
  }
  return null;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** → { value } | { error } */
function parseJsonBody(buffer) {
  let text;
  try {
    text = utf8.decode(buffer);
  } catch {
    return { error: "body is not valid UTF-8" };
  }
  if (text.length === 0) return { error: "body is empty; a JSON object is required" };
  try {
    return { value: JSON.parse(text) };
  } catch (e) {
    return { error: `body is not valid JSON: ${e.message}` };
  }
}

// ---------------------------------------------------------------------------
// Fault plan
// ---------------------------------------------------------------------------

const FAULT_KEYS = ["ok", "status", "retryAfter", "body", "headers", "location", "delayMs", "hang", "drop"];

const isRetryAfter = (v) => (typeof v === "string" ? /^(\d+|http-date:\+\d+)$/.test(v) : Number.isInteger(v) && v >= 0);
const isStringMap = (v) => isPlainObject(v) && Object.values(v).every((x) => typeof x === "string");
const alone = (f) => Object.keys(f).length === 1;
/** A redirect's Location: a path on this server (so the target can answer and
 *  record the hit), never the control API or the viewer's root. */
const isRedirectPath = (v) => typeof v === "string" && /^\/[^/]/.test(v) && !v.startsWith("/_intempt/") && !/[\s#]/.test(v);
/** The path part of a Location (what the redirect target is matched on). */
const locationPath = (location) => splitTarget(location).rawPath;

/**
 * [isBroken(fault), reason]: what makes a fault malformed, one rule a line.
 * @type {[(fault: any) => boolean, string][]}
 */
const FAULT_RULES = [
  [(f) => "ok" in f && (f.ok !== true || !alone(f)), ': {"ok":true} stands alone'],
  [(f) => "status" in f && !(Number.isInteger(f.status) && f.status >= 200 && f.status <= 599), ".status must be an integer 200–599"],
  [(f) => "retryAfter" in f && !isRetryAfter(f.retryAfter), '.retryAfter must be seconds ("2" or 2) or "http-date:+<seconds>"'],
  [(f) => "headers" in f && !isStringMap(f.headers), ".headers must be an object of string values"],
  ...["retryAfter", "body", "headers"].map(
    (k) => /** @type {[(fault: any) => boolean, string]} */ ([(f) => k in f && !("status" in f), `.${k} needs a status`]),
  ),
  [(f) => "location" in f && !(Number.isInteger(f.status) && f.status >= 300 && f.status <= 399), ".location needs a status 300–399"],
  [(f) => "location" in f && !isRedirectPath(f.location), '.location must be a path on this server: "/…", not "//…", "/" or "/_intempt/…", no spaces or "#"'],
  [(f) => "delayMs" in f && !(Number.isInteger(f.delayMs) && f.delayMs >= 0 && f.delayMs <= MAX_DELAY_MS), `.delayMs must be an integer 0–${MAX_DELAY_MS}`],
  [(f) => "hang" in f && (f.hang !== true || !alone(f)), ': {"hang":true} stands alone'],
  [(f) => "drop" in f && f.drop !== "before" && f.drop !== "mid", '.drop must be "before" or "mid"'],
  [(f) => "drop" in f && "status" in f, ': drop cannot be combined with status (drop "mid" cuts the real response)'],
  [(f) => !["ok", "status", "delayMs", "hang", "drop"].some((k) => k in f), " needs one of ok, status, delayMs, hang, drop"],
];

/** Validates one fault; returns a list of messages (empty when fine). */
function validateFault(f, where) {
  if (!isPlainObject(f)) return [`${where} must be an object (got ${describe(f)})`];
  const unknown = Object.keys(f).filter((k) => !FAULT_KEYS.includes(k));
  return [
    ...unknown.map((k) => `${where}.${k} is not a known key (allowed: ${FAULT_KEYS.join(", ")})`),
    ...FAULT_RULES.filter(([broken]) => broken(f)).map(([, reason]) => `${where}${reason}`),
  ];
}

function validateRandom(random) {
  if (!isPlainObject(random)) return ["random must be an object or null"];
  const allowed = ["seed", "probability", "modes", "maxFaults"];
  const errors = Object.keys(random)
    .filter((k) => !allowed.includes(k))
    .map((k) => `random.${k} is not a known key (allowed: ${allowed.join(", ")})`);
  const { seed, probability, modes, maxFaults } = random;
  if (!Number.isInteger(seed)) errors.push("random.seed must be an integer");
  if (!(typeof probability === "number" && probability >= 0 && probability <= 1)) errors.push("random.probability must be a number 0–1");
  if (!Array.isArray(modes) || modes.length === 0) errors.push("random.modes must be a non-empty array of faults");
  else for (const [i, f] of modes.entries()) errors.push(...validateFault(f, `random.modes[${i}]`));
  if ("maxFaults" in random && !(Number.isInteger(maxFaults) && maxFaults >= 0)) errors.push("random.maxFaults must be an integer ≥ 0");
  return errors;
}

/** Validates a POST /_intempt/faults body; → { plan } | { errors } */
function parseFaultPlan(body) {
  if (!isPlainObject(body)) return { errors: ['body must be {"queue":[…],"random":{…}|null}'] };
  const errors = Object.keys(body)
    .filter((k) => k !== "queue" && k !== "random")
    .map((k) => `${k} is not a known key (allowed: queue, random)`);
  const queue = body.queue ?? [];
  if (!Array.isArray(queue)) errors.push("queue must be an array of faults");
  else for (const [i, f] of queue.entries()) errors.push(...validateFault(f, `queue[${i}]`));
  const random = body.random ?? null;
  if (random !== null) errors.push(...validateRandom(random));
  return errors.length ? { errors } : { plan: { queue: [...queue], random } };
}

/**
 * mulberry32: tiny, well-known, deterministic from a 32-bit seed; floats in
 * [0, 1). The server's random faults use it, and so do the test apps
 * (tests/e2e/app/prng.js), so a seed means the same schedule everywhere.
 * @param {number} seed
 */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Picks the fault for the next contract request (queue first, then random); null = none. */
function nextFault(state) {
  const { faults } = state;
  if (faults.queue.length > 0) {
    const f = faults.queue.shift();
    return f.ok ? null : f;
  }
  const r = faults.random;
  if (!r || (r.maxFaults !== undefined && faults.randomFaults >= r.maxFaults)) return null;
  if (faults.rng() >= r.probability) return null;
  const mode = r.modes[Math.floor(faults.rng() * r.modes.length)];
  if (mode.ok) return null;
  faults.randomFaults += 1;
  return mode;
}

function retryAfterValue(v) {
  const s = String(v);
  const m = /^http-date:\+(\d+)$/.exec(s);
  return m ? new Date(Date.now() + Number(m[1]) * 1000).toUTCString() : s;
}

// ---------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------

const errorBody = (message) => ({ errors: [{ message }] });
const errorBodyAll = (messages) => ({ errors: messages.map((message) => ({ message })) });

/** What the API answers to a request it accepted, by kind (wire doc §3–5). */
export function successAnswer(kind, choices) {
  if (kind === "track") return { status: 201 };
  if (kind === "consents") return { status: 200, body: {} };
  return { status: 200, body: { choices } };
}

/**
 * Every check of a contract request, in the order a real gateway runs them:
 * method (405) → path (404; malformed % → 400) → configured org/project/
 * sourceId (404) → auth (401, or 400 if both header and query) → size (413)
 * → Content-Encoding (400) → Content-Type (415) → UTF-8 + JSON (400) → body
 * rules (400).
 *
 * request: { method, rawPath, query: URLSearchParams, headers: {lowercase
 * name: string}, body: Uint8Array (at most maxBodyBytes), bodySize }.
 * config: { apiKey, organization?, project?, sourceId?, maxBodyBytes }.
 *
 * → { ok: true, kind, params, authMode, value } when accepted, else
 *   { ok: false, kind, authMode, status, error, messages?, headers? }.
 */
export function checkRequest(request, config) {
  const route = matchRoute(request.rawPath);
  const refuse = (outcome, authMode = null) => ({ ok: false, kind: route.kind, authMode, ...outcome });
  if (request.method !== "POST") {
    return refuse({ status: 405, error: `method ${request.method} not allowed; use POST`, headers: { allow: "POST" } });
  }
  if (route.status) return refuse({ status: route.status, error: route.error });
  const pathError = checkConfiguredPath(route.params, config);
  if (pathError) return refuse({ status: 404, error: pathError });
  const auth = checkAuth(request.headers, request.query, config);
  if (auth.status) {
    const headers = auth.status === 401 ? { "www-authenticate": 'Basic realm="intempt"' } : {};
    return refuse({ status: auth.status, error: auth.error, headers }, auth.authMode);
  }
  if (request.bodySize > config.maxBodyBytes) {
    return refuse({ status: 413, error: `body is ${request.bodySize} bytes; the limit is ${config.maxBodyBytes} bytes` }, auth.authMode);
  }
  const headerError = checkContentHeaders(request.headers);
  if (headerError) return refuse(headerError, auth.authMode);
  const parsed = parseJsonBody(request.body);
  if (parsed.error) return refuse({ status: 400, error: parsed.error }, auth.authMode);
  const errors = VALIDATORS[route.kind](parsed.value, config);
  if (!errors.ok) return refuse({ status: 400, error: errors.messages().join("; "), messages: errors.messages() }, auth.authMode);
  return { ok: true, kind: route.kind, params: route.params, authMode: auth.authMode, value: parsed.value };
}

/** The body of a refusal: one `{message}` per problem found. */
export const refusalBody = (outcome) => errorBodyAll(outcome.messages ?? [outcome.error]);

/** The body of an injected status: the fault's own, else an error body for ≥ 400, else none. */
export const faultBody = (fault) => ("body" in fault ? fault.body : fault.status >= 400 ? errorBody(`injected ${fault.status}`) : undefined);

/** A fresh fault state (what nextFault reads); the plan is set with applyFaultPlan. */
export const emptyFaults = () => ({ queue: [], random: null, rng: null, randomFaults: 0, applied: 0 });

/** Replaces the fault plan of `faults` (throws with every reason when the plan is malformed). */
export function applyFaultPlan(faults, plan) {
  const parsed = parseFaultPlan(plan);
  if (parsed.errors) throw new Error(parsed.errors.join("; "));
  Object.assign(faults, parsed.plan, { rng: parsed.plan.random ? mulberry32(parsed.plan.random.seed) : null, randomFaults: 0 });
}

/** Request headers no record shows (the key travels in Authorization). */
const HIDDEN_HEADERS = new Set(["authorization", "proxy-authorization", "cookie"]);

/** The headers of a recorded request (lower-case names), credentials replaced by "[redacted]". */
function redactedHeaders(headers) {
  const out = {};
  for (const [k, v] of Object.entries(headers)) out[k] = HIDDEN_HEADERS.has(k.toLowerCase()) ? "[redacted]" : v;
  return out;
}

/** The query of a recorded request, with the API key replaced by "[redacted]". */
function redactedQuery(query) {
  const out = {};
  for (const [k, v] of query) {
    const value = k === "apiKey" ? "[redacted]" : v;
    if (k in out) out[k] = [].concat(out[k], value);
    else out[k] = value;
  }
  return out;
}

export {
  DEFAULT_CHOICES,
  MAX_DELAY_MS,
  isPlainObject,
  describe,
  splitTarget,
  matchRoute,
  checkConfiguredPath,
  splitApiKey,
  checkAuth,
  checkContentHeaders,
  parseJsonBody,
  VALIDATORS,
  parseFaultPlan,
  nextFault,
  retryAfterValue,
  locationPath,
  errorBody,
  errorBodyAll,
  redactedQuery,
  redactedHeaders,
  HIDDEN_HEADERS,
};
