#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Forwarding through a gateway namespace with the compiled ruleset of one
# gateway of the 850-site example city, against the same path without any
# ruleset, in one run: iperf3 TCP over veth, runs alternating, medians, and
# the ratio. Also the time to load that ruleset (nft -f, and segplan policy
# apply when the CLI has it), fresh and replacing itself. Needs root.
#
#   bench/bench_forward.sh [SEGPLAN] [SITE] [RUNS] [SECONDS]
#
# SEGPLAN defaults to $SEGPLAN_BIN or build/segplan; SITE to S000001 (the
# town hall of Mitte: the most segments). Results: bench/README.md.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tests/e2e/lib.sh"
e2e_require_root

SEGPLAN=${1:-${SEGPLAN_BIN:-$here/../build/segplan}}
SITE=${2:-S000001}
RUNS=${3:-5}
SECS=${4:-3}
for tool in iperf3 nft jq; do
	command -v "$tool" >/dev/null || { e2e_log "$tool is missing (scripts/deps.sh)"; exit 1; }
done
e2e_tmp
tmp=$E2E_TMP
export SEGPLAN_RUN_DIR="$tmp/run"
"$SEGPLAN" policy compile "$here/../examples/stuttgart" --out "$tmp/out" --site "$SITE" --json \
	>"$tmp/summary.json" 2>"$tmp/compile.err" || { cat "$tmp/compile.err" >&2; exit 1; }
nft=$tmp/out/$SITE.nft

# A client in the site's admin segment, a server in DC1's server segment
# behind the uplink: HTTPS (port 443) from admin to the data centre's
# servers, which the example's policy accepts (clients-central-services).
seg() { # $1 site, $2 zone, $3 column (5 ipv4, 6 ipv6)
	awk -F, -v s="$1" -v z="$2" -v c="$3" '$1 == s && $3 == z { print $c }' \
		"$here/../examples/stuttgart/segments.csv"
}
c4=$(seg "$SITE" admin 5)
c6=$(seg "$SITE" admin 6)
s4=$(seg DC1 servers 5)
s6=$(seg DC1 servers 6)
host4() { # $1 prefix, $2 host number
	local base=${1%/*}
	echo "${base%.*}.$((${base##*.} + $2))"
}
cli4=$(host4 "$c4" 10) gw4=$(host4 "$c4" 1) srv4=$(host4 "$s4" 10)
cli6=${c6%::/*}::10 gw6=${c6%::/*}::1 srv6=${s6%::/*}::10

e2e_ns_add cli
e2e_ns_add gw
e2e_ns_add srv
cli=$(e2e_ns_name cli)
gw=$(e2e_ns_name gw)
srv=$(e2e_ns_name srv)
e2e_veth "$cli" "$cli4/${c4#*/}" "$gw" "$gw4/${c4#*/}" "$cli6/64" "$gw6/64"
e2e_veth "$gw" 10.99.254.1/30 "$srv" 10.99.254.2/30 fd99:ffff::1/64 fd99:ffff::2/64
e2e_addr "$srv" lo "$srv4/32"
e2e_addr "$srv" lo "$srv6/128"
e2e_forwarding "$gw"
e2e_route "$cli" "$gw4" "$gw6"
e2e_route "$gw" 10.99.254.2 fd99:ffff::2
e2e_route "$srv" 10.99.254.1 fd99:ffff::1
e2e_bg "$srv" iperf3 -s -p 443 >/dev/null 2>&1
e2e_wait_listen "$srv" 443

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
gbits() { # $1 server address: Gbit/s received
	e2e_in "$cli" iperf3 -c "$1" -p 443 -t "$SECS" -J 2>/dev/null |
		jq '.end.sum_received.bits_per_second / 1e9'
}
ruleset() { # on | off
	if [ "$1" = on ]; then
		e2e_in "$gw" nft -f "$nft"
	else
		e2e_in "$gw" nft flush ruleset
	fi
}

printf 'gateway %s: %s nft rules, %s set elements, %s bytes; %s runs of %s s each, alternating\n' \
	"$SITE" "$(jq .rules "$tmp/summary.json")" "$(jq .elements "$tmp/summary.json")" \
	"$(jq .bytes "$tmp/summary.json")" "$RUNS" "$SECS"
printf 'iperf3 TCP %s -> %s (port 443), Gbit/s received, medians\n' "$cli4" "$srv4"
printf '%-6s %16s %16s %8s\n' family 'no ruleset' 'ruleset' ratio
for fam in 4 6; do
	dst=$([ "$fam" = 4 ] && echo "$srv4" || echo "$srv6")
	: >"$tmp/off" && : >"$tmp/on"
	for _ in $(seq "$RUNS"); do
		ruleset off
		gbits "$dst" >>"$tmp/off"
		ruleset on
		gbits "$dst" >>"$tmp/on"
	done
	off=$(median <"$tmp/off")
	on=$(median <"$tmp/on")
	printf 'IPv%-3s %11.2f Gb/s %11.2f Gb/s %7.3fx\n' "$fam" "$off" "$on" "$(echo "$on $off" | awk '{ print $1 / $2 }')"
done

# Load times, milliseconds: into an empty namespace (creating the table) and
# over itself (the usual deploy: one transaction replacing the table).
ms() { # command...: wall time in ms
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1 || { e2e_log "failed: $*"; exit 1; }
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}
printf '\n%-34s %10s\n' 'ruleset load' 'median ms'
e2e_ns_add load
load=$(e2e_ns_name load)
for how in nft apply; do
	if [ "$how" = apply ] && ! "$SEGPLAN" policy apply --help >/dev/null 2>&1; then
		printf '%-34s %10s\n' 'segplan policy apply' 'n/a'
		continue
	fi
	: >"$tmp/fresh" && : >"$tmp/replace"
	for _ in $(seq "$RUNS"); do
		e2e_in "$load" nft flush ruleset
		if [ "$how" = nft ]; then
			ms e2e_in "$load" nft -f "$nft" >>"$tmp/fresh"
			ms e2e_in "$load" nft -f "$nft" >>"$tmp/replace"
		else
			ms "$SEGPLAN" policy apply "$nft" --netns "$load" >>"$tmp/fresh"
			ms "$SEGPLAN" policy apply "$nft" --netns "$load" >>"$tmp/replace"
		fi
	done
	label=$([ "$how" = nft ] && echo 'nft -f' || echo 'segplan policy apply')
	printf '%-34s %10s\n' "$label (new table)" "$(median <"$tmp/fresh")"
	printf '%-34s %10s\n' "$label (replacing it)" "$(median <"$tmp/replace")"
done
