// Deno: the durable outbox on a local Deno KV file (tests/e2e/outbox-deno.test.mjs).
//
//   produce ENDPOINT API_KEY KV_PATH TAG N ROUNDS
//     One client with the KV as its outbox tracks N events ({tag, i}) in
//     ROUNDS rounds, awaiting flush() after each; prints one JSON line per
//     flush ({type: "flush", report, tookMs}) and then {type: "done", stats}.
//     It neither closes the KV nor calls Deno.exit: the process must end by
//     itself once the last flush resolved. maxBatchSize is 100 and a round
//     stays under it and under maxBatchBytes, so no background flush starts:
//     only the awaited flushes send (see the note in the test file).
//
//   consume ENDPOINT API_KEY KV_PATH MAX_RETRY_DELAY_MS
//     kv.listenQueue with handleKvMessage. Before handing a value on, prints
//     what it holds ({type: "message", at, attempts, bytes, ids, items}); after,
//     {type: "handled", at, first, result}. When stdin ends (the test closes
//     it), waits for the handlers running, closes the KV, prints
//     {type: "closed", ...} once listenQueue has returned, and ends by itself.
//
//   inspect KV_PATH
//     Prints the rows left in the KV file's queue tables (Deno's SQLite
//     schema: `queue` holds waiting messages, `queue_running` those handed to
//     a listener that has not finished).
import { SDK } from "intempt-edge";

const [mode, ...args] = Deno.args;
const line = (value) => console.log(JSON.stringify(value));
const decoder = new TextDecoder();

const client = (endpoint, apiKey, outbox) =>
  new SDK("demo-organization", "demo-project", apiKey, "616010376811536384", 60_000, 100, {
    endpoint,
    flushDeadlineMs: 2_000,
    ...(outbox ? { outbox } : {}),
  });

if (mode === "produce") {
  const [endpoint, apiKey, kvPath, tag, n, rounds] = args;
  const kv = await Deno.openKv(kvPath);
  const sdk = client(endpoint, apiKey, kv);
  const total = Number(n);
  const per = Math.ceil(total / Number(rounds));
  for (let start = 0; start < total; start += per) {
    for (let i = start; i < Math.min(total, start + per); i++) {
      // About 1.6 KB of UTF-8 each (more bytes than characters): a round of
      // 50 is more than one Deno KV message holds (63,000 bytes).
      await sdk.track(`${tag}-p${i % 7}`, "Outbox Event", { tag, i, note: `événement ${i} ✓ ${"é".repeat(700)}` });
    }
    const began = Date.now();
    const report = await sdk.flush();
    line({ type: "flush", report, tookMs: Date.now() - began });
  }
  line({ type: "done", stats: sdk.stats(), at: Date.now() });
} else if (mode === "consume") {
  const [endpoint, apiKey, kvPath, maxRetryDelayMs] = args;
  const kv = await Deno.openKv(kvPath);
  const sdk = client(endpoint, apiKey);
  let running = 0;
  let idle;
  // A stored batch's value: `{ intemptEdgeBatch: <bytes>, attempts }` (anything else is read as absent).
  const listening = kv.listenQueue(async (/** @type {{ intemptEdgeBatch?: Uint8Array, attempts?: number }} */ value) => {
    running++;
    try {
      const bytes = value?.intemptEdgeBatch;
      let items = [];
      let text = "";
      if (bytes instanceof Uint8Array) {
        text = decoder.decode(bytes);
        items = JSON.parse(text).track.map((e) => e.payload[0]);
      }
      line({
        type: "message",
        at: Date.now(),
        attempts: value?.attempts,
        bytes: bytes?.length,
        keys: Object.keys(value ?? {}).sort(),
        secretFree: !/test-secret|dGVzdC1pZDp0ZXN0LXNlY3JldA|authorization|apiKey/i.test(text),
        ids: items.map((item) => item.eventId),
        items: items.map((item) => ({ id: item.eventId, timestamp: item.timestamp, i: item.data?.i })),
      });
      const result = await sdk.handleKvMessage(value, kv, { maxRetryDelayMs: Number(maxRetryDelayMs) });
      line({ type: "handled", at: Date.now(), first: items[0]?.eventId, result });
    } finally {
      running--;
      if (running === 0) idle?.();
    }
  });
  // The test closes stdin once the server holds every event it expects.
  for await (const _ of Deno.stdin.readable) {
    // nothing is sent; only the end matters
  }
  const stoppedAt = Date.now();
  if (running > 0) await new Promise((resolve) => (idle = resolve));
  kv.close();
  await listening;
  line({ type: "closed", stoppedAt, at: Date.now() });
} else if (mode === "inspect") {
  const [kvPath] = args;
  const { DatabaseSync } = await import("node:sqlite");
  const db = new DatabaseSync(kvPath, { readOnly: true });
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
    .all()
    .map((r) => r.name);
  const count = (table) => (tables.includes(table) ? Number(db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get().n) : null);
  line({ type: "inspect", tables, queue: count("queue"), queueRunning: count("queue_running") });
  db.close();
} else {
  throw new Error(`unknown mode ${mode}`);
}
