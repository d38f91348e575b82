// The durable outbox in Deno, on a local Deno KV file (app/outbox-deno.mjs):
// a process whose flushes cannot reach the API stores its batches in the KV
// queue and exits; a second process, started later with the same file,
// resends them with handleKvMessage (retrying with a delay while the API is
// still down) until the server has every event, with its original eventId
// and timestamp. And a stored batch the server refuses for good (400) is
// dropped with a logged reason while the rest arrive.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { startIngestServer } from "../server/ingest-server.mjs";
import { API_KEY, ROOT, UUID_V4, control, freePort, prepareApp, tool } from "./harness.mjs";

let app;
const servers = [];
const children = new Set();

before(async () => {
  app = await prepareApp("outbox-deno");
});
after(async () => {
  for (const child of children) child.kill("SIGKILL");
  for (const server of servers) await server.close();
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const KV_ROOT = join(ROOT, "target", "e2e", "outbox-deno-kv");

/** A fresh directory for one test's KV file. */
function kvFile(name) {
  const dir = join(KV_ROOT, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return join(dir, "kv.sqlite");
}

/**
 * Starts `deno run` on app/outbox-deno.mjs. stdout is parsed line by line as
 * JSON (`lines`), stderr kept whole. `exited` resolves with {code, signal,
 * at}; after `timeoutMs` the child is killed (and the test then fails on its
 * exit code).
 */
function deno(kvPath, args, { timeoutMs }) {
  const dir = join(kvPath, "..");
  const flags = ["run", "--unstable-kv", `--allow-read=${dir},${app}`, `--allow-write=${dir}`, "--allow-net=127.0.0.1"];
  const child = spawn(tool("deno"), [...flags, join(app, "outbox-deno.mjs"), ...args], { cwd: app, stdio: ["pipe", "pipe", "pipe"] });
  children.add(child);
  const proc = { child, lines: [], stdout: "", stderr: "", startedAt: Date.now() };
  let partial = "";
  child.stdout.on("data", (chunk) => {
    proc.stdout += chunk;
    partial += chunk;
    for (let newline = partial.indexOf("\n"); newline >= 0; newline = partial.indexOf("\n")) {
      const text = partial.slice(0, newline);
      partial = partial.slice(newline + 1);
      if (text.trim() !== "") proc.lines.push(JSON.parse(text));
    }
  });
  child.stderr.on("data", (chunk) => (proc.stderr += chunk));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  proc.exited = new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, signal, at: Date.now() });
    });
  });
  return proc;
}

const describe = (proc) => `stdout:\n${proc.stdout.slice(-4000)}\nstderr:\n${proc.stderr.slice(-4000)}`;

/** Resolves true if `port` on loopback refuses a TCP connection. */
function refuses(port) {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    socket.on("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.on("error", (/** @type {NodeJS.ErrnoException} */ error) => resolve(error.code === "ECONNREFUSED"));
  });
}

/** Polls `check` every 250 ms until it returns a truthy value or `timeoutMs` passes. */
async function until(check, timeoutMs, what) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

/** What the KV file still holds in its queue tables (read after every process closed it). */
async function queueLeft(kvPath) {
  const proc = deno(kvPath, ["inspect", kvPath], { timeoutMs: 30_000 });
  const { code } = await proc.exited;
  assert.equal(code, 0, describe(proc));
  const [inspect] = proc.lines;
  assert.ok(inspect.tables.includes("queue") && inspect.tables.includes("queue_running"), `the KV file has Deno's queue tables: ${inspect.tables}`);
  return { queue: inspect.queue, queueRunning: inspect.queueRunning };
}

