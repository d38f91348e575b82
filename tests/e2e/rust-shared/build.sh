#!/usr/bin/env bash
# Builds the test Worker's wasm into tests/e2e/rust-shared/pkg/ (wasm-bindgen
# --target web, then npm binaryen's wasm-opt), as examples/rust-worker/build.sh does.
source "$(dirname "${BASH_SOURCE[0]}")/../../../scripts/env.sh"
here="$ROOT/tests/e2e/rust-shared"
cargo build --quiet --release -p intempt-edge-rust-shared --target wasm32-unknown-unknown
rm -rf "$here/pkg"
wasm-bindgen --target web --out-dir "$here/pkg" "$ROOT/target/wasm32-unknown-unknown/release/intempt_edge_rust_shared.wasm"
wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals --enable-multivalue --enable-reference-types \
  "$here/pkg/intempt_edge_rust_shared_bg.wasm" -o "$here/pkg/intempt_edge_rust_shared_bg.wasm"
echo "$here/worker.js"
