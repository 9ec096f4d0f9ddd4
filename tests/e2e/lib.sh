# SPDX-License-Identifier: MIT
# End-to-end harness: test hosts in network namespaces joined by veth pairs,
# with addresses only inside them (10.99.x.x, fd99::/16). Everything made
# here is removed on every exit path (EXIT trap): background processes, every
# process left in our namespaces (a confirm watchdog, a listener), the
# namespaces, the temporary directory.
#
#   . "$(dirname "$0")/lib.sh"
#   e2e_require_root
#   e2e_ns_add gw; gw=$(e2e_ns_name gw)  # "sp<pid>-gw", loopback up
#   e2e_veth "$cli" 10.99.1.2/24 "$gw" 10.99.1.1/24
#   e2e_forwarding "$gw"
#   e2e_bg "$srv" perl ...               # background, killed at exit
#   e2e_in "$cli" bash -c '...'          # run inside a namespace
#   e2e_check "what" test ...; e2e_done  # "N passed, N failed" closing line
#
# Without root the test is skipped (exit 77); with CI=true a skip is a
# failure. Run directly, this file tests itself.

E2E_PREFIX="sp$$-"
E2E_NS=()
E2E_PIDS=()
E2E_TMP=""
E2E_PASS=0
E2E_FAIL=0
E2E_VETH=0

e2e_log() {
	printf '%s\n' "$*" >&2
}

e2e_require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		if [ "${CI:-}" = "true" ]; then
			e2e_log "FAIL: needs root (network namespaces); CI must run as root"
			exit 1
		fi
		e2e_log "SKIP: needs root (network namespaces)"
		exit 77
	fi
	for tool in ip ss timeout; do
		if ! command -v "$tool" >/dev/null; then
			e2e_log "FAIL: $tool is missing"
			exit 1
		fi
	done
}

e2e_cleanup() {
	local rc=$? pid ns
	trap - EXIT INT TERM
	for pid in "${E2E_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for ns in "${E2E_NS[@]}"; do
		# anything still running in it: listeners, confirm watchdogs
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	# and any namespace of ours that a subshell made (same prefix: $$ is ours)
	for ns in $(ip netns list 2>/dev/null | awk -v p="$E2E_PREFIX" 'index($1, p) == 1 { print $1 }'); do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	for pid in "${E2E_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	if [ -n "$E2E_TMP" ] && [ -d "$E2E_TMP" ]; then
		rm -rf "$E2E_TMP"
	fi
	exit "$rc"
}

trap e2e_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# e2e_tmp: sets E2E_TMP to a fresh directory (removed at exit). A plain
# command, not for $( ).
e2e_tmp() {
	if [ -z "$E2E_TMP" ]; then
		E2E_TMP=$(mktemp -d /tmp/segplan-e2e.XXXXXX) || exit 1
	fi
}

# e2e_ns_add NAME: creates namespace <prefix>NAME with loopback up. A plain
# command, not for $( ): the cleanup list lives in this shell.
e2e_ns_add() {
	local ns="$E2E_PREFIX$1"
	ip netns add "$ns" || exit 1
	E2E_NS+=("$ns")
	ip -n "$ns" link set lo up || exit 1
}

# e2e_ns_del NAME: removes namespace <prefix>NAME now (and whatever runs in
# it), not only at exit. A plain command, not for $( ).
e2e_ns_del() {
	local ns="$E2E_PREFIX$1" pid i
	for pid in $(ip netns pids "$ns" 2>/dev/null); do
		kill -KILL "$pid" 2>/dev/null
	done
	ip netns del "$ns" 2>/dev/null
	for i in "${!E2E_NS[@]}"; do
		[ "${E2E_NS[$i]}" != "$ns" ] || unset 'E2E_NS[i]'
	done
}

e2e_ns_name() {
	printf '%s\n' "$E2E_PREFIX$1"
}

# e2e_veth NS1 ADDR1 NS2 ADDR2 [ADDR1b ADDR2b]: a veth pair between two
# namespaces (created inside them, so host names never clash), addresses
# assigned (IPv6 without duplicate address detection, usable at once), up.
# Prints the two interface names.
e2e_veth() {
	E2E_VETH=$((E2E_VETH + 1))
	e2e_veth_named "$1" "e${E2E_VETH}a" "$2" "$3" "e${E2E_VETH}b" "$4" "${5:-}" "${6:-}"
}

# e2e_veth_named NS1 IF1 ADDR1 NS2 IF2 ADDR2 [ADDR1b ADDR2b]: the same with
# the interface names given (a gateway's ruleset may name its interfaces).
e2e_veth_named() {
	local ns1=$1 if1=$2 a1=$3 ns2=$4 if2=$5 a2=$6 b1=${7:-} b2=${8:-}
	ip link add "$if1" netns "$ns1" type veth peer name "$if2" netns "$ns2" || exit 1
	e2e_addr "$ns1" "$if1" "$a1"
	e2e_addr "$ns2" "$if2" "$a2"
	[ -n "$b1" ] && e2e_addr "$ns1" "$if1" "$b1"
	[ -n "$b2" ] && e2e_addr "$ns2" "$if2" "$b2"
	ip -n "$ns1" link set "$if1" up || exit 1
	ip -n "$ns2" link set "$if2" up || exit 1
}

e2e_addr() {
	case $3 in
	*:*) ip -n "$1" -6 addr add "$3" dev "$2" nodad || exit 1 ;;
	*) ip -n "$1" addr add "$3" dev "$2" || exit 1 ;;
	esac
}

