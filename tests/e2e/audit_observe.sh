# SPDX-License-Identifier: MIT
# From observe mode to enforcing, through the audit (docs/audit.md). Gateway
# S1 of tests/golden/audit/inventory runs its ruleset compiled in observe
# mode; segplan-agent captures on its three segment interfaces (admin,
# servers, voip). Traffic that the policy partly denies is sent: accepted
# web, SMB that S1's exception drops, SSH the city rejects, SIP and an
# 8080 service only the default drops. `segplan audit` on the agent's final
# summary must name exactly the denied zone pairs and services that were
# sent, and its suggested rules, inserted into a copy of policy.yaml,
# compiled in enforce mode and applied, must let the same traffic through
# where the old policy in enforce mode stops it. The agent lists the hosts of
# denied flows, so the suggestions name the observed hosts: the same services
# to a second host of each segment stay stopped.
. "$(dirname "$0")/lib.sh"
e2e_require_root

SEGPLAN=${SEGPLAN_BIN:-segplan}
AGENT=${SEGPLAN_AGENT:-$(dirname "$SEGPLAN")/agent/segplan-agent}
here=$(cd "$(dirname "$0")" && pwd)
INV=$here/../golden/audit/inventory
SITE=S1
DATE=2026-11-26
for tool in nft jq perl; do
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

compile() { # $1 inventory, $2 mode, $3 out dir
	"$SEGPLAN" policy compile "$1" --out "$3" --site "$SITE" --mode "$2" --date "$DATE" \
		>/dev/null 2>"$tmp/compile.err" || {
		cat "$tmp/compile.err" >&2
		e2e_log "FAIL: segplan policy compile $2"
		exit 1
	}
}
compile "$INV" observe "$tmp/observe"
compile "$INV" enforce "$tmp/enforce"

# --- the network: one namespace per segment behind the gateway ----------------
e2e_ns_add gw
gw=$(e2e_ns_name gw)
e2e_forwarding "$gw"
declare -A NS HOST OTHER
ifs=()
for seg in admin:10.99.1 servers:10.99.9 voip:10.99.17; do
	name=${seg%%:*}
	net=${seg#*:}
	e2e_ns_add "$name"
	NS[$name]=$(e2e_ns_name "$name")
	HOST[$name]=$net.9
	OTHER[$name]=$net.10
	e2e_veth "${NS[$name]}" "$net.9/24" "$gw" "$net.1/24" "$net.10/24"
	ifs+=(--interface "e${E2E_VETH}b")
	e2e_route "${NS[$name]}" "$net.1"
	# A listener on every TCP port, so that each handshake completes and
	# the agent sees SYN, SYN+ACK in whatever order its interfaces deliver.
	e2e_bg "${NS[$name]}" perl -MIO::Socket::INET -MIO::Select -e '
		my $sel = IO::Select->new;
		for my $port (443, 445, 22, 8080) {
			for my $addr (@ARGV) {
				$sel->add(IO::Socket::INET->new(LocalAddr => $addr, LocalPort => $port,
					Listen => 16, ReuseAddr => 1) or die "$port: $!");
			}
		}
		while (1) { for my $s ($sel->can_read) { my $c = $s->accept; close $c if $c } }
	' "$net.9" "$net.10"
done
for name in admin servers voip; do
	e2e_wait_listen "${NS[$name]}" 8080 || exit 1
done

# The traffic: source, destination, service. Denied today: all but the first.
traffic=(
	"admin servers tcp/443"
	"admin servers tcp/445"
	"admin voip tcp/22"
	"admin voip udp/5060"
	"voip admin tcp/8080"
)
send() { # [other]: to the second host of each segment instead
	local line src dst proto port to
	for line in "${traffic[@]}"; do
		read -r src dst svc <<<"$line"
		proto=${svc%/*}
		port=${svc#*/}
		to=${HOST[$dst]}
		[ "${1:-}" = other ] && to=${OTHER[$dst]}
		for _ in 1 2; do
			e2e_in "${NS[$src]}" timeout 1 bash -c \
				"exec 3<>/dev/$proto/$to/$port; echo audit >&3" 2>/dev/null
		done
	done
}
seen() { # $1 dst zone, $2 service: packets that reached it
	e2e_in "${NS[$1]}" nft -j list chain inet seen pre |
		jq --arg c "$2" '[.nftables[].rule? | select(.comment == $c) | .expr[].counter?.packets // empty] | add // 0'
}
# What reaches each segment, counted before anything else looks at it;
# loading the table again starts the counters from zero.
reset_seen() {
	local name
	for name in admin servers voip; do
		e2e_in "${NS[$name]}" nft -f - <<EOF || exit 1
table inet seen
delete table inet seen
table inet seen {
	chain pre {
		type filter hook prerouting priority raw - 10;
		tcp dport 443 counter comment "tcp/443"
		tcp dport 445 counter comment "tcp/445"
		tcp dport 22 counter comment "tcp/22"
		udp dport 5060 counter comment "udp/5060"
		tcp dport 8080 counter comment "tcp/8080"
	}
}
EOF
	done
}
reset_seen
apply() { # $1 file
	"$SEGPLAN" policy apply "$1" --netns "$gw" >"$tmp/apply.out" 2>&1 || {
		cat "$tmp/apply.out" >&2
		e2e_log "FAIL: segplan policy apply $1"
		exit 1
	}
}

# --- observe: the agent watches, everything passes ------------------------------
apply "$tmp/observe/$SITE.nft"
e2e_bg "$gw" "$AGENT" "${ifs[@]}" --policy "$tmp/observe/$SITE.policy.json" \
	--summary "$tmp/summary.json" --interval 3600 --timeout tcp=2 --timeout udp=2 \
	--timeout close=1
agent=${E2E_PIDS[-1]}
sleep 1
send
sleep 3
# SIGTERM flushes every flow into the final summary.
kill -TERM "$agent"
wait "$agent"
e2e_check "the agent exits 0 on SIGTERM" [ $? -eq 0 ]
e2e_check "it wrote a summary" [ -s "$tmp/summary.json" ]
e2e_check "observe mode delivered the SMB the exception denies" \
	[ "$(seen servers tcp/445)" -gt 0 ]
# Nothing listens on UDP 5060: voip answers port unreachable, which the kernel
# passes as RELATED to the datagram's connection, and so must the agent, even
# though the error comes in on another interface than the datagram.
e2e_check "the port unreachables for the SIP datagrams are related, not denied" \
	[ "$(jq '([.tuples[] | select(.proto == 1 and .icmp_type == 3 and .by == "related"
		and .passes) | .flows] | add // 0) > 0 and
		([.tuples[] | select(.proto == 1 and .by != "related")] | length) == 0' \
		"$tmp/summary.json")" = true ]

