#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# segplan policy query: every protocol with ports (core/proto.c) takes --dport
# by name and by number and keeps it in the answer; protocols are exact
# keywords with a suggestion.
set -u
. "$(dirname "$0")/lib.sh"

inv=$src/tests/golden/policy/inventory
q() { "$bin" policy query "$inv" --src 10.0.1.10 --dst 10.1.1.5 --date 2026-01-01 "$@"; }
answer() { jq -e "$1" "$tmp/out" >/dev/null; }
for p in tcp:6 udp:17 dccp:33 sctp:132 udplite:136; do
	name=${p%:*} num=${p#*:}
	for proto in "$name" "$num"; do
		expect 0 "$proto with a port" -- q --proto "$proto" --dport 5004 --json
		ok "$proto: the answer keeps protocol and port" -- answer ".proto == $num and .dport == 5004"
		expect 2 "$proto without --dport" -- q --proto "$proto"
		grep_in "$tmp/err" "needs --dport" "$proto: --dport is asked for"
	done
done
expect 2 "gre has no ports" -- q --proto gre --dport 1
grep_in "$tmp/err" "gre has no ports" "whole protocols take no port"
expect 2 "a near miss" -- q --proto udp-lite --dport 1
grep_in "$tmp/err" "unknown protocol 'udp-lite' (did you mean 'udplite'?)" "protocol suggestion"
cli_done
