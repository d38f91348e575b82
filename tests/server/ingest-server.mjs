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

import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

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
const IDENTIFY = 'Identify';
/** Enough to diagnose a broken body without producing a megabyte of errors. */
const MAX_ERRORS = 50;
/** Idle keep-alive sockets stay open long: closing one while a client (workerd)
 *  is about to reuse it is exactly the race that makes "connection lost". */
const KEEP_ALIVE_MS = 120_000;
const MAX_WAIT_MS = 120_000;
const MAX_DELAY_MS = 600_000;
/** SSE comment interval: keeps the viewer's stream alive through idle periods. */
const HEARTBEAT_MS = 15_000;
/** The viewer's snapshot carries at most this many (newest) requests; a long
 *  load test must not turn one page load into a multi-megabyte message. */
const VIEWER_SNAPSHOT_MAX = 1000;
/** Request headers the viewer never shows (the key travels in Authorization). */
const VIEWER_HIDDEN_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie']);
const VIEWER_PATH = fileURLToPath(new URL('./viewer.html', import.meta.url));
/** The viewer page allows nothing from outside this server (it works offline). */
const VIEWER_CSP = [
  "default-src 'none'",
  "script-src 'unsafe-inline'",
  "style-src 'unsafe-inline'",
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const DEFAULT_CHOICES = Object.freeze([
  { name: 'new year banner', group: 'banner', body: [{ banner: 'holiday-banner' }] },
]);

// ---------------------------------------------------------------------------
// Small value checks. Each returns null when fine, else the reason as the end
// of a sentence ("must be …") that the caller prefixes with the field path.
// ---------------------------------------------------------------------------

const isPlainObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Names a received value in an error message, briefly (bodies can be large). */
function describe(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${JSON.stringify(v)}`;
}

const nonEmptyString = (v) => (typeof v === 'string' && v.length > 0 ? null : `must be a non-empty string (got ${describe(v)})`);
const anyString = (v) => (typeof v === 'string' ? null : `must be a string (got ${describe(v)})`);
const plainObject = (v) => (isPlainObject(v) ? null : `must be a JSON object, not ${describe(v)}`);
const oneOf = (...allowed) => (v) => (allowed.includes(v) ? null : `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')} (got ${describe(v)})`);
const stringArray = (v) => {
  if (!Array.isArray(v)) return `must be an array of strings (got ${describe(v)})`;
  const bad = v.findIndex((s) => typeof s !== 'string');
  return bad === -1 ? null : `must be an array of strings ([${bad}] is ${describe(v[bad])})`;
};

const uuidV4 = (v) => (typeof v === 'string' && UUID_V4.test(v) ? null : `must be a lowercase hyphenated UUID v4 (got ${describe(v)})`);

const epochMs = (v) => {
  if (!Number.isInteger(v)) return `must be an integer (epoch ms) (got ${describe(v)})`;
  if (v < MIN_TIMESTAMP_MS) {
    const hint = v >= 1e9 && v < 1e11 ? '; this looks like epoch seconds' : '';
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
  (typeof v === 'string' && v.length > 0) || (typeof v === 'number' && Number.isFinite(v))
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
  action: { required: true, check: oneOf('accept', 'reject') },
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
  optimizationType: { required: true, check: oneOf('personalization', 'experiment') },
  device: { required: true, check: oneOf('all') },
};

const CHOOSE_IDENTIFICATION = {
  profileId: { required: true, check: nonEmptyString },
  sourceId: { required: true, check: nonEmptyString },
};

/** Hints for keys that are easy to put in the wrong place. */
const KEY_HINTS = {
  sourceId: ' (sourceId belongs in the URL path, not in the item)',
  properties: ' (event properties go in "data")',
};

/**
 * The method → item table of wire doc §3, as rules over one item. Only
 * identify/group/alias use the reserved title, and each of them sends exactly
 * one id and no properties; record() may send any other combination (every
 * field given), so non-"Identify" names are only barred from anotherUserId.
 */
const TRACK_ITEM_RULES = [
  (name, it) =>
    name === IDENTIFY && !('userId' in it) && !('accountId' in it)
      ? 'name "Identify" needs userId (identify/alias) or accountId (group)'
      : null,
  (name, it) =>
    name === IDENTIFY && 'userId' in it && 'accountId' in it
      ? 'name "Identify" carries userId or accountId, not both (no call sends both under "Identify")'
      : null,
  ...['data', 'userAttributes', 'accountAttributes'].map((key) => (name, it) =>
    name === IDENTIFY && key in it
      ? `.${key} is not allowed with name "Identify" (attributes need an event title other than 'Identify'; "Identify" is reserved)`
      : null,
  ),
  (name, it) =>
    'anotherUserId' in it && name !== IDENTIFY
      ? `.anotherUserId is only sent by alias(), whose name is "Identify" (got name ${JSON.stringify(name)})`
      : null,
  (name, it) =>
    'anotherUserId' in it && !('userId' in it) ? '.anotherUserId needs userId (alias(p, u, other))' : null,
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
      errors.add(`${where}.${key} is not a known key${KEY_HINTS[key] ?? ''} (allowed: ${Object.keys(table).join(', ')})`);
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
  if (!checkObject(body, 'body', { track: { required: true, check: () => null } }, errors)) return errors;
  const { track } = body;
  if (!Array.isArray(track)) {
    if (track !== undefined && track !== null) errors.add(`body.track must be an array (got ${describe(track)})`);
    return errors;
  }
  if (track.length === 0) errors.add('body.track must be a non-empty array');
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
        if (reason) errors.add(reason.startsWith('.') ? `${itemWhere}${reason}` : `${itemWhere}: ${reason}`);
      }
    });
  });
  return errors;
}

