#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# segplan's command line: exit codes, help, usage errors, check on good and bad input.
set -u
. "$(dirname "$0")/lib.sh"

expect 2 "no command" -- "$bin"
expect 0 "--help" -- "$bin" --help
grep_in "$tmp/out" "usage: segplan <command>" "help on stdout"
expect 0 "--version" -- "$bin" --version
expect 2 "unknown command" -- "$bin" chek
grep_in "$tmp/err" "unknown command 'chek' (did you mean 'check'?)" "command suggestion"
expect 0 "check --help" -- "$bin" check --help
grep_in "$tmp/out" "usage: segplan check" "check help on stdout"
expect 0 "help check" -- "$bin" help check
# Every command of the table: --help on stdout with exit 0, misuse exits 2.
for cmd in $("$bin" --help | awk '/^commands:/{on=1; next} on && NF==0{exit} on{print $1}'); do
	expect 0 "$cmd --help" -- "$bin" "$cmd" --help
	grep_in "$tmp/out" "usage: segplan $cmd" "$cmd help names its usage"
	expect 2 "$cmd with an unknown option" -- "$bin" "$cmd" --no-such-option
done
# Exact keywords only: getopt_long's unambiguous prefixes are refused everywhere.
expect 2 "a prefix of --json" -- "$bin" check --jso "$src/examples/stuttgart"
grep_in "$tmp/err" "unknown option '--jso'" "the prefix is named"
expect 2 "a prefix of --threshold" -- "$bin" topology "$src/examples/stuttgart" --thresh 50
expect 2 "a prefix of --mode" -- "$bin" policy compile "$src/examples/stuttgart" --out "$tmp/x" --mod observe
expect 2 "a prefix of --netns" -- "$bin" policy status --net x
expect 2 "check without inventory" -- "$bin" check
grep_in "$tmp/err" "usage: segplan check" "usage on stderr"
expect 2 "check with a bad option" -- "$bin" check --bogus "$src/examples/stuttgart"

if [[ -d "$src/examples/stuttgart" ]]; then
	expect 0 "check of the example" -- "$bin" check "$src/examples/stuttgart"
	grep_in "$tmp/out" "ok:" "check summary"
	expect 0 "check --json" -- "$bin" check --json "$src/examples/stuttgart"
	grep_in "$tmp/out" '"valid": true' "json summary"
	nif=$(($(wc -l <"$src/examples/stuttgart/interfaces.csv") - 1))
	grep_in "$tmp/out" "\"interfaces\": $nif" "interfaces in the json summary"
	nhost=$(($(wc -l <"$src/examples/stuttgart/hosts.csv") - 1))
	grep_in "$tmp/out" "\"hosts\": $nhost" "hosts in the json summary"
	# interfaces.csv is optional: an inventory without it is checked as before, quietly.
	cp -r "$src/examples/stuttgart" "$tmp/noif"
	rm "$tmp/noif/interfaces.csv"
	expect 0 "check without interfaces.csv" -- "$bin" check "$tmp/noif"
	grep_in "$tmp/out" "4968 segments, 46 address-plan prefixes" "no interface count"
	grep_in "$tmp/out" ", 0 warnings" "no warning"
	# A wrong row is a located error like any other: exit 3.
	cp "$src/examples/stuttgart/interfaces.csv" "$tmp/noif/"
	sed -i '2s/,segment,admin,/,segment,admn,/' "$tmp/noif/interfaces.csv"
	expect 3 "check with a broken interfaces.csv" -- "$bin" check "$tmp/noif"
	grep_in "$tmp/err" "$tmp/noif/interfaces.csv:2:21: error: site 'DC1' has no segment 'admn' (did you mean 'admin'?)" "located interface error"
	# hosts.csv likewise: optional, and checked like the other tables.
	cp -r "$src/examples/stuttgart" "$tmp/hosts"
	expect 0 "check with hosts.csv" -- "$bin" check "$tmp/hosts"
	grep_in "$tmp/out" ", $nhost hosts," "hosts in the summary"
	rm "$tmp/hosts/hosts.csv"
	expect 0 "check without hosts.csv" -- "$bin" check "$tmp/hosts"
	ok "no host count" -- test "$(grep -cF ' hosts,' "$tmp/out")" -eq 0
	cp "$src/examples/stuttgart/hosts.csv" "$tmp/hosts/"
	sed -i '2s/^dc1-dns1,DC1,/dc1-dns1,DC,/; 3s/^dc1-dns2,DC1,/dc1-dns2,DC2,/' "$tmp/hosts/hosts.csv"
	expect 3 "check with a broken hosts.csv" -- "$bin" check "$tmp/hosts"
	grep_in "$tmp/err" "$tmp/hosts/hosts.csv:2:10: error: unknown site 'DC' (did you mean 'DC1'?)" "located host error"
	grep_in "$tmp/err" "$tmp/hosts/hosts.csv:3:14: error: 10.6.0.11 is not inside a segment of site 'DC2'" "host outside its site"
