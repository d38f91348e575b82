// One adapter per SDK (and per floor): how to import it, construct a client
// that sends to the local sink, make one tracking call, and finish (flush or
// close). Every SDK is configured alike: 20 events per request, its own
// default flush interval, and a queue bound high enough that no event is ever
// dropped by a tight loop (the suite checks that every event arrives).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { BATCH, INTEMPT_ARGS, PROFILES, PROPS, QUEUE, TITLE } from "./event.mjs";

export { BATCH, PROFILES, PROPS, TITLE };

export const BENCH = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(BENCH, "..");
/** The scratch app that bench/run.sh installs the packed tarball into. */
export const APP = join(ROOT, "target", "bench-app");

/**
 * The SDKs. `module` is the specifier a user's `import` resolves to (resolved
 * from where the SDK is installed); `cold(url, endpoint)` is the source of the
 * cold-start probe: import, instantiate and construct, nothing else.
 */
export const SDKS = {
  "intempt-edge": {
    kind: "sdk",
    pkgDir: () => join(APP, "node_modules", "intempt-edge"),
    module: () => resolveFrom(APP, "intempt-edge"),
    create: (m, endpoint) => new m.SDK(...INTEMPT_ARGS, { endpoint, maxQueueSize: QUEUE }),
    track: (c, profile, props) => {
      c.track(profile, TITLE, props);
    },
    finish: async (c) => {
      const report = await c.flush();
      return { reported: c.stats().delivered, failed: report.failed + report.dropped + report.pending };
    },
    cold: (url, endpoint) =>
      `const m = await import(${JSON.stringify(url)}); new m.SDK(...${JSON.stringify(INTEMPT_ARGS)}, { endpoint: ${JSON.stringify(endpoint)} });`,
  },
  // The same package with its other transport, end to end only: told to use
  // the global fetch (what any caller's `fetch` option takes; Node's default
  // is node:http), and its Node entry's node:http transport (Bun's default
  // is its fetch).
  "intempt-edge (fetch)": variant({ fetch: true }),
  "intempt-edge (node:http)": variant({ file: "node.js" }),
  // With an outbox configured, against a healthy sink: the outbox must never
  // be called and cost nothing per event (finish counts any store as failed).
  "intempt-edge (outbox)": variant({ outbox: true }),
  // With a beforeSend hook that returns the event as it is: what the hook
  // path costs per event (the plain "intempt-edge" column has none, and
  // pays nothing for the option).
  "intempt-edge (beforeSend)": variant({ beforeSend: true }),
  "posthog-node": {
    kind: "sdk",
    pkgDir: () => join(BENCH, "node_modules", "posthog-node"),
    module: () => resolveFrom(BENCH, "posthog-node"),
    create: (m, endpoint) => new m.PostHog("phc_bench", { host: endpoint, flushAt: BATCH, maxBatchSize: BATCH, maxQueueSize: QUEUE }),
    track: (c, profile, props) => {
      c.capture({ distinctId: profile, event: TITLE, properties: props });
    },
    finish: async (c) => {
      await c.shutdown(150_000); // its default 30 s is too short for 100,000 events at 20 per request
      return {};
    },
    cold: (url, endpoint) =>
      `const m = await import(${JSON.stringify(url)}); new m.PostHog("phc_bench", { host: ${JSON.stringify(endpoint)}, flushAt: ${BATCH}, maxBatchSize: ${BATCH} });`,
  },
  "@segment/analytics-node": {
    kind: "sdk",
    pkgDir: () => join(BENCH, "node_modules", "@segment", "analytics-node"),
    module: () => resolveFrom(BENCH, "@segment/analytics-node"),
    create: (m, endpoint) => {
      const client = new m.Analytics({ writeKey: "bench-write-key", host: endpoint, path: "/v1/batch", flushAt: BATCH });
      client.errors = 0;
      client.on("error", () => (client.errors += 1));
      return client;
    },
    track: (c, profile, props) => {
      c.track({ userId: profile, event: TITLE, properties: props });
    },
    finish: async (c) => {
      await c.closeAndFlush();
      return { failed: c.errors };
    },
    cold: (url, endpoint) =>
      `const m = await import(${JSON.stringify(url)}); new m.Analytics({ writeKey: "bench-write-key", host: ${JSON.stringify(endpoint)}, path: "/v1/batch", flushAt: ${BATCH} });`,
  },
  // Floors: the least any SDK must do per event. Nothing is sent; the output
  // length is accumulated so the work cannot be optimised away.
  "floor: JSON.stringify": {
    kind: "floor",
    create: () => ({ sink: 0 }),
    track: (c, profile, props) => {
      c.sink += JSON.stringify(props).length;
    },
    finish: async () => ({}),
  },
  "floor: fresh event": {
    kind: "floor",
    create: () => ({ sink: 0 }),
    track: (c, profile, props) => {
      c.sink += JSON.stringify({ eventId: crypto.randomUUID(), timestamp: Date.now(), profileId: profile, data: props }).length;
    },
    finish: async () => ({}),
  },
  // References: the least a Node-only client does end to end, in ~30 lines.
  // Events as intempt-edge sends them (id, time, profile, title, data), 20 per
  // request as {"batch": [...]}, sent when full; finish sends the rest and
  // awaits every request. End to end only; the sink verifies their events too.
  "ref: node:http": reference(() => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 6 });
    return (url, body) =>
      new Promise((resolve, reject) => {
        const headers = { "content-type": "application/json", "content-length": Buffer.byteLength(body) };
        const req = http.request(url, { method: "POST", agent, headers }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode));
        });
        req.on("error", reject);
        req.end(body);
      });
  }),
  "ref: fetch": reference(
    () => (url, body) =>
      fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body }).then(async (r) => {
        await r.text();
        return r.status;
      }),
  ),
};

