// The outbox interface in Node ({ store(messages), maxMessageBytes }), with
// the installed package (app/outbox-node.mjs): with the API down, a flush
// hands every event to a file-backed outbox in messages of at most
// maxMessageBytes, without the key and with the original eventIds; hostile
// outboxes never make flush() reject or outlast its deadline, and their events
// stay in memory until a later flush delivers them; stored messages resent
// with handleKvMessage by a fresh client arrive with their original ids.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { startIngestServer } from "../server/ingest-server.mjs";
import { API_KEY, BASIC, ROOT, UUID_V4, control, freePort, prepareApp } from "./harness.mjs";

let app;
let server;
let child;

before(async () => {
  app = await prepareApp("outbox-node");
});
after(async () => {
  child?.kill("SIGKILL");
  await server?.close();
});

const HOSTILE = [
  "throws",
  "throws a non-Error",
  "rejects",
  "never settles",
  "thenable that throws",
  "store getter throws at flush",
  "resolves after the deadline",
];
// Every form of the key a message must never hold.
const SECRET_FORMS = [API_KEY, "test-id:test-secret", "test-secret", BASIC.slice("Basic ".length)];

test("node: the outbox interface: stored messages within maxMessageBytes, no key, original ids; hostile outboxes never break flush(); redelivery", async (t) => {
  const dir = join(ROOT, "target", "e2e", "outbox-node-files");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const started = Date.now();

  child = spawn(process.execPath, [join(app, "outbox-node.mjs"), endpoint, API_KEY, dir], { cwd: app, stdio: ["pipe", "pipe", "pipe"] });
  const steps = [];
  let stdout = "";
  let stderr = "";
  let partial = "";
  let onStep = () => {};
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
    partial += chunk;
    for (let newline = partial.indexOf("\n"); newline >= 0; newline = partial.indexOf("\n")) {
      const text = partial.slice(0, newline);
      partial = partial.slice(newline + 1);
      if (text.trim() === "") continue;
      steps.push(JSON.parse(text));
      onStep();
    }
  });
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const killer = setTimeout(() => child.kill("SIGKILL"), 90_000);
  const exited = new Promise((resolve) => child.on("close", (code, signal) => resolve({ code, signal, at: Date.now() })));
  const output = () => `stdout:\n${stdout.slice(-6000)}\nstderr:\n${stderr.slice(-3000)}`;
  const step = (type) => steps.find((s) => s.type === type);

  // While the app works with the API down, nothing may listen on its port.
  const waiting = await new Promise((resolve, reject) => {
    onStep = () => step("waiting") && resolve(true);
    exited.then(() => reject(new Error(`the app ended before the server came up\n${output()}`)));
  });
  assert.ok(waiting);
  server = await startIngestServer({ port, apiKey: API_KEY });
  await fetch(`${server.url}/_intempt/faults`, {
    method: "POST",
    body: JSON.stringify({ queue: [{ status: 429, retryAfter: "7" }, { status: 503 }, { status: 400 }] }),
  });
  child.stdin.end("up\n");
  const { code, signal, at } = await exited;
  clearTimeout(killer);
  assert.equal(signal, null, `the app was killed (it did not exit by itself)\n${output()}`);
  assert.equal(code, 0, output());
  const end = step("end");
  assert.ok(end, output());
  // The store that resolves after 3 s holds the process at most that long; no SDK timer may hold it.
  assert.ok(at - end.at < 6_000, `the app exited ${at - end.at} ms after its last step`);

  // ---- 1. config: what the constructor refuses, with an IntemptError.
  const { refusals } = step("config");
  for (const [name, refusal] of Object.entries(refusals)) {
    assert.deepEqual(
      { isIntemptError: refusal.isIntemptError, code: refusal.code },
      { isIntemptError: true, code: "INVALID_CONFIG" },
      `${name}: ${JSON.stringify(refusal)}`,
    );
  }
  assert.match(refusals["maxMessageBytes getter throws"].message, /outbox threw when read/);
  assert.match(refusals["maxMessageBytes 100"].message, /at least 1024/);
  assert.match(refusals["maxMessageBytes NaN"].message, /at least 1024/);
  assert.match(refusals["no store"].message, /store\(messages\)/);

  // ---- 2. file: every event stored, in several messages of ≤ 2048 UTF-8 bytes.
  const file = step("file");
  assert.equal(file.rejected, undefined);
  assert.ok(file.tookMs <= 3_000, `the flush took ${file.tookMs} ms (deadline 2000)`);
  assert.deepEqual(
    { stored: file.report.stored, delivered: file.report.delivered, pending: file.report.pending, failed: file.report.failed },
    { stored: 40, delivered: 0, pending: 0, failed: 0 },
    JSON.stringify(file.report),
  );
  assert.ok(
    file.report.reasons.some((r) => r.fate === "stored" && r.cause === "network"),
    JSON.stringify(file.report.reasons),
  );
  assert.deepEqual({ stored: file.stats.stored, queued: file.stats.queued, inFlight: file.stats.inFlight }, { stored: 40, queued: 0, inFlight: 0 });
  assert.deepEqual(
    file.storeCalls.map((c) => ({ isArray: c.isArray, types: c.types })),
    [{ isArray: true, types: ["string"] }],
    "one store() call with an array of strings",
  );
  assert.equal(file.files.length, file.storeCalls[0].count, "each message in its own file");
  assert.ok(file.files.length >= 4, `40 events of ~130 bytes in ${file.files.length} messages of at most 2048 bytes`);
  const storedItems = new Map();
  for (const { name, text } of file.files) {
    const bytes = Buffer.byteLength(text, "utf8");
    assert.ok(bytes <= 2_048, `${name} is ${bytes} bytes of UTF-8 (maxMessageBytes 2048)`);
    assert.ok(bytes > text.length, `${name} holds multi-byte characters (the limit counts bytes)`);
    for (const form of SECRET_FORMS) assert.ok(!text.includes(form), `${name} holds a form of the API key`);
    assert.doesNotMatch(text, /authorization|apikey|basic /i, `${name} holds auth text`);
    const body = JSON.parse(text);
    assert.deepEqual(Object.keys(body), ["track"]);
    for (const entry of body.track) {
      const item = entry.payload[0];
      assert.match(item.eventId, UUID_V4);
      assert.ok(!storedItems.has(item.eventId), "each eventId in one message only");
      storedItems.set(item.eventId, item);
    }
  }
  assert.deepEqual(
    [...storedItems.values()].map((item) => item.data.i).sort((a, b) => a - b),
    Array.from({ length: 40 }, (_, i) => i),
  );

  // ---- 3. hostile: the flush resolves by its deadline, stores nothing, keeps the events.
  for (const kind of HOSTILE) {
    const h = steps.find((s) => s.type === "hostile" && s.kind === kind);
    assert.ok(h, `hostile ${kind} ran`);
    assert.equal(h.rejected, undefined, `${kind}: flush() rejected: ${h.rejected}`);
    assert.ok(h.tookMs <= 3_000, `${kind}: the flush took ${h.tookMs} ms (deadline 2000)`);
    assert.deepEqual(
      { stored: h.report.stored, delivered: h.report.delivered, pending: h.report.pending },
      { stored: 0, delivered: 0, pending: 5 },
      `${kind}: ${JSON.stringify(h.report)}`,
    );
    assert.ok(
      h.report.reasons.some((r) => r.fate === "failed" && r.cause === "outboxFailed"),
      `${kind}: ${JSON.stringify(h.report.reasons)}`,
    );
    assert.deepEqual({ queued: h.stats.queued + h.stats.inFlight, stored: h.stats.stored }, { queued: 5, stored: 0 }, `${kind}: ${JSON.stringify(h.stats)}`);
  }
  const hostile = Object.fromEntries(steps.filter((s) => s.type === "hostile").map((s) => [s.kind, s]));
  assert.match(hostile["never settles"].report.reasons.at(-1).message, /did not finish within \d+ ms/);
  assert.match(hostile.throws.report.reasons.at(-1).message, /disk on fire/);
  assert.match(hostile.rejects.report.reasons.at(-1).message, /quota exceeded/);
  assert.match(hostile["store getter throws at flush"].report.reasons.at(-1).message, /store trap/);
  assert.ok(step("store-reads").storeReads >= 2, "the store getter was read again at flush time (and threw)");

  // ---- 4. a maxMessageBytes getter that throws after its first read: read once, used as the cap.
  const late = step("late-getter");
  assert.equal(late.rejected, undefined);
  assert.equal(late.maxReads, 1, "maxMessageBytes is read once, when the client is built");
  assert.equal(late.report.stored, 12);
  assert.ok(late.messages.length >= 2, `12 events in ${late.messages.length} messages of at most 1024 bytes`);
  for (const m of late.messages) assert.ok(Buffer.byteLength(m) <= 1_024, `a message of ${Buffer.byteLength(m)} bytes`);

  // ---- 5. redelivery while the API is down: enqueued again with the same bytes and a backoff.
  const { down } = step("down");
  const again = (name) => {
    assert.equal(down[name].result, true, name);
    assert.equal(down[name].enqueued.length, 1, `${name}: enqueued again once`);
    const [e] = down[name].enqueued;
    assert.deepEqual(e.keys, ["attempts", "intemptEdgeBatch"]);
    assert.ok(e.same, `${name}: the same batch`);
    return e;
  };
  const first = again("first");
  assert.equal(first.attempts, 1);
  assert.ok(first.delay >= 500 && first.delay <= 1_000, `first backoff ${first.delay} ms (1 s, half jittered)`);
  const fourth = again("fourth");
  assert.equal(fourth.attempts, 4);
  assert.ok(fourth.delay >= 4_000 && fourth.delay <= 8_000, `fourth backoff ${fourth.delay} ms (8 s, half jittered)`);
  const capped = again("capped");
  assert.equal(capped.attempts, 6);
  assert.ok(capped.delay >= 1_000 && capped.delay <= 2_000, `backoff ${capped.delay} ms with maxRetryDelayMs 2000`);
  assert.deepEqual(down["last allowed"], { result: true, enqueued: [] }, "the 5th delivery with maxAttempts 5 gives up");
  assert.match(stderr, /\[intempt-edge\] outbox: dropped a stored batch: gave up after 5 deliveries \(maxAttempts\); the last: network error/);
  assert.deepEqual(down["enqueue throws"], { rejected: true, message: "kv is gone" }, "a failed enqueue rejects (Deno then redelivers the message)");
  assert.deepEqual(down["bad option"], { rejected: true, code: "INVALID_ARGUMENT" });

  // ---- 6. the server answers 429 Retry-After: 7, then 503, then 400.
  const { faults } = step("faults");
  assert.deepEqual(faults[0], { result: true, enqueued: [{ attempts: 1, delay: 7_000, same: true }] }, "429: the server's Retry-After");
  assert.equal(faults[1].enqueued.length, 1);
  assert.ok(faults[1].enqueued[0].delay >= 500 && faults[1].enqueued[0].delay <= 1_000, `503: backoff ${faults[1].enqueued[0].delay} ms`);
  assert.deepEqual(faults[2], { result: true, enqueued: [] }, "400: dropped, not enqueued again");
  assert.match(stderr, /\[intempt-edge\] outbox: dropped a stored batch: HTTP 400: injected 400/);

  // ---- 7–8. every stored message resent once by a fresh client; every hostile client's next flush delivers.
  const { redelivered } = step("redeliver");
  assert.equal(redelivered.length, file.files.length + late.messages.length);
  assert.ok(
    redelivered.every((r) => r.result === true && r.enqueued === 0),
    JSON.stringify(redelivered),
  );
  for (const kind of HOSTILE) {
    const r = steps.find((s) => s.type === "recovered" && s.kind === kind);
    assert.deepEqual(
      { delivered: r.report.delivered, pending: r.report.pending, stored: r.report.stored, queued: r.stats.queued },
      { delivered: 5, pending: 0, stored: 0, queued: 0 },
      `${kind}: ${JSON.stringify(r)}`,
    );
  }
  const fileAgain = steps.find((s) => s.type === "recovered" && s.kind === "file");
  assert.equal(fileAgain.report.requests, 0, "stored events left the client's memory: nothing to send");

  // What the server holds: every file event once, with its stored eventId,
  // timestamp and data; each hostile client's 5 events once.
  const events = await control(server, "events");
  const fileEvents = events.filter((e) => e.item.data?.phase === "file");
  assert.equal(fileEvents.length, 40);
  for (const e of fileEvents) {
    const item = storedItems.get(e.item.eventId);
    assert.ok(item, `event ${e.item.eventId} is one the outbox stored`);
    assert.deepEqual(e.item, item, "as stored: timestamp, profile and data");
    assert.ok(e.item.timestamp < end.at && e.item.timestamp >= started);
  }
  assert.equal(new Set(fileEvents.map((e) => e.item.eventId)).size, 40, "no duplicates");
  for (const kind of [...HOSTILE, "late-getter"]) {
    const mine = events.filter((e) => e.item.data?.phase === kind);
    const expected = kind === "late-getter" ? 12 : 5;
    assert.equal(mine.length, expected, `${kind}: ${mine.length} events`);
    assert.equal(new Set(mine.map((e) => e.item.eventId)).size, expected, `${kind}: once each`);
    assert.deepEqual(
      mine.map((e) => e.item.data.i).sort((a, b) => a - b),
      Array.from({ length: expected }, (_, i) => i),
    );
  }
  assert.equal(events.length, 40 + 5 * HOSTILE.length + 12, "nothing else arrived");
  const requests = (await control(server, "requests")).filter((r) => r.kind === "track");
  assert.ok(
    requests.every((r) => r.authMode === "header"),
    "every request signed with the key in the header",
  );

  // ---- 9. values that are not stored batches.
  const { notOurs } = step("not-ours");
  for (const [name, r] of Object.entries(notOurs)) {
    if (name === "bytes that are not a batch") continue;
    assert.deepEqual(r, { result: false, enqueued: 0 }, name);
  }
  assert.deepEqual(notOurs["bytes that are not a batch"], { result: true, enqueued: 0 });
  assert.match(stderr, /dropped a stored batch: not a batch stored by intempt-edge/);
  assert.equal(stderr.match(/dropped a stored batch/g).length, 3, `three drops logged:\n${stderr}`);

  t.diagnostic(
    `node: ${file.files.length} messages (${file.files.map((f) => Buffer.byteLength(f.text)).join(", ")} bytes) for 40 events; ${HOSTILE.length} hostile outboxes; ${Date.now() - started} ms`,
  );
});

