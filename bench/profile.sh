#!/usr/bin/env bash
# Profiles intempt-edge's track(): 200,000 calls (delivering to a local sink)
# under `node --cpu-prof` into target/bench-profile/, then prints the top 25
# self-time functions (of the whole run, and of the samples inside track()).
#
#   bash bench/profile.sh [calls] [top]           the installed tarball (what ships)
#   bash bench/profile.sh --names [calls] [top]   a profiling build of the working tree whose
#        wasm keeps its function names (scripts/build.sh with INTEMPT_WASM_NAMES=1: wasm-opt -g),
#        so wasm frames are named instead of wasm-function[N]
set -euo pipefail
BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
bash "$BENCH/setup.sh"

if [[ "${1:-}" == "--names" ]]; then
  shift
  PKG="$ROOT/target/bench-profile-pkg"
  echo "profile: scripts/build.sh with the wasm's names kept -> target/bench-profile-pkg" >&2
  INTEMPT_PKG_DIR="$PKG" INTEMPT_WASM_NAMES=1 bash "$ROOT/scripts/build.sh" >&2
  export BENCH_PROFILE_INTEMPT="$PKG/node.js"
fi
exec node "$BENCH/profile.mjs" "$@"
