// Edge cases of delivery and lifecycle ("Reliability II"), in the runtimes
// each one concerns, against the local ingest server:
//
//   - duplicates from a healthy but slow server (every answer 350 ms late,
//     reached through a relay that, like a real server, finishes a request
//     whose client gave up): a request with too little time left must not
//     be started, so repeated flushes deliver every event exactly once
//     (Node, workerd);
//   - a process is not held by a background flush nobody awaits, but is held
//     by a flush the caller awaits (Node, Bun, Deno);
//   - 2,000 flushes waiting for one batch are woken, not polling (Node);
//   - a Retry-After pause: a flush during it waits for its end (up to its
//     deadline) instead of returning at once, and never spins (Node, workerd);
//   - consents with empty-string email and message (Node, workerd).
//
// Figures (duplicates, CPU, times) are printed with console.log.
import assert from "node:assert/strict";
import { after, before, beforeEach, test } from "node:test";
import { connect, createServer } from "node:net";
import { join } from "node:path";

import { startIngestServer } from "../server/ingest-server.mjs";
import { API_KEY, bundleWorker, control, envOf, prepareApp, run, startWorker, tool } from "./harness.mjs";

let server;
let app;
let worker;
const workerdOutput = [];

before(async () => {
  server = await startIngestServer({ apiKey: API_KEY });
  app = await prepareApp("edges");
  worker = await startWorker(await bundleWorker(app, "edges-worker.js", join(app, "dist-edges")), { output: workerdOutput });
});
beforeEach(async () => {
  await fetch(`${server.url}/_intempt/reset`, { method: "POST" });
});
after(async () => {
  await worker?.dispose();
  await server?.close();
});

async function setFaults(plan) {
  const response = await fetch(`${server.url}/_intempt/faults`, { method: "POST", body: JSON.stringify(plan) });
  assert.equal(response.status, 200, await response.text());
}

/** Every contract request answered after `delayMs`, normally. */
const slow = (delayMs) => ({ random: { seed: 1, probability: 1, modes: [{ delayMs }] } });
const always = (fault) => ({ random: { seed: 1, probability: 1, modes: [fault] } });

/** Runs a scenario of app/edges.js in a Node child process. */
async function inNode(runtime, name, args, timeoutMs) {
  const result = await run(process.execPath, [join(app, "edges-run.mjs"), name, JSON.stringify(args)], { cwd: app, env: envOf(runtime), timeoutMs });
  assert.equal(result.code, 0, `node exited with ${result.code}:\n${result.stderr}`);
  return JSON.parse(result.stdout.trim().split("\n").pop());
}

/** Runs a scenario of app/edges.js in one Worker request; workerd must print no trap or uncaught error. */
async function inWorkerd(name, args) {
  workerdOutput.length = 0;
  const response = await worker.dispatchFetch(`http://edges/${name}?${new URLSearchParams({ args: JSON.stringify(args) })}`);
  assert.equal(response.status, 200, await response.clone().text());
  const result = await response.json();
  assert.deepEqual(
    workerdOutput.filter((line) => /panicked|unreachable|RuntimeError|Uncaught/i.test(line)),
    [],
    "no trap or uncaught error in workerd's output",
  );
  return result;
}

const scenario = (runtime, name, args, timeoutMs = 120_000) => (runtime === "workerd" ? inWorkerd(name, args) : inNode(runtime, name, args, timeoutMs));

const eventsFor = async (profile) => (await control(server, "events")).filter((e) => e.item.profileId === profile);
const trackRequests = async () => (await control(server, "requests")).filter((r) => r.kind === "track");

// ---------------------------------------------------------------------------
// Duplicates from a healthy server
// ---------------------------------------------------------------------------

/**
 * A TCP relay to the ingest server that, like a real server behind a load
 * balancer, does not cancel a request when its client leaves: the upstream
 * connection stays open, so the server finishes the request (and stores its
 * events) after a client that timed out has gone. The ingest server alone
 * would notice the client leave during its injected delay and drop the
 * request, hiding the duplicate a real server makes.
 */
async function startRelay(target) {
  const { hostname, port } = new URL(target);
  const sockets = new Set();
  const relay = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => sockets.delete(socket));
    }
    client.on("data", (chunk) => upstream.write(chunk));
    upstream.on("data", (chunk) => client.destroyed || client.write(chunk));
    upstream.on("close", () => client.destroy());
    // The client left: leave the server's side open (no FIN, which the server
    // would take as the client leaving) until it is done with the request.
    client.on("close", () => setTimeout(() => upstream.destroy(), 10_000).unref());
  });
  await /** @type {Promise<void>} */ (new Promise((resolve) => relay.listen(0, "127.0.0.1", resolve)));
  return {
    url: `http://127.0.0.1:${/** @type {import("node:net").AddressInfo} */ (relay.address()).port}`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => relay.close(resolve));
    },
  };
}

