#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Live capture rate: the highest packet rate that segplan-agent --interface
# takes over a veth pair with zero drops, against a bare `tcpdump -w
# /dev/null` on the same interface in the same run. Two namespaces (tx, rx)
# joined by one veth pair, IPv6 off in both so that nothing but the replay
# crosses it; tcpreplay sends bench_agent's capture (70% TCP, 25% UDP, 5% ICMP,
# IP packets of 40-1500 bytes; padded back to their wire length with
# tcprewrite, since bench_agent keeps 128 bytes) from tx at --pps for SECONDS
# per replay (looping the capture as needed); the reader runs on the rx end.
# A replay has zero drops when the reader's kernel ring dropped nothing
# (pcap_stats ps_drop, ps_ifdrop) and it read every packet tcpreplay sent.
# Per reader the rate doubles from START until a replay drops, then bisects,
# at most REPLAYS replays; a rate tcpreplay cannot reach (achieved below 90%
# of the request) ends the search: the sender is the limit, not the reader.
# CPU is the reader's user + system time from /proc/PID/stat over the replay.
# Needs root.
#
#   bench/bench_replay.sh [BUILD] [PACKETS] [REPLAYS] [SECONDS] [START]
#
# BUILD defaults to build (bench/bench_agent, agent/segplan-agent under it);
# PACKETS 300000; REPLAYS 8 per reader; SECONDS 4; START 25000 packets/s.
# Readers: the agent with its default ring (32 MiB), the agent with 128 MiB,
# tcpdump with 32 MiB (-B), all with a 256-byte snap length, inbound only,
# not promiscuous. Results: bench/README.md.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tests/e2e/lib.sh"
e2e_require_root

