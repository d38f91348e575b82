// Forgetting to flush on Vercel loses nothing: where the platform publishes
// the current request's waitUntil through a global reader (Vercel's
// "@vercel/request-context", what @vercel/functions' waitUntil reads; Next.js's
// edge sandbox's "@next/request-context"), a client made without a waitUntil
// hands its background flushes to the current request's. Vercel's platform is
// not reachable here: the app installs a reader as the platform does (an
// AsyncLocalStorage), on Node with node:http and with the global fetch,
// against the local ingest server.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { startIngestServer } from "../server/ingest-server.mjs";
import { API_KEY, control, envOf, prepareApp, run } from "./harness.mjs";

let app;
let server;
before(async () => {
  app = await prepareApp("request-context");
  server = await startIngestServer({ apiKey: API_KEY });
});
after(() => server?.close());

async function runApp(runtime, mode) {
  const result = await run(process.execPath, [join(app, "request-context.mjs"), server.url, mode], { cwd: app, env: envOf(runtime), timeoutMs: 60_000 });
  assert.equal(result.code, 0, `${mode} exited with ${result.code}:\n${result.stderr}`);
  const warnings = result.stderr.split("\n").filter((l) => l.includes("[intempt-edge]"));
  assert.deepEqual(warnings, [], "no SDK warning");
  const out = JSON.parse(result.stdout.trim().split("\n").at(-1));
  const events = (await control(server, "events")).filter((e) => e.item.profileId === `p-context-${runtime}-${mode}`);
  return { ...out, events };
}

for (const runtime of ["node", "node-fetch"]) {
  for (const mode of ["vercel", "next"]) {
    test(`${runtime}: with a "${mode}" request context, requests that never flush hand the batch timer's flush to the request's waitUntil, and every event arrives once`, async () => {
      const { handed, stats, events } = await runApp(runtime, mode);
      assert.ok(handed >= 1, `handed ${handed} flushes to waitUntil`);
      // Once what was handed has settled, everything has arrived: nothing queued or in flight.
      assert.equal(events.length, 15, `${events.length} events arrived`);
      assert.equal(new Set(events.map((e) => `${e.item.data.request}/${e.item.data.n}`)).size, 15, "each event once");
      assert.equal(stats.queued, 0, JSON.stringify(stats));
      assert.equal(stats.inFlight, 0, JSON.stringify(stats));
      assert.equal(stats.delivered, 15, JSON.stringify(stats));
    });
  }
  for (const mode of ["outside", "throws"]) {
    test(`${runtime}: a reader that ${mode === "outside" ? "has no request" : "throws"} is passed over: nothing handed, the flush sends everything`, async () => {
      const { handed, report, events } = await runApp(runtime, mode);
      assert.equal(handed, 0);
      assert.equal(report.failed + report.dropped + report.pending, 0, JSON.stringify(report));
      assert.equal(events.length, 15);
    });
  }
}
