# SPDX-License-Identifier: MIT
# The gateway's own protections against a real kernel (commit 5ae9755):
# per-interface anti-spoofing before anything trusts a source, routing
# protocols only where and as the interface table says, DHCP and DAD on
# segment interfaces, untracked asymmetric transit, ICMP errors only as
# RELATED, rate-limited logs that never change a verdict, expiry in Unix
# seconds, reject with a TCP reset, DCCP and SCTP ports. Fixture:
# tests/e2e/fixtures/hardening (S1 multi-homed through tr0 and tr1).
#
#   seg-admin/-servers/-bms/-guest/-mgmt ── gw ──tr0── upa (DC1, VPN pools, 11.22.33.10)
#                                            └─tr1── upb (11.22.33.20, BGP peer)
#                                     upa ─tob──direct veth──toa─ upb
#
# Every check compares the kernel with what the design says, and forwarded
# tuples also with `segplan policy query` (gateway S1's verdict). Checks
# that meet a known bug of the ruleset are guarded by a XFAIL_* variable
# below: set to 1, a failure is reported as XFAIL and does not count.
# The agent's view is left to the lead (not checked here).
. "$(dirname "$0")/lib.sh"
e2e_require_root

SEGPLAN=${SEGPLAN_BIN:-segplan}
here=$(cd "$(dirname "$0")" && pwd)
FIX=$here/fixtures/hardening
PROBE=$here/../tools/polprobe.pl
HP=$here/../tools/hardprobe.pl
SITE=S1
DATE=2026-06-01

for tool in nft perl jq; do
	command -v "$tool" >/dev/null || {
		e2e_log "FAIL: $tool is missing (scripts/deps.sh)"
		exit 1
	}
done
e2e_tmp
tmp=$E2E_TMP
start=$SECONDS

# --- the ruleset ---------------------------------------------------------------
if ! "$SEGPLAN" policy compile "$FIX" --out "$tmp/enf" --site "$SITE" --date "$DATE" >/dev/null 2>"$tmp/compile.err"; then
	cat "$tmp/compile.err" >&2
	e2e_log "FAIL: segplan policy compile"
	exit 1
fi
RULESET=$tmp/enf/$SITE.nft

# qv ARGS...: gateway S1's verdict for one new connection, "/invalid" added
# when query says the packet opens no connection
qv() {
	"$SEGPLAN" policy query "$FIX" --date "$DATE" --json "$@" 2>/dev/null |
		jq -r 'first((.gateways[] | select(.site == "S1")) // {verdict: (.verdict + "(S1 not on the path)"), by: .by})
			| .verdict + (if .by == "invalid" then "/invalid" else "" end)'
}

# --- the network -------------------------------------------------------------------
sysctls() {
	e2e_in "$1" sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 >/dev/null
}
# link NS1 IF1 NS2 IF2: a named veth pair, up
link() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" || exit 1
	ip -n "$1" link set "$2" up && ip -n "$3" link set "$4" up || exit 1
}
addr() { e2e_addr "$@"; }

for n in gw upa upb; do
	e2e_ns_add "$n"
	sysctls "$(e2e_ns_name "$n")"
done
gw=$(e2e_ns_name gw)
upa=$(e2e_ns_name upa)
upb=$(e2e_ns_name upb)
e2e_forwarding "$gw"
declare -A NS
segs=(admin servers bms guest mgmt)
declare -A V4=([admin]=10.99.1 [servers]=10.99.9 [bms]=10.99.41 [guest]=10.99.49 [mgmt]=10.99.57)
declare -A V6=([admin]=fd99:0:0:1 [servers]=fd99:0:1:1 [bms]=fd99:0:5:1 [guest]=fd99:0:6:1 [mgmt]=fd99:0:7:1)
for s in "${segs[@]}"; do
	e2e_ns_add "s-$s"
	NS[$s]=$(e2e_ns_name "s-$s")
	sysctls "${NS[$s]}"
	link "${NS[$s]}" eth0 "$gw" "seg-$s"
	addr "${NS[$s]}" eth0 "${V4[$s]}.10/24"
	addr "${NS[$s]}" eth0 "${V6[$s]}::10/64"
	addr "$gw" "seg-$s" "${V4[$s]}.1/24"
	addr "$gw" "seg-$s" "${V6[$s]}::1/64"
	e2e_route "${NS[$s]}" "${V4[$s]}.1" "${V6[$s]}::1"
done
link "$gw" tr0 "$upa" gw
link "$gw" tr1 "$upb" gw
link "$upa" tob "$upb" toa
addr "$gw" tr0 10.99.254.1/29
addr "$gw" tr0 fd99:ffff:0:1::1/64
addr "$gw" tr1 10.99.254.9/29
addr "$gw" tr1 fd99:ffff:0:2::1/64
addr "$upa" gw 10.99.254.2/29
addr "$upa" gw fd99:ffff:0:1::2/64
addr "$upb" gw 10.99.254.10/29
addr "$upb" gw 10.99.254.11/29 # on tr1's link, but no BGP peer
addr "$upb" gw fd99:ffff:0:2::2/64
addr "$upa" tob 10.99.253.1/30
addr "$upb" toa 10.99.253.2/30
addr "$upa" tob fd99:fffe::1/64
addr "$upb" toa fd99:fffe::2/64
# behind upa: DC1's mgmt and servers, a VPN vendor, an internet host
for a in 10.99.56.10/32 10.99.8.10/32 10.99.66.10/32 11.22.33.10/32 fd99:0:7::10/128 fd99:0:1::10/128 2a0b:11::10/128; do
	addr "$upa" lo "$a"
