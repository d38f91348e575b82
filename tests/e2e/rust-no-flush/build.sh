#!/usr/bin/env bash
# Builds the test Worker's wasm into tests/e2e/rust-no-flush/pkg/, as the Rust
# Worker examples are built.
exec bash "$(dirname "${BASH_SOURCE[0]}")/../../../scripts/build-rust-worker.sh" tests/e2e/rust-no-flush intempt-edge-rust-no-flush
