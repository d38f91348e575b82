// Profiles intempt-edge's track(): 200,000 calls (the same loop as the
// benchmark: chunks of 200, a yield between, then flush(), delivering to the
// local sink, which runs in this parent process and so is not in the
// profile) in a child under `node --cpu-prof`, then prints the top self-time
// functions of the whole child and of the samples taken inside an SDK.track()
// call. The .cpuprofile is parsed here: self time per callFrame
// (functionName + url), from samples/timeDeltas.
//
//   node bench/profile.mjs [calls] [top]     (bench/profile.sh installs first)
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { fmt } from "./chart.mjs";
import { RESULT_PREFIX } from "./measure.mjs";
import { BENCH, ROOT, moduleUrls } from "./sdks.mjs";
import { startSink } from "./sink.mjs";

const CALLS = Number(process.argv[2] ?? 200_000);
const TOP = Number(process.argv[3] ?? 25);
const DIR = join(ROOT, "target", "bench-profile");

/**
 * Self time (ms) per frame key, over all samples or those for which `keep(stack)` holds.
 * @param {any} profile a parsed .cpuprofile
 * @param {(stack: any[]) => boolean} [keep] given the sample's call frames, innermost first
 */
export function selfTimes(profile, keep = () => true) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stackOf = (id) => {
    const frames = [];
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) frames.push(byId.get(cur).callFrame);
    return frames;
  };
  const keepCache = new Map();
  const times = new Map();
  let total = 0;
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    // The time of sample i lasts until the next sample (timeDeltas[i + 1]).
    const dt =
      (i + 1 < timeDeltas.length ? timeDeltas[i + 1] : profile.endTime - (profile.startTime + timeDeltas.slice(0, i + 1).reduce((a, b) => a + b, 0))) / 1000;
    const id = samples[i];
    if (!keepCache.has(id)) keepCache.set(id, keep(stackOf(id)));
    if (!keepCache.get(id)) continue;
    const f = byId.get(id).callFrame;
    const file = f.url ? (f.url.startsWith("wasm://") ? "wasm:" : "") + basename(f.url) : "";
    const key = `${f.functionName || "(anonymous)"}\t${file}`;
    times.set(key, (times.get(key) ?? 0) + Math.max(0, dt));
    total += Math.max(0, dt);
  }
  const rows = [...times.entries()].map(([key, ms]) => {
    const [fn, file] = key.split("\t");
    return { fn, file, ms };
  });
  rows.sort((a, b) => b.ms - a.ms);
  return { rows, total };
}

function print(title, { rows, total }, of) {
  console.log(`\n${title}: ${fmt(total)} ms${of ? ` (${((100 * total) / of).toFixed(1)}% of the profile)` : ""}`);
  console.log(`${"#".padStart(3)}  ${"self ms".padStart(9)}  ${"%".padStart(6)}  function  (file)`);
  rows.slice(0, TOP).forEach((r, i) => {
    console.log(
      `${String(i + 1).padStart(3)}  ${r.ms.toFixed(1).padStart(9)}  ${((100 * r.ms) / total).toFixed(1).padStart(6)}  ${r.fn}${r.file ? `  (${r.file})` : ""}`,
    );
  });
}

// SDK.track: sdk.js is bundled into node.js (scripts/build.sh); methods keep their names.
const insideTrack = (stack) => stack.some((f) => f.functionName === "track" && /\/(node|sdk)\.js$/.test(f.url));

// bench/profile.sh --names points this at a profiling build whose wasm keeps its names.
const modules = moduleUrls();
if (process.env.BENCH_PROFILE_INTEMPT) modules["intempt-edge"] = pathToFileURL(process.env.BENCH_PROFILE_INTEMPT).href;

rmSync(DIR, { recursive: true, force: true });
mkdirSync(DIR, { recursive: true });
const sink = await startSink();
const child = spawn(
  process.execPath,
  ["--cpu-prof", "--cpu-prof-dir", DIR, join(BENCH, "measure.mjs"), "calls", "intempt-edge", String(CALLS), "0", sink.url],
  {
    env: { ...process.env, BENCH_MODULES: JSON.stringify(modules) },
    stdio: ["ignore", "pipe", "inherit"],
  },
);
let stdout = "";
child.stdout.on("data", (d) => (stdout += d));
const code = await new Promise((resolve) => child.on("close", resolve));
const counters = sink.counters();
await sink.close();
if (code !== 0) {
  console.error(`profile: the profiled run failed (exit ${code})`);
  process.exit(1);
}
const line = stdout.split("\n").find((l) => l.startsWith(RESULT_PREFIX));
const result = JSON.parse(line.slice(RESULT_PREFIX.length));
const file = readdirSync(DIR)
  .filter((f) => f.endsWith(".cpuprofile"))
  .map((f) => join(DIR, f))
  .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
const profile = JSON.parse(readFileSync(file, "utf8"));

console.log(`intempt-edge track() x ${CALLS.toLocaleString("en")} under node ${process.version} --cpu-prof`);
console.log(
  `bare ${fmt(result.bareUsPerCall)} µs/call, incl. delivery ${fmt(result.inclUsPerCall)} µs/call, CPU ${fmt(result.cpuUsPerCall)} µs/call; ` +
    `sink: ${counters.events}/${CALLS} events in ${counters.requests} requests (profiling slows every call)`,
);
console.log(`module: ${relative(ROOT, new URL(modules["intempt-edge"]).pathname)}; profile: ${relative(ROOT, file)}`);
const all = selfTimes(profile);
print(`Top ${TOP} self-time functions, whole run (calls + delivery + flush)`, all);
print(`Top ${TOP} self-time functions inside SDK.track() calls`, selfTimes(profile, insideTrack), all.total);

// Where the whole run went, by file (wasm = every wasm function; "" = V8/runtime entries such as GC).
const byFile = new Map();
for (const r of all.rows) {
  const key = r.file.startsWith("wasm:") ? "wasm (every wasm function)" : r.file || r.fn;
  byFile.set(key, (byFile.get(key) ?? 0) + r.ms);
}
console.log(`\nSelf time by file, whole run (top 12):`);
[...byFile.entries()]
  .sort((a, b) => b[1] - a[1])
  .slice(0, 12)
  .forEach(([k, ms]) => {
    console.log(`  ${ms.toFixed(1).padStart(9)} ms  ${((100 * ms) / all.total).toFixed(1).padStart(5)}%  ${k}`);
  });
if (counters.events !== CALLS) {
  console.error(`profile: ${counters.events}/${CALLS} events arrived`);
  process.exit(1);
}
