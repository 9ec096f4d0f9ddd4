#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The stage-2 policy of the example city (examples/stuttgart/policy-stage2.yaml) compiles
# into rulesets that nft accepts: `nft -c -f` in a scratch network namespace for a sample
# of 60 gateways of every kind (both data centres, every town hall, fire stations, schools,
# offices, ...), and for the data centres of a generated 10,000-site city, whose rulesets
# carry the set of every gateway offering SNMP (its uplink and transfer addresses). All 850 by hand:
#   STAGE2_ALL=1 bash tests/e2e/stage2_example_nft.sh
set -u
. "$(dirname "$0")/lib.sh"
e2e_require_root
command -v nft >/dev/null || {
	e2e_log "FAIL: nft is missing"
	exit 1
}
bin=${SEGPLAN_BIN:?}
src=${SEGPLAN_SRC:?}
e2e_tmp
tmp=$E2E_TMP
inv=$src/examples/stuttgart
pol=$inv/policy-stage2.yaml
day=2026-12-07
e2e_ns_add chk
ns=$(e2e_ns_name chk)

e2e_check "the stage-2 policy compiles" "$bin" policy compile "$inv" --policy "$pol" --out "$tmp/rules" --date "$day"
e2e_check "one ruleset per site" test "$(ls "$tmp"/rules/*.nft | wc -l)" -eq "$(($(wc -l <"$inv/sites.csv") - 1))"

# The sample: both data centres, every town hall, then by type the first sites of each
# (fire stations, schools, offices, nurseries, libraries, citizen offices, depots, museums),
# and the sites with a vendor's controller or an exception.
sample() {
	awk -F, 'NR > 1 {
		t = $4
		if (t == "data_centre" || t == "town_hall") { print $1; next }
		want["fire_station"] = 8; want["school"] = 8; want["office"] = 4; want["nursery"] = 2
		want["library"] = 2; want["citizen_office"] = 2; want["depot"] = 2; want["museum"] = 2
		if (n[t]++ < want[t]) print $1
	}' "$inv/sites.csv"
	awk -F, '$4 ~ /vendor=/ && $2 != "" { print $2 }' "$inv/hosts.csv"
	echo S000003
}
if [ -n "${STAGE2_ALL:-}" ]; then
	sites=$(cd "$tmp/rules" && ls *.nft | sed 's/\.nft$//')
else
	sites=$(sample | sort -u)
fi
n=0 bad=0
for s in $sites; do
	n=$((n + 1))
	if ! out=$(ip netns exec "$ns" nft -c -f "$tmp/rules/$s.nft" 2>&1); then
		bad=$((bad + 1))
		e2e_log "nft -c refuses $s.nft: $(printf '%s' "$out" | head -3)"
	fi
done
e2e_check "nft -c accepts every ruleset of the sample ($n gateways, $bad refused)" test "$bad" -eq 0
[ -n "${STAGE2_ALL:-}" ] || e2e_check "the sample holds at least 60 gateways ($n)" test "$n" -ge 60
printf '%s\n' $sites >"$tmp/sample"
for k in data_centre town_hall fire_station school; do
	have=$(awk -F, -v k="$k" 'NR == FNR { s[$1] = 1; next } $4 == k && ($1 in s) { n++ } END { print n + 0 }' "$tmp/sample" "$inv/sites.csv")
	e2e_check "the sample has $k sites ($have)" test "$have" -gt 1
done
# What the stage-2 rules put in: sets of objects, labels, site groups, the time window,
# the per-source limiter and the gateway service's input rule.
for want in "set o_resolvers_v4" "set x_state-dc_v4" "meta time @w_vendor-stulz" "set ls_mgmt-ssh-limited_v4" \
	'comment "rule:snmp-monitoring"' "set g_snmp-monitoring_v4"; do
	e2e_check "DC1 has: $want" grep -qF -- "$want" "$tmp/rules/DC1.nft"
done
e2e_check "a fire station's alarm calls" grep -qF 'comment "rule:fire-station-alarm-calls"' "$tmp/rules/S000002.nft"
e2e_check "and not at a school" ! grep -qF 'rule:fire-station-alarm-calls' "$tmp/rules/S000003.nft"

# A ruleset nft rejects is reported as such: the check can fail.
sed 's/meta time @w_vendor-stulz/meta time @w_no_such_set/' "$tmp/rules/DC1.nft" >"$tmp/broken.nft"
e2e_check "a broken ruleset is refused" ! ip netns exec "$ns" nft -c -f "$tmp/broken.nft"

# The data centres of a generated 10,000-site city: the largest sets.
"$bin" example --sites 10000 --traffic 0 --out "$tmp/city" >/dev/null
e2e_check "its policy-stage2.yaml loads and compiles" "$bin" policy compile "$tmp/city" --policy "$tmp/city/policy-stage2.yaml" --out "$tmp/city-rules" --site DC1 --site DC2 --date "$day"
for s in DC1 DC2; do
	e2e_check "nft -c accepts the 10,000-site city's $s.nft" ip netns exec "$ns" nft -c -f "$tmp/city-rules/$s.nft"
done
e2e_done
