# SPDX-License-Identifier: MIT
# segplan-agent live on a gateway namespace whose forward chain was compiled
# by segplan from a small inventory (client site S1 admin, S1 servers, a
# second site S2, unassigned city space). The agent captures on both of the
# gateway's interfaces, runs as an unprivileged user with CAP_NET_RAW and
# CAP_NET_ADMIN only, and must report: the connections sent, with their
# verdicts and deciding rules; rule hits equal to the kernel's counters as
# `segplan policy status --json` reads them; the denied tuple with its hosts;
# unassigned traffic; a flow another gateway counts; link down/up, address
# add/remove and an interface deleted and created again (capture reopened);
# a SIGHUP reload (a broken file keeps the old policy); SIGUSR1 statistics;
# and on SIGTERM every open flow flushed, a final summary, exit 0.
. "$(dirname "$0")/lib.sh"
e2e_require_root

SEGPLAN=${SEGPLAN_BIN:-segplan}
AGENT=${SEGPLAN_AGENT:-$(dirname "$SEGPLAN")/agent/segplan-agent}
for tool in jq perl; do
	if ! command -v "$tool" >/dev/null; then
		e2e_log "FAIL: $tool is missing"
		exit 1
	fi
done
if ! "$AGENT" --help >/dev/null 2>&1; then
	e2e_log "FAIL: segplan-agent not found at $AGENT (set SEGPLAN_AGENT)"
	exit 1
fi
e2e_tmp
tmp=$E2E_TMP
export SEGPLAN_RUN_DIR="$tmp/run"
chmod 755 "$tmp"
mkdir -p "$tmp/inv" "$tmp/pol" "$tmp/out"
chmod 777 "$tmp/out"

# --- the inventory and its compiled policy ---------------------------------
cat >"$tmp/inv/sites.csv" <<'EOF'
id,name,district,type,lat,lon,staff,broadband,current_mbps,required_mbps,flags
DC1,Rechenzentrum,Mitte,data_centre,48.7765,9.1795,10,fibre,10000,10000,critical;primary
S1,Rathaus,Mitte,town_hall,48.7770,9.1800,200,fibre,1000,1000,
S2,Amt Nord,Mitte,office,48.7995,9.1855,40,fibre,1000,500,
EOF
cat >"$tmp/inv/districts.csv" <<'EOF'
name,lat,lon,radius_m
Mitte,48.7760,9.1790,5000
EOF
cat >"$tmp/inv/links.csv" <<'EOF'
id,a,b,kind,capacity_mbps,length_m,cost_eur
L1,DC1,S1,fibre,10000,300,
L2,S1,S2,fibre,1000,400,
EOF
cat >"$tmp/inv/addressplan.csv" <<'EOF'
zone,prefix
city,10.99.0.0/16
city,fd99::/16
admin,10.99.0.0/20
admin,fd99:1000::/20
servers,10.99.16.0/20
servers,fd99:2000::/20
dcservers,10.99.200.0/24
dcservers,fd99:c800::/24
EOF
cat >"$tmp/inv/segments.csv" <<'EOF'
site,name,zone,vlan,ipv4,ipv6
DC1,servers,dcservers,20,10.99.200.0/24,fd99:c800::/64
S1,admin,admin,10,10.99.1.0/24,fd99:1001::/64
S1,servers,servers,20,10.99.17.0/24,fd99:2001::/64
S2,admin,admin,10,10.99.5.0/24,fd99:1005::/64
EOF
cat >"$tmp/inv/policy.yaml" <<'EOF'
version: 1
services:
  web: {tcp: [8080]}
  ping: {icmp: [echo-request], icmpv6: [echo-request]}
rules:
  - id: web
    from: [admin]
    to: [servers]
    services: [web, ping]
    action: accept
  - id: no-unassigned
    from: any
    to: [unassigned]
    services: any
    action: drop
EOF
if ! "$SEGPLAN" policy compile "$tmp/inv" --out "$tmp/pol" --site S1 >/dev/null ||
	! "$SEGPLAN" policy compile "$tmp/inv" --out "$tmp/obs" --site S1 --mode observe >/dev/null; then
	e2e_log "FAIL: the test inventory does not compile"
	exit 1
