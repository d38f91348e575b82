// API snapshots: the public API of the crate and of the npm package's types,
// as sorted plain-text listings under tests/api/, so that any change to the
// API shows up as a diff in review (see tests/api/README.md).
//
//   node scripts/api-snapshot.mjs --check    compare with tests/api/ (exit 1 on a difference)
//   node scripts/api-snapshot.mjs --update   rewrite tests/api/
//   node scripts/api-snapshot.mjs --print    write the listings to stdout
//   ... --only rust | --only ts              just one of the two (Rust, or the .d.ts files)
//   node scripts/api-snapshot.mjs --render-json FILE   render any rustdoc JSON file to stdout
//
// Rust: `cargo rustdoc -p intempt-edge --lib --features serde_json,worker` (every
// feature a Rust caller may turn on; `npm` only builds the package) with rustdoc's
// JSON output, for the host and for wasm32-unknown-unknown, in
// target/api-snapshot/. The JSON output is unstable (-Z unstable-options), so
// it runs with RUSTC_BOOTSTRAP=1 on the stable toolchain; the format version
// is checked (KNOWN_FORMATS). The listing is the public-api crate's (the
// library behind cargo-public-api), through the small binary in
// scripts/api-listing: one line per public item under the paths a user
// writes, sorted, blanket impls left out, e.g.
//
//   pub struct intempt_edge::Config
//   pub fn intempt_edge::Config::builder(impl core::convert::Into<alloc::string::String>, ...) -> intempt_edge::ConfigBuilder
//   impl core::clone::Clone for intempt_edge::Config
//
// The wasm32 file holds only the lines that differ from the host.
//
// TypeScript: API Extractor (@microsoft/api-extractor, pinned in package.json)
// reports the API of each typed entry point of the npm package,
// pkg-template/index.d.ts, testing.d.ts and hono.d.ts, as its .api.md report
// (tests/api/<entry>.d.ts.api.md). It runs in target/api-snapshot/dts/ and
// this script compares or copies its report, so --check and --update behave
// the same for both halves.
//
// Requires cargo and node on PATH (source scripts/env.sh); API Extractor
// resolves from this repo's node_modules.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const SNAPSHOT_DIR = join(ROOT, "tests/api");
const CRATE = "intempt-edge";
const CRATE_FILE = CRATE.replace(/-/g, "_");
const WASM_TARGET = "wasm32-unknown-unknown";
const UPDATE_COMMAND = "node scripts/api-snapshot.mjs --update";
// The rustdoc JSON format scripts/api-listing's public-api (0.52.1) reads;
// rustc 1.95 writes 57.
const KNOWN_FORMATS = [57];

// --- command line ------------------------------------------------------------

const USAGE =
  "usage: node scripts/api-snapshot.mjs (--check | --update | --print) [--only rust|ts]\n" +
  "       node scripts/api-snapshot.mjs --render-json RUSTDOC_JSON_FILE";
const args = process.argv.slice(2);
let mode = null;
let only = null;
let renderJsonFile = null;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === "--check" || a === "--update" || a === "--print") {
    if (mode) fail(USAGE);
    mode = a.slice(2);
  } else if (a === "--render-json" && args[i + 1]) {
    if (mode) fail(USAGE);
    mode = "render-json";
    renderJsonFile = args[++i];
  } else if (a === "--only") {
    only = args[++i];
    if (only !== "rust" && only !== "ts") fail(USAGE);
  } else if (a === "-h" || a === "--help") {
    console.log(USAGE);
    process.exit(0);
  } else {
    fail(`api-snapshot: unknown argument ${a}\n${USAGE}`);
  }
}
if (!mode) fail(USAGE);

function fail(message) {
  console.error(message);
  process.exit(2);
}

// --- Rust: rustdoc JSON -------------------------------------------------------

function cargo(args, env = {}) {
  return execFileSync("cargo", args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 256 << 20,
  });
}

// The public-api version pinned in scripts/api-listing reads one rustdoc JSON
// format; say so plainly when the toolchain writes another.
function readRustdocJson(file) {
  const { format_version } = JSON.parse(readFileSync(file, "utf8"));
  if (!KNOWN_FORMATS.includes(format_version)) {
    fail(
      `api-snapshot: ${relative(ROOT, file)} has rustdoc JSON format ${format_version}; scripts/api-listing's public-api reads ` +
        `${KNOWN_FORMATS.join(", ")}: pin the public-api version made for it (see tests/api/README.md) and update KNOWN_FORMATS`,
    );
  }
}

