// What a run's results say: the machine and versions, the rows of the table
// (each metric per SDK, its target and pass/miss), the printed table, the
// RESULTS.md text and the chart's panels.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fmt } from "./chart.mjs";
import { BATCH, BENCH, FLOOR_NAMES, REFERENCE, REF_NAMES, ROOT, SDK_NAMES, VARIANT_NAMES, versionOf } from "./sdks.mjs";
import { WORKERD_NAMES, WORKERD_REFS } from "./workerd.mjs";

const SHORT = {
  "@segment/analytics-node": "segment",
  "floor: JSON.stringify": "floor: stringify",
  "intempt-edge (fetch)": "intempt (fetch)",
  "intempt-edge (node:http)": "intempt (node:http)",
  "intempt-edge (outbox)": "intempt (outbox)",
  "intempt-edge (beforeSend)": "intempt (beforeSend)",
};
/** A column's short name. */
export const short = (name) => SHORT[name] ?? name;
const COLUMNS = [...SDK_NAMES, ...VARIANT_NAMES, ...FLOOR_NAMES, ...REF_NAMES];
COLUMNS.push(...WORKERD_REFS); // the workerd reference's column
/** Node's e2e targets, as ratios to the node:http reference measured in the same run. */
const REF_TARGET = 1.25;

// ---- machine and versions ---------------------------------------------------------

export function machine() {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? "unknown";
  let nproc = os.availableParallelism?.() ?? os.cpus().length;
  try {
    nproc = Number(execFileSync("nproc", { encoding: "utf8" }).trim());
  } catch {
    // keep Node's count
  }
  return { nproc, cpuModel: model, memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1), os: `${os.type()} ${os.release()} ${os.arch()}` };
}

function toolVersion(pkg) {
  try {
    return JSON.parse(readFileSync(join(ROOT, "node_modules", pkg, "package.json"), "utf8")).version;
  } catch {
    return null;
  }
}

export function versions() {
  const v = { node: process.version };
  for (const name of SDK_NAMES) v[name] = versionOf(name);
  try {
    v["@posthog/core"] = JSON.parse(readFileSync(join(BENCH, "node_modules", "@posthog", "core", "package.json"), "utf8")).version;
  } catch {
    // not installed
  }
  for (const tool of ["workerd", "miniflare", "esbuild"]) v[tool] = toolVersion(tool);
  try {
    // bench/setup.sh stamps the scratch app with the installed tarball's sha256.
    v["intempt-edge tarball sha256"] = readFileSync(join(ROOT, "target", "bench-app", ".bench-stamp"), "utf8")
      .trim()
      .slice(0, 16);
  } catch {
    // not installed through bench/setup.sh
  }
  return v;
}

// ---- the table ----------------------------------------------------------------------

const cell = (s, digits) => {
  if (s === null || s === undefined) return "–";
  if (typeof s === "string") return s;
  const f = digits !== undefined ? (x) => x.toFixed(digits) : fmt;
  return s.n > 1 && s.max > s.min ? `${f(s.median)} (${f(s.min)}–${f(s.max)})` : f(s.median);
};
const KB = (bytes) => ({ median: bytes / 1024, n: 1 });

