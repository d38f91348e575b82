// The benchmark suite: intempt-edge vs posthog-node vs @segment/analytics-node
// (and two floors), interleaved, with medians and min/max over repetitions.
// Run it through bench/run.sh (which installs what it needs):
//
//   bash bench/run.sh            full run (a few minutes), writes bench/results/
//   bash bench/run.sh --smoke    every SDK briefly (well under a minute), writes target/bench-smoke/
//   options: --out DIR (results folder); --render (rewrite RESULTS.md and chart.svg from DIR's results.json)
//
// Exit status: 0 when every measurement ran and every event arrived (and each
// SDK's own account agrees), 1 otherwise; target misses do not fail the run.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { performance } from "node:perf_hooks";
import { fmt, renderChart } from "./chart.mjs";
import { RESULT_PREFIX, summarize } from "./measure.mjs";
import { buildRows, chartPanels, machine, resultsMarkdown, short, textTable, versions } from "./report.mjs";
import { BATCH, BENCH, FLOOR_NAMES, REF_NAMES, ROOT, SDK_NAMES, SDKS, bunModuleUrls, moduleUrls } from "./sdks.mjs";
import { measureSizes } from "./size.mjs";
import { startSink } from "./sink.mjs";
import { WORKERD_NAMES, bundleWorkers, runInWorkerd, startWorkers } from "./workerd.mjs";

const args = process.argv.slice(2);
const SMOKE = args.includes("--smoke");
const RENDER = args.includes("--render");
const outArg = args.indexOf("--out");
const OUT = outArg >= 0 ? args[outArg + 1] : SMOKE ? join(ROOT, "target", "bench-smoke") : join(BENCH, "results");

const CONFIG = SMOKE
  ? {
      mode: "smoke",
      calls: 2_000,
      warmup: 200,
      callReps: 1,
      e2eEvents: 1_000,
      e2eReps: 1,
      coldReps: 1,
      workerdSizes: [500, 1_000],
      workerdReps: 1,
      workerdWarmup: 100,
    }
  : {
      mode: "full",
      calls: 100_000,
      warmup: 5_000,
      callReps: 3,
      e2eEvents: 20_000,
      e2eReps: 5,
      coldReps: 20,
      workerdSizes: [5_000, 20_000],
      workerdReps: 3,
      workerdWarmup: 200,
    };
CONFIG.batch = BATCH;

/** The track() call phase: every SDK and floor, and intempt-edge with an identity beforeSend (its cost per call, same run). */
const CALL_NAMES = [...SDK_NAMES, "intempt-edge (beforeSend)", ...FLOOR_NAMES];
const rotate = (list, k) => list.map((_, i) => list[(i + k) % list.length]);
const log = (...parts) => process.stderr.write(parts.join(" ") + "\n");

// ---- checks: every failure is listed and fails the run, unless it is a known peer limitation
const checks = [];
function check(ok, what, detail = "", { known = false } = {}) {
  checks.push({ ok, what, detail, known });
  if (!ok) log(`  ${known ? "KNOWN" : "FAIL"}: ${what}${detail ? ` — ${detail}` : ""}`);
}

// ---- children -------------------------------------------------------------------
const CHILD_ENV = { ...process.env, BENCH_MODULES: JSON.stringify(moduleUrls()) };
/** Bun (the repo's tools install it); the Bun e2e rows run measure.mjs under it. */
const BUN = join(ROOT, "node_modules", ".bin", "bun");
let bunEnv;
const bunChildEnv = () => (bunEnv ??= { ...process.env, BENCH_MODULES: JSON.stringify(bunModuleUrls(BUN)) });

function spawnNode(nodeArgs, { timeoutMs = 180_000, runtime = "node" } = {}) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const [command, env] = runtime === "bun" ? [BUN, bunChildEnv()] : [process.execPath, CHILD_ENV];
    const child = spawn(command, nodeArgs, { cwd: BENCH, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, wallMs: performance.now() - t0 });
    });
  });
}

/** The telling line of a child's stderr: its first error line, else its last lines. */
function errorSummary(text) {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !/^Node\.js v/.test(l));
  return lines.find((l) => /(^|\w)Error\b|^error:/i.test(l)) ?? lines.slice(-2).join(" | ");
}