done
for a in 11.22.33.20/32 2a0b:11::20/128; do
	addr "$upb" lo "$a"
done
e2e_route "$gw" 10.99.254.2 fd99:ffff:0:1::2
ip -n "$gw" route add 11.22.33.20/32 via 10.99.254.10 || exit 1
ip -n "$gw" -6 route add 2a0b:11::20/128 via fd99:ffff:0:2::2 || exit 1
e2e_route "$upa" 10.99.254.1 fd99:ffff:0:1::1
e2e_route "$upb" 10.99.254.9 fd99:ffff:0:2::1
# the asymmetric path: upb answers upa's internet host directly
ip -n "$upb" route add 11.22.33.10/32 via 10.99.253.1 || exit 1
ip -n "$upb" -6 route add 2a0b:11::10/128 via fd99:fffe::1 || exit 1

# what reached the gateway's own stack past the segplan input chain (priority
# filter + 10: a drop in segplan's chain ends the packet, an accept does not)
e2e_observe_input "$gw" || exit 1
# what reached a host, before conntrack and any socket
host_obs='table inet obs {
	set p4 { type ipv4_addr . ipv4_addr . inet_proto . inet_service; flags dynamic; }
	set i4 { type ipv4_addr . ipv4_addr . icmp_type; flags dynamic; }
	set p6 { type ipv6_addr . ipv6_addr . inet_proto . inet_service; flags dynamic; }
	set i6 { type ipv6_addr . ipv6_addr . icmpv6_type; flags dynamic; }
	counter syn {}
	counter udps {}
	chain pre {
		type filter hook prerouting priority raw - 10;
		meta nfproto ipv4 meta l4proto { tcp, udp, dccp, sctp } add @p4 { ip saddr . ip daddr . meta l4proto . th dport }
		meta l4proto icmp add @i4 { ip saddr . ip daddr . icmp type }
		meta nfproto ipv6 meta l4proto { tcp, udp, dccp, sctp } add @p6 { ip6 saddr . ip6 daddr . meta l4proto . th dport }
		meta l4proto ipv6-icmp add @i6 { ip6 saddr . ip6 daddr . icmpv6 type }
		tcp flags & (syn | ack) == syn counter name syn
		meta l4proto udp counter name udps
	}
}'
for n in "$upa" "$upb" "${NS[@]}"; do
	e2e_in "$n" nft -f - <<<"$host_obs" || exit 1
done
obs_flush() {
	local n
	for n in "$gw" "$upa" "$upb" "${NS[@]}"; do
		e2e_in "$n" nft flush set inet obs "$(if [ "$n" = "$gw" ]; then echo in4; else echo p4; fi)"
		e2e_in "$n" nft flush set inet obs "$(if [ "$n" = "$gw" ]; then echo in6; else echo p6; fi)"
		[ "$n" = "$gw" ] || e2e_in "$n" nft flush set inet obs i4
		[ "$n" = "$gw" ] || e2e_in "$n" nft flush set inet obs i6
	done
}
# seen NS SET ELEMENT: the observer saw it
counter() { e2e_in "$1" nft -j list counter inet obs "$2" | jq '.nftables[1].counter.packets'; }
rule_packets() { # packets counted by the forward rules commented "rule:$1"
	e2e_in "$gw" nft -j list chain inet segplan forward |
		jq --arg c "rule:$1" '[.nftables[].rule? | select(.comment == $c) | .expr[].counter?.packets // empty] | add // 0'
}

e2e_in "$gw" nft -f "$RULESET" 2>"$tmp/load.err"
e2e_check "S1's ruleset (interface table, multi-homed) loads in the gateway" [ $? -eq 0 ]
GWMAC_TR0=$(e2e_mac "$gw" tr0)
GWMAC_TR1=$(e2e_mac "$gw" tr1)
declare -A GWMAC
for s in "${segs[@]}"; do GWMAC[$s]=$(e2e_mac "$gw" "seg-$s"); done

# listeners and multicast memberships of the gateway (without a membership a
# multicast packet is never delivered locally, whatever the ruleset says)
e2e_bg "$gw" perl "$HP" serve :: 22
e2e_bg "$gw" perl "$HP" serve :: 179
e2e_bg "$gw" perl "$HP" udpserve 0.0.0.0 161 >/dev/null
e2e_bg "$gw" perl "$HP" udpserve 0.0.0.0 67 >"$tmp/dhcp.log"
for spec in "tr0 224.0.0.5 224.0.0.6 ff02::5" "tr1 224.0.0.5 ff02::5" \
	"seg-servers 224.0.0.18 ff02::12" "seg-admin 224.0.0.18 ff02::12"; do
	# shellcheck disable=SC2086
	e2e_bg "$gw" perl "$HP" join $spec >/dev/null
