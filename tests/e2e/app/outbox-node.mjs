// Node: the outbox interface ({ store(messages), maxMessageBytes }) with the
// installed package (tests/e2e/outbox-node.test.mjs).
//
//   node outbox-node.mjs ENDPOINT API_KEY DIR
//
// Prints one JSON line per step. Nothing listens at ENDPOINT at first:
//   1. "config": outbox values the constructor must refuse.
//   2. "file": a client whose outbox writes each message to a file in DIR
//      (maxMessageBytes 2048) tracks 40 events; its flush stores them.
//   3. "hostile": one client per hostile outbox (store throws, rejects,
//      never settles, ...) tracks 5 events each; their flushes must resolve
//      by the deadline with the events still in memory.
//   4. "late-getter": maxMessageBytes is a getter that answers 1024 once
//      and throws after: the flush still stores, in messages of ≤ 1024 bytes.
//   5. "down": handleKvMessage of a stored message while the API is down:
//      enqueued again with a backoff delay; maxAttempts; an enqueue that throws.
// Then it prints {type: "waiting"} and waits for a line on stdin: the test
// has started the server (with faults 429 Retry-After 7, 503, 400 queued).
//   6. "faults": the same stored message three times: 429, 503, 400.
//   7. "redeliver": a fresh client resends every stored message.
//   8. "recovered": each hostile client's next flush.
//   9. "not-ours": handleKvMessage of values that are not stored batches.
// Then {type: "end"}; the process must exit by itself.
import { readdirSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { SDK, IntemptError } from "intempt-edge";

const [endpoint, apiKey, dir] = process.argv.slice(2);
const line = (value) => console.log(JSON.stringify(value));
const encoder = new TextEncoder();
const client = (outbox, extra = {}) =>
  new SDK("demo-organization", "demo-project", apiKey, "616010376811536384", 60_000, 100, { endpoint, flushDeadlineMs: 2_000, outbox, ...extra });

// A flush, timed; `rejected` if it ever rejects (it must not).
async function timedFlush(sdk) {
  const began = Date.now();
  try {
    const report = await sdk.flush();
    return { report, tookMs: Date.now() - began, stats: sdk.stats() };
  } catch (error) {
    return { rejected: String(error), tookMs: Date.now() - began, stats: sdk.stats() };
  }
}

// ---- 1. config --------------------------------------------------------------
const refusals = {};
for (const [name, make] of Object.entries({
  "maxMessageBytes getter throws": () => ({
    store: async () => {},
    get maxMessageBytes() {
      throw new Error("trap");
    },
  }),
  "maxMessageBytes 100": () => ({ store: async () => {}, maxMessageBytes: 100 }),
  "maxMessageBytes NaN": () => ({ store: async () => {}, maxMessageBytes: NaN }),
  "no store": () => ({ maxMessageBytes: 4096 }),
  "store getter throws": () => ({
    get store() {
      throw new Error("trap");
    },
  }),
  "a string": () => "my-queue",
  "an empty string": () => "",
})) {
  try {
    client(make());
    refusals[name] = { constructed: true };
  } catch (error) {
    refusals[name] = { isIntemptError: error instanceof IntemptError, code: error.code, message: error.message };
  }
}
line({ type: "config", refusals });

// ---- 2. file ----------------------------------------------------------------
let written = 0;
const storeCalls = [];
const fileOutbox = {
  maxMessageBytes: 2048,
  async store(messages) {
    storeCalls.push({ isArray: Array.isArray(messages), count: messages.length, types: [...new Set(messages.map((m) => typeof m))] });
    for (const message of messages) await writeFile(join(dir, `m${String(written++).padStart(3, "0")}.json`), message);
  },
};
const fileClient = client(fileOutbox);
for (let i = 0; i < 40; i++) await fileClient.track(`file-p${i % 3}`, "Outbox Event", { phase: "file", i, note: `ü${"ü".repeat(40)} 🙂 ${i}` });
const fileFlush = await timedFlush(fileClient);
const files = readdirSync(dir)
  .sort()
  .map((name) => ({ name, text: readFileSync(join(dir, name), "utf8") }));
line({ type: "file", ...fileFlush, storeCalls, files });

// ---- 3. hostile ---------------------------------------------------------------
let storeReads = 0;
let armed = false;
const hostileOutboxes = {
  throws: () => ({
    store() {
      throw new Error("disk on fire");
    },
  }),
  "throws a non-Error": () => ({
    store() {
      throw null;
    },
  }),
  rejects: () => ({ store: () => Promise.reject(new Error("quota exceeded")) }),
  "never settles": () => ({ store: () => new Promise(() => {}) }),
  "thenable that throws": () => ({
    store: () => ({
      // biome-ignore lint/suspicious/noThenProperty: a hostile thenable is the case
      then() {
        throw new Error("bad thenable");
      },
    }),
  }),
  "store getter throws at flush": () => ({
    get store() {
      // Read while the client is built; the flush's read throws.
      storeReads++;
      if (!armed) return async () => {};
      throw new Error("store trap");
    },
  }),
  "resolves after the deadline": () => ({ store: () => new Promise((resolve) => setTimeout(resolve, 3_000)) }),
};
const hostile = {};
for (const [kind, make] of Object.entries(hostileOutboxes)) {
  armed = false;
  const sdk = client(make());
  armed = true;
  for (let i = 0; i < 5; i++) await sdk.track(`hostile-${kind}`, "Outbox Event", { phase: kind, i });
  hostile[kind] = sdk;
  line({ type: "hostile", kind, ...(await timedFlush(sdk)) });
}

// ---- 4. late-getter --------------------------------------------------------------
let maxReads = 0;
const lateMessages = [];
const lateClient = client({
  get maxMessageBytes() {
    if (maxReads++ === 0) return 1024;
    throw new Error("max trap");
  },
  async store(messages) {
    lateMessages.push(...messages);
  },
});
for (let i = 0; i < 12; i++) await lateClient.track("late-getter", "Outbox Event", { phase: "late-getter", i });
line({ type: "late-getter", ...(await timedFlush(lateClient)), messages: lateMessages, maxReads });
line({ type: "store-reads", storeReads });

// ---- 5. down ---------------------------------------------------------------------
// A stand-in for the Deno.Kv handleKvMessage is given (only its enqueue is
// used): it records what would be enqueued.
/** @typedef {{ attempts: number, keys: string[], text: string, delay: number | undefined }} Enqueued */
/** @param {boolean} fail */
const recorder = (fail) => {
  /** @type {Enqueued[]} */
  const enqueued = [];
  // No `listenQueue`, which the DenoKv type lists but handleKvMessage never calls.
  return /** @type {import("intempt-edge").DenoKv & { enqueued: Enqueued[] }} */ ({
    enqueued,
    /**
     * @param {{ attempts: number, intemptEdgeBatch: Uint8Array }} value
     * @param {{ delay?: number }} [options]
     */
    enqueue(value, options) {
      if (fail) throw new Error("kv is gone");
      enqueued.push({
        attempts: value.attempts,
        keys: Object.keys(value).sort(),
        text: new TextDecoder().decode(value.intemptEdgeBatch),
        delay: options?.delay,
      });
      return Promise.resolve({ ok: true });
    },
  });
};
const consumer = client(undefined);
const stored = files.map((f) => f.text);
const down = {};
for (const [name, attempts, options] of /** @type {[string, number, import("intempt-edge").RedeliveryOptions | undefined][]} */ ([
  ["first", 0, undefined],
  ["fourth", 3, undefined],
  ["capped", 5, { maxRetryDelayMs: 2_000 }],
  ["last allowed", 4, { maxAttempts: 5 }],
])) {
  const kv = recorder(false);
  const result = await consumer.handleKvMessage({ intemptEdgeBatch: encoder.encode(stored[0]), attempts }, kv, options);
  down[name] = { result, enqueued: kv.enqueued.map((e) => ({ ...e, same: e.text === stored[0], text: undefined })) };
}
try {
  await consumer.handleKvMessage({ intemptEdgeBatch: encoder.encode(stored[0]), attempts: 0 }, recorder(true));
  down["enqueue throws"] = { rejected: false };
} catch (error) {
  down["enqueue throws"] = { rejected: true, message: String(error?.message ?? error) };
}
try {
  await consumer.handleKvMessage({ intemptEdgeBatch: encoder.encode(stored[0]), attempts: 0 }, recorder(false), { maxRetryDelayMs: 0 });
  down["bad option"] = { rejected: false };
} catch (error) {
  down["bad option"] = { rejected: true, code: error?.code };
}
line({ type: "down", down });

// ---- the server comes up ------------------------------------------------------------
line({ type: "waiting" });
const input = createInterface({ input: process.stdin });
await new Promise((resolve) => input.once("line", resolve));
input.close();

// ---- 6. faults: 429 Retry-After 7, 503, 400 ---------------------------------------------
const faults = [];
for (let k = 0; k < 3; k++) {
  const kv = recorder(false);
  const result = await consumer.handleKvMessage({ intemptEdgeBatch: encoder.encode(stored[0]), attempts: 0 }, kv);
  faults.push({ result, enqueued: kv.enqueued.map((e) => ({ attempts: e.attempts, delay: e.delay, same: e.text === stored[0] })) });
}
line({ type: "faults", faults });

// ---- 7. redeliver -----------------------------------------------------------------------
const redelivered = [];
for (const text of [...stored, ...lateMessages]) {
  const kv = recorder(false);
  const result = await consumer.handleKvMessage({ intemptEdgeBatch: encoder.encode(text), attempts: 0 }, kv);
  redelivered.push({ result, enqueued: kv.enqueued.length });
}
line({ type: "redeliver", redelivered });

// ---- 8. recovered ---------------------------------------------------------------------------
for (const [kind, sdk] of Object.entries(hostile)) line({ type: "recovered", kind, ...(await timedFlush(sdk)) });
line({ type: "recovered", kind: "file", ...(await timedFlush(fileClient)) });

// ---- 9. not ours -----------------------------------------------------------------------------
const notOurs = {};
for (const [name, value] of Object.entries({
  null: null,
  undefined: undefined,
  number: 42,
  string: "intemptEdgeBatch",
  "empty object": {},
  "batch as a string": { intemptEdgeBatch: stored[0], attempts: 0 },
  "other app's message": { kind: "email", to: "someone" },
})) {
  const kv = recorder(false);
  notOurs[name] = { result: await consumer.handleKvMessage(value, kv), enqueued: kv.enqueued.length };
}
// Bytes that are not a track body: ours by shape, dropped with a logged reason.
const garbage = recorder(false);
notOurs["bytes that are not a batch"] = {
  result: await consumer.handleKvMessage({ intemptEdgeBatch: encoder.encode("hello"), attempts: 0 }, garbage),
  enqueued: garbage.enqueued.length,
};
line({ type: "not-ours", notOurs });
line({ type: "end", at: Date.now() });