async function measureChild(modeArgs, runtime = "node") {
  const r = await spawnNode(["measure.mjs", ...modeArgs.map(String)], { runtime });
  const line = r.stdout.split("\n").find((l) => l.startsWith(RESULT_PREFIX));
  const result = line ? JSON.parse(line.slice(RESULT_PREFIX.length)) : null;
  const error = r.code === 0 && result ? null : `exit ${r.code ?? r.signal}: ${errorSummary(r.stderr || r.stdout)}`;
  return { result, error, wallMs: r.wallMs };
}

// ---- phases ----------------------------------------------------------------------

async function phaseCalls(sink) {
  const runs = Object.fromEntries(CALL_NAMES.map((n) => [n, []]));
  for (let rep = 0; rep < CONFIG.callReps; rep++) {
    for (const name of rotate(CALL_NAMES, rep)) {
      sink.reset();
      const { result, error, wallMs } = await measureChild(["calls", name, CONFIG.calls, CONFIG.warmup, sink.url]);
      const c = sink.counters();
      const expected = SDKS[name].kind === "floor" ? 0 : CONFIG.calls + CONFIG.warmup;
      const what = `track() calls: ${name}, rep ${rep + 1}`;
      if (error) {
        check(false, what, error);
        continue;
      }
      check(c.events === expected && c.badBodies === 0, what + ": every event at the sink", `${c.events}/${expected} events, ${c.badBodies} unreadable bodies`);
      check(
        !result.failed && (result.reported === undefined || result.reported === CONFIG.calls),
        what + ": the SDK's own account",
        JSON.stringify({ reported: result.reported, failed: result.failed }),
      );
      runs[name].push({ ...result, sinkEvents: c.events, sinkRequests: c.requests });
      log(
        `calls  rep ${rep + 1}/${CONFIG.callReps}  ${short(name).padEnd(18)} bare ${fmt(result.bareUsPerCall)} µs  incl ${fmt(result.inclUsPerCall)} µs  cpu ${fmt(result.cpuUsPerCall)} µs  (${(wallMs / 1000).toFixed(1)} s)`,
      );
    }
  }
  return Object.fromEntries(
    CALL_NAMES.map((n) => [
      n,
      {
        bareUsPerCall: summarize(runs[n].map((r) => r.bareUsPerCall)),
        inclUsPerCall: summarize(runs[n].map((r) => r.inclUsPerCall)),
        cpuUsPerCall: summarize(runs[n].map((r) => r.cpuUsPerCall)),
        runs: runs[n],
      },
    ]),
  );
}

/**
 * The e2e columns per runtime: in Node every SDK, intempt-edge with the
 * global fetch, and the references; in Bun intempt-edge (its Bun entry),
 * intempt-edge on its Node entry's node:http transport, and the references.
 */
const E2E_NAMES = {
  node: [...SDK_NAMES, "intempt-edge (fetch)", "intempt-edge (outbox)", "intempt-edge (beforeSend)", ...REF_NAMES],
  bun: ["intempt-edge", "intempt-edge (node:http)", ...REF_NAMES],
};

