#!/usr/bin/env bash
# Builds the npm package into $ROOT/pkg and packs it into $ROOT/target/.
#
#   1. wasm-pack (release, --target web, no wasm-opt) -> target/wasm-pack/
#   2. npm binaryen's wasm-opt -Oz on intempt_edge_bg.wasm, in place, then a
#      load check in node (initSync with the file's bytes)
#   3. pkg/ = wasm-bindgen output overlaid with pkg-template/, the glue and its
#      snippets bundled into one minified module, node.js bundled with sdk.js,
#      "version" set from Cargo.toml; prints the wasm's raw/gzip/brotli sizes
#   4. npm pack -> target/<name>-<version>.tgz; its absolute path is the last line
#
# Run scripts/setup.sh first. INTEMPT_ROOT=/path/to/crate builds another crate
# (with the tools of this repo). Extra args are passed to `cargo build` via wasm-pack.
# INTEMPT_PKG_DIR=/some/dir assembles the package there instead of pkg/ and
# packs nothing; INTEMPT_WASM_NAMES=1 keeps the wasm's function names (wasm-opt
# -g), for profiles (bench/profile.sh --names uses both).
# The node steps are scripts/*.mjs of this repo (check-wasm-loads, crate-version,
# report-wasm-size, pack-filename).

set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

OUT_NAME=intempt_edge
WP_OUT="$ROOT/target/wasm-pack"
PKG="${INTEMPT_PKG_DIR:-$ROOT/pkg}"
WASM_OPT="$TOOLS_ROOT/node_modules/.bin/wasm-opt"
# -ocimfs 50: a function with one caller is inlined into it only when small
# (binaryen's default inlines every such function). The module is then 1.9 KB
# larger raw but 1.6 KB smaller gzipped (53,278 -> 51,707 B), which is what a
# Worker loads; speed is the same within noise (a fetch that answers at once,
# 100,000 events). WASM_FEATURES: scripts/env.sh.
WASM_OPT_FLAGS=(-Oz -ocimfs 50 "${WASM_FEATURES[@]}")
if [[ -n "${INTEMPT_WASM_NAMES:-}" ]]; then WASM_OPT_FLAGS+=(-g); fi

if [[ ! -x "$WASM_OPT" ]]; then
  echo "build: $WASM_OPT is missing; run scripts/setup.sh" >&2
  exit 1
fi
if [[ ! -f "$ROOT/pkg-template/package.json" ]]; then
  echo "build: $ROOT/pkg-template/package.json is missing" >&2
  exit 1
fi

# --- 1. wasm-pack ---------------------------------------------------------------
echo "build: wasm-pack build --release --target web ($ROOT)"
rm -rf "$WP_OUT"
# --no-opt (and wasm-opt = false in Cargo.toml): wasm-pack would use whatever
# wasm-opt is on PATH, or try to download one. --mode no-install: use the
# wasm-bindgen CLI that setup.sh installed, never download one.
wasm-pack --log-level warn build "$ROOT" \
  --release --target web --mode no-install --no-opt --no-pack --no-gitignore \
  --out-dir "$WP_OUT" --out-name "$OUT_NAME" --features npm "$@"

wasm="$WP_OUT/${OUT_NAME}_bg.wasm"
for f in "$OUT_NAME.js" "${OUT_NAME}_bg.wasm" "$OUT_NAME.d.ts" "${OUT_NAME}_bg.wasm.d.ts"; do
  [[ -f "$WP_OUT/$f" ]] || { echo "build: wasm-pack did not produce $f" >&2; exit 1; }
done

# --- 2. wasm-opt (npm binaryen) + load check -----------------------------------
before=$(stat -c %s "$wasm")
echo "build: $("$WASM_OPT" --version) ${WASM_OPT_FLAGS[*]}"
"$WASM_OPT" "${WASM_OPT_FLAGS[@]}" "$wasm" -o "$wasm.opt"
mv -f "$wasm.opt" "$wasm"
echo "build: wasm-opt $before -> $(stat -c %s "$wasm") bytes"

