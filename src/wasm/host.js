// The crate's JavaScript: every helper the wasm imports (src/wasm/js.rs
// declares them for Rust, one `extern` block over this module). wasm-bindgen
// copies this file into its output's snippets/ folder, so it must stay one
// self-contained ES module (no imports); scripts/build.sh bundles it into the
// npm package's glue, minified.
//
// Anything that can run code we did not write — a caller's getter or Proxy
// trap, a `fetch` option and the object it resolves to, a `logger`, a
// `waitUntil`, `console.log`, the runtime's timers — is touched only here.
// Each helper runs that code inside `try`/`catch` and hands back plain data
// that it made itself (strings, numbers, fresh arrays and objects), so nothing
// can throw through wasm (a trap, or Rust state left half-updated), and every
// promise it returns resolves, in bounded time.
//
// Unit tests: tests/js/host.test.mjs (node --test).

const noop = () => {};

// ---- the numeric codes --------------------------------------------------------
// The numbers the helpers hand to Rust, by name. This is their only home:
// build.rs reads these four objects (each `export const NAME = { key: number, … };`)
// and writes them for Rust as src/wasm/code.rs's `kind::HUGE_STRING`, ….
// propsJson answers a PROBLEM code or the KIND of a value JSON cannot carry,
// so PROBLEM starts above KIND (tooLarge shares hugeString's 13; notAnObject is
// added to the top value's KIND).
export const KIND = {
  string: 0,
  number: 1,
  boolean: 2,
  null: 3,
  undefined: 4,
  array: 5,
  object: 6,
  date: 7,
  function: 8,
  symbol: 9,
  bigint: 10,
  other: 11,
  threw: 12,
  hugeString: 13,
};
export const PROBLEM = { tooLarge: 13, nonFinite: 20, undefinedInArray: 21, invalidDate: 22, tooDeep: 23, notAnObject: 30 };
export const LIST = { tooMany: 1, hole: 2, notString: 3, tooLong: 4, threw: 5 };
export const SENT = { ok: 0, network: 1, timeout: 2, redirected: 3 };