# --- the audit --------------------------------------------------------------------
"$SEGPLAN" audit "$INV" "$tmp/summary.json" --date "$DATE" --json \
	--suggest-out "$tmp/suggested.yaml" >"$tmp/audit.json" 2>"$tmp/audit.err"
rc=$?
e2e_check "audit exits 1: there are denials ($rc)" [ "$rc" -eq 1 ]
e2e_check "the summary ran the current policy" \
	[ "$(jq '[.summaries[] | select(.current)] | length' "$tmp/audit.json")" -eq 1 ]
jq -r '.denied.items[] | "\(.from) \(.to) \(.service)"' "$tmp/audit.json" | sort >"$tmp/denied"
printf '%s\n' "${traffic[@]:1}" | sort >"$tmp/want"
e2e_check "audit names exactly the denied zone pairs and services sent" \
	cmp -s "$tmp/denied" "$tmp/want"
if ! cmp -s "$tmp/denied" "$tmp/want"; then
	diff "$tmp/want" "$tmp/denied" >&2
fi
e2e_check "the accepted web traffic counts as covered" \
	[ "$(jq '.coverage.covered_flows' "$tmp/audit.json")" -gt 0 ]
e2e_check "every denial passed (observe)" \
	[ "$(jq '[.denied.items[] | select(.passed_flows != .flows)] | length' "$tmp/audit.json")" -eq 0 ]
e2e_check "the kernel's counters came with the summary" \
	[ "$(jq '[.rules[] | select(.id == "office-web") | .kernel_packets] | .[0]' "$tmp/audit.json")" -gt 0 ]
e2e_check "the exception's denial is suggested as an exception of $SITE" \
	[ "$(jq -r '.suggestions.rules[] | select(.site == "S1") | .insert_before' "$tmp/audit.json")" = s1-no-smb ]
