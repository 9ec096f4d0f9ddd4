#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make bench: every benchmark program with its defaults, one after the other
# (they share two cores: never in parallel). Results are printed; the
# numbers worth keeping go into bench/README.md by hand, with date and load.
# usage: bench/run.sh BUILD_DIR
set -uo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
export SEGPLAN_SRC=$PWD
failed=0
run() {
	printf '\n== %s\n' "$*"
	"$@" || { echo "bench: $1 failed" >&2; failed=1; }
}
for prog in "$build"/bench/bench_*; do
	[[ -x $prog && -f $prog ]] || continue
	case $(basename "$prog") in
	bench_compile | bench_lint) run "$prog" "$PWD" ;;
	bench_rollout) run "$prog" --example examples/stuttgart ;;
	*) run "$prog" ;;
	esac
done
if [[ $(id -u) -eq 0 ]]; then
	run bash bench/bench_forward.sh "$(realpath "$build")/segplan"
	run bash bench/bench_replay.sh "$(realpath "$build")"
else
	echo "bench: bench_forward.sh and bench_replay.sh need root (network namespaces); skipped"
fi
exit $failed
