#!/bin/bash
# SPDX-License-Identifier: MIT
# segplan-agent's command line for live capture and policy, without root:
# the config file (located errors with suggestions, the command line winning),
# usage errors, a filter libpcap refuses, an unknown interface, and the
# offline summary of a real capture classified with a compiled policy table,
# whose counts agree with the reader's own statistics.
set -uo pipefail

src=${SEGPLAN_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
shared=${SEGPLAN_SHARED:-$src/../shared}
agent=${SEGPLAN_AGENT:-}
if [ -z "$agent" ] && [ -n "${SEGPLAN_BIN:-}" ]; then
	agent=$(dirname "$SEGPLAN_BIN")/agent/segplan-agent
fi
if [ ! -x "$agent" ]; then
	echo "agent_options: segplan-agent not found (set SEGPLAN_AGENT)" >&2
	exit 1
fi
if ! command -v jq >/dev/null; then
	echo "agent_options: jq is required" >&2
	exit 77
fi
tmp=$(mktemp -d /tmp/agent-options.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
jqe() { # jq -e without its output
	jq -e "$@" >/dev/null
}
check() { # WHAT CMD...
	local what=$1
	shift
	if "$@"; then
		echo "ok: $what" >&2
	else
		echo "FAIL: $what" >&2
		fail=1
	fi
}

"$agent" --help >"$tmp/help"
check "--help exits 0" [ $? -eq 0 ]
for opt in --interface --buffer-mb --snaplen --filter --policy --flows-out --rotate-mb \
	--rotate-s --retain-h --summary --interval --spool --spool-max-mb --spool-max-days \
	--config --user SIGHUP SIGUSR1 SIGTERM; do
	check "--help lists $opt" grep -q -- "$opt" "$tmp/help"
done

cat >"$tmp/agent.conf" <<'EOF'
# comment
interface = lo
  polcy = /etc/segplan/x.policy.json
stats = maybe
interval 5
EOF
"$agent" --config "$tmp/agent.conf" 2>"$tmp/err"
check "config errors: exit 3" [ $? -eq 3 ]
check "an unknown name, located, with a suggestion" \
	grep -qF "$tmp/agent.conf:3:3: error: unknown option 'polcy' (did you mean 'policy'?)" "$tmp/err"
check "a flag that is neither true nor false" \
	grep -qF "$tmp/agent.conf:4:9: error: 'stats' wants true or false, not 'maybe'" "$tmp/err"
check "a line without '='" grep -qF "$tmp/agent.conf:5:1: error: expected 'name = value'" "$tmp/err"

printf 'read = %s\nstats = true\n' /nonexistent.pcap >"$tmp/read.conf"
"$agent" --config "$tmp/read.conf" >/dev/null 2>"$tmp/err"
check "config options are used (the missing capture: exit 3)" [ $? -eq 3 ]
check "and name the file" grep -q "/nonexistent.pcap" "$tmp/err"

"$agent" -i lo --filter 'tcp portt 80' 2>"$tmp/err"
check "a filter libpcap refuses: exit 2" [ $? -eq 2 ]
check "with libpcap's reason" grep -q "bad capture filter 'tcp portt 80'" "$tmp/err"
"$agent" -i nosuchif0 2>"$tmp/err"
check "an unknown interface: exit 3" [ $? -eq 3 ]
check "named" grep -q "no interface 'nosuchif0'" "$tmp/err"
"$agent" --read x.pcap -i lo 2>/dev/null
check "--read and --interface exclude each other" [ $? -eq 2 ]
"$agent" --read x.pcap --interval 5 2>/dev/null
check "--interval is for live capture" [ $? -eq 2 ]
"$agent" -i lo -i lo 2>/dev/null
check "an interface given twice" [ $? -eq 2 ]
"$agent" -i lo --polic x 2>/dev/null
check "inexact long options are refused" [ $? -eq 2 ]
"$agent" -i lo --policy "$tmp/agent.conf" 2>"$tmp/err"
check "a policy file that does not load: exit 3" [ $? -eq 3 ]

"$agent" -i lo --spool-max-mb 10 2>"$tmp/err"
check "--spool-max-mb without --spool: exit 2" [ $? -eq 2 ]
check "... saying so" grep -qF -- "--spool-max-mb and --spool-max-days go with --spool" "$tmp/err"
"$agent" -i lo --spool "$tmp/sp" --spool-max-days 0 2>/dev/null
check "--spool-max-days 0: exit 2" [ $? -eq 2 ]
"$agent" -i lo --spool "$tmp/sp" --spool-max-mb x 2>/dev/null
check "--spool-max-mb x: exit 2" [ $? -eq 2 ]

# Offline: a real capture classified with the golden gateway table.
pcap="$shared/pcaps/tcpdump/dns-uri.pcap"
policy="$src/tests/golden/policy/expected/S1.policy.json"
if [ -f "$pcap" ]; then
	"$agent" --read "$pcap" --policy "$policy" --summary "$tmp/s.json" --stats \
		--flows-out "$tmp/f.jsonl" >"$tmp/stats.json" 2>"$tmp/err"
	check "offline with a policy: exit 0" [ $? -eq 0 ]
	# the same with a spool from the config file: one file, the summary with its chain
	printf 'spool = %s\nspool-max-mb = 64\nspool-max-days = 3\n' "$tmp/spool" >"$tmp/spool.conf"
	"$agent" --config "$tmp/spool.conf" --read "$pcap" --policy "$policy" --summary "$tmp/s2.json" \
		2>"$tmp/err"
	check "offline with a spool: exit 0" [ $? -eq 0 ]
	check "the spool holds one file, seq 1 of S1" [ "$(ls "$tmp/spool")" = \
		"$(jq -r '"S1.0000000001." + (.window.start | gsub("[-:]"; "")) + ".json"' "$tmp/s2.json")" ]
	check "the spool file is the summary with its chain" jqe --slurpfile s "$tmp/s2.json" \
		'(del(.chain) == $s[0]) and .chain == {"gateway": "S1", "seq": 1, "prev": null}' \
		"$tmp/spool"/S1.*
	check "the summary is format 1 of the agent, final, on the capture's clock" jqe \
		'.format == 1 and .kind == "segplan-agent-summary" and .window.final and
		 .window.clock == "capture" and .site == "S1" and .policy.mode == "enforce" and
		 .kernel == null' "$tmp/s.json"
	check "packets agree with the reader's statistics" [ "$(jq .capture.packets_read "$tmp/s.json")" = \
		"$(jq .packets_read "$tmp/stats.json")" ]
	check "records agree with the flow table's" [ "$(jq .flows.records "$tmp/s.json")" = \
		"$(jq .flows.records "$tmp/stats.json")" ]
	check "counted + not ours = connections" jqe \
		'.flows.counted + .flows.not_ours.flows == .flows.connections' "$tmp/s.json"
	check "tuples add up to the counted connections" jqe \
		'([.tuples[].flows] | add // 0) == .flows.counted' "$tmp/s.json"
	check "every rule of the table is in rule_hits" [ "$(jq '.rule_hits | length' "$tmp/s.json")" = \
		"$(jq '.rules | length' "$policy")" ]
	check "every flow record is classified" jqe -s \
		'length > 0 and all(has("src_zone") and has("verdict") and has("counted"))' "$tmp/f.jsonl"
fi
exit $fail