/** Builds the rows; each is { section, metric, unit, cells: {column: summary|string}, target, pass }. */
export function buildRows(r) {
  const CONFIG = r.config;
  const rows = [];
  const ie = "intempt-edge";
  const peers = SDK_NAMES.filter((n) => n !== ie);
  const med = (s) => (s && Number.isFinite(s.median) ? s.median : null);
  const atMost = (limit) => (cells) => (med(cells[ie]) === null ? null : med(cells[ie]) <= limit);
  const belowPeers = (cells) => {
    const mine = med(cells[ie]);
    const theirs = peers.map((p) => med(cells[p])).filter((x) => x !== null);
    return mine === null || theirs.length === 0 ? null : theirs.every((x) => mine < x);
  };
  const equals = (want) => (cells) => (cells[ie] ? cells[ie].min === want && cells[ie].max === want : null);
  const add = (section, metric, unit, cells, target = "", judge = null, notes = {}) =>
    rows.push({
      section,
      metric,
      unit,
      cells,
      target,
      pass: judge ? judge(cells) : null,
      digits: /^(requests|events delivered)/.test(metric) ? 0 : undefined,
      notes,
    });
  const per = (obj, key) => Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, v?.[key] ?? null]));

  if (r.calls) {
    const calls = r.calls;
    add("track()", `per call incl. delivery (${CONFIG.calls.toLocaleString("en")} calls)`, "µs", per(calls, "inclUsPerCall"), "≤ 2.5", atMost(2.5));
    add("track()", "bare call", "µs", per(calls, "bareUsPerCall"), "≤ 2.5", atMost(2.5));
    add("track()", "CPU per call incl. delivery", "µs", per(calls, "cpuUsPerCall"));
    // An identity beforeSend against none, same run: what the hook path costs per call.
    const hooked = "intempt-edge (beforeSend)";
    const hookCost = (key) => {
      const [mine, base] = [med(calls[hooked]?.[key]), med(calls[ie]?.[key])];
      return mine === null || base === null ? {} : { [hooked]: { median: mine - base, n: 1 } };
    };
    add("track()", "bare call: with beforeSend − without", "µs", hookCost("bareUsPerCall"));
    add("track()", "CPU per call: with beforeSend − without", "µs", hookCost("cpuUsPerCall"));
  }

  // The median of each column over the reference's median.
  const ratioCells = (cells, ref) =>
    Object.fromEntries(
      Object.entries(cells).map(([k, v]) => [k, med(v) === null || med(cells[ref]) === null ? null : { median: med(v) / med(cells[ref]), n: 1 }]),
    );

  if (r.e2e) {
    const e = r.e2e;
    const n = CONFIG.e2eEvents;
    const sdkCells = (key) => Object.fromEntries(COLUMNS.filter((s) => e[s]).map((s) => [s, e[s]?.[key] ?? null]));
    add(`Node e2e, ${n.toLocaleString("en")} events`, "wall per event", "µs", sdkCells("wallUsPerEvent"), "< every peer", belowPeers);
    add(`Node e2e, ${n.toLocaleString("en")} events`, "CPU per event", "µs", sdkCells("cpuUsPerEvent"), "< every peer", belowPeers);
    add(
      `Node e2e, ${n.toLocaleString("en")} events`,
      `CPU per event ÷ ${REFERENCE}`,
      "×",
      ratioCells(sdkCells("cpuUsPerEvent"), REFERENCE),
      `≤ ${REF_TARGET}`,
      atMost(REF_TARGET),
    );
    add(
      `Node e2e, ${n.toLocaleString("en")} events`,
      `wall ÷ ${REFERENCE}`,
      "×",
      ratioCells(sdkCells("wallUsPerEvent"), REFERENCE),
      `≤ ${REF_TARGET}`,
      atMost(REF_TARGET),
    );
    // The outbox's cost while the API is up: the same package with and without one, same run.
    const outboxRatio = (key) => {
      const cell = ratioCells(sdkCells(key), "intempt-edge")["intempt-edge (outbox)"];
      return cell ? { "intempt-edge (outbox)": cell } : {};
    };
    add(`Node e2e, ${n.toLocaleString("en")} events`, "CPU per event ÷ intempt-edge without outbox", "×", outboxRatio("cpuUsPerEvent"));
    add(`Node e2e, ${n.toLocaleString("en")} events`, "wall ÷ intempt-edge without outbox", "×", outboxRatio("wallUsPerEvent"));
    const hookRatio = (key) => {
      const cell = ratioCells(sdkCells(key), "intempt-edge")["intempt-edge (beforeSend)"];
      return cell ? { "intempt-edge (beforeSend)": cell } : {};
    };
    add(`Node e2e, ${n.toLocaleString("en")} events`, "CPU per event ÷ intempt-edge without beforeSend", "×", hookRatio("cpuUsPerEvent"));
    add(`Node e2e, ${n.toLocaleString("en")} events`, "requests", "", sdkCells("requests"), `= ${Math.ceil(n / BATCH)}`, equals(Math.ceil(n / BATCH)));
    add(`Node e2e, ${n.toLocaleString("en")} events`, "events delivered (sink)", "", sdkCells("delivered"), `= ${n}`, equals(n));
    add(`Node e2e, ${n.toLocaleString("en")} events`, "events delivered per the SDK (stats().delivered)", "", sdkCells("reported"), `= ${n}`, equals(n));
    add(`Node e2e, ${n.toLocaleString("en")} events`, "body bytes per event (wire)", "B", sdkCells("bodyBytesPerEvent"));
    add(
      `Node e2e, ${n.toLocaleString("en")} events`,
      "peak memory over bare baseline",
      "MiB",
      sdkCells("peakMemoryOverBaselineMiB"),
      "< every peer",
      belowPeers,
    );
  }

  if (r.e2eBun) {
    const e = r.e2eBun;
    const section = `Bun e2e, ${CONFIG.e2eEvents.toLocaleString("en")} events`;
    const bunCells = (key) => Object.fromEntries(COLUMNS.filter((s) => e[s]).map((s) => [s, e[s]?.[key] ?? null]));
    add(section, "wall per event", "µs", bunCells("wallUsPerEvent"));
    add(section, "CPU per event", "µs", bunCells("cpuUsPerEvent"));
    for (const ref of REF_NAMES) {
      add(section, `CPU per event ÷ ${ref}`, "×", ratioCells(bunCells("cpuUsPerEvent"), ref));
      add(section, `wall ÷ ${ref}`, "×", ratioCells(bunCells("wallUsPerEvent"), ref));
    }
    add(section, "requests", "", bunCells("requests"), `= ${Math.ceil(CONFIG.e2eEvents / BATCH)}`, equals(Math.ceil(CONFIG.e2eEvents / BATCH)));
    add(section, "events delivered (sink)", "", bunCells("delivered"), `= ${CONFIG.e2eEvents}`, equals(CONFIG.e2eEvents));
  }

  for (const size of r.workerd ? CONFIG.workerdSizes : []) {
    const w = r.workerd[size];
    const wc = (key) => Object.fromEntries(WORKERD_NAMES.map((s) => [s, w?.[s]?.[key] ?? null]));
    const section = `workerd, ${size.toLocaleString("en")} events in one request`;
    const notes = Object.fromEntries(WORKERD_NAMES.map((sdk) => [sdk, w?.[sdk]?.note ?? ""]));
    add(section, "wall per event", "µs", wc("wallUsPerEvent"), "< every peer", belowPeers, notes);
    add(section, "CPU per event (workerd process)", "µs", wc("cpuUsPerEvent"), "< every peer", belowPeers, notes);
    add(section, "CPU per event ÷ the fetch reference's (same repetition)", "×", wc("cpuOverReference"), "≤ 1.25", atMost(1.25));
    add(section, "per call, inside the Worker (its clock around the loop)", "µs", wc("callUsPerEvent"));
    add(section, "per call ÷ the fetch reference's (same repetition)", "×", wc("callOverReference"), "≤ 1", atMost(1));
    add(section, "requests", "", wc("requests"), `= ${Math.ceil(size / BATCH)}`, equals(Math.ceil(size / BATCH)));
    add(section, "events delivered (sink)", "", wc("delivered"), `= ${size}`, equals(size));
    add(section, "events delivered per the SDK (stats().delivered)", "", wc("reported"), `= ${size}`, equals(size));
  }

  if (r.cold) {
    const c = r.cold;
    const cc = (key) => Object.fromEntries(SDK_NAMES.map((s) => [s, c[s]?.[key] ?? null]));
    add("cold start", `import + instantiate + construct, over bare node (${fmt(c.bare.wallMs?.median)} ms)`, "ms", cc("overBareMs"), "≤ 10", atMost(10));
    add("cold start", "import + construct, timed in-process", "ms", cc("importConstructMs"));
  }

  if (r.sizes) {
    const s = r.sizes;
    const sizeCells = (kind) => ({ [ie]: KB(s[ie].shipped.total[kind]), ...Object.fromEntries(peers.map((p) => [p, KB(s[p].bundle.total[kind])])) });
    add("size (wasm + Worker JS)", "gzip", "KB", sizeCells("gzip"), "≤ 40", atMost(40));
    add("size (wasm + Worker JS)", "brotli", "KB", sizeCells("brotli"));
    add("size (wasm + Worker JS)", "raw", "KB", sizeCells("raw"));
    add(
      "size (wasm + Worker JS)",
      "gzip, every SDK esbuild-bundled + minified",
      "KB",
      Object.fromEntries(SDK_NAMES.map((p) => [p, KB(s[p].bundle.total.gzip)])),
    );
  }
  return rows;
}

