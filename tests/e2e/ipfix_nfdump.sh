#!/bin/bash
# SPDX-License-Identifier: MIT
# IPFIX interoperability with nfdump's collector: a capture of known flows
# (written by tests/tools/flowtool with craft/craft.h) goes through the
# agent library (decoder -> flow table -> IPFIX exporter, agent/ipfix.c) to
# nfcapd on a loopback UDP port; nfdump must then show exactly the exported
# biflows: 5-tuples, packets and bytes of both directions (RFC 5103 reverse
# counters appear as nfdump's out_packets/out_bytes), first and last times
# to the millisecond, the initiator's TCP flags and VLAN. A second round
# with --pseudonymise's key: the collector sees pseudonyms, never an address
# of the capture. Loopback only, no root needed, so never skipped (except
# without nfdump outside CI).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

src=${SEGPLAN_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
tool=${SEGPLAN_FLOWTOOL:-}
if [ -z "$tool" ] && [ -n "${SEGPLAN_BIN:-}" ]; then
	tool=$(dirname "$SEGPLAN_BIN")/tests/flowtool
fi
if [ ! -x "$tool" ]; then
	e2e_log "FAIL: tests/tools/flowtool not found (set SEGPLAN_FLOWTOOL)"
	exit 1
fi
for p in nfcapd nfdump jq; do
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
export TZ=UTC

# nfcapd on a free loopback port; sets NFCAPD_PID. Bounded: 5 s.
start_nfcapd() {
	local dir=$1 try port
	mkdir -p "$dir"
	for try in $(seq 10); do
		port=$((20000 + RANDOM % 40000))
		[ -z "$(ss -Hlun "sport = :$port")" ] || continue
		nfcapd -b 127.0.0.1 -p "$port" -w "$dir" >"$dir.log" 2>&1 &
		NFCAPD_PID=$!
		E2E_PIDS+=("$NFCAPD_PID")
		for _ in $(seq 50); do
			if [ -n "$(ss -Hlun "sport = :$port")" ]; then
				NFCAPD_PORT=$port
				return 0
			fi
			kill -0 "$NFCAPD_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill "$NFCAPD_PID" 2>/dev/null
		wait "$NFCAPD_PID" 2>/dev/null
	done
	e2e_log "nfcapd did not start: $(cat "$dir.log")"
	return 1
}

# Stops nfcapd, which closes its file on SIGTERM; bounded: 10 s.
stop_nfcapd() {
	kill -TERM "$NFCAPD_PID" 2>/dev/null
	for _ in $(seq 100); do
		kill -0 "$NFCAPD_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$NFCAPD_PID" 2>/dev/null
	wait "$NFCAPD_PID" 2>/dev/null
	return 0
}

# nfdump's records as flowtool prints them (ICMP type/code as the port).
nfdump_csv() {
	timeout 30 nfdump -R "$1" -o json | jq -r '
		.[] | select(.type == "FLOW") |
		def ms(t): (t | sub("\\.[0-9]+$"; "") + "Z" | fromdateiso8601) * 1000
			+ (t | capture("\\.(?<f>[0-9]+)$").f | tonumber);
		[ .proto, (.src4_addr // .src6_addr), (.src_port // 0),
		  (.dst4_addr // .dst6_addr),
		  (if .icmp_type != null then .icmp_type * 256 + .icmp_code else .dst_port end),
		  .in_packets, .in_bytes, .out_packets, .out_bytes, ms(.first), ms(.last) ]
		| map(tostring) | join(",")' | sort
}

"$tool" interop "$tmp/known.pcap"
e2e_check "flowtool wrote the capture" test -s "$tmp/known.pcap"

# Round 1: plain addresses.
if start_nfcapd "$tmp/col1"; then
	timeout 30 "$tool" export "$tmp/known.pcap" "127.0.0.1:$NFCAPD_PORT" 7 \
		>"$tmp/sent1.csv" 2>"$tmp/export1.log"
	e2e_check "the exporter sent every record without a send error" [ $? -eq 0 ]
	sleep 0.5
	stop_nfcapd
	sort "$tmp/sent1.csv" >"$tmp/want1.csv"
	nfdump_csv "$tmp/col1" >"$tmp/got1.csv"
	e2e_check "8 known flows exported" [ "$(wc -l <"$tmp/want1.csv")" -eq 8 ]
	e2e_check "nfdump shows exactly the exported flows (tuples, both directions, times)" \
		diff -u "$tmp/want1.csv" "$tmp/got1.csv"
	e2e_check "IPv4 TCP biflow 10.1.0.1:40001 -> 10.2.0.1:443: 7/6 packets" \
		grep -q '^6,10.1.0.1,40001,10.2.0.1,443,7,[0-9]*,6,' "$tmp/got1.csv"
	e2e_check "IPv6 UDP flow without replies: reverse counters 0" \
		grep -q '^17,2001:db8:1::2,6000,2001:db8:2::2,123,4,[0-9]*,0,0,' "$tmp/got1.csv"
	e2e_check "ICMP echo: request type 8 code 0 shown as 2048" \
		grep -q '^1,10.1.0.3,0,10.2.0.3,2048,3,' "$tmp/got1.csv"
	flags=$(timeout 30 nfdump -R "$tmp/col1" -q -o csv 'proto tcp and src ip 10.1.0.1' |
		cut -d, -f9)
	e2e_check "TCP flags are the initiator's (SYN, ACK, PSH, FIN; the reply's RST not)" \
		[ "$flags" = "...AP.SF" ]
	vlan=$(timeout 30 nfdump -R "$tmp/col1" -o json 'src ip 10.1.0.4' |
		jq -r '.[] | select(.type == "FLOW") | .src_vlan')
	e2e_check "VLAN of the initiator's packets (42; the replies' 43 is the reverse vlanId)" \
		[ "$vlan" = 42 ]
	e2e_check "no sequence errors at the collector" \
		grep -q 'Sequence Errors: 0' "$tmp/col1.log"
fi

# Round 2: pseudonymised.
head -c 32 /dev/urandom >"$tmp/key"
chmod 600 "$tmp/key"
if start_nfcapd "$tmp/col2"; then
	timeout 30 "$tool" export "$tmp/known.pcap" "127.0.0.1:$NFCAPD_PORT" 8 "$tmp/key" \
		>"$tmp/sent2.csv" 2>"$tmp/export2.log"
	e2e_check "pseudonymised export without a send error" [ $? -eq 0 ]
	sleep 0.5
	stop_nfcapd
	sort "$tmp/sent2.csv" >"$tmp/want2.csv"
	nfdump_csv "$tmp/col2" >"$tmp/got2.csv"
	e2e_check "nfdump shows the pseudonymised flows as exported" \
		diff -u "$tmp/want2.csv" "$tmp/got2.csv"
	e2e_check "8 pseudonymised flows" [ "$(wc -l <"$tmp/got2.csv")" -eq 8 ]
	e2e_check "no address of the capture reaches the collector" \
		! grep -Eq '10\.[12]\.0\.|2001:db8:[12]::' "$tmp/got2.csv"
	e2e_check "IPv4 pseudonyms are in 240.0.0.0/4, IPv6 ones in 2001:db8::/64" \
		awk -F, '{ if ($2 !~ /^2(4[0-9]|5[0-5])\./ && $2 !~ /^2001:db8::/) exit 1 }' \
		"$tmp/got2.csv"
	e2e_check "same counters as without pseudonyms" \
		diff <(cut -d, -f1,6-11 "$tmp/want1.csv" | sort) <(cut -d, -f1,6-11 "$tmp/got2.csv" | sort)
fi
# Round 3: the agent program itself, --read with --ipfix and --pseudonymise: the
# collector gets every flow of the JSON lines, and no output holds a raw address.
agent=${SEGPLAN_AGENT:-$(dirname "${SEGPLAN_BIN:?}")/agent/segplan-agent}
if start_nfcapd "$tmp/col3"; then
	timeout 30 "$agent" --read "$tmp/known.pcap" --ipfix "127.0.0.1:$NFCAPD_PORT" \
		--pseudonymise "$tmp/key" --flows-out "$tmp/agent.jsonl" --summary "$tmp/agent.json" \
		>"$tmp/agent.out" 2>"$tmp/agent.err"
	e2e_check "segplan-agent --ipfix --pseudonymise exits 0" [ $? -eq 0 ]
	sleep 0.5
	stop_nfcapd
	e2e_check "the collector has one record per flow line" \
		[ "$(timeout 30 nfdump -R "$tmp/col3" -o json | jq '[.[] | select(.type == "FLOW")] | length')" \
		-eq "$(wc -l <"$tmp/agent.jsonl")" ]
	e2e_check "packets at the collector equal the flow lines' packets" \
		[ "$(timeout 30 nfdump -R "$tmp/col3" -o json | jq '[.[] | select(.type == "FLOW") | .in_packets + (.out_packets // 0)] | add')" \
		-eq "$(jq -s 'map(.src_packets + .dst_packets) | add' "$tmp/agent.jsonl")" ]
	e2e_check "no raw address in the flow lines, the summary or at the collector" \
		! grep -Eq '10\.[12]\.0\.|2001:db8:[12]::' "$tmp/agent.jsonl" "$tmp/agent.json" \
		<(timeout 30 nfdump -R "$tmp/col3" -o csv)
	e2e_check "flow lines carry keyed pseudonyms" grep -q '"src":"h:' "$tmp/agent.jsonl"
fi
e2e_done
