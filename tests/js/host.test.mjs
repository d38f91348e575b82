// Unit tests of src/wasm/host.js, the JavaScript helpers the wasm imports,
// in plain Node (no wasm): each helper's answers, and that what a caller's
// code throws, returns or never settles stays inside it.
//   node --test tests/js/*.test.mjs
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  KIND,
  LIST,
  PROBLEM,
  SENT,
  adaptOutbox,
  beforeSend,
  callGuarded,
  clearTimer,
  faultKind,
  faultPath,
  fillRandom,
  hasRequestContexts,
  kindOf,
  makeError,
  ownKeys,
  propsJson,
  readField,
  send,
  setDefaultFetch,
  setOutboxAdapter,
  setTimer,
  store,
  str,
  stringList,
} from "../../src/wasm/host.js";

const throwing = new Proxy(
  {},
  {
    getPrototypeOf() {
      throw new Error("trap");
    },
    ownKeys() {
      throw new Error("trap");
    },
    get() {
      throw new Error("trap");
    },
  },
);

test("kindOf names each kind of value, and a value whose prototype cannot be read", () => {
  const cases = [
    ["s", KIND.string],
    [1, KIND.number],
    [true, KIND.boolean],
    [null, KIND.null],
    [undefined, KIND.undefined],
    [[], KIND.array],
    [{}, KIND.object],
    [Object.create(null), KIND.object],
    [new Date(0), KIND.date],
    [() => {}, KIND.function],
    [Symbol("x"), KIND.symbol],
    [1n, KIND.bigint],
    [new Map(), KIND.other],
    [throwing, KIND.threw],
  ];
  for (const [value, kind] of cases) assert.equal(kindOf(value, 10), kind, String(typeof value));
  assert.equal(kindOf("x".repeat(11), 10), KIND.hugeString);
});

test("str, readField and ownKeys hand back plain data, never a throw", () => {
  assert.equal(str("abc", 3), "abc");
  assert.equal(str("abcd", 3), undefined);
  assert.equal(str(5, 3), undefined);
  assert.deepEqual(readField({ a: 1 }, "a"), { ok: true, value: 1 });
  assert.deepEqual(readField(throwing, "a"), { ok: false, value: undefined });
  const long = "k".repeat(70);
  assert.deepEqual(ownKeys({ a: 1, [Symbol("s")]: 2, [long]: 3 }), ["a", `${"k".repeat(64)}…`]);
  assert.equal(ownKeys(throwing), null);
});

test("stringList copies a list of strings, or says where and why it refused it", () => {
  assert.deepEqual(stringList(["a", "b"], 5, 10), ["a", "b"]);
  assert.deepEqual(stringList(["a", "b", "c"], 2, 10), { code: LIST.tooMany, index: -1, kind: 0, length: 3 });
  // biome-ignore lint/suspicious/noSparseArray: the hole is the case
  assert.deepEqual(stringList(["a", , "c"], 5, 10), { code: LIST.hole, index: 1, kind: 0, length: 3 });
  assert.deepEqual(stringList(["a", 7], 5, 10), { code: LIST.notString, index: 1, kind: KIND.number, length: 2 });
  assert.deepEqual(stringList(["abc", "def"], 5, 5), { code: LIST.tooLong, index: 1, kind: 0, length: 2 });
  // Refused: the answer is the { code, index, kind, length } object, not a list.
  assert.equal(/** @type {{ code: number }} */ (stringList({ length: -1 }, 5, 5)).code, LIST.threw);
  assert.equal(/** @type {{ code: number }} */ (stringList(throwing, 5, 5)).code, LIST.threw);
  // `length` is read once, before any item.
  let reads = 0;
  const list = {
    get length() {
      reads++;
      return 1;
    },
    0: "x",
  }; // prettier-ignore
  assert.deepEqual(stringList(list, 5, 5), ["x"]);
  assert.equal(reads, 1);
});

