// Hostile input at the JS boundary, shared by Node (hostile.test.mjs runs it
// in a child process) and workerd (hostile-worker.js runs it in requests).
//
// A seeded generator makes calls to every public method of the SDK — and its
// constructor — with values of every JS kind, interleaved with valid tracking
// calls whose `seq` numbers are remembered. Each outcome is classified:
//   - resolved;
//   - rejected (or, for the constructor, thrown) with an IntemptError whose
//     `code` is a documented string: counted by code;
//   - anything else (a WebAssembly.RuntimeError, a TypeError, a rejection
//     that is not an IntemptError, a synchronous throw from a method that
//     must return a promise, an unhandled rejection): a trap.
// The run also remembers what the server must hold afterwards: exactly the
// valid events, once each, plus every accepted hostile tracking call, every
// accepted consent and choose call.

import { transport } from "./transport.js";
import { mulberry32 } from "./prng.js";

export const CODES = [
  "INVALID_CONFIG",
  "INVALID_API_KEY",
  "INVALID_ENDPOINT",
  "INVALID_ARGUMENT",
  "RESERVED_TITLE",
  "ATTRIBUTES_NEED_TITLE",
  "INVALID_PROPERTIES",
  "INVALID_ACTION",
  "EVENT_TOO_LARGE",
  "QUEUE_FULL",
  "CLOSED",
  "HTTP_ERROR",
  "NETWORK_ERROR",
];

export const METHODS = [
  "constructor",
  "identify",
  "group",
  "track",
  "alias",
  "record",
  "optIn",
  "optOut",
  "consents",
  "consent",
  "choosePersonalizationsByGroups",
  "choosePersonalizationsByNames",
  "chooseExperimentsByGroups",
  "chooseExperimentsByNames",
  "flush",
  "stats",
  "redeliver",
  "handleQueueBatch",
  "handleKvMessage",
];

const TRACKING = new Set(["identify", "group", "track", "alias", "record"]);
const AT_ONCE = new Set([
  "consents",
  "consent",
  "choosePersonalizationsByGroups",
  "choosePersonalizationsByNames",
  "chooseExperimentsByGroups",
  "chooseExperimentsByNames",
]);

const SOURCE = "616010376811536384";

