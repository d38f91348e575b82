#!/usr/bin/env bash
# Installs everything the build, tests and demos need, idempotently: each step
# checks first and prints "ok: ..." or "installing: ...". Warm run: well under 2 s.
# Cold (fresh machine): about 6 minutes, mostly the two `cargo install`s.
#
#   1. rustup: wasm32-unknown-unknown target, clippy, rustfmt
#   2. wasm-bindgen CLI (+ wasm-bindgen-test-runner) at the version in Cargo.lock
#   3. wasm-pack 0.15.1
#   4. npm tools from package-lock.json (npm ci), re-run only when the lock changes;
#      node_modules/.bin/node kept pointing at Node 22
#   5. Debian chromium (/usr/bin/chromium) for the viewer's browser test
#   6. .tools/bin: `deno` wrapper for wasm-bindgen-test-runner, `node` -> machine node
#
# Output of long installs goes to .tools/logs/*.log (its tail is printed on failure).

set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

WASM_PACK_VERSION=0.15.1

TOOLS_DIR="$TOOLS_ROOT/.tools"
LOG_DIR="$TOOLS_DIR/logs"
mkdir -p "$TOOLS_DIR/bin" "$LOG_DIR"

# One setup at a time (the test and demo commands may both call this).
exec 9>"$TOOLS_DIR/setup.lock"
flock 9

# run_logged NAME CMD...: run CMD with its output in $LOG_DIR/NAME.log.
run_logged() {
  local name=$1; shift
  local log="$LOG_DIR/$name.log"
  if ! "$@" >"$log" 2>&1; then
    echo "FAILED: $* (last lines of $log follow)" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
}

# check_version WANT CMD...: fail unless CMD prints WANT (after an install).
check_version() {
  local want=$1; shift
  local got
  got="$("$@" 2>&1 || true)"
  if [[ "$got" != "$want" ]]; then
    echo "setup: after install, \`$*\` prints '$got' (from $(command -v "$1" || echo nowhere)), want '$want'" >&2
    exit 1
  fi
}

# --- 1. Rust target and components -----------------------------------------
if rustup target list --installed | grep -qx 'wasm32-unknown-unknown'; then
  echo "ok: rust target wasm32-unknown-unknown"
else
  echo "installing: rust target wasm32-unknown-unknown"
  run_logged rustup-target rustup target add wasm32-unknown-unknown
fi

installed_components="$(rustup component list --installed)"
missing_components=()
for c in clippy rustfmt; do
  grep -Eq "^$c(-|\$)" <<<"$installed_components" || missing_components+=("$c")