test("propsJson writes a plain object as JSON.stringify would, or names the problem and where", () => {
  assert.equal(propsJson(undefined, 100, 5), "");
  assert.equal(propsJson(null, 100, 5), "");
  const value = { a: "x\n", b: [1, 2.5, null, true], c: { d: new Date(0) }, skipped: undefined };
  assert.equal(propsJson(value, 1000, 5), JSON.stringify(value));
  const refused = (v, kind, path, maxLen = 1000, maxDepth = 5) => {
    assert.equal(propsJson(v, maxLen, maxDepth), undefined);
    assert.equal(faultKind(), kind);
    assert.equal(faultPath(), path);
  };
  refused({ a: [1, undefined] }, PROBLEM.undefinedInArray, ".a[1]");
  refused({ n: Infinity }, PROBLEM.nonFinite, ".n");
  refused({ d: new Date(NaN) }, PROBLEM.invalidDate, ".d");
  refused({ a: { b: { c: 1 } } }, PROBLEM.tooDeep, ".a.b", 1000, 2);
  refused({ m: new Map() }, KIND.other, ".m");
  refused({ f() {} }, KIND.function, ".f");
  refused({ p: throwing }, KIND.threw, ".p");
  refused([1], PROBLEM.notAnObject + KIND.array, "");
  refused("s", PROBLEM.notAnObject + KIND.string, "");
  refused({ a: "x".repeat(20) }, PROBLEM.tooLarge, "", 10);
});

test("beforeSend calls the hook with a copy and hands back its event as lines, or why it failed", () => {
  const event = { name: "T", profileId: "p", data: { n: 1 } };
  const json = JSON.stringify(event);
  let seen;
  const hook = (e) => {
    seen = e;
    return { ...e, userId: "u" };
  };
  const lines = beforeSend(hook, json, 100, 1000, 5);
  assert.deepEqual(seen, event);
  assert.equal(lines, ['"T"', '"p"', '"u"', "", "", '{"n":1}', "", ""].join("\n"));
  assert.equal(
    beforeSend(() => null, json, 100, 1000, 5),
    null,
  );
  // A failed hook: the answer is the { why } object.
  const why = (hook, maxString = 100) => /** @type {{ why: string }} */ (beforeSend(hook, json, maxString, 1000, 5)).why;
  assert.equal(
    why(() => {
      throw new TypeError("bad");
    }),
    "it threw TypeError: bad",
  );
  assert.equal(
    why(() => undefined),
    "it returned undefined",
  );
  assert.equal(
    why(() => 5),
    "it returned a number",
  );
  assert.equal(
    why(() => []),
    "it returned an array, not a plain object",
  );
  assert.match(
    why(() => Promise.resolve(event)),
    /^it returned a promise/,
  );
  assert.match(
    why((e) => ({ ...e, extra: 1 })),
    /unknown key "extra"/,
  );
  assert.equal(
    why((e) => e, 0),
    "it returned an event whose name is longer than 0 characters",
  );
  assert.equal(
    why((e) => ({ ...e, userId: 5 })),
    "it returned an event whose userId is a number, not a string",
  );
  assert.equal(
    why(() => throwing),
    "it returned an event that threw when read: Error: trap",
  );
  assert.deepEqual(
    beforeSend((e) => ({ ...e, data: { x: NaN } }), json, 100, 1000, 5),
    { field: "data" },
  );
});

test("callGuarded swallows a throw and a rejection; hasRequestContexts is false outside workerd; fillRandom fills", async () => {
  let unhandled = 0;
  const count = () => unhandled++;
  process.on("unhandledRejection", count);
  try {
    callGuarded(() => {
      throw new Error("sync");
    });
    callGuarded(() => Promise.reject(new Error("async")));
    await new Promise((ok) => setTimeout(ok, 10));
    assert.equal(unhandled, 0);
  } finally {
    process.off("unhandledRejection", count);
  }
  assert.equal(hasRequestContexts(), false);
  const buf = new Uint8Array(32);
  assert.equal(fillRandom(buf), true);
  assert.ok(buf.some((b) => b !== 0));
});

