#!/usr/bin/env bash
# Builds the test Worker's wasm into tests/e2e/rust-shared/pkg/, as the Rust
# Worker example is built.
exec bash "$(dirname "${BASH_SOURCE[0]}")/../../../scripts/build-rust-worker.sh" tests/e2e/rust-shared intempt-edge-rust-shared
