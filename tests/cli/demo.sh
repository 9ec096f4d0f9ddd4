#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# segplan demo end to end: every output exists and parses, the summary's numbers equal the
# individual commands' JSON, the run is quick; the demo captures of segplan example.
set -u
. "$(dirname "$0")/lib.sh"
if ! command -v jq >/dev/null; then
	echo "jq is missing (scripts/deps.sh installs it)"
	exit 77
fi
inv=$src/examples/stuttgart
day=2026-03-02

expect 0 "demo --help" -- "$bin" demo --help
grep_in "$tmp/out" "usage: segplan demo" "help on stdout"
grep_in "$tmp/out" "default examples/stuttgart" "help names the default inventory"
expect 0 "help demo" -- "$bin" help demo
expect 2 "unknown option" -- "$bin" demo --outt "$tmp/x"
grep_in "$tmp/err" "usage: segplan demo" "usage on stderr"
expect 2 "bad date" -- "$bin" demo --date 2026-02-30 --out "$tmp/x"
expect 2 "stray argument" -- "$bin" demo --out "$tmp/x" extra
expect 3 "no inventory" -- "$bin" demo --inventory "$tmp/none" --out "$tmp/x"
ok "nothing written on usage errors" -- test ! -e "$tmp/x"

# The default inventory is examples/stuttgart relative to the current directory.
start=$(date +%s.%N)
(cd "$src" && "$bin" demo --out "$tmp/text" --date "$day") >"$tmp/text.out" 2>"$tmp/text.err"
rc=$?
secs=$(echo "$(date +%s.%N) - $start" | bc)
same "text demo exit" "$rc" 0
# The target is for an optimised build; AddressSanitizer makes everything several times slower.
limit=20
if ldd "$bin" 2>/dev/null | grep -q libasan; then limit=90; fi
ok "the demo takes less than $limit s (took $secs s)" -- test "$(echo "$secs < $limit" | bc)" -eq 1
for word in "850 sites" "single points of failure" "gateways compiled" "reachable address pairs" "binding:" \
	"sites to connect" "flows seen" "coverage" "$tmp/text/report.html"; do
	grep_in "$tmp/text.out" "$word" "text summary"
done

expect 0 "demo --json" -- "$bin" demo --inventory "$inv" --out "$tmp/d" --date "$day" --json
cp "$tmp/out" "$tmp/sum.json"
ok "summary is JSON" -- jq -e . "$tmp/sum.json" >/dev/null
d=$tmp/d
for f in topology.json vpn.json rollout.json audit.json city.geojson; do
	ok "$f parses" -- jq -e . "$d/$f" >/dev/null
done
ok "geojson is a feature collection" -- jq -e '.type == "FeatureCollection"' "$d/city.geojson" >/dev/null
grep_in "$d/map.svg" "<svg" "map.svg is SVG"
grep_in "$d/report.html" "</html>" "report.html is whole"
grep_in "$d/rollout.csv" "bandwidth_gap,interim_rent" "rollout.csv header"
ok "suggested rules written" -- test -s "$d/suggested-rules.yaml"
ok "every output listed exists" -- bash -c 'for p in $(jq -r ".outputs[]" "$1"); do test -e "$p" || exit 1; done' _ "$tmp/sum.json"
nsum=$(ls "$d"/summaries/S*[0-9].json | wc -l)
ok "one summary per capture" -- test "$nsum" -eq "$(ls "$inv"/traffic/*.pcap | wc -l)"
for s in "$d"/summaries/S*[0-9].json; do
	ok "$(basename "$s") is a summary" -- jq -e '.kind == "segplan-agent-summary"' "$s" >/dev/null
done
ok "flow records parse" -- bash -c 'cat "$1"/flows/*.jsonl | jq -c . >/dev/null' _ "$d"

# The summary against the individual commands.
"$bin" check "$inv" --json >"$tmp/check.json"
same "sites" "$(jq .inventory.sites "$tmp/sum.json")" "$(jq .sites "$tmp/check.json")"
same "links" "$(jq .inventory.links "$tmp/sum.json")" "$(jq .links "$tmp/check.json")"
"$bin" rollout "$inv" --json >"$tmp/rollout.json"
same "fibre sites" "$(jq .inventory.fibre_sites "$tmp/sum.json")" "$(jq .sites.fibre "$tmp/rollout.json")"
same "sites needing broadband" "$(jq .inventory.sites_needing_broadband "$tmp/sum.json")" \
	"$(jq .sites.total "$tmp/rollout.json")"
same "to connect" "$(jq .rollout.to_connect "$tmp/sum.json")" "$(jq .sites.to_connect "$tmp/rollout.json")"
same "sites per year" "$(jq -c '[.rollout.per_year[].sites]' "$tmp/sum.json")" \
	"$(jq -c '[.years[].sites | length]' "$tmp/rollout.json")"
same "rollout gap" "$(jq .rollout.gap "$tmp/sum.json")" "$(jq .gap "$tmp/rollout.json")"
"$bin" topology "$inv" --json >"$tmp/topology.json"
same "spof sites" "$(jq .topology.spof_sites "$tmp/sum.json")" "$(jq .resilience.spof_sites "$tmp/topology.json")"
same "spof links" "$(jq .topology.spof_links "$tmp/sum.json")" "$(jq .resilience.spof_links "$tmp/topology.json")"
same "redundant sites" "$(jq .topology.classes.redundant "$tmp/sum.json")" \
	"$(jq '.resilience.classes["2"]' "$tmp/topology.json")"