// Its own target directory (target/api-snapshot): RUSTC_BOOTSTRAP is seen by
// build scripts (proc-macro2's reruns when it changes), so sharing target/
// with the ordinary builds would rebuild the proc-macro crates on every switch.
let targetDir = null;
function cargoTargetDir() {
  targetDir ??= JSON.parse(cargo(["metadata", "--format-version", "1", "--no-deps"])).target_directory;
  return targetDir;
}
function rustdocJson(target) {
  const snapshotTargetDir = join(cargoTargetDir(), "api-snapshot");
  const targetArgs = target ? ["--target", target] : [];
  cargo(
    [
      "rustdoc",
      "--quiet",
      "-p",
      CRATE,
      "--lib",
      "--features",
      "serde_json,worker",
      "--target-dir",
      snapshotTargetDir,
      ...targetArgs,
      // Doc warnings are the "API docs" step's business (scripts/test.sh).
      "--",
      "-Z",
      "unstable-options",
      "--output-format",
      "json",
      "--cap-lints",
      "allow",
    ],
    { RUSTC_BOOTSTRAP: "1" },
  );
  return join(snapshotTargetDir, ...(target ? [target] : []), "doc", `${CRATE_FILE}.json`);
}

// The listing: the public-api crate's rendering of the JSON (scripts/api-listing,
// built on first use into target/api-snapshot/tool).
function renderRust(jsonFile) {
  readRustdocJson(jsonFile);
  const listing = cargo([
    "run",
    "--quiet",
    "--release",
    "--manifest-path",
    join(ROOT, "scripts/api-listing/Cargo.toml"),
    "--target-dir",
    join(cargoTargetDir(), "api-snapshot", "tool"),
    "--",
    jsonFile,
  ]);
  return listing.split("\n").filter((line) => line !== "");
}

// --- TypeScript: the npm package's declarations, by API Extractor --------------

// The package's three typed entry points (package.json "exports").
const DTS_ENTRIES = ["index", "testing", "hono"];

function loadApiExtractor() {
  const require = createRequire(join(ROOT, "package.json"));
  try {
    return require("@microsoft/api-extractor");
  } catch {
    fail("api-snapshot: cannot load @microsoft/api-extractor: run scripts/setup.sh (npm ci)");
  }
}

// Messages that are about documentation style, not the API, are left out;
// any other warning or error fails the run.
const QUIET = { logLevel: "none", addToApiReportFile: false };
const EXTRACTOR_MESSAGES = {
  compilerMessageReporting: { default: { logLevel: "error" } },
  extractorMessageReporting: {
    default: { logLevel: "warning" },
    "ae-missing-release-tag": QUIET, // no @public/@beta tags: everything exported is public
    "ae-undocumented": QUIET, // documentation is reviewed in the .d.ts itself
    "ae-forgotten-export": QUIET, // hono.d.ts and testing.d.ts use index.d.ts's types
  },
  tsdocMessageReporting: { default: { logLevel: "none" } },
};

/** The API report of pkg-template/<entry>.d.ts (API Extractor's .api.md text). */
function dtsReport(entry, outDir) {
  const { Extractor, ExtractorConfig } = loadApiExtractor();
  const dts = join(ROOT, "pkg-template", `${entry}.d.ts`);
  const config = ExtractorConfig.prepare({
    configObject: {
      projectFolder: join(ROOT, "pkg-template"),
      mainEntryPointFilePath: dts,
      compiler: {
        overrideTsconfig: {
          compilerOptions: { strict: true, module: "nodenext", moduleResolution: "nodenext", target: "es2022", lib: ["es2022", "dom"], skipLibCheck: true },
          files: [dts],
        },
      },
      apiReport: { enabled: true, reportFileName: `${entry}.d.ts`, reportFolder: outDir, reportTempFolder: outDir },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      messages: EXTRACTOR_MESSAGES,
    },
    configObjectFullPath: join(ROOT, "package.json"),
    packageJsonFullPath: join(ROOT, "pkg-template", "package.json"),
  });
  const result = Extractor.invoke(config, { localBuild: true, messageCallback: quietVersionNote });
  if (result.errorCount || result.warningCount) fail(`api-snapshot: API Extractor reported problems in pkg-template/${entry}.d.ts (above)`);
  return readFileSync(join(outDir, `${entry}.d.ts.api.md`), "utf8");
}

// API Extractor announces the TypeScript version it bundles on every run.
function quietVersionNote(message) {
  if (message.messageId === "console-preamble") message.logLevel = "none";
}

// --- snapshots -------------------------------------------------------------------

const header = (what) => [`# ${what}`, `# Generated by scripts/api-snapshot.mjs; do not edit. Update: ${UPDATE_COMMAND} (see tests/api/README.md).`, ""];