/** The hostile values: built once per run (huge strings are shared instances, to bound memory). */
function buildPool(reenter) {
  const thrower = (what) => () => {
    throw new Error(`hostile ${what}`);
  };
  const huge3MB = "h".repeat(3 << 20); // over the SDK's 1 Mi-unit string cap: refused before copying
  const big600K = "é".repeat(600_000); // under the cap: copied into wasm memory, then refused by size
  const over32K = "y".repeat(40_000); // over maxEventBytes
  const cyclic = { a: 1 };
  cyclic.self = cyclic;
  const cyclicArray = /** @type {unknown[]} */ ([1]);
  cyclicArray.push(cyclicArray);
  const cyclicDeep = { a: { b: { c: {} } } };
  cyclicDeep.a.b.c.back = cyclicDeep.a;
  let deep = /** @type {object} */ ({ leaf: 1 });
  for (let i = 0; i < 10_000; i++) deep = { d: deep };
  let deepArray = /** @type {unknown[]} */ ([1]);
  for (let i = 0; i < 10_000; i++) deepArray = [deepArray];
  let deep63 = /** @type {object} */ ({ leaf: 1 });
  for (let i = 0; i < 62; i++) deep63 = { d: deep63 };
  const getterThrows = Object.defineProperty({ ok: 1 }, "boom", { enumerable: true, get: thrower("getter") });
  const getterThrowsString = Object.defineProperty({}, "boom", {
    enumerable: true,
    get() {
      throw "a string, not an Error";
    },
  });
  const getterThrowsSymbol = Object.defineProperty({}, "boom", {
    enumerable: true,
    get() {
      throw Symbol("thrown");
    },
  });
  let flip = 0;
  const getterChanges = Object.defineProperty({}, "v", { enumerable: true, get: () => (++flip % 2 ? 1 : { nested: [flip] }) });
  const getterReenters = Object.defineProperty({ a: 1 }, "re", {
    enumerable: true,
    get() {
      reenter();
      return "entered";
    },
  });
  const arrayGetterReenters = [1, 2];
  Object.defineProperty(arrayGetterReenters, 1, {
    enumerable: true,
    get() {
      reenter();
      return 2;
    },
  });
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  const revokedArray = Proxy.revocable([], {});
  revokedArray.revoke();
  const revokedFn = Proxy.revocable(() => 1, {});
  revokedFn.revoke();
  const allTraps = [
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
  const trapsThrow = (target) => new Proxy(target, Object.fromEntries(allTraps.map((t) => [t, thrower(`${t} trap`)])));
  const protoTrapThrows = new Proxy({ a: 1 }, { getPrototypeOf: thrower("getPrototypeOf") });
  const ownKeysThrows = new Proxy({ a: 1 }, { ownKeys: thrower("ownKeys") });
  const getTrapThrows = new Proxy({ a: 1 }, { get: thrower("get") });
  const descriptorTrapThrows = new Proxy({ a: 1 }, { getOwnPropertyDescriptor: thrower("getOwnPropertyDescriptor") });
  const lengthThrows = new Proxy([1, 2, 3], { get: (t, k) => (k === "length" ? thrower("length")() : t[k]) });
  const infinite = new Proxy(
    {},
    {
      ownKeys: () => ["x"],
      getOwnPropertyDescriptor: () => ({ value: 1, enumerable: true, configurable: true, writable: true }),
      get: () => infinite,
    },
  );
  const lyingArray = new Proxy([], { get: (t, k) => (k === "length" ? 3 : k === "1" ? thrower("index")() : undefined) });
  // biome-ignore lint/suspicious/noSparseArray: a hole is one of the hostile values
  const holes = [1, , 3];
  const sparse = new Array(5);
  const bigSparse = [];
  bigSparse[100_000] = 1;
  const arrayExtraProps = Object.assign([1, 2], { extra: "x" });
  const arrayThrowingIndex = [1, 2];
  Object.defineProperty(arrayThrowingIndex, 0, { get: thrower("index") });
  class Point {
    constructor() {
      this.x = 1;
    }
  }
  class MyDate extends Date {}
  const nullProto = Object.assign(Object.create(null), { a: 1, b: [null] });
  const symbolKeys = { [Symbol("k")]: 1, visible: 2 };
  const nonEnumerable = Object.defineProperty({ shown: 1 }, "hidden", { value: () => 1, enumerable: false });
  const withToJSON = { a: 1, toJSON: () => "replaced" };
  const protoKey = JSON.parse('{"__proto__": {"polluted": true}, "constructor": 1}');
  const surrogateKeys = { "\uD800": "\uDC00", "": "", "a\u0000b": "\u0000" };
  const frozen = Object.freeze({ a: Object.freeze([1, "x"]) });
  const resolved = Promise.resolve(1);
  const wide = Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [`k${i}`, i]));

  const values = [
    // primitives
    undefined,
    null,
    true,
    false,
    0,
    -0,
    1,
    -1,
    0.1,
    42.5,
    NaN,
    Infinity,
    -Infinity,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    2 ** 53 + 2,
    1e21,
    4294967295,
    4294967296,
    -4294967296,
    2 ** 31,
    1.5e300,
    0n,
    -1n,
    2n ** 64n,
    Symbol(),
    Symbol("desc"),
    Symbol.for("registered"),
    Symbol.iterator,
    "",
    " ",
    "a",
    "p1",
    "1845348",
    "Identify",
    "identify",
    "Purchase",
    "accept",
    "reject",
    "ACCEPT",
    "GDPR",
    "header",
    "query",
    "unlimited",
    "http://127.0.0.1:1",
    "https://api.intempt.com",
    "http://example.com",
    "https://x/?apiKey=a.b",
    "id.secret",
    ".",
    "..",
    "a/b",
    "%2e%2e",
    "\u0000",
    "\uD800",
    "\uDFFF",
    "a\uD800b",
    "\uDC00\uD800",
    "😀",
    "\uFEFF",
    "\u202E",
    "ﬀ",
    "x".repeat(300),
    over32K,
    big600K,
    huge3MB,
    // functions
    () => 1,
    function named() {},
    class Klass {},
    async () => 1,
    function* gen() {},
    Math.max,
    (() => 1).bind(null),
    new Proxy(() => 1, {}),
    revokedFn.proxy,
    thrower("fn"),
    // objects
    {},
    { plan: "pro", amount: 42.5, items: ["a", "b"], nested: { k: "v" } },
    { n: -0, big: 1.5e300, tiny: 5e-324, s: "\uD800x", d: new Date(0), u: undefined, z: null },
    { nan: NaN },
    { inf: [1, Infinity] },
    { big: 10n },
    { sym: Symbol() },
    { fn() {} },
    { u: [undefined] },
    { map: new Map() },
    { when: new Date(NaN) },
    cyclic,
    cyclicArray,
    cyclicDeep,
    deep,
    deepArray,
    deep63,
    { wrap: deep63 },
    wide,
    getterThrows,
    getterThrowsString,
    getterThrowsSymbol,
    getterChanges,
    getterReenters,
    { inner: getterReenters },
    arrayGetterReenters,
    revoked.proxy,
    revokedArray.proxy,
    trapsThrow({}),
    trapsThrow([]),
    trapsThrow(() => 1),
    protoTrapThrows,
    ownKeysThrows,
    getTrapThrows,
    descriptorTrapThrows,
    lengthThrows,
    infinite,
    lyingArray,
    new Proxy({ a: 1 }, {}),
    new Proxy([1, 2], {}),
    { p: trapsThrow({}) },
    { list: [revoked.proxy] },
    nullProto,
    symbolKeys,
    nonEnumerable,
    withToJSON,
    protoKey,
    surrogateKeys,
    frozen,
    { nested: { withToJSON } },
    // class instances
    new Point(),
    new Map([[1, 2]]),
    new Set([1]),
    new WeakMap(),
    new Error("e"),
    new TypeError("t"),
    resolved,
    /re/g,
    new String("s"),
    new Number(1),
    new Boolean(false),
    Object(Symbol("boxed")),
    Object(1n),
    new ArrayBuffer(8),
    new DataView(new ArrayBuffer(8)),
    new Uint8Array([1, 2, 3]),
    new Float64Array([NaN]),
    new BigInt64Array(2),
    new Int32Array(0),
    new Date(0),
    new Date(NaN),
    new Date(8.64e15),
    new Date(-8.64e15),
    new MyDate(0),
    { when: new MyDate(0) },
    // arrays
    [],
    [1, "a", null, true],
    ["banner"],
    ["new year banner", "\uD800"],
    [1, 2],
    holes,
    sparse,
    bigSparse,
    arrayExtraProps,
    arrayThrowingIndex,
    [undefined],
    [[[]]],
    [Symbol()],
    [() => 1],
  ];
  return values;
}