fi

# A broken inventory: exit 3, every error at once, nothing on stdout.
mkdir -p "$tmp/bad"
printf 'name,lat,lon,radius_m\nMitte,48.77,9.18,2000\n' >"$tmp/bad/districts.csv"
printf 'id,name,district,type,lat,lon,staff,broadband,current_mbps,required_mbps,flags\nDC1,RZ,Mite,data_centre,48.77,9.18,1,fibre,1,1,primary\n' >"$tmp/bad/sites.csv"
printf 'id,a,b,kind,capacity_mbps,length_m,cost_eur\nL1,DC1,DC2,fibre,1,1,\n' >"$tmp/bad/links.csv"
printf 'site,name,zone,vlan,ipv4,ipv6\n' >"$tmp/bad/segments.csv"
expect 3 "check of a broken inventory" -- "$bin" check "$tmp/bad"
grep_in "$tmp/err" "$tmp/bad/sites.csv:2:8: error: unknown district 'Mite' (did you mean 'Mitte'?)" "located error"
grep_in "$tmp/err" "$tmp/bad/links.csv:2:8: error: unknown site 'DC2' (did you mean 'DC1'?)" "second file's error"
grep_in "$tmp/err" "2 errors" "error count"
[[ -s "$tmp/out" ]] && { fails=$((fails + 1)); echo "FAIL: stdout not empty on error"; } || passes=$((passes + 1))
expect 3 "check of a missing directory" -- "$bin" check "$tmp/none"

# Commands that write files write nothing from invalid input: no file, no temporary left.
expect 3 "topology export of a broken inventory" -- "$bin" topology "$tmp/bad" --export geojson -o "$tmp/w/city.geojson"
mkdir -p "$tmp/w"
expect 3 "topology export into an existing directory" -- "$bin" topology "$tmp/bad" --export svg -o "$tmp/w/map.svg"
expect 3 "report of a broken inventory" -- "$bin" report "$tmp/bad" -o "$tmp/w/report.html"
expect 3 "compile of a broken inventory" -- "$bin" policy compile "$tmp/bad" --out "$tmp/w/rules"
ok_empty=$(find "$tmp/w" -mindepth 1 | wc -l)
[[ $ok_empty -eq 0 ]] && passes=$((passes + 1)) || { fails=$((fails + 1)); echo "FAIL: files written from invalid input:"; find "$tmp/w" -mindepth 1 | head; }

# The YAML models are checked too, every file's errors at once.
if [[ -d "$src/examples/stuttgart" ]]; then
	cp -r "$src/examples/stuttgart" "$tmp/models"
	sed -i 's/^horizon_years: 5/horizon_yaers: 5/' "$tmp/models/rollout.yaml"
	sed -i '0,/accounts:/s/accounts:/acounts:/' "$tmp/models/vpn.yaml"
	sed -i '0,/from: \[/s/from: \[/from: [admn, /' "$tmp/models/policy.yaml"
	expect 3 "check of broken models" -- "$bin" check "$tmp/models"
	grep_in "$tmp/err" "unknown key 'acounts' (did you mean 'accounts'?)" "vpn.yaml checked"
	grep_in "$tmp/err" "unknown zone 'admn' (did you mean 'admin'?)" "policy.yaml checked"
	grep_in "$tmp/err" "rollout.yaml:3:1: error: unknown key 'horizon_yaers' (did you mean 'horizon_years'?)" "rollout.yaml checked"
fi

cli_done
