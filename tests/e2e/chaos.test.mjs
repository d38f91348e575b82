// Chaos: thousands of events through a seeded schedule of faults the server
// recovers from (500/502/503, 429 with Retry-After in seconds and as an HTTP
// date, answers slower than the request timeout, connections dropped before
// and mid-response), in Node and in workerd, plus one 429 that asks for
// longer than the flush deadline (the flush gives its batch back; the next
// one delivers it). Every event must reach the server at least once,
// duplicates are counted and explained, and the flush reports must agree
// exactly with what the server stored.
//
//   default:         2,000 events in Node, 1,000 in workerd
//   INTEMPT_LONG=1:  10,000 in each
//   INTEMPT_CHAOS_SEED=n  another fault schedule (default 42)
import assert from "node:assert/strict";
import { after, before, beforeEach, test } from "node:test";
import { join } from "node:path";

import { startIngestServer } from "../server/ingest-server.mjs";
import { chaosPlan, BEYOND_DEADLINE, CHAOS_MODES, CHAOS_OPTIONS, addTotals, emptyTotals } from "./app/chaos.js";
import { API_KEY, bundleWorker, control, envOf, prepareApp, run, startWorker } from "./harness.mjs";

const LONG = process.env.INTEMPT_LONG === "1";
const SEED = Number(process.env.INTEMPT_CHAOS_SEED ?? 42);
const EVENTS = { node: LONG ? 10_000 : 2_000, workerd: LONG ? 10_000 : 1_000 };
const CHUNK = 500; // events per Worker request

let server;
let app;

before(async () => {
  server = await startIngestServer({ apiKey: API_KEY });
  app = await prepareApp("chaos");
});
beforeEach(async () => {
  await fetch(`${server.url}/_intempt/reset`, { method: "POST" });
});
after(async () => {
  await server?.close();
});

async function setFaults(plan) {
  const response = await fetch(`${server.url}/_intempt/faults`, { method: "POST", body: JSON.stringify(plan) });
  assert.equal(response.status, 200, await response.text());
}

/** A fault's identity, whatever key order the server records it in. */
const faultSig = (f) => [f.status, f.retryAfter, f.delayMs, f.drop, f.hang].join("|");

/**
 * What the issue asks of a chaos run: every event arrived (lost = 0), each
 * with one eventId; the reports' totals agree exactly with the server;
 * nothing is left; 2xx answers carried each event once; duplicates are
 * exactly the events of requests whose response was cut; every fault kind ran.
 */
async function verify(runtime, profile, n, totals, stats, ms) {
  const events = (await control(server, "events")).filter((e) => e.item.profileId === profile);
  const requests = (await control(server, "requests")).filter((r) => r.kind === "track");
  const idsBySeq = new Map();
  for (const e of events) {
    const ids = idsBySeq.get(e.item.data.seq) ?? new Set();
    ids.add(e.item.eventId);
    idsBySeq.set(e.item.data.seq, ids);
  }
  const lost = Array.from({ length: n }, (_, seq) => seq).filter((seq) => !idsBySeq.has(seq));
  const unique = new Set(events.map((e) => e.item.eventId)).size;
  const duplicates = events.length - unique;
  console.log(
    `chaos[${runtime}]: sent=${n} stored=${events.length} unique=${unique} duplicated=${duplicates} lost=${lost.length} ` +
      `retries=${totals.retries} requests=${totals.requests} time=${(ms / 1000).toFixed(1)}s`,
  );
  assert.deepEqual(lost, [], "lost must be 0");
  for (const [seq, ids] of idsBySeq) assert.equal(ids.size, 1, `event ${seq} kept its eventId across retries`);
  assert.deepEqual(totals.rejected, [], "no track() was refused");
  assert.equal(totals.tracked, n);
  assert.equal(unique, n);
  assert.equal(totals.delivered, unique, "the reports' delivered equals the unique events stored");
  assert.equal(stats.delivered, n, "stats().delivered agrees");
  assert.equal(totals.dropped, 0, "nothing dropped: every fault in the schedule is recoverable");
  assert.deepEqual({ pending: totals.pending, queued: stats.queued, inFlight: stats.inFlight }, { pending: 0, queued: 0, inFlight: 0 });
  assert.equal(totals.requests, requests.length, "the requests the reports count are the requests the server received");
  const acknowledged = new Map(); // eventId -> ids of the 2xx requests that carried it
  let cut = 0;
  for (const r of requests) {
    const isCut = r.fault?.drop === "mid";
    const ok = r.status >= 200 && r.status < 300 && !isCut;
    if (!isCut && !ok) continue;
    const ids = JSON.parse(r.body).track.map((t) => t.payload[0].eventId);
    if (isCut) cut += ids.length;
    else for (const id of ids) acknowledged.set(id, [...(acknowledged.get(id) ?? []), r.id]);
  }
  assert.equal(acknowledged.size, n, "every event was acknowledged");
  const twice = new Set([...acknowledged.values()].filter((ids) => ids.length > 1).flat());
  assert.deepEqual(
    requests.filter((r) => twice.has(r.id)).map((r) => ({ id: r.id, status: r.status, fault: r.fault, error: r.error, receivedAt: r.receivedAt })),
    [],
    "no event was acknowledged twice (listed: the 2xx requests that carried an event another 2xx request carried too)",
  );
  assert.equal(duplicates, cut, "duplicates are exactly the events of requests whose response was cut");
  const applied = new Set(requests.filter((r) => r.fault).map((r) => faultSig(r.fault)));
  for (const mode of [...CHAOS_MODES, BEYOND_DEADLINE]) assert.ok(applied.has(faultSig(mode)), `fault ${JSON.stringify(mode)} was applied`);
}

