#!/bin/bash
# SPDX-License-Identifier: MIT
# Builds the decoder fuzzer with clang (libFuzzer + ASan + UBSan) and runs it
# for N seconds (default 60), seeded with the captures in ../shared/pcaps.
# New corpus entries and crashes go to a directory under /tmp, never into
# the shared captures.   usage: tests/fuzz/run.sh [SECONDS]
set -euo pipefail

secs=${1:-60}
src=$(cd "$(dirname "$0")/../.." && pwd)
shared=${SEGPLAN_SHARED:-$src/../shared}
work=${FUZZ_WORK:-/tmp/segplan-fuzz-decode}

if ! command -v clang >/dev/null; then
	echo "fuzz: clang is required (libFuzzer; scripts/deps.sh installs it)" >&2
	[[ ${CI:-} == true ]] && exit 1
	exit 77
fi
if [ ! -d "$shared/pcaps" ]; then
	echo "fuzz: no seed captures in $shared/pcaps" >&2
	exit 1
fi

mkdir -p "$work/corpus" "$work/artifacts"
# shellcheck disable=SC2046
clang -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -I "$src" \
	"$src/tests/fuzz/fuzz_decode.c" "$src/agent/decode.c" "$src/agent/flow.c" "$src/core/proto.c" \
	$(pkg-config --cflags --libs libpcap) -o "$work/fuzz_decode"

seeds=()
for d in "$shared"/pcaps/*/; do
	seeds+=("$d")
done
"$work/fuzz_decode" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
	-artifact_prefix="$work/artifacts/" -print_final_stats=1 \
	"$work/corpus" "${seeds[@]}"
