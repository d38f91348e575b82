// The beforeSend option end to end, in Node, Deno and workerd: the package installed
// from the packed tarball, a hook that redacts, enriches, samples, records
// an event of its own and fails in every way a hook can; the ingest server
// holds exactly the events the hook kept, as it returned them.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { join } from "node:path";

import { startIngestServer } from "../server/ingest-server.mjs";
import { API_KEY, bundleWorker, control, prepareApp, run, startWorker, tool } from "./harness.mjs";

let server;
let app;

before(async () => {
  server = await startIngestServer({ apiKey: API_KEY });
  app = await prepareApp("before-send");
});

after(async () => {
  await server?.close();
});

const SUSPICIOUS = /panicked|unreachable|RuntimeError/i;

async function check(runtime, result) {
  assert.equal(result.code, 0, `${runtime} exited with ${result.code}:\n${result.stderr}`);
  assert.deepEqual(
    `${result.stdout}\n${result.stderr}`.split("\n").filter((l) => SUSPICIOUS.test(l)),
    [],
    "no trap",
  );
  await verify(runtime, JSON.parse(result.stdout.trim().split("\n").pop()));
}

async function verify(runtime, out) {
  assert.deepEqual(out.outcomes, Array(11).fill("ok"), "every call resolved");
  assert.equal(out.unhandled, 0, "no unhandled rejection (the hook's promise included)");
  assert.deepEqual(
    { delivered: out.report.delivered, failed: out.report.failed, dropped: out.report.dropped, pending: out.report.pending },
    { delivered: 6, failed: 0, dropped: 0, pending: 0 },
  );
  assert.equal(out.stats.filtered, 1, "the sampled event");
  assert.equal(out.stats.filterFailed, 5, "Boom, Async, Trap, Huge, Forgot");
  assert.equal(out.stats.delivered, 6);
  assert.equal(out.debug.length, 5, out.debug.join("\n"));
  for (const why of [
    "it threw Error: hook bug",
    "it returned a promise",
    "threw when read: Error: trap",
    "larger than the per-event limit",
    "it returned undefined",
  ]) {
    assert.ok(
      out.debug.some((l) => l.includes(why)),
      `a debug line says ${why}: ${out.debug.join("\n")}`,
    );
  }
  assert.equal(out.warnings.length, 1, "one warning line, then one a minute");
  assert.match(out.warnings[0], /Fix the hook: return the event/);

  const p = `${runtime}-p`;
  const events = (await control(server, "events")).filter((e) => e.item.profileId.startsWith(p) || e.item.profileId === "mutated");
  const seen = events.map((e) => {
    const { eventId, timestamp, ...rest } = e.item;
    return { name: e.name, ...rest };
  });
  const byName = (name) => seen.filter((e) => e.name === name);
  assert.deepEqual(
    byName("Purchase"),
    [{ name: "Purchase", profileId: p, data: { amount: 42.5, runtime } }],
    "redacted and enriched; the sampled one never sent",
  );
  assert.deepEqual(byName("Signed up"), [{ name: "Signed up", profileId: p, userId: "u1", userAttributes: { plan: "pro", source: "hook" } }]);
  assert.deepEqual(byName("Identify"), [{ name: "Identify", profileId: p, userId: "u1", anotherUserId: "u2" }]);
  assert.deepEqual(byName("Visit"), [{ name: "Visit", profileId: p, userId: "u1", data: { page: "/", runtime } }]);
  assert.deepEqual(byName("Audit"), [{ name: "Audit", profileId: p, data: { runtime } }]);
  assert.deepEqual(byName("Audited"), [{ name: "Audited", profileId: p, data: { by: "hook" } }], "the hook's own call, as it made it");
  assert.equal(seen.length, 6, JSON.stringify(seen));
  const text = JSON.stringify(events);
  assert.ok(!text.includes("@example.com"), "no email reached the server");
  assert.ok(!text.includes("mutated"), "mutating what the hook returned earlier changed nothing sent");
  for (const name of ["Boom", "Async", "Trap", "Huge", "Forgot"]) assert.deepEqual(byName(name), [], `${name} was dropped`);
}

test("node: beforeSend redacts, enriches, samples and fails safely; the server holds what it kept", async () => {
  const result = await run(process.execPath, [join(app, "before-send.mjs"), server.url, API_KEY, "node"], { cwd: app });
  await check("node", result);
});

test("deno: beforeSend redacts, enriches, samples and fails safely; the server holds what it kept", async () => {
  const args = ["run", "--allow-net=127.0.0.1", "--allow-read", "--allow-env", join(app, "before-send.mjs"), server.url, API_KEY, "deno"];
  const result = await run(tool("deno"), args, { cwd: app, env: { DENO_NO_UPDATE_CHECK: "1" } });
  await check("deno", result);
});

test("workerd: beforeSend redacts, enriches, samples and fails safely; the server holds what it kept (bundled by wrangler, run in Miniflare)", async () => {
  const bundle = await bundleWorker(app, "before-send-worker.js", join(app, "dist-before-send"));
  const output = [];
  const worker = await startWorker(bundle, { output });
  try {
    const query = new URLSearchParams({ endpoint: server.url, apiKey: API_KEY });
    const response = await worker.dispatchFetch(`http://example.com/?${query}`);
    assert.equal(response.status, 200, await response.clone().text());
    assert.deepEqual(
      output.filter((l) => SUSPICIOUS.test(l)),
      [],
      "no trap in workerd's output",
    );
    await verify("workerd", await response.json());
  } finally {
    await worker.dispose();
  }
});
