# SPDX-License-Identifier: MIT
# One site gateway in network namespaces, for the policy tests
# (tests/e2e/policy_kernel.sh, tests/e2e/policy_fleet.sh; docs/testing.md).
# Sourced after lib.sh; needs $TOOL (tests/tools/polprobe.pl) and $tmp.
#
#   gwns_build INVENTORY SITE TUPLES   namespaces, links, addresses, receivers
#   gwns_warm                          the gateway reaches every test address
#   gwns_unseen                        the receivers forget what they saw
#   gwns_send TUPLES OUTCOMES WAIT_MS  every source namespace sends at once
#   gwns_seen SEEN                     what the receivers saw
#   gwns_teardown                      removes this gateway's namespaces
#
# The gateway namespace "gw" (names start with $GWNS_TAG) gets one veth link per segment of the site, to a
# namespace "s-<segment>" each, and a transfer link to "up", which holds every
# other address (other sites, data centres, VPN pools, unassigned addresses,
# the pseudo-zones outside the plan) on its loopback and routes back through
# the gateway. The gateway's address in a segment is the segment's first
# host, or the one interfaces.csv gives; with interfaces.csv, the gateway's
# end of each segment link has the interface's name (the ruleset checks
# sources per interface name). Sets GWNS (segment or "gw"/"up" -> namespace),
# GW4, GW6 (segment -> the gateway's address there), GWNS_SEGS (segments),
# GWNS_LINKS (a file: segment, interface in the segment namespace, prefix
# lengths) and GWNS_ADDRS (namespace-name address, every test address).

# gwns_require: the tools these tests run, or a failure naming the missing one.
gwns_require() {
	local tool
	for tool in nft perl jq tcpdump "$AGENT"; do
		if ! command -v "$tool" >/dev/null; then
			e2e_log "FAIL: $tool is missing (scripts/deps.sh)"
			exit 1
		fi
	done
}

declare -A GWNS GW4 GW6
GWNS_TAG=${GWNS_TAG:-} # namespace names: <prefix><tag>gw, so that gateways may run side by side
GWNS_SEGS=()
GWNS_LINKS=""
GWNS_ADDRS=""

gwns_sysctls() { # $1 netns: ICMP errors unlimited (a reject per tuple), no rp_filter
	e2e_in "$1" sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 >/dev/null
	e2e_in "$1" sysctl -qw net.ipv4.icmp_msgs_per_sec=100000 net.ipv4.icmp_msgs_burst=100000 \
		>/dev/null 2>&1 || true
}

# Receivers: every namespace notes what reaches it, before conntrack and
# before any socket, so delivery is observed whether or not anything listens.
# ICMP with its code: an error a tuple sends (host unreachable) is told apart
# from the kernel's answers to other tuples (port unreachable, prohibited).
# Senders send each TCP SYN once: on a loaded machine a tuple's socket may
# outlive TCP's first retransmission (1 s), and a second SYN would count twice
# at the gateway; the chain "once" drops a repeated SYN of a connection in the
# sender's own output (no two tuples share addresses and port).
GWNS_RECEIVER='table inet probe {
	set syn4 { type ipv4_addr . ipv4_addr . inet_service . inet_service; flags dynamic, timeout; timeout 4s; }
	set syn6 { type ipv6_addr . ipv6_addr . inet_service . inet_service; flags dynamic, timeout; timeout 4s; }
	chain once {
		type filter hook output priority raw;
		tcp flags & (syn | ack) == syn ip saddr . ip daddr . tcp sport . tcp dport @syn4 drop
		tcp flags & (syn | ack) == syn update @syn4 { ip saddr . ip daddr . tcp sport . tcp dport }
		tcp flags & (syn | ack) == syn ip6 saddr . ip6 daddr . tcp sport . tcp dport @syn6 drop
		tcp flags & (syn | ack) == syn update @syn6 { ip6 saddr . ip6 daddr . tcp sport . tcp dport }
	}
	set ports4 { type ipv4_addr . ipv4_addr . inet_proto . inet_service; flags dynamic; }
	set icmp4 { typeof ip saddr . ip daddr . icmp type . icmp code; flags dynamic; }
	set proto4 { type ipv4_addr . ipv4_addr . inet_proto; flags dynamic; }
	set ports6 { type ipv6_addr . ipv6_addr . inet_proto . inet_service; flags dynamic; }
	set icmp6 { typeof ip6 saddr . ip6 daddr . icmpv6 type . icmpv6 code; flags dynamic; }
	set proto6 { type ipv6_addr . ipv6_addr . inet_proto; flags dynamic; }
	chain seen {
		type filter hook prerouting priority raw - 10;
		meta nfproto ipv4 meta l4proto { tcp, udp } add @ports4 { ip saddr . ip daddr . meta l4proto . th dport }
		meta l4proto icmp add @icmp4 { ip saddr . ip daddr . icmp type . icmp code }
		meta nfproto ipv4 meta l4proto != { tcp, udp, icmp } add @proto4 { ip saddr . ip daddr . meta l4proto }
		meta nfproto ipv6 meta l4proto { tcp, udp } add @ports6 { ip6 saddr . ip6 daddr . meta l4proto . th dport }
		meta l4proto ipv6-icmp add @icmp6 { ip6 saddr . ip6 daddr . icmpv6 type . icmpv6 code }
		meta nfproto ipv6 meta l4proto != { tcp, udp, ipv6-icmp } add @proto6 { ip6 saddr . ip6 daddr . meta l4proto }
	}
}'

