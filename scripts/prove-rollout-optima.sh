#!/bin/sh
# SPDX-License-Identifier: MIT
# Proves the optima of the rollout test instances again with GLPK and writes
# tests/golden/rollout/optima.tsv (only when every one was proven).
# Takes about 6 minutes (Release build, one core); the unit tests re-solve only the
# five quickest live.
#   scripts/prove-rollout-optima.sh [BUILD_DIR] [TIME_LIMIT_S]
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-/tmp/build-prove-rollout}
limit=${2:-900}
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target bench_rollout >/dev/null
"$build/bench/bench_rollout" --prove "$src/tests/golden/rollout/optima.tsv" --time-limit "$limit"