# A broken optimiser fails only at instantiation: instantiate it once in node.
printf '{ "type": "module" }\n' >"$WP_OUT/package.json"
node "$TOOLS_ROOT/scripts/check-wasm-loads.mjs" "$WP_OUT" "$OUT_NAME"
rm -f "$WP_OUT/package.json"
echo "build: wasm loads in node $(node --version) (initSync)"

# --- 3. assemble pkg/ -------------------------------------------------------------
rm -rf "$PKG"
mkdir -p "$PKG"
cp "$WP_OUT/$OUT_NAME.js" "$WP_OUT/${OUT_NAME}_bg.wasm" "$WP_OUT/$OUT_NAME.d.ts" \
  "$WP_OUT/${OUT_NAME}_bg.wasm.d.ts" "$PKG/"
if [[ -d "$WP_OUT/snippets" ]]; then
  cp -R "$WP_OUT/snippets" "$PKG/"
fi
cp -R "$ROOT/pkg-template/." "$PKG/"
for licence in LICENSE-MIT LICENSE-APACHE; do # absent in a throwaway INTEMPT_ROOT crate
  if [[ -f "$ROOT/$licence" ]]; then cp "$ROOT/$licence" "$PKG/"; fi
done

# The generated JS ships as ONE minified module: wasm-bindgen's glue with its
# snippets (src/wasm/host.js, which wasm-bindgen copied to snippets/) bundled
# in (their comments are for readers of the source). Every Worker loads it (-3.3 KB gzip), and Node pays about half
# a millisecond of cold start per ES module. The glue's import object lists
# the snippet once per import group under the same key: harmless, silenced.
ESBUILD=("$TOOLS_ROOT/node_modules/.bin/esbuild" --format=esm --minify --log-level=warning
  --log-override:duplicate-object-key=silent)
"${ESBUILD[@]}" "$PKG/$OUT_NAME.js" --bundle --platform=neutral --outfile="$PKG/$OUT_NAME.bundle.js"
mv -f "$PKG/$OUT_NAME.bundle.js" "$PKG/$OUT_NAME.js"
rm -rf "$PKG/snippets"

# sdk.js (the SDK class, with IntemptError of error.js and the outbox's
# adapters and consumers of outbox.js bundled in) ships minified: every runtime entry loads it, and
# the Worker's size is what a deploy pays for. No --keep-names: the two
# classes name themselves (static name), the rest need no names (-0.2 KB gzip).
"${ESBUILD[@]}" "$PKG/sdk.js" --bundle --platform=neutral \
  --external:"./$OUT_NAME.js" --outfile="$PKG/sdk.bundle.js"
mv -f "$PKG/sdk.bundle.js" "$PKG/sdk.js"
rm -f "$PKG/outbox.js" "$PKG/error.js"

# Node (node.js, with its node:http transport) and Bun (bun.js) load their
# entry with sdk.js bundled in; the glue stays its own
# module, shared with anything else that imports it. node.js imports the wasm
# itself: the binary loader inlines its bytes (see pkg-template/node.js),
# decoded with Uint8Array.fromBase64 where Node has it, else Buffer.
for entry in node bun; do
  "${ESBUILD[@]}" "$PKG/$entry.js" --bundle --platform=node --loader:.wasm=binary --supported:from-base64=false \
    --external:"./$OUT_NAME.js" --outfile="$PKG/$entry.bundle.js"
  mv -f "$PKG/$entry.bundle.js" "$PKG/$entry.js"
done

version="$(cargo metadata --no-deps --format-version 1 --manifest-path "$ROOT/Cargo.toml" |
  node "$TOOLS_ROOT/scripts/crate-version.mjs" "$ROOT/Cargo.toml")"
(cd "$PKG" && npm pkg set version="$version")
echo "build: pkg/ assembled, version $version"

node "$TOOLS_ROOT/scripts/report-wasm-size.mjs" "$PKG/${OUT_NAME}_bg.wasm"

# --- 4. npm pack ------------------------------------------------------------------
if [[ -n "${INTEMPT_PKG_DIR:-}" ]]; then exit 0; fi
mkdir -p "$ROOT/target"
tarball="$(npm pack "$PKG" --pack-destination "$ROOT/target" --json 2>/dev/null |
  node "$TOOLS_ROOT/scripts/pack-filename.mjs")"
echo "$ROOT/target/$tarball"
