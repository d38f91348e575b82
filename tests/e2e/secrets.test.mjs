// Secrets: the API key — whole, its secret half, and the base64 forms of the
// Authorization header — appears in no URL of header mode, no log line
// (`debug: true` and `logger`, header and query mode, successes and every
// kind of failure), no error message, stack or `cause` (every error code,
// including a constructor error from a malformed key that carries the
// secret), and no `JSON.stringify`/`String`/`util.inspect` of the client.
// The scenario (app/secrets.mjs) runs in Node, Deno and Bun.
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { before, describe, it } from "node:test";
import { join } from "node:path";

import { startIngestServer } from "../server/ingest-server.mjs";
import { control, envOf, prepareApp, run, tool } from "./harness.mjs";

const KEY = "k3yId.S3cr3tValue";
const WRONG_KEY = "k3yId.Wr0ngS3cr3t"; // a key the server refuses (401)

/** Every spelling of a key that must never be printed. */
function spellings(key) {
  const [id, secret] = [key.slice(0, key.indexOf(".")), key.slice(key.indexOf(".") + 1)];
  const forms = [key, secret, encodeURIComponent(key)];
  for (const raw of [`${id}:${secret}`, key, secret]) {
    const b64 = Buffer.from(raw).toString("base64");
    forms.push(b64, b64.replace(/=+$/, ""), Buffer.from(raw).toString("base64url"));
  }
  return [...new Set(forms)];
}
const FORBIDDEN = [...spellings(KEY), ...spellings(WRONG_KEY)];
const CODES = [
  "INVALID_CONFIG",
  "INVALID_API_KEY",
  "INVALID_ENDPOINT",
  "INVALID_ARGUMENT",
  "RESERVED_TITLE",
  "ATTRIBUTES_NEED_TITLE",
  "INVALID_PROPERTIES",
  "INVALID_ACTION",
  "EVENT_TOO_LARGE",
  "QUEUE_FULL",
  "CLOSED",
  "HTTP_ERROR",
  "NETWORK_ERROR",
];

let app;
let closedEndpoint;

before(async () => {
  app = await prepareApp("secrets");
  // A port nothing listens on: bind one, note it, close it.
  const probe = createServer();
  await /** @type {Promise<void>} */ (new Promise((resolve) => probe.listen(0, "127.0.0.1", resolve)));
  closedEndpoint = `http://127.0.0.1:${/** @type {import("node:net").AddressInfo} */ (probe.address()).port}`;
  await new Promise((resolve) => probe.close(resolve));
});

const leaksIn = (text) => FORBIDDEN.filter((f) => String(text).includes(f));

const COMMANDS = {
  node: (script, args) => [process.execPath, [script, ...args]],
  "node-fetch": (script, args) => [process.execPath, [script, ...args]],
  deno: (script, args) => [tool("deno"), ["run", "--allow-net=127.0.0.1", "--allow-read", "--allow-env", script, ...args]],
  bun: (script, args) => [tool("bun"), [script, ...args]],
};