test("makeError uses the given class, or makes a coded Error when there is none or it throws", () => {
  class Coded extends Error {
    constructor(code, message, status) {
      super(message);
      this.code = code;
      this.status = status;
    }
  }
  const made = makeError(Coded, "HTTP_ERROR", "m", 503);
  assert.ok(made instanceof Coded);
  assert.deepEqual([made.code, made.message, made.status], ["HTTP_ERROR", "m", 503]);
  for (const Class of [
    undefined,
    class {
      constructor() {
        throw new Error("ctor");
      }
    },
  ]) {
    // prettier-ignore
    const e = /** @type {import("intempt-edge").IntemptError} */ (makeError(Class, "INVALID_ARGUMENT", "m", undefined));
    assert.ok(e instanceof Error);
    assert.deepEqual([e.name, e.code, e.message, "status" in e], ["IntemptError", "INVALID_ARGUMENT", "m", false]);
  }
});

test("setTimer clamps its delay, unrefs on request, and clearTimer cancels", async () => {
  const fired = [];
  const a = setTimer(() => fired.push("a"), -5, false);
  const b = setTimer(() => fired.push("b"), 1, true);
  const c = setTimer(() => fired.push("c"), 1, false);
  assert.equal(a.hasRef(), true);
  assert.equal(b.hasRef(), false);
  clearTimer(c);
  clearTimer(undefined);
  await new Promise((ok) => setTimeout(ok, 20));
  assert.deepEqual(fired.sort(), ["a", "b"]);
});

// ---- send --------------------------------------------------------------------

const URL_WITH_KEY = "http://127.0.0.1:9/v1/events?apiKey=sk_live_SECRET%2Bkey&x=1";
const HEADERS = "authorization\nBearer tok_SECRET\ncontent-type\napplication/json\n";
const response = (status, body, extra = {}) => ({ status, headers: { get: (h) => (h === "retry-after" ? "7" : null) }, text: () => body, ...extra });
const sent = (fetch, { url = URL_WITH_KEY, timeoutMs = 200, maxBody = 1000 } = {}) => send(fetch, url, HEADERS, "{}", timeoutMs, false, maxBody);

test("send POSTs with the headers and redirect: manual, and resolves to the status, Retry-After and body", async () => {
  /** @type {{ url: string, init: RequestInit & { headers: Headers } }} */
  let seen;
  const r = await sent((url, init) => {
    seen = { url, init };
    return Promise.resolve(response(503, Promise.resolve("x".repeat(2000))));
  });
  assert.deepEqual(r, { outcome: SENT.ok, status: 503, retryAfter: "7", body: "x".repeat(1000), error: "" });
  assert.equal(seen.url, URL_WITH_KEY);
  assert.equal(seen.init.method, "POST");
  assert.equal(seen.init.redirect, "manual");
  assert.equal(seen.init.headers.get("authorization"), "Bearer tok_SECRET");
  assert.ok(seen.init.signal instanceof AbortSignal);
});

test("send: a redirect is a redirect; what is no Response is a network error", async () => {
  const redirected = await sent(() => response(200, Promise.resolve(""), { redirected: true }));
  assert.equal(redirected.outcome, SENT.redirected);
  const opaque = await sent(() => response(0, Promise.resolve(""), { type: "opaqueredirect" }));
  assert.equal(opaque.outcome, SENT.redirected);
  for (const answer of [null, 5, { status: "200" }, { status: 200 }]) {
    const r = await sent(() => answer);
    assert.equal(r.outcome, SENT.network, JSON.stringify(answer));
    assert.match(r.error, /not a Response/);
  }
});

