#!/usr/bin/env bash
# The wasm-bindgen CLI must equal the wasm-bindgen crate version that the
# final binary's Cargo.lock resolves (else: a schema-version error). The
# crate only asks for a minimum ("0.2.130", not "=0.2.130"), so this repo's
# Cargo.lock is what decides our builds' version:
#   bash scripts/wasm-bindgen-version.sh          prints it
#   bash scripts/wasm-bindgen-version.sh --check  fails unless `wasm-bindgen --version` equals it
# scripts/setup.sh installs that CLI; the build scripts run --check first.
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
lock="$ROOT/Cargo.lock"
want="$(awk '
  /^\[\[package\]\]/ { in_wb = 0 }
  /^name = "wasm-bindgen"$/ { in_wb = 1; next }
  in_wb && /^version = / { gsub(/"/, "", $3); print $3; exit }
' "$lock" 2>/dev/null || true)"
if [[ -z "$want" ]]; then
  echo "wasm-bindgen-version: no wasm-bindgen package in $lock" >&2
  exit 1
fi
if [[ "${1:-}" != --check ]]; then
  echo "$want"
  exit 0
fi
got="$(wasm-bindgen --version 2>/dev/null || true)"
if [[ "$got" != "wasm-bindgen $want" ]]; then
  echo "the wasm-bindgen CLI is '${got:-missing}' ($(command -v wasm-bindgen || echo not on PATH)) but $lock has wasm-bindgen $want; run scripts/setup.sh" >&2
  exit 1
fi