done
e2e_bg "$upa" perl "$HP" serve 10.99.8.10 22
e2e_bg "$upb" perl "$HP" serve :: 8080
e2e_wait_listen "$gw" 179 && e2e_wait_listen "$upb" 8080 && e2e_wait_listen "$upa" 22 || exit 1
sleep 1.5 # link-local addresses leave DAD (OSPFv3, VRRPv3 sources)
ll() { ip -n "$1" -j -6 addr show dev "$2" | jq -r 'first(.[0].addr_info[] | select(.scope == "link") | .local) // "fe80::dead"'; }
talk() { e2e_in "$1" perl "$PROBE" talk "$2" "$3" "$4" 2>/dev/null; }
talks() { [ "$(talk "$@")" = "segplan: hello from $2" ]; }

# ================= 1. forged management sources ====================================
e2e_log "[$((SECONDS - start)) s] case 1"
obs_flush
# admin and guest forge S1's mgmt segment and DC1's mgmt range
e2e_in "${NS[admin]}" perl "$HP" send eth0 "${GWMAC[admin]}" 10.99.57.10 10.99.1.1 6 64 tcpsyn 40000 22
e2e_in "${NS[guest]}" perl "$HP" send eth0 "${GWMAC[guest]}" 10.99.56.10 10.99.49.1 6 64 tcpsyn 40001 22
e2e_in "${NS[guest]}" perl "$HP" send eth0 "${GWMAC[guest]}" 10.99.56.10 10.99.49.1 17 64 udp 40002 161
e2e_in "${NS[admin]}" perl "$HP" send eth0 "${GWMAC[admin]}" fd99:0:7:1::10 fd99:0:0:1::1 6 64 tcpsyn 40003 22
# and through the gateway: mgmt-all would accept these
e2e_in "${NS[admin]}" perl "$HP" send eth0 "${GWMAC[admin]}" 10.99.57.10 10.99.8.10 6 64 tcpsyn 40004 443
e2e_in "${NS[guest]}" perl "$HP" send eth0 "${GWMAC[guest]}" fd99:0:7::10 fd99:0:1::10 6 64 tcpsyn 40005 443
sleep 0.3
e2e_check "1 spoof: admin forging mgmt 10.99.57.10 does not reach the gateway's SSH" \
	! e2e_seen "$gw" in4 '"seg-admin" . 10.99.57.10 . 10.99.1.1 . tcp'
e2e_check "1 spoof: guest forging DC mgmt 10.99.56.10 does not reach the gateway's SSH" \
	! e2e_seen "$gw" in4 '"seg-guest" . 10.99.56.10 . 10.99.49.1 . tcp'
e2e_check "1 spoof: guest forging DC mgmt 10.99.56.10 does not reach the gateway's SNMP" \
	! e2e_seen "$gw" in4 '"seg-guest" . 10.99.56.10 . 10.99.49.1 . udp'
e2e_check "1 spoof: admin forging mgmt fd99:0:7:1::10 does not reach the gateway's SSH" \
	! e2e_seen "$gw" in6 '"seg-admin" . fd99:0:7:1::10 . fd99:0:0:1::1 . tcp'
v=$(qv --src 10.99.57.10 --dst 10.99.8.10 --proto tcp --dport 443)
e2e_check "1 spoof: admin forging mgmt is not forwarded to DC1 (query by address alone: $v; spoofing is the interface table's)" \
	! e2e_seen "$upa" p4 '10.99.57.10 . 10.99.8.10 . tcp . 443'
v=$(qv --src fd99:0:7::10 --dst fd99:0:1::10 --proto tcp --dport 443)
e2e_check "1 spoof: guest forging DC mgmt (IPv6) is not forwarded to DC1 (query by address alone: $v)" \
	! e2e_seen "$upa" p6 'fd99:0:7::10 . fd99:0:1::10 . tcp . 443'
antispoof=$(e2e_in "$gw" nft -j list chain inet segplan prerouting |
	jq '[.nftables[].rule? | select(.comment == "fixed:antispoof") | .expr[].counter?.packets // empty] | add // 0')
e2e_check "1 spoof: prerouting's fixed:antispoof counted the 6 forged packets ($antispoof)" [ "$antispoof" = 6 ]
e2e_check "1 mgmt: the mgmt segment reaches the gateway's SSH" talks "${NS[mgmt]}" 10.99.57.10 10.99.57.1 22
e2e_check "1 mgmt: the mgmt segment reaches the gateway's SSH (IPv6)" talks "${NS[mgmt]}" fd99:0:7:1::10 fd99:0:7:1::1 22
e2e_check "1 mgmt: the mgmt segment reaches the gateway's SNMP" \
	[ "$(e2e_in "${NS[mgmt]}" perl "$HP" udpask 10.99.57.10 10.99.57.1 161)" = answered ]
