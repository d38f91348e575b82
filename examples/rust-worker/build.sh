#!/usr/bin/env bash
# Builds the Rust Worker's wasm into examples/rust-worker/pkg/ (wasm-bindgen
# --target web, then npm binaryen's wasm-opt). Run it from anywhere.
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/env.sh"
here="$ROOT/examples/rust-worker"
cargo build --quiet --release -p intempt-edge-rust-worker --target wasm32-unknown-unknown
rm -rf "$here/pkg"
wasm-bindgen --target web --out-dir "$here/pkg" "$ROOT/target/wasm32-unknown-unknown/release/intempt_edge_rust_worker.wasm"
wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals --enable-multivalue --enable-reference-types \
  "$here/pkg/intempt_edge_rust_worker_bg.wasm" -o "$here/pkg/intempt_edge_rust_worker_bg.wasm"
echo "$here/worker.js"
