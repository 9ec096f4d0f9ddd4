# SPDX-License-Identifier: MIT
# segplan policy apply|confirm|status against real kernels: a client and a
# server namespace routed through a gateway namespace whose forward chain is
# the policy. Checks that a ruleset goes live, that a broken one changes
# nothing and names its line, that an unconfirmed --confirm rolls back (to
# the previous table, or to none), that a confirmed one stays, that counters
# count exactly the connections sent, and that drift is found.
. "$(dirname "$0")/lib.sh"
e2e_require_root

SEGPLAN=${SEGPLAN_BIN:-segplan}
if ! "$SEGPLAN" policy apply --help >/dev/null 2>&1; then
	e2e_log "FAIL: '$SEGPLAN policy apply' is not available"
	exit 1
fi
e2e_tmp
tmp=$E2E_TMP
export SEGPLAN_RUN_DIR="$tmp/run"

e2e_ns_add cli
e2e_ns_add gw
e2e_ns_add srv
e2e_ns_add spare
cli=$(e2e_ns_name cli)
gw=$(e2e_ns_name gw)
srv=$(e2e_ns_name srv)
spare=$(e2e_ns_name spare)
e2e_veth "$cli" 10.99.1.2/24 "$gw" 10.99.1.1/24 fd99:1::2/64 fd99:1::1/64
e2e_veth "$gw" 10.99.2.1/24 "$srv" 10.99.2.2/24 fd99:2::1/64 fd99:2::2/64
e2e_forwarding "$gw"
e2e_route "$cli" 10.99.1.1 fd99:1::1
e2e_route "$srv" 10.99.2.1 fd99:2::1

# The compiler's shape: create, delete, define; every policy rule counted
# and named. v4 and v6 matches are separate rules (the inet trap).
ruleset() { # $1: extra forward rules
	cat <<EOF
table inet segplan
delete table inet segplan
table inet segplan {
	set clients4 {
		type ipv4_addr
		flags interval
		elements = { 10.99.1.0/24 }
	}

	chain forward {
		type filter hook forward priority 0; policy drop;
		ct state established,related accept
		ip saddr @clients4 ip daddr 10.99.2.2 tcp dport 8080 ct state new counter accept comment "rule:web"
		ip6 saddr fd99:1::/64 ip6 daddr fd99:2::2 tcp dport 8080 ct state new counter accept comment "rule:web6"
		ip saddr @clients4 tcp dport 22 ct state new counter accept comment "rule:ssh"
$1
	}

	chain input {
		type filter hook input priority 0; policy accept;
	}
}
EOF
}
ruleset "" >"$tmp/v1.nft"
ruleset '		ip saddr @clients4 ip daddr 10.99.2.2 tcp dport 9090 ct state new counter accept comment "rule:alt"' >"$tmp/v2.nft"
# line 16 misspells "counter"
ruleset '		ip saddr @clients4 tcp dport 9090 ct state new countr accept comment "rule:alt"' >"$tmp/broken.nft"