// Plausible values per parameter: most calls get them, so calls get past the
// first argument and exercise the later ones.
const PLAUSIBLE = {
  profileId: ["p1", "1845348", "hostile-profile", "p\uD800", " "],
  id: ["john@example.com", "intempt.com", "555-555-1234", "u1"],
  title: ["Purchase", "Page View", "Identify", "Signup \u2603"],
  props: [undefined, null, {}, { plan: "pro", amount: 42.5, items: ["a", "b"], nested: { k: "v" } }, { price_amount: 50, product_name: "Shoes" }],
  action: ["accept", "reject", "maybe"],
  category: ["GDPR", "marketing"],
  validUntil: [undefined, "unlimited", "1711705256000", 1711705256000],
  email: [undefined, "a@b.c"],
  message: [undefined, "consents message"],
  list: [undefined, null, ["banner"], ["new year banner"], []],
  // The outbox's consumers: nothing here is a stored batch, so nothing is sent.
  stored: ["not a batch", "", "{}", '{"track":'],
  redelivery: [undefined, {}, { maxRetryDelayMs: 1_000 }, { attempts: 0 }, { maxAttempts: -1 }, { maxRetryDelayMs: "1" }],
  queueBatch: [{ messages: [] }, { messages: [{ body: "x", attempts: 1, ack() {}, retry() {} }] }, {}, { messages: { length: 1e9 } }],
  kvValue: [undefined, {}, { intemptEdgeBatch: "x" }, { intemptEdgeBatch: [1, 2] }],
  kv: [undefined, {}],
};

