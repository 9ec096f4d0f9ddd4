#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# segplan example: help, usage errors, the non-empty directory rule, determinism through the CLI.
set -u
. "$(dirname "$0")/lib.sh"

expect 0 "example --help" -- "$bin" example --help
grep_in "$tmp/out" "usage: segplan example" "help on stdout"
expect 0 "help example" -- "$bin" help example
expect 2 "example without --out" -- "$bin" example
grep_in "$tmp/err" "--out DIR is required" "missing --out named"
grep_in "$tmp/err" "usage: segplan example" "usage on stderr"
expect 2 "too few sites" -- "$bin" example --sites 24 --out "$tmp/a"
grep_in "$tmp/err" "--sites must be 25-1000000, not '24'" "range in the message"
expect 2 "sites not a number" -- "$bin" example --sites 8x --out "$tmp/a"
expect 2 "negative seed" -- "$bin" example --seed -1 --out "$tmp/a"
expect 2 "unknown option" -- "$bin" example --sties 10 --out "$tmp/a"
expect 2 "stray argument" -- "$bin" example --out "$tmp/a" extra
ok "nothing written on usage errors" -- test ! -e "$tmp/a"

expect 0 "generate" -- "$bin" example --sites 300 --seed 4 --out "$tmp/a"
ok "twelve files and the traffic captures" -- test "$(ls "$tmp/a" | wc -l)" -eq 13 -a "$(ls "$tmp/a/traffic" | wc -l)" -eq 3
ok "nothing on stdout without --json" -- test ! -s "$tmp/out"
expect 1 "refuses a non-empty directory" -- "$bin" example --sites 300 --seed 4 --out "$tmp/a"
grep_in "$tmp/err" "is not empty (use --force to overwrite)" "says why"
expect 0 "--force" -- "$bin" example --sites 300 --seed 5 --out "$tmp/a" --force --json
grep_in "$tmp/out" '"sites": 300' "json summary"
expect 0 "same seed again" -- "$bin" example --sites 300 --seed 5 --out "$tmp/b"
ok "byte-identical output" -- diff -r "$tmp/a" "$tmp/b"
expect 0 "check accepts the city" -- "$bin" check "$tmp/b"

# The committed example is exactly what the defaults produce.
if [[ -d "$src/examples/stuttgart" ]]; then
	expect 0 "defaults" -- "$bin" example --out "$tmp/c"
	for f in districts.csv sites.csv links.csv segments.csv addressplan.csv interfaces.csv hosts.csv README.md policy.yaml policy-stage2.yaml vpn.yaml rollout.yaml; do
		ok "examples/stuttgart/$f is up to date" -- cmp -s "$tmp/c/$f" "$src/examples/stuttgart/$f"
	done
fi

cli_done
