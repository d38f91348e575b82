// The Node entry's transport on its own (node-http.js, as packed): what the
// core's send() relies on from any fetch — status as given (a 3xx is not
// followed), headers.get, the body, Content-Length, cancellation, errors that
// name the address and never a header, and http/https by URL. The suites run
// it end to end as runtime "node" (and the global fetch as "node-fetch").
// Below: answers whose status is complete but whose body is not (a 2xx is a
// delivery, whatever its body does, on every transport), and a node:http that
// cannot be loaded (one warning, and the global fetch delivers instead).
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { connect } from "node:net";
import { after, before, test } from "node:test";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

import { startIngestServer } from "../server/ingest-server.mjs";
import { API_KEY, control, freePort, prepareApp, ROOT, run } from "./harness.mjs";

let app;
let nodeFetch;
let SDK;
let server;
let url;
const seen = [];
const AUTH = "Basic c2VjcmV0LWlkOnNlY3JldC12YWx1ZQ==";

before(async () => {
  app = await prepareApp("node-transport");
  ({ nodeFetch } = await import(pathToFileURL(join(app, "node_modules", "intempt-edge", "node-http.js")).href));
  ({ SDK } = await import(pathToFileURL(join(app, "node_modules", "intempt-edge", "node.js")).href));
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      if (req.url === "/redirect") {
        res.writeHead(302, { location: "/target", "content-length": "0" });
        res.end();
      } else if (req.url === "/retry") {
        res.writeHead(429, { "retry-after": "7", "content-type": "application/json" });
        res.end('{"error":"slow down"}');
      } else if (req.url === "/hang") {
        // never answers
      } else if (req.url === "/cut") {
        res.writeHead(200, { "content-length": "100" });
        res.write("partial");
        setTimeout(() => res.destroy(), 20);
      } else {
        res.writeHead(201, { "content-type": "application/json" });
        res.end(`{"got":${JSON.stringify(body)}}`);
      }
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${/** @type {import("node:net").AddressInfo} */ (server.address()).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const init = (extra = {}) => ({
  method: "POST",
  headers: { "Content-Type": "application/json", Authorization: AUTH },
  body: '{"é":1}',
  redirect: "manual",
  ...extra,
});

test("a POST with a string body: status, headers.get, text(), Content-Length in bytes", async () => {
  seen.length = 0;
  const r = await nodeFetch(`${url}/v1/x`, init());
  assert.equal(r.status, 201);
  assert.equal(r.redirected, false);
  assert.equal(r.headers.get("Content-Type"), "application/json");
  assert.equal(r.headers.get("retry-after"), null);
  assert.equal(await r.text(), JSON.stringify({ got: '{"é":1}' }));
  assert.equal(seen[0].method, "POST");
  assert.equal(seen[0].headers["content-length"], String(Buffer.byteLength('{"é":1}')));
  assert.equal(seen[0].headers.authorization, AUTH);
});

test("a Headers object is accepted too", async () => {
  seen.length = 0;
  const r = await nodeFetch(`${url}/v1/x`, init({ headers: new Headers({ "x-one": "1" }) }));
  assert.equal(r.status, 201);
  await r.text();
  assert.equal(seen[0].headers["x-one"], "1");
});

test("a 3xx arrives as itself; the redirect is not followed", async () => {
  seen.length = 0;
  const r = await nodeFetch(`${url}/redirect`, init());
  assert.equal(r.status, 302);
  assert.equal(r.headers.get("location"), "/target");
  await r.text();
  assert.deepEqual(
    seen.map((s) => s.url),
    ["/redirect"],
    "the target was never requested",
  );
});

test("Retry-After and the body of an error status", async () => {
  const r = await nodeFetch(`${url}/retry`, init());
  assert.equal(r.status, 429);
  assert.equal(r.headers.get("Retry-After"), "7");
  assert.equal(await r.text(), '{"error":"slow down"}');
});

test("cancel.abort() (what send() calls on its timeout) destroys the request and rejects", async () => {
  const cancel = {};
  const pending = nodeFetch(`${url}/hang`, init({ cancel }));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(typeof cancel.abort, "function");
  cancel.abort();
  await assert.rejects(pending, { name: "AbortError" });
  // An AbortSignal works the same way.
  const controller = new AbortController();
  const viaSignal = nodeFetch(`${url}/hang`, init({ signal: controller.signal }));
  setTimeout(() => controller.abort(), 20);
  await assert.rejects(viaSignal, { name: "AbortError" });
});

test("a body cut mid-way rejects text()", async () => {
  const r = await nodeFetch(`${url}/cut`, init());
  assert.equal(r.status, 200);
  await assert.rejects(r.text());
});

test("connection refused (http and https): an Error naming the address, never a header", async () => {
  const port = await freePort();
  for (const scheme of ["http", "https"]) {
    const error = await nodeFetch(`${scheme}://127.0.0.1:${port}/v1/x`, init()).then(
      () => null,
      (e) => e,
    );
    assert.ok(error instanceof Error, `${scheme}: rejected with an Error`);
    assert.match(error.message, /ECONNREFUSED/);
    assert.ok(!error.message.includes("c2VjcmV0") && !String(error.stack).includes("c2VjcmV0"), "no Authorization value in the error");
  }
});

test("URLs other than http(s) and invalid URLs are refused clearly", async () => {
  await assert.rejects(nodeFetch("ftp://127.0.0.1/x", init()), { name: "TypeError", message: /only http: and https:.*ftp:/ });
  await assert.rejects(nodeFetch("not a url", init()), { name: "TypeError", message: /not a valid absolute URL/ });
});

// ---- a complete 2xx status, a body that is not -----------------------------
// Once the status line says 2xx the batch is delivered: a body that never
// ends, stops short of its Content-Length, or is cut must not turn it into a
// timeout or a network error (the batch would be sent again: duplicates), and
// the connection must not stay open. The same for every transport: the
// package's node:http one and the global fetch as the `fetch` option.
const BODIES = {
  "a 201 whose chunked body never ends": (res) => {
    res.writeHead(201, { "content-type": "application/json" });
    res.write("{");
    const timer = setInterval(() => res.write(" "), 50);
    res.on("close", () => clearInterval(timer));
  },
  "a 201 with Content-Length 100 that sends 10 bytes, then nothing": (res) => {
    res.writeHead(201, { "content-type": "application/json", "content-length": "100" });
    res.write('{"ok":true');
  },
  "a 200 whose body is cut after 10 of 100 bytes": (res) => {
    res.writeHead(200, { "content-type": "application/json", "content-length": "100" });
    res.write('{"ok":true');
    setTimeout(() => res.destroy(), 20);
  },
};

/**
 * A server answering every POST with `answer(res)`. `requests`: what it got;
 * `sockets`: the connections that carried a request and are still open
 * (undici may open a spare connection after an aborted one: it carries
 * nothing and its pool closes it when idle, so it is not counted).
 */
async function misbehaving(answer) {
  const sockets = new Set();
  const requests = [];
  const s = createServer((req, res) => {
    const socket = req.socket;
    if (!socket.destroyed && !sockets.has(socket)) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    }
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      requests.push({ url: req.url, body });
      answer(res);
    });
  });
  await /** @type {Promise<void>} */ (new Promise((resolve) => s.listen(0, "127.0.0.1", resolve)));
  return {
    url: `http://127.0.0.1:${/** @type {import("node:net").AddressInfo} */ (s.address()).port}`,
    requests,
    sockets,
    close() {
      s.closeAllConnections();
      return new Promise((resolve) => s.close(resolve));
    },
  };
}