const PARAMS = {
  identify: ["profileId", "id", "title", "props"],
  group: ["profileId", "id", "title", "props"],
  track: ["profileId", "title", "props"],
  alias: ["profileId", "id", "id"],
  record: ["profileId", "title", "id", "id", "props", "props", "props"],
  optIn: [],
  optOut: [],
  consents: ["profileId", "action", "validUntil", "email", "message"],
  consent: ["profileId", "action", "category", "validUntil", "email", "message"],
  choosePersonalizationsByGroups: ["profileId", "list"],
  choosePersonalizationsByNames: ["profileId", "list"],
  chooseExperimentsByGroups: ["profileId", "list"],
  chooseExperimentsByNames: ["profileId", "list"],
  flush: [],
  stats: [],
  redeliver: ["stored", "redelivery"],
  handleQueueBatch: ["queueBatch", "redelivery"],
  handleKvMessage: ["kvValue", "kv", "redelivery"],
};

// Relative weights per call (the rest are valid tracking calls, see `validEvery`).
const WEIGHTS = {
  constructor: 30,
  identify: 120,
  group: 120,
  track: 160,
  alias: 100,
  record: 140,
  optIn: 8,
  optOut: 6,
  consents: 5,
  consent: 5,
  choosePersonalizationsByGroups: 3,
  choosePersonalizationsByNames: 3,
  chooseExperimentsByGroups: 3,
  chooseExperimentsByNames: 3,
  flush: 6,
  stats: 20,
  redeliver: 3,
  handleQueueBatch: 3,
  handleKvMessage: 3,
};

const describe = (e) => {
  try {
    if (e instanceof Error) return `${e.constructor?.name}: ${String(e.message).slice(0, 200)}`;
    return `${typeof e}: ${String(e).slice(0, 200)}`;
  } catch {
    return `${typeof e} (unprintable)`;
  }
};

/**
 * One run. `SDK`/`IntemptError` come from the package; `endpoint` is the
 * local ingest server. `step(n)` makes n calls; `finish()` flushes until
 * nothing is pending and returns the counts.
 */
export class HostileRun {
  constructor(SDK, IntemptError, { endpoint, apiKey, seed = 1, runtime = "?" }) {
    this.SDK = SDK;
    this.IntemptError = IntemptError;
    this.endpoint = endpoint;
    this.apiKey = apiKey;
    this.rng = mulberry32(seed);
    this.validProfile = `valid-${runtime}-${seed}`;
    this.optedOut = false;
    this.counts = {
      calls: 0,
      // `constructor` is one of the methods, not Object's.
      byMethod: /** @type {{ [method: string]: number, constructor: number }} */ (Object.fromEntries(METHODS.map((m) => [m, 0]))),
      resolvedByMethod: /** @type {{ [method: string]: number, constructor: number }} */ (Object.fromEntries(METHODS.map((m) => [m, 0]))),
      rejectedByCode: {},
      traps: 0,
      trapSamples: [],
      syncThrows: 0,
      reentrantCalls: 0,
      validSent: 0,
      validRejected: [],
      validSeqs: [],
      acceptedTracking: 0, // hostile tracking calls accepted while opted in: they reach the server
      acceptedOptedOut: 0, // accepted while opted out: counted, never sent
      consentsAccepted: 0,
      choosesAccepted: 0,
      loggerLines: 0,
      loggerSuspicious: [],
      unhandled: 0,
    };
    this.started = Date.now();
    this.sdk = new SDK("demo-organization", "demo-project", apiKey, SOURCE, 100, 20, {
      endpoint,
      ...transport(),
      chooseTimeoutMs: 5_000,
      // A hostile logger: it calls back into the client and throws every other line.
      logger: (line) => {
        this.counts.loggerLines++;
        if (/panicked|unreachable|RuntimeError/i.test(line)) this.counts.loggerSuspicious.push(line.slice(0, 300));
        this.sdk.stats();
        if (this.counts.loggerLines % 2) throw new Error("hostile logger");
      },
    });
    this.values = buildPool(() => this.reenter());
    this.weights = Object.entries(WEIGHTS);
    this.weightTotal = this.weights.reduce((a, [, w]) => a + w, 0);
  }