same "single-homed sites" "$(jq .topology.classes.single "$tmp/sum.json")" \
	"$(jq '.resilience.classes["1"]' "$tmp/topology.json")"
"$bin" vpn "$inv" --json >"$tmp/vpn.json"
same "vpn binding" "$(jq -c '[.vpn.binding_state, .vpn.binding_resource, .vpn.headroom_pct]' "$tmp/sum.json")" \
	"$(jq -c '[.binding.worst.state, .binding.worst.resource, .binding.worst.headroom_pct]' "$tmp/vpn.json")"
"$bin" policy compile "$inv" --out "$tmp/rules" --date "$day" --json >"$tmp/compile.json"
for k in gateways rules; do
	same "compiled $k" "$(jq .policy.$k "$tmp/sum.json")" "$(jq .$k "$tmp/compile.json")"
done
same "set elements" "$(jq .policy.set_elements "$tmp/sum.json")" "$(jq .elements "$tmp/compile.json")"
same "one ruleset per site" "$(ls "$d"/rules/*.nft | wc -l)" "$(jq .sites "$tmp/check.json")"
ok "the demo's rulesets equal the compile's" -- diff -r "$d/rules" "$tmp/rules"
# The stage-2 policy: its rulesets and numbers equal `policy compile --policy`'s
# (what it closes: tests/cli/stage2_closes.sh).
"$bin" policy compile "$inv" --policy "$inv/policy-stage2.yaml" --out "$tmp/rules2" --date "$day" --json >"$tmp/compile2.json"
same "stage-2 gateways" "$(jq .stage2.gateways "$tmp/sum.json")" "$(jq .gateways "$tmp/compile2.json")"
same "stage-2 rules" "$(jq .stage2.rules "$tmp/sum.json")" "$(jq .rules "$tmp/compile2.json")"
same "stage-2 set elements" "$(jq .stage2.set_elements "$tmp/sum.json")" "$(jq .elements "$tmp/compile2.json")"
ok "the demo's stage-2 rulesets equal the compile's" -- diff -r "$d/rules-stage2" "$tmp/rules2"
same "flows seen" "$(jq .agent.flows "$tmp/sum.json")" \
	"$(jq -s 'map(.flows.connections) | add' "$d"/summaries/S*[0-9].json)"
same "denied by the agents" "$(jq .agent.denied "$tmp/sum.json")" \
	"$(jq -s 'map(.denied.flows) | add' "$d"/summaries/S*[0-9].json)"
"$bin" audit "$inv" "$d"/summaries/S*[0-9].json --json --date "$day" >"$tmp/audit.json"
same "audit flows" "$(jq .audit.flows "$tmp/sum.json")" "$(jq .coverage.flows "$tmp/audit.json")"
same "audit covered" "$(jq .audit.covered "$tmp/sum.json")" "$(jq .coverage.covered_flows "$tmp/audit.json")"
same "audit denied" "$(jq .audit.denied_flows "$tmp/sum.json")" "$(jq .coverage.denied_flows "$tmp/audit.json")"
same "audit.json equals segplan audit --json" "$(jq -S 'del(.policy.file)' "$d/audit.json")" \
	"$(jq -S 'del(.policy.file)' "$tmp/audit.json")"
ok "the demo traffic has denied flows" -- test "$(jq .audit.denied_flows "$tmp/sum.json")" -gt 0
ok "and flows an accept rule covers" -- test "$(jq .audit.covered "$tmp/sum.json")" -gt 0
same "no summary of another policy" "$(jq .audit.foreign "$tmp/sum.json")" 0

# A broken inventory stops the demo at the check.
mkdir "$tmp/bad"
cp "$inv"/*.csv "$inv"/*.yaml "$tmp/bad/"
sed -i '0,/,Mitte,/s//,Mite,/' "$tmp/bad/sites.csv"
expect 3 "invalid inventory" -- "$bin" demo --inventory "$tmp/bad" --out "$tmp/badout"
grep_in "$tmp/err" "step 'check' failed" "the failing step is named"

# segplan example writes demo captures (three gateways by default), equal to the committed ones.
expect 0 "example with captures" -- "$bin" example --out "$tmp/ex"
ok "captures equal the committed ones" -- diff -r "$tmp/ex/traffic" "$inv/traffic"
ok "captures under 1 MB" -- test "$(du -sb "$inv/traffic" | cut -f1)" -lt 1000000
expect 0 "a smaller city, three captures by default" -- "$bin" example --sites 60 --out "$tmp/small3"
same "three captures" "$(ls "$tmp/small3/traffic" | wc -l)" 3
expect 0 "a smaller city without captures" -- "$bin" example --sites 60 --traffic 0 --out "$tmp/small"
ok "no traffic directory" -- test ! -e "$tmp/small/traffic"
expect 2 "--traffic out of range" -- "$bin" example --sites 60 --traffic 65 --out "$tmp/small2"
expect 0 "--traffic 2" -- "$bin" example --sites 60 --traffic 2 --out "$tmp/small2"
same "two captures" "$(ls "$tmp/small2/traffic" | wc -l)" 2

# Without committed captures the demo generates them into OUT/traffic.
expect 0 "demo on the small city" -- "$bin" demo --inventory "$tmp/small" --out "$tmp/sd" --json
ok "captures generated" -- test "$(ls "$tmp/sd/traffic"/*.pcap | wc -l)" -eq 3
ok "and read" -- jq -e '.agent.captures_generated and .agent.gateways == 3' "$tmp/out" >/dev/null

cli_done