function snapshots() {
  const out = [];
  if (only !== "ts") {
    const host = renderRust(rustdocJson(null));
    const wasm = renderRust(rustdocJson(WASM_TARGET));
    out.push({
      file: "rust-api.txt",
      lines: [...header(`The public Rust API of the crate ${CRATE} on the host target (cargo rustdoc --features serde_json,worker, rustdoc JSON).`), ...host],
    });
    const hostSet = new Set(host);
    const wasmSet = new Set(wasm);
    out.push({
      file: "rust-api-wasm32.txt",
      lines: [
        ...header(`How the public Rust API of ${CRATE} on ${WASM_TARGET} differs from rust-api.txt: + only on wasm32, - only on the host.`),
        ...wasm.filter((l) => !hostSet.has(l)).map((l) => `+ ${l}`),
        ...host.filter((l) => !wasmSet.has(l)).map((l) => `- ${l}`),
      ],
    });
  }
  /** @type {{ file: string, text: string }[]} */
  const texts = out.map((s) => ({ ...s, text: s.lines.join("\n") + "\n" }));
  if (only !== "rust") {
    const outDir = join(cargoTargetDir(), "api-snapshot", "dts");
    mkdirSync(outDir, { recursive: true });
    for (const entry of DTS_ENTRIES) texts.push({ file: `${entry}.d.ts.api.md`, text: dtsReport(entry, outDir) });
  }
  return texts;
}

// A unified diff (3 lines of context) of two texts, by longest common subsequence.
function unifiedDiff(aText, bText, aName, bName) {
  const a = aText.split("\n");
  const b = bText.split("\n");
  if (a[a.length - 1] === "") a.pop();
  if (b[b.length - 1] === "") b.pop();
  const n = a.length;
  const m = b.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const ops = []; // [" " | "-" | "+", line, aIndex, bIndex]
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) ops.push([" ", a[i], i++, j++]);
    else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) ops.push(["-", a[i], i++, j]);
    else ops.push(["+", b[j], i, j++]);
  }
  const out = [`--- ${aName}`, `+++ ${bName}`];
  const CONTEXT = 3;
  for (let k = 0; k < ops.length; ) {
    if (ops[k][0] === " ") {
      k++;
      continue;
    }
    const start = Math.max(0, k - CONTEXT);
    let end = k;
    // Extend the hunk while changes are within 2 * CONTEXT of each other.
    while (end < ops.length) {
      if (ops[end][0] !== " ") {
        end++;
        continue;
      }
      let next = end;
      while (next < ops.length && ops[next][0] === " ") next++;
      if (next < ops.length && next - end <= 2 * CONTEXT) end = next;
      else {
        end = Math.min(ops.length, end + CONTEXT);
        break;
      }
    }
    const hunk = ops.slice(start, end);
    const aCount = hunk.filter((o) => o[0] !== "+").length;
    const bCount = hunk.filter((o) => o[0] !== "-").length;
    const aStart = hunk[0][2] + (aCount ? 1 : 0);
    const bStart = hunk[0][3] + (bCount ? 1 : 0);
    out.push(`@@ -${aStart},${aCount} +${bStart},${bCount} @@`);
    for (const [op, line] of hunk) out.push(op + line);
    k = end;
  }
  return out.join("\n");
}

if (mode === "render-json") {
  process.stdout.write(renderRust(renderJsonFile).join("\n") + "\n");
  process.exit(0);
}
const results = snapshots();
if (mode === "print") {
  for (const s of results) process.stdout.write(`==> tests/api/${s.file} <==\n${s.text}`);
} else if (mode === "update") {
  mkdirSync(SNAPSHOT_DIR, { recursive: true });
  for (const s of results) {
    const file = join(SNAPSHOT_DIR, s.file);
    const before = existsSync(file) ? readFileSync(file, "utf8") : null;
    writeFileSync(file, s.text);
    console.log(`api-snapshot: ${before === s.text ? "unchanged" : "wrote"} tests/api/${s.file}`);
  }
} else {
  let differ = 0;
  for (const s of results) {
    const file = join(SNAPSHOT_DIR, s.file);
    const before = existsSync(file) ? readFileSync(file, "utf8") : "";
    if (before === s.text) {
      console.log(`api-snapshot: tests/api/${s.file} matches`);
      continue;
    }
    differ++;
    if (!existsSync(file)) console.log(`api-snapshot: tests/api/${s.file} is missing`);
    console.log(unifiedDiff(before, s.text, `a/tests/api/${s.file} (snapshot)`, `b/tests/api/${s.file} (current tree)`));
  }
  if (differ) {
    console.error(
      `\napi-snapshot: the API differs from its snapshot (${differ} file${differ > 1 ? "s" : ""}, diff above).\n` +
        `If the change is intended, update the snapshot and mention the API change in the commit:\n  ${UPDATE_COMMAND}`,
    );
    process.exit(1);
  }
}