fi
chmod 644 "$tmp/pol/S1.policy.json"
policy="$tmp/pol/S1.policy.json"
cp "$policy" "$tmp/enforce.policy.json"

# --- client (S1 admin) -- gateway S1 -- server (S1 servers) ----------------
e2e_ns_add cli
e2e_ns_add gw
e2e_ns_add srv
cli=$(e2e_ns_name cli)
gw=$(e2e_ns_name gw)
srv=$(e2e_ns_name srv)
e2e_veth "$cli" 10.99.1.2/24 "$gw" 10.99.1.1/24 fd99:1001::2/64 fd99:1001::1/64 # e1a, e1b
e2e_veth "$gw" 10.99.17.1/24 "$srv" 10.99.17.2/24 fd99:2001::1/64 fd99:2001::2/64 # e2a, e2b
e2e_forwarding "$gw"
e2e_route "$cli" 10.99.1.1 fd99:1001::1
srv_extra() { # the server also holds an S2 address and an unassigned one
	e2e_addr "$srv" e2b 10.99.5.2/32
	e2e_addr "$srv" e2b 10.99.9.2/32
	e2e_route "$srv" 10.99.17.1 fd99:2001::1
	ip -n "$gw" route add 10.99.5.0/24 via 10.99.17.2 || exit 1
	ip -n "$gw" route add 10.99.9.0/24 via 10.99.17.2 || exit 1
}
srv_extra
"$SEGPLAN" policy apply "$tmp/pol/S1.nft" --netns "$gw" >/dev/null || {
	e2e_log "FAIL: the compiled ruleset does not load"
	exit 1
}

e2e_bg "$srv" perl -MIO::Socket::IP -e '
	my $s = IO::Socket::IP->new(LocalHost => "::", LocalPort => 8080, Listen => 16,
		ReuseAddr => 1, V6Only => 0) or die "listen: $@";
	while (my $c = $s->accept) { print $c "hi\n"; close $c }'
e2e_wait_listen "$srv" 8080 || exit 1

settled() { # until no IPv6 address in the namespaces is tentative (link-local DAD)
	local _ ns busy
	for _ in $(seq 50); do
		busy=
		for ns in "$cli" "$gw" "$srv"; do
			[ -n "$(ip -n "$ns" -6 addr show tentative)" ] && busy=1
		done
		[ -z "$busy" ] && return 0
		sleep 0.1
	done
	return 1
}

connect() { # NS ADDRESS PORT [SOURCE]: one TCP connection, reads the greeting
	e2e_in "$1" timeout 3 perl -MIO::Socket::IP -e '
		my $c = IO::Socket::IP->new(PeerHost => $ARGV[0], PeerPort => $ARGV[1],
			($ARGV[2] ? (LocalHost => $ARGV[2]) : ()), Timeout => 2) or exit 1;
		my $l = <$c>; exit($l ? 0 : 1)' "$2" "$3" "${4:-}" 2>/dev/null
}

jqt() { # FILTER FILE: true when FILTER's last output is neither false nor null
	jq -e "$1" "$2" >/dev/null
}
tuple() { # JQ-CONDITION: flows of the matching tuples
	jq "[.tuples[] | select($1) | .flows] | add // 0" "$sum"
}

# --- the agent ------------------------------------------------------------
cat >"$tmp/agent.conf" <<EOF
# segplan-agent config: long option names
interface = e1b
interface = e2a
policy = $policy
summary = $tmp/out/summary.json
flows-out = $tmp/out/flows.jsonl
interval = 3600
user = nobody
EOF
ip netns exec "$gw" "$AGENT" --config "$tmp/agent.conf" 2>"$tmp/agent.log" &
agent=$!
E2E_PIDS+=("$agent")
wait_log() { # PATTERN: until the agent's log has it (at most 5 s)
	local _
	for _ in $(seq 50); do
		grep -q -- "$1" "$tmp/agent.log" && return 0
		sleep 0.1
	done
	return 1
}
e2e_check "the agent starts capturing" wait_log "capturing on 2 interfaces"
e2e_check "it runs as nobody" [ "$(awk '/^Uid:/ { print $2 }' /proc/$agent/status)" = "$(id -u nobody)" ]
e2e_check "with CAP_NET_RAW and CAP_NET_ADMIN only" \
	[ "$(awk '/^CapEff:/ { print $2 }' /proc/$agent/status)" = 0000000000003000 ]