async function phaseE2e(sink, runtime = "node") {
  if (runtime === "bun" && !existsSync(BUN)) {
    check(false, "e2e (Bun): bun is installed", `${BUN} is missing: run scripts/setup.sh`);
    return null;
  }
  const names = runtime === "node" ? [...E2E_NAMES.node, "none"] : E2E_NAMES.bun;
  const runs = Object.fromEntries(names.map((n) => [n, []]));
  const n = CONFIG.e2eEvents;
  for (let rep = 0; rep < CONFIG.e2eReps; rep++) {
    for (const name of rotate(names, rep)) {
      sink.reset();
      const { result, error, wallMs } = await measureChild(["e2e", name, n, sink.url], runtime);
      const c = sink.counters();
      const what = `e2e ${n} events (${runtime === "bun" ? "Bun" : "Node"}): ${name === "none" ? "bare baseline" : name}, rep ${rep + 1}`;
      if (error) {
        check(false, what, error);
        continue;
      }
      if (name !== "none") {
        check(c.events === n && c.badBodies === 0, what + ": every event at the sink", `${c.events}/${n} events, ${c.badBodies} unreadable bodies`);
        check(
          !result.failed && (result.reported === undefined || result.reported === n),
          what + ": the SDK's own account",
          JSON.stringify({ reported: result.reported, failed: result.failed }),
        );
      }
      runs[name].push({ ...result, requests: c.requests, bodyBytes: c.bodyBytes, decodedBytes: c.decodedBytes, delivered: c.events, paths: c.paths });
      log(
        `e2e${runtime === "bun" ? " bun" : "    "} rep ${rep + 1}/${CONFIG.e2eReps}  ${short(name).padEnd(18)} ${name === "none" ? "" : `wall ${fmt(result.wallUsPerEvent)} µs/ev  cpu ${fmt(result.cpuUsPerEvent)} µs/ev  ${c.requests} req  `}maxRSS ${(result.maxRssKB / 1024).toFixed(1)} MiB  (${(wallMs / 1000).toFixed(1)} s)`,
      );
    }
  }
  const baselineKB = runs.none && summarize(runs.none.map((r) => r.maxRssKB));
  const out = { baseline: { maxRssMiB: baselineKB && summarize(runs.none.map((r) => r.maxRssKB / 1024)) } };
  for (const name of names.filter((x) => x !== "none")) {
    const rs = runs[name];
    const pick = (f) => summarize(rs.map(f));
    out[name] = {
      wallUsPerEvent: pick((r) => r.wallUsPerEvent),
      cpuUsPerEvent: pick((r) => r.cpuUsPerEvent),
      wallMs: pick((r) => r.wallMs),
      requests: pick((r) => r.requests),
      bodyBytesPerEvent: pick((r) => r.bodyBytes / n),
      decodedBytesPerEvent: pick((r) => r.decodedBytes / n),
      delivered: pick((r) => r.delivered),
      reported: rs.some((r) => r.reported !== undefined) ? pick((r) => r.reported) : null,
      maxRssMiB: pick((r) => r.maxRssKB / 1024),
      peakMemoryOverBaselineMiB: baselineKB ? pick((r) => (r.maxRssKB - baselineKB.median) / 1024) : null,
      paths: rs[0]?.paths ?? {},
      runs: rs,
    };
  }
  return out;
}

async function phaseCold(sink) {
  const urls = moduleUrls();
  const names = ["bare", ...SDK_NAMES];
  const probe = (name) =>
    name === "bare"
      ? ["-e", "0"]
      : [
          "--input-type=module",
          "-e",
          `const t0 = performance.now(); ${SDKS[name].cold(urls[name], sink.url)} process.stdout.write(String(performance.now() - t0)); process.exit(0);`,
        ];
  const runs = Object.fromEntries(names.map((n) => [n, []]));
  // One untimed round first: the files are then in the page cache for every SDK alike.
  for (const name of names) await spawnNode(probe(name));
  for (let rep = 0; rep < CONFIG.coldReps; rep++) {
    for (const name of rotate(names, rep)) {
      const r = await spawnNode(probe(name), { timeoutMs: 30_000 });
      const ok = r.code === 0;
      if (!ok) check(false, `cold start: ${name}, rep ${rep + 1}`, `exit ${r.code ?? r.signal}: ${errorSummary(r.stderr)}`);
      else runs[name].push({ wallMs: r.wallMs, importConstructMs: name === "bare" ? null : Number(r.stdout) });
    }
  }
  const base = summarize(runs.bare.map((r) => r.wallMs));
  const out = { bare: { wallMs: base } };
  for (const name of SDK_NAMES) {
    out[name] = {
      wallMs: summarize(runs[name].map((r) => r.wallMs)),
      overBareMs: base ? summarize(runs[name].map((r) => r.wallMs - base.median)) : null,
      importConstructMs: summarize(runs[name].map((r) => r.importConstructMs)),
    };
    log(
      `cold   ${short(name).padEnd(18)} ${fmt(out[name].wallMs?.median)} ms (bare node ${fmt(base?.median)} ms): +${fmt(out[name].overBareMs?.median)} ms; import+construct in-process ${fmt(out[name].importConstructMs?.median)} ms`,
    );
  }
  return out;
}

