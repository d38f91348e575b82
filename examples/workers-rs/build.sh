#!/usr/bin/env bash
# Builds the workers-rs Worker's wasm into examples/workers-rs/pkg/ (wasm-bindgen
# --target web, then npm binaryen's wasm-opt), as examples/rust-worker is
# built. Run it from anywhere.
exec bash "$(dirname "${BASH_SOURCE[0]}")/../../scripts/build-rust-worker.sh" examples/workers-rs intempt-edge-workers-rs