/** Runs the producer to its end; checks it exited by itself, in bounded time, with every event stored. */
async function produce(kvPath, endpoint, tag, n, rounds) {
  const proc = deno(kvPath, ["produce", endpoint, API_KEY, kvPath, tag, String(n), String(rounds)], { timeoutMs: 60_000 });
  const { code, signal, at } = await proc.exited;
  const tookMs = at - proc.startedAt;
  assert.equal(signal, null, `the producer was killed (it did not exit by itself within 60 s)\n${describe(proc)}`);
  assert.equal(code, 0, describe(proc));
  // Four or so flushes of at most 2 s each, and Deno's start: 30 s is far beyond.
  assert.ok(tookMs < 30_000, `the producer took ${tookMs} ms to exit`);
  const flushes = proc.lines.filter((l) => l.type === "flush");
  const done = proc.lines.find((l) => l.type === "done");
  assert.equal(flushes.length, rounds, describe(proc));
  for (const { report, tookMs: flushMs } of flushes) {
    assert.ok(flushMs <= 3_000, `a flush with flushDeadlineMs 2000 took ${flushMs} ms`);
    assert.equal(report.delivered, 0, JSON.stringify(report));
    assert.equal(report.pending, 0, `nothing stays in memory: ${JSON.stringify(report)}`);
    assert.equal(report.stored, n / rounds, `each flush stored its round's events: ${JSON.stringify(report)}`);
    assert.ok(
      report.reasons.some((r) => r.fate === "stored" && r.events > 0),
      JSON.stringify(report.reasons),
    );
  }
  assert.deepEqual(
    { stored: done.stats.stored, queued: done.stats.queued, inFlight: done.stats.inFlight, delivered: done.stats.delivered },
    { stored: n, queued: 0, inFlight: 0, delivered: 0 },
  );
  return { proc, done, tookMs };
}

/** Closes the consumer's stdin (its signal to stop) and checks it closes the KV and exits by itself. */
async function stopConsumer(consumer) {
  consumer.child.stdin.end();
  const stopAsked = Date.now();
  const { code, signal, at } = await consumer.exited;
  assert.equal(signal, null, `the consumer was killed\n${describe(consumer)}`);
  assert.equal(code, 0, describe(consumer));
  assert.ok(at - stopAsked < 15_000, `the consumer took ${at - stopAsked} ms to exit after its stdin closed`);
  assert.ok(
    consumer.lines.some((l) => l.type === "closed"),
    `the consumer closed the KV and listenQueue returned\n${describe(consumer)}`,
  );
}

/** Every batch the consumer read from the KV, by its first eventId: its deliveries in order. */
function batchesOf(consumer) {
  const batches = new Map();
  for (const l of consumer.lines.filter((l) => l.type === "message")) {
    assert.deepEqual(l.keys, ["attempts", "intemptEdgeBatch"], "a stored value holds the batch and its attempts, nothing else");
    assert.ok(l.secretFree, "a stored batch holds no API key and no Authorization text");
    assert.ok(l.bytes > 0 && l.bytes <= 63_000, `a stored batch is ${l.bytes} bytes`);
    const key = l.ids[0];
    if (!batches.has(key)) batches.set(key, []);
    batches.get(key).push(l);
  }
  return batches;
}