e2e_check "1 mgmt: DC1's mgmt range reaches the gateway's SSH on tr0 from the uplink" talks "$upa" 10.99.56.10 10.99.254.1 22
e2e_check "1 mgmt: DC1's mgmt range reaches the gateway's SSH at a segment address" talks "$upa" 10.99.56.10 10.99.1.1 22
e2e_check "1 mgmt: DC1's mgmt range reaches the gateway's SSH (IPv6)" talks "$upa" fd99:0:7::10 fd99:ffff:0:1::1 22
e2e_check "1 mgmt: DC1's mgmt range reaches the gateway's SNMP" \
	[ "$(e2e_in "$upa" perl "$HP" udpask 10.99.56.10 10.99.254.1 161)" = answered ]
e2e_check "1 mgmt: admin itself does not reach the gateway's SSH" ! talks "${NS[admin]}" 10.99.1.10 10.99.1.1 22
# an interface the table does not name (a trunk's untagged parent, a stray port):
# nothing that comes in there is trusted, a forged management source neither
e2e_ns_add stray
stray=$(e2e_ns_name stray)
e2e_veth_named "$stray" eth0 10.99.253.2/30 "$gw" eth9 10.99.253.1/30
mac9=$(e2e_mac "$gw" eth9)
e2e_in "$stray" perl "$HP" send eth0 "$mac9" 10.99.56.10 10.99.254.1 17 64 udp 40010 161
e2e_in "$stray" perl "$HP" send eth0 "$mac9" 10.99.65.7 10.99.8.10 6 64 tcpsyn 40011 443
sleep 0.3
e2e_check "1 stray: a forged DC mgmt source on an unnamed interface does not reach the gateway's SNMP" \
	! e2e_seen "$gw" in4 '"eth9" . 10.99.56.10 . 10.99.254.1 . udp'
e2e_check "1 stray: a forged vpn-admins source on an unnamed interface is not forwarded to DC1" \
	! e2e_seen "$upa" p4 '10.99.65.7 . 10.99.8.10 . tcp . 443'
unknown=$(e2e_in "$gw" nft -j list chain inet segplan prerouting |
	jq '[.nftables[].rule? | select(.comment == "fixed:unknown-interface") | .expr[].counter?.packets // empty] | add // 0')
e2e_check "1 stray: prerouting's fixed:unknown-interface counted both ($unknown)" [ "$unknown" -ge 2 ]