  pick(list) {
    return list[Math.floor(this.rng() * list.length)];
  }

  hostileValue() {
    // Now and then a fresh random string of arbitrary UTF-16 code units.
    if (this.rng() < 0.08) {
      const n = Math.floor(this.rng() * 12);
      let s = "";
      for (let i = 0; i < n; i++) s += String.fromCharCode(Math.floor(this.rng() * 0x10000));
      return s;
    }
    return this.pick(this.values);
  }

  arg(param) {
    return this.rng() < 0.55 ? this.pick(PLAUSIBLE[param]) : this.hostileValue();
  }

  args(method) {
    const params = PARAMS[method];
    let arity = params.length;
    if (this.rng() < 0.1) arity = Math.floor(this.rng() * (params.length + 3));
    const out = [];
    for (let i = 0; i < arity; i++) out.push(i < params.length ? this.arg(params[i]) : this.hostileValue());
    // The valid profile belongs to the valid events only.
    return out.map((v) => (v === this.validProfile ? "not-the-valid-profile" : v));
  }

  constructorArgs() {
    // A valid configuration with one field or option spoiled (or none), in
    // the positional or the object form; now and then nothing but hostile values.
    const r = this.rng();
    if (r < 0.1) return Array.from({ length: Math.floor(this.rng() * 9) }, () => this.hostileValue());
    const fields = { organization: "demo-organization", project: "demo-project", apiKey: "id.secret", sourceId: SOURCE, batchTimeMs: 100, maxBatchSize: 20 };
    const goodOptions = {
      endpoint: [this.endpoint, "https://api.intempt.com", "http://localhost:1/prefix", "http://[::1]:1"],
      authMode: ["header", "query"],
      fetch: [() => Promise.reject(new Error("never used"))],
      waitUntil: [() => {}],
      flushDeadlineMs: [1, 10_000],
      requestTimeoutMs: [1, 4_000],
      chooseTimeoutMs: [2_500],
      maxQueueSize: [1, 1_000_000],
      maxEventBytes: [256, 1 << 20],
      maxBatchBytes: [262_144],
      debug: [false, true, undefined, null],
      logger: [() => {}],
      // Never used to send (see call()); an outbox that throws, and a Queue-shaped one.
      outbox: [
        {
          store: () => {
            throw new Error("hostile outbox");
          },
        },
        { send() {}, sendBatch() {} },
      ],
    };
    const badValues = {
      organization: ["", ".", "..", 1, null],
      project: ["", "..", {}],
      apiKey: ["nodot", ".secret", "id.", "id.sec ret", "id.s\u00e9cret", "", new String("id.secret")],
      // biome-ignore lint/correctness/noPrecisionLoss: a source ID too big for a number is the case
      sourceId: ["", ".", 616010376811536384],
      batchTimeMs: [-1, 1.5, 3_600_001, "100", NaN],
      maxBatchSize: [0, 5_001, -20, Infinity],
      endpoint: [
        "http://example.com",
        "https://x/?q=1",
        "https://x/#f",
        "https://u:p@x",
        "ftp://x",
        "https://[::1",
        "https://h:99999",
        "https://h:0",
        "",
        "https://",
        "http://127.0.0.1.evil.com",
        "https://h/\\x",
      ],
      authMode: ["both", "", "HEADER"],
      fetch: ["fetch", {}],
      waitUntil: [1],
      flushDeadlineMs: [0, -1, 3_600_001, 0.5],
      requestTimeoutMs: [0],
      chooseTimeoutMs: [0],
      maxQueueSize: [0, 1_000_001],
      maxEventBytes: [10, (1 << 20) + 1],
      maxBatchBytes: [1_000],
      debug: ["yes", 1],
      logger: ["console"],
      outbox: [
        42,
        {},
        { store: 1 },
        { store() {}, maxMessageBytes: 5 },
        {
          store() {},
          get maxMessageBytes() {
            throw new Error("hostile getter");
          },
        },
      ],
      bogusOption: [1],
    };
    const options = {};
    for (const key of Object.keys(goodOptions)) if (this.rng() < 0.25) options[key] = this.pick(goodOptions[key]);
    const spoil = this.rng();
    if (spoil >= 0.25) {
      const key = this.pick(Object.keys(badValues));
      const value = spoil < 0.6 ? this.pick(badValues[key]) : this.hostileValue();
      if (key in fields) fields[key] = value;
      else options[key] = value;
    }
    if (this.rng() < 0.08) {
      const get = () => {
        this.reenter();
        return this.endpoint;
      };
      Object.defineProperty(options, "endpoint", { enumerable: true, get });
    }
    if (this.rng() < 0.04)
      Object.defineProperty(options, "flushDeadlineMs", {
        enumerable: true,
        get: () => {
          throw new Error("hostile option getter");
        },
      });
    if (r < 0.5)
      return [
        fields.organization,
        fields.project,
        fields.apiKey,
        fields.sourceId,
        fields.batchTimeMs,
        fields.maxBatchSize,
        this.rng() < 0.1 ? this.hostileValue() : options,
      ];
    return [Object.assign(options, fields)];
  }

