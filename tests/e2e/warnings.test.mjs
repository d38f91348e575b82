// Failures are visible by default: without `debug`, when events cannot
// leave, console.warn gets one line saying what failed, what happens to the
// events and what to fix — the first failure at once, then at most one a
// minute (a unit test of the core checks the minute in virtual time), and one
// line when deliveries resume; never the API key. `warnings: false` turns
// them off; with a `logger`, the lines go there. Node (node:http), Node with
// the global fetch, Deno and Bun, against the local ingest server.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { join } from "node:path";

import { startIngestServer } from "../server/ingest-server.mjs";
import { API_KEY, BASIC, control, envOf, freePort, prepareApp, run, tool } from "./harness.mjs";

const COMMANDS = {
  node: (script, args) => [process.execPath, [script, ...args]],
  "node-fetch": (script, args) => [process.execPath, [script, ...args]],
  deno: (script, args) => [tool("deno"), ["run", "--allow-net=127.0.0.1", "--allow-read", "--allow-env", script, ...args]],
  bun: (script, args) => [tool("bun"), [script, ...args]],
};
const WRONG_KEY = "wrong-id.wrong-secret";
const SECRETS = [API_KEY, "test-secret", BASIC.slice("Basic ".length), WRONG_KEY, "wrong-secret", Buffer.from("wrong-id:wrong-secret").toString("base64")];

let app;
let server;
before(async () => {
  app = await prepareApp("warnings");
  server = await startIngestServer({ apiKey: API_KEY });
});
after(() => server?.close());

async function runScript(runtime, endpoint, apiKey, mode, rounds) {
  const [command, args] = COMMANDS[runtime](join(app, "warnings.mjs"), [endpoint, apiKey, mode, String(rounds)]);
  const result = await run(command, args, { cwd: app, env: envOf(runtime), timeoutMs: 60_000 });
  assert.equal(result.code, 0, `${runtime} exited with ${result.code}:\n${result.stderr}`);
  const lines = (text) => text.split("\n").filter(Boolean);
  const out = lines(result.stdout);
  const reports = out.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
  const warnings = lines(result.stderr).filter((l) => !/^(npm |Warning: |\(node:)/.test(l));
  const logged = out.filter((l) => l.startsWith("logger: ")).map((l) => l.slice("logger: ".length));
  for (const text of [result.stdout, result.stderr]) for (const s of SECRETS) assert.ok(!text.includes(s), `${runtime} printed a form of the key`);
  return { reports, warnings, logged };
}

async function refusedEndpoint() {
  return `http://127.0.0.1:${await freePort()}`;
}

describe("failures are visible without debug", { concurrency: 2 }, () => {
  for (const runtime of Object.keys(COMMANDS)) {
    test(`${runtime}: a refused endpoint gives one console.warn line for a streak of failures, and says what to fix`, { timeout: 90_000 }, async () => {
      const { reports, warnings } = await runScript(runtime, await refusedEndpoint(), API_KEY, "default", 3);
      assert.equal(reports.length, 3);
      assert.ok(
        reports.every((r) => r.delivered === 0 && r.requests >= 1),
        JSON.stringify(reports),
      );
      const requests = reports.reduce((n, r) => n + r.requests, 0);
      assert.ok(requests >= 3, `${requests} failed requests`);
      assert.equal(warnings.length, 1, `one line for ${requests} failed requests:\n${warnings.join("\n")}`);
      assert.match(
        warnings[0],
        /^\[intempt-edge\] could not deliver 5 events: POST http:\/\/127\.0\.0\.1:\d+\/v1\/demo-organization\/projects\/demo-project\/sources\/616010376811536384\/track -> /,
      );
      assert.match(warnings[0], /they stay queued and are retried\. Check endpoint and the network\./);
      assert.match(warnings[0], /warnings: false/);
    });
  }

  test("node: warnings: false writes nothing; a logger gets the lines instead of console.warn", { timeout: 60_000 }, async () => {
    const off = await runScript("node", await refusedEndpoint(), API_KEY, "off", 2);
    assert.ok(off.reports.every((r) => r.delivered === 0));
    assert.deepEqual(off.warnings, []);
    const logger = await runScript("node", await refusedEndpoint(), API_KEY, "logger", 2);
    assert.deepEqual(logger.warnings, [], "nothing on console.warn");
    assert.equal(logger.logged.filter((l) => l.startsWith("[intempt-edge] could not deliver")).length, 1, logger.logged.join("\n"));
  });

  test("node: a wrong API key: the line says the events were dropped and to check the key, without the key", { timeout: 60_000 }, async () => {
    const { reports, warnings } = await runScript("node", server.url, WRONG_KEY, "default", 2);
    assert.equal(reports[0].dropped, 5, JSON.stringify(reports));
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(warnings[0], /could not deliver 5 events: .* -> HTTP 401: .*; they were dropped\. Check the API key\./);
  });

  test("node: after an outage, one line for the failures and one when deliveries resume", { timeout: 60_000 }, async () => {
    const srv = await startIngestServer({ apiKey: API_KEY });
    try {
      await fetch(`${srv.url}/_intempt/faults`, { method: "POST", body: JSON.stringify({ queue: [{ status: 503 }, { status: 503 }, { status: 503 }] }) });
      const { reports, warnings } = await runScript("node", srv.url, API_KEY, "default", 2);
      // Every event arrives. (Not the reports' sum: when the first flush's
      // deadline passes before its batch's last retry, that retry still
      // delivers the batch, in no flush's report; stats() counts it.)
      const arrived = (await control(srv, "events")).filter((e) => e.item.profileId === "p-warn");
      assert.equal(arrived.length, 10, JSON.stringify(reports));
      assert.equal(new Set(arrived.map((e) => e.item.eventId)).size, 10, "each once");
      assert.equal(reports.at(-1).pending, 0, JSON.stringify(reports));
      assert.equal(warnings.length, 2, warnings.join("\n"));
      assert.match(warnings[0], /could not deliver 5 events: .* -> HTTP 503: injected 503; they stay queued and are retried\. The API is down or limiting/);
      assert.match(warnings[1], /^\[intempt-edge\] delivering again to http:\/\/127\.0\.0\.1:\d+\/v1\/.*\/track$/);
    } finally {
      await srv.close();
    }
  });
});
