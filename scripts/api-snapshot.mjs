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
// is checked (KNOWN_FORMATS). The JSON is walked from the crate root through
// public modules and `pub use`s, so items are listed under the paths a user
// writes (an item with several gets `pub use OTHER = PATH` lines), one line
// each, sorted by the path of the item they belong to:
//
//   pub struct intempt_edge::Config { /* private fields */ }
//   pub fn intempt_edge::Config::builder(organization: impl Into<String>, ...) -> ConfigBuilder
//   impl Clone for Config
//
// In signatures, the crate's own items are written by their public path
// without the crate name; foreign items by their defining path (as rustdoc
// records it, e.g. core::time::Duration), except prelude-like names (PRELUDE).
// Methods of generic impls carry the impl's bounds in their where clause.
// Blanket impls (From<T> for T, Any, ...), unstable auto traits and
// StructuralPartialEq are left out; #[doc(hidden)] items are not in the JSON.
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
// rustdoc JSON format versions this renderer was written against (rustc 1.95
// emits 57). Others are tried with a warning: a shape this script does not
// know renders as /* unknown ... */ and shows up in the diff.
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

function readRustdocJson(file) {
  const json = JSON.parse(readFileSync(file, "utf8"));
  if (!KNOWN_FORMATS.includes(json.format_version)) {
    console.error(
      `api-snapshot: warning: ${relative(ROOT, file)} has rustdoc JSON format ${json.format_version}; ` +
        `this script knows ${KNOWN_FORMATS.join(", ")} (check its output, then add the version to KNOWN_FORMATS)`,
    );
  }
  return json;
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
  return readRustdocJson(join(snapshotTargetDir, ...(target ? [target] : []), "doc", `${CRATE_FILE}.json`));
}

// Foreign items written by their bare name in signatures (prelude-like).
const PRELUDE = new Set([
  "core::option::Option",
  "core::result::Result",
  "alloc::string::String",
  "alloc::vec::Vec",
  "alloc::boxed::Box",
  "alloc::borrow::ToOwned",
  "alloc::string::ToString",
  "core::marker::Send",
  "core::marker::Sync",
  "core::marker::Sized",
  "core::marker::Copy",
  "core::marker::Unpin",
  "core::clone::Clone",
  "core::default::Default",
  "core::cmp::PartialEq",
  "core::cmp::Eq",
  "core::cmp::PartialOrd",
  "core::cmp::Ord",
  "core::convert::From",
  "core::convert::Into",
  "core::convert::TryFrom",
  "core::convert::TryInto",
  "core::convert::AsRef",
  "core::convert::AsMut",
  "core::ops::drop::Drop",
  "core::ops::function::Fn",
  "core::ops::function::FnMut",
  "core::ops::function::FnOnce",
  "core::iter::traits::iterator::Iterator",
  "core::iter::traits::collect::IntoIterator",
  "core::iter::traits::collect::Extend",
  "core::iter::traits::collect::FromIterator",
  "core::iter::traits::double_ended::DoubleEndedIterator",
  "core::iter::traits::exact_size::ExactSizeIterator",
  "core::future::future::Future",
  "core::future::into_future::IntoFuture",
]);
// Auto traits whose (synthetic) impls are listed: the stable ones.
const AUTO_TRAITS = new Set(["Send", "Sync", "Unpin", "UnwindSafe", "RefUnwindSafe"]);
// Unstable traits that derives implement: not part of the API on stable.
const HIDDEN_TRAITS = new Set(["core::marker::StructuralPartialEq"]);

const kindOf = (o) => (typeof o === "string" ? o : Object.keys(o)[0]);
const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