  classify(method, error) {
    const E = this.IntemptError;
    if (error instanceof E && typeof error.code === "string" && CODES.includes(error.code) && typeof error.message === "string") {
      this.counts.rejectedByCode[error.code] = (this.counts.rejectedByCode[error.code] ?? 0) + 1;
      return;
    }
    this.trap(method, error);
  }

  trap(method, error) {
    this.counts.traps++;
    if (this.counts.trapSamples.length < 20) this.counts.trapSamples.push(`${method}: ${describe(error)}`);
  }

  /** Calls back into the client from inside a getter, logger or Proxy. Leaves the opt-out state as it was. */
  reenter() {
    this.counts.reentrantCalls++;
    const sdk = this.sdk;
    try {
      sdk.stats();
      if (this.optedOut) {
        sdk.optIn();
        sdk.optOut();
      } else {
        sdk.optOut();
        sdk.optIn();
      }
      sdk.track(undefined, "x").then(
        () => this.trap("reentrant track", new Error("an invalid call resolved")),
        (e) => this.classify("reentrant track", e),
      );
      sdk.flush().then(
        (r) => (typeof r?.delivered === "number" ? undefined : this.trap("reentrant flush", new Error("no report"))),
        (e) => this.trap("reentrant flush", e),
      );
    } catch (error) {
      this.trap("reentrant", error);
    }
  }