async function phaseWorkerd(sink) {
  const outDir = join(ROOT, "target", "bench-workers");
  const bundles = await bundleWorkers(outDir);
  const workers = await startWorkers(bundles, outDir);
  const runs = {};
  try {
    check(Number.isFinite(workers.pid), "workerd: its process was found (for CPU time)", `pid ${workers.pid}`);
    for (const sdk of WORKERD_NAMES) await runInWorkerd(workers, sdk, CONFIG.workerdWarmup, sink.url); // compile and warm each Worker
    for (let rep = 0; rep < CONFIG.workerdReps; rep++) {
      for (const n of CONFIG.workerdSizes) {
        for (const sdk of rotate(WORKERD_NAMES, rep)) {
          sink.reset();
          const r = await runInWorkerd(workers, sdk, n, sink.url);
          const c = sink.counters();
          const w = r.worker;
          const what = `workerd ${n} events in one request: ${sdk}, rep ${rep + 1}`;
          // Segment's per-event timers stop it at ~10,000 events in one request (a known limitation).
          const known = sdk === "@segment/analytics-node" && n > 10_000;
          check(!w.error, what + ": the Worker answered", w.error ?? "");
          check(c.events === n && c.badBodies === 0, what + ": every event at the sink", `${c.events}/${n} events, ${c.badBodies} unreadable bodies`, {
            known,
          });
          if (sdk === "intempt-edge") {
            check(
              w.reported === n && w.refused === 0 && w.report && !w.report.timedOut,
              what + ": the SDK's own account",
              `stats().delivered ${w.reported}, refused ${w.refused}, flush() ${JSON.stringify(w.report)}`,
            );
          } else if (sdk === "@segment/analytics-node") {
            check(w.errors === 0, what + ": no delivery errors", `${w.errors} error events`, { known });
          } else if (sdk === "reference: fetch") {
            check(w.delivered === n, what + ": its own account (2xx responses)", `${w.delivered}/${n} events`);
          }
          runs[n] ??= {};
          runs[n][sdk] ??= [];
          runs[n][sdk].push({
            rep,
            wallMs: r.wallMs,
            cpuMs: r.cpuMs,
            wallUsPerEvent: r.wallUsPerEvent,
            cpuUsPerEvent: r.cpuUsPerEvent,
            callUsPerEvent: r.callUsPerEvent,
            delivered: c.events,
            requests: c.requests,
            bodyBytes: c.bodyBytes,
            worker: w,
          });
          log(
            `workerd rep ${rep + 1}/${CONFIG.workerdReps} ${String(n).padStart(6)}  ${short(sdk).padEnd(14)} wall ${fmt(r.wallUsPerEvent)} µs/ev  cpu ${fmt(r.cpuUsPerEvent)} µs/ev  calls ${fmt(r.callUsPerEvent)} µs/ev  ${c.events}/${n} delivered in ${c.requests} req`,
          );
        }
      }
    }
  } finally {
    await workers.mf.dispose();
  }
  const out = {};
  for (const n of CONFIG.workerdSizes) {
    out[n] = {};
    // Each SDK's CPU and per-call time over the reference's in the same repetition.
    const ref = (rep) => runs[n]?.["reference: fetch"]?.find((r) => r.rep === rep);
    const over = (r, key) => (ref(r.rep) && r[key] > 0 && ref(r.rep)[key] > 0 ? r[key] / ref(r.rep)[key] : null);
    for (const sdk of WORKERD_NAMES) {
      const rs = runs[n]?.[sdk] ?? [];
      const pick = (f) => summarize(rs.map(f));
      const timedOut = rs.filter((r) => r.worker?.report?.timedOut).length;
      const shortRuns = rs.filter((r) => r.delivered < n).length;
      out[n][sdk] = {
        wallUsPerEvent: pick((r) => r.wallUsPerEvent),
        cpuUsPerEvent: pick((r) => r.cpuUsPerEvent),
        callUsPerEvent: pick((r) => r.callUsPerEvent),
        cpuOverReference: pick((r) => over(r, "cpuUsPerEvent")),
        callOverReference: pick((r) => over(r, "callUsPerEvent")),
        wallMs: pick((r) => r.wallMs),
        delivered: pick((r) => r.delivered),
        reported: sdk === "intempt-edge" ? pick((r) => r.worker?.reported) : null,
        requests: pick((r) => r.requests),
        // What the chart notes beside the bars: runs that lost events or whose flush hit its deadline.
        note: [shortRuns && `${shortRuns}/${rs.length} runs short of ${n}`, timedOut && `flush() timed out in ${timedOut}/${rs.length} runs`]
          .filter(Boolean)
          .join("; "),
        runs: rs,
      };
    }
  }
  return out;
}