const verdict = (p) => (p === null ? "" : p ? "pass" : "MISS");

export function textTable(rows) {
  const header = ["metric", ...COLUMNS.map(short), "target", "result"];
  const lines = [];
  let section = null;
  const body = [];
  for (const row of rows) {
    if (row.section !== section) {
      section = row.section;
      body.push({ section });
    }
    body.push([`  ${row.metric}${row.unit ? ` [${row.unit}]` : ""}`, ...COLUMNS.map((col) => cell(row.cells[col], row.digits)), row.target, verdict(row.pass)]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...body.filter(Array.isArray).map((b) => b[i].length)));
  const fmtRow = (cols) => cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  lines.push(fmtRow(header));
  lines.push(widths.map((w) => "-".repeat(w)).join("  "));
  for (const b of body) lines.push(Array.isArray(b) ? fmtRow(b) : b.section);
  return lines.join("\n");
}

function markdownTable(rows) {
  const header = ["", "metric", ...COLUMNS.map(short), "target", "result"];
  const lines = [`| ${header.join(" | ")} |`, `|${header.map((_, i) => (i < 2 ? "---" : "---:")).join("|")}|`];
  for (const row of rows) {
    lines.push(
      `| ${row.section} | ${row.metric}${row.unit ? ` (${row.unit})` : ""} | ${COLUMNS.map((c) => cell(row.cells[c], row.digits)).join(" | ")} | ${row.target} | ${verdict(row.pass) === "MISS" ? "**miss**" : verdict(row.pass)} |`,
    );
  }
  return lines.join("\n");
}