# ================= 2. routing protocols ==============================================
e2e_log "[$((SECONDS - start)) s] case 2"
obs_flush
A=(e2e_in "$upa" perl "$HP" send gw)
B=(e2e_in "$upb" perl "$HP" send gw)
"${A[@]}" auto 10.99.254.2 224.0.0.5 89 1 ospf
"${A[@]}" "$GWMAC_TR0" 10.99.254.2 10.99.254.1 89 1 ospf
sleep 0.2
e2e_check "2 ospf: tr0 subnet, TTL 1, to 224.0.0.5 is accepted" e2e_seen "$gw" in4 '"tr0" . 10.99.254.2 . 224.0.0.5 . 89'
e2e_check "2 ospf: tr0 subnet, TTL 1, to the interface address is accepted" e2e_seen "$gw" in4 '"tr0" . 10.99.254.2 . 10.99.254.1 . 89'
obs_flush
"${A[@]}" auto 10.99.254.2 224.0.0.5 89 2 ospf
"${A[@]}" "$GWMAC_TR0" 10.99.254.2 10.99.254.1 89 2 ospf
"${A[@]}" auto 10.99.254.20 224.0.0.5 89 1 ospf
"${B[@]}" auto 10.99.254.10 224.0.0.5 89 1 ospf
sleep 0.2
e2e_check "2 ospf: TTL 2 to 224.0.0.5 is dropped" ! e2e_seen "$gw" in4 '"tr0" . 10.99.254.2 . 224.0.0.5 . 89'
e2e_check "2 ospf: TTL 2 to the interface address is dropped" ! e2e_seen "$gw" in4 '"tr0" . 10.99.254.2 . 10.99.254.1 . 89'
e2e_check "2 ospf: a source outside tr0's subnet is dropped" ! e2e_seen "$gw" in4 '"tr0" . 10.99.254.20 . 224.0.0.5 . 89'
e2e_check "2 ospf: on tr1 (no OSPF there) it is dropped" ! e2e_seen "$gw" in4 '"tr1" . 10.99.254.10 . 224.0.0.5 . 89'
# OSPFv3
la=$(ll "$upa" gw)
lb=$(ll "$upb" gw)
lg=$(ll "$gw" tr0)
obs_flush
"${A[@]}" auto "$la" ff02::5 89 1 ospf
"${A[@]}" "$GWMAC_TR0" "$la" "$lg" 89 1 ospf
sleep 0.2
e2e_check "2 ospfv3: from $la, hop limit 1, to ff02::5 is accepted" e2e_seen "$gw" in6 "\"tr0\" . $la . ff02::5 . 89"
e2e_check "2 ospfv3: to the gateway's link-local $lg is accepted" e2e_seen "$gw" in6 "\"tr0\" . $la . $lg . 89"
obs_flush
"${A[@]}" auto "$la" ff02::5 89 2 ospf
"${A[@]}" auto fd99:ffff:0:1::2 ff02::5 89 1 ospf
"${B[@]}" auto "$lb" ff02::5 89 1 ospf
sleep 0.2
e2e_check "2 ospfv3: hop limit 2 is dropped" ! e2e_seen "$gw" in6 "\"tr0\" . $la . ff02::5 . 89"
e2e_check "2 ospfv3: a global source is dropped" ! e2e_seen "$gw" in6 '"tr0" . fd99:ffff:0:1::2 . ff02::5 . 89'
e2e_check "2 ospfv3: on tr1 it is dropped" ! e2e_seen "$gw" in6 "\"tr1\" . $lb . ff02::5 . 89"
# BGP
bgp() { e2e_in "$1" perl "$HP" connects "$2" "$3" 179 1 500; }
e2e_check "2 bgp: the configured peer 10.99.254.10 connects to tr1:179" [ "$(bgp "$upb" 10.99.254.10 10.99.254.9)" = "connected 1 refused 0 silent 0" ]
e2e_check "2 bgp: the configured peer fd99:ffff:0:2::2 connects (IPv6)" [ "$(bgp "$upb" fd99:ffff:0:2::2 fd99:ffff:0:2::1)" = "connected 1 refused 0 silent 0" ]
e2e_check "2 bgp: 10.99.254.11 on the same link does not" [ "$(bgp "$upb" 10.99.254.11 10.99.254.9)" = "connected 0 refused 0 silent 1" ]
e2e_check "2 bgp: upa (10.99.254.2 on tr0) does not" [ "$(bgp "$upa" 10.99.254.2 10.99.254.1)" = "connected 0 refused 0 silent 1" ]
e2e_check "2 bgp: an internet host behind upa does not" [ "$(bgp "$upa" 11.22.33.10 10.99.254.9)" = "connected 0 refused 0 silent 1" ]
# VRRP
obs_flush
e2e_in "${NS[servers]}" perl "$HP" send eth0 auto 10.99.9.10 224.0.0.18 112 255 vrrp
ls=$(ll "${NS[servers]}" eth0)
lad=$(ll "${NS[admin]}" eth0)
e2e_in "${NS[servers]}" perl "$HP" send eth0 auto "$ls" ff02::12 112 255 vrrp
sleep 0.2
e2e_check "2 vrrp: TTL 255 to 224.0.0.18 on seg-servers is accepted" e2e_seen "$gw" in4 '"seg-servers" . 10.99.9.10 . 224.0.0.18 . 112'
e2e_check "2 vrrp: IPv6, hop limit 255, $ls to ff02::12 on seg-servers is accepted" e2e_seen "$gw" in6 "\"seg-servers\" . $ls . ff02::12 . 112"
obs_flush
e2e_in "${NS[servers]}" perl "$HP" send eth0 auto 10.99.9.10 224.0.0.18 112 254 vrrp
e2e_in "${NS[servers]}" perl "$HP" send eth0 auto "$ls" ff02::12 112 254 vrrp
e2e_in "${NS[admin]}" perl "$HP" send eth0 auto 10.99.1.10 224.0.0.18 112 255 vrrp
e2e_in "${NS[admin]}" perl "$HP" send eth0 auto "$lad" ff02::12 112 255 vrrp
sleep 0.2
e2e_check "2 vrrp: TTL 254 is dropped" ! e2e_seen "$gw" in4 '"seg-servers" . 10.99.9.10 . 224.0.0.18 . 112'
e2e_check "2 vrrp: hop limit 254 is dropped" ! e2e_seen "$gw" in6 "\"seg-servers\" . $ls . ff02::12 . 112"
e2e_check "2 vrrp: on seg-admin (no VRRP there) it is dropped" ! e2e_seen "$gw" in4 '"seg-admin" . 10.99.1.10 . 224.0.0.18 . 112'
e2e_check "2 vrrp: IPv6 on seg-admin is dropped" ! e2e_seen "$gw" in6 "\"seg-admin\" . $lad . ff02::12 . 112"

# ================= 3. DHCP and DAD ======================================================
e2e_log "[$((SECONDS - start)) s] case 3"
obs_flush
e2e_in "${NS[admin]}" perl "$HP" send eth0 auto 0.0.0.0 255.255.255.255 17 64 dhcp
"${A[@]}" auto 0.0.0.0 255.255.255.255 17 64 dhcp
sleep 0.3
e2e_check "3 dhcp: a discover from 0.0.0.0:68 on seg-admin reaches the listener on :67" grep -q '^from 0.0.0.0:68$' "$tmp/dhcp.log"
e2e_check "3 dhcp: and passed the input chain" e2e_seen "$gw" in4 '"seg-admin" . 0.0.0.0 . 255.255.255.255 . udp'
e2e_check "3 dhcp: on tr0 (not a segment) it is dropped" ! e2e_seen "$gw" in4 '"tr0" . 0.0.0.0 . 255.255.255.255 . udp'
e2e_in "${NS[admin]}" sysctl -qw net.ipv6.conf.eth0.accept_dad=1 net.ipv6.conf.eth0.dad_transmits=1
ip -n "${NS[admin]}" -6 addr add fd99:0:0:1::77/64 dev eth0
ip -n "${NS[admin]}" -6 addr add fd99:0:0:1::1/64 dev eth0 # the gateway's own
for _ in $(seq 40); do
	ip -n "${NS[admin]}" -6 addr show dev eth0 | grep -q tentative || break
	sleep 0.1
