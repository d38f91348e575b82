// Rust Workers built on workers-rs, in workerd against the local ingest
// server: examples/workers-rs (a `#[event(fetch)]` handler that flushes with
// `ctx.wait_until`, `?` on intempt-edge's errors through the `worker`
// feature), and tests/e2e/rust-no-flush, a workers-rs Worker that never
// flushes: its clients hand the batch timer's flush to `waitUntil` from
// `cloudflare:workers` (the default with the `worker`/`workerd` feature) or
// to the request's `ctx.wait_until` (`EdgeOptions::wait_until_future`).
// Both are built by scripts/build-rust-worker.sh (cargo, wasm-bindgen
// --target web, wasm-opt) and bundled with wrangler, as the test command does
// for examples/rust-worker.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, beforeEach, test } from "node:test";

import { startIngestServer } from "../server/ingest-server.mjs";
import { API_KEY, bundleWorker, control, ROOT, run, startWorker, waitForEvents } from "./harness.mjs";

let server;
before(async () => {
  server = await startIngestServer({ apiKey: API_KEY, organization: "demo-organization", project: "demo-project", sourceId: "616010376811536384" });
});
beforeEach(async () => {
  await fetch(`${server.url}/_intempt/reset`, { method: "POST" });
});
after(async () => server?.close());

const BINDINGS = () => ({
  INTEMPT_ORGANIZATION: "demo-organization",
  INTEMPT_PROJECT: "demo-project",
  INTEMPT_SOURCE_ID: "616010376811536384",
  INTEMPT_API_KEY: API_KEY,
  INTEMPT_ENDPOINT: server.url,
});

/** Builds a Rust Worker of this workspace and bundles its worker.js with wrangler (once per file run). */
const builds = new Map();
function build(dir, name) {
  if (!builds.has(dir)) builds.set(dir, buildOnce(dir, name));
  return builds.get(dir);
}
async function buildOnce(dir, name) {
  const result = await run("bash", [join(ROOT, dir, "build.sh")], { timeoutMs: 480_000 });
  assert.equal(result.code, 0, `${dir}/build.sh failed:\n${result.stdout}\n${result.stderr}`);
  return bundleWorker(join(ROOT, dir), "worker.js", join(ROOT, "target", "e2e", `${name}-dist`));
}

/** Waits until the server has `count` events (or 10 s), then `settleMs` more for any duplicate. */
const eventsFor = (profile, count, settleMs = 500) => waitForEvents(server, profile, count, { timeoutMs: 10_000, intervalMs: 50, settleMs });

test("examples/workers-rs (#[event(fetch)], ctx.wait_until flush) runs in workerd: every event arrives exactly once", async () => {
  const worker = await startWorker(await build("examples/workers-rs", "workers-rs"), { bindings: BINDINGS() });
  try {
    const paths = ["/", "/docs", "/pricing"];
    for (const path of paths) {
      const response = await worker.dispatchFetch(`http://w${path}?profile=ex-workers-rs`);
      assert.equal(response.status, 200);
      assert.equal(await response.text(), "recorded a page view for ex-workers-rs\n");
    }
    // Three requests at once on the module-scope client.
    const concurrent = await Promise.all(["/a", "/b", "/c"].map((path) => worker.dispatchFetch(`http://w${path}?profile=ex-workers-rs`)));
    for (const response of concurrent) assert.equal(await response.text(), "recorded a page view for ex-workers-rs\n");

    const events = await eventsFor("ex-workers-rs", 6);
    assert.deepEqual(
      events.map((e) => /** @type {[string, { path: string }]} */ ([e.name, e.item.data])).sort((a, b) => a[1].path.localeCompare(b[1].path)),
      ["/", "/a", "/b", "/c", "/docs", "/pricing"].map((path) => ["Page View", { path, runtime: "workers-rs" }]),
    );
    assert.equal(new Set(events.map((e) => e.item.eventId)).size, 6, "each event once");
    const stats = await control(server, "stats");
    assert.equal(stats.duplicates, 0);
    assert.equal(stats.events, 6);
  } finally {
    await worker.dispose();
  }
});

test("examples/workers-rs: an intempt-edge error returned with `?` becomes the handler's error (the worker feature's From)", async () => {
  const worker = await startWorker(await build("examples/workers-rs", "workers-rs"), { bindings: BINDINGS() });
  try {
    // An empty profile id is refused by Event::track: INVALID_ARGUMENT, which
    // `?` turns into worker::Error, which workers-rs turns into a thrown error (500).
    const response = await worker.dispatchFetch("http://w/?profile=");
    assert.equal(response.status, 500);
    await response.text();
    const ok = await worker.dispatchFetch("http://w/after?profile=ex-workers-rs-error");
    assert.equal(await ok.text(), "recorded a page view for ex-workers-rs-error\n");
    const events = await eventsFor("ex-workers-rs-error", 1);
    assert.deepEqual(
      events.map((e) => e.item.data.path),
      ["/after"],
    );
    assert.equal((await control(server, "events")).length, 1, "the refused request sent nothing");
  } finally {
    await worker.dispose();
  }
});

test("a Rust Worker that records events and never flushes still delivers them: the worker feature's default waitUntil, and wait_until_future with ctx.wait_until; without a kept-alive flush they are lost", async () => {
  const worker = await startWorker(await build("tests/e2e/rust-no-flush", "rust-no-flush"), { bindings: BINDINGS() });
  try {
    // The control first: its client's wait_until drops the flush's promise,
    // so nothing keeps the batch timer's flush alive after the response.
    const dropped = await worker.dispatchFetch("http://w/dropped?profile=dropped&n=3");
    assert.equal(await dropped.text(), "ok");
    for (const [path, profile] of [
      ["/default", "no-flush"],
      ["/default", "no-flush-2"],
      ["/per-request", "per-request"],
    ]) {
      const response = await worker.dispatchFetch(`http://w${path}?profile=${profile}&n=5`);
      assert.equal(await response.text(), "ok");
    }
    for (const profile of ["no-flush", "no-flush-2", "per-request"]) {
      const events = await eventsFor(profile, 5);
      assert.deepEqual(
        events.map((e) => e.item.data.i),
        [0, 1, 2, 3, 4],
        profile,
      );
      assert.equal(new Set(events.map((e) => e.item.eventId)).size, 5, `${profile}: each event once`);
    }
    // By now the control's timer (100 ms) is long past: its events never left.
    await new Promise((r) => setTimeout(r, 1_000));
    assert.deepEqual(
      (await control(server, "events")).filter((e) => e.item.profileId === "dropped"),
      [],
    );
    assert.equal((await control(server, "stats")).duplicates, 0);
  } finally {
    await worker.dispose();
  }
});
