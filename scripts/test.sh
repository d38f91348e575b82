#!/usr/bin/env bash
# Every test, from a fresh machine: installs the toolchain (idempotently),
# lints, format-checks and type-checks the JavaScript, lints the Rust, checks
# the API snapshots (tests/api/), runs the JavaScript unit tests (tests/js/),
# the host tests, the wasm tests in Node, the ingest server's tests, builds
# and packs the npm package, and runs the end-to-end suites in workerd, Deno,
# Bun and Node against the local ingest server.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

section() { printf '\n==> %s\n' "$*"; }

section "setup"
bash scripts/setup.sh

section "JavaScript: lint and format (Biome, biome.jsonc), types (tsc --checkJs, tsconfig.checkjs.json); fix: npx biome check --write"
biome ci --error-on-warnings .
tsc -p tsconfig.checkjs.json

section "format and lint (host and wasm32)"
cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo clippy --all-targets --target wasm32-unknown-unknown -- -D warnings
# The npm build (no std): the library, and its unit tests (integration tests
# are host tests; built for wasm32 they would link std beside our panic handler).
cargo clippy --lib --target wasm32-unknown-unknown --features npm -- -D warnings
cargo clippy --lib --profile test --target wasm32-unknown-unknown --features npm -- -D warnings
# The Rust callers' features: `worker` (workers-rs; includes `workerd`).
cargo clippy --all-targets --target wasm32-unknown-unknown --features worker -- -D warnings
cargo clippy -p intempt-edge-rust-worker -p intempt-edge-workers-rs -p intempt-edge-rust-shared -p intempt-edge-rust-no-flush --target wasm32-unknown-unknown -- -D warnings

section "API docs (cargo doc, warnings are errors, host and wasm32)"
RUSTDOCFLAGS="-D warnings" cargo doc --quiet --no-deps -p intempt-edge
RUSTDOCFLAGS="-D warnings" cargo doc --quiet --no-deps -p intempt-edge --target wasm32-unknown-unknown
RUSTDOCFLAGS="-D warnings" cargo doc --quiet --no-deps -p intempt-edge --target wasm32-unknown-unknown --features npm
RUSTDOCFLAGS="-D warnings" cargo doc --quiet --no-deps -p intempt-edge --target wasm32-unknown-unknown --features worker

section "API snapshots (tests/api/: Rust host and wasm32; index, testing and hono .d.ts by API Extractor; update: node scripts/api-snapshot.mjs --update)"
node scripts/api-snapshot.mjs --check

section "JavaScript unit tests (node --test tests/js/: src/wasm/host.js, the helpers the wasm imports, and the rules it shares with pkg-template/)"
node --test tests/js/*.test.mjs

section "host tests (cargo test)"
cargo test

section "wasm tests (wasm-bindgen-test-runner in Node)"
cargo test --target wasm32-unknown-unknown --lib --features npm

section "build and pack the npm package"
bash scripts/build.sh

section "JavaScript types of sdk.js and the runtime entries against the generated glue (tsconfig.entries.json)"
tsc -p tsconfig.entries.json

section "ingest server tests"
node --test tests/server/

section "end-to-end: workerd, Deno, Bun, Node 18/20/22, Vercel's Edge Runtime against the local ingest server"
node --test --test-concurrency=1 --test-reporter=spec tests/e2e/

section "benchmark smoke (bench/run.sh --smoke: every SDK briefly, so the suite cannot rot)"
bash bench/run.sh --smoke