test("send never lets the API key or the Authorization header into its error text", async () => {
  const leak = `${URL_WITH_KEY} sk_live_SECRET+key sk_live_SECRET%2Bkey Bearer tok_SECRET tok_SECRET`;
  for (const fetch of [
    () => {
      throw new Error(leak);
    },
    () => Promise.reject(new Error(leak)),
    () => response(500, Promise.reject(new Error(leak))),
  ]) {
    const r = await sent(fetch);
    assert.equal(r.outcome, SENT.network);
    assert.doesNotMatch(r.error, /SECRET/);
    assert.match(r.error, /\[redacted\]/);
  }
});

test("send resolves within its timeout: a fetch that never answers times out and is aborted; a 2xx whose body never ends is delivered", async () => {
  /** @type {AbortSignal} */
  let signal;
  const started = Date.now();
  const r = await sent(
    (url, init) => {
      signal = init.signal;
      return new Promise(() => {});
    },
    { timeoutMs: 30 },
  );
  assert.equal(r.outcome, SENT.timeout);
  assert.ok(signal.aborted);
  assert.ok(Date.now() - started < 1000);
  const slow = await sent(() => response(201, new Promise(() => {})), { timeoutMs: 30 });
  assert.deepEqual(slow, { outcome: SENT.ok, status: 201, retryAfter: "7", body: "", error: "" });
});

test("send uses the default transport only without a fetch, with plain headers and a cancel hook", async () => {
  /** @type {RequestInit & { cancel?: object, maxBody?: number }} */
  let seen;
  setDefaultFetch((url, init) => {
    seen = init;
    return response(202, "ok");
  });
  try {
    const r = await sent(undefined);
    assert.equal(r.status, 202);
    assert.deepEqual(seen.headers, { authorization: "Bearer tok_SECRET", "content-type": "application/json" });
    assert.equal(typeof seen.cancel, "object");
    assert.equal(seen.signal, undefined);
    assert.equal(seen.maxBody, 1000, "the default transport keeps no more of a body than send reads");
    const other = await sent(() => response(204, ""));
    assert.equal(other.status, 204);
  } finally {
    setDefaultFetch(undefined);
  }
});

// ---- the outbox --------------------------------------------------------------

test("adaptOutbox accepts an object with store() through the package's adapter, or says what is wrong", () => {
  const target = { store() {} };
  assert.deepEqual(adaptOutbox(target), { target, max: Infinity });
  // Accepted: { target, max }; refused: a string saying why.
  assert.deepEqual(/** @type {{ max: number }} */ (adaptOutbox({ store() {}, maxMessageBytes: 2048 })).max, 2048);
  assert.match(/** @type {string} */ (adaptOutbox({})), /^outbox must be/);
  assert.match(/** @type {string} */ (adaptOutbox({ store() {}, maxMessageBytes: 10 })), /^outbox.maxMessageBytes must be/);
  assert.equal(adaptOutbox(throwing), "outbox threw when read: Error: trap");
  setOutboxAdapter((v) => ({ store() {}, maxMessageBytes: 4096, from: v }));
  try {
    const adapted = /** @type {{ target: { from: string }, max: number }} */ (adaptOutbox("binding"));
    assert.equal(adapted.target.from, "binding");
    assert.equal(adapted.max, 4096);
  } finally {
    setOutboxAdapter(undefined);
  }
});

test("store resolves to undefined once stored, else to why not, within its timeout", async () => {
  const stored = [];
  assert.equal(await store({ store: (m) => void stored.push(...m) }, ["a", "b"], 100, false), undefined);
  assert.deepEqual(stored, ["a", "b"]);
  assert.equal(await store({ store: () => Promise.reject(new Error("full")) }, [], 100, false), "Error: full");
  const threw = {
    store() {
      throw "no"; // eslint-disable-line no-throw-literal
    },
  };
  assert.equal(await store(threw, [], 100, false), "no");
  assert.equal(await store({ store: () => new Promise(() => {}) }, [], 20, false), "it did not finish within 20 ms");
});
