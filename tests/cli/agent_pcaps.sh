#!/bin/bash
# SPDX-License-Identifier: MIT
# segplan-agent on every capture under ../shared/pcaps: it never crashes
# (run it from the ASan+UBSan build to check memory too), exits 0 or 3 with a
# message, and accounts for every packet it read (packets_read ==
# packets_decoded + packets_not_decoded). Also the command line contract:
# --help, usage errors, refused files, JSON lines output.
set -uo pipefail

src=${SEGPLAN_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
shared=${SEGPLAN_SHARED:-$src/../shared}
agent=${SEGPLAN_AGENT:-}
if [ -z "$agent" ] && [ -n "${SEGPLAN_BIN:-}" ]; then
	agent=$(dirname "$SEGPLAN_BIN")/agent/segplan-agent
fi
if [ ! -x "$agent" ]; then
	echo "agent_pcaps: segplan-agent not found (set SEGPLAN_AGENT)" >&2
	exit 1
fi
if ! command -v jq >/dev/null; then
	echo "agent_pcaps: jq is required" >&2
	exit 77
fi
tmp=$(mktemp -d /tmp/agent-pcaps.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() {
	echo "FAIL: $*" >&2
	fail=1
}

# The command line.
"$agent" --help >"$tmp/out" 2>&1 || bad "--help exits $?"
grep -q '^usage: segplan-agent' "$tmp/out" || bad "--help prints no usage"
"$agent" >/dev/null 2>&1
[ $? -eq 2 ] || bad "no arguments: want exit 2"
"$agent" --read x --bogus >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] || bad "unknown option: want exit 2"
grep -q "unknown option '--bogus'" "$tmp/err" || bad "unknown option not named"
"$agent" --read x --stat >/dev/null 2>&1
[ $? -eq 2 ] || bad "abbreviated --stat: want exit 2 (exact option names only)"
"$agent" --read x --max-flows 0 >/dev/null 2>&1
[ $? -eq 2 ] || bad "--max-flows 0: want exit 2"
"$agent" --read x --timeout tcp=abc >/dev/null 2>&1
[ $? -eq 2 ] || bad "--timeout tcp=abc: want exit 2"
"$agent" --read "$tmp/missing.pcap" >/dev/null 2>"$tmp/err"
[ $? -eq 3 ] || bad "missing file: want exit 3"
grep -q "missing.pcap: error: cannot read capture" "$tmp/err" || bad "missing file: no message"
# A capture without packets: no flows, so no time span (no 1970 window).
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00' \
	>"$tmp/empty.pcap"
"$agent" --read "$tmp/empty.pcap" --summary "$tmp/empty.json" >/dev/null 2>"$tmp/err" ||
	bad "empty capture: exit $?: $(cat "$tmp/err")"
jq -e '.window.start == null and .window.end == null and .window.empty == true and
	(.tuples | length) == 0' "$tmp/empty.json" >/dev/null ||
	bad "empty capture: want window.empty true with null start and end"
echo "not a capture" >"$tmp/junk.pcap"
"$agent" --read "$tmp/junk.pcap" --flows-out "$tmp/junk.jsonl" >/dev/null 2>&1
[ $? -eq 3 ] || bad "junk file: want exit 3"
[ ! -e "$tmp/junk.jsonl" ] || bad "junk file: flows written anyway"

# Every shared capture.
files=0
refused=0
while IFS= read -r -d '' f; do
	files=$((files + 1))
	"$agent" --read "$f" --stats --flows-out "$tmp/flows.jsonl" >"$tmp/stats" 2>"$tmp/err"
	rc=$?
	case $rc in
	0)
		jq -e --slurpfile flows "$tmp/flows.jsonl" '
			.packets_read == .packets_decoded + .packets_not_decoded
			and .packets_held == 0 and .complete
			and .flows.records == ($flows | length)
			and all($flows[]; has("src") and has("dst") and has("proto")
				and has("end_reason"))' "$tmp/stats" >/dev/null ||
			bad "$f: packets not accounted for, or flow records wrong"
		;;
	3)
		refused=$((refused + 1))
		grep -q "error: cannot read capture" "$tmp/err" || bad "$f: refused without a message"
		if [ -s "$tmp/stats" ]; then
			jq -e '.packets_read == .packets_decoded + .packets_not_decoded' \
				"$tmp/stats" >/dev/null || bad "$f: packets not accounted for"
		fi
		;;
	*)
		bad "$f: exit $rc"
		head -5 "$tmp/err" >&2
		;;
	esac
	rm -f "$tmp/flows.jsonl"
done < <(find "$shared/pcaps" -type f \( -name '*.pcap' -o -name '*.pcapng' \) -print0 | sort -z)

[ "$files" -gt 100 ] || bad "only $files captures under $shared/pcaps"
echo "agent_pcaps: $files captures, $refused refused by libpcap"
exit $fail