done
ip -n "${NS[admin]}" -6 addr show dev eth0 >"$tmp/dad"
e2e_check "3 dad: fd99:0:0:1::77 (DAD on) becomes non-tentative" \
	grep -q 'inet6 fd99:0:0:1::77/64 scope global $' <(grep 'fd99:0:0:1::77' "$tmp/dad")
e2e_check "3 dad: the gateway's fd99:0:0:1::1 is detected as a duplicate (dadfailed)" \
	grep -q 'dadfailed' <(grep 'fd99:0:0:1::1/' "$tmp/dad")
ip -n "${NS[admin]}" -6 addr del fd99:0:0:1::1/64 dev eth0 2>/dev/null

# ================= 4. asymmetric transit =================================================
e2e_log "[$((SECONDS - start)) s] case 4"
e2e_check "4 transit: upb answers 11.22.33.10 on the direct link" grep -q "dev toa" <(ip -n "$upb" route get 11.22.33.10)
e2e_check "4 transit: data over TCP 11.22.33.10 -> 11.22.33.20 (SYN, ACK via gw; SYN-ACK direct)" \
	talks "$upa" 11.22.33.10 11.22.33.20 8080
e2e_check "4 transit: the same in IPv6 (2a0b:11::10 -> 2a0b:11::20)" talks "$upa" 2a0b:11::10 2a0b:11::20 8080
e2e_in "$gw" cat /proc/net/nf_conntrack >"$tmp/ct"
e2e_check "4 transit: the gateway's conntrack holds no transit connection" ! grep -q '11\.22\.33\.20\|2a0b:0*11:' "$tmp/ct"
e2e_check "4 transit: (it does hold the SSH and BGP connections to the gateway: the table is read)" grep -q 'dport=\(22\|179\) ' "$tmp/ct"
v=$(qv --src 11.22.33.10 --dst 11.22.33.20 --proto tcp --dport 8080)
e2e_check "4 transit: query says S1 is not on the path of transit, which passes ($v)" [ "$v" = "accept(S1 not on the path)" ]
transit=$(e2e_in "$gw" nft -j list chain inet segplan forward |
	jq '[.nftables[].rule? | select(.comment == "fixed:transit") | .expr[].counter?.packets // empty] | add // 0')
e2e_check "4 transit: forward's fixed:transit counted them ($transit packets)" [ "$transit" -ge 6 ]

# ================= 5. ICMP errors ===========================================================
e2e_log "[$((SECONDS - start)) s] case 5"
obs_flush
SA=(e2e_in "${NS[admin]}" perl "$HP" send eth0 "${GWMAC[admin]}")
"${SA[@]}" 10.99.1.10 10.99.8.10 1 64 icmp 3 3 5353 40000
"${SA[@]}" fd99:0:0:1::10 fd99:0:1::10 58 64 icmp 1 4 5353 40000
"${SA[@]}" 10.99.1.10 10.99.8.10 1 64 icmp 0 0
"${SA[@]}" fd99:0:0:1::10 fd99:0:1::10 58 64 icmp 129 0
"${SA[@]}" 10.99.1.10 10.99.8.10 1 64 icmp 8 0
"${SA[@]}" fd99:0:0:1::10 fd99:0:1::10 58 64 icmp 128 0
e2e_in "${NS[guest]}" perl "$HP" send eth0 "${GWMAC[guest]}" 10.99.49.10 10.99.8.10 1 64 icmp 8 0
sleep 0.3
icmp_case() { # WHAT KERNEL(seen|unseen) NS SET ELEMENT WANT_QUERY QUERY-ARGS...
	local what=$1 want=$2 ns=$3 set=$4 el=$5 wq=$6 k
	shift 6
	if e2e_seen "$ns" "$set" "$el"; then k=accept; else k=drop; fi
	local v
	v=$(qv "$@")
	e2e_check "5 icmp: $what: kernel $k, query $v" [ "$k" = "$want" -a "$v" = "$wq" ]
}
icmp_case "unsolicited port-unreachable admin -> DC1" drop "$upa" i4 '10.99.1.10 . 10.99.8.10 . destination-unreachable' drop/invalid \
	--src 10.99.1.10 --dst 10.99.8.10 --proto icmp --type 3
icmp_case "unsolicited ICMPv6 port-unreachable admin -> DC1" drop "$upa" i6 'fd99:0:0:1::10 . fd99:0:1::10 . destination-unreachable' drop/invalid \
	--src fd99:0:0:1::10 --dst fd99:0:1::10 --proto icmpv6 --type 1
icmp_case "unsolicited echo-reply" drop "$upa" i4 '10.99.1.10 . 10.99.8.10 . echo-reply' drop/invalid \
	--src 10.99.1.10 --dst 10.99.8.10 --proto icmp --type 0