e2e_check "and nothing more in its bounding set" \
	[ "$(awk '/^CapBnd:/ { print $2 }' /proc/$agent/status)" = 0000000000003000 ]

# --- traffic ----------------------------------------------------------------
# A SYN sent before neighbour discovery can work is sent again, and the
# kernel counts every SYN of a connection not yet answered.
settled
ok4=0
for _ in 1 2 3 4 5; do connect "$cli" 10.99.17.2 8080 && ok4=$((ok4 + 1)); done
ok6=0
for _ in 1 2 3; do connect "$cli" fd99:2001::2 8080 && ok6=$((ok6 + 1)); done
e2e_check "5 IPv4 and 3 IPv6 web connections pass the gateway ($ok4, $ok6)" [ "$ok4$ok6" = 53 ]
e2e_in "$cli" ping -c 1 -W 2 10.99.17.2 >/dev/null
e2e_in "$cli" ping -c 1 -W 2 10.99.17.2 >/dev/null
e2e_check "ssh is dropped by default" ! connect "$cli" 10.99.17.2 22
e2e_check "unassigned space is dropped" ! connect "$cli" 10.99.9.2 8080
e2e_check "S2 to S1 admin is dropped" ! connect "$srv" 10.99.1.2 8080 10.99.5.2

# --- interfaces and addresses change under the agent -----------------------
ip -n "$gw" link set e2a down
sleep 0.5
ip -n "$gw" link set e2a up
ip -n "$gw" addr add 10.99.1.77/24 dev e1b
sleep 0.3
ip -n "$gw" addr del 10.99.1.77/24 dev e1b
e2e_check "link down is logged" wait_log "link e2a (ifindex [0-9]*) down"
e2e_check "link up is logged" wait_log "link e2a (ifindex [0-9]*) up"
e2e_check "an added address is mapped to its zone" \
	wait_log "address 10.99.1.77/24 added on e1b: zone admin, local segment"
e2e_check "a removed address is logged" wait_log "address 10.99.1.77/24 removed on e1b"

old_ifindex=$(ip -n "$gw" -o link show e2a | cut -d: -f1)
ip -n "$gw" link del e2a
ip link add e2a netns "$gw" type veth peer name e2b netns "$srv" || exit 1
e2e_addr "$gw" e2a 10.99.17.1/24
e2e_addr "$gw" e2a fd99:2001::1/64
e2e_addr "$srv" e2b 10.99.17.2/24
e2e_addr "$srv" e2b fd99:2001::2/64
ip -n "$gw" link set e2a up
ip -n "$srv" link set e2b up
srv_extra
new_ifindex=$(ip -n "$gw" -o link show e2a | cut -d: -f1)
e2e_check "the recreated e2a has a new ifindex" [ "$old_ifindex" != "$new_ifindex" ]
e2e_check "the capture on it is reopened" wait_log "capture on e2a reopened (ifindex $new_ifindex)"
settled
e2e_check "a web connection after the recreation passes" connect "$cli" 10.99.17.2 8080

# --- signals ----------------------------------------------------------------
kill -USR1 "$agent"
e2e_check "SIGUSR1 prints statistics" wait_log "e2a: capturing, [0-9]* received"
echo '{"format": 1, "zones": [' >"$policy"
kill -HUP "$agent"
e2e_check "a broken policy is refused on SIGHUP" wait_log "reload failed, the previous policy stays"
e2e_check "the agent is still running" kill -0 "$agent"
cp "$tmp/obs/S1.policy.json" "$policy"
kill -HUP "$agent"
e2e_check "a good policy is reloaded" wait_log "policy reloaded (sha256:[0-9a-f]*, observe)"

