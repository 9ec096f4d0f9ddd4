#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What the stage-2 policy closes (README.md, docs/demo.md): the demo's counts of reachable
# address pairs (report/reach.c) recounted another way by tests/tools/reachcount.pl (cells from
# the CSV files alone, one `segplan policy query` per cell pair and relation), for both
# policies and every service; README's table equal to the demo's numbers; the small ones
# derived by hand from hosts.csv; the diff hook in place.
set -u
. "$(dirname "$0")/lib.sh"
if ! command -v jq >/dev/null; then
	echo "jq is missing (scripts/deps.sh installs it)"
	exit 77
fi
inv=$src/examples/stuttgart
day=2026-12-07 # a Monday: the vendors' window is open at 10:00 UTC
at=${day}T10:00:00Z

expect 0 "demo" -- "$bin" demo --inventory "$inv" --out "$tmp/d" --date "$day" --json
s2=$tmp/d/stage2.json
ok "stage2.json parses" -- jq -e '.services | length == 10' "$s2"
same "judged at 10:00 UTC" "$(jq -r .instant "$s2")" "$at"
ok "stage2.txt written" -- grep -q '^all ' "$tmp/d/stage2.txt"
same "the summary carries it" "$(jq -c .stage2.total "$tmp/out")" "$(jq -c .total "$s2")"

# Every number recounted: pairs, and per service the pairs inside and the addresses that
# reach the internet, before (policy.yaml) and after (policy-stage2.yaml).
probes=$(jq -r '[.services[] | "\(.name):\(.proto):\(.port)"] | join(",")' "$s2")
inet=$(jq -r .space.internet "$s2")
mgmt=$(sed -n 's/^management: \[\(.*\)\]$/\1/p' "$inv/policy.yaml" | tr -d ' ')
same "both policies name the same management zones" "$mgmt" \
	"$(sed -n 's/^management: \[\(.*\)\]$/\1/p' "$inv/policy-stage2.yaml" | tr -d ' ')"
for side in before after; do
	pol=$inv/policy.yaml
	[[ $side == after ]] && pol=$inv/policy-stage2.yaml
	perl "$src/tests/tools/reachcount.pl" "$bin" "$inv" "$pol" "$at" 7 "$mgmt" "$probes" "$inet" \
		>"$tmp/$side.json" 2>"$tmp/$side.err"
	same "reachcount $side ran" "$?" 0
	same "$side: pairs a gateway judges" "$(jq .pairs "$tmp/$side.json")" "$(jq .space.pairs "$s2")"
	for n in $(jq -r '.services[].name' "$s2"); do
		same "$side $n: pairs inside" "$(jq ".probes[\"$n\"].inside" "$tmp/$side.json")" \
			"$(jq ".services[] | select(.name == \"$n\") | .$side.inside" "$s2")"
		same "$side $n: to the internet" "$(jq ".probes[\"$n\"].to_internet" "$tmp/$side.json")" \
			"$(jq ".services[] | select(.name == \"$n\") | .$side.to_internet" "$s2")"
	done
done

# README's table is the demo's output.
fmt() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
for n in $(jq -r '.services[].name' "$s2"); do
	b=$(jq ".services[] | select(.name == \"$n\") | .before.inside" "$s2")
	a=$(jq ".services[] | select(.name == \"$n\") | .after.inside" "$s2")
	closed=$(jq -rn --argjson b "$b" --argjson a "$a" 'if $b == 0 then (if $a > 0 then "opened" else "-" end) else ((($b - $a) * 1000 / $b | round) / 10 | tostring | if test("\\.") then . else . + ".0" end) + " %" end')
	grep_in "$src/README.md" "| $n | $(jq -r ".services[] | select(.name == \"$n\") | if .proto == 6 then \"tcp\" else \"udp\" end + \"/\(.port)\"" "$s2") | $(fmt "$b") | $(fmt "$a") | $closed |" "README row $n"
done
grep_in "$src/README.md" "| all ten | | $(fmt "$(jq .total.before "$s2")") | $(fmt "$(jq .total.after "$s2")") | $(jq -r '(.total.before - .total.after) * 1000 / .total.before | round / 10 | tostring' "$s2") % |" "README total"
grep_in "$src/README.md" "($(fmt "$(jq .space.addresses "$s2")") in" "README address count"
grep_in "$src/docs/demo.md" "For the example: $(fmt "$(jq .space.pieces "$s2")") pieces, $(jq .space.classes "$s2") classes" "docs/demo.md's pieces and classes"
grep_in "$src/README.md" "$(fmt "$(jq '.services[] | select(.name == "smtp") | .after.to_internet' "$s2")") addresses at the sites instead of $(fmt "$(jq '.services[] | select(.name == "smtp") | .before.to_internet' "$s2")"): the two relays" "README mail to the internet"
"$bin" policy compile "$inv" --policy "$inv/policy-stage2.yaml" --out "$tmp/r2" --date "$day" --json >"$tmp/c2.json"
grep_in "$src/README.md" "$(fmt "$(jq .rules "$s2")") nft" "README rules"
grep_in "$src/README.md" "rules instead of $(fmt "$(jq .policy.rules "$tmp/out")") (at most $(jq .max_rules "$tmp/c2.json") a gateway)" "README rules before, and per gateway"
same "six assertions" "$(grep -c '^  - id:' <(sed -n '/^assertions:/,$p' "$inv/policy-stage2.yaml"))" 6
grep_in "$src/README.md" "six assertions, which" "README's assertions"
"$bin" policy lint "$inv" --policy "$inv/policy-stage2.yaml" --date "$day" --json >"$tmp/lint.json"
same "lint: no assertion fails" "$(jq '[.findings[] | select(.kind == "assertion")] | length' "$tmp/lint.json")" 0
grep_in "$src/README.md" "$(fmt "$(jq .set_elements "$s2")") set elements instead of $(fmt "$(jq .policy.set_elements "$tmp/out")")" "README set elements"