# gwns_build INVENTORY SITE TUPLES
gwns_build() {
	local inv=$1 site=$2 tuples=$3 gw up ns name v4 v6p a4 a6 ifname dev
	local -A IFN IF4 IF6
	GWNS=() GW4=() GW6=() GWNS_SEGS=()
	GWNS_LINKS=$tmp/links.$site
	GWNS_ADDRS=$tmp/addrs.$site
	: >"$GWNS_LINKS"
	e2e_ns_add "${GWNS_TAG}gw"
	e2e_ns_add "${GWNS_TAG}up"
	gw=$(e2e_ns_name "${GWNS_TAG}gw")
	up=$(e2e_ns_name "${GWNS_TAG}up")
	GWNS[gw]=$gw
	GWNS[up]=$up
	gwns_sysctls "$gw"
	gwns_sysctls "$up"
	# The gateway's end of the link to "up" carries the name of the site's first
	# uplink or transfer interface, where the inventory has a table (the ruleset
	# drops what comes in on an interface the table does not name).
	local upname=""
	[ -f "$inv/interfaces.csv" ] &&
		upname=$(awk -F, -v s="$site" '$1 == s && $3 != "segment" { print $2; exit }' "$inv/interfaces.csv")
	if [ -n "$upname" ]; then
		e2e_veth_named "$gw" "$upname" 10.99.254.1/30 "$up" up0 10.99.254.2/30 fd99:ffff::1/64 fd99:ffff::2/64
	else
		e2e_veth "$gw" 10.99.254.1/30 "$up" 10.99.254.2/30 fd99:ffff::1/64 fd99:ffff::2/64
	fi
	e2e_forwarding "$gw"
	e2e_route "$gw" 10.99.254.2 fd99:ffff::2
	e2e_route "$up" 10.99.254.1 fd99:ffff::1

	# the interface table, where the inventory has one: site,name,role,segment,...
	if [ -f "$inv/interfaces.csv" ]; then
		while IFS=, read -r s n role seg _vlan i4 i6 _; do
			[ "$s" = "$site" ] && [ "$role" = segment ] || continue
			IFN[$seg]=$n
			IF4[$seg]=$i4
			IF6[$seg]=$i6
		done < <(tail -n +2 "$inv/interfaces.csv")
	fi
	# one namespace per segment of the site: the gateway is its first host,
	# the segment namespace's own address host 9 (polprobe.pl host, any prefix)
	awk -F, -v s="$site" 'FNR > 1 && $1 == s { sub(/\r$/, ""); print $2, ($5 == "" ? "-" : $5), ($6 == "" ? "-" : $6) }' \
		"$inv/segments.csv" >"$tmp/segs.$site"
	local -A H
	local k v
	while read -r k v; do
		H[$k]=$v
	done < <(awk '{ for (i = 2; i <= 3; i++) if ($i != "-") print $1 "|" i, $i, 1, $1 "|" i "|9", $i, 9 }' "$tmp/segs.$site" |
		xargs -r perl "$TOOL" host)
	while read -r name v4 v6p; do
		[ "$v4" != - ] || v4=
		[ "$v6p" != - ] || v6p=
		GWNS_SEGS+=("$name")
		e2e_ns_add "${GWNS_TAG}s-$name"
		ns=$(e2e_ns_name "${GWNS_TAG}s-$name")
		GWNS[$name]=$ns
		gwns_sysctls "$ns"
		a4=() a6=()
		if [ -n "$v4" ]; then
			a4=("${H[$name|2|9]}" "${IF4[$name]:-${H[$name|2]}}")
			GW4[$name]=${a4[1]%/*}
		fi
		if [ -n "$v6p" ]; then
			a6=("${H[$name|3|9]}" "${IF6[$name]:-${H[$name|3]}}")
			GW6[$name]=${a6[1]%/*}
		fi
		E2E_VETH=$((E2E_VETH + 1))
		dev=e${E2E_VETH}a
		ifname=${IFN[$name]:-e${E2E_VETH}b}
		if [ -n "$v4" ]; then
			e2e_veth_named "$ns" "$dev" "${a4[0]}" "$gw" "$ifname" "${a4[1]}" "${a6[@]}"
		else
			e2e_veth_named "$ns" "$dev" "${a6[0]}" "$gw" "$ifname" "${a6[1]}"
		fi
		echo "$name $dev ${v4#*/} ${v6p#*/}" >>"$GWNS_LINKS"
		if [ -n "$v4" ]; then
			e2e_route "$ns" "${GW4[$name]}" "${GW6[$name]:-}"
		else
			ip -n "$ns" -6 route add default via "${GW6[$name]}" || exit 1
		fi
	done <"$tmp/segs.$site"

	# every address a tuple uses, in the namespace that holds it
	awk -F'\t' '{ print $7, $5; print $8, $6 }' "$tuples" | sort -u >"$GWNS_ADDRS"
	local len4 len6
	while read -r name dev len4 len6; do
		awk -v n="$name" -v d="$dev" -v l4="$len4" -v l6="$len6" '$1 == n {
			if ($2 ~ /:/) print "addr add " $2 "/" l6 " dev " d " nodad"
			else print "addr add " $2 "/" l4 " dev " d }' "$GWNS_ADDRS" >"$tmp/batch${GWNS_TAG:+.$GWNS_TAG}"
		ip -n "${GWNS[$name]}" -force -batch "$tmp/batch${GWNS_TAG:+.$GWNS_TAG}" 2>/dev/null
	done <"$GWNS_LINKS"
	awk '$1 == "up" { print ($2 ~ /:/ ? "addr add " $2 "/128 dev lo nodad" : "addr add " $2 "/32 dev lo") }' \
		"$GWNS_ADDRS" >"$tmp/batch${GWNS_TAG:+.$GWNS_TAG}"
	ip -n "$up" -force -batch "$tmp/batch${GWNS_TAG:+.$GWNS_TAG}" 2>/dev/null
	gwns_unseen
}

