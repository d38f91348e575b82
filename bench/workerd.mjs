// The end-to-end run inside workerd (Miniflare): each SDK's Worker
// (bench/workers/*.js) bundled with esbuild as a Worker bundler would, one
// Miniflare with one Worker per SDK, and one request per run that tracks all
// of its events and then flushes. Wall time is taken around the request; CPU
// is the workerd process's on-CPU time (the sum over its threads of
// /proc/<pid>/task/<tid>/schedstat, in ns) across the request.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { APP, BENCH, SDKS } from "./sdks.mjs";

export const WORKERS = {
  "intempt-edge": "intempt-edge.js",
  "posthog-node": "posthog-node.js",
  "@segment/analytics-node": "segment.js",
  "reference: fetch": "reference-fetch.js",
};
/** The Workers that are not SDKs: the references the SDKs are measured against in the same run. */
export const WORKERD_REFS = ["reference: fetch"];
/** Every Worker of the workerd phase, SDKs first. */
export const WORKERD_NAMES = Object.keys(WORKERS);
const workerName = (sdk) => sdk.replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "");

/**
 * posthog-node's email helper has an optional `await import("@react-email/render")`
 * (inside try/catch). It is not installed, so it resolves to a module that
 * throws, as the import of a missing package does (Miniflare refuses unresolved imports).
 */
const missingOptionalPeers = {
  name: "missing-optional-peers",
  setup(build) {
    build.onResolve({ filter: /^@react-email\/render$/ }, (args) => ({ path: args.path, namespace: "missing" }));
    build.onLoad({ filter: /.*/, namespace: "missing" }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not installed`)});`,
      loader: "js",
    }));
  },
};

/**
 * esbuild options shared by the Worker bundles and the size bundles.
 * @type {import("esbuild").BuildOptions}
 */
export const WORKER_BUILD = {
  bundle: true,
  format: "esm",
  platform: "browser",
  conditions: ["workerd", "worker", "browser"],
  // intempt-edge is installed in the scratch app, the peers in bench/.
  nodePaths: [join(APP, "node_modules"), join(BENCH, "node_modules")],
  external: ["cloudflare:*", "*.wasm"],
  plugins: [missingOptionalPeers],
  logLevel: "error",
};

/** Bundles every SDK's Worker into `outDir` (with intempt-edge's .wasm beside it); returns { sdk: path }. */
export async function bundleWorkers(outDir) {
  const esbuild = await import("esbuild");
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const out = {};
  for (const [sdk, file] of Object.entries(WORKERS)) {
    const outfile = join(outDir, file);
    await esbuild.build({ ...WORKER_BUILD, entryPoints: [join(BENCH, "workers", file)], outfile });
    out[sdk] = outfile;
  }
  // The bundle keeps `import wasm from "./intempt_edge_bg.wasm"`: workerd loads it as a compiled module.
  const pkg = SDKS["intempt-edge"].pkgDir();
  for (const f of readdirSync(pkg).filter((f) => f.endsWith(".wasm"))) copyFileSync(join(pkg, f), join(outDir, f));
  return out;
}

/** Starts one Miniflare (one workerd process) with one Worker per SDK. */
export async function startWorkers(bundles, outDir) {
  const { Miniflare, Log, LogLevel } = await import("miniflare");
  const before = new Set(childPids());
  const mf = new Miniflare({
    workers: Object.entries(bundles).map(([sdk, scriptPath]) => ({
      name: workerName(sdk),
      modules: true,
      scriptPath,
      modulesRoot: outDir,
      modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
      compatibilityDate: "2026-07-01",
    })),
    cf: false,
    log: new Log(LogLevel.WARN),
  });
  await mf.ready;
  const pid = childPids().find((p) => !before.has(p) && comm(p) === "workerd");
  return { mf, pid };
}

/** Runs `n` events of `sdk` in ONE request; returns wall, CPU and the Worker's answer. */
export async function runInWorkerd({ mf, pid }, sdk, n, endpoint) {
  const worker = await mf.getWorker(workerName(sdk));
  const url = `http://bench.local/run?n=${n}&endpoint=${encodeURIComponent(endpoint)}`;
  const cpu0 = cpuNs(pid);
  const t0 = performance.now();
  const response = await worker.fetch(url);
  const text = await response.text();
  const wallMs = performance.now() - t0;
  const cpuMs = (cpuNs(pid) - cpu0) / 1e6;
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = { error: text.slice(0, 500) };
  }
  if (response.status !== 200) body.error ??= `HTTP ${response.status}`;
  // callsMs: the Worker's own clock around its synchronous loop of calls (see bench/README.md).
  const callUsPerEvent = Number.isFinite(body.callsMs) ? (body.callsMs * 1000) / n : null;
  return { wallMs, cpuMs, wallUsPerEvent: (wallMs * 1000) / n, cpuUsPerEvent: (cpuMs * 1000) / n, callUsPerEvent, worker: body };
}

// ---- /proc helpers ---------------------------------------------------------------

function childPids() {
  const pids = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === process.pid) pids.push(Number(d));
    } catch {
      // the process ended meanwhile
    }
  }
  return pids;
}

function comm(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

/** On-CPU time of every thread of `pid`, in ns (NaN when it cannot be read). */
function cpuNs(pid) {
  if (!pid || !existsSync(`/proc/${pid}/task`)) return NaN;
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return total;
}