e2e_forwarding() {
	ip netns exec "$1" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 ||
		exit 1
}

# e2e_route NS VIA4 [VIA6]: default routes of a namespace.
e2e_route() {
	ip -n "$1" route add default via "$2" || exit 1
	[ -z "${3:-}" ] || ip -n "$1" -6 route add default via "$3" || exit 1
}

e2e_in() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# e2e_bg NS CMD...: runs CMD in the background inside NS; killed at exit.
e2e_bg() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@" &
	E2E_PIDS+=("$!")
}

# e2e_wait_listen NS PORT: until a TCP listener is up (at most 5 s).
e2e_wait_listen() {
	local _
	for _ in $(seq 50); do
		if [ -n "$(ip netns exec "$1" ss -Hltn "sport = :$2")" ]; then
			return 0
		fi
		sleep 0.1
	done
	e2e_log "no listener on port $2 in $1"
	return 1
}

# e2e_check WHAT [!] CMD...: one assertion (! negates); counts and reports,
# never exits.
e2e_check() {
	local what=$1 want=0 got=0
	shift
	if [ "$1" = "!" ]; then
		want=1
		shift
	fi
	"$@" || got=1
	if [ "$got" -eq "$want" ]; then
		E2E_PASS=$((E2E_PASS + 1))
		e2e_log "ok: $what"
	else
		E2E_FAIL=$((E2E_FAIL + 1))
		e2e_log "FAIL: $what"
	fi
}

# e2e_xcheck VAR WHAT CMD...: e2e_check, unless VAR is 1 (a known bug): then
# a failure is reported as XFAIL and not counted, and a pass says that the
# variable can be flipped.
e2e_xcheck() {
	local var=$1 what=$2
	shift 2
	if [ "${!var:-0}" = 1 ]; then
		if "$@"; then
			e2e_log "XPASS: $what (set $var=0)"
		else
			e2e_log "XFAIL: $what ($var)"
		fi
	else
		e2e_check "$what" "$@"
	fi
}

# e2e_mac NS IF: the interface's MAC address.
e2e_mac() {
	ip -n "$1" -j link show dev "$2" | jq -r '.[0].address'
}

# e2e_observe_input NS: what reaches the namespace's own stack past a
# gateway's input chain (priority filter): a base chain after it adds
# interface . source . destination . protocol to the sets in4 and in6 of
# table inet obs (a drop in the gateway's chain ends the packet before it).
e2e_observe_input() {
	e2e_in "$1" nft -f - <<'EOF_OBS'
table inet obs {
	set in4 { type ifname . ipv4_addr . ipv4_addr . inet_proto; flags dynamic; }
	set in6 { type ifname . ipv6_addr . ipv6_addr . inet_proto; flags dynamic; }
	chain input {
		type filter hook input priority filter + 10;
		meta nfproto ipv4 add @in4 { meta iifname . ip saddr . ip daddr . meta l4proto }
		meta nfproto ipv6 add @in6 { meta iifname . ip6 saddr . ip6 daddr . meta l4proto }
	}
}
EOF_OBS
}

# e2e_seen NS SET ELEMENT: is the element in that set of table inet obs?
e2e_seen() {
	e2e_in "$1" nft get element inet obs "$2" "{ $3 }" >/dev/null 2>&1
}

# The closing line that test runners read; exit 1 on any failure.
e2e_done() {
	printf '%d passed, %d failed\n' "$E2E_PASS" "$E2E_FAIL"
	[ "$E2E_FAIL" -eq 0 ]
}

e2e_self_test() {
	e2e_require_root
	local child rc left
	# A failing test script must still leave nothing behind.
	child=$(
		bash -c '
			. "$1"
			e2e_ns_add a
			e2e_ns_add b
			e2e_veth "$(e2e_ns_name a)" 10.99.250.1/30 "$(e2e_ns_name b)" 10.99.250.2/30
			e2e_bg "$(e2e_ns_name b)" sleep 60
			e2e_tmp
			echo "$E2E_PREFIX $E2E_TMP"
			exit 3
		' selftest "${BASH_SOURCE[0]}"
	)
	rc=$?
	e2e_check "a failing script keeps its exit code" [ "$rc" -eq 3 ]
	left=$(ip netns list | grep -c "^${child%% *}" || true)
	e2e_check "its namespaces are gone" [ "$left" -eq 0 ]
	e2e_check "it had a temporary directory" [ -n "${child#* }" ]
	e2e_check "its temporary directory is gone" [ ! -e "${child#* }" ]

	e2e_ns_add x
	e2e_ns_add y
	local x y
	x=$(e2e_ns_name x)
	y=$(e2e_ns_name y)
	e2e_veth "$x" 10.99.250.5/30 "$y" 10.99.250.6/30 fd99:250::1/64 fd99:250::2/64
	e2e_bg "$y" perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(LocalAddr => "10.99.250.6", LocalPort => 7000,
			Listen => 4, ReuseAddr => 1) or die;
		while (my $c = $s->accept) { print $c "hi\n"; close $c }'
	e2e_wait_listen "$y" 7000
	e2e_check "TCP across the veth pair" \
		[ "$(e2e_in "$x" timeout 5 bash -c 'exec 3<>/dev/tcp/10.99.250.6/7000; head -1 <&3')" = hi ]
	e2e_done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	e2e_self_test
fi