  async call(method) {
    const sdk = this.sdk;
    this.counts.calls++;
    this.counts.byMethod[method]++;
    if (method === "constructor") {
      const args = this.constructorArgs();
      try {
        // The clients made here are never used (their endpoint may be a real host).
        new this.SDK(...args);
        this.counts.resolvedByMethod.constructor++;
      } catch (error) {
        this.classify("constructor", error);
      }
      return;
    }
    const args = this.args(method);
    let promise;
    try {
      promise = sdk[method](...args);
    } catch (error) {
      // Every method but stats() must answer with a promise, never throw.
      if (method !== "stats") this.counts.syncThrows++;
      this.trap(method, error);
      return;
    }
    if (method === "stats") {
      if (typeof promise?.queued !== "number") this.trap(method, new Error(`stats() returned ${describe(promise)}`));
      else this.counts.resolvedByMethod.stats++;
      return;
    }
    if (typeof promise?.then !== "function") {
      this.trap(method, new Error(`${method}() returned ${typeof promise}, not a promise`));
      return;
    }
    try {
      const value = await promise;
      this.counts.resolvedByMethod[method]++;
      if (TRACKING.has(method)) {
        if (this.optedOut) this.counts.acceptedOptedOut++;
        else this.counts.acceptedTracking++;
      } else if (method === "optOut") this.optedOut = true;
      else if (method === "optIn") this.optedOut = false;
      else if (method === "consents" || method === "consent") this.counts.consentsAccepted++;
      else if (AT_ONCE.has(method)) {
        this.counts.choosesAccepted++;
        if (!Array.isArray(value)) this.trap(method, new Error("choose did not resolve to an array"));
      } else if (method === "flush" && typeof value?.pending !== "number") this.trap(method, new Error("flush did not resolve to a report"));
    } catch (error) {
      if (method === "flush" || method === "optIn" || method === "optOut") this.trap(method, error);
      else this.classify(method, error);
    }
  }

  async valid() {
    if (this.optedOut) {
      await this.sdk.optIn();
      this.optedOut = false;
      this.counts.calls++;
      this.counts.byMethod.optIn++;
      this.counts.resolvedByMethod.optIn++;
    }
    const seq = this.counts.validSent++;
    const props = { seq, plan: "pro", amount: 42.5, items: ["a", "b"], nested: { k: "v" } };
    this.counts.calls++;
    const useRecord = seq % 3 === 0;
    this.counts.byMethod[useRecord ? "record" : "track"]++;
    try {
      if (useRecord) await this.sdk.record(this.validProfile, "Valid Record", "user-1", undefined, props);
      else await this.sdk.track(this.validProfile, "Valid Event", props);
      this.counts.resolvedByMethod[useRecord ? "record" : "track"]++;
      this.counts.validSeqs.push(seq);
    } catch (error) {
      this.counts.validRejected.push(`${seq}: ${describe(error)} ${error?.code}`);
    }
  }

