#!/usr/bin/env bash
# The benchmark suite (issue #6): intempt-edge vs posthog-node and
# @segment/analytics-node, interleaved, medians and min/max over repetitions.
# Not part of the default test run.
#
#   bash bench/run.sh           full run (a few minutes on 2 cores) -> bench/results/
#   bash bench/run.sh --smoke   every SDK briefly (< 60 s) -> target/bench-smoke/;
#                               exits non-zero if any measurement fails or any event is missing
#
# Installs what it needs first, idempotently (bench/setup.sh).
set -euo pipefail
BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$BENCH/setup.sh"
exec node "$BENCH/run.mjs" "$@"