const DUPLICATE_RUNS = [
  // 30 batches; a 1 s flush fits two 350 ms requests, not a third.
  { label: "600 events, maxBatchSize 20, flushDeadlineMs 1000", n: 600, maxBatchSize: 20, flushDeadlineMs: 1_000, maxFlushes: 100, timeout: 120_000 },
  // The defaults (maxBatchSize 20, flushDeadlineMs 10000): 125 batches.
  { label: "2,500 events, the default options", n: 2_500, maxBatchSize: undefined, flushDeadlineMs: undefined, maxFlushes: 300, timeout: 240_000 },
];

for (const runtime of ["node", "node-fetch", "workerd"]) {
  // node-fetch (the global fetch as the fetch option): the shorter run only.
  for (const c of runtime === "node-fetch" ? DUPLICATE_RUNS.slice(0, 1) : DUPLICATE_RUNS) {
    test(`${runtime}: ${c.label}, every answer 350 ms late — flush() until nothing is pending: 0 duplicates, 0 lost`, { timeout: c.timeout }, async () => {
      const profile = `dup-${runtime}-${c.n}`;
      await setFaults(slow(350));
      const relay = await startRelay(server.url);
      let result;
      try {
        result = await scenario(
          runtime,
          "duplicates",
          { endpoint: relay.url, apiKey: API_KEY, profile, n: c.n, maxBatchSize: c.maxBatchSize, flushDeadlineMs: c.flushDeadlineMs, maxFlushes: c.maxFlushes },
          c.timeout - 10_000,
        );
      } finally {
        await relay.close();
      }
      const events = await eventsFor(profile);
      const requests = await trackRequests();
      const unique = new Set(events.map((e) => e.item.eventId)).size;
      const seqs = new Set(events.map((e) => e.item.data.seq));
      const lost = Array.from({ length: c.n }, (_, seq) => seq).filter((seq) => !seqs.has(seq));
      const last = result.flushes.at(-1);
      console.log(
        `edges[${runtime}] duplicates, ${c.label}: stored=${events.length} unique=${unique} duplicated=${events.length - unique} lost=${lost.length} ` +
          `flushes=${result.flushes.length} requests=${requests.length} (${Math.ceil(c.n / (c.maxBatchSize ?? 20))} batches) last.pending=${last.pending} time=${(result.ms / 1000).toFixed(1)}s`,
      );
      assert.deepEqual(result.rejected, [], "no track() was refused");
      for (const [i, f] of result.flushes.entries()) {
        assert.ok(
          f.pending === 0 || f.pending < f.pendingBefore,
          `flush ${i + 1} made progress (pending ${f.pendingBefore} -> ${f.pending}): ${JSON.stringify(f)}`,
        );
      }
      assert.equal(last.pending, 0, `nothing pending after ${result.flushes.length} flushes`);
      assert.equal(
        events.length - unique,
        0,
        "0 duplicates (a request started with too little time left to finish is processed by the server after the client gave up, then sent again)",
      );
      assert.deepEqual(lost, [], "0 lost");
      assert.equal(events.length, c.n, `the server stored ${c.n} events`);
      assert.equal(unique, c.n, `${c.n} unique eventIds`);
      assert.deepEqual(
        { delivered: result.stats.delivered, queued: result.stats.queued, inFlight: result.stats.inFlight },
        { delivered: c.n, queued: 0, inFlight: 0 },
      );
    });
  }
}

// ---------------------------------------------------------------------------
// A process is not held by a background flush nobody awaits
// ---------------------------------------------------------------------------

const MAX_BATCH_SIZE = 20; // the default, which app/edges-exit.mjs uses