async function waitFor(check, timeoutMs) {
  const until = Date.now() + timeoutMs;
  while (!check() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  return check();
}

for (const [transport, options] of /** @type {[string, () => import("intempt-edge").SDKOptions][]} */ ([
  ["node:http", () => ({})],
  ["global fetch", () => ({ fetch: globalThis.fetch })],
])) {
  for (const [answerName, answer] of Object.entries(BODIES)) {
    test(`${transport}: ${answerName} delivers the batch once (not a timeout, never resent) and frees the connection`, { timeout: 20_000 }, async () => {
      const s = await misbehaving(answer);
      try {
        const intempt = new SDK("org", "proj", API_KEY, "src", 60_000, 20, {
          endpoint: s.url,
          requestTimeoutMs: 400,
          flushDeadlineMs: 4_000,
          ...options(),
        });
        for (let i = 0; i < 3; i++) await intempt.track("p1", "Body Test", { i });
        const started = Date.now();
        const report = await intempt.flush();
        const elapsed = Date.now() - started;
        assert.equal(s.requests.length, 1, "one request: the batch was not sent again");
        assert.equal(report.delivered, 3, JSON.stringify(report));
        assert.equal(report.failed + report.pending + report.dropped + report.retries, 0, JSON.stringify(report));
        assert.equal(report.timedOut, false);
        assert.ok(elapsed < 400 + 1_000, `the flush ended within the request timeout (took ${elapsed} ms)`);
        const stats = intempt.stats();
        assert.equal(stats.delivered, 3);
        assert.equal(stats.inFlight, 0);
        assert.equal(stats.queued, 0);
        assert.ok(await waitFor(() => s.sockets.size === 0, 2_000), `the connection was closed (${s.sockets.size} open)`);
      } finally {
        await s.close();
      }
    });
  }

  test(`${transport}: a choose call answered 201 with a body that never ends fails once, cleanly: "no choices array"`, { timeout: 20_000 }, async () => {
    const s = await misbehaving(BODIES["a 201 whose chunked body never ends"]);
    try {
      const intempt = new SDK("org", "proj", API_KEY, "src", 60_000, 20, { endpoint: s.url, chooseTimeoutMs: 400, ...options() });
      const started = Date.now();
      const error = await intempt.choosePersonalizationsByNames("p1", ["banner"]).then(
        () => null,
        (e) => e,
      );
      assert.ok(error, "the call rejected");
      assert.equal(error.name, "IntemptError");
      assert.match(error.message, /no choices array/);
      assert.equal(error.status, 201);
      assert.equal(s.requests.length, 1, "answered: not retried");
      assert.ok(Date.now() - started < 400 + 1_000, "within the choose timeout");
      assert.ok(await waitFor(() => s.sockets.size === 0, 2_000), `the connection was closed (${s.sockets.size} open)`);
    } finally {
      await s.close();
    }
  });
}

test("nodeFetch on its own: a body past init.maxBody (what the core's send passes: 1 Mi characters) is cut there and its connection closed", {
  timeout: 20_000,
}, async () => {
  const s = await misbehaving((res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    const chunk = "x".repeat(64 * 1024);
    const timer = setInterval(() => res.write(chunk), 1);
    res.on("close", () => clearInterval(timer));
  });
  try {
    const r = await nodeFetch(`${s.url}/big`, init({ maxBody: 1 << 20 }));
    assert.equal(r.status, 200);
    const text = await r.text();
    assert.equal(text.length, 1 << 20);
    assert.ok(await waitFor(() => s.sockets.size === 0, 2_000), "the connection was closed");
  } finally {
    await s.close();
  }
});

// ---- node:http that cannot be loaded ---------------------------------------
// What a bundler that does not know node:http does to the transport (Next.js's
// did to the createRequire of 0.1.0), made here with a module resolve hook:
// one console.warn says so, without debug, and the global fetch delivers;
// without a global fetch either, the one warning says what to pass.
for (const withFetch of [true, false]) {
  test(`node:http unloadable, ${withFetch ? "global fetch present: one warning, and the events arrive" : "no global fetch either: one warning saying what to pass, and nothing silent"}`, {
    timeout: 60_000,
  }, async () => {
    const ingest = await startIngestServer({ apiKey: API_KEY });
    try {
      const args = ["--import", "./node-transport-no-http.mjs", "node-transport-run.mjs", ingest.url, API_KEY, withFetch ? "keep" : "delete"];
      const result = await run(process.execPath, args, { cwd: app, timeoutMs: 30_000 });
      assert.equal(result.code, 0, result.stdout + result.stderr);
      const report = JSON.parse(result.stdout.trim().split("\n").pop());
      const lines = result.stderr.split("\n").filter((l) => l.includes("[intempt-edge]"));
      // The transport's own warning, once; and, when nothing can be sent,
      // the core's failure line (the first of a streak: once here).
      const warnings = lines.filter((l) => l.includes("node:http could not be loaded ("));
      assert.equal(warnings.length, 1, `exactly one transport warning, whatever the retries:\n${result.stderr}`);
      const failures = lines.filter((l) => /\[intempt-edge\] could not deliver \d+ events/.test(l));
      assert.equal(failures.length, withFetch ? 0 : 1, `the core's failure lines:\n${result.stderr}`);
      assert.equal(lines.length, warnings.length + failures.length, `no other line:\n${result.stderr}`);
      assert.ok(!(result.stdout + result.stderr).includes("test-secret"), "the key is never printed");
      assert.ok(!(result.stdout + result.stderr).includes(Buffer.from("test-id:test-secret").toString("base64")), "nor its Basic form");
      const events = await control(ingest, "events");
      if (withFetch) {
        assert.match(warnings[0], /sending with the global fetch instead/);
        assert.equal(report.delivered, 3, JSON.stringify(report));
        assert.equal(events.length, 3);
      } else {
        assert.match(warnings[0], /no global fetch.*pass a `fetch` option/);
        assert.equal(report.delivered, 0, JSON.stringify(report));
        assert.ok(report.retries >= 1, "it was retried (and the warning not repeated)");
        assert.equal(events.length, 0);
      }
    } finally {
      await ingest.close();
    }
  });
}

// ---- HTTP_PROXY ------------------------------------------------------------
// The README says the Node transport ignores HTTP_PROXY/HTTPS_PROXY and gives
// a `fetch` option that honours them (undici's EnvHttpProxyAgent). Both are
// checked here against a proxy on loopback: the default transport goes
// straight to the endpoint, and the README's recipe, run as written (its
// `undici` is the one the repository's tools install), goes through it.

/** A forward proxy on loopback (absolute-form requests and CONNECT); counts what it carried. */
async function startProxy() {
  const carried = [];
  const proxy = createServer((req, res) => {
    carried.push(`${req.method} ${req.url}`);
    const target = new URL(req.url);
    const upstream = connect(Number(target.port), target.hostname, () => {
      upstream.write(`${req.method} ${target.pathname}${target.search} HTTP/1.1\r\n`);
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        if (!/^(proxy-|connection$)/i.test(req.rawHeaders[i])) upstream.write(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`);
      }
      upstream.write("connection: close\r\n\r\n");
      req.pipe(upstream);
      upstream.pipe(res.socket);
    });
    upstream.on("error", () => res.destroy());
  });
  proxy.on("connect", (req, socket, head) => {
    carried.push(`CONNECT ${req.url}`);
    const [host, port] = req.url.split(":");
    const upstream = connect(Number(port), host, () => {
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on("error", () => socket.destroy());
    socket.on("error", () => upstream.destroy());
  });
  await /** @type {Promise<void>} */ (new Promise((resolve) => proxy.listen(0, "127.0.0.1", resolve)));
  return {
    url: `http://127.0.0.1:${/** @type {import("node:net").AddressInfo} */ (proxy.address()).port}`,
    carried,
    close() {
      proxy.closeAllConnections();
      return new Promise((resolve) => proxy.close(resolve));
    },
  };
}

/** The README's proxy recipe: the code block after "Behind an HTTP proxy (Node)". */
function readmeProxyRecipe() {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const at = readme.indexOf("**Behind an HTTP proxy (Node).**");
  assert.ok(at >= 0, "the README has a paragraph on HTTP proxies in Node");
  const paragraph = readme.slice(at, readme.indexOf("```js", at));
  assert.match(paragraph, /ignores `HTTP_PROXY`, `HTTPS_PROXY` and `NO_PROXY`/);
  const block = readme.slice(readme.indexOf("```js", at) + 5, readme.indexOf("```", readme.indexOf("```js", at) + 5));
  assert.match(block, /new SDK\(/);
  return block;
}

for (const mode of ["default", "recipe"]) {
  const name =
    mode === "default"
      ? "HTTP_PROXY set: the default transport ignores it and delivers straight to the endpoint (as the README says)"
      : "HTTP_PROXY set: the README's fetch option (undici's EnvHttpProxyAgent) delivers through the proxy";
  test(name, { timeout: 30_000 }, async () => {
    const ingest = await startIngestServer({ apiKey: API_KEY });
    const proxy = await startProxy();
    try {
      let arg = "default";
      if (mode === "recipe") {
        // The recipe as written, with its free names bound and `options` exported.
        const undici = pathToFileURL(createRequire(join(ROOT, "package.json")).resolve("undici")).href;
        const recipe = readmeProxyRecipe()
          .replace(/from "undici";/, `from ${JSON.stringify(undici)};`)
          .replace(/const intempt = new SDK\(org, project, apiKey, sourceId, 100, 20, (\{[\s\S]*?\})\);/, "export const options = $1;");
        assert.match(recipe, /export const options = \{/, "the recipe passes its fetch in the options");
        arg = join(app, "node-transport-proxy-recipe.mjs");
        writeFileSync(arg, recipe);
      }
      const env = { HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, http_proxy: proxy.url, https_proxy: proxy.url, NO_PROXY: "", no_proxy: "" };
      const result = await run(process.execPath, ["node-transport-proxy.mjs", ingest.url, API_KEY, arg], { cwd: app, env, timeoutMs: 20_000 });
      assert.equal(result.code, 0, result.stdout + result.stderr);
      const report = JSON.parse(result.stdout.trim().split("\n").pop());
      assert.equal(report.delivered, 1, JSON.stringify(report));
      const events = await control(ingest, "events");
      assert.deepEqual(
        events.map((e) => e.item.data.mode),
        [mode],
      );
      if (mode === "default") assert.deepEqual(proxy.carried, [], "the proxy saw nothing");
      else
        assert.ok(
          proxy.carried.some((line) => line.includes(new URL(ingest.url).host)),
          `the proxy carried it: ${JSON.stringify(proxy.carried)}`,
        );
    } finally {
      await proxy.close();
      await ingest.close();
    }
  });
}