/** A stuck round's flushes, in short: "N flushes: took/delivered/pending/timedOut, …". */
function describeStuck(stuck = []) {
  const line = (f) => `${f.tookMs}ms d${f.delivered} p${f.pending}${f.timedOut ? " timedOut" : ""} r${f.requests}`;
  const shown = stuck.length > 8 ? [...stuck.slice(0, 4).map(line), "…", ...stuck.slice(-4).map(line)] : stuck.map(line);
  return `${stuck.length} flushes: ${shown.join(", ")}`;
}

for (const runtime of ["node", "node-fetch"]) {
  test(`${runtime}: ${EVENTS.node} events through seeded faults (seed ${SEED}) — none lost, reports exact`, { timeout: LONG ? 600_000 : 120_000 }, async () => {
    const n = EVENTS.node;
    const profile = `chaos-${runtime}-${SEED}`;
    await setFaults(chaosPlan(SEED));
    const driver = [
      'import { SDK } from "intempt-edge";',
      'import { chaosClient, runChaos } from "./chaos.js";',
      "const a = JSON.parse(process.env.CHAOS_ARGS);",
      "console.log(JSON.stringify(await runChaos(chaosClient(SDK, a), a)));",
    ].join("\n");
    const args = { endpoint: server.url, apiKey: API_KEY, profile, from: 0, to: n, seed: SEED };
    const result = await run(process.execPath, ["--input-type=module", "-e", driver], {
      cwd: app,
      env: { CHAOS_ARGS: JSON.stringify(args), ...envOf(runtime) },
      timeoutMs: LONG ? 580_000 : 110_000,
    });
    assert.equal(result.code, 0, `${runtime} exited with ${result.code}:\n${result.stderr}`);
    const { next, totals, stats, ms, stuck } = JSON.parse(result.stdout.trim().split("\n").pop());
    assert.equal(next, n, `the scenario ran to the end; it stopped on a round whose flushes left events pending: ${describeStuck(stuck)}`);
    await verify(runtime, profile, n, totals, stats, ms);
  });
}

test(`workerd: ${EVENTS.workerd} events through seeded faults (seed ${SEED}), ${CHUNK} per request to one module-scope client`, {
  timeout: LONG ? 600_000 : 120_000,
}, async () => {
  const n = EVENTS.workerd;
  const profile = `chaos-workerd-${SEED}`;
  const output = [];
  const worker = await startWorker(await bundleWorker(app, "chaos-worker.js", join(app, "dist-chaos")), { output });
  try {
    await setFaults(chaosPlan(SEED));
    const started = Date.now();
    const totals = emptyTotals();
    let next = 0;
    let stats;
    let stuck = [];
    for (let request = 0; next < n && request < 4 * Math.ceil(n / CHUNK); request++) {
      const query = new URLSearchParams({
        endpoint: server.url,
        apiKey: API_KEY,
        profile,
        from: String(next),
        to: String(Math.min(n, next + CHUNK)),
        seed: String(SEED),
        budgetMs: "15000",
      });
      const response = await worker.dispatchFetch(`http://chaos/chaos?${query}`);
      assert.equal(response.status, 200, await response.clone().text());
      const result = await response.json();
      addTotals(totals, result.totals);
      stats = result.stats;
      assert.ok(result.next > next || result.totals.pending > 0, "each request makes progress");
      next = result.next;
      stuck = result.stuck;
      if (result.totals.pending > 0) break;
    }
    assert.equal(next, n, `the scenario ran to the end; it stopped on a round whose flushes left events pending: ${describeStuck(stuck)}`);
    await verify("workerd", profile, n, totals, stats, Date.now() - started);
    assert.ok(
      output.some((line) => line.startsWith("chaos-worker: events")),
      "workerd's output was captured",
    );
    const suspicious = output.filter((line) => /panicked|unreachable|RuntimeError|Uncaught|error/i.test(line));
    assert.deepEqual(suspicious, [], "no trap, uncaught error or error line in workerd's output");
  } finally {
    await worker.dispose();
  }
});

test("the chaos options keep a slow answer slower than the request timeout", () => {
  const delay = CHAOS_MODES.find((m) => m.delayMs).delayMs;
  assert.ok(delay >= CHAOS_OPTIONS.requestTimeoutMs + 300, "a generous margin, so a delayed answer always times out");
});