// ---- main ---------------------------------------------------------------------------

/** Runs every phase; returns the results (checks recorded in `checks`). */
async function measureAll() {
  const started = performance.now();
  log(`bench: ${CONFIG.mode} run; results into ${relative(ROOT, OUT) || "."}`);
  const sink = await startSink();
  const results = { date: new Date().toISOString(), config: CONFIG, machine: machine(), versions: versions() };
  /** @type {[string, () => Promise<unknown>][]} */
  const phases = [
    ["calls", () => phaseCalls(sink)],
    ["e2e", () => phaseE2e(sink)],
    ["e2eBun", () => phaseE2e(sink, "bun")],
    ["cold", () => phaseCold(sink)],
    ["workerd", () => phaseWorkerd(sink)],
    ["sizes", () => measureSizes()],
  ];
  try {
    for (const [name, phase] of phases) {
      const t0 = performance.now();
      log(`\n== ${name}`);
      try {
        results[name] = await phase();
      } catch (error) {
        check(false, `phase ${name}`, error.stack ?? String(error));
        results[name] = null;
      }
      log(`== ${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
  } finally {
    await sink.close();
  }
  results.durationS = +((performance.now() - started) / 1000).toFixed(1);
  return results;
}

// --render: rewrite RESULTS.md and chart.svg (and print the table) from an existing results.json.
const results = RENDER ? JSON.parse(readFileSync(join(OUT, "results.json"), "utf8")) : await measureAll();
let rows = [];
try {
  rows = buildRows(results);
} catch (error) {
  check(false, "results table", error.stack ?? String(error));
}
if (!RENDER) {
  results.targets = rows
    .filter((r) => r.target)
    .map((r) => ({ section: r.section, metric: r.metric, target: r.target, intempt: r.cells["intempt-edge"]?.median ?? null, pass: r.pass }));
  results.checks = {
    passed: checks.filter((c) => c.ok).length,
    failed: checks.filter((c) => !c.ok && !c.known),
    known: checks.filter((c) => !c.ok && c.known),
  };
}
const { failed, known } = results.checks;

mkdirSync(OUT, { recursive: true });
if (!RENDER) writeFileSync(join(OUT, "results.json"), JSON.stringify(results, null, 2) + "\n");
if (rows.length) {
  const m = results.machine;
  const subtitle = `${m.nproc} × ${m.cpuModel}, node ${results.versions.node}; median, min–max over repetitions; ${results.config.mode} run ${results.date.slice(0, 10)}`;
  writeFileSync(
    join(OUT, "chart.svg"),
    renderChart(chartPanels(rows, results.config), { title: "intempt-edge vs posthog-node vs @segment/analytics-node (lower is better)", subtitle }),
  );
  writeFileSync(join(OUT, "RESULTS.md"), resultsMarkdown(results, rows, failed, known));
}

console.log(
  `\nintempt-edge benchmark (${results.config.mode}): ${results.machine.nproc} × ${results.machine.cpuModel}, ${results.machine.memoryGiB} GiB; node ${results.versions.node}; ` +
    SDK_NAMES.map((n) => `${n} ${results.versions[n]}`).join(", "),
);
console.log("median (min–max) over repetitions; lower is better\n");
if (rows.length) console.log(textTable(rows));
console.log(`\nchecks: ${results.checks.passed} passed, ${failed.length} failed${known.length ? `, ${known.length} known peer limitations` : ""}`);
for (const c of known) console.log(`  known: ${c.what}: ${c.detail}`);
for (const c of failed) console.log(`  FAILED: ${c.what}: ${c.detail}`);
console.log(
  `results: ${relative(ROOT, join(OUT, "results.json"))}, ${relative(ROOT, join(OUT, "RESULTS.md"))}, ${relative(ROOT, join(OUT, "chart.svg"))} (${results.durationS} s)`,
);
process.exit(failed.length || checks.some((c) => !c.ok && !c.known) ? 1 : 0);