export function chartPanels(rows, CONFIG) {
  const pick = (section, metricStart) => rows.find((r) => r.section.startsWith(section) && r.metric.startsWith(metricStart));
  const panel = (title, row, target) =>
    row && {
      title,
      unit: row.unit,
      target,
      bars: COLUMNS.filter((c) => row.cells[c] && Number.isFinite(row.cells[c].median)).map((c) => ({
        label: c,
        ...row.cells[c],
        note: row.notes[c] ? `(${row.notes[c]})` : "",
      })),
    };
  const panels = [
    panel("track(): per call incl. delivery", pick("track()", "per call"), 2.5),
    panel("track(): bare call", pick("track()", "bare"), 2.5),
    panel(`Node e2e ${CONFIG.e2eEvents.toLocaleString("en")} events: wall per event`, pick("Node e2e", "wall")),
    panel(`Node e2e ${CONFIG.e2eEvents.toLocaleString("en")} events: CPU per event`, pick("Node e2e", "CPU")),
    panel(`Bun e2e ${CONFIG.e2eEvents.toLocaleString("en")} events: CPU per event`, pick("Bun e2e", "CPU")),
  ];
  for (const size of CONFIG.workerdSizes) {
    const label = `workerd, ${size.toLocaleString("en")}`;
    panels.push(panel(`workerd ${size.toLocaleString("en")} events in one request: wall per event`, pick(label, "wall")));
    panels.push(panel(`workerd ${size.toLocaleString("en")} events in one request: CPU per event`, pick(label, "CPU")));
  }
  panels.push(panel("cold start over bare node", pick("cold start", "import + instantiate"), 10));
  panels.push(panel("peak memory over bare baseline", pick("Node e2e", "peak memory")));
  panels.push(panel("size: wasm + Worker JS, gzip", pick("size", "gzip"), 40));
  return panels.filter(Boolean);
}

