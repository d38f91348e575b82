#!/usr/bin/env bash
# Builds the Rust Worker's wasm into examples/rust-worker/pkg/ (wasm-bindgen
# --target web, then npm binaryen's wasm-opt). Run it from anywhere.
exec bash "$(dirname "${BASH_SOURCE[0]}")/../../scripts/build-rust-worker.sh" examples/rust-worker intempt-edge-rust-worker