test("deno: a process stores 200 undelivered events in Deno KV and exits; a later process redelivers them, retrying through the outage, each with its original eventId", async (t) => {
  const kvPath = kvFile("outage");
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const tag = `outage-${Date.now()}`;
  const N = 200;
  const t0 = Date.now();
  const SERVER_UP_AT = t0 + 60_000;
  const CONSUMER_AT = t0 + 20_000;
  const MAX_RETRY_DELAY_MS = 8_000;

  assert.ok(await refuses(port), "nothing listens on the API's port: connections are refused");
  const { done } = await produce(kvPath, endpoint, tag, N, 4);
  assert.ok(Date.now() < CONSUMER_AT, "the producer finished before the consumer starts");

  await sleep(CONSUMER_AT - Date.now());
  assert.ok(await refuses(port), "the API is still down when the consumer starts");
  const consumer = deno(kvPath, ["consume", endpoint, API_KEY, kvPath, String(MAX_RETRY_DELAY_MS)], { timeoutMs: 150_000 });

  await sleep(SERVER_UP_AT - Date.now());
  const server = await startIngestServer({ port, apiKey: API_KEY });
  servers.push(server);
  const serverUpAt = Date.now();

  // The longest a stored batch waits between two deliveries is 8 s
  // (maxRetryDelayMs); 45 s is room for a loaded machine.
  const arrived = await until(
    async () => {
      const response = await fetch(`${server.url}/_intempt/wait?events=${N}&timeoutMs=2000`);
      return response.status === 200;
    },
    45_000,
    `${N} events at the server`,
  ).catch((error) => {
    throw new Error(`${error.message}\n${describe(consumer)}`);
  });
  assert.ok(arrived);
  const allAt = Date.now();
  // A little longer, so a duplicate in flight would show.
  await sleep(1_500);
  await stopConsumer(consumer);

  // What the server holds: 200 events, each i once, each a UUID v4, each
  // with the timestamp it was tracked with (before the producer ended, not
  // when it was resent a minute later).
  const events = (await control(server, "events")).filter((e) => e.item.data?.tag === tag);
  const ids = new Set(events.map((e) => e.item.eventId));
  const duplicates = events.length - ids.size;
  const byI = new Map();
  for (const e of events) {
    assert.match(e.item.eventId, UUID_V4);
    assert.ok(
      e.item.timestamp >= t0 && e.item.timestamp <= done.at,
      `event ${e.item.data.i} has its original timestamp (${e.item.timestamp}, producer ended at ${done.at})`,
    );
    const seen = byI.get(e.item.data.i);
    if (seen) assert.equal(seen.eventId, e.item.eventId, `a duplicate of event ${e.item.data.i} has the same eventId`);
    byI.set(e.item.data.i, e.item);
  }
  assert.deepEqual(
    [...byI.keys()].sort((a, b) => a - b),
    Array.from({ length: N }, (_, i) => i),
    "no event is missing",
  );
  assert.equal(ids.size, N, "200 distinct eventIds");
  // Connections were refused until the server listened: no request reached
  // it and lost its answer, so at-least-once had no cause to send one twice.
  assert.equal(duplicates, 0, `duplicates: ${duplicates}`);

  // The server holds exactly what the KV queue held: the same eventIds, and
  // for each the same timestamp and property.
  const batches = batchesOf(consumer);
  const stored = new Map();
  for (const [, deliveries] of batches) for (const item of deliveries[0].items) stored.set(item.id, item);
  assert.equal(stored.size, N, "the KV queue held every event");
  for (const e of events) {
    const item = stored.get(e.item.eventId);
    assert.ok(item, `event ${e.item.eventId} came from the KV queue`);
    assert.deepEqual({ timestamp: e.item.timestamp, i: e.item.data.i }, { timestamp: item.timestamp, i: item.i });
  }
  // 200 events of ~1.6 KB in 4 flushes of 50 (~80 KB each): each flush's
  // events split over 2 KV messages of at most 63,000 bytes (checked in batchesOf).
  assert.equal(batches.size, 8, `stored batches: ${batches.size}`);
  assert.ok(
    [...batches.values()].some((d) => d[0].bytes > 40_000),
    "the split filled the messages",
  );

  // Every batch was retried with a delay during the outage: its attempts
  // count up one by one, each wait at least the backoff's lower bound
  // (half of min(1 s × 2^(attempts−1), maxRetryDelayMs)), and all were
  // delivered several times before the server listened.
  for (const [first, deliveries] of batches) {
    assert.deepEqual(
      deliveries.map((d) => d.attempts),
      deliveries.map((_, k) => k),
      `batch ${first}: attempts 0, 1, 2, …`,
    );
    for (let k = 1; k < deliveries.length; k++) {
      const ceiling = Math.min(1_000 * 2 ** (k - 1), MAX_RETRY_DELAY_MS);
      const gap = deliveries[k].at - deliveries[k - 1].at;
      assert.ok(gap >= ceiling / 2 - 50, `batch ${first}: delivery ${k} came ${gap} ms after the one before (backoff at least ${ceiling / 2} ms)`);
    }
    const beforeUp = deliveries.filter((d) => d.at < serverUpAt).length;
    assert.ok(beforeUp >= 3, `batch ${first} was tried ${beforeUp} times during the outage`);
    assert.ok(deliveries.at(-1).at >= serverUpAt, `batch ${first}'s last delivery came after the server listened`);
  }
  const handled = consumer.lines.filter((l) => l.type === "handled");
  assert.ok(
    handled.every((l) => l.result === true),
    "handleKvMessage resolved true for every stored batch",
  );
  assert.doesNotMatch(consumer.stderr, /dropped a stored batch/, "nothing was dropped");

  // Every request the server received was signed by the consumer with the key (header).
  const requests = (await control(server, "requests")).filter((r) => r.kind === "track");
  assert.equal(requests.length, 8, "one accepted request per stored batch");
  assert.ok(
    requests.every((r) => r.status === 201 && r.authMode === "header"),
    JSON.stringify(requests.map((r) => [r.status, r.authMode])),
  );

  // Nothing is left in the KV file's queue.
  assert.deepEqual(await queueLeft(kvPath), { queue: 0, queueRunning: 0 });

  const retriesDuringOutage = [...batches.values()].reduce((sum, d) => sum + d.filter((x) => x.at < serverUpAt).length, 0);
  t.diagnostic(
    `outage: producer stored ${N} events in 8 batches; ${retriesDuringOutage} deliveries refused during the outage; ` +
      `all ${N} arrived ${allAt - serverUpAt} ms after the server listened; duplicates ${duplicates}; test ${Date.now() - t0} ms`,
  );
});

