#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# segplan topology: exit codes, --fail resolution, JSON output, exports.
# Runs on a freshly generated 850-site city. jq and xmllint, when installed,
# check the JSON and the XML exports more closely.
set -u
. "$(dirname "$0")/lib.sh"

city=$tmp/city
expect 0 "generate the city" -- "$bin" example --sites 850 --seed 1 --out "$city"

expect 0 "topology --help" -- "$bin" topology --help
grep_in "$tmp/out" "usage: segplan topology" "help on stdout"
expect 2 "no inventory" -- "$bin" topology
grep_in "$tmp/err" "usage: segplan topology" "usage on stderr"
expect 2 "bad --n1" -- "$bin" topology "$city" --n1 most
expect 2 "bad --threshold" -- "$bin" topology "$city" --threshold -5
expect 2 "--export without -o" -- "$bin" topology "$city" --export svg
expect 2 "unknown export format" -- "$bin" topology "$city" --export sgv -o "$tmp/x"
grep_in "$tmp/err" "(did you mean 'svg'?)" "format suggestion"
expect 3 "missing inventory" -- "$bin" topology "$tmp/nothing"
expect 3 "unknown --fail id" -- "$bin" topology "$city" --fail DC3
grep_in "$tmp/err" "unknown site or link 'DC3' (did you mean 'DC1'?)" "--fail suggestion"

expect 0 "text report" -- "$bin" topology "$city"
grep_in "$tmp/out" "850 sites" "site count"
grep_in "$tmp/out" "redundancy classes:" "classes"
grep_in "$tmp/out" "N-1 (every link" "N-1 set named"
expect 0 "--n1 core" -- "$bin" topology "$city" --n1 core
grep_in "$tmp/out" "N-1 (core links between hubs and data centres" "core set named"

expect 0 "json report" -- "$bin" topology "$city" --json
cp "$tmp/out" "$tmp/t.json"
if command -v jq >/dev/null; then
	ok "json: every site and every built link" -- \
		jq -e '(.sites | length) == 850 and (.capacity.links | length) == .links' "$tmp/t.json" >/dev/null
	ok "json: class counts add up" -- \
		jq -e '.resilience.classes | ."0" + ."1" + ."2" == 850' "$tmp/t.json" >/dev/null
	ok "json: N-1 of every link" -- \
		jq -e '.capacity.n1.set == "all" and .capacity.n1.failures_computed == .links' "$tmp/t.json" >/dev/null
fi

hub=$(awk -F, 'NR > 1 && $0 ~ /hub/ { print $1; exit }' "$city/sites.csv")
expect 0 "what-if" -- "$bin" topology "$city" --fail "$hub" --json
if command -v jq >/dev/null; then
	ok "what-if: the hub is failed and its district lost" -- \
		jq -e --arg h "$hub" '.whatif.failed_sites == [$h] and (.whatif.lost | length) > 0' "$tmp/out" >/dev/null
fi

mkdir "$tmp/exp"
for fmt in graphml dot geojson svg; do
	expect 0 "export $fmt" -- "$bin" topology "$city" --export $fmt -o "$tmp/exp/t.$fmt"
	ok "$fmt written" -- test -s "$tmp/exp/t.$fmt"
done
ok "no temporary files left" -- test "$(ls -A "$tmp/exp" | wc -l)" -eq 4
grep_in "$tmp/exp/t.graphml" "Bad Cannstatt" "graphml keeps district names"
if command -v xmllint >/dev/null; then
	ok "svg is well-formed XML" -- xmllint --noout "$tmp/exp/t.svg"
	ok "graphml is well-formed XML" -- xmllint --noout "$tmp/exp/t.graphml"
fi
if command -v jq >/dev/null; then
	ok "geojson: 850 points" -- \
		jq -e '[.features[] | select(.geometry.type == "Point")] | length == 850' "$tmp/exp/t.geojson" >/dev/null
fi
expect 4 "export into a missing directory" -- "$bin" topology "$city" --export svg -o "$tmp/no/such/t.svg"

cli_done
