// The local sink every SDK sends to: a tiny node:http server (HTTP/1.1,
// keep-alive) on loopback that accepts any path, answers at once and counts
// requests, bytes and events. Events are counted by parsing each body:
//   intempt-edge  {"track":[{"name", "payload":[…]}…]}  → events in every payload
//   posthog-node  {"batch":[…]} (gzip by default)        → batch.length
//   segment       {"batch":[…]}                         → batch.length
// intempt-edge's track path gets 201 with an empty body (as its ingest does);
// every other path gets 200 with a small JSON body (what the peers expect).
import { createServer } from "node:http";
import { gunzipSync } from "node:zlib";

/** Events carried by one parsed request body (0 when it holds none). */
export function countEvents(body) {
  if (Array.isArray(body?.track)) {
    return body.track.reduce((n, group) => n + (Array.isArray(group?.payload) ? group.payload.length : 0), 0);
  }
  if (Array.isArray(body?.batch)) return body.batch.length;
  return 0;
}

function emptyCounters() {
  return { requests: 0, events: 0, bodyBytes: 0, decodedBytes: 0, badBodies: 0, paths: {} };
}

/** Starts the sink on 127.0.0.1 (a free port); resolves with { url, counters(), reset(), close() }. */
export async function startSink() {
  let counters = emptyCounters();
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      counters.requests += 1;
      counters.bodyBytes += raw.length;
      const path = req.url.split("?")[0];
      const key = path.startsWith("/v1/") && path.endsWith("/track") ? "/v1/…/track" : path;
      counters.paths[key] = (counters.paths[key] ?? 0) + 1;
      try {
        const text = (req.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw).toString("utf8");
        counters.decodedBytes += Buffer.byteLength(text);
        counters.events += countEvents(JSON.parse(text));
      } catch {
        counters.badBodies += 1;
      }
      if (key === "/v1/…/track") {
        res.writeHead(201, { "content-length": "0" });
        res.end();
      } else {
        const body = '{"status":1}';
        res.writeHead(200, { "content-type": "application/json", "content-length": String(body.length) });
        res.end(body);
      }
    });
  });
  // Keep idle connections open longer than any client's own keep-alive timer.
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;
  server.requestTimeout = 0;
  await /** @type {Promise<void>} */ (
    new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", resolve);
    })
  );
  const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
  return {
    url: `http://127.0.0.1:${port}`,
    counters: () => ({ ...counters, paths: { ...counters.paths } }),
    reset: () => {
      counters = emptyCounters();
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
