# shellcheck shell=bash
# Sourced by every script in scripts/: repo paths, PATH, tool settings.
#
#   ROOT        the crate/repo root the scripts act on. Defaults to this repo;
#               INTEMPT_ROOT=/some/crate overrides it (used to test build.sh on a
#               throwaway crate). The tools always come from TOOLS_ROOT.
#   TOOLS_ROOT  the repo holding scripts/, package.json, node_modules/, .tools/.
#   SYSTEM_NODE the machine's own node (the default `node`, see below).
#   NODE22_BIN  directory holding npm's node@22 binary (wrangler refuses Node 20).
#
# PATH order: $TOOLS_ROOT/.tools/bin, $TOOLS_ROOT/node_modules/.bin, ~/.cargo/bin,
# then the rest. npm's binaryen therefore provides `wasm-opt` ahead of any other
# (Debian's wasm-opt silently breaks wasm-bindgen output).
#
# The npm package `node` links node_modules/.bin/node (Node 22). So that plain
# `node` stays the machine's Node (20; 18 and 22 are tested beside it), scripts/setup.sh
# puts a `node` symlink to SYSTEM_NODE into .tools/bin, which comes first.
# Use `with_node22 CMD...` for wrangler and anything else that needs Node 22.
#
# It sets no shell options: `source scripts/env.sh` in an interactive shell
# leaves -e, -u and pipefail as they were. Each script sets its own strict
# mode before sourcing it.

TOOLS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ -n "${INTEMPT_ROOT:-}" ]]; then
  ROOT="$(cd "$INTEMPT_ROOT" && pwd)"
else
  ROOT="$TOOLS_ROOT"
fi
export ROOT TOOLS_ROOT

# Rebuild PATH without our own entries (so sourcing twice does not grow it, and
# so SYSTEM_NODE is found outside the repo), then prepend them in order.
_intempt_path=""
IFS=: read -r -a _intempt_parts <<<"${PATH:-}"
for _p in "${_intempt_parts[@]}"; do
  case "$_p" in
    "" | "$TOOLS_ROOT/.tools/bin" | "$TOOLS_ROOT/node_modules/.bin" | "$TOOLS_ROOT/node_modules/node/bin" | "$HOME/.cargo/bin") continue ;;
  esac
  _intempt_path="${_intempt_path:+$_intempt_path:}$_p"
done
SYSTEM_NODE="$(PATH="$_intempt_path" command -v node || true)"
export PATH="$TOOLS_ROOT/.tools/bin:$TOOLS_ROOT/node_modules/.bin:$HOME/.cargo/bin${_intempt_path:+:$_intempt_path}"
unset _intempt_path _intempt_parts _p
export SYSTEM_NODE
export NODE22_BIN="$TOOLS_ROOT/node_modules/node/bin"

# wasm-bindgen-test-runner: allow slow starts on a loaded 2-core machine.
export WASM_BINDGEN_TEST_TIMEOUT=120

# No telemetry, banners or update checks (only the package registries are
# reachable here; the banner is what triggers wrangler's update check).
export WRANGLER_SEND_METRICS=false
export WRANGLER_SEND_ERROR_REPORTS=false
export WRANGLER_HIDE_BANNER=true
export DO_NOT_TRACK=1
export DENO_NO_UPDATE_CHECK=1
export DENO_NO_PROMPT=1
export NO_UPDATE_NOTIFIER=1
export npm_config_update_notifier=false
export npm_config_fund=false
export npm_config_audit=false

# The wasm features rustc's wasm32-unknown-unknown output uses by default
# (`rustc --print cfg --target wasm32-unknown-unknown | grep target_feature`):
# wasm-opt rejects the module unless each one is enabled. All are supported by
# Node >= 18, Deno, Bun and workerd. Every wasm-opt run of this repo passes
# them (scripts/build.sh, scripts/build-rust-worker.sh).
# shellcheck disable=SC2034
WASM_FEATURES=(--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext
  --enable-mutable-globals --enable-multivalue --enable-reference-types)

# with_node22 CMD [ARGS...]: run CMD with npm's node@22 first on PATH.
with_node22() {
  if [[ ! -x "$NODE22_BIN/node" ]]; then
    echo "with_node22: $NODE22_BIN/node is missing; run scripts/setup.sh" >&2
    return 1
  fi
  PATH="$NODE22_BIN:$PATH" "$@"
}
