#!/bin/bash
# SPDX-License-Identifier: MIT
# Builds one libFuzzer target with clang (ASan + UBSan) and runs it for N
# seconds (default 60), seeded from real inputs in the tree (and, for the
# decoder, the captures in ../shared/pcaps) plus the regression seeds in
# tests/fuzz/corpus/TARGET. New corpus entries and crashes go to a directory
# under /tmp (FUZZ_WORK), never into the tree.
#   usage: tests/fuzz/run.sh [TARGET] [SECONDS] [-- LIBFUZZER-OPTIONS...]
#   targets: decode inventory yaml policy poltable audit rollout vpn
# A lone number is the seconds of the decoder (the old usage).
set -euo pipefail

target=decode
if [[ $# -gt 0 && ! $1 =~ ^[0-9]+$ && $1 != -- ]]; then
	target=$1
	shift
fi
secs=60
if [[ $# -gt 0 && $1 != -- ]]; then
	secs=$1
	shift
fi
[[ ${1:-} == -- ]] && shift
src=$(cd "$(dirname "$0")/../.." && pwd)
shared=${SEGPLAN_SHARED:-$src/../shared}
work=${FUZZ_WORK:-/tmp/segplan-fuzz}

case $target in
decode | inventory | yaml | policy | poltable | audit | rollout | vpn) ;;
*)
	echo "fuzz: unknown target '$target'" >&2
	exit 2
	;;
esac

if ! command -v clang >/dev/null; then
	echo "fuzz: clang is required (libFuzzer; scripts/deps.sh installs it)" >&2
	[[ ${CI:-} == true ]] && exit 1
	exit 77
fi

# One instrumented build for every target, shared by the ctest runs of a
# build directory: the lock keeps two of them from building it at once.
mkdir -p "$work/build"
(
	flock 9
	if [ ! -f "$work/build/CMakeCache.txt" ]; then
		cmake -S "$src" -B "$work/build" -DCMAKE_C_COMPILER=clang -DSEGPLAN_FUZZ=ON \
			-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" >/dev/null
	fi
	cmake --build "$work/build" --target "fuzz_$target" -j"${FUZZ_JOBS:-2}" >/dev/null
) 9>"$work/build.lock"

# Seeds: real files copied into a fresh directory (libFuzzer reads
# directories), so that no run writes into the tree.
t=$work/$target
rm -rf "$t/seeds"
mkdir -p "$t/seeds" "$t/corpus" "$t/artifacts"
seed() {
	local f
	for f in "$@"; do
		[ -f "$f" ] && cp "$f" "$t/seeds/$(echo "${f#"$src"/}" | tr / _)"
	done
	return 0
}
# Fenced blocks of a language in docs/*.md, one seed each.
docblocks() {
	local md
	for md in "$src"/docs/*.md; do
		awk -v lang="$1" -v out="$t/seeds/doc-$(basename "$md" .md)-$1-" '
			/^```/ { if (inb) { inb = 0; close(f); next }
				 if ($0 == "```" lang) { inb = 1; f = out (++n); next } }
			inb { print > f }' "$md"
	done
}
shopt -s nullglob
maxlen=65536
case $target in
decode)
	if [ ! -d "$shared/pcaps" ]; then
		echo "fuzz: no seed captures in $shared/pcaps" >&2
		exit 1
	fi
	for d in "$shared"/pcaps/*/; do
		for f in "$d"*; do seed "$f"; done
	done
	;;
inventory)
	seed "$src"/tests/golden/*/inventory/*.csv "$src"/tests/e2e/fixtures/*/*.csv \
		"$src"/examples/stuttgart/{districts,addressplan}.csv
	# The city's big tables, cut to their first lines (a seed is at most max_len).
	for f in "$src"/examples/stuttgart/{sites,links,segments,hosts}.csv; do
		head -n 60 "$f" >"$t/seeds/stuttgart-$(basename "$f")"
	done
	maxlen=16384
	;;
yaml)
	seed "$src"/examples/stuttgart/*.yaml "$src"/tests/golden/*/inventory/*.yaml \
		"$src"/tests/e2e/fixtures/*/*.yaml
	docblocks yaml
	;;
policy)
	seed "$src"/examples/stuttgart/policy.yaml "$src"/tests/golden/*/inventory/policy.yaml \
		"$src"/tests/e2e/fixtures/*/policy.yaml
	docblocks yaml
	;;
poltable)
	seed "$src"/tests/golden/policy/expected/*.policy.json
	docblocks json
	;;
audit)
	seed "$src"/tests/golden/audit/*.json
	docblocks json
	;;
rollout)
	seed "$src"/examples/stuttgart/rollout.yaml
	docblocks yaml
	;;
vpn)
	seed "$src"/examples/stuttgart/vpn.yaml
	docblocks yaml
	;;
esac
regress=()
[ -d "$src/tests/fuzz/corpus/$target" ] && regress=("$src/tests/fuzz/corpus/$target")

# libFuzzer's own exit code for a crash is 77, which ctest takes for a skip:
# -error_exitcode=1 makes a finding a failure.
echo "fuzz: $target for $secs s, $(find "$t/seeds" -type f | wc -l) seeds" >&2
cd "$t"
"$work/build/tests/fuzz/fuzz_$target" -max_total_time="$secs" -max_len="$maxlen" -timeout=10 \
	-rss_limit_mb=2048 -error_exitcode=1 -artifact_prefix="$t/artifacts/" -print_final_stats=1 "$@" \
	"$t/corpus" "$t/seeds" "${regress[@]}"
