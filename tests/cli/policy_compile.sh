#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# segplan policy compile --site: every --site given is compiled, never only the last one.
set -u
. "$(dirname "$0")/lib.sh"

"$bin" example --sites 25 --traffic 0 --out "$tmp/inv" >/dev/null || {
	echo "FAIL: example"
	exit 1
}
a=$(awk -F, 'NR==3{print $1}' "$tmp/inv/sites.csv")
b=$(awk -F, 'NR==8{print $1}' "$tmp/inv/sites.csv")

expect 0 "one --site" -- "$bin" policy compile "$tmp/inv" --out "$tmp/one" --site "$a"
same "one gateway" "$(ls "$tmp/one" | sort | tr '\n' ' ')" "$a.nft $a.policy.json "
expect 0 "--site twice" -- "$bin" policy compile "$tmp/inv" --out "$tmp/two" --site "$a" -s "$b" --json
same "both gateways" "$(ls "$tmp/two" | sort | tr '\n' ' ')" \
	"$(printf '%s\n' "$a.nft" "$a.policy.json" "$b.nft" "$b.policy.json" | sort | tr '\n' ' ')"
same "the summary counts both" "$(jq .gateways "$tmp/out")" 2
ok "each as compiled alone" -- cmp -s "$tmp/one/$a.nft" "$tmp/two/$a.nft"
expect 0 "the same --site twice" -- "$bin" policy compile "$tmp/inv" --out "$tmp/same" --site "$a" --site "$a" --json
same "compiled once" "$(jq .gateways "$tmp/out")" 1
# Every unknown site is named, and nothing is written.
expect 3 "unknown sites" -- "$bin" policy compile "$tmp/inv" --out "$tmp/bad" --site NOPE1 --site "$a" --site NOPE2
grep_in "$tmp/err" "unknown site 'NOPE1'" "the first unknown site"
grep_in "$tmp/err" "unknown site 'NOPE2'" "the second unknown site"
ok "nothing written" -- test ! -e "$tmp/bad"
cli_done