export function resultsMarkdown(results, rows, failed, known) {
  const SMOKE = results.config.mode === "smoke";
  const m = results.machine;
  const v = results.versions;
  const s = results.sizes["intempt-edge"].shipped;
  return `# intempt-edge benchmark results (${results.config.mode} run)

Made by \`bash bench/run.sh${SMOKE ? " --smoke" : ""}\` on ${results.date}. Medians, with (min–max) over
the repetitions; every measurement of every SDK is interleaved in one run.

**Machine:** ${m.nproc} cores, ${m.cpuModel}, ${m.memoryGiB} GiB memory, ${m.os}.
**Versions:** ${Object.entries(v)
    .map(([k, x]) => `${k} ${x}`)
    .join(", ")}.
**Repetitions:** track() ${results.config.callReps}, Node and Bun e2e ${results.config.e2eReps}, cold start ${results.config.coldReps}, workerd ${results.config.workerdReps}.

![chart](chart.svg)

${markdownTable(rows)}

${failed.length ? `## Failed checks\n\n${failed.map((c) => `- ${c.what}: ${c.detail}`).join("\n")}\n\n` : "Every check passed: every event of every run arrived at the sink, and each SDK's own account agreed.\n\n"}${known.length ? `## Known peer limitations (not counted as failures)\n\n${known.map((c) => `- ${c.what}: ${c.detail}`).join("\n")}\n\n` : ""}## Reading the numbers

- Node CPU is the SDK process's (\`process.cpuUsage()\`: its JS, wasm, HTTP client and GC, all threads);
  workerd CPU is the whole workerd process's. The sink runs in the parent process and is in neither.
- posthog-node sends one request at a time and, after each, filters its whole queue array, so its cost
  per event grows with the backlog a tight loop builds (hence its *incl. delivery* figure); with its
  default \`maxQueueSize\` (10,000 in 5.70) it would drop the oldest events instead. It gzips its bodies (its
  small wire bytes, paid in CPU).
- Segment in workerd: past ~10,000 events in one request its per-event timers fail and only 9,998 of
  20,000 events are delivered (listed as a known limitation below; its wall time there is its timeout).
- A run whose flush hit its deadline is noted beside its bars in the chart: its wall time is the deadline's.

## How it is measured

- **Event**: \`track(profileId, "Purchase", {plan:"pro", amount:42.5, items:["a","b"], nested:{k:"v"}})\`,
  20 events per request (intempt-edge \`maxBatchSize\` 20; posthog \`flushAt\` and \`maxBatchSize\` 20;
  segment \`flushAt\` 20), flush intervals at their defaults (intempt-edge 100 ms, the peers 10 s), queue
  bounds raised so that no SDK drops events (intempt-edge \`maxQueueSize\` and posthog \`maxQueueSize\`
  1,000,000; posthog's default of 10,000 drops the oldest events). Everything else is each SDK's default
  (posthog gzips its bodies).
- **Sink**: a node:http server on 127.0.0.1 (HTTP/1.1 keep-alive) in the parent process; it answers
  201 (intempt-edge) or 200 (peers) at once and counts requests, body bytes and events (parsing each body).
- **track()**: a fresh process per SDK and repetition; ${results.config.warmup.toLocaleString("en")} warm-up calls on a
  first client, then ${results.config.calls.toLocaleString("en")} calls on a second, in chunks of 200 with a
  \`setImmediate\` yield between chunks (so background sends run, as between a server's requests).
  *bare* = time inside the synchronous calls only; *incl. delivery* = wall time from the first call
  until the final flush/close resolved, divided by the calls; CPU = \`process.cpuUsage()\` over the same span.
  Floors: \`JSON.stringify(props)\`, and \`JSON.stringify({eventId: crypto.randomUUID(), timestamp: Date.now(), profileId, data: props})\`.
  *intempt (beforeSend)* is intempt-edge with \`beforeSend: (event) => event\`, measured in the same rotation:
  *with beforeSend − without* is what the hook path costs per call (plain intempt-edge has no hook and pays nothing for the option).
- **Node e2e**: a fresh process per SDK and repetition sends ${results.config.e2eEvents.toLocaleString("en")} events the same way and
  flushes (intempt-edge \`flush()\`, posthog \`shutdown()\`, segment \`closeAndFlush()\`); wall and
  \`process.cpuUsage()\` from the first call to the flush's end. **Peak memory** = \`process.resourceUsage().maxRSS\`
  after that run minus the same harness's maxRSS without any SDK (median ${fmt(results.e2e.baseline.maxRssMiB?.median)} MiB).
- **References** (Node and Bun e2e): ~30-line clients that build each event (\`crypto.randomUUID()\`, ISO time,
  profile, title, properties), \`JSON.stringify\` 20 of them as \`{"batch":[…]}\` and POST it when full — with
  \`node:http\` and a keep-alive \`Agent\` (maxSockets 6), or with the global \`fetch\`; the sink counts their events too.
  Node's targets are ratios to the node:http reference's medians in the same run. *intempt (fetch)* is
  intempt-edge given \`fetch: globalThis.fetch\` (the path of any caller's \`fetch\`); *intempt (node:http)* is
  its Node entry imported in Bun; *intempt (outbox)* is intempt-edge with an \`outbox\` (one that counts what it is
  given) against the healthy sink: the outbox is never called (a store would count as failed), and its cost per
  event is its ratio to intempt-edge without one, same run.
- **Bun e2e**: the Node e2e measurement (\`bench/measure.mjs\`) run under \`bun\`; \`intempt-edge\` resolves to
  the package's Bun entry (Bun's fetch).
- **workerd**: each SDK's Worker (bench/workers/) bundled with esbuild, all in one Miniflare; one request
  tracks all events then flushes. Wall around the request; CPU = the workerd process's on-CPU time
  (sum over its threads of /proc/…/schedstat) across the request; *per call* = the Worker's own
  \`performance.now()\` around its loop of calls. *reference: fetch* is bench/workers/reference-fetch.js
  (per event \`crypto.randomUUID()\` + an ISO date, per 20 events \`JSON.stringify\` + \`fetch\`); the ratios
  divide by its figure in the same repetition.
- **Cold start**: \`node --input-type=module -e "<import; construct>"\` spawned ${results.config.coldReps} times per SDK,
  spawn to exit, minus the median of \`node -e 0\`.
- **Size**: intempt-edge as installed: ${s.files.map((f) => f.file).join(", ")} (wasm ${fmt(s.wasm.gzip / 1024)} KB gzip,
  JS ${fmt(s.js.gzip / 1024)} KB gzip); peers: \`export { X } from "<sdk>"\` bundled by esbuild (browser platform,
  ESM, workerd conditions, minified). Each file gzip -9 / brotli -q 11 on its own, summed. KB = 1024 bytes.
`;
}
