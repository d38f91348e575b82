#!/usr/bin/env bash
# Profiles intempt-edge's track(): 200,000 calls (delivering to a local sink)
# under `node --cpu-prof` into target/bench-profile/, then prints the top 25
# self-time functions (of the whole run, and of the samples inside track()).
#
#   bash bench/profile.sh [calls] [top]           the installed tarball (what ships)
#   bash bench/profile.sh --names [calls] [top]   a profiling build of the working tree whose
#        wasm keeps its function names (cargo release build -> wasm-bindgen -> wasm-opt -Oz -g,
#        as scripts/build.sh but with -g), so wasm frames are named instead of wasm-function[N]
set -euo pipefail
BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
bash "$BENCH/setup.sh"

if [[ "${1:-}" == "--names" ]]; then
  shift
  PKG="$ROOT/target/bench-profile-pkg"
  # scripts/build.sh's flags, keeping names (-g); WASM_FEATURES: scripts/env.sh.
  # shellcheck source=scripts/env.sh
  source "$ROOT/scripts/env.sh"
  WASM_OPT_FLAGS=(-Oz -ocimfs 50 -g "${WASM_FEATURES[@]}")
  echo "profile: cargo build --release (wasm32), wasm-bindgen, wasm-opt -Oz -g -> target/bench-profile-pkg" >&2
  (cd "$ROOT" && cargo build --quiet --lib --release --target wasm32-unknown-unknown --features npm)
  rm -rf "$PKG"
  mkdir -p "$PKG"
  wasm-bindgen --target web --out-dir "$PKG" --out-name intempt_edge \
    "$ROOT/target/wasm32-unknown-unknown/release/intempt_edge.wasm"
  "$ROOT/node_modules/.bin/wasm-opt" "${WASM_OPT_FLAGS[@]}" "$PKG/intempt_edge_bg.wasm" -o "$PKG/intempt_edge_bg.wasm.opt"
  mv -f "$PKG/intempt_edge_bg.wasm.opt" "$PKG/intempt_edge_bg.wasm"
  cp -R "$ROOT/pkg-template/." "$PKG/"
  export BENCH_PROFILE_INTEMPT="$PKG/node.js"
fi
exec node "$BENCH/profile.mjs" "$@"