function checkConfiguredSource(where, sourceId, config, errors) {
  if (config.sourceId !== undefined && typeof sourceId === 'string' && sourceId !== config.sourceId) {
    errors.add(`${where} ${JSON.stringify(sourceId)} does not match the configured source ${JSON.stringify(config.sourceId)}`);
  }
}

function validateConsents(body, config) {
  const errors = new Errors();
  if (checkObject(body, 'body', CONSENT, errors)) checkConfiguredSource('body.sourceId', body.sourceId, config, errors);
  return errors;
}

function validateChoose(body, config) {
  const errors = new Errors();
  if (!checkObject(body, 'body', CHOOSE, errors)) return errors;
  if (isPlainObject(body.identification)) {
    checkObject(body.identification, 'body.identification', CHOOSE_IDENTIFICATION, errors);
    checkConfiguredSource('body.identification.sourceId', body.identification.sourceId, config, errors);
  }
  if ('groups' in body && 'names' in body) errors.add('body: send groups or names, not both');
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
  { kind: 'track', pattern: ['v1', ':organization', 'projects', ':project', 'sources', ':sourceId', 'track'] },
  { kind: 'consents', pattern: ['v1', ':organization', 'projects', ':project', 'consents', 'data'] },
  { kind: 'choose', pattern: ['v1', ':organization', 'projects', ':project', 'optimization', 'choose-api'] },
];
const ROUTE_HELP = `expected one of ${[
  '…/v1/{organization}/projects/{project}/sources/{sourceId}/track',
  '…/v1/{organization}/projects/{project}/consents/data',
  '…/v1/{organization}/projects/{project}/optimization/choose-api',
].join(', ')}`;

/** Splits a request target into its raw path and query string. */
function splitTarget(target) {
  let rest = target;
  // Absolute-form (only proxies send it), keep just the path.
  const abs = /^[a-z][a-z0-9+.-]*:\/\/[^/?]*/i.exec(rest);
  if (abs) rest = rest.slice(abs[0].length) || '/';
  const q = rest.indexOf('?');
  return q === -1 ? { rawPath: rest, rawQuery: '' } : { rawPath: rest.slice(0, q), rawQuery: rest.slice(q + 1) };
}