BUILD=${1:-build}
PACKETS=${2:-300000}
REPLAYS=${3:-8}
SECS=${4:-4}
START=${5:-25000}
BIG_MB=128
case $BUILD in
/*) ;;
*) [ -d "$BUILD" ] || BUILD=$here/../$BUILD ;;
esac
AGENT=$BUILD/agent/segplan-agent
GEN=$BUILD/bench/bench_agent
for tool in tcpreplay tcprewrite tcpdump jq; do
	command -v "$tool" >/dev/null || {
		e2e_log "$tool is missing (scripts/deps.sh)"
		exit 1
	}
done
for prog in "$AGENT" "$GEN"; do
	[ -x "$prog" ] || {
		e2e_log "$prog is missing: build first (cmake --build $BUILD)"
		exit 1
	}
done
e2e_tmp
tmp=$E2E_TMP
hz=$(getconf CLK_TCK)

# The capture: bench_agent's generator (it also runs its own benchmark once,
# on this small capture, which costs about a second).
"$GEN" --packets "$PACKETS" --flows $((PACKETS / 10)) --runs 1 --keep "$tmp/gen.pcap" \
	>"$tmp/gen.log" 2>&1 || {
	cat "$tmp/gen.log" >&2
	exit 1
}
tcprewrite --fixlen=pad -i "$tmp/gen.pcap" -o "$tmp/replay.pcap" 2>"$tmp/rewrite.log" || {
	cat "$tmp/rewrite.log" >&2
	exit 1
}
rm -f "$tmp/gen.pcap"

e2e_ns_add tx
e2e_ns_add rx
tx=$(e2e_ns_name tx)
rx=$(e2e_ns_name rx)
for ns in "$tx" "$rx"; do
	# No router solicitations or MLD reports: the reader must see only the
	# replay, so that packets read can be compared with packets sent.
	e2e_in "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 || exit 1
done
e2e_veth "$tx" 10.99.251.1/30 "$rx" 10.99.251.2/30

cpu_ticks() { # PID: utime + stime, proc(5); the fields after "(comm)"
	local s f
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	read -ra f <<<"${s##*) }"
	echo $((f[11] + f[12]))
}

wait_for() { # FILE PATTERN: until FILE has PATTERN (at most 5 s)
	local _
	for _ in $(seq 50); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# trial READER BUFFER_MB PPS: one replay; sets T_* (sent, achieved pps and
# Mbit/s, seconds, read, dropped, if_dropped, CPU seconds).
trial() {
	local reader=$1 mb=$2 pps=$3 pid c0 c1 prev n loops
	: >"$tmp/reader.log"
	rm -f "$tmp/sum.json"
	if [ "$reader" = agent ]; then
		ip netns exec "$rx" "$AGENT" --interface e1b --buffer-mb "$mb" --summary "$tmp/sum.json" \
			--interval 3600 2>"$tmp/reader.log" &
		pid=$!
		wait_for "$tmp/reader.log" "capturing on 1 interface"
	else
		ip netns exec "$rx" tcpdump -i e1b -p -n -Q in -s 256 -B $((mb * 1024)) -w /dev/null \
			2>"$tmp/reader.log" &
		pid=$!
		wait_for "$tmp/reader.log" "listening on e1b"
	fi || {
		e2e_log "$reader did not start:"
		cat "$tmp/reader.log" >&2
		exit 1
	}
	n=$((pps * SECS))
	loops=$(((n + PACKETS - 1) / PACKETS))
	c0=$(cpu_ticks "$pid")
	e2e_in "$tx" tcpreplay -i e1a --pps="$pps" --limit="$n" --loop="$loops" --preload-pcap \
		--no-flow-stats "$tmp/replay.pcap" >"$tmp/replay.log" 2>&1 || {
		cat "$tmp/replay.log" >&2
		exit 1
	}
	# Let the reader empty its ring: tcpdump hands over a partly filled
	# block only after its 1 s timeout, and stops without draining it.
	sleep 1.2
	c1=$(cpu_ticks "$pid")
	prev=-1
	for _ in $(seq 25); do
		[ "$c1" = "$prev" ] && break
		prev=$c1
		sleep 0.2
		c1=$(cpu_ticks "$pid")
	done
	kill -TERM "$pid"
	wait "$pid" || {
		e2e_log "$reader exited with $?:"
		cat "$tmp/reader.log" >&2
		exit 1
	}
	T_SENT=$(awk '/Successful packets:/ { print $3 }' "$tmp/replay.log")
	T_PPS=$(awk '/^Rated:/ { print $6 }' "$tmp/replay.log")
	T_MBPS=$(awk '/^Rated:/ { print $4 }' "$tmp/replay.log")
	T_SECONDS=$(awk '/^Actual:/ { for (i = 1; i < NF; i++) if ($i == "in") print $(i + 1) }' \
		"$tmp/replay.log")
	T_CPU=$(echo "$c0 $c1 $hz" | awk '{ printf "%.2f", ($2 - $1) / $3 }')
	if [ "$reader" = agent ]; then
		read -r T_READ T_DROP T_IFDROP < <(jq -r '[.capture.packets_read,
			.capture.interfaces[0].dropped, .capture.interfaces[0].if_dropped] | @tsv' \
			"$tmp/sum.json")
	else
		T_READ=$(awk '/packets captured/ { print $1 }' "$tmp/reader.log")
		T_DROP=$(awk '/packets dropped by kernel/ { print $1 }' "$tmp/reader.log")
		T_IFDROP=$(awk '/packets dropped by interface/ { print $1 }' "$tmp/reader.log")
	fi
	T_IFDROP=${T_IFDROP:-0}
	if [ -z "$T_SENT" ] || [ -z "$T_PPS" ] || [ -z "$T_READ" ] || [ -z "$T_DROP" ]; then
		e2e_log "cannot read the results of a replay:"
		cat "$tmp/replay.log" "$tmp/reader.log" >&2
		exit 1
	fi
}

# search NAME READER BUFFER_MB: doubling, then bisection; prints a line per
# replay and sets B_* for the highest zero-drop rate.
search() {
	local name=$1 reader=$2 mb=$3 rate=$START lo=0 hi=0 lost ok
	B_REQ=0 B_PPS=0 B_MBPS=0 B_PCT=0 B_US=0 B_LIMIT=reader B_FIRST_BAD=-
	printf '\n%s\n%10s %10s %9s %9s %9s %9s %9s %7s %8s\n' "$name" 'asked pps' 'sent pps' \
		'Mbit/s' 'sent' 'read' 'dropped' 'lost' 'CPU %' 'us/pkt'
	for _ in $(seq "$REPLAYS"); do
		trial "$reader" "$mb" "$rate"
		lost=$((T_SENT > T_READ ? T_SENT - T_READ : 0))
		ok=$((T_DROP == 0 && T_IFDROP == 0 && lost == 0))
		local pct us
		pct=$(echo "$T_CPU $T_SECONDS" | awk '{ printf "%.0f", 100 * $1 / $2 }')
		us=$(echo "$T_CPU $T_SENT" | awk '{ printf "%.2f", 1e6 * $1 / $2 }')
		printf '%10d %10.0f %9.1f %9d %9d %9d %9d %7s %8s%s\n' "$rate" "$T_PPS" "$T_MBPS" \
			"$T_SENT" "$T_READ" "$((T_DROP + T_IFDROP))" "$lost" "$pct" "$us" \
			"$([ "$ok" -eq 1 ] && echo '' || echo '  drops')"
		[ "${T_PPS%.*}" -gt "${TOP_PPS%.*}" ] && TOP_PPS=$T_PPS TOP_MBPS=$T_MBPS
		if [ "$ok" -eq 1 ]; then
			lo=$rate
			B_REQ=$rate B_PPS=$T_PPS B_MBPS=$T_MBPS B_PCT=$pct B_US=$us
			if [ "$(echo "$T_PPS $rate" | awk '{ print ($1 < 0.9 * $2) }')" -eq 1 ]; then
				B_LIMIT=tcpreplay
				break
			fi
		else
			hi=$rate
			B_FIRST_BAD=$rate
			if [ "$(echo "$T_PPS $rate" | awk '{ print ($1 < 0.9 * $2) }')" -eq 1 ] &&
				[ "$lo" -eq 0 ]; then
				B_LIMIT=tcpreplay
			fi
		fi
		if [ "$hi" -eq 0 ]; then
			rate=$((rate * 2))
		else
			# within 5%: the next replay would not tell the two apart
			[ $((hi - lo)) -le $((hi / 20)) ] && break
			rate=$(((lo + hi) / 2))
		fi
	done
	[ "$hi" -eq 0 ] && [ "$B_LIMIT" = reader ] && B_LIMIT=untested
}

TOP_PPS=0 TOP_MBPS=0
frames=$PACKETS
bytes=$(stat -c %s "$tmp/replay.pcap")
printf 'capture: %d packets (bench_agent generator, padded to wire length), mean frame %d bytes\n' \
	"$frames" $(((bytes - 24 - 16 * frames) / frames))
printf 'each replay %d s at the asked rate (capture looped as needed), at most %d per reader\n' \
	"$SECS" "$REPLAYS"
printf 'load before: %s; %s cores\n' "$(cut -d' ' -f1-3 /proc/loadavg)" "$(nproc)"

declare -A R_PPS R_MBPS R_PCT R_US R_LIMIT R_BAD R_REQ
run() { # KEY NAME READER MB
	search "$2" "$3" "$4"
	R_REQ[$1]=$B_REQ R_PPS[$1]=$B_PPS R_MBPS[$1]=$B_MBPS R_PCT[$1]=$B_PCT R_US[$1]=$B_US
	R_LIMIT[$1]=$B_LIMIT R_BAD[$1]=$B_FIRST_BAD
}
run agent "segplan-agent --buffer-mb 32 (default)" agent 32
run agentbig "segplan-agent --buffer-mb $BIG_MB" agent "$BIG_MB"
run tcpdump "tcpdump -w /dev/null -B 32768" tcpdump 32

printf '\nhighest zero-drop rate (sent by tcpreplay), reader CPU at that rate\n'
printf '%-32s %10s %9s %7s %8s %11s %s\n' reader 'pkt/s' 'Mbit/s' 'CPU %' 'us/pkt' \
	'first drop' 'limit'
for k in agent agentbig tcpdump; do
	case $k in
	agent) label='segplan-agent (32 MiB)' ;;
	agentbig) label="segplan-agent ($BIG_MB MiB)" ;;
	tcpdump) label='tcpdump -w /dev/null (32 MiB)' ;;
	esac
	printf '%-32s %10.0f %9.1f %7s %8s %11s %s\n' "$label" "${R_PPS[$k]}" "${R_MBPS[$k]}" \
		"${R_PCT[$k]}" "${R_US[$k]}" "${R_BAD[$k]}" "${R_LIMIT[$k]}"
done
ratio() { echo "$1 $2" | awk '{ if ($2 > 0) printf "%.2fx", $1 / $2; else print "n/a" }'; }
printf '\nagent (32 MiB) / tcpdump: zero-drop rate %s, CPU per packet %s\n' \
	"$(ratio "${R_PPS[agent]}" "${R_PPS[tcpdump]}")" "$(ratio "${R_US[agent]}" "${R_US[tcpdump]}")"
if [ "${R_LIMIT[agent]}" = tcpreplay ] && [ "${R_LIMIT[tcpdump]}" = tcpreplay ]; then
	printf '(both stopped at what tcpreplay reached: the rate ratio is the sender'"'"'s spread)\n'
fi
printf 'tcpreplay reached at most %.0f pkt/s (%.1f Mbit/s) in this run\n' "$TOP_PPS" "$TOP_MBPS"
for k in agent agentbig tcpdump; do
	case ${R_LIMIT[$k]} in
	tcpreplay)
		printf 'note: %s did not drop at the highest rate tcpreplay reached: the sender is the limit\n' \
			"$k"
		;;
	untested)
		printf 'note: %s did not drop up to %s pkt/s asked: more REPLAYS would go higher\n' \
			"$k" "${R_REQ[$k]}"
		;;
	esac
done
printf 'load after: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