// A full batch starts a background flush, whose waits do not keep the
// process alive; the awaited flush must not return (and let the process
// exit) while that batch is neither sent nor stored. Repeated: the race
// depends on the retries' jitter.
test("node: a process that exits after its awaited flush leaves nothing unstored when a background flush held a batch", async () => {
  const script = `
    import { SDK } from "intempt-edge";
    const stored = [];
    const sdk = new SDK("o", "p", ${JSON.stringify(API_KEY)}, "1", 60000, 25, {
      endpoint: "http://127.0.0.1:9", flushDeadlineMs: 2000,
      outbox: { async store(messages) { stored.push(...messages); } },
    });
    for (let i = 0; i < 50; i++) await sdk.track("p", "E", { i });
    const report = await sdk.flush();
    process.on("exit", () => {
      const ids = stored.flatMap((m) => JSON.parse(m).track.map((e) => e.payload[0].eventId));
      console.log(JSON.stringify({ report, stats: sdk.stats(), ids: new Set(ids).size }));
    });`;
  for (let run = 0; run < 6; run++) {
    const result = await new Promise((resolve) => {
      const c = spawn(process.execPath, ["--input-type=module", "-e", script], { cwd: app, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      c.stdout.on("data", (d) => (out += d));
      c.stderr.on("data", (d) => (out += d));
      c.on("close", (code) => resolve({ code, out }));
    });
    assert.equal(result.code, 0, result.out);
    const { report, stats, ids } = JSON.parse(result.out.trim().split("\n").pop());
    assert.equal(ids, 50, `run ${run}: every event stored once before exit: ${result.out}`);
    assert.deepEqual([stats.queued, stats.inFlight, stats.stored], [0, 0, 50], `run ${run}`);
    assert.equal(report.pending, 0, `run ${run}: the awaited flush left nothing pending`);
  }
});

// The Cloudflare Queues consumer with Node's transport: one batch of stored
// messages is resent at most maxConcurrentRequests at a time (on 8bc9077 all
// at once: as many as the transport's 6 sockets, the rest timing out in its
// queue and stored again). Counted by the server: requests open at once.
test("node: handleQueueBatch sends at most maxConcurrentRequests messages at once, against a slow healthy server", async (t) => {
  const script = `
    import { SDK } from "intempt-edge";
    const [endpoint, limit] = process.argv.slice(1);
    // 40 stored messages of one event each: what a flush stores while the API refuses connections.
    const stored = [];
    const producer = new SDK("o", "p", ${JSON.stringify(API_KEY)}, "1", 60000, 1, {
      endpoint: "http://127.0.0.1:9", flushDeadlineMs: 1500,
      outbox: { async store(messages) { stored.push(...messages); } },
    });
    for (let i = 0; i < 40; i++) await producer.track("p", "E", { i });
    await producer.flush();
    const options = limit === "default" ? {} : { maxConcurrentRequests: Number(limit) };
    const consumer = new SDK("o", "p", ${JSON.stringify(API_KEY)}, "1", 60000, 20, { endpoint, ...options });
    let acked = 0, retried = 0;
    const messages = stored.map((body, i) => ({ id: String(i), body, attempts: 1, ack() { acked++; }, retry() { retried++; } }));
    const started = Date.now();
    const summary = await consumer.handleQueueBatch({ queue: "intempt-outbox", messages });
    console.log(JSON.stringify({ stored: stored.length, summary, acked, retried, tookMs: Date.now() - started }));`;
  for (const [limit, expected] of /** @type {[string, number][]} */ ([
    ["2", 2],
    ["default", 4],
  ])) {
    const srv = await startIngestServer({ apiKey: API_KEY });
    try {
      // A healthy server that takes 300 ms for every request.
      await fetch(`${srv.url}/_intempt/faults`, {
        method: "POST",
        body: JSON.stringify({ random: { seed: 1, probability: 1, modes: [{ delayMs: 300 }] } }),
      });
      const result = await new Promise((resolve) => {
        const c = spawn(process.execPath, ["--input-type=module", "-e", script, srv.url, limit], { cwd: app, stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        let err = "";
        c.stdout.on("data", (d) => (out += d));
        c.stderr.on("data", (d) => (err += d));
        c.on("close", (code) => resolve({ code, out, err }));
      });
      assert.equal(result.code, 0, `${result.out}\n${result.err}`);
      const { stored, summary, acked, retried, tookMs } = JSON.parse(result.out.trim().split("\n").pop());
      assert.equal(stored, 40, "40 messages stored by the producer");
      assert.deepEqual(summary, { delivered: 40, retried: 0, dropped: 0, reasons: [] }, "every message delivered");
      assert.deepEqual({ acked, retried }, { acked: 40, retried: 0 }, "each message acked, none retried");
      const stats = await control(srv, "stats");
      assert.equal(
        stats.maxInFlight,
        expected,
        `at most ${expected} requests open at once (maxConcurrentRequests ${limit}); the server saw ${stats.maxInFlight}`,
      );
      assert.deepEqual(
        { events: stats.events, duplicates: stats.duplicates, requests: stats.requests },
        { events: 40, duplicates: 0, requests: 40 },
        "each event once, one request each",
      );
      t.diagnostic(`maxConcurrentRequests ${limit}: at most ${stats.maxInFlight} at once, 40 messages in ${tookMs} ms`);
    } finally {
      await srv.close();
    }
  }
});

// A stored batch the server refuses as too large (413) is split in halves,
// as a flush does, not dropped (on 8bc9077: dropped, 20 events lost).
test("node: a 413 during redelivery splits the stored batch; every event arrives once", async () => {
  const script = `
    import { SDK } from "intempt-edge";
    const [endpoint] = process.argv.slice(1);
    const stored = [];
    const producer = new SDK("o", "p", ${JSON.stringify(API_KEY)}, "1", 60000, 20, {
      endpoint: "http://127.0.0.1:9", flushDeadlineMs: 1500,
      outbox: { async store(messages) { stored.push(...messages); } },
    });
    for (let i = 0; i < 20; i++) await producer.track("p", "E", { i, pad: "x".repeat(100) });
    await producer.flush();
    const consumer = new SDK("o", "p", ${JSON.stringify(API_KEY)}, "1", 60000, 20, { endpoint });
    const results = [];
    for (const message of stored) results.push(await consumer.redeliver(message));
    console.log(JSON.stringify({ stored, results }));`;
  const run = (srv) =>
    new Promise((resolve) => {
      const c = spawn(process.execPath, ["--input-type=module", "-e", script, srv.url], { cwd: app, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      let err = "";
      c.stdout.on("data", (d) => (out += d));
      c.stderr.on("data", (d) => (err += d));
      c.on("close", (code) => resolve({ code, out, err }));
    });
  // Bodies of more than 2,500 bytes are refused with 413: the stored batch
  // of 20 events (~3,700 bytes) is; its halves (~1,850) are not.
  const srv = await startIngestServer({ apiKey: API_KEY, maxBodyBytes: 2_500 });
  try {
    const result = await run(srv);
    assert.equal(result.code, 0, `${result.out}\n${result.err}`);
    const { stored, results } = JSON.parse(result.out.trim().split("\n").pop());
    assert.equal(stored.length, 1, "one stored message of 20 events");
    assert.ok(Buffer.byteLength(stored[0]) > 2_500 && Buffer.byteLength(stored[0]) < 5_000, `${Buffer.byteLength(stored[0])} bytes`);
    assert.deepEqual(results, [{ outcome: "delivered" }]);
    const requests = (await control(srv, "requests")).filter((r) => r.kind === "track").map((r) => r.status);
    assert.deepEqual(requests, [413, 201, 201], "the whole batch, then each half");
    const events = await control(srv, "events");
    const ids = JSON.parse(stored[0]).track.map((e) => e.payload[0].eventId);
    assert.deepEqual(
      events.map((e) => e.item.eventId),
      ids,
      "every stored event once, in order, with its original eventId",
    );
  } finally {
    await srv.close();
  }
});