/** → { kind, params } | { kind, status, error } for a contract path. */
function matchRoute(rawPath) {
  const segments = rawPath.split('/');
  for (const { kind, pattern } of ROUTES) {
    // +1: the segment before /v1 (or the leading empty segment) must exist.
    if (segments.length < pattern.length + 1) continue;
    const tail = segments.slice(segments.length - pattern.length);
    if (!pattern.every((p, i) => p.startsWith(':') || p === tail[i])) continue;
    const params = {};
    for (const [i, p] of pattern.entries()) {
      if (!p.startsWith(':')) continue;
      const name = p.slice(1);
      try {
        params[name] = decodeURIComponent(tail[i]);
      } catch {
        return { kind, status: 400, error: `path segment {${name}} has malformed percent-encoding` };
      }
      if (params[name] === '') return { kind, status: 404, error: `path segment {${name}} is empty` };
    }
    return { kind, params };
  }
  return { kind: 'unknown', status: 404, error: `no such endpoint ${JSON.stringify(rawPath)}: ${ROUTE_HELP}` };
}

/** When the server was started with a fixed organization/project/sourceId, the path must match it. */
function checkConfiguredPath(params, config) {
  for (const name of ['organization', 'project', 'sourceId']) {
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
  const dot = typeof apiKey === 'string' ? apiKey.indexOf('.') : -1;
  if (dot <= 0 || dot === apiKey.length - 1) {
    throw new Error('apiKey must have the form identifier.secret (both halves non-empty)');
  }
  return { identifier: apiKey.slice(0, dot), secret: apiKey.slice(dot + 1) };
}

function sameSecret(a, b) {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** → { authMode, status?, error? } — status absent means authenticated. */
function checkAuth(headers, query, config) {
  const header = headers.authorization;
  const queryKeys = query.getAll('apiKey');
  const hasHeader = header !== undefined;
  const hasQuery = queryKeys.length > 0;
  if (hasHeader && hasQuery) {
    return { authMode: 'both', status: 400, error: 'send the API key in the header or the query, not both' };
  }
  if (hasQuery) {
    if (queryKeys.length > 1) return { authMode: 'query', status: 400, error: 'query parameter apiKey given more than once' };
    return sameSecret(queryKeys[0], config.apiKey)
      ? { authMode: 'query' }
      : { authMode: 'query', status: 401, error: 'invalid API key (query parameter apiKey)' };
  }
  if (!hasHeader) {
    return { authMode: null, status: 401, error: 'missing API key: send Authorization: Basic base64(identifier:secret)' };
  }
  const m = /^basic +([A-Za-z0-9+/]+={0,2})$/i.exec(header.trim());
  if (!m || m[1].length % 4 !== 0) {
    return { authMode: 'header', status: 401, error: 'Authorization header must be "Basic " + base64(identifier:secret)' };
  }
  const { identifier, secret } = splitApiKey(config.apiKey);
  return sameSecret(Buffer.from(m[1], 'base64').toString('utf8'), `${identifier}:${secret}`)
    ? { authMode: 'header' }
    : { authMode: 'header', status: 401, error: 'invalid API key (Authorization header)' };
}

// ---------------------------------------------------------------------------
// Header checks
// ---------------------------------------------------------------------------

function checkContentHeaders(headers) {
  const encoding = headers['content-encoding'];
  // The real API answers 400 to gzip (wire doc §3); identity is harmless.
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    return { status: 400, error: `compressed bodies are rejected (Content-Encoding: ${encoding}); send plain JSON` };
  }
  const type = headers['content-type'];
  if (type === undefined) return { status: 415, error: 'Content-Type: application/json is required' };
  const [media, ...params] = type.split(';').map((s) => s.trim().toLowerCase());
  if (media !== 'application/json') return { status: 415, error: `Content-Type must be application/json (got ${JSON.stringify(type)})` };
  const charset = params.find((p) => p.startsWith('charset='));
  if (charset && !/^charset="?utf-8"?$/.test(charset)) {
    return { status: 415, error: `Content-Type charset must be utf-8 (got ${JSON.stringify(type)})` };
  }
  return null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** → { value } | { error } */
function parseJsonBody(buffer) {
  let text;
  try {
    text = utf8.decode(buffer);
  } catch {
    return { error: 'body is not valid UTF-8' };
  }
  if (text.length === 0) return { error: 'body is empty; a JSON object is required' };
  try {
    return { value: JSON.parse(text) };
  } catch (e) {
    return { error: `body is not valid JSON: ${e.message}` };
  }
}

// ---------------------------------------------------------------------------
// Fault plan
// ---------------------------------------------------------------------------

const FAULT_KEYS = ['ok', 'status', 'retryAfter', 'body', 'headers', 'location', 'delayMs', 'hang', 'drop'];

const isRetryAfter = (v) => (typeof v === 'string' ? /^(\d+|http-date:\+\d+)$/.test(v) : Number.isInteger(v) && v >= 0);
const isStringMap = (v) => isPlainObject(v) && Object.values(v).every((x) => typeof x === 'string');
const alone = (f) => Object.keys(f).length === 1;
/** A redirect's Location: a path on this server (so the target can answer and
 *  record the hit), never the control API or the viewer's root. */
const isRedirectPath = (v) => typeof v === 'string' && /^\/[^/]/.test(v) && !v.startsWith('/_intempt/') && !/[\s#]/.test(v);
/** The path part of a Location (what the redirect target is matched on). */
const locationPath = (location) => splitTarget(location).rawPath;

/** [isBroken(fault), reason]: what makes a fault malformed, one rule a line. */
const FAULT_RULES = [
  [(f) => 'ok' in f && (f.ok !== true || !alone(f)), ': {"ok":true} stands alone'],
  [(f) => 'status' in f && !(Number.isInteger(f.status) && f.status >= 200 && f.status <= 599), '.status must be an integer 200–599'],
  [(f) => 'retryAfter' in f && !isRetryAfter(f.retryAfter), '.retryAfter must be seconds ("2" or 2) or "http-date:+<seconds>"'],
  [(f) => 'headers' in f && !isStringMap(f.headers), '.headers must be an object of string values'],
  ...['retryAfter', 'body', 'headers'].map((k) => [(f) => k in f && !('status' in f), `.${k} needs a status`]),
  [(f) => 'location' in f && !(Number.isInteger(f.status) && f.status >= 300 && f.status <= 399), '.location needs a status 300–399'],
  [(f) => 'location' in f && !isRedirectPath(f.location), '.location must be a path on this server: "/…", not "//…", "/" or "/_intempt/…", no spaces or "#"'],
  [(f) => 'delayMs' in f && !(Number.isInteger(f.delayMs) && f.delayMs >= 0 && f.delayMs <= MAX_DELAY_MS), `.delayMs must be an integer 0–${MAX_DELAY_MS}`],
  [(f) => 'hang' in f && (f.hang !== true || !alone(f)), ': {"hang":true} stands alone'],
  [(f) => 'drop' in f && f.drop !== 'before' && f.drop !== 'mid', '.drop must be "before" or "mid"'],
  [(f) => 'drop' in f && 'status' in f, ': drop cannot be combined with status (drop "mid" cuts the real response)'],
  [(f) => !['ok', 'status', 'delayMs', 'hang', 'drop'].some((k) => k in f), ' needs one of ok, status, delayMs, hang, drop'],
];

/** Validates one fault; returns a list of messages (empty when fine). */
function validateFault(f, where) {
  if (!isPlainObject(f)) return [`${where} must be an object (got ${describe(f)})`];
  const unknown = Object.keys(f).filter((k) => !FAULT_KEYS.includes(k));
  return [
    ...unknown.map((k) => `${where}.${k} is not a known key (allowed: ${FAULT_KEYS.join(', ')})`),
    ...FAULT_RULES.filter(([broken]) => broken(f)).map(([, reason]) => `${where}${reason}`),
  ];
}

function validateRandom(random) {
  if (!isPlainObject(random)) return ['random must be an object or null'];
  const allowed = ['seed', 'probability', 'modes', 'maxFaults'];
  const errors = Object.keys(random)
    .filter((k) => !allowed.includes(k))
    .map((k) => `random.${k} is not a known key (allowed: ${allowed.join(', ')})`);
  const { seed, probability, modes, maxFaults } = random;
  if (!Number.isInteger(seed)) errors.push('random.seed must be an integer');
  if (!(typeof probability === 'number' && probability >= 0 && probability <= 1)) errors.push('random.probability must be a number 0–1');
  if (!Array.isArray(modes) || modes.length === 0) errors.push('random.modes must be a non-empty array of faults');
  else modes.forEach((f, i) => errors.push(...validateFault(f, `random.modes[${i}]`)));
  if ('maxFaults' in random && !(Number.isInteger(maxFaults) && maxFaults >= 0)) errors.push('random.maxFaults must be an integer ≥ 0');
  return errors;
}

/** Validates a POST /_intempt/faults body; → { plan } | { errors } */
function parseFaultPlan(body) {
  if (!isPlainObject(body)) return { errors: ['body must be {"queue":[…],"random":{…}|null}'] };
  const errors = Object.keys(body)
    .filter((k) => k !== 'queue' && k !== 'random')
    .map((k) => `${k} is not a known key (allowed: queue, random)`);
  const queue = body.queue ?? [];
  if (!Array.isArray(queue)) errors.push('queue must be an array of faults');
  else queue.forEach((f, i) => errors.push(...validateFault(f, `queue[${i}]`)));
  const random = body.random ?? null;
  if (random !== null) errors.push(...validateRandom(random));
  return errors.length ? { errors } : { plan: { queue: [...queue], random } };
}

/** mulberry32: tiny, well-known, deterministic from a 32-bit seed. */
function mulberry32(seed) {
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
    const isText = typeof body === 'string';
    payload = Buffer.from(isText ? body : JSON.stringify(body));
    out['content-type'] ??= isText ? 'text/plain; charset=utf-8' : 'application/json';
  }
  if (!noBody) out['content-length'] = String(payload.length);
  res.writeHead(status, out);
  res.end(noBody ? undefined : payload);
}

const errorBody = (message) => ({ errors: [{ message }] });
const errorBodyAll = (messages) => ({ errors: messages.map((message) => ({ message })) });

/** Reads the whole body, keeping at most `limit` bytes (the rest is drained so keep-alive stays in sync). */
function readBody(req, limit) {
  return new Promise((resolve) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
    });
    req.on('end', () => resolve({ buffer: Buffer.concat(chunks), size, tooLarge: size > limit }));
    req.on('error', () => resolve({ buffer: Buffer.concat(chunks), size, tooLarge: size > limit, aborted: true }));
  });
}

