// The Node entry's default transport: a fetch-shaped function on node:http /
// node:https with keep-alive agents. Node's global fetch (undici) costs about
// 1 ms of CPU per request; this costs a small fraction of it. The core calls it
// through the same guarded `send` helper as any fetch (src/wasm/js.rs), which
// times requests out by cancelling them, always reads or abandons the body,
// and redacts the key from every error. It is used only when the caller
// passes no `fetch` option.
//
// - Redirects are never followed (node:http does not): a 3xx arrives as a 3xx.
// - Idle keep-alive sockets never hold the process: Node's Agent unrefs a
//   socket when it returns to the pool (keepSocketAlive) and refs it again
//   when it is reused; a request in flight holds it, as with fetch.
// - No socket is held for good by a server that never finishes: a body is
//   cut (its socket destroyed) past init.maxBody (the most the core reads),
//   and a connection silent for IDLE_MS is destroyed, whoever called (the
//   core also cancels every request at its own timeout, body included).
// - Errors are Node's own (`connect ECONNREFUSED 127.0.0.1:9`, `socket hang
//   up`, `read ECONNRESET`): they name the address, never a header.
// - HTTP_PROXY / HTTPS_PROXY are not read (node:http has no proxy support):
//   behind a proxy, pass a `fetch` option (README, "Proxies").
//
// node:http and node:https are loaded at the first request, not at import:
// loading them costs Node 2 and 4 ms (TLS), most of the package's cold start.
// They are loaded with literal `import("node:…")` expressions, which every
// bundler knows as Node built-ins (Next.js's Turbopack and webpack included;
// a `createRequire(import.meta.url)` require is turned by them into a lookup
// of a module they did not bundle). If the import still fails, the transport
// says so once with console.warn and sends with the global fetch instead.

// At most this many connections per host and protocol; more requests wait
// for one (their timeout runs meanwhile).
const MAX_SOCKETS = 6;
// A connection that neither sends nor receives for this long is destroyed
// (the core's own request timeouts are far shorter; this bounds callers
// that pass no `cancel` or `signal`).
const IDLE_MS = 60_000;

// protocol → [module, agent] once loaded; a promise of it while loading;
// null if node:http(s) cannot be loaded (the global fetch is used instead).
const agents = { __proto__: null };
function load(protocol) {
  try {
    return protocol === "http:" ? import("node:http") : import("node:https");
  } catch (error) {
    return Promise.reject(error); // a bundler's stand-in for import() may throw
  }
}

function loadAgent(protocol) {
  const loading = load(protocol).then(
    (namespace) => {
      const module = namespace.default ?? namespace;
      const entry = [module, new module.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS })];
      agents[protocol] = entry;
      return entry;
    },
    (error) => {
      agents[protocol] = null;
      warnOnce(
        `node:${protocol.slice(0, -1)} could not be loaded (${describe(error)}): ` +
          (typeof globalThis.fetch === "function"
            ? "sending with the global fetch instead."
            : "there is no global fetch either, so no event can be sent: pass a `fetch` option."),
      );
      return null;
    },
  );
  agents[protocol] = loading;
  return loading;
}

let warned = false;
function warnOnce(message) {
  if (warned) return;
  warned = true;
  try {
    console.warn(`[intempt-edge] ${message}`);
  } catch {}
}

function describe(error) {
  try {
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return text.length > 200 ? `${text.slice(0, 200)}…` : text;
  } catch {
    return "an unknown error";
  }
}

const aborted = () => {
  const e = new Error("the request was aborted (timed out)");
  e.name = "AbortError";
  return e;
};

/** `fetch(url, init)` for POSTs of string bodies: resolves to `{ status, headers: { get }, text(), redirected: false }`. */
export function nodeFetch(url, init = {}) {
  let target;
  try {
    target = new URL(url);
  } catch (_) {
    return Promise.reject(new TypeError("the URL is not a valid absolute URL"));
  }
  const protocol = target.protocol;
  if (protocol !== "http:" && protocol !== "https:") {
    return Promise.reject(new TypeError(`only http: and https: URLs can be sent to, not ${protocol}`));
  }
  let agent = agents[protocol];
  if (agent === undefined) agent = loadAgent(protocol);
  if (agent === null) return viaGlobalFetch(url, init);
  if (typeof agent.then === "function") {
    // The first request of this protocol waits for the module; the core's
    // timeout (cancel.abort) may fire meanwhile.
    const cancel = init.cancel;
    let cancelled = false;
    if (cancel) cancel.abort = () => (cancelled = true);
    return agent.then((entry) => {
      if (cancelled || init.signal?.aborted) throw aborted();
      return entry === null ? viaGlobalFetch(url, init) : request(entry, target, init);
    });
  }
  return request(agent, target, init);
}

// node:http(s) could not be loaded: the global fetch, with the core's
// `cancel` hook turned into an AbortSignal.
function viaGlobalFetch(url, init) {
  if (typeof globalThis.fetch !== "function") {
    return Promise.reject(new Error("node:http could not be loaded and there is no global fetch: pass a `fetch` option"));
  }
  const { cancel, signal, headers, body, method } = init;
  /** @type {RequestInit} */
  const options = { method: method || "POST", headers, body, redirect: "manual" };
  if (cancel) {
    const controller = new AbortController();
    cancel.abort = () => controller.abort(aborted());
    options.signal = controller.signal;
  } else if (signal) {
    options.signal = signal;
  }
  return globalThis.fetch(url, options);
}

function request(agent, target, init) {
  return new Promise((resolve, reject) => {
    // The core's `send` passes `cancel` (it sets cancel.abort) rather than an
    // AbortSignal, which costs Node about 40 µs per request; a signal works too.
    const signal = init.signal;
    const cancel = init.cancel;
    if (signal?.aborted) return reject(aborted());
    // The core passes a plain object; a Headers (or any forEach-able) works too.
    let headers = init.headers;
    if (headers && typeof headers.forEach === "function") {
      const given = headers;
      headers = {};
      given.forEach((value, name) => {
        headers[name] = value;
      });
    } else {
      headers = { ...headers };
    }
    const body = init.body === undefined || init.body === null ? "" : String(init.body);
    const maxBody = init.maxBody ?? Infinity;
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
    // Reset to the agent's (none) when the socket returns to the pool.
    request.setTimeout(IDLE_MS, () => request.destroy(new Error(`the connection was idle for ${IDLE_MS / 1000} s`)));
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
          chunks += chunk;
          if (chunks.length > maxBody) {
            // Enough: keep what the core reads, and free the socket.
            done();
            ok(chunks.slice(0, maxBody));
            request.destroy();
          }
        });
        response.on("end", () => {
          done();
          ok(chunks);
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