# A connection still open when the agent stops is flushed, not lost.
e2e_bg "$cli" perl -MIO::Socket::IP -e '
	my $c = IO::Socket::IP->new(PeerHost => "10.99.17.2", PeerPort => 8080) or die;
	<$c>; sleep 30'
sleep 1
"$SEGPLAN" policy status --netns "$gw" --json >"$tmp/status.json"
kill -TERM "$agent"
wait "$agent"
rc=$?
e2e_check "SIGTERM: exit 0" [ "$rc" -eq 0 ]

# --- what the agent reported ------------------------------------------------
sum="$tmp/out/summary.json"
cat "$tmp/out"/flows-*.jsonl >"$tmp/flows.jsonl" 2>/dev/null
e2e_check "a final summary was written" jqt '.window.final == true and .format == 1' "$sum"
kernel_web=$(jq '[.rules[] | select(.id == "web") | .packets] | add' "$tmp/status.json")
agent_web=$(jq '.rule_hits[] | select(.id == "web") | .hits' "$sum")
e2e_check "rule web: 11 connections + 2 pings + 1 open = 12 in the agent ($agent_web)" \
	[ "$agent_web" = 12 ]
e2e_check "and in the kernel's counters before the stop ($kernel_web)" [ "$kernel_web" = 12 ]
e2e_check "the summary carries the kernel's counters too" \
	[ "$(jq '.kernel.rules[] | select(.id == "web") | .packets' "$sum")" = 12 ]
e2e_check "and the apply time" jqt '.kernel.present and (.kernel.applied_at | test("^20"))' "$sum"
e2e_check "IPv4 web tuple: 7 flows (5 + 1 after recreation + 1 open)" \
	[ "$(tuple '.src_zone == "admin" and .dst_zone == "servers" and .dst_port == 8080 and .ip_version == 4 and .rule == "web"')" = 7 ]
e2e_check "IPv6 web tuple: 3 flows" \
	[ "$(tuple '.dst_port == 8080 and .ip_version == 6 and .verdict == "accept"')" = 3 ]
e2e_check "ping tuple: 2 flows" [ "$(tuple '.proto == 1 and .icmp_type == 8 and .rule == "web"')" = 2 ]
e2e_check "ssh: denied by default, with its hosts" jqt '[.tuples[] | select(.dst_port == 22)][0] |
	.verdict == "drop" and .by == "default" and .flows == 1 and
	.examples[0].src == "10.99.1.2" and .examples[0].dst == "10.99.17.2"' "$sum"
e2e_check "unassigned destination: rule no-unassigned, listed" jqt '
	(.rule_hits[] | select(.id == "no-unassigned") | .hits) == 1 and .unassigned.flows == 1 and
	.unassigned.top[0].address == "10.99.9.2" and .unassigned.top[0].as_dst == 1' "$sum"
kernel_un=$(jq '[.rules[] | select(.id == "no-unassigned") | .packets] | add' "$tmp/status.json")
e2e_check "the kernel dropped its SYNs under the same rule ($kernel_un)" [ "$kernel_un" -ge 1 ]
e2e_check "S2's connection is another gateway's to count" [ "$(jq -s '[.[] |
	select(.src == "10.99.5.2")] | map(.counted == false and .rule == null) | all' "$tmp/flows.jsonl")" = true ]
e2e_check "and is in no tuple of this gateway" \
	[ "$(tuple '.src_zone == "admin" and .dst_zone == "admin"')" = 0 ]
e2e_check "but in the flows another gateway counts" jqt '.flows.not_ours.flows >= 1' "$sum"
e2e_check "no capture drops" jqt '[.capture.interfaces[].dropped] | add == 0' "$sum"
e2e_check "e2a was reopened" jqt '.capture.interfaces[] | select(.name == "e2a") | .reopened >= 1' "$sum"
e2e_check "events: link down and up" jqt '[.events[] | select(.interface == "e2a") | .event] |
	index("link-down") != null and index("link-up") != null' "$sum"