/** Messages handed to the bench's outbox (the "outbox" variant's). */
let outboxMessages = 0;
const countingOutbox = {
  store: async (messages) => {
    outboxMessages += messages.length;
  },
};

/**
 * intempt-edge with `fetch: globalThis.fetch`, an outbox or an identity beforeSend, or imported from one of its entry files.
 * @param {{ fetch?: boolean, outbox?: boolean, beforeSend?: boolean, file?: string }} options
 */
function variant({ fetch = false, outbox = false, beforeSend = false, file }) {
  return {
    kind: "variant",
    of: "intempt-edge",
    file,
    create: (m, endpoint) =>
      new m.SDK(...INTEMPT_ARGS, {
        endpoint,
        maxQueueSize: QUEUE,
        ...(fetch ? { fetch: globalThis.fetch } : {}),
        ...(outbox ? { outbox: countingOutbox } : {}),
        ...(beforeSend ? { beforeSend: (event) => event } : {}),
      }),
    track: (...a) => SDKS["intempt-edge"].track(...a),
    finish: async (c) => {
      const done = await SDKS["intempt-edge"].finish(c);
      const stats = c.stats();
      return { ...done, failed: done.failed + stats.stored + outboxMessages + stats.filtered + stats.filterFailed };
    },
  };
}

/** A ~30-line reference client around `makePost()`: `(url, body) => Promise<status>`. */
function reference(makePost) {
  const send = (c) => {
    const batch = c.queue;
    c.queue = [];
    const p = c.post(c.url, JSON.stringify({ batch })).then(
      (status) => (c.failed += status < 300 ? 0 : batch.length),
      () => (c.failed += batch.length),
    );
    c.inflight.add(p);
    p.finally(() => c.inflight.delete(p));
  };
  return {
    kind: "ref",
    create: (m, endpoint) => ({ url: `${endpoint}/v1/batch`, post: makePost(), queue: [], inflight: new Set(), failed: 0 }),
    track: (c, profile, props) => {
      c.queue.push({ eventId: crypto.randomUUID(), timestamp: new Date().toISOString(), profileId: profile, title: TITLE, data: props });
      if (c.queue.length >= BATCH) send(c);
    },
    finish: async (c) => {
      if (c.queue.length) send(c);
      while (c.inflight.size) await Promise.all(c.inflight);
      return { failed: c.failed };
    },
  };
}

export const SDK_NAMES = Object.keys(SDKS).filter((n) => SDKS[n].kind === "sdk");
export const FLOOR_NAMES = Object.keys(SDKS).filter((n) => SDKS[n].kind === "floor");
/** intempt-edge with another transport (end to end only). */
export const VARIANT_NAMES = Object.keys(SDKS).filter((n) => SDKS[n].kind === "variant");
/** The reference clients (end to end only); REFERENCE is the one the targets are ratios to. */
export const REF_NAMES = Object.keys(SDKS).filter((n) => SDKS[n].kind === "ref");
export const REFERENCE = "ref: node:http";

/** What `import name` resolves to from `dir` (ESM conditions, as a user's import). */
export function resolveFrom(dir, name) {
  return execFileSync(process.execPath, ["--input-type=module", "-e", `process.stdout.write(import.meta.resolve(${JSON.stringify(name)}))`], {
    cwd: dir,
    encoding: "utf8",
  });
}

/** The installed version of an SDK. */
export function versionOf(name) {
  const file = join(SDKS[name].pkgDir(), "package.json");
  return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")).version : null;
}

/** Every SDK's module URL; run.mjs resolves them once and hands them to children in BENCH_MODULES. */
export function moduleUrls() {
  if (process.env.BENCH_MODULES) return JSON.parse(process.env.BENCH_MODULES);
  return Object.fromEntries(SDK_NAMES.map((name) => [name, SDKS[name].module()]));
}

/** What `import "intempt-edge"` resolves to under Bun (its `bun` export condition). */
export function bunModuleUrls(bun) {
  const url = execFileSync(bun, ["-e", `process.stdout.write(import.meta.resolve("intempt-edge"))`], { cwd: APP, encoding: "utf8" });
  return { "intempt-edge": url };
}

/** Imports an SDK as a user would (floors and references import nothing; a variant imports its SDK). */
export async function load(name) {
  const kind = SDKS[name].kind;
  if (kind === "floor" || kind === "ref") return null;
  if (kind === "variant") {
    const { of, file } = SDKS[name];
    if (file) return import(pathToFileURL(join(SDKS[of].pkgDir(), file)).href);
    name = of;
  }
  return import(process.env.BENCH_MODULES ? JSON.parse(process.env.BENCH_MODULES)[name] : SDKS[name].module());
}