function renderRust(krate) {
  const index = krate.index;
  const item = (id) => index[String(id)];
  const crateName = item(krate.root).name;

  // 1. Public paths: walk modules from the root through public items and uses.
  const pathsOf = new Map(); // id -> [path segments...]
  const external = []; // { path, text } for re-exports of foreign items
  const addPath = (id, segs) => {
    const list = pathsOf.get(id) ?? [];
    if (!list.some((p) => p.join("::") === segs.join("::"))) list.push(segs);
    pathsOf.set(id, list);
  };
  const walkModule = (modId, segs, seen) => {
    if (seen.has(modId)) return;
    seen = new Set(seen).add(modId);
    for (const childId of item(modId).inner.module.items) {
      const child = item(childId);
      if (child?.visibility !== "public") continue;
      const kind = kindOf(child.inner);
      if (kind === "use") {
        const use = child.inner.use;
        const target = use.id != null ? item(use.id) : null;
        if (use.is_glob) {
          if (target && kindOf(target.inner) === "module") walkModule(use.id, segs, seen);
          else external.push({ path: [...segs, "*"], text: `pub use ${[...segs, "*"].join("::")} = ${use.source}::*` });
        } else if (target && target.crate_id === 0) {
          addPath(use.id, [...segs, use.name]);
          if (kindOf(target.inner) === "module") walkModule(use.id, [...segs, use.name], seen);
        } else {
          const foreign = use.id != null && krate.paths[String(use.id)] ? krate.paths[String(use.id)].path.join("::") : use.source;
          external.push({ path: [...segs, use.name], text: `pub use ${[...segs, use.name].join("::")} = ${foreign}` });
        }
      } else if (child.name != null) {
        addPath(childId, [...segs, child.name]);
        if (kind === "module") walkModule(childId, [...segs, child.name], seen);
      }
    }
  };
  addPath(krate.root, [crateName]);
  walkModule(krate.root, [crateName], new Set());
  // The canonical path: fewest segments, then smallest string.
  const canonical = new Map();
  for (const [id, list] of pathsOf) {
    const sorted = [...list].sort((a, b) => a.length - b.length || cmp(a.join("::"), b.join("::")));
    canonical.set(id, sorted[0].join("::"));
  }

  // 2. Types, bounds, generics.
  const typePath = (path) => {
    const local = canonical.get(path.id);
    if (local !== undefined) return local.startsWith(crateName + "::") ? local.slice(crateName.length + 2) : local;
    const summary = krate.paths[String(path.id)];
    if (summary && summary.crate_id !== 0) {
      const full = summary.path.join("::");
      return PRELUDE.has(full) ? summary.path[summary.path.length - 1] : full;
    }
    return path.path; // a private item, or one rustdoc did not record: as written
  };
  const renderPath = (path) => typePath(path) + renderArgs(path.args);
  const renderArgs = (a) => {
    if (!a) return "";
    switch (kindOf(a)) {
      case "angle_bracketed": {
        const { args, constraints } = a.angle_bracketed;
        const parts = [...args.map(renderGenericArg), ...constraints.map(renderConstraint)];
        return parts.length ? `<${parts.join(", ")}>` : "";
      }
      case "parenthesized": {
        const { inputs, output } = a.parenthesized;
        return `(${inputs.map(renderType).join(", ")})` + (output ? ` -> ${renderType(output)}` : "");
      }
      case "return_type_notation":
        return "(..)";
      default:
        return `/* unknown generic args: ${kindOf(a)} */`;
    }
  };
  const renderGenericArg = (g) => {
    switch (kindOf(g)) {
      case "lifetime":
        return g.lifetime;
      case "type":
        return renderType(g.type);
      case "const":
        return renderConstant(g.const);
      case "infer":
        return "_";
      default:
        return `/* unknown generic arg: ${kindOf(g)} */`;
    }
  };
  // A literal as written; otherwise the evaluated value, if rustdoc has it.
  const renderConstant = (c) => (c.is_literal || c.value == null ? (c.expr ?? "_") : c.value);
  const renderTerm = (t) => (kindOf(t) === "type" ? renderType(t.type) : renderConstant(t.constant));
  const renderConstraint = (c) => {
    const head = c.name + renderArgs(c.args);
    const b = c.binding;
    if (kindOf(b) === "equality") return `${head} = ${renderTerm(b.equality)}`;
    if (kindOf(b) === "constraint") return `${head}: ${renderBounds(b.constraint)}`;
    return `${head} /* unknown binding */`;
  };
  const renderHrtb = (params) => (params?.length ? `for<${params.map(renderGenericParam).join(", ")}> ` : "");
  const renderBound = (b) => {
    switch (kindOf(b)) {
      case "trait_bound": {
        const { trait, generic_params, modifier } = b.trait_bound;
        const mod = modifier === "maybe" ? "?" : modifier === "maybe_const" ? "~const " : "";
        return renderHrtb(generic_params) + mod + renderPath(trait);
      }
      case "outlives":
        return b.outlives;
      case "use":
        return `use<${b.use.map((p) => (typeof p === "string" ? p : (p.lifetime ?? p.param))).join(", ")}>`;
      default:
        return `/* unknown bound: ${kindOf(b)} */`;
    }
  };
  const renderBounds = (bounds) => bounds.map(renderBound).join(" + ");
  const renderAbi = (abi) => {
    if (abi === "Rust") return "";
    if (typeof abi === "string") return `extern "${abi}" `;
    const [name, value] = Object.entries(abi)[0];
    if (name === "Other") return `extern "${value}" `;
    const abiName = name === "C" ? "C" : name.toLowerCase();
    return `extern "${abiName}${value?.unwind ? "-unwind" : ""}" `;
  };
  const renderHeader = (h) => (h.is_const ? "const " : "") + (h.is_async ? "async " : "") + (h.is_unsafe ? "unsafe " : "") + renderAbi(h.abi);
  const renderType = (t) => {
    if (t == null) return "()";
    switch (kindOf(t)) {
      case "resolved_path":
        return renderPath(t.resolved_path);
      case "dyn_trait": {
        const { traits, lifetime } = t.dyn_trait;
        const parts = traits.map((p) => renderHrtb(p.generic_params) + renderPath(p.trait));
        if (lifetime) parts.push(lifetime);
        return `dyn ${parts.join(" + ")}`;
      }
      case "generic":
        return t.generic;
      case "primitive":
        return t.primitive;
      case "function_pointer": {
        const { sig, generic_params, header } = t.function_pointer;
        const inputs = sig.inputs.map(([name, ty]) => (name && name !== "_" ? `${name}: ${renderType(ty)}` : renderType(ty)));
        if (sig.is_c_variadic) inputs.push("...");
        const out = sig.output ? ` -> ${renderType(sig.output)}` : "";
        return `${renderHrtb(generic_params)}${renderHeader(header)}fn(${inputs.join(", ")})${out}`;
      }
      case "tuple":
        return t.tuple.length === 1 ? `(${renderType(t.tuple[0])},)` : `(${t.tuple.map(renderType).join(", ")})`;
      case "slice":
        return `[${renderType(t.slice)}]`;
      case "array":
        return `[${renderType(t.array.type)}; ${t.array.len}]`;
      case "pat":
        return `${renderType(t.pat.type)} /* pattern type */`;
      case "impl_trait":
        return `impl ${renderBounds(t.impl_trait)}`;
      case "infer":
        return "_";
      case "raw_pointer":
        return `*${t.raw_pointer.is_mutable ? "mut" : "const"} ${renderType(t.raw_pointer.type)}`;
      case "borrowed_ref": {
        const { lifetime, is_mutable, type } = t.borrowed_ref;
        return `&${lifetime ? lifetime + " " : ""}${is_mutable ? "mut " : ""}${renderType(type)}`;
      }
      case "qualified_path": {
        const { name, args, self_type, trait } = t.qualified_path;
        const self = renderType(self_type);
        const base = trait ? `<${self} as ${renderPath(trait)}>` : self;
        return `${base}::${name}${renderArgs(args)}`;
      }
      default:
        return `/* unknown type: ${kindOf(t)} */`;
    }
  };
  const renderGenericParam = (p, withDefault = true) => {
    const k = p.kind;
    switch (kindOf(k)) {
      case "lifetime":
        return p.name + (k.lifetime.outlives.length ? `: ${k.lifetime.outlives.join(" + ")}` : "");
      case "type":
        return (
          p.name + (k.type.bounds.length ? `: ${renderBounds(k.type.bounds)}` : "") + (withDefault && k.type.default ? ` = ${renderType(k.type.default)}` : "")
        );
      case "const":
        return `const ${p.name}: ${renderType(k.const.type)}` + (withDefault && k.const.default != null ? ` = ${k.const.default}` : "");
      default:
        return `${p.name} /* unknown generic param: ${kindOf(k)} */`;
    }
  };
  // Synthetic params are the `impl Trait`s of argument position: not written.
  const declaredParams = (g) => (g ? g.params.filter((p) => !(kindOf(p.kind) === "type" && p.kind.type.is_synthetic)) : []);
  // Impls take no defaults (rustdoc copies the type's into synthetic impls).
  const renderParams = (g, withDefaults = true) => {
    const ps = declaredParams(g);
    return ps.length ? `<${ps.map((p) => renderGenericParam(p, withDefaults)).join(", ")}>` : "";
  };
  const renderPredicate = (w) => {
    switch (kindOf(w)) {
      case "bound_predicate": {
        const { type, bounds, generic_params } = w.bound_predicate;
        return `${renderHrtb(generic_params)}${renderType(type)}: ${renderBounds(bounds)}`;
      }
      case "lifetime_predicate":
        return `${w.lifetime_predicate.lifetime}: ${w.lifetime_predicate.outlives.join(" + ")}`;
      case "eq_predicate":
        return `${renderType(w.eq_predicate.lhs)} = ${renderTerm(w.eq_predicate.rhs)}`;
      default:
        return `/* unknown where predicate: ${kindOf(w)} */`;
    }
  };
  const renderWhere = (preds) => (preds.length ? ` where ${preds.map(renderPredicate).join(", ")}` : "");
  // The bounds of an impl's generics, as where-predicates (for its methods).
  const implBoundsAsWhere = (g) => {
    const preds = [];
    for (const p of declaredParams(g)) {
      const k = p.kind;
      if (kindOf(k) === "type" && k.type.bounds.length) preds.push(`${p.name}: ${renderBounds(k.type.bounds)}`);
      if (kindOf(k) === "lifetime" && k.lifetime.outlives.length) preds.push(`${p.name}: ${k.lifetime.outlives.join(" + ")}`);
    }
    return [...preds, ...g.where_predicates.map(renderPredicate)];
  };

  const renderAttrs = (it) => {
    const out = [];
    if (it.deprecation) {
      const { since, note } = it.deprecation;
      const parts = [];
      if (since) parts.push(`since = ${JSON.stringify(since)}`);
      if (note) parts.push(`note = ${JSON.stringify(note)}`);
      out.push(parts.length ? `#[deprecated(${parts.join(", ")})]` : "#[deprecated]");
    }
    for (const a of it.attrs ?? []) {
      if (typeof a === "string") {
        if (a === "non_exhaustive" || a === "no_mangle") out.push(`#[${a}]`);
        else if (/^#\[(non_exhaustive|must_use|repr|no_mangle|export_name)\b/.test(a)) out.push(a.replace(/\s+/g, " "));
        continue; // "automatically_derived", and lints, inline hints, docs
      }
      const [k, v] = Object.entries(a)[0];
      if (k === "must_use") out.push("#[must_use]");
      else if (k === "export_name") out.push(`#[export_name = ${JSON.stringify(v)}]`);
      else if (k === "repr") {
        const r = [];
        if (v.kind && v.kind !== "rust") r.push(v.kind);
        if (v.int) r.push(v.int);
        if (v.align != null) r.push(`align(${v.align})`);
        if (v.packed != null) r.push(`packed(${v.packed})`);
        if (r.length) out.push(`#[repr(${r.join(", ")})]`);
      }
      // "other" (compiler-internal and lint attributes), link_section,
      // target_feature: not part of the API a caller sees.
    }
    return out.length ? out.join(" ") + " " : "";
  };

  const renderFn = (it, qualifiedName, extraWhere = [], vis = "pub ") => {
    const f = it.inner.function;
    const inputs = f.sig.inputs.map(([name, ty], i) => {
      if (i === 0 && name === "self") {
        if (kindOf(ty) === "generic" && ty.generic === "Self") return "self";
        if (kindOf(ty) === "borrowed_ref" && kindOf(ty.borrowed_ref.type) === "generic" && ty.borrowed_ref.type.generic === "Self") {
          const { lifetime, is_mutable } = ty.borrowed_ref;
          return `&${lifetime ? lifetime + " " : ""}${is_mutable ? "mut " : ""}self`;
        }
        return `self: ${renderType(ty)}`;
      }
      return `${name}: ${renderType(ty)}`;
    });
    if (f.sig.is_c_variadic) inputs.push("...");
    const out = f.sig.output ? ` -> ${renderType(f.sig.output)}` : "";
    const preds = [...extraWhere, ...f.generics.where_predicates.map(renderPredicate)];
    return (
      `${renderAttrs(it)}${vis}${renderHeader(f.header)}fn ${qualifiedName}${renderParams(f.generics)}(${inputs.join(", ")})${out}` +
      (preds.length ? ` where ${preds.join(", ")}` : "")
    );
  };

  // 3. Entries: { path, group, sub, text }, sorted by path, group, sub, text.
  // Groups: 0 the item, 1 fields and variants, 2 associated types and consts,
  // 3 functions and methods, 4 trait impls, 5 auto trait impls.
  const entries = [];
  const emit = (path, group, sub, text) => entries.push({ path, group, sub, text });
  const isLocalPublic = (t) => kindOf(t) === "resolved_path" && canonical.has(t.resolved_path.id);

  const renderTraitImpl = (impl) => {
    const im = impl.inner.impl;
    const assoc = [];
    for (const id of im.items) {
      const a = item(id);
      if (!a) continue;
      if (kindOf(a.inner) === "assoc_type" && a.inner.assoc_type.type)
        assoc.push(`type ${a.name}${renderParams(a.inner.assoc_type.generics)} = ${renderType(a.inner.assoc_type.type)};`);
      else if (kindOf(a.inner) === "assoc_const")
        assoc.push(
          `const ${a.name}: ${renderType(a.inner.assoc_const.type)}` + (a.inner.assoc_const.value != null ? ` = ${a.inner.assoc_const.value}` : "") + ";",
        );
    }
    assoc.sort(cmp);
    return (
      `${renderAttrs(impl)}${im.is_unsafe ? "unsafe " : ""}impl${renderParams(im.generics, false)} ${im.is_negative ? "!" : ""}` +
      `${renderPath(im.trait)} for ${renderType(im.for)}${renderWhere(im.generics.where_predicates)}` +
      (assoc.length ? ` { ${assoc.join(" ")} }` : "")
    );
  };
  // Which impls to list: not blanket impls, only the stable auto traits.
  const listedTraitImpl = (im) => {
    if (im.blanket_impl) return false;
    const summary = krate.paths[String(im.trait.id)];
    if (summary && HIDDEN_TRAITS.has(summary.path.join("::"))) return false;
    if (im.is_synthetic) return AUTO_TRAITS.has(typePath(im.trait).split("::").pop());
    return true;
  };

  const emitImpls = (ownerPath, implIds) => {
    for (const implId of implIds ?? []) {
      const impl = item(implId);
      if (!impl) continue;
      const im = impl.inner.impl;
      if (im.trait == null) {
        // Inherent impl: its public methods, associated consts and types.
        const self = renderType(im.for);
        const selfPath = canonical.get(im.for.resolved_path?.id) ?? self;
        const qualifier = selfPath + (im.for.resolved_path ? renderArgs(im.for.resolved_path.args) : "");
        const implWhere = implBoundsAsWhere(im.generics);
        for (const id of im.items) {
          const m = item(id);
          if (m?.visibility !== "public") continue;
          const k = kindOf(m.inner);
          if (k === "function") emit(ownerPath, 3, m.name, renderFn(m, `${qualifier}::${m.name}`, implWhere));
          else if (k === "assoc_const")
            emit(
              ownerPath,
              2,
              m.name,
              `${renderAttrs(m)}pub const ${qualifier}::${m.name}: ${renderType(m.inner.assoc_const.type)}` +
                (m.inner.assoc_const.value != null ? ` = ${m.inner.assoc_const.value}` : "") +
                (implWhere.length ? ` where ${implWhere.join(", ")}` : ""),
            );
          else if (k === "assoc_type") emit(ownerPath, 2, m.name, `${renderAttrs(m)}pub type ${qualifier}::${m.name} = ${renderType(m.inner.assoc_type.type)}`);
          else emit(ownerPath, 3, m.name ?? "", `/* unknown impl item: ${k} */ ${qualifier}::${m.name}`);
        }
      } else if (listedTraitImpl(im)) {
        emit(ownerPath, im.is_synthetic ? 5 : 4, "", renderTraitImpl(impl));
      }
    }
  };

  const ids = [...canonical.keys()].sort((a, b) => cmp(canonical.get(a), canonical.get(b)));
  for (const id of ids) {
    const it = item(id);
    const path = canonical.get(id);
    // Other public paths of the same item.
    for (const other of pathsOf.get(id)) {
      const o = other.join("::");
      if (o !== path) emit(o, 0, "", `pub use ${o} = ${path}`);
    }
    if (id === krate.root) continue;
    const attrs = renderAttrs(it);
    const kind = kindOf(it.inner);
    const inner = it.inner[kind];
    switch (kind) {
      case "module":
        emit(path, 0, "", `${attrs}pub mod ${path}`);
        break;
      case "struct":
      case "union": {
        const g = inner.generics;
        let shape = "";
        const sk = kind === "struct" ? kindOf(inner.kind) : "plain";
        const fields = kind === "struct" ? (sk === "plain" ? inner.kind.plain.fields : []) : inner.fields;
        const stripped = kind === "struct" ? sk === "plain" && inner.kind.plain.has_stripped_fields : inner.has_stripped_fields;
        if (sk === "unit") shape = ";";
        else if (sk === "tuple") shape = `(${inner.kind.tuple.map((f) => (f == null ? "_" : `pub ${renderType(item(f).inner.struct_field)}`)).join(", ")})`;
        else if (stripped) shape = " { /* private fields */ }";
        emit(
          path,
          0,
          "",
          `${attrs}pub ${kind} ${path}${renderParams(g)}${sk === "tuple" ? shape : ""}${renderWhere(g.where_predicates)}${sk === "tuple" ? "" : shape}`,
        );
        for (const f of fields) {
          const field = item(f);
          emit(path, 1, field.name, `${renderAttrs(field)}pub ${path}::${field.name}: ${renderType(field.inner.struct_field)}`);
        }
        emitImpls(path, inner.impls);
        break;
      }
      case "enum": {
        const g = inner.generics;
        emit(
          path,
          0,
          "",
          `${attrs}pub enum ${path}${renderParams(g)}${renderWhere(g.where_predicates)}` + (inner.has_stripped_variants ? " { /* private variants */ }" : ""),
        );
        for (const v of inner.variants) {
          const variant = item(v);
          const vk = variant.inner.variant.kind;
          let shape = "";
          if (kindOf(vk) === "tuple") shape = `(${vk.tuple.map((f) => (f == null ? "_" : renderType(item(f).inner.struct_field))).join(", ")})`;
          else if (kindOf(vk) === "struct") {
            const fs = vk.struct.fields.map((f) => `${item(f).name}: ${renderType(item(f).inner.struct_field)}`);
            if (vk.struct.has_stripped_fields) fs.push("/* private fields */");
            shape = ` { ${fs.join(", ")} }`;
          }
          const disc = variant.inner.variant.discriminant;
          emit(path, 1, variant.name, `${renderAttrs(variant)}${path}::${variant.name}${shape}${disc ? ` = ${disc.expr}` : ""}`);
        }
        emitImpls(path, inner.impls);
        break;
      }
      case "trait": {
        const g = inner.generics;
        emit(
          path,
          0,
          "",
          `${attrs}pub ${inner.is_unsafe ? "unsafe " : ""}${inner.is_auto ? "auto " : ""}trait ${path}${renderParams(g)}` +
            (inner.bounds.length ? `: ${renderBounds(inner.bounds)}` : "") +
            renderWhere(g.where_predicates) +
            (inner.is_dyn_compatible ? "" : " /* not dyn-compatible */"),
        );
        for (const m of inner.items) {
          const ti = item(m);
          const k = kindOf(ti.inner);
          if (k === "function") emit(path, 3, ti.name, renderFn(ti, `${path}::${ti.name}`, [], "") + (ti.inner.function.has_body ? " { .. }" : ""));
          else if (k === "assoc_type") {
            const at = ti.inner.assoc_type;
            emit(
              path,
              2,
              ti.name,
              `${renderAttrs(ti)}type ${path}::${ti.name}${renderParams(at.generics)}` +
                (at.bounds.length ? `: ${renderBounds(at.bounds)}` : "") +
                renderWhere(at.generics.where_predicates) +
                (at.type ? ` = ${renderType(at.type)}` : ""),
            );
          } else if (k === "assoc_const") {
            const ac = ti.inner.assoc_const;
            emit(path, 2, ti.name, `${renderAttrs(ti)}const ${path}::${ti.name}: ${renderType(ac.type)}` + (ac.value != null ? ` = ${ac.value}` : ""));
          } else emit(path, 3, ti.name ?? "", `/* unknown trait item: ${k} */ ${path}::${ti.name}`);
        }
        // Impls of the trait for types that are not listed themselves.
        for (const implId of inner.implementations ?? []) {
          const impl = item(implId);
          if (!impl) continue;
          const im = impl.inner.impl;
          if (!isLocalPublic(im.for) && listedTraitImpl(im)) emit(path, 4, "", renderTraitImpl(impl));
        }
        break;
      }
      case "function":
        emit(path, 3, "", renderFn(it, path));
        break;
      case "constant":
        emit(path, 0, "", `${attrs}pub const ${path}: ${renderType(inner.type)} = ${renderConstant(inner.const)}`);
        break;
      case "static":
        emit(
          path,
          0,
          "",
          `${attrs}pub ${inner.is_unsafe ? "unsafe " : ""}static ${inner.is_mutable ? "mut " : ""}${path}: ${renderType(inner.type)}` +
            (inner.expr ? ` = ${inner.expr}` : ""),
        );
        break;
      case "type_alias":
        emit(path, 0, "", `${attrs}pub type ${path}${renderParams(inner.generics)}${renderWhere(inner.generics.where_predicates)} = ${renderType(inner.type)}`);
        break;
      case "macro":
        emit(path, 0, "", `${attrs}macro_rules! ${path}`);
        break;
      case "proc_macro":
        emit(path, 0, "", `${attrs}proc_macro(${inner.kind}) ${path}`);
        break;
      case "extern_crate":
        emit(path, 0, "", `pub extern crate ${inner.name}${inner.rename ? ` as ${inner.rename}` : ""} /* ${path} */`);
        break;
      case "trait_alias":
        emit(path, 0, "", `${attrs}pub trait ${path}${renderParams(inner.generics)} = ${renderBounds(inner.params)}`);
        break;
      default:
        emit(path, 0, "", `/* ${kind} */ pub ${path}`);
    }
  }
  for (const e of external) emit(e.path.join("::"), 0, "", e.text);

  entries.sort((a, b) => cmp(a.path, b.path) || a.group - b.group || cmp(a.sub, b.sub) || cmp(a.text, b.text));
  const lines = [];
  for (const e of entries) if (lines[lines.length - 1] !== e.text) lines.push(e.text);
  return lines;
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
  process.stdout.write(renderRust(readRustdocJson(renderJsonFile)).join("\n") + "\n");
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