e2e_check "events: the address with its zone" jqt '[.events[] | select(.event == "addr-new" and
	.address == "10.99.1.77")][0].zone == "admin"' "$sum"
e2e_check "the policy: observe mode after 1 reload and 1 failure" \
	jqt '.policy.mode == "observe" and .policy.reloads == 1 and .policy.reload_errors == 1' "$sum"
e2e_check "the gateway's addresses mapped to zones" jqt '[.gateway.addresses[] |
	select(.address == "10.99.17.1")][0] | .zone == "servers" and .local' "$sum"
e2e_check "the open connection was flushed" \
	[ "$(jq -s '[.[] | select(.end_reason == "flush" and .dst_port == 8080)] | length' "$tmp/flows.jsonl")" -ge 1 ]
e2e_check "flow records carry the classification" [ "$(jq -s '[.[] | select(.rule == "web" and
	.counted)] | length' "$tmp/flows.jsonl")" = 12 ]

# --- periodic summaries and rotated flow segments ---------------------------
rm -rf "$tmp/out2"
mkdir "$tmp/out2"
cp "$tmp/enforce.policy.json" "$policy"
ip netns exec "$gw" "$AGENT" -i e1b -i e2a --policy "$policy" --summary "$tmp/out2/s.json" \
	--interval 1 --flows-out "$tmp/out2/f.jsonl" --rotate-s 1 --spool "$tmp/out2/spool" \
	2>"$tmp/agent2.log" &
agent=$!
E2E_PIDS+=("$agent")
sleep 0.5
connect "$cli" 10.99.17.2 8080
sleep 4.5
e2e_check "a summary every interval, not final" jqt '.window.final == false and .window.seconds < 2' "$tmp/out2/s.json"
e2e_check "flow segments rotate by time" [ "$(ls "$tmp/out2"/f-*.jsonl | wc -l)" -ge 3 ]
e2e_check "no half-written segment is visible" [ "$(cat "$tmp/out2"/f-*.jsonl | jq -s length)" -ge 1 ]
kill -TERM "$agent"
wait "$agent"
e2e_check "the second agent exits 0" [ $? -eq 0 ]

# --- the spool: every window a file of its own, chained by SHA-256 ----------
spool_chain() { # DIR: files named <site>.<seq>.<start>.json, seq 1.., each prev the hash of the one before
	local dir=$1 n=0 prev=null f seq want
	for f in $(ls "$dir" | sort); do
		n=$((n + 1))
		[[ $f =~ ^S1\.([0-9]{10})\.[0-9]{8}T[0-9]{6}Z\.json$ ]] || { echo "bad name $f"; return 1; }
		seq=$((10#${BASH_REMATCH[1]}))
		[ "$seq" -eq "$n" ] || { echo "$f: seq $seq, want $n"; return 1; }
		want=$(jq -c --argjson n "$n" '[.chain.gateway, .chain.seq, .chain.prev, .kind]' "$dir/$f")
		[ "$want" = "[\"S1\",$n,$prev,\"segplan-agent-summary\"]" ] || { echo "$f: chain $want"; return 1; }
		[ "$(stat -c %a "$dir/$f")" = 640 ] || { echo "$f: mode $(stat -c %a "$dir/$f")"; return 1; }
		prev="\"sha256:$(sha256sum <"$dir/$f" | cut -d' ' -f1)\""
	done
	[ "$n" -ge 2 ] || { echo "only $n spool files"; return 1; }
}
e2e_check "the spool has a file per window, chained" spool_chain "$tmp/out2/spool"
e2e_check "the spool's last window is the final one" \
	jqt '.window.final == true' "$(ls "$tmp/out2/spool"/S1.* | sort | tail -1)"
e2e_check "the spool's windows are the summaries' windows" \
	jqt '.window.seconds < 2 and (.tuples | type) == "array"' "$(ls "$tmp/out2/spool"/S1.* | sort | head -1)"
e2e_done
