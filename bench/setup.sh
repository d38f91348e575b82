#!/usr/bin/env bash
# Installs what bench/run.sh and bench/profile.sh need, idempotently (quiet when warm):
#   1. the repo's tools (esbuild, miniflare/workerd) via scripts/setup.sh, if missing
#   2. bench/'s own dependencies (the peers) with `npm ci`, re-run only when bench/package-lock.json changes
#   3. the packed package: target/intempt-edge-*.tgz (the newest; built by scripts/build.sh if there
#      is none), installed into the scratch app target/bench-app, re-installed when the tarball changes
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$ROOT/bench"
APP="$ROOT/target/bench-app"
cd "$ROOT"

stamp_of() { sha256sum "$1" | cut -d' ' -f1; }

# --- 1. tools ----------------------------------------------------------------------
if [[ ! -x "$ROOT/node_modules/.bin/esbuild" || ! -d "$ROOT/node_modules/miniflare" ]]; then
  echo "bench: installing the repo's tools (scripts/setup.sh)" >&2
  bash "$ROOT/scripts/setup.sh" >&2
fi

# --- 2. bench dependencies ----------------------------------------------------------
lock_stamp="$(stamp_of "$BENCH/package-lock.json")"
if [[ "$(cat "$BENCH/node_modules/.bench-stamp" 2>/dev/null)" != "$lock_stamp" ]]; then
  echo "bench: npm ci in bench/" >&2
  (cd "$BENCH" && npm ci --no-audit --no-fund --loglevel=error >&2)
  echo "$lock_stamp" >"$BENCH/node_modules/.bench-stamp"
fi

# --- 3. the package under test --------------------------------------------------------
tarball="$(ls -t "$ROOT"/target/intempt-edge-*.tgz 2>/dev/null | head -n 1 || true)"
if [[ -z "$tarball" ]]; then
  echo "bench: no target/intempt-edge-*.tgz; building it (scripts/build.sh)" >&2
  tarball="$(bash "$ROOT/scripts/build.sh" | tail -n 1)"
  [[ -f "$tarball" ]] || { echo "bench: scripts/build.sh did not print a tarball path" >&2; exit 1; }
fi
tgz_stamp="$(stamp_of "$tarball")"
if [[ "$(cat "$APP/.bench-stamp" 2>/dev/null)" != "$tgz_stamp" || ! -d "$APP/node_modules/intempt-edge" ]]; then
  echo "bench: installing $(basename "$tarball") into target/bench-app" >&2
  rm -rf "$APP"
  mkdir -p "$APP"
  printf '{ "name": "intempt-edge-bench-app", "private": true, "type": "module" }\n' >"$APP/package.json"
  (cd "$APP" && npm install --no-audit --no-fund --no-package-lock --loglevel=error "$tarball" >&2)
  echo "$tgz_stamp" >"$APP/.bench-stamp"
fi