# forget what the receivers saw
gwns_unseen() {
	local name
	for name in "${!GWNS[@]}"; do
		[ "$name" = gw ] && continue
		e2e_in "${GWNS[$name]}" nft -f - <<<"table inet probe
delete table inet probe
$GWNS_RECEIVER" || exit 1
	done
}

# The gateway itself reaches every test address (its own traffic is not
# filtered; the replies are established), so that no tuple waits for ARP or
# ND. Prints the number of addresses that did not answer.
gwns_warm() {
	local n
	for n in "${GWNS_SEGS[@]}"; do
		printf '%s\t%s\t%s\n' "$n" "${GW4[$n]:--}" "${GW6[$n]:--}"
	done >"$tmp/gwaddrs${GWNS_TAG:+.$GWNS_TAG}"
	awk -F'[\t ]' -v OFS='\t' 'NR == FNR { gw4[$1] = $2; gw6[$1] = $3; next }
		{ fam = ($2 ~ /:/) ? 6 : 4
		  src = ($1 == "up") ? (fam == 6 ? "fd99:ffff::1" : "10.99.254.1") : (fam == 6 ? gw6[$1] : gw4[$1])
		  print 60000 + FNR, fam, (fam == 6 ? "icmpv6" : "icmp"), (fam == 6 ? 128 : 8), src, $2, "gw", $1, "-", "warm" }' \
		"$tmp/gwaddrs${GWNS_TAG:+.$GWNS_TAG}" "$GWNS_ADDRS" >"$tmp/warm.tsv${GWNS_TAG:+.$GWNS_TAG}"
	e2e_in "${GWNS[gw]}" perl "$TOOL" send 2000 <"$tmp/warm.tsv${GWNS_TAG:+.$GWNS_TAG}" >"$tmp/warm.out${GWNS_TAG:+.$GWNS_TAG}"
	grep -vc 'answered$' "$tmp/warm.out${GWNS_TAG:+.$GWNS_TAG}"
}