function redactedQuery(query) {
  const out = {};
  for (const [k, v] of query) {
    const value = k === 'apiKey' ? '[redacted]' : v;
    if (k in out) out[k] = [].concat(out[k], value);
    else out[k] = value;
  }
  return out;
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
      viewerPage = { html: readFileSync(VIEWER_PATH, 'utf8') };
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
  const needles = [apiKey, pair, Buffer.from(pair).toString('base64'), secret]
    .filter((n, i, all) => n.length >= 4 && all.indexOf(n) === i)
    .map((n) => JSON.stringify(n).slice(1, -1))
    .sort((a, b) => b.length - a.length);
  return (text) => needles.reduce((acc, n) => acc.split(n).join('[redacted]'), text);
}

/** Which of the viewer's counters a request is in: rejected = answered ≥ 400 by the checks (not by an injected status). */
const viewerClass = (rec) => (rec.status === null ? 'pending' : rec.status >= 400 && !rec.fault?.status ? 'rejected' : null);

/** One request as the viewer sees it: the record without credentials, plus its stored events. */
function requestView(rec, events) {
  const headers = {};
  for (const [k, v] of Object.entries(rec.headers)) headers[k] = VIEWER_HIDDEN_HEADERS.has(k) ? '[redacted]' : v;
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
    faults: { queue: [], random: null, rng: null, randomFaults: 0, applied: 0 },
    // Paths a redirect fault pointed a client at (its Location), and every
    // request that arrived there: a client that follows a redirect shows up here.
    redirectTargets: new Set(),
    redirectHits: [],
    nextRequestId: 1,
    connections: 0,
  };
}