/** Runs app/edges-exit.mjs; returns its output and how long after tracking it exited. */
async function exitScript(runtime, profile, n, mode) {
  const script = join(app, "edges-exit.mjs");
  const args = [server.url, API_KEY, profile, String(n), mode];
  const command = /** @type {Record<string, [string, string[]]>} */ ({
    node: [process.execPath, [script, ...args]],
    "node-fetch": [process.execPath, [script, ...args]],
    bun: [tool("bun"), [script, ...args]],
    deno: [tool("deno"), ["run", "--allow-net=127.0.0.1", script, ...args]],
  })[runtime];
  const spawnedAt = Date.now();
  const result = await run(...command, { cwd: app, env: envOf(runtime), timeoutMs: 40_000 });
  const exitedAt = Date.now();
  const line = result.stdout.trim().split("\n").filter(Boolean).pop();
  const output = line ? JSON.parse(line) : null;
  return { result, output, totalMs: exitedAt - spawnedAt, exitMs: output ? exitedAt - output.trackedAt : null };
}

const requestsOf = (requests, profile) => requests.filter((r) => r.body?.includes(`"profileId":"${profile}"`));

for (const runtime of ["node", "node-fetch", "bun", "deno"]) {
  test(`${runtime}: tracked maxBatchSize - 1 events, never flushed, server answers 503 — exits at once (control)`, { timeout: 60_000 }, async () => {
    const profile = `exit-control-${runtime}`;
    await setFaults(always({ status: 503 }));
    const { result, output, exitMs, totalMs } = await exitScript(runtime, profile, MAX_BATCH_SIZE - 1, "no-flush");
    console.log(`edges[${runtime}] ${MAX_BATCH_SIZE - 1} events, no flush: exited ${exitMs} ms after tracking (${totalMs} ms in all)`);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(output, `the script printed its line:\n${result.stdout}\n${result.stderr}`);
    assert.ok(exitMs < 2_000, `exited ${exitMs} ms after tracking`);
  });

  test(`${runtime}: tracked exactly maxBatchSize events (a background flush started), never flushed, server answers 503 — exits within 2 s`, {
    timeout: 60_000,
  }, async () => {
    const profile = `exit-full-${runtime}`;
    await setFaults(always({ status: 503 }));
    const { result, output, exitMs, totalMs } = await exitScript(runtime, profile, MAX_BATCH_SIZE, "no-flush");
    const sent = requestsOf(await trackRequests(), profile);
    console.log(
      `edges[${runtime}] ${MAX_BATCH_SIZE} events, no flush: exited ${exitMs} ms after tracking (${totalMs} ms in all), ${sent.length} requests answered 503`,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.ok(output, `the script printed its line:\n${result.stdout}\n${result.stderr}`);
    assert.ok(sent.length >= 1, "the full batch started a background flush, which reached the server");
    assert.ok(exitMs < 2_000, `exited ${exitMs} ms after tracking (a background flush nobody awaits must not hold the process)`);
  });

  for (const n of [3, MAX_BATCH_SIZE]) {
    const held = n === MAX_BATCH_SIZE ? ", the background flush holding the batch" : "";
    test(`${runtime}: await flush() of ${n} events${held} against 503, 503, then 200 — the process stays until it resolves, and it delivers`, {
      timeout: 60_000,
    }, async () => {
      const profile = `exit-await-${runtime}-${n}`;
      await setFaults({ queue: [{ status: 503 }, { status: 503 }] });
      const { result, output, exitMs } = await exitScript(runtime, profile, n, "flush");
      const events = await eventsFor(profile);
      const statuses = requestsOf(await trackRequests(), profile).map((r) => r.status);
      console.log(
        `edges[${runtime}] await flush() of ${n} events: report ${JSON.stringify(output?.report)}; statuses ${statuses.join(",")}; exited ${exitMs} ms after tracking`,
      );
      assert.equal(result.code, 0, `exit code ${result.code} (13: the awaited flush was cut off)\n${result.stderr}`);
      assert.ok(output?.report, `the awaited flush resolved and the script printed its report:\n${result.stdout}\n${result.stderr}`);
      assert.equal(output.report.pending, 0, "nothing pending when the awaited flush resolved");
      assert.deepEqual(statuses, [503, 503, 201], "503 twice, then delivered");
      assert.equal(events.length, n, "every event arrived");
      assert.equal(new Set(events.map((e) => e.item.eventId)).size, n, "once each");
      if (n < MAX_BATCH_SIZE) {
        assert.deepEqual({ delivered: output.report.delivered, retries: output.report.retries }, { delivered: n, retries: 2 });
      }
    });
  }
}

// ---------------------------------------------------------------------------
// Waiting flushes are woken, not polled
// ---------------------------------------------------------------------------

test("node: 2,000 concurrent flush() callers against a server that never answers — each settles within its deadline + 250 ms, woken rather than polling (little CPU)", {
  timeout: 60_000,
}, async () => {
  const DEADLINE = 2_000;
  const CALLERS = 2_000;
  const EVENTS = 5; // one batch: one caller holds it, the others wait for it
  await setFaults(always({ hang: true }));
  const result = await run(
    process.execPath,
    [join(app, "edges-waiters.mjs"), server.url, API_KEY, "waiters", String(EVENTS), String(CALLERS), String(DEADLINE)],
    { cwd: app, timeoutMs: 40_000 },
  );
  assert.equal(result.code, 0, result.stderr);
  const r = JSON.parse(result.stdout.trim().split("\n").pop());
  const cpuMs = r.cpuUserMs + r.cpuSystemMs;
  console.log(
    `edges[node] ${CALLERS} waiting flushes, hung server, flushDeadlineMs ${DEADLINE}: settled ${r.settled} in ${r.wallMs} ms (each took ${r.minTookMs}–${r.maxTookMs} ms), ` +
      `process.cpuUsage() over the run ${cpuMs.toFixed(0)} ms (user ${r.cpuUserMs.toFixed(0)}, system ${r.cpuSystemMs.toFixed(0)}), ` +
      `${r.windowCpuMs.toFixed(1)} ms in the ${r.windowMs} ms inside the wait; ${r.requests} requests, ${r.timedOut} timed out`,
  );
  assert.equal(r.settled, CALLERS);
  assert.ok(r.maxTookMs <= DEADLINE + 250, `every flush settled within its deadline + 250 ms (the slowest took ${r.maxTookMs} ms)`);
  assert.deepEqual(r.pending, [EVENTS], "each report: the events are still pending (the server never answered)");
  assert.equal(r.delivered, 0);
  // The bounds. A waiter that polls a 25 ms timer wakes 80 times in 2 s:
  // 2,000 of them run 160,000 timer callbacks into wasm. Measured with the
  // polling SDK: 0.67–0.82 s of CPU over the run on our 2-core machine
  // (2.4–3.1 s as reported in the issue), and 0.33–0.34 s within the 1.4 s
  // window inside the wait (from 300 ms after the calls to 300 ms before the
  // deadline). A waiter that is woken when the batch comes back costs nothing
  // while it waits: measured 0.1 s over the run (the 2,000 calls and
  // wake-ups) and ~1.5 ms in the window. So: < 1 s over the run (what the
  // issue asks), and < 100 ms in the window — 60× what waking costs, while
  // polling would need under 0.9 µs per timer callback into wasm to fit
  // (112,000 of them in the window), which no engine does.
  assert.ok(cpuMs < 1_000, `CPU time over the run ${cpuMs.toFixed(0)} ms must be < 1000 ms`);
  assert.ok(r.windowMs >= 1_000, `the window inside the wait lasted ${r.windowMs} ms`);
  assert.ok(
    r.windowCpuMs < 100,
    `CPU time while only waiting ${r.windowCpuMs.toFixed(1)} ms must be < 100 ms (the waiting flushes poll instead of being woken)`,
  );
});

// ---------------------------------------------------------------------------
// Retry-After pauses
// ---------------------------------------------------------------------------

for (const runtime of ["node", "node-fetch", "workerd"]) {
  test(`${runtime}: a flush called right after a 429 with Retry-After 2 (flushDeadlineMs 5000) waits for the pause to end, then delivers`, {
    timeout: 60_000,
  }, async () => {
    const profile = `ra2-${runtime}`;
    await setFaults({ queue: [{ status: 429, retryAfter: "2" }] });
    const r = await scenario(runtime, "retry-after-short", { endpoint: server.url, apiKey: API_KEY, profile });
    const requests = await trackRequests();
    const events = await eventsFor(profile);
    console.log(
      `edges[${runtime}] Retry-After 2: second flush called ${r.second.calledAt - r.answeredAt} ms after the 429, took ${r.second.tookMs} ms, ` +
        `ended ${r.second.endedAt - r.answeredAt} ms after the 429; second ${JSON.stringify(r.second)}; first ${JSON.stringify(r.first)}; ` +
        `requests at +${requests.map((q) => q.receivedAt - requests[0].receivedAt).join(", +")} ms`,
    );
    assert.notEqual(r.answeredAt, null, "the server answered 429");
    assert.ok(r.second.calledAt - r.answeredAt < 500, "the second flush was called during the pause");
    assert.ok(r.second.delivered > 0, `the second flush delivered (it did not return at once with pending ${r.second.pending})`);
    assert.equal(r.second.pending, 0);
    assert.ok(r.second.tookMs >= 1_900, `the second flush waited for the pause (took ${r.second.tookMs} ms)`);
    assert.equal(r.first.delivered + r.second.delivered, 10, "the reports account for every event once");
    assert.equal(events.length, 10);
    assert.equal(new Set(events.map((e) => e.item.eventId)).size, 10);
    assert.equal(requests[0].status, 429);
    for (const q of requests.slice(1)) {
      assert.ok(
        q.receivedAt - requests[0].receivedAt >= 1_900,
        `no tracking request during the pause (one came ${q.receivedAt - requests[0].receivedAt} ms after the 429)`,
      );
    }
  });

  test(`${runtime}: during a Retry-After 30 pause (capped at 10 s), flush() with flushDeadlineMs 3000 takes its whole deadline, reports timedOut and pending, and a flush loop never spins`, {
    timeout: 90_000,
  }, async () => {
    const DEADLINE = 3_000;
    // Timers and Date.now() may disagree by a few ms; a flush that returns
    // "at once" takes ~0 ms.
    const TIMER_SLACK = 10;
    const profile = `ra30-${runtime}`;
    await setFaults({ queue: [{ status: 429, retryAfter: "30" }] });
    const r = await scenario(runtime, "retry-after-long", { endpoint: server.url, apiKey: API_KEY, profile, maxFlushes: 8 });
    const requests = await trackRequests();
    const events = await eventsFor(profile);
    console.log(
      `edges[${runtime}] Retry-After 30: first flush ${r.first.tookMs} ms ${JSON.stringify({ pending: r.first.pending, timedOut: r.first.timedOut })}; ` +
        `then ${r.loop.map((f) => `${f.tookMs} ms (delivered ${f.delivered}, pending ${f.pending}, timedOut ${f.timedOut})`).join("; ")}; ` +
        `requests at +${requests.map((q) => q.receivedAt - requests[0].receivedAt).join(", +")} ms`,
    );
    assert.notEqual(r.answeredAt, null, "the server answered 429");
    const [during] = r.loop;
    assert.ok(during.endedAt < r.answeredAt + 10_000, "the first loop flush ran during the pause");
    assert.ok(during.tookMs >= DEADLINE - TIMER_SLACK, `a flush during the pause takes its whole deadline (took ${during.tookMs} ms)`);
    assert.deepEqual(
      { timedOut: during.timedOut, pending: during.pending, delivered: during.delivered, requests: during.requests },
      { timedOut: true, pending: 5, delivered: 0, requests: 0 },
    );
    for (const [i, f] of r.loop.entries()) {
      assert.ok(f.delivered > 0 || f.tookMs >= DEADLINE - TIMER_SLACK, `flush ${i + 1} of the loop took ${f.tookMs} ms and delivered nothing: it spun`);
    }
    assert.equal(r.loop.at(-1).pending, 0, `delivered within ${r.loop.length} flushes after the pause (capped at 10 s)`);
    assert.equal(events.length, 5);
    assert.equal(new Set(events.map((e) => e.item.eventId)).size, 5);
    assert.equal(requests[0].status, 429);
    for (const q of requests.slice(1)) {
      assert.ok(
        q.receivedAt - requests[0].receivedAt >= 9_900,
        `no tracking request during the 10 s pause (one came ${q.receivedAt - requests[0].receivedAt} ms after the 429)`,
      );
    }
  });
}

// ---------------------------------------------------------------------------
// Consents with empty strings
// ---------------------------------------------------------------------------

for (const runtime of ["node", "node-fetch", "workerd"]) {
  test(`${runtime}: consents() and consent() with email "" and message "" resolve, and the server receives the empty strings`, async () => {
    const profile = `consent-empty-${runtime}`;
    const r = await scenario(runtime, "consent", { endpoint: server.url, apiKey: API_KEY, profile });
    assert.deepEqual(r, { consents: { resolved: true, value: null }, consent: { resolved: true, value: null } });
    const bodies = (await control(server, "consents")).map((c) => c.body).filter((b) => b.profileId === profile);
    assert.equal(bodies.length, 2, "both reached the server");
    const [all, one] = bodies;
    assert.deepEqual(
      { action: all.action, category: all.category, email: all.email, message: all.message },
      { action: "accept", category: undefined, email: "", message: "" },
    );
    assert.deepEqual(
      { action: one.action, category: one.category, validUntil: one.validUntil, email: one.email, message: one.message },
      { action: "reject", category: "marketing", validUntil: 1711705256000, email: "", message: "" },
    );
  });
}