done
if ((${#missing_components[@]} == 0)); then
  echo "ok: rust components clippy rustfmt"
else
  echo "installing: rust components ${missing_components[*]}"
  run_logged rustup-components rustup component add "${missing_components[@]}"
fi

# --- 2. wasm-bindgen CLI, exactly the crate version in Cargo.lock ------------
if [[ ! -f "$ROOT/Cargo.lock" ]]; then
  echo "installing: Cargo.lock (cargo generate-lockfile)"
  (cd "$ROOT" && run_logged generate-lockfile cargo generate-lockfile)
  [[ -f "$ROOT/Cargo.lock" ]] || { echo "setup: cargo generate-lockfile made no $ROOT/Cargo.lock" >&2; exit 1; }
fi
# (The crate asks only for a minimum version; this repo's Cargo.lock decides.)
wb_version="$(bash "$TOOLS_ROOT/scripts/wasm-bindgen-version.sh")"
if [[ "$(wasm-bindgen --version 2>/dev/null || true)" == "wasm-bindgen $wb_version" ]]; then
  echo "ok: wasm-bindgen-cli $wb_version"
else
  echo "installing: wasm-bindgen-cli $wb_version (cargo install, ~3 min)"
  # Not --locked: the CLI's own lock pins a crate version this registry lacks.
  run_logged wasm-bindgen-cli cargo install wasm-bindgen-cli --version "$wb_version" --force
  check_version "wasm-bindgen $wb_version" wasm-bindgen --version
fi

# --- 3. wasm-pack --------------------------------------------------------------
if [[ "$(wasm-pack --version 2>/dev/null || true)" == "wasm-pack $WASM_PACK_VERSION" ]]; then
  echo "ok: wasm-pack $WASM_PACK_VERSION"
else
  echo "installing: wasm-pack $WASM_PACK_VERSION (cargo install, ~2.5 min)"
  run_logged wasm-pack cargo install wasm-pack --version "$WASM_PACK_VERSION" --locked --force
  check_version "wasm-pack $WASM_PACK_VERSION" wasm-pack --version
fi

# --- 4. npm tools (deno, bun, workerd, miniflare, wrangler, edge-runtime, node 22
# and 18, binaryen, ...)
lock_sum="$(sha256sum "$TOOLS_ROOT/package-lock.json" | cut -d' ' -f1)"
stamp="$TOOLS_ROOT/node_modules/.setup-stamp"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$lock_sum" ]]; then
  echo "ok: npm tools (node_modules matches package-lock.json)"
else
  echo "installing: npm tools (npm ci)"
  # Install scripts must run: bun/deno/esbuild/workerd/node link their binaries.
  (cd "$TOOLS_ROOT" && run_logged npm-ci npm ci --no-audit --no-fund)
  echo "$lock_sum" >"$stamp"
fi
# Two packages provide a `node` bin (`node`, Node 22, and `node18`, an alias of
# the same package at 18): npm links whichever it installs last. Keep
# node_modules/.bin/node on Node 22, as with_node22 and env.sh expect.
if [[ "$(readlink "$TOOLS_ROOT/node_modules/.bin/node" 2>/dev/null || true)" != ../node/bin/node ]]; then
  ln -sfn ../node/bin/node "$TOOLS_ROOT/node_modules/.bin/node"
  echo "ok: node_modules/.bin/node -> node 22 (relinked)"
fi

# --- 5. Chromium for tests/e2e/viewer.test.mjs (driven by npm's playwright-core;
# Playwright's own browser download cannot work here, Debian's package does).
if [[ -x /usr/bin/chromium ]]; then
  echo "ok: chromium ($(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium))"
else
  echo "installing: chromium (apt-get, ~1 min)"
  run_logged apt-get-update apt-get update -qq
  run_logged chromium env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
  [[ -x /usr/bin/chromium ]] || { echo "setup: apt-get installed chromium but /usr/bin/chromium is missing" >&2; exit 1; }
fi

# --- 6. .tools/bin wrappers (rewritten every run; .tools/ is not committed) ---
# The 0.2.130 test runner runs `deno run --allow-read run.js`, and its script
# uses `window`, which Deno 2 lacks: add network access and a preload shim.
shim="$TOOLS_DIR/deno-window-shim.js"
printf '%s\n' 'globalThis.window ??= globalThis;' >"$shim.tmp" && mv -f "$shim.tmp" "$shim"
cat >"$TOOLS_DIR/bin/deno.tmp" <<WRAPPER
#!/usr/bin/env bash
# Generated by scripts/setup.sh: npm's deno, with \`run\` given --allow-net,
# --allow-read and a preload that defines \`window\` (for wasm-bindgen-test-runner).
set -euo pipefail
deno="$TOOLS_ROOT/node_modules/.bin/deno"
if [[ "\${1:-}" == run ]]; then
  shift
  exec "\$deno" run --allow-net --allow-read --preload "$shim" "\$@"
fi
exec "\$deno" "\$@"
WRAPPER
chmod +x "$TOOLS_DIR/bin/deno.tmp"
mv -f "$TOOLS_DIR/bin/deno.tmp" "$TOOLS_DIR/bin/deno"

# Plain `node` stays the machine's Node (node_modules/.bin/node is Node 22).
if [[ -n "$SYSTEM_NODE" ]]; then
  ln -sfn "$SYSTEM_NODE" "$TOOLS_DIR/bin/node"
  echo "ok: .tools/bin (deno wrapper; node -> $SYSTEM_NODE $("$SYSTEM_NODE" --version))"
else
  rm -f "$TOOLS_DIR/bin/node"
  echo "ok: .tools/bin (deno wrapper; no machine node, node is npm's $(with_node22 node --version))"
fi