# gwns_send TUPLES OUTCOMES WAIT_MS: every source namespace at once
gwns_send() {
	local name pids=()
	: >"$2"
	rm -f "$2".*
	for name in "${!GWNS[@]}"; do
		awk -F'\t' -v n="$name" '$7 == n' "$1" >"$1.$name"
		[ -s "$1.$name" ] || continue
		e2e_in "${GWNS[$name]}" perl "$TOOL" send "$3" <"$1.$name" >"$2.$name" &
		pids+=($!)
	done
	wait "${pids[@]}"
	cat "$2".* >"$2"
}

# gwns_seen SEEN: what the receivers saw
gwns_seen() {
	local name
	: >"$1"
	for name in "${!GWNS[@]}"; do
		[ "$name" = gw ] && continue
		e2e_in "${GWNS[$name]}" nft -j -n list table inet probe | perl "$TOOL" seen >>"$1"
	done
}

gwns_teardown() {
	local name
	for name in "${GWNS_SEGS[@]}"; do
		e2e_ns_del "${GWNS_TAG}s-$name"
	done
	e2e_ns_del "${GWNS_TAG}gw"
	e2e_ns_del "${GWNS_TAG}up"
	GWNS=() GW4=() GW6=() GWNS_SEGS=()
}

# The third opinion: the agent. gwns_capture PCAP records what reaches the
# gateway namespace (every interface, inbound only: each packet once, at the
# interface it came in on, as the agent captures live) until
# gwns_capture_end; gwns_agent then has segplan-agent read it with the
# gateway's policy table and compares its verdict per tuple with query's
# (tests/tools/agentcmp.pl). Needs $AGENT.
gwns_capture() {
	local _
	GWNS_PCAP=$1
	ip netns exec "${GWNS[gw]}" tcpdump -i any -Q in -n -s 256 -U -w "$1" 2>"$1.log" &
	GWNS_PCAP_PID=$!
	E2E_PIDS+=("$GWNS_PCAP_PID")
	for _ in $(seq 50); do
		grep -q 'listening on' "$1.log" 2>/dev/null && return 0
		sleep 0.1
	done
	e2e_log "tcpdump did not start: $(cat "$1.log")"
	return 1
}

gwns_capture_end() {
	kill -INT "$GWNS_PCAP_PID" 2>/dev/null
	wait "$GWNS_PCAP_PID" 2>/dev/null
	return 0
}

# gwns_agent POLICY.json TUPLES VERDICTS OUT: "AGENT passed failed missing" last in OUT
gwns_agent() {
	if ! "$AGENT" --read "$GWNS_PCAP" --policy "$1" --flows-out "$GWNS_PCAP.flows" \
		2>"$GWNS_PCAP.agent.log"; then
		e2e_log "segplan-agent failed on $GWNS_PCAP: $(tail -3 "$GWNS_PCAP.agent.log")"
		return 1
	fi
	perl "$(dirname "$TOOL")/agentcmp.pl" "$2" "$3" "$GWNS_PCAP.flows" >"$4"
}