  /** Makes `n` calls: about one in eight is a valid tracking call. */
  async step(n) {
    for (let i = 0; i < n; i++) {
      if (this.rng() < 0.125) {
        await this.valid();
      } else {
        let x = this.rng() * this.weightTotal;
        let method = this.weights[0][0];
        for (const [m, w] of this.weights) {
          x -= w;
          if (x < 0) {
            method = m;
            break;
          }
        }
        await this.call(method);
      }
      // Let timers and the network run (background flushes), and keep the queue short.
      if (i % 100 === 99) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        if (this.sdk.stats().queued > 2_000) await this.sdk.flush();
      }
    }
  }

  /** Flushes until nothing is pending; the client must still work. */
  async finish() {
    let report;
    for (let i = 0; i < 20; i++) {
      report = await this.sdk.flush();
      if (report.pending === 0 && this.sdk.stats().inFlight === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const counts = { ...this.counts, validSeqs: undefined };
    return {
      counts,
      validProfile: this.validProfile,
      validSeqs: this.counts.validSeqs,
      lastReport: report,
      stats: this.sdk.stats(),
      ms: Date.now() - this.started,
    };
  }
}

/**
 * Hostile callbacks: a client whose `fetch`, `logger` and `waitUntil` call
 * back into it, throw, return non-promises, non-Responses, Responses whose
 * body throws, or never answer. Then the callbacks turn honest and
 * everything accepted must be delivered. Returns the counts; the server
 * must hold every accepted event.
 */
export async function hostileCallbacks(SDK, IntemptError, { endpoint, apiKey, events = 200, profile = "callbacks" }) {
  let sdk;
  let honest = false;
  let fetches = 0;
  const counts = { accepted: 0, rejected: {}, traps: 0, trapSamples: [], fetches: 0, loggerLines: 0, waitUntils: 0, reports: [], choose: [], consent: [] };
  const trap = (where, error) => {
    counts.traps++;
    if (counts.trapSamples.length < 10) counts.trapSamples.push(`${where}: ${describe(error)}`);
  };
  const track = (title, props) => {
    let p;
    try {
      p = sdk.track(profile, title, props);
    } catch (error) {
      trap("track threw", error);
      return Promise.resolve();
    }
    return p.then(
      () => counts.accepted++,
      (e) => {
        if (e instanceof IntemptError && typeof e.code === "string") counts.rejected[e.code] = (counts.rejected[e.code] ?? 0) + 1;
        else trap("track", e);
      },
    );
  };
  const pending = [];
  const hostileFetch = (url, init) => {
    if (honest) return fetch(url, init);
    counts.fetches = ++fetches;
    pending.push(track("From Fetch", { n: fetches }));
    sdk.stats();
    switch (fetches % 8) {
      case 0:
        throw new Error("fetch throws synchronously");
      case 1:
        return 42;
      case 2:
        return Promise.resolve({ status: 201, headers: null });
      case 3:
        return Promise.resolve(
          new Proxy(new Response(""), {
            get: () => {
              throw new Error("Response proxy trap");
            },
          }),
        );
      case 4: {
        const response = new Response("", { status: 201 });
        Object.defineProperty(response, "text", {
          value: () => {
            throw new Error("text() throws");
          },
        });
        return response;
      }
      case 5:
        return new Promise(() => {}); // never answers: the request timeout
      case 6:
        return Promise.reject(Symbol("rejects with a symbol"));
      default:
        return fetch(url, init);
    }
  };
  sdk = new SDK("demo-organization", "demo-project", apiKey, "616010376811536384", 10, 5, {
    endpoint,
    fetch: hostileFetch,
    requestTimeoutMs: 250,
    chooseTimeoutMs: 250,
    flushDeadlineMs: 1_000,
    logger: (line) => {
      counts.loggerLines++;
      if (/panicked|unreachable|RuntimeError/i.test(line)) trap("log line", new Error(line));
      if (honest) return;
      pending.push(track("From Logger", {}));
      if (counts.loggerLines % 3 === 0) throw new Error("logger throws");
    },
    waitUntil: (promise) => {
      counts.waitUntils++;
      if (!honest) pending.push(track("From WaitUntil", {}));
      if (typeof promise?.then !== "function") trap("waitUntil", new Error("waitUntil got no promise"));
      if (counts.waitUntils % 2) throw new Error("waitUntil throws");
    },
  });
  for (let i = 0; i < events; i++) {
    await track("Hostile Callbacks", { i });
    if (i % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 0));
  }
  for (let i = 0; i < 3; i++) {
    try {
      const report = await sdk.flush();
      counts.reports.push({
        delivered: report.delivered,
        failed: report.failed,
        pending: report.pending,
        reasons: [...new Set(report.reasons.map((r) => r.message))],
      });
    } catch (error) {
      trap("flush rejected", error);
    }
  }
  for (const [name, call] of /** @type {[string, () => Promise<unknown>][]} */ ([
    ["choose", () => sdk.chooseExperimentsByGroups("p1", ["banner"])],
    ["consent", () => sdk.consents("p1", "accept")],
  ])) {
    // Eight at once (each may wait for a timeout).
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        try {
          await call();
          counts[name].push("ok");
        } catch (error) {
          if (error instanceof IntemptError && typeof error.code === "string") counts[name].push(error.code);
          else trap(name, error);
        }
      }),
    );
  }
  // The callbacks turn honest: everything accepted must now be delivered.
  honest = true;
  await Promise.all(pending);
  let report;
  for (let i = 0; i < 20; i++) {
    report = await sdk.flush();
    if (report.pending === 0 && sdk.stats().inFlight === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await Promise.all(pending);
  return { counts, last: report, stats: sdk.stats() };
}