icmp_case "unsolicited ICMPv6 echo-reply" drop "$upa" i6 'fd99:0:0:1::10 . fd99:0:1::10 . echo-reply' drop/invalid \
	--src fd99:0:0:1::10 --dst fd99:0:1::10 --proto icmpv6 --type 129
icmp_case "echo-request admin -> DC1 server (office-web)" accept "$upa" i4 '10.99.1.10 . 10.99.8.10 . echo-request' accept \
	--src 10.99.1.10 --dst 10.99.8.10 --proto icmp --type 8
icmp_case "ICMPv6 echo-request admin -> DC1 server" accept "$upa" i6 'fd99:0:0:1::10 . fd99:0:1::10 . echo-request' accept \
	--src fd99:0:0:1::10 --dst fd99:0:1::10 --proto icmpv6 --type 128
icmp_case "echo-request guest -> DC1 server (guest-apart)" drop "$upa" i4 '10.99.49.10 . 10.99.8.10 . echo-request' drop \
	--src 10.99.49.10 --dst 10.99.8.10 --proto icmp --type 8
v=$(qv --src 10.99.41.10 --dst 10.99.8.10 --proto udp --dport 514)
r=$(e2e_in "${NS[bms]}" perl "$HP" udpask 10.99.41.10 10.99.8.10 514)
e2e_check "5 icmp: port-unreachable answering bms -> DC1 udp/514 (RELATED) comes back: $r (query: $v)" [ "$r" = refused -a "$v" = accept ]
v=$(qv --src fd99:0:5:1::10 --dst fd99:0:1::10 --proto udp --dport 514)
r=$(e2e_in "${NS[bms]}" perl "$HP" udpask fd99:0:5:1::10 fd99:0:1::10 514)
e2e_check "5 icmp: the same in IPv6: $r (query: $v)" [ "$r" = refused -a "$v" = accept ]

# ================= 6. log flood ==============================================================
e2e_log "[$((SECONDS - start)) s] case 6"
before=$(rule_packets vendor-bms)
e2e_in "${NS[bms]}" nft reset counter inet obs syn >/dev/null
r=$(e2e_in "$upa" perl "$HP" connects 10.99.66.10 10.99.41.10 80 2000 1000)
syn=$(counter "${NS[bms]}" syn)
n=$(( $(rule_packets vendor-bms) - before ))
v=$(qv --src 10.99.66.10 --dst 10.99.41.10 --proto tcp --dport 80)
e2e_check "6 log: 2000 new connections on logged accept vendor-bms (5/second): $r" [ "$r" = "connected 0 refused 2000 silent 0" ]
e2e_check "6 log: bms saw all 2000 SYNs ($syn), rule:vendor-bms counted $n, query $v" [ "$syn" = 2000 -a "$n" = 2000 -a "$v" = accept ]
before=$(rule_packets guest-no-bms)
e2e_in "${NS[bms]}" nft reset counter inet obs udps >/dev/null
for i in $(seq 0 9); do # 10 bursts of 200: under the veth backlog
	e2e_in "${NS[guest]}" perl "$HP" send eth0 "${GWMAC[guest]}" 10.99.49.10 10.99.41.10 17 64 udp $((20000 + i * 200)) 9999 -n 200
	sleep 0.02
done
sleep 0.2
udp=$(counter "${NS[bms]}" udps)
n=$(( $(rule_packets guest-no-bms) - before ))
v=$(qv --src 10.99.49.10 --dst 10.99.41.10 --proto udp --dport 9999)
e2e_check "6 log: logged drop guest-no-bms dropped all 2000 (bms saw $udp, rule counted $n, query $v)" [ "$udp" = 0 -a "$n" = 2000 -a "$v" = drop ]

# ================= 8. reject =====================================================================
e2e_log "[$((SECONDS - start)) s] case 8"
obs_flush
v=$(qv --src 10.99.1.10 --dst 10.99.41.10 --proto tcp --dport 22)
r=$(e2e_in "${NS[admin]}" perl "$HP" connects 10.99.1.10 10.99.41.10 22 1 1000)
sleep 0.1
e2e_check "8 reject: TCP SYN admin -> bms:22 gets a RST from the gateway ($r, query $v)" \
	[ "$r" = "connected 0 refused 1 silent 0" -a "$v" = reject ]
e2e_check "8 reject: bms never saw that SYN" ! e2e_seen "${NS[bms]}" p4 '10.99.1.10 . 10.99.41.10 . tcp . 22'
r=$(e2e_in "${NS[admin]}" perl "$HP" connects fd99:0:0:1::10 fd99:0:5:1::10 22 1 1000)
e2e_check "8 reject: the same in IPv6 ($r)" [ "$r" = "connected 0 refused 1 silent 0" ]
v=$(qv --src 10.99.1.10 --dst 10.99.41.10 --proto udp --dport 514)
r=$(e2e_in "${NS[admin]}" perl "$HP" udpask 10.99.1.10 10.99.41.10 514)
e2e_check "8 reject: UDP admin -> bms:514 gets ICMP admin-prohibited (EHOSTUNREACH): $r (query $v)" \
	[ "$r" = unreach:EHOSTUNREACH -a "$v" = reject ]