function stats(state) {
  const ids = new Set(state.events.map((e) => e.item.eventId));
  const byStatus = {};
  for (const r of state.requests) {
    const key = r.status === null ? 'none' : String(r.status);
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
    host: opts.host ?? '127.0.0.1',
    apiKey: opts.apiKey ?? 'test-id.test-secret',
    organization: opts.organization,
    project: opts.project,
    sourceId: opts.sourceId,
    maxBodyBytes: opts.maxBodyBytes ?? 5 * 1024 * 1024,
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
      .flatMap(([k, v]) => [].concat(v).map((x) => `${encodeURIComponent(k)}=${x === '[redacted]' ? x : encodeURIComponent(x)}`))
      .join('&');
    const fault = rec.fault ? ` fault=${JSON.stringify(rec.fault)}` : '';
    const err = rec.error ? ` error=${JSON.stringify(rec.error)}` : '';
    process.stderr.write(`ingest-server: #${rec.id} ${rec.method} ${rec.path}${q ? `?${q}` : ''} → ${rec.status ?? '-'} ${rec.kind}${fault}${err} ${ms}ms\n`);
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
    const parsed = parseFaultPlan(plan);
    if (parsed.errors) throw new Error(parsed.errors.join('; '));
    Object.assign(state.faults, parsed.plan, {
      rng: parsed.plan.random ? mulberry32(parsed.plan.random.seed) : null,
      randomFaults: 0,
    });
  };

  const reset = () => {
    for (const key of ['events', 'requests', 'consents', 'chooses', 'redirectHits']) state[key].length = 0;
    state.redirectTargets.clear();
    Object.assign(state.faults, { queue: [], random: null, rng: null, randomFaults: 0, applied: 0 });
    state.choices = structuredClone(initialChoices);
    state.nextRequestId = 1;
    eventsOf.clear();
    counted = new WeakMap();
    Object.assign(counters, { rejected: 0, pending: 0 });
    broadcast('reset', { stats: viewerStats() });
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
    broadcast('request', { request: requestView(rec, eventsOf.get(rec.id)), stats: viewerStats() });
  }

  function serveViewer(res) {
    const page = loadViewerPage();
    if (page.error) return send(res, 500, `${page.error}\n`);
    return send(res, 200, page.html, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': VIEWER_CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
  }

  /** GET /_intempt/stream: a snapshot of the newest requests, then every change, plus heartbeats. */
  function openStream(req, res) {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
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
    res.on('close', () => {
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

  /** Runs the checks in the order a real gateway would and stores what passes. → { status, body?, error } */
  function processRequest(rec, req, bodyRead, route, query) {
    if (req.method !== 'POST') return { status: 405, error: `method ${req.method} not allowed; use POST`, headers: { allow: 'POST' } };
    if (route.status) return { status: route.status, error: route.error };
    const pathError = checkConfiguredPath(route.params, config);
    if (pathError) return { status: 404, error: pathError };
    const auth = checkAuth(req.headers, query, config);
    rec.authMode = auth.authMode;
    if (auth.status) {
      return { status: auth.status, error: auth.error, headers: auth.status === 401 ? { 'www-authenticate': 'Basic realm="intempt"' } : {} };
    }
    if (bodyRead.tooLarge) return { status: 413, error: `body is ${bodyRead.size} bytes; the limit is ${config.maxBodyBytes} bytes` };
    const headerError = checkContentHeaders(req.headers);
    if (headerError) return headerError;
    const parsed = parseJsonBody(bodyRead.buffer);
    if (parsed.error) return { status: 400, error: parsed.error };
    const errors = VALIDATORS[route.kind](parsed.value, config);
    if (!errors.ok) return { status: 400, error: errors.messages().join('; '), messages: errors.messages() };
    return store(rec, route, parsed.value);
  }

  function store(rec, route, body) {
    const { organization, project, sourceId } = route.params;
    const receivedAt = Date.now();
    if (route.kind === 'track') {
      const stored = body.track.map(({ name, payload }) => ({ name, item: payload[0], organization, project, sourceId, requestId: rec.id, receivedAt }));
      for (const e of stored) state.events.push(e);
      eventsOf.set(rec.id, stored);
      notifyWaiters();
      return { status: 201 };
    }
    if (route.kind === 'consents') {
      state.consents.push({ body, organization, project, requestId: rec.id, receivedAt });
      return { status: 200, body: {} };
    }
    state.chooses.push({ body, organization, project, requestId: rec.id, receivedAt });
    return { status: 200, body: { choices: state.choices } };
  }

  function respond(rec, res, outcome) {
    rec.status = outcome.status;
    rec.error = outcome.error ?? null;
    const body = outcome.error ? errorBodyAll(outcome.messages ?? [outcome.error]) : outcome.body;
    send(res, outcome.status, body, outcome.headers);
  }

  /** Writes a status line and half a header, then cuts the connection: the
   *  server accepted the request but the client never learns it. */
  function dropMid(socket, status) {
    const partial = `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Unknown'}\r\nContent-Type: appl`;
    socket.write(partial, () => socket.destroy());
  }

  async function handleContract(req, res, rec, route, query) {
    const fault = nextFault(state);
    rec.fault = fault ?? null;
    if (fault) state.faults.applied += 1;
    // Recorded even when a fault pre-empts the checks: retry tests assert how each attempt authenticated.
    rec.authMode = checkAuth(req.headers, query, config).authMode;
    const bodyRead = await readBody(req, config.maxBodyBytes);
    rec.body = bodyRead.tooLarge ? null : bodyRead.buffer.toString('utf8');
    let clientGone = false;
    res.on('close', () => {
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
      rec.error = 'injected hang';
      return; // never answer; close() destroys the socket
    }
    if (fault?.drop === 'before') {
      rec.error = 'injected drop before response';
      req.socket.destroy();
      return;
    }
    if (fault?.status) {
      const headers = { ...(fault.headers ?? {}) };
      if (fault.retryAfter !== undefined) headers['retry-after'] = retryAfterValue(fault.retryAfter);
      if (fault.location !== undefined) {
        // From now on the target answers 200 to anything and records the hit.
        state.redirectTargets.add(locationPath(fault.location));
        headers.location = fault.location;
      }
      rec.status = fault.status;
      rec.error = `injected ${fault.status}`;
      const body = 'body' in fault ? fault.body : fault.status >= 400 ? errorBody(`injected ${fault.status}`) : undefined;
      send(res, fault.status, body, headers);
      return;
    }
    // A client that gave up during an injected delay never sees an answer; we
    // do not store its request either, so a timeout-and-retry yields one event.
    if (clientGone || req.socket.destroyed) {
      rec.error = 'client went away during the injected delay; not processed';
      return;
    }
    const outcome = processRequest(rec, req, bodyRead, route, query);
    if (fault?.drop === 'mid') {
      rec.status = outcome.status;
      rec.error = outcome.error ?? 'injected drop after processing';
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
      body: bodyRead.tooLarge ? null : bodyRead.buffer.toString('utf8'),
      receivedAt: Date.now(),
    });
    send(res, 200, { choices: [] });
  }

  // ---- control API ----

  async function handleControl(req, res, rawPath, query) {
    const name = rawPath.slice('/_intempt/'.length);
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
    if (req.method === 'GET' && name in reads) return send(res, 200, reads[name]());
    if (req.method === 'GET' && name === 'stream') return openStream(req, res);
    if ((req.method === 'GET' || req.method === 'HEAD') && name === 'viewer') return serveViewer(res);
    if (req.method === 'GET' && name === 'wait') {
      const n = Number(query.get('events') ?? '1');
      const timeoutMs = Number(query.get('timeoutMs') ?? '5000');
      if (!Number.isInteger(n) || n < 0 || !Number.isFinite(timeoutMs) || timeoutMs < 0) {
        return send(res, 400, errorBody('wait needs events=<integer ≥ 0> and timeoutMs=<ms ≥ 0>'));
      }
      const ok = await waitForEvents(n, timeoutMs);
      return send(res, ok ? 200 : 408, stats(state));
    }
    if (req.method === 'POST' && name === 'reset') {
      reset();
      return send(res, 200, { ok: true });
    }
    if (req.method === 'POST' && (name === 'faults' || name === 'choices')) {
      const parsed = readJson();
      if (parsed.error) return send(res, 400, errorBody(parsed.error));
      if (name === 'faults') {
        const plan = parseFaultPlan(parsed.value);
        if (plan.errors) return send(res, 400, errorBodyAll(plan.errors));
        setFaults(parsed.value);
        return send(res, 200, { ok: true });
      }
      // Either {"choices": <any JSON>} or a bare array; any shape is allowed on
      // purpose so tests can feed the SDK the odd shapes seen in the wild.
      const v = parsed.value;
      if (Array.isArray(v)) setChoices(v);
      else if (isPlainObject(v) && 'choices' in v) setChoices(v.choices);
      else return send(res, 400, errorBody('body must be {"choices": …} or an array'));
      return send(res, 200, { ok: true });
    }
    const known = [...Object.keys(reads), 'wait', 'reset', 'faults', 'choices', 'stream', 'viewer'];
    if (known.includes(name)) return send(res, 405, errorBody(`method ${req.method} not allowed on /_intempt/${name}`));
    return send(res, 404, errorBody(`unknown control endpoint /_intempt/${name} (known: ${known.join(', ')})`));
  }

  // ---- dispatch ----

  async function onRequest(req, res) {
    const started = Date.now();
    const { rawPath, rawQuery } = splitTarget(req.url);
    const query = new URLSearchParams(rawQuery);
    // The viewer page at the root; like the control API it is not a contract request.
    if (rawPath === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
      serveViewer(res);
      return;
    }
    if (rawPath.startsWith('/_intempt/')) {
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
  server.on('connection', (socket) => {
    state.connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address();
  const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host;

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
      port: { type: 'string' },
      host: { type: 'string' },
      'api-key': { type: 'string' },
      organization: { type: 'string' },
      project: { type: 'string' },
      'source-id': { type: 'string' },
      'max-body-bytes': { type: 'string' },
      log: { type: 'boolean' },
    },
    strict: true,
  });
  const server = await startIngestServer({
    port: values.port !== undefined ? Number(values.port) : 0,
    host: values.host,
    apiKey: values['api-key'],
    organization: values.organization,
    project: values.project,
    sourceId: values['source-id'],
    maxBodyBytes: values['max-body-bytes'] !== undefined ? Number(values['max-body-bytes']) : undefined,
    log: values.log ?? false,
  });
  process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
  const stop = async () => {
    await server.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`ingest-server: ${e.message}\n`);
    process.exit(1);
  });
}
