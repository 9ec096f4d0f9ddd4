#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# --policy FILE (compile, query, lint) and --old-policy/--new-policy (diff): another
# policy file against the same inventory means exactly what that file means as the
# inventory's own policy.yaml.
set -u
. "$(dirname "$0")/lib.sh"

"$bin" example --sites 25 --traffic 0 --out "$tmp/inv" >/dev/null || {
	echo "FAIL: example"
	exit 1
}
# A second inventory, identical but for its policy.yaml: the guest WLAN loses the internet.
cp -r "$tmp/inv" "$tmp/alt"
sed '/^  - id: guest-internet$/,/^    owner:/d' "$tmp/inv/policy.yaml" >"$tmp/alt/policy.yaml"
ok "the edit removed a rule" -- test "$(grep -c 'id: guest-internet' "$tmp/alt/policy.yaml")" -eq 0
cp "$tmp/alt/policy.yaml" "$tmp/other.yaml"
day=--date=2026-12-01

# compile: the same rulesets as the inventory holding that file.
expect 0 "compile --policy" -- "$bin" policy compile "$tmp/inv" --policy "$tmp/other.yaml" --out "$tmp/r1" $day
expect 0 "compile the copy" -- "$bin" policy compile "$tmp/alt" --out "$tmp/r2" $day
ok "the same rulesets" -- diff -r "$tmp/r1" "$tmp/r2"
expect 0 "compile without --policy" -- "$bin" policy compile "$tmp/inv" --out "$tmp/r0" $day
ok "and not the inventory's own" -- test -n "$(diff -rq "$tmp/r0" "$tmp/r1")"

# query: a guest address to the internet, denied by the other policy only.
guest=$(awk -F, '$3 == "guest" {split($5, a, "/"); sub(/0$/, "5", a[1]); print a[1]; exit}' "$tmp/inv/segments.csv")
ok "a guest address" -- test -n "$guest"
expect 0 "query the own policy" -- "$bin" policy query "$tmp/inv" --src "$guest" --dst 8.8.8.8 --proto tcp --dport 443 --json $day
same "guest reaches the internet" "$(jq -r .verdict "$tmp/out")" accept
expect 0 "query --policy" -- "$bin" policy query "$tmp/inv" --policy "$tmp/other.yaml" --src "$guest" --dst 8.8.8.8 --proto tcp --dport 443 --json $day
same "not with the other policy" "$(jq -r .verdict "$tmp/out")" drop
echo "$guest 8.8.8.8 tcp 443" >"$tmp/batch"
expect 0 "query --batch --policy" -- "$bin" policy query "$tmp/inv" --batch --policy "$tmp/other.yaml" $day <"$tmp/batch"
same "the batch agrees" "$(jq -r .verdict "$tmp/out")" drop

# lint: findings located in the file given, the same as for the copy.
expect 1 "lint --policy" -- "$bin" policy lint "$tmp/inv" --policy "$tmp/other.yaml" $day --json
jq -S 'del(.policy) | .findings |= map(del(.file))' "$tmp/out" >"$tmp/l1"
same "findings name the file" "$(jq -r .policy "$tmp/out")" "$tmp/other.yaml"
expect 1 "lint the copy" -- "$bin" policy lint "$tmp/alt" $day --json
jq -S 'del(.policy) | .findings |= map(del(.file))' "$tmp/out" >"$tmp/l2"
ok "the same findings" -- cmp -s "$tmp/l1" "$tmp/l2"

# diff: --new-policy against one inventory equals the diff of the two directories.
expect 1 "diff --new-policy" -- "$bin" policy diff "$tmp/inv" "$tmp/inv" --new-policy "$tmp/other.yaml" $day --json
jq -S 'del(.new)' "$tmp/out" >"$tmp/d1"
expect 1 "diff of the directories" -- "$bin" policy diff "$tmp/inv" "$tmp/alt" $day --json
jq -S 'del(.new)' "$tmp/out" >"$tmp/d2"
ok "the same changes" -- cmp -s "$tmp/d1" "$tmp/d2"
grep_in "$tmp/d1" '"guest-internet"' "the change names the removed rule"
expect 0 "--old-policy and --new-policy the same file" -- "$bin" policy diff "$tmp/inv" "$tmp/alt" --old-policy "$tmp/other.yaml" --new-policy "$tmp/other.yaml" $day
expect 1 "--old-policy alone" -- "$bin" policy diff "$tmp/inv" "$tmp/inv" --old-policy "$tmp/other.yaml" $day --json
same "the change the other way" "$(jq -r '[.changes[] | select(.before.verdict == "drop" and .after.rule == "guest-internet")] | length > 0' "$tmp/out")" true

# Errors in the file given are located there; nothing is written.
printf 'rules:\n  - id: x\n    from: [admn]\n    to: any\n    services: any\n    action: accept\n' >"$tmp/bad.yaml"
expect 3 "compile a bad --policy" -- "$bin" policy compile "$tmp/inv" --policy "$tmp/bad.yaml" --out "$tmp/rb"
grep_in "$tmp/err" "$tmp/bad.yaml:3:12: error: unknown zone 'admn'" "located in the file given"
ok "nothing written" -- test ! -e "$tmp/rb"
expect 3 "lint a bad --policy" -- "$bin" policy lint "$tmp/inv" --policy "$tmp/bad.yaml"
expect 3 "query a bad --policy" -- "$bin" policy query "$tmp/inv" --policy "$tmp/bad.yaml" --src 10.0.0.1 --dst 10.0.0.2 --proto tcp --dport 1
expect 3 "diff a bad --new-policy" -- "$bin" policy diff "$tmp/inv" "$tmp/inv" --new-policy "$tmp/bad.yaml"
expect 3 "a missing --policy" -- "$bin" policy compile "$tmp/inv" --policy "$tmp/none.yaml" --out "$tmp/rn"
grep_in "$tmp/err" "$tmp/none.yaml: error: cannot open" "the missing file named"
# Each command takes only its own options.
expect 2 "lint has no --new-policy" -- "$bin" policy lint "$tmp/inv" --new-policy "$tmp/other.yaml"
expect 2 "diff has no --policy" -- "$bin" policy diff "$tmp/inv" "$tmp/inv" --policy "$tmp/other.yaml"
cli_done
