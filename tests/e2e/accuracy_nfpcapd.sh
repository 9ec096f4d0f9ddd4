#!/bin/bash
# SPDX-License-Identifier: MIT
# Flow accuracy against nfdump's nfpcapd: synthetic captures (flowtool
# accuracy: heavy-tailed flow sizes, IPv4 and IPv6, 802.1Q and QinQ tags,
# fragments, idle gaps longer than the timeouts, TCP flows that start
# mid-stream) read by segplan-agent --read and by nfpcapd -r, with aligned
# timeouts (idle 60 s, active 3600 s). After the normalisation of
# docs/agent.md ("Accuracy against nfpcapd"), every flow's packets and bytes
# per direction must be equal: flowtool compare sums nfpcapd's
# unidirectional records into the agent's biflow whose time span holds them.
# Files only, no network: never skipped (except without nfdump outside CI).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

tool=${SEGPLAN_FLOWTOOL:-}
agent=${SEGPLAN_AGENT:-}
if [ -n "${SEGPLAN_BIN:-}" ]; then
	[ -n "$tool" ] || tool=$(dirname "$SEGPLAN_BIN")/tests/flowtool
	[ -n "$agent" ] || agent=$(dirname "$SEGPLAN_BIN")/agent/segplan-agent
fi
if [ ! -x "$tool" ] || [ ! -x "$agent" ]; then
	e2e_log "FAIL: flowtool or segplan-agent not found (set SEGPLAN_FLOWTOOL, SEGPLAN_AGENT)"
	exit 1
fi
for p in nfpcapd nfdump; do
	if ! command -v "$p" >/dev/null; then
		if [ "${CI:-}" = "true" ]; then
			e2e_log "FAIL: $p is missing (scripts/deps.sh installs it)"
			exit 1
		fi
		e2e_log "SKIP: $p is missing (scripts/deps.sh installs it)"
		exit 77
	fi
done
e2e_tmp
tmp=$E2E_TMP

# Only QinQ flows (initiators in 10.255/16, 2001:db8:ff::/48) may be the
# agent's alone.
only_qinq() {
	! grep '^agent-only' "$1" | grep -vq ' 10\.255\.\| 2001:db8:ff::'
}

same_positive() {
	[ -n "$1" ] && [ "$1" = "$2" ] && [ "$1" -gt 0 ]
}
export TZ=UTC

run() {
	local name=$1 seed=$2 flows=$3 dir="$tmp/$1"
	mkdir -p "$dir/nf"
	"$tool" accuracy "$dir/cap.pcap" "$seed" "$flows" vlan,qinq,frag,gap,midstream \
		"$dir/frags.csv" >"$dir/gen.txt"
	e2e_check "$name: capture written" test -s "$dir/cap.pcap"
	read -r _ nflows _ ngaps _ _ <"$dir/gen.txt"
	timeout 120 "$agent" --read "$dir/cap.pcap" --flows-out "$dir/agent.jsonl" --stats \
		--timeout tcp=60 --timeout udp=60 --timeout icmp=60 --timeout other=60 \
		--timeout active=3600 >"$dir/stats.json"
	e2e_check "$name: segplan-agent read the capture" [ $? -eq 0 ]
	e2e_check "$name: every packet decoded" \
		[ "$(jq '.packets_not_decoded' "$dir/stats.json")" = 0 ]
	e2e_check "$name: one record per flow and per idle gap ($nflows + $ngaps)" \
		[ "$(wc -l <"$dir/agent.jsonl")" -eq $((nflows + ngaps)) ]
	timeout 120 nfpcapd -r "$dir/cap.pcap" -w "$dir/nf" -e 3600,60 >"$dir/nfpcapd.log" 2>&1
	e2e_check "$name: nfpcapd read the capture" [ $? -eq 0 ]
	timeout 60 nfdump -R "$dir/nf" -o json >"$dir/nf.json"
	"$tool" compare "$dir/agent.jsonl" "$dir/nf.json" "$dir/frags.csv" >"$dir/cmp.txt"
	e2e_check "$name: packets and bytes equal per flow and direction" [ $? -eq 0 ]
	grep -v '^agent-only\|^summary' "$dir/cmp.txt" | head -20 >&2
	# nfpcapd skips QinQ frames: exactly those packets are the agent's alone.
	e2e_check "$name: flows only the agent has are QinQ ones" only_qinq "$dir/cmp.txt"
	local skipped only
	skipped=$(sed -n 's/.*Total: Processed: [0-9]*, skipped: \([0-9]*\),.*/\1/p' \
		"$dir/nfpcapd.log")
	only=$(sed -n 's/^summary: .*records, \([0-9]*\) agent-only packets.*/\1/p' "$dir/cmp.txt")
	e2e_check "$name: QinQ packets ($only) are what nfpcapd skipped ($skipped)" \
		same_positive "$only" "$skipped"
	e2e_check "$name: fragments were in the capture" test -s "$dir/frags.csv"
	e2e_log "$name: $(tail -1 "$dir/cmp.txt")"
}

run small 7 300
run large 11 3000
e2e_done