// ---- caller values --------------------------------------------------------
export function kindOf(v, maxLen) {
  const t = typeof v;
  if (t === "string") return v.length > maxLen ? KIND.hugeString : KIND.string;
  // number, boolean, undefined, function, symbol, bigint: KIND has each.
  if (t !== "object") return KIND[t];
  if (v === null) return KIND.null;
  try {
    if (Array.isArray(v)) return KIND.array;
    const p = Object.getPrototypeOf(v);
    if (p === Object.prototype || p === null) return KIND.object;
    if (p === Date.prototype) return KIND.date;
    return KIND.other;
  } catch (_) {
    return KIND.threw;
  }
}
export function str(v, maxLen) {
  return typeof v === "string" && v.length <= maxLen ? v : undefined;
}
export function readField(o, key) {
  try {
    return { ok: true, value: o[key] };
  } catch (_) {
    return { ok: false, value: undefined };
  }
}
// The string keys of an options object (long ones cut: no option name is
// long), or null if listing them threw.
export function ownKeys(o) {
  try {
    const keys = Reflect.ownKeys(o),
      out = [];
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (typeof k === "string") out[out.length] = k.length > 64 ? k.slice(0, 64) + "…" : k;
    }
    return out;
  } catch (_) {
    return null;
  }
}
// A copy of an array of strings, or a fault { code, index, kind, length }:
// `length` is read once and checked before any item is.
export function stringList(v, maxItems, maxChars) {
  let i = -1;
  const fault = (code, kind, length) => ({ code, index: i, kind, length });
  try {
    const n = v.length;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0) return fault(LIST.threw, 0, 0);
    if (n > maxItems) return fault(LIST.tooMany, 0, n);
    const out = [];
    let chars = 0;
    for (i = 0; i < n; i++) {
      if (!(i in v)) return fault(LIST.hole, 0, n);
      const x = v[i];
      if (typeof x !== "string") return fault(LIST.notString, kindOf(x, Infinity), n);
      chars += x.length;
      if (chars > maxChars) return fault(LIST.tooLong, 0, n);
      out[i] = x;
    }
    return out;
  } catch (_) {
    return fault(LIST.threw, 0, 0);
  }
}
// propsJson: JSON text of a plain object, "" for undefined/null, or undefined
// with the reason in faultKind()/faultPath(): a PROBLEM, or the KIND of a value
// JSON cannot carry (PROBLEM.notAnObject + its KIND at the top).
let fault = { kind: 0, path: "" };
export function faultKind() {
  return fault.kind;
}
export function faultPath() {
  return fault.path;
}
function fail(kind) {
  fault = { kind, path: "" };
  return undefined;
}
function at(segment) {
  fault.path = segment + fault.path;
  return undefined;
}
function write(v, depth, maxDepth) {
  switch (typeof v) {
    case "string":
      return JSON.stringify(v);
    case "number":
      return Number.isFinite(v) ? JSON.stringify(v) : fail(PROBLEM.nonFinite);
    case "boolean":
      return v ? "true" : "false";
    case "undefined":
      return fail(PROBLEM.undefinedInArray);
    case "function":
    case "symbol":
    case "bigint":
      return fail(KIND[typeof v]);
  }
  if (v === null) return "null";
  if (depth >= maxDepth) return fail(PROBLEM.tooDeep);
  let proto;
  try {
    if (Array.isArray(v)) {
      let out = "[";
      for (let i = 0, n = v.length; i < n; i++) {
        const s = write(v[i], depth + 1, maxDepth);
        if (s === undefined) return at("[" + i + "]");
        out += i === 0 ? s : "," + s;
      }
      return out + "]";
    }
    proto = Object.getPrototypeOf(v);
    if (proto === Object.prototype || proto === null) {
      let out = "{";
      const keys = Object.keys(v);
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i];
        const item = v[key];
        // As JSON.stringify does, a key whose value is undefined is left out.
        if (item === undefined) continue;
        const s = write(item, depth + 1, maxDepth);
        if (s === undefined) return at("." + key);
        out += (out.length === 1 ? "" : ",") + JSON.stringify(key) + ":" + s;
      }
      return out + "}";
    }
    if (proto === Date.prototype) {
      return Number.isNaN(Date.prototype.getTime.call(v)) ? fail(PROBLEM.invalidDate) : JSON.stringify(Date.prototype.toISOString.call(v));
    }
  } catch (_) {
    return fail(KIND.threw);
  }
  return fail(KIND.other);
}
// maxDepth: how deep values may nest (Rust's MAX_DEPTH).
export function propsJson(v, maxLen, maxDepth) {
  if (v === undefined || v === null) return "";
  let top;
  try {
    top = typeof v === "object" && !Array.isArray(v) ? Object.getPrototypeOf(v) : undefined;
  } catch (_) {
    return fail(KIND.threw);
  }
  if (top !== Object.prototype && top !== null) return fail(PROBLEM.notAnObject + kindOf(v, Infinity));
  const out = write(v, 0, maxDepth);
  if (out === undefined) return undefined;
  return out.length > maxLen ? fail(PROBLEM.tooLarge) : out;
}
// ---- beforeSend -------------------------------------------------------------
// The event's keys as the hook sees them (the contract's item keys, and the
// name), in the order beforeSend hands them back: strings, then objects.
const EVENT_KEYS = ["name", "profileId", "userId", "accountId", "anotherUserId", "data", "userAttributes", "accountAttributes"];
const STRING_KEYS = 5;
const NAMES = [
  "a string",
  "a number",
  "a boolean",
  "null",
  "undefined",
  "an array",
  "an object",
  "a Date",
  "a function",
  "a symbol",
  "a BigInt",
  "a class instance",
  "a value that threw when read",
  "a string",
];
function what(v) {
  return NAMES[kindOf(v, Infinity)];
}
// Calls the hook with a fresh copy of the event (JSON text we wrote) and
// copies what it returned into plain data: null when it dropped the event
// (it returned null); { why } saying how it failed; { field } when that
// object cannot be sent (the reason in faultKind()/faultPath(), as for a
// call's properties); or else the EVENT_KEYS' values as one string, one
// line each, empty when absent: strings as JSON string literals, objects as
// JSON text (neither holds a raw newline). One crossing back into wasm.
// Strings longer than maxString and objects longer than maxLen are refused
// before any copy.
export function beforeSend(f, json, maxString, maxLen, maxDepth) {
  let out;
  const fault = (why) => ({ why });
  try {
    out = f(JSON.parse(json));
  } catch (e) {
    return fault("it threw " + describe(e, "a non-Error"));
  }
  if (out === null) return null;
  if (out === undefined) return fault("it returned undefined");
  try {
    if (typeof out !== "object" && typeof out !== "function") return fault("it returned " + what(out));
    if (typeof out.then === "function") {
      quietly(out);
      return fault("it returned a promise (a thenable); it must return the event, or null, synchronously");
    }
    const proto = Object.getPrototypeOf(out);
    if (Array.isArray(out) || (proto !== Object.prototype && proto !== null)) return fault("it returned " + what(out) + ", not a plain object");
    const keys = Object.keys(out);
    for (let i = 0; i < keys.length; i++) {
      if (!EVENT_KEYS.includes(keys[i])) {
        const k = keys[i].length > 64 ? keys[i].slice(0, 64) + "…" : keys[i];
        return fault("it returned an event with the unknown key " + JSON.stringify(k) + " (the keys are " + EVENT_KEYS.join(", ") + ")");
      }
    }
    let text = "";
    for (let i = 0; i < EVENT_KEYS.length; i++) {
      const v = out[EVENT_KEYS[i]];
      let line = "";
      if (i < STRING_KEYS) {
        if (typeof v === "string") {
          if (v.length > maxString) return fault("it returned an event whose " + EVENT_KEYS[i] + " is longer than " + maxString + " characters");
          line = JSON.stringify(v);
        } else if (v !== undefined && v !== null) {
          return fault("it returned an event whose " + EVENT_KEYS[i] + " is " + what(v) + ", not a string");
        }
      } else {
        line = propsJson(v, maxLen, maxDepth);
        if (line === undefined) return { field: EVENT_KEYS[i] };
      }
      text += i === 0 ? line : "\n" + line;
    }
    return text;
  } catch (e) {
    return fault("it returned an event that threw when read: " + describe(e, "a getter or Proxy"));
  }
}
// ---- callbacks and the host -----------------------------------------------
// Waits for a thenable without ever letting its rejection go unhandled.
function quietly(p) {
  try {
    if (p !== null && (typeof p === "object" || typeof p === "function")) {
      const then = p.then;
      if (typeof then === "function") then.call(p, noop, noop);
    }
  } catch (_) {}
}
// A logger or waitUntil: what it throws or returns is ignored.
export function callGuarded(f, arg) {
  try {
    quietly(f(arg));
  } catch (_) {}
}
export function consoleLog(line) {
  try {
    console.log(line);
  } catch (_) {}
}
// Cloudflare Workers (workerd): each request runs in a context of its own.
export function hasRequestContexts() {
  try {
    return typeof navigator === "object" && navigator !== null && navigator.userAgent === "Cloudflare-Workers";
  } catch (_) {
    return false;
  }
}
export function consoleWarn(line) {
  try {
    console.warn(line);
  } catch (_) {}
}
// Without a class that works, an Error shaped as the package's IntemptError
// (pkg-template/error.js; tests/js/error.test.mjs holds the two together).
export function makeError(Class, code, message, status) {
  try {
    if (typeof Class === "function") return new Class(code, message, status);
  } catch (_) {}
  const e = /** @type {Error & { code?: string, status?: number }} */ (new Error(message));
  e.name = "IntemptError";
  e.code = code;
  if (status !== undefined) e.status = status;
  return e;
}
export function fillRandom(buf) {
  try {
    crypto.getRandomValues(buf);
    return true;
  } catch (_) {
    return false;
  }
}
// setTimeout's delay is a signed 32-bit number (a longer one fires at once).
const MAX_DELAY = 2147483647;
// unref: the timer must not keep a Node, Bun or Deno process alive.
export function setTimer(callback, ms, unref) {
  let id;
  try {
    id = setTimeout(callback, Math.min(Math.max(ms, 0), MAX_DELAY));
  } catch (_) {
    return undefined;
  }
  if (unref) {
    try {
      // Node and Bun: the timer is an object with unref(); Deno: a number.
      const timer = /** @type {any} */ (id);
      const deno = /** @type {any} */ (globalThis).Deno;
      if (timer !== null && typeof timer === "object" && typeof timer.unref === "function") timer.unref();
      else if (typeof deno === "object" && deno !== null && typeof deno.unrefTimer === "function") deno.unrefTimer(timer);
    } catch (_) {}
  }
  return id;
}
export function clearTimer(id) {
  try {
    clearTimeout(id);
  } catch (_) {}
}
// ---- the transport ----------------------------------------------------------
// A thrown value as one short line, from primitives only (no toString runs).
function line(v) {
  return typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : "";
}
function describe(e, fallback) {
  let out = "";
  try {
    if (typeof e === "string") {
      out = e;
    } else if (e !== null && (typeof e === "object" || typeof e === "function")) {
      let name = "",
        message = "";
      try {
        name = line(e.name);
      } catch (_) {}
      try {
        message = line(e.message);
      } catch (_) {}
      out = name && message ? name + ": " + message : name || message;
      if (out) {
        try {
          // undici's "fetch failed" keeps the reason in `cause`.
          const c = e.cause;
          const why = c !== null && typeof c === "object" ? line(c.message) || line(c.code) : "";
          if (why) out += " (" + why + ")";
        } catch (_) {}
      }
    }
  } catch (_) {}
  out = out || fallback;
  return out.length > 300 ? out.slice(0, 300) + "…" : out;
}
// The runtime entry's transport (Node's, on node:http), used when a client's
// options give no fetch; otherwise the global fetch.
let defaultFetch;
export function setDefaultFetch(f) {
  defaultFetch = typeof f === "function" ? f : undefined;
}
const result = (outcome, status, retryAfter, body, error) => ({ outcome, status, retryAfter, body, error });
// POSTs `body` to `url` with `fetchFn` (undefined: the default transport, or
// the global fetch called on globalThis). headerLines: "name\nvalue\n" per header. The promise always
// resolves, within timeoutMs, to { outcome, status, retryAfter, body, error };
// the response's body is always read (or the request aborted). The error
// text never holds the URL's query or the Authorization header.
// Once a status line has said 2xx the request was delivered, whatever its
// body does: a body that fails (text() rejects) or is still arriving at
// timeoutMs gives outcome ok with that status and an empty body (the request
// is then aborted), never a timeout or a network error, which would send it
// again. Likewise a redirect stays a redirect. (A text() that throws at once
// is no Response's: a network error, as before.)
export function send(fetchFn, url, headerLines, body, timeoutMs, detached, maxBody) {
  // The secrets this request carries (its query, each query value as sent
  // and decoded, the Authorization header and its credentials), scrubbed
  // from any error text a fetch gives. Here, not in Rust: the same rule in
  // the core measured +1.2 KiB gzip of wasm (docs/decisions.md).
  const secrets = [];
  const q = url.indexOf("?");
  if (q >= 0) {
    secrets.push(url.slice(q));
    const parts = url.slice(q + 1).split("&");
    for (let i = 0; i < parts.length; i++) {
      const v = parts[i].slice(parts[i].indexOf("=") + 1);
      if (v.length >= 4) {
        secrets.push(v);
        try {
          secrets.push(decodeURIComponent(v));
        } catch (_) {}
      }
    }
  }
  const pairs = headerLines.split("\n");
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    if (pairs[i].toLowerCase() === "authorization") secrets.push(pairs[i + 1], pairs[i + 1].replace(/^\S+\s+/, ""));
  }
  const redact = (text) => {
    for (let i = 0; i < secrets.length; i++) if (secrets[i]) text = text.split(secrets[i]).join("[redacted]");
    return text;
  };
  const f = fetchFn ?? defaultFetch;
  // The runtime's own transport takes plain headers and a `cancel` hook
  // instead of a Headers and an AbortSignal (on Node these cost about as
  // much CPU as the request itself), and `maxBody`: it keeps no more of a
  // body than is read here.
  const own = f !== undefined && f === defaultFetch;
  return new Promise((resolve) => {
    let done = false,
      controller,
      timer,
      answered;
    const cancel = {};
    const finish = (r) => {
      if (done) return;
      done = true;
      clearTimer(timer);
      resolve(r);
    };
    const fail = (what, e) => finish(result(SENT.network, 0, undefined, "", redact(what + describe(e, what ? "it threw a non-Error" : "fetch failed"))));
    if (!own)
      try {
        controller = new AbortController();
      } catch (_) {}
    timer = setTimer(
      () => {
        try {
          if (controller) controller.abort();
          else if (cancel.abort) cancel.abort();
        } catch (_) {}
        finish(answered || result(SENT.timeout, 0, undefined, "", ""));
      },
      timeoutMs,
      detached,
    );
    // A response whose body we no longer want: read it anyway, so it does not
    // hold its connection (an aborted request has none left to read).
    const drain = (r) => {
      try {
        quietly(r.text());
      } catch (_) {}
    };
    const received = (r) => {
      if (done) return drain(r);
      if (r === null || (typeof r !== "object" && typeof r !== "function")) {
        return fail("", "fetch resolved to something that is not a Response");
      }
      let status,
        redirected = false,
        retryAfter;
      try {
        status = r.status;
      } catch (e) {
        drain(r);
        return fail("reading the response failed: ", e);
      }
      if (typeof status !== "number" || !Number.isInteger(status) || status < 0 || status > 999) {
        drain(r);
        return fail("", "fetch resolved to something that is not a Response (no numeric status)");
      }
      try {
        redirected = r.redirected === true || r.type === "opaqueredirect" || status === 0;
      } catch (_) {}
      try {
        const h = r.headers;
        const v = h !== null && typeof h === "object" && typeof h.get === "function" ? h.get("retry-after") : undefined;
        if (typeof v === "string" && v.length <= 256) retryAfter = v;
      } catch (_) {}
      let text;
      try {
        if (typeof r.text !== "function") return fail("", "fetch resolved to something that is not a Response (no text())");
        text = r.text();
      } catch (e) {
        // A Response's text() returns a promise: one that throws is no
        // Response, and its status proves nothing.
        return fail("reading the response body failed: ", e);
      }
      // What the status alone says, if the body fails or never comes.
      if (redirected) answered = result(SENT.redirected, status, undefined, "", "");
      else if (status >= 200 && status < 300) answered = result(SENT.ok, status, retryAfter, "", "");
      new Promise((ok) => ok(text)).then(
        (v) => {
          if (redirected) return finish(answered);
          const b = typeof v === "string" ? (v.length > maxBody ? v.slice(0, maxBody) : v) : "";
          finish(result(SENT.ok, status, retryAfter, b, ""));
        },
        (e) => (answered ? finish(answered) : fail("reading the response body failed: ", e)),
      );
    };
    let pending;
    try {
      const headers = own ? {} : new Headers();
      for (let i = 0; i + 1 < pairs.length; i += 2) {
        if (own) headers[pairs[i]] = pairs[i + 1];
        else headers.append(pairs[i], pairs[i + 1]);
      }
      /** @type {RequestInit & { cancel?: object, maxBody?: number }} */
      const init = { method: "POST", headers, body, redirect: "manual" };
      if (controller) init.signal = controller.signal;
      if (own) {
        init.cancel = cancel;
        init.maxBody = maxBody;
      }
      pending = f === undefined ? globalThis.fetch(url, init) : f(url, init);
    } catch (e) {
      return fail("", e);
    }
    new Promise((ok) => ok(pending)).then(
      (r) => {
        try {
          received(r);
        } catch (e) {
          fail("", e);
        }
      },
      (e) => fail("", e),
    );
  });
}
// ---- the outbox ---------------------------------------------------------------
// The package's adapter (outbox.js): turns the `outbox` option (a Queue
// binding, a Deno.Kv, an object with store()) into one with store(messages)
// and maxMessageBytes. Without it (Rust callers), the value is used as is.
let outboxAdapter;
export function setOutboxAdapter(f) {
  outboxAdapter = typeof f === "function" ? f : undefined;
}
// { target, max } (max: the largest message in bytes; Infinity: no limit of
// its own), or a string saying what is wrong.
export function adaptOutbox(v) {
  try {
    const a = outboxAdapter !== undefined ? outboxAdapter(v) : v;
    if (a === null || typeof a !== "object" || typeof a.store !== "function") {
      return "outbox must be a Cloudflare Queue binding, a Deno.Kv, or an object with a store(messages) method";
    }
    const max = a.maxMessageBytes;
    if (max === undefined) return { target: a, max: Infinity };
    if (typeof max !== "number" || !(max >= 1024)) return "outbox.maxMessageBytes must be a number of at least 1024";
    return { target: a, max };
  } catch (e) {
    return "outbox threw when read: " + describe(e, "a non-Error");
  }
}
export function store(target, messages, timeoutMs, detached) {
  return new Promise((resolve) => {
    let done = false,
      timer;
    const finish = (why) => {
      if (done) return;
      done = true;
      clearTimer(timer);
      resolve(why);
    };
    timer = setTimer(() => finish("it did not finish within " + timeoutMs + " ms"), timeoutMs, detached);
    try {
      const p = target.store(messages);
      new Promise((ok) => ok(p)).then(
        () => finish(undefined),
        (e) => finish(describe(e, "it rejected")),
      );
    } catch (e) {
      finish(describe(e, "it threw"));
    }
  });
}
