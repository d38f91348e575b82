// Unit tests of pkg-template/node-http.js (the Node entry's transport) where
// it shares a rule with src/wasm/host.js: it keeps no more of a body than
// `send` reads (`init.maxBody`), and frees the socket of a body past it.
//   node --test tests/js/*.test.mjs
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, test } from "node:test";

import { nodeFetch } from "../../pkg-template/node-http.js";

let server;
let url;
let closed;
before(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "text/plain" });
      // A body that never ends: only a cut frees its socket.
      const timer = setInterval(() => res.write("x".repeat(1000)), 1);
      res.on("close", () => {
        clearInterval(timer);
        closed = true;
      });
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${/** @type {import("node:net").AddressInfo} */ (server.address()).port}/`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

test("a body past init.maxBody is cut there and its connection closed", { timeout: 10_000 }, async () => {
  closed = false;
  const response = await nodeFetch(url, { method: "POST", headers: {}, body: "{}", maxBody: 2500 });
  assert.equal(response.status, 200);
  const text = await response.text();
  assert.equal(text, "x".repeat(2500));
  for (let i = 0; i < 100 && !closed; i++) await new Promise((ok) => setTimeout(ok, 10));
  assert.ok(closed, "the server saw the connection close");
});
