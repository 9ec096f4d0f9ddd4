#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Regenerates the golden files that the unit tests compare byte for byte.
# Run it after an intended change to the compiler's output, then review the
# diff (git diff tests/golden) before committing it.
# usage: scripts/regen-golden.sh [SEGPLAN_BINARY]   (default: build/segplan)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/segplan}
[ -x "$bin" ] || { echo "regen-golden: no segplan binary at $bin (build first)" >&2; exit 2; }

# Policy compiler (tests/unit/test_compile.c): a fixed inventory and policy,
# expiry judged on a fixed day so that the output never depends on the date.
gold=$root/tests/golden/policy
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" policy compile "$gold/inventory" --out "$tmp/enforce" --date 2026-01-01 >/dev/null
"$bin" policy compile "$gold/inventory" --out "$tmp/observe" --date 2026-01-01 \
	--mode observe --site S1 >/dev/null
rm -rf "$gold/expected"
mkdir -p "$gold/expected"
cp "$tmp"/enforce/* "$gold/expected/"
cp "$tmp/observe/S1.nft" "$gold/expected/S1.observe.nft"
echo "regen-golden: $(ls "$gold/expected" | wc -l) files in ${gold#"$root"/}/expected"
