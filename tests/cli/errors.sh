#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# An error printed is an error obeyed (docs/DESIGN: house style): for every input file
# (policy.yaml, vpn.yaml, rollout.yaml, the CSV tables, summaries) and every command that
# reads it, an `error:` diagnostic means exit 3, nothing on stdout and no output written.
set -u
. "$(dirname "$0")/lib.sh"

"$bin" example --sites 25 --traffic 0 --out "$tmp/good" >/dev/null || {
	echo "FAIL: example"
	exit 1
}

# broken NAME FILE: a copy of the good inventory in $tmp/NAME with a duplicate first key in
# FILE (a YAML) or a row naming an unknown district (a CSV).
broken() {
	rm -rf "${tmp:?}/$1"
	cp -r "$tmp/good" "$tmp/$1"
	case $2 in
	*.yaml)
		local key
		key=$(grep -m1 -E '^[a-z_]+:' "$tmp/$1/$2")
		printf '%s\n' "$key" >>"$tmp/$1/$2"
		;;
	sites.csv)
		sed -i '2s/^\([^,]*,[^,]*,\)[^,]*/\1Nowhere/' "$tmp/$1/$2"
		;;
	esac
}

# refused DESCRIPTION OUTPUT -- command...: exit 3, an error on stderr, nothing on stdout
# (but the demo's progress), OUTPUT (a file or directory) absent afterwards.
refused() {
	local what=$1 output=$2
	shift 2
	rm -rf "$output"
	expect 3 "$what" "$@"
	grep_in "$tmp/err" "error:" "$what: the error is printed"
	if grep -qv '^\[1/[0-9]*\] check  *FAILED' "$tmp/out"; then
		fails=$((fails + 1))
		echo "FAIL: $what: stdout not empty:"
		head -3 "$tmp/out" | sed 's/^/  /'
	else
		passes=$((passes + 1))
	fi
	if [[ -e "$output" ]]; then
		fails=$((fails + 1))
		echo "FAIL: $what: $output written from invalid input"
	else
		passes=$((passes + 1))
	fi
}

out=$tmp/w
for f in policy.yaml vpn.yaml rollout.yaml sites.csv; do
	broken bad "$f"
	refused "check, $f broken" "$out" -- "$bin" check "$tmp/bad"
	refused "report, $f broken" "$out/r.html" -- "$bin" report "$tmp/bad" -o "$out/r.html"
	refused "demo, $f broken" "$out" -- "$bin" demo --inventory "$tmp/bad" --out "$out"
done
grep_in "$tmp/err" "error:" "demo names the error"
for f in policy.yaml sites.csv; do
	broken bad "$f"
	refused "policy compile, $f broken" "$out" -- "$bin" policy compile "$tmp/bad" --out "$out"
	refused "policy compile --site, $f broken" "$out" -- \
		"$bin" policy compile "$tmp/bad" --out "$out" --site DC1
	refused "policy lint, $f broken" "$out" -- "$bin" policy lint "$tmp/bad"
	refused "policy query, $f broken" "$out" -- "$bin" policy query "$tmp/bad" \
		--src 10.0.0.1 --dst 10.0.0.2 --proto tcp --dport 22
	# A policy that fails to load never differs by "0 changes".
	refused "policy diff OLD, $f broken" "$out" -- "$bin" policy diff "$tmp/bad" "$tmp/good"
	refused "policy diff NEW, $f broken" "$out" -- "$bin" policy diff "$tmp/good" "$tmp/bad"
	refused "audit, $f broken" "$out" -- "$bin" audit "$tmp/bad" "$tmp/none.json" \
		--suggest-out "$out"
done
broken bad policy.yaml
refused "policy compile, the duplicate key" "$out" -- "$bin" policy compile "$tmp/bad" --out "$out"
grep_in "$tmp/err" "policy.yaml:242:1: error: duplicate key 'version' (first at line 4)" "the duplicate key is located"
broken bad vpn.yaml
refused "vpn, vpn.yaml broken" "$out" -- "$bin" vpn "$tmp/bad"
grep_in "$tmp/err" "vpn.yaml:" "vpn: located"
broken bad rollout.yaml
refused "rollout, rollout.yaml broken" "$out" -- "$bin" rollout "$tmp/bad"
grep_in "$tmp/err" "rollout.yaml:" "rollout: located"
broken bad sites.csv
refused "topology, sites.csv broken" "$out" -- "$bin" topology "$tmp/bad" --export geojson -o "$out"

# A summary that is not a summary: the audit refuses, reports nothing, writes no suggestions.
printf '{"kind": "segplan-agent-summary", "format": 1,' >"$tmp/trunc.json"
refused "audit of a truncated summary" "$out" -- "$bin" audit "$tmp/good" "$tmp/trunc.json" \
	--suggest-out "$out"
grep_in "$tmp/err" "trunc.json:" "audit: the summary is named"
refused "report with a truncated summary" "$out" -- "$bin" report "$tmp/good" \
	"$tmp/trunc.json" -o "$out"

# The good inventory passes every one of them (the test above tests the breakage).
expect 0 "check of the good inventory" -- "$bin" check "$tmp/good"
expect 0 "compile of the good inventory" -- "$bin" policy compile "$tmp/good" --out "$out"
expect 0 "diff of the good inventory with itself" -- "$bin" policy diff "$tmp/good" "$tmp/good"
grep_in "$tmp/out" "0 changes" "no changes"
cli_done