e2e_check "every suggestion names the observed hosts, not the zones" \
	[ "$(jq '[.suggestions.rules[] | select(.from_end.object == null or .to_end.object == null)]
		| length' "$tmp/audit.json")" -eq 0 ]
e2e_check "the suggestion for the rejected SSH says it cuts through admin-no-ssh" \
	[ "$(jq -r '.suggestions.rules[] | select(.observed | index("tcp/22")) | .cuts_through[0]' \
		"$tmp/audit.json")" = admin-no-ssh ]

# --- the suggestions into a copy of the policy --------------------------------
# Services after `services:`, objects after `objects:` (the section made before
# `services:` when the policy has none); each rule before the rule its comment
# names, or at the end of the city-wide rules, re-indented to its new place.
mkdir -p "$tmp/inv2"
cp "$INV"/*.csv "$tmp/inv2/"
perl -e '
	my ($policy, $frag) = @ARGV;
	open my $p, "<", $policy or die; my @pl = <$p>; close $p;
	open my $f, "<", $frag or die; my @fl = <$f>; close $f;
	for my $key ("services", "objects") {
		my ($at) = grep { $pl[$_] =~ /^\Q$key\E:\s*$/ } 0 .. $#pl;
		my ($in, @add) = (0);
		for (@fl) {
			if (/^\Q$key\E:\s*$/) { $in = 1; next }
			$in = 0 if /^\S/;
			push @add, $_ if $in;
		}
		next unless @add;
		unless (defined $at) {
			($at) = grep { $pl[$_] =~ /^services:\s*$/ } 0 .. $#pl;
			splice @pl, $at, 0, "$key:\n";
		}
		splice @pl, $at + 1, 0, @add;
	}
	for (my $i = 0; $i < @fl; $i++) {
		next unless $fl[$i] =~ /^( *)# insert (.*)$/;
		my ($ind, $where) = (length $1, $2);
		my $end = $i + 1;
		$end++ while $end < @fl && $fl[$end] =~ /^ {$ind}[^#]/;
		my ($at, $target);
		if ($where =~ /^before: (\S+)/) {
			my $id = $1;
			($at) = grep { $pl[$_] =~ /^\s*- id: \Q$id\E\s*$/ } 0 .. $#pl;
			die "no rule $id\n" unless defined $at;
			($target) = $pl[$at] =~ /^( *)/;
			$target = length $target;
		} else {
			my ($k) = grep { $pl[$_] =~ /^rules:\s*$/ } 0 .. $#pl;
			($target) = $pl[$k + 1] =~ /^( *)/;
			$target = length $target;
			$k++ while $k + 1 < @pl && $pl[$k + 1] !~ /^\S/;
			$at = $k + 1;
		}
		my @block = map { (" " x $target) . substr($_, $ind) } @fl[$i + 1 .. $end - 1];
		splice @pl, $at, 0, @block;
	}
	print @pl;
' "$INV/policy.yaml" "$tmp/suggested.yaml" >"$tmp/inv2/policy.yaml"
"$SEGPLAN" check "$tmp/inv2" >"$tmp/check.out" 2>&1
e2e_check "the policy with the suggestions is valid" [ $? -eq 0 ]
compile "$tmp/inv2" enforce "$tmp/enforce2"

# --- enforce: the old policy stops what the new one lets through ----------------
apply "$tmp/enforce/$SITE.nft"
reset_seen
send
e2e_check "enforcing the old policy: web still delivered" [ "$(seen servers tcp/443)" -gt 0 ]
for line in "${traffic[@]:1}"; do
	read -r src dst svc <<<"$line"
	e2e_check "enforcing the old policy: $src -> $dst $svc stopped" [ "$(seen "$dst" "$svc")" -eq 0 ]
done
apply "$tmp/enforce2/$SITE.nft"
reset_seen
send
for line in "${traffic[@]}"; do
	read -r src dst svc <<<"$line"
	e2e_check "enforcing with the suggestions: $src -> $dst $svc delivered" \
		[ "$(seen "$dst" "$svc")" -gt 0 ]
done
reset_seen
send other
e2e_check "enforcing with the suggestions: web to the other hosts delivered" \
	[ "$(seen servers tcp/443)" -gt 0 ]
for line in "${traffic[@]:1}"; do
	read -r src dst svc <<<"$line"
	e2e_check "enforcing with the suggestions: $src -> another $dst host $svc stopped" \
		[ "$(seen "$dst" "$svc")" -eq 0 ]
done
e2e_done
