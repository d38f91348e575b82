// The Node entry's default transport: a fetch-shaped function on node:http /
// node:https with keep-alive agents. Node's global fetch (undici) costs about
// 1 ms of CPU per request; this costs a small fraction of it. The core calls it
// through the same guarded `send` helper as any fetch (src/wasm/js.rs), which
// times requests out by aborting `init.signal`, always reads or abandons the
// body, and redacts the key from every error. It is used only when the caller
// passes no `fetch` option.
//
// - Redirects are never followed (node:http does not): a 3xx arrives as a 3xx.
// - Idle keep-alive sockets never hold the process: Node's Agent unrefs a
//   socket when it returns to the pool (keepSocketAlive) and refs it again
//   when it is reused; a request in flight holds it, as with fetch.
// - Errors are Node's own (`connect ECONNREFUSED 127.0.0.1:9`, `socket hang
//   up`, `read ECONNRESET`): they name the address, never a header.
import { createRequire } from "node:module";

// node:http and node:https are loaded at the first request, not at import:
// loading them costs Node 2 and 4 ms (TLS), most of the package's cold start.
const require = createRequire(import.meta.url);
const MODULES = { __proto__: null, "http:": "node:http", "https:": "node:https" };
// At most this many connections per host and protocol; more requests wait
// for one (their timeout runs meanwhile).
const MAX_SOCKETS = 6;
const agents = { __proto__: null };
function agentFor(protocol) {
  if (agents[protocol] === undefined && MODULES[protocol] !== undefined) {
    const module = require(MODULES[protocol]);
    agents[protocol] = [module, new module.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS })];
  }
  return agents[protocol];
}
// The core reads at most 1 Mi characters of a body; keep no more than twice that.
const MAX_BODY = 1 << 21;

const aborted = () => {
  const e = new Error("the request was aborted (timed out)");
  e.name = "AbortError";
  return e;
};

/** `fetch(url, init)` for POSTs of string bodies: resolves to `{ status, headers: { get }, text(), redirected: false }`. */
export function nodeFetch(url, init = {}) {
  return new Promise((resolve, reject) => {
    let target;
    try {
      target = new URL(url);
    } catch (_) {
      return reject(new TypeError("the URL is not a valid absolute URL"));
    }
    let agent;
    try {
      agent = agentFor(target.protocol);
    } catch (e) {
      return reject(e);
    }
    if (agent === undefined) return reject(new TypeError(`only http: and https: URLs can be sent to, not ${target.protocol}`));
    // The core's `send` passes `cancel` (it sets cancel.abort) rather than an
    // AbortSignal, which costs Node about 40 µs per request; a signal works too.
    const signal = init.signal;
    const cancel = init.cancel;
    if (signal && signal.aborted) return reject(aborted());
    // The core passes a plain object; a Headers (or any forEach-able) works too.
    let headers = init.headers;
    if (headers && typeof headers.forEach === "function") {
      const given = headers;
      headers = {};
      given.forEach((value, name) => (headers[name] = value));
    } else {
      headers = { ...headers };
    }
    const body = init.body === undefined || init.body === null ? "" : String(init.body);
    headers["content-length"] = String(Buffer.byteLength(body));

    let request;
    const onAbort = () => request.destroy(aborted());
    const done = () => {
      if (cancel) cancel.abort = undefined;
      if (signal) signal.removeEventListener("abort", onAbort);
    };
    try {
      request = agent[0].request(target, { method: init.method || "POST", headers, agent: agent[1] });
    } catch (e) {
      return reject(e);
    }
    if (cancel) cancel.abort = onAbort;
    if (signal) signal.addEventListener("abort", onAbort, { once: true });
    request.on("error", (e) => {
      done();
      reject(e); // no effect once resolved: the body's promise reports it
    });
    request.on("response", (response) => {
      // The body is read at once, whether or not text() is called, so the
      // socket returns to the pool.
      const text = new Promise((ok, fail) => {
        let chunks = "";
        response.setEncoding("utf8");
        response.on("data", (chunk) => {
          if (chunks.length < MAX_BODY) chunks += chunk;
        });
        response.on("end", () => {
          done();
          ok(chunks.length > MAX_BODY ? chunks.slice(0, MAX_BODY) : chunks);
        });
        response.on("error", (e) => {
          done();
          fail(e);
        });
        response.on("close", () => {
          if (!response.complete) {
            done();
            fail(new Error("the connection closed before the response body ended"));
          }
        });
      });
      text.catch(() => {});
      const responseHeaders = response.headers;
      resolve({
        status: response.statusCode,
        redirected: false,
        headers: {
          get(name) {
            const value = responseHeaders[String(name).toLowerCase()];
            return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
          },
        },
        text: () => text,
      });
    });
    request.end(body);
  });
}