r=$(e2e_in "${NS[admin]}" perl "$HP" udpask fd99:0:0:1::10 fd99:0:5:1::10 514)
e2e_check "8 reject: UDP in IPv6 gets ICMPv6 admin-prohibited (EACCES): $r" [ "$r" = unreach:EACCES ]
e2e_check "8 reject: bms never saw the datagrams" ! e2e_seen "${NS[bms]}" p4 '10.99.1.10 . 10.99.41.10 . udp . 514'

# ================= 9. DCCP and SCTP ports ===========================================================
e2e_log "[$((SECONDS - start)) s] case 9"
obs_flush
for dst in 10.99.8.10 fd99:0:1::10; do
	src=$([ "$dst" = 10.99.8.10 ] && echo 10.99.1.10 || echo fd99:0:0:1::10)
	"${SA[@]}" "$src" "$dst" 33 64 dccp 40001 5001
	"${SA[@]}" "$src" "$dst" 33 64 dccp 40002 5003
	"${SA[@]}" "$src" "$dst" 33 64 dccp 40003 5002
	"${SA[@]}" "$src" "$dst" 132 64 sctp 40004 5002
	"${SA[@]}" "$src" "$dst" 132 64 sctp 40005 5004
	"${SA[@]}" "$src" "$dst" 132 64 sctp 40006 5001
done
sleep 0.3
for dst in 10.99.8.10 fd99:0:1::10; do
	if [ "$dst" = 10.99.8.10 ]; then src=10.99.1.10 set=p4; else src=fd99:0:0:1::10 set=p6; fi
	for t in "dccp 5001 accept" "dccp 5003 drop" "dccp 5002 drop" "sctp 5002 accept" "sctp 5004 drop" "sctp 5001 drop"; do
		read -r p port want <<<"$t"
		if e2e_seen "$upa" "$set" "$src . $dst . $p . $port"; then k=accept; else k=drop; fi
		v=$(qv --src "$src" --dst "$dst" --proto "$p" --dport "$port")
		e2e_check "9 $p: $src -> $dst port $port: kernel $k, query $v (want $want)" [ "$k" = "$want" -a "$v" = "$want" ]
	done
done

# ================= 7. expiry (last: it replaces the ruleset) ===========================================
e2e_log "[$((SECONDS - start)) s] case 7"
end=$(($(date +%s) + 12))
stamp=$(date -u -d "@$end" +%Y-%m-%dT%H:%M:%SZ)
mkdir -p "$tmp/exp"
cp "$FIX"/*.csv "$tmp/exp/"
awk -v stamp="$stamp" '{ print } /^rules:$/ && !done {
	print "  - id: guest-ssh-trial"; print "    from: [guest]"; print "    to: [servers]"
	print "    services: [ssh]"; print "    action: accept"; print "    expires: " stamp; done = 1 }' \
	"$FIX/policy.yaml" >"$tmp/exp/policy.yaml"
"$SEGPLAN" policy compile "$tmp/exp" --out "$tmp/expc" --site "$SITE" >/dev/null 2>"$tmp/exp.err"
e2e_check "7 expiry: the policy with guest-ssh-trial expiring $stamp compiles" [ $? -eq 0 ]
e2e_check "7 expiry: its rule carries meta time < $end" grep -q "meta time < $end .*rule:guest-ssh-trial" "$tmp/expc/$SITE.nft"
e2e_in "$gw" nft -f "$tmp/expc/$SITE.nft"
qnow() { "$SEGPLAN" policy query "$tmp/exp" --src 10.99.49.10 --dst 10.99.8.10 --proto tcp --dport 22 --json 2>/dev/null |
	jq -r '(.gateways[] | select(.site == "S1")) | .verdict + ":" + (.rule // "-")'; }
v=$(qnow)
e2e_check "7 expiry: before the end, guest -> DC1 ssh passes (query $v)" talks "${NS[guest]}" 10.99.49.10 10.99.8.10 22
e2e_check "7 expiry: before the end, query says accept by guest-ssh-trial" [ "$v" = accept:guest-ssh-trial ]
e2e_bg "${NS[guest]}" perl "$HP" hold 10.99.49.10 10.99.8.10 22 "$tmp/expired" >"$tmp/hold.out"
while [ "$(date +%s)" -le $((end + 1)) ]; do sleep 0.2; done
v=$(qnow)
e2e_check "7 expiry: after the end, a new connection does not pass" ! talks "${NS[guest]}" 10.99.49.10 10.99.8.10 22
e2e_check "7 expiry: after the end, query says drop by guest-apart ($v)" [ "$v" = drop:guest-apart ]
touch "$tmp/expired"
for _ in $(seq 40); do grep -q ' ' "$tmp/hold.out" && [ "$(wc -w <"$tmp/hold.out")" -ge 2 ] && break; sleep 0.1; done
# A connection opened before the end is established: ct state established
# accepts it before any rule, so it survives the expiry (docs/policy.md).
e2e_check "7 expiry: a connection opened before the end survives it (established): $(cat "$tmp/hold.out")" \
	[ "$(cat "$tmp/hold.out")" = "ok ok" ]

e2e_log "runtime $((SECONDS - start)) s"
e2e_done
