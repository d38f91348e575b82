// The Node entry's transport on its own (node-http.js, as packed): what the
// core's send() relies on from any fetch — status as given (a 3xx is not
// followed), headers.get, the body, Content-Length, cancellation, errors that
// name the address and never a header, and http/https by URL. The suites run
// it end to end as runtime "node" (and the global fetch as "node-fetch").
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, test } from "node:test";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

import { freePort, prepareApp } from "./harness.mjs";

let nodeFetch;
let server;
let url;
const seen = [];
const AUTH = "Basic c2VjcmV0LWlkOnNlY3JldC12YWx1ZQ==";

before(async () => {
  const app = await prepareApp("node-transport");
  ({ nodeFetch } = await import(pathToFileURL(join(app, "node_modules", "intempt-edge", "node-http.js")).href));
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
  url = `http://127.0.0.1:${server.address().port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const init = (extra = {}) => ({ method: "POST", headers: { "Content-Type": "application/json", Authorization: AUTH }, body: '{"é":1}', redirect: "manual", ...extra });

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
  assert.deepEqual(seen.map((s) => s.url), ["/redirect"], "the target was never requested");
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
    const error = await nodeFetch(`${scheme}://127.0.0.1:${port}/v1/x`, init()).then(() => null, (e) => e);
    assert.ok(error instanceof Error, `${scheme}: rejected with an Error`);
    assert.match(error.message, /ECONNREFUSED/);
    assert.ok(!error.message.includes("c2VjcmV0") && !String(error.stack).includes("c2VjcmV0"), "no Authorization value in the error");
  }
});

test("URLs other than http(s) and invalid URLs are refused clearly", async () => {
  await assert.rejects(nodeFetch("ftp://127.0.0.1/x", init()), { name: "TypeError", message: /only http: and https:.*ftp:/ });
  await assert.rejects(nodeFetch("not a url", init()), { name: "TypeError", message: /not a valid absolute URL/ });
});