test("deno: a stored batch the server refuses with 400 is dropped with a logged reason; the other batches arrive", async (t) => {
  const server = await startIngestServer({ apiKey: API_KEY });
  servers.push(server);
  const kvPath = kvFile("refused");
  const tag = `refused-${Date.now()}`;
  const N = 60;
  const setFaults = (plan) => fetch(`${server.url}/_intempt/faults`, { method: "POST", body: JSON.stringify(plan) });

  // The API answers 503 to everything: each flush retries, then stores.
  await setFaults({ queue: [], random: { seed: 7, probability: 1, modes: [{ status: 503 }] } });
  await produce(kvPath, server.url, tag, N, 4);
  assert.equal((await control(server, "events")).length, 0, "nothing was accepted while the API answered 503");
  assert.ok((await control(server, "stats")).byStatus["503"] >= 4, "the producer's flushes reached the server and got 503");

  // The API is back, but refuses the next request for good.
  await fetch(`${server.url}/_intempt/reset`, { method: "POST" });
  await setFaults({ queue: [{ status: 400 }], random: null });
  const consumer = deno(kvPath, ["consume", server.url, API_KEY, kvPath, "8000"], { timeoutMs: 90_000 });

  // Done once the server answered one 400 and holds every other event.
  const refused = await until(
    async () => {
      const requests = (await control(server, "requests")).filter((r) => r.kind === "track");
      const bad = requests.filter((r) => r.status === 400);
      if (bad.length === 0) return undefined;
      const badIds = JSON.parse(bad[0].body).track.map((e) => e.payload[0].eventId);
      const events = await control(server, "events");
      return events.length >= N - badIds.length ? { bad, badIds } : undefined;
    },
    40_000,
    "a 400 and the other events",
  ).catch((error) => {
    throw new Error(`${error.message}\n${describe(consumer)}`);
  });
  await sleep(1_500);
  await stopConsumer(consumer);

  assert.equal(refused.bad.length, 1, "one request was refused");
  assert.match(consumer.stderr, /\[intempt-edge\] outbox: dropped a stored batch: HTTP 400: injected 400/, describe(consumer));
  assert.equal(consumer.stderr.match(/dropped a stored batch/g).length, 1, "one batch dropped, one warning");

  const batches = batchesOf(consumer);
  // 60 events in 4 flushes of 15 (~24 KB): one stored batch each.
  assert.deepEqual(
    [...batches.values()].map((d) => d[0].ids.length),
    [15, 15, 15, 15],
  );
  const droppedBatch = batches.get(refused.badIds[0]);
  assert.ok(droppedBatch, "the refused request carried one of the stored batches");
  assert.deepEqual(droppedBatch[0].ids, refused.badIds, "exactly that batch");
  assert.equal(droppedBatch.length, 1, "the dropped batch was not enqueued again");
  for (const [first, deliveries] of batches) if (first !== refused.badIds[0]) assert.equal(deliveries.length, 1, "the other batches were delivered at once");

  const events = (await control(server, "events")).filter((e) => e.item.data?.tag === tag);
  const arrivedIds = new Set(events.map((e) => e.item.eventId));
  const stored = new Set([...batches.values()].flatMap((d) => d[0].ids));
  assert.equal(stored.size, N);
  assert.equal(events.length, N - refused.badIds.length, "every event of the other batches, once");
  assert.equal(arrivedIds.size, events.length, "no duplicates");
  for (const id of refused.badIds) assert.ok(!arrivedIds.has(id), "no event of the dropped batch arrived");
  for (const id of stored) if (!refused.badIds.includes(id)) assert.ok(arrivedIds.has(id), `stored event ${id} arrived`);
  const requests = (await control(server, "requests")).filter((r) => r.kind === "track");
  assert.equal(requests.length, 4, "one request per stored batch, the refused one included");
  assert.deepEqual(await queueLeft(kvPath), { queue: 0, queueRunning: 0 });
  t.diagnostic(`refused: dropped a batch of ${refused.badIds.length} events on HTTP 400; ${events.length} others arrived`);
});