// The runtimes run at once, each against its own server (the fault
// queue is per server); most of the time is spent waiting for timeouts.
describe("secrets", { concurrency: Object.keys(COMMANDS).length }, () => {
  for (const runtime of Object.keys(COMMANDS)) {
    it(`${runtime}: the API key appears in no URL, log line, error or serialisation of the client`, { timeout: 120_000 }, async () => {
      const server = await startIngestServer({ apiKey: KEY });
      try {
        const started = Date.now();
        const [command, args] = COMMANDS[runtime](join(app, "secrets.mjs"), [server.url, KEY, WRONG_KEY, closedEndpoint]);
        const result = await run(command, args, { cwd: app, env: { DENO_NO_UPDATE_CHECK: "1", ...envOf(runtime) }, timeoutMs: 110_000 });
        const output = `${result.stdout}\n${result.stderr}`;
        assert.deepEqual(leaksIn(output), [], `the raw output (stdout and stderr) of ${runtime} carries the key`);
        assert.equal(result.code, 0, `${runtime} exited with ${result.code}:\n${result.stderr.slice(0, 4000)}`);
        const { texts, logLines, errors, reports } = JSON.parse(
          result.stdout
            .split("\n")
            .find((l) => l.startsWith("SECRETS-RESULT "))
            .slice("SECRETS-RESULT ".length),
        );

        // Nothing collected carries the key.
        const leaks = texts.filter((t) => leaksIn(t.text).length > 0).map((t) => `${t.where}: ${t.text.slice(0, 200)}`);
        assert.deepEqual(leaks, [], "no error, report or serialisation carries the key");
        for (const line of [...logLines.logger, ...logLines.console]) assert.deepEqual(leaksIn(line), [], `log line: ${line}`);

        // ...and it really covered what it claims to.
        const logged = (lines, pattern) => lines.some((l) => pattern.test(l));
        for (const [name, lines] of [
          ["logger", logLines.logger],
          ["debug", logLines.console.filter((l) => l.startsWith("[intempt-edge]"))],
        ]) {
          for (const pattern of [
            /HTTP 201/,
            /HTTP 503/,
            /HTTP 400/,
            /HTTP 401/,
            /HTTP 413/,
            /timed out/,
            /network error/,
            /consents\/data/,
            /choose-api/,
            /^(\[intempt-edge\] )?flush:/,
          ]) {
            assert.ok(logged(lines, pattern), `${name} lines include ${pattern}`);
          }
        }
        const unexpected = errors.filter((e) => !e.isIntemptError || typeof e.code !== "string" || e.resolved);
        assert.deepEqual(unexpected, [], "every refused call threw or rejected with an IntemptError with a code");
        const codes = new Set(errors.map((e) => e.code));
        for (const code of CODES) assert.ok(codes.has(code), `an error with code ${code} was checked`);
        for (const e of errors.filter((e) => e.label.startsWith("constructor") && e.label.includes(" key "))) {
          assert.equal(e.code, "INVALID_API_KEY", e.label);
        }
        const statuses = new Set(errors.filter((e) => e.code === "HTTP_ERROR").map((e) => e.status));
        for (const status of [400, 401, 500]) assert.ok(statuses.has(status), `HTTP_ERROR ${status} was checked`);
        assert.ok(
          reports.some((r) => r.dropped > 0) && reports.some((r) => r.failed > 0) && reports.some((r) => r.delivered > 0),
          "reports of every fate were checked",
        );

        // The server's log: no key in any URL in header mode; query mode really used the query.
        const requests = await control(server, "requests");
        const header = requests.filter((r) => r.authMode === "header");
        const query = requests.filter((r) => r.authMode === "query");
        assert.ok(header.length > 0 && query.length > 0, "both auth modes were exercised");
        for (const r of header) {
          assert.deepEqual(leaksIn(r.path), [], `header-mode path ${r.path}`);
          assert.ok(!("apiKey" in (r.query ?? {})), `header-mode request ${r.id} has no apiKey in its query`);
          assert.deepEqual(leaksIn(JSON.stringify(r.query ?? {})), [], `header-mode query of request ${r.id}`);
          const { authorization, ...others } = r.headers;
          assert.ok(authorization?.startsWith("Basic "), "the key travels in the Authorization header");
          assert.deepEqual(leaksIn(JSON.stringify(others)), [], "no other header carries the key");
        }
        for (const r of query) {
          assert.equal(r.headers.authorization, undefined, "query mode sends no Authorization header (never both)");
          assert.deepEqual(leaksIn(r.path), [], `query-mode path ${r.path}`);
        }
        for (const r of requests) assert.deepEqual(leaksIn(r.body ?? ""), [], `request body ${r.id}`);

        console.log(
          `secrets[${runtime}]: leaks=0 forbiddenSpellings=${FORBIDDEN.length} scannedTexts=${texts.length} logLines=${logLines.logger.length + logLines.console.length} ` +
            `errors=${errors.length} codes=${codes.size} serverRequests=${requests.length} (header ${header.length}, query ${query.length}) time=${((Date.now() - started) / 1000).toFixed(1)}s`,
        );
      } finally {
        await server.close();
      }
    });
  }
});