status_field() { # $1 netns, $2 rule id, $3 column (3 packets, 4 bytes)
	"$SEGPLAN" policy status --netns "$1" | awk -v id="$2" -v col="$3" '$1 == id { print $col }'
}
in_sync() { # $1 netns, $2 file
	"$SEGPLAN" policy status --netns "$1" --against "$2" >"$tmp/sync.out" 2>&1
}
has_table() { # $1 netns
	e2e_in "$1" nft list table inet segplan >/dev/null 2>&1
}
connect() { # $1 address, $2 port: one TCP connection from the client
	e2e_in "$cli" timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

# --- apply, live ---------------------------------------------------------
"$SEGPLAN" policy apply "$tmp/v1.nft" --netns "$gw" >"$tmp/out" 2>&1
e2e_check "apply v1 succeeds" [ $? -eq 0 ]
e2e_check "the table is live in the gateway" \
	grep -q 'comment "rule:web"' <(e2e_in "$gw" nft list table inet segplan)
e2e_check "and only there" ! has_table "$cli"
e2e_check "status names the file and the apply time" \
	grep -q "applied .* from v1.nft" <("$SEGPLAN" policy status --netns "$gw")
in_sync "$gw" "$tmp/v1.nft"
e2e_check "live table in sync with v1.nft" [ $? -eq 0 ]

# --- a broken ruleset changes nothing ------------------------------------
"$SEGPLAN" policy apply "$tmp/broken.nft" --netns "$gw" >"$tmp/out" 2>"$tmp/err"
e2e_check "apply broken.nft exits 3" [ $? -eq 3 ]
e2e_check "the error names file and line" grep -q "^$tmp/broken.nft:16:[0-9]*: error: " "$tmp/err"
in_sync "$gw" "$tmp/v1.nft"
e2e_check "v1 stays live after the broken apply" [ $? -eq 0 ]
"$SEGPLAN" policy apply --check "$tmp/v2.nft" --netns "$gw" >/dev/null 2>&1
e2e_check "--check accepts v2" [ $? -eq 0 ]
in_sync "$gw" "$tmp/v1.nft"
e2e_check "--check applied nothing" [ $? -eq 0 ]

# --- counters count the connections --------------------------------------
e2e_bg "$srv" perl -MIO::Socket::IP -e '
	my $s = IO::Socket::IP->new(LocalHost => "::", LocalPort => 8080, Listen => 64,
		ReuseAddr => 1, V6Only => 0) or die "listen: $@";
	while (my $c = $s->accept) { close $c }'
e2e_wait_listen "$srv" 8080
# Resolve neighbours on both links first (a refused connection to the next
# hop itself never crosses the forward chain), so that no SYN waits for
# neighbour discovery and is sent twice.
for a in 10.99.1.1 fd99:1::1; do e2e_in "$cli" timeout 2 bash -c "exec 3<>/dev/tcp/$a/9" 2>/dev/null; done
for a in 10.99.2.2 fd99:2::2; do e2e_in "$gw" timeout 2 bash -c "exec 3<>/dev/tcp/$a/9" 2>/dev/null; done
fails=0
for i in 1 2 3 4 5 6 7; do connect 10.99.2.2 8080 || { fails=$((fails + 1)); e2e_log "v4 connection $i failed"; }; done
for i in 1 2 3; do connect fd99:2::2 8080 || { fails=$((fails + 1)); e2e_log "v6 connection $i failed"; }; done
e2e_check "10 allowed connections through the gateway" [ "$fails" -eq 0 ]
e2e_check "a flow without a rule is dropped" ! connect 10.99.2.2 9090
e2e_check "rule web counted 7 connections" [ "$(status_field "$gw" web 3)" = 7 ]
e2e_check "rule web6 counted 3 connections" [ "$(status_field "$gw" web6 3)" = 3 ]
e2e_check "rule ssh has no hits" grep -q "without hits: ssh$" <("$SEGPLAN" policy status --netns "$gw")

# --- confirm window, not confirmed: v1 comes back -------------------------
"$SEGPLAN" policy apply "$tmp/v2.nft" --netns "$gw" --confirm 2 >/dev/null 2>&1
e2e_check "apply v2 --confirm 2 succeeds" [ $? -eq 0 ]
in_sync "$gw" "$tmp/v2.nft"
e2e_check "v2 is live inside the window" [ $? -eq 0 ]
e2e_check "status shows the open window" grep -q "confirm window open" <("$SEGPLAN" policy status --netns "$gw")
"$SEGPLAN" policy apply "$tmp/v1.nft" --netns "$gw" >/dev/null 2>&1
e2e_check "a plain apply is refused while a window is open" [ $? -eq 1 ]
sleep 4
in_sync "$gw" "$tmp/v1.nft"
e2e_check "unconfirmed: v1 is back" [ $? -eq 0 ]
e2e_check "with its counters" [ "$(status_field "$gw" web 3)" = 7 ]
"$SEGPLAN" policy confirm --netns "$gw" >/dev/null 2>"$tmp/err"
e2e_check "confirm after the window exits 1" [ $? -eq 1 ]
e2e_check "and says the previous table was restored" grep -q "restored" "$tmp/err"

# --- confirm window, confirmed: v2 stays ----------------------------------
"$SEGPLAN" policy apply "$tmp/v2.nft" --netns "$gw" --confirm 2 >/dev/null 2>&1
e2e_check "apply v2 --confirm 2 again" [ $? -eq 0 ]
"$SEGPLAN" policy confirm --netns "$gw" >/dev/null 2>&1
e2e_check "confirm within the window" [ $? -eq 0 ]
sleep 3
in_sync "$gw" "$tmp/v2.nft"
e2e_check "confirmed: v2 stays after the window" [ $? -eq 0 ]
e2e_check "no watchdog is left" [ -z "$(ip netns pids "$gw")" ]

# --- confirm window without a previous table: the new one goes away -------
"$SEGPLAN" policy apply "$tmp/v1.nft" --netns "$spare" --confirm 1 >/dev/null 2>&1
e2e_check "apply --confirm 1 where no table was" [ $? -eq 0 ]
sleep 3
"$SEGPLAN" policy status --netns "$spare" >"$tmp/out" 2>&1
e2e_check "unconfirmed: no table again (status exits 1)" [ $? -eq 1 ]
e2e_check "status says so" grep -q "no table inet segplan" "$tmp/out"

# --- drift ----------------------------------------------------------------
e2e_in "$gw" nft add element inet segplan clients4 '{ 10.99.7.0/24 }'
e2e_in "$gw" nft add rule inet segplan forward tcp dport 23 counter accept comment '"rule:telnet"'
in_sync "$gw" "$tmp/v2.nft"
e2e_check "hand edits are drift (exit 1)" [ $? -eq 1 ]
e2e_check "the extra rule is named" grep -q "extra rule telnet (chain forward)" "$tmp/sync.out"
e2e_check "the extra element is named" \
	grep -q "extra element 10.99.7.0-10.99.7.255 in set clients4" "$tmp/sync.out"
"$SEGPLAN" policy status --netns "$gw" --against "$tmp/v2.nft" --json >"$tmp/out"
e2e_check "--json reports in_sync false" grep -q '"in_sync": false' "$tmp/out"

e2e_done
