#!/usr/bin/env bash
# Builds a Rust Worker crate of this workspace into <dir>/pkg/ (cargo release
# build for wasm32, wasm-bindgen --target web, then npm binaryen's wasm-opt
# with the features rustc's wasm32 output uses) and prints <dir>/worker.js.
#   bash scripts/build-rust-worker.sh <dir, relative to the repo> <cargo package>
# Used by examples/rust-worker/build.sh and tests/e2e/rust-shared/build.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
dir="$ROOT/$1"
package="$2"
lib="${package//-/_}"
bash "$TOOLS_ROOT/scripts/wasm-bindgen-version.sh" --check
cargo build --quiet --release -p "$package" --target wasm32-unknown-unknown
rm -rf "$dir/pkg"
wasm-bindgen --target web --out-dir "$dir/pkg" "${CARGO_TARGET_DIR:-$ROOT/target}/wasm32-unknown-unknown/release/$lib.wasm"
wasm-opt -Oz "${WASM_FEATURES[@]}" "$dir/pkg/${lib}_bg.wasm" -o "$dir/pkg/${lib}_bg.wasm"
echo "$dir/worker.js"