# The small numbers by hand: each vendor range is a /26 (64 addresses) reaching its own
# controllers (vendor=... in hosts.csv, for the vendors with a rule), the ERP vendor's the
# payroll application and database servers; mail leaves from the guest WLAN and two relays.
vendors=$(grep -o '^  - id: vendor-[a-z-]*' "$inv/policy-stage2.yaml" | sed 's/.*vendor-//' | paste -sd'|')
ctl=$(awk -F, -v v="^($vendors)\$" '{ for (i = 1; i <= split($4, l, " "); i++) if (l[i] ~ /^vendor=/) { sub(/^vendor=/, "", l[i]); if (l[i] ~ v) n++ } } END { print n + 0 }' "$inv/hosts.csv")
pay=$(grep -c 'app=payroll env=[a-z]* role=\(app\|db\)' "$inv/hosts.csv")
same "ssh after: 64 x (controllers + payroll app/db)" "$(jq '.services[] | select(.name == "ssh") | .after.inside' "$s2")" $((64 * (ctl + pay)))
same "rdp after: 64 x payroll app/db" "$(jq '.services[] | select(.name == "rdp") | .after.inside' "$s2")" $((64 * pay))
same "8 controllers, 4 payroll servers" "$ctl $pay" "8 4"
guest=$(awk -F, 'NR == FNR { if ($3 ~ /^[0-9.]+\//) gw[$3] = 1; next } FNR > 1 && $3 == "guest" && $5 != "" { split($5, p, "/"); n += 2 ^ (32 - p[2]) } END { print n }' "$inv/interfaces.csv" "$inv/segments.csv")
gws=$(awk -F, 'NR == FNR { if ($3 == "guest" && $5 != "") seg[$1 "," $2] = 1; next } FNR > 1 && ($1 "," $4) in seg && $6 != "" { n++ } END { print n + 0 }' "$inv/segments.csv" "$inv/interfaces.csv")
same "smtp to the internet after: guest WLAN + 2 relays" \
	"$(jq '.services[] | select(.name == "smtp") | .after.to_internet' "$s2")" $((guest - gws + 2))

# The hook: segplan policy diff's view of the same two policies, beside the counts.
ok "the diff is there" -- jq -e '.changes | type == "array"' "$tmp/d/policy-diff-stage2.json"
same "its changes counted" "$(jq .diff.changes "$s2")" "$(jq '.changes | length' "$tmp/d/policy-diff-stage2.json")"
same "its new policy" "$(jq -r .new "$tmp/d/policy-diff-stage2.json")" "$inv/policy-stage2.yaml"
grep_in "$tmp/d/stage2.txt" "segplan policy diff: $(jq .diff.changes "$s2") changes" "stage2.txt names it"
grep_in "$src/README.md" "($(jq .diff.changes "$s2") changes;" "README's count of the diff's changes"
# Every service whose count changes has a change in the diff that covers its port, with the
# verdict going the same way (closed: accept before; opened: accept after).
for n in $(jq -r '.services[].name' "$s2"); do
	read -r proto port b a < <(jq -r ".services[] | select(.name == \"$n\") | \"\(if .proto == 6 then \"tcp\" else \"udp\" end) \(.port) \(.before.inside) \(.after.inside)\"" "$s2")
	[[ $b == "$a" ]] && continue
	way=$([[ $b -gt $a ]] && echo before || echo after)
	hits=$(jq --arg p "$proto" --argjson n "$port" --arg w "$way" '[.changes[] | select(.[$w].verdict == "accept") |
		select(any(.services[]; . == "any" or . == $p or (startswith($p + "/") and (ltrimstr($p + "/") | split("-") | map(tonumber) | (.[0] <= $n and $n <= .[-1])))))] | length' \
		"$tmp/d/policy-diff-stage2.json")
	ok "the diff has $n ($proto/$port) changing from accept $way" -- test "$hits" -gt 0
done

# Without a stage-2 policy the step says so and writes nothing of it.
mkdir "$tmp/plain"
cp "$inv"/*.csv "$inv/policy.yaml" "$inv/vpn.yaml" "$inv/rollout.yaml" "$tmp/plain/"
cp -r "$inv/traffic" "$tmp/plain/"
expect 0 "demo without policy-stage2.yaml" -- "$bin" demo --inventory "$tmp/plain" --out "$tmp/p" --date "$day" --json
same "no stage-2 summary" "$(jq -c .stage2 "$tmp/out")" null
ok "no stage-2 outputs" -- test ! -e "$tmp/p/stage2.json" -a ! -e "$tmp/p/rules-stage2"
# A broken one stops the demo at that step, located.
sed 's/to: resolvers/to: resolverz/' "$inv/policy-stage2.yaml" >"$tmp/plain/policy-stage2.yaml"
expect 3 "demo with a broken policy-stage2.yaml" -- "$bin" demo --inventory "$tmp/plain" --out "$tmp/q" --date "$day"
grep_in "$tmp/err" "policy-stage2.yaml:" "the error is located"
grep_in "$tmp/err" "step 'stage 2' failed" "the step is named"
cli_done
