# SPDX-License-Identifier: MIT
# The compiled policy against a real kernel with real packets (docs/testing.md).
# A gateway namespace loads the ruleset that `segplan policy compile` wrote for
# site S1 of tests/e2e/fixtures/policy; each of S1's segments is a namespace
# behind it, and an uplink namespace holds the rest of the city (other sites,
# the data centre, VPN pools, unassigned and internet addresses). Several
# hundred tuples, drawn from the rules so that each is hit and just missed,
# are asked of `segplan policy query` and then sent: the kernel must do what
# query says for every one, rejects must come back as ICMP admin-prohibited,
# and the rule counters must count exactly the connections sent. Then:
# handshakes complete, IPv6 neighbour discovery passes, spoofed sources are
# dropped, the management zone always reaches the gateway, observe mode
# delivers and counts, a broken ruleset changes nothing, and an unconfirmed
# apply rolls back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gateway_ns.sh"
e2e_require_root

SEGPLAN=${SEGPLAN_BIN:-segplan}
AGENT=${SEGPLAN_AGENT:-$(dirname "$SEGPLAN")/agent/segplan-agent}
here=$(cd "$(dirname "$0")" && pwd)
FIX=$here/fixtures/policy
TOOL=$here/../tools/polprobe.pl
SITE=S1
DATE=2026-06-01 # expiry is judged on this day by compile and query alike
SEED=${POLICY_KERNEL_SEED:-20261126}
COUNT=${POLICY_KERNEL_TUPLES:-640}
WAIT_MS=900 # below TCP's first SYN retransmission (1 s, RFC 6298 2.1)

gwns_require
e2e_tmp
tmp=$E2E_TMP
export SEGPLAN_RUN_DIR="$tmp/run"
ulimit -n 8192 2>/dev/null || true
probe() { perl "$TOOL" "$@"; }

# apply/status are used when the CLI has them; until then nft -f loads the
# file (one transaction either way) and counters are read with nft -j.
if "$SEGPLAN" policy apply --help >/dev/null 2>&1; then
	DEPLOY=1
else
	DEPLOY=0
	e2e_log "NOTE: 'segplan policy apply' is not available: loading with nft -f, reading counters with nft -j; the confirm checks are skipped"
fi
load() { # $1 netns, $2 file, [$3...] apply options
	local ns=$1 file=$2
	shift 2
	if [ "$DEPLOY" -eq 1 ]; then
		"$SEGPLAN" policy apply "$file" --netns "$ns" "$@" >"$tmp/load.out" 2>&1
	else
		e2e_in "$ns" nft -f "$file" >"$tmp/load.out" 2>&1
	fi
}

# --- the rulesets -----------------------------------------------------------
for mode in enforce observe; do
	if ! "$SEGPLAN" policy compile "$FIX" --out "$tmp/$mode" --site "$SITE" --mode "$mode" \
		--date "$DATE" >/dev/null 2>"$tmp/compile.err"; then
		cat "$tmp/compile.err" >&2
		e2e_log "FAIL: segplan policy compile ($mode)"
		exit 1
	fi
done
table=$tmp/enforce/$SITE.policy.json

# --- the tuples and what query says of them ----------------------------------
probe tuples "$FIX" "$table" "$SEED" "$COUNT" >"$tmp/tuples.tsv" || exit 1
total=$(wc -l <"$tmp/tuples.tsv")
v6=$(awk -F'\t' '$2 == 6' "$tmp/tuples.tsv" | wc -l)
e2e_check "at least 500 tuples ($total)" [ "$total" -ge 500 ]
e2e_check "at least 40% of them IPv6 ($v6)" [ $((v6 * 100)) -ge $((total * 40)) ]
inward=$(awk -F'\t' '$7 == "up"' "$tmp/tuples.tsv" | wc -l)
outward=$(awk -F'\t' '$8 == "up"' "$tmp/tuples.tsv" | wc -l)
e2e_check "both directions ($outward outward, $inward inward)" [ "$inward" -gt 0 -a "$outward" -gt 0 ]
query() { # $1 mode < tuples > verdicts
	probe query "$SEGPLAN" "$FIX" "$SITE" "$DATE" "$1" 2>>"$tmp/query.err"
}
if ! query enforce <"$tmp/tuples.tsv" >"$tmp/verdicts.tsv"; then
	tail -3 "$tmp/query.err" >&2
	e2e_log "FAIL: segplan policy query"
	exit 1
fi

# --- the network --------------------------------------------------------------
# the gateway, one namespace per segment, the uplink (tests/e2e/gateway_ns.sh)
gwns_build "$FIX" "$SITE" "$tmp/tuples.tsv"
gw=${GWNS[gw]}
up=${GWNS[up]}
declare -A NS
for name in "${GWNS_SEGS[@]}" up; do
	NS[$name]=${GWNS[$name]}
done

# --- load, warm up the neighbour caches, run every tuple --------------------
load "$gw" "$tmp/enforce/$SITE.nft"
e2e_check "the site's ruleset loads in the gateway" [ $? -eq 0 ]
# The gateway itself reaches every test address, so no tuple waits for ARP or ND.
unanswered=$(gwns_warm)
e2e_check "every test address answers the gateway ($(wc -l <"$tmp/warm.tsv") addresses)" \
	[ "$unanswered" -eq 0 ]
# fresh counters for the run
load "$gw" "$tmp/enforce/$SITE.nft"

send() { gwns_send "$1" "$2" "$WAIT_MS"; } # $1 tuples, $2 outcomes
seen() { gwns_seen "$1"; }
counters() { # into $1: packets per rule id in the gateway's forward chain
	if [ "$DEPLOY" -eq 1 ]; then
		"$SEGPLAN" policy status --netns "$gw" --json | probe counters >"$1"
		e2e_in "$gw" nft -j list chain inet segplan forward | probe counters | awk '$1 == "default"' >>"$1"
	else
		e2e_in "$gw" nft -j list chain inet segplan forward | probe counters >"$1"
	fi
}
# judge: $1 tuples, $2 verdicts, $3 outcomes, $4 label; sets per-tuple checks
judge() {
	local out=$tmp/judge.$4 p f
	probe judge "$table" "$1" "$2" "$3" "$tmp/seen.tsv" "$tmp/counters.$4" >"$out" || exit 1
	grep -v '^\(TUPLES\|COVER\|COUNTER\|COUNTER-UNKNOWN\) ' "$out"
	read -r _ p f < <(grep '^TUPLES ' "$out")
	E2E_PASS=$((E2E_PASS + p))
	E2E_FAIL=$((E2E_FAIL + f))
	e2e_log "$4: $p tuples as query said, $f not"
}

start=$SECONDS
gwns_capture "$tmp/gw.pcap"
send "$tmp/tuples.tsv" "$tmp/outcomes.tsv"
sleep 0.2
gwns_capture_end
seen "$tmp/seen.tsv"
counters "$tmp/counters.enforce"
e2e_log "sent $total tuples in $((SECONDS - start)) s"
judge "$tmp/tuples.tsv" "$tmp/verdicts.tsv" "$tmp/outcomes.tsv" enforce
# the agent, reading what reached the gateway, with the same table
gwns_agent "$table" "$tmp/tuples.tsv" "$tmp/verdicts.tsv" "$tmp/agent.enforce"
[ -z "${POLICY_KERNEL_KEEP:-}" ] || cp "$tmp"/gw.pcap* "$tmp"/tuples.tsv "$tmp"/verdicts.tsv "$table" "$POLICY_KERNEL_KEEP"/
grep '^AGENT-' "$tmp/agent.enforce" | head -20 >&2
read -r _ ap af am < <(grep '^AGENT ' "$tmp/agent.enforce" | tail -1)
e2e_check "the agent says what query says for every tuple ($ap agree, $af not, $am not seen)" \
	[ "${ap:-0}" -gt 0 -a "${af:-1}" -eq 0 -a "${am:-1}" -eq 0 ]
while read -r _ id possible decided outside; do
	if [ "$possible" -eq 0 ]; then
		e2e_log "note: rule $id can decide nothing at $SITE (no pair of addresses matches it)"
		continue
	fi
	e2e_check "rule $id decided a tuple" [ "$decided" -eq 1 ]
	e2e_check "a tuple just outside rule $id went elsewhere" [ "$outside" -eq 1 ]
done < <(grep '^COVER ' "$tmp/judge.enforce")
counter_checks() { # $1 judge label
	local id want got
	while read -r _ id want got; do
		e2e_check "$1 counter of $id: $got packets for $want new connections" [ "$want" = "$got" ]
	done < <(grep '^COUNTER ' "$tmp/judge.$1")
	while read -r _ id; do
		e2e_check "$1 counters: '${id//_/ }' is no rule id of the policy" false
	done < <(grep '^COUNTER-UNKNOWN ' "$tmp/judge.$1")
}
counter_checks enforce
# rejects: TCP gets a reset, the rest ICMP administratively prohibited
rejected() { # $1 tcp|other, [$2 outcome regex]: rejected tuples of that kind (with that outcome)
	awk -F'\t' -v k="$1" -v o="${2:-}" 'FILENAME == ARGV[1] { v[$1] = $2; next }
		FILENAME == ARGV[2] { p[$1] = $3; next }
		v[$1] == "reject" && ((p[$1] == "tcp") == (k == "tcp")) && (o == "" || $2 ~ o)' \
		"$tmp/verdicts.tsv" "$tmp/tuples.tsv" "$tmp/outcomes.tsv" | wc -l
}
rej_tcp=$(rejected tcp)
rej_other=$(rejected other)
e2e_check "$rej_tcp TCP rejects came back as a reset" [ "$(rejected tcp '^refused$')" -eq "$rej_tcp" ]
e2e_check "$rej_other other rejects came back as ICMP admin-prohibited" \
	[ "$(rejected other '^prohibited:')" -eq "$rej_other" ]
ip -n "$gw" -j addr show | jq -r '.[].addr_info[].local' | sort >"$tmp/gw-addrs"
e2e_check "all of them from the gateway's own addresses" \
	[ -z "$(sed -n 's/^prohibited://p' <(cut -f2 "$tmp/outcomes.tsv") | sort -u | comm -23 - "$tmp/gw-addrs")" ]

# tuple picks: the first accepted/denied tuple of a kind
pick() { # $1 verdict, $2 awk condition on the tuple
	awk -F'\t' -v want="$1" 'NR == FNR { v[$1] = $2; next } v[$1] == want && ('"$2"')' \
		"$tmp/verdicts.tsv" "$tmp/tuples.tsv" | head -1
}

# --- handshakes complete both ways ------------------------------------------
for fam in 4 6; do
	IFS=$'\t' read -r id _ _ port src dst sns dns _ < <(pick accept "\$2 == $fam && \$3 == \"tcp\"")
	e2e_bg "${NS[$dns]}" perl "$TOOL" serve "$dst" "$port"
	for _ in $(seq 50); do
		e2e_in "${NS[$dns]}" ss -Hltn "sport = :$port" | grep -qF "$dst" && break
		sleep 0.1
	done
	reply=$(e2e_in "${NS[$sns]}" perl "$TOOL" talk "$src" "$dst" "$port")
	e2e_check "TCP handshake and data both ways, IPv$fam ($src -> $dst:$port, tuple $id)" \
		[ "$reply" = "segplan: hello from $src" ]
done

# --- IPv6 neighbour discovery through the policy -----------------------------
IFS=$'\t' read -r id _ _ _ src dst sns dns _ < <(pick accept '$3 == "icmpv6" && $4 == 128 && $7 != "up" && $8 != "up"')
for n in gw "$sns" "$dns"; do
	ip -n "${NS[$n]:-$gw}" -6 neigh flush all
done
awk -F'\t' -v OFS='\t' -v id="$id" '$1 == id { $1 += 90000; print }' "$tmp/tuples.tsv" >"$tmp/nd.tsv"
e2e_in "${NS[$sns]}" perl "$TOOL" send 3000 <"$tmp/nd.tsv" >"$tmp/nd.out"
e2e_check "ping6 $src -> $dst after flushing the neighbour caches" grep -q 'answered$' "$tmp/nd.out"
e2e_check "the gateway learnt $dst by neighbour discovery" \
	grep -q 'REACHABLE\|STALE\|DELAY\|PROBE' <(ip -n "$gw" -6 neigh show "$dst")

# --- spoofed sources ----------------------------------------------------------
# guest sends with an admin address; the same tuple from admin is accepted
spoof=0
for fam in 4 6; do
	IFS=$'\t' read -r id _ proto port src dst sns dns _ < <(pick accept "\$2 == $fam && \$3 == \"tcp\" && \$7 == \"admin\"")
	fake=${src%[.:]*}$([ "$fam" = 4 ] && echo .99 || echo :99)
	ip -n "${NS[guest]}" addr add "$fake/$([ "$fam" = 4 ] && echo 32 || echo 128)" dev lo $([ "$fam" = 6 ] && echo nodad)
	printf '%s\t%s\t%s\t%s\t%s\t%s\tguest\t%s\t-\tspoof\n' 70000 "$fam" "$proto" "$port" "$fake" "$dst" "$dns" >"$tmp/spoof.tsv"
	printf '%s\t%s\t%s\t%s\t%s\t%s\tadmin\t%s\t-\tspoof\n' 70001 "$fam" "$proto" "$port" "$fake" "$dst" "$dns" >"$tmp/real.tsv"
	# on admin's link, so that the replies find it (neighbour discovery
	# answers only for the addresses of the interface asked)
	ip -n "${NS[admin]}" addr add "$fake/$([ "$fam" = 4 ] && echo 32 || echo 128)" \
		dev "$(awk '$1 == "admin" { print $2 }' "$GWNS_LINKS")" $([ "$fam" = 6 ] && echo nodad)
	verdict=$("$SEGPLAN" policy query "$FIX" --src "$fake" --dst "$dst" --proto "$proto" --dport "$port" --date "$DATE" --json 2>/dev/null | jq -r .verdict)
	e2e_in "${NS[guest]}" perl "$TOOL" send "$WAIT_MS" <"$tmp/spoof.tsv" >"$tmp/spoof.out"
	e2e_in "${NS[admin]}" perl "$TOOL" send "$WAIT_MS" <"$tmp/real.tsv" >"$tmp/real.out"
	e2e_check "IPv$fam: $fake -> $dst:$port is accepted by the policy (query: $verdict) and from admin" \
		grep -q 'answered$\|refused$' "$tmp/real.out"
	e2e_check "IPv$fam: the same from the guest segment is dropped as spoofed" grep -q 'silent$' "$tmp/spoof.out"
	spoof=$((spoof + 1))
done
antispoof=$(e2e_in "$gw" nft -j list chain inet segplan prerouting |
	jq '[.nftables[].rule? | select(.comment == "fixed:antispoof") | .expr[].counter?.packets // empty] | add')
e2e_check "the anti-spoofing (raw prerouting) counted them ($antispoof)" [ "$antispoof" = "$spoof" ]

# --- anti-lockout -------------------------------------------------------------
e2e_bg "$gw" perl "$TOOL" serve :: 22
e2e_wait_listen "$gw" 22
for target in "${GW4[mgmt]}" "${GW6[mgmt]}" "${GW4[admin]}" "${GW6[admin]}"; do
	case $target in *:*) src=${GW6[mgmt]%::1}::9 ;; *) src=${GW4[mgmt]%.1}.9 ;; esac
	verdict=$("$SEGPLAN" policy query "$FIX" --src "$src" --dst "$target" --proto tcp --dport 22 --date "$DATE" --json 2>/dev/null | jq -r .verdict)
	reply=$(e2e_in "${NS[mgmt]}" perl "$TOOL" talk "$src" "$target" 22)
	e2e_check "mgmt reaches the gateway's SSH at $target, which the policy would $verdict" \
		[ "$reply" = "segplan: hello from $src" -a "$verdict" = drop ]
done
reply=$(e2e_in "${NS[admin]}" perl "$TOOL" talk "${GW4[admin]%.1}.9" "${GW4[admin]}" 22)
e2e_check "admin does not reach the gateway's SSH" [ -z "$reply" ]

# --- a broken ruleset leaves the live one in place ------------------------------
sed 's/counter drop comment "default"/countr drop comment "default"/' "$tmp/enforce/$SITE.nft" >"$tmp/broken.nft"
e2e_in "$gw" nft -s list table inet segplan >"$tmp/before.nft"
load "$gw" "$tmp/broken.nft"
rc=$?
e2e_check "the broken ruleset is refused (exit $rc)" [ "$rc" -ne 0 ]
[ "$DEPLOY" -eq 0 ] || e2e_check "apply exits 3 and names the line" \
	grep -q "broken.nft:[0-9]*:[0-9]*: error" "$tmp/load.out"
e2e_check "the live ruleset is unchanged" cmp -s "$tmp/before.nft" <(e2e_in "$gw" nft -s list table inet segplan)

# --- observe mode: everything passes, what would be denied is counted -----------
# up to 12 tuples per deciding rule, with new ICMP identifiers (conntrack
# still holds the echoes of the enforce run)
# (not the ICMP messages that open no connection: invalid in either mode)
awk -F'\t' -v OFS='\t' 'NR == FNR { r[$1] = $4 == "-" ? $5 : $4; next }
	r[$1] != "invalid" && n[r[$1]]++ < 12 { $1 += 100000; print }' "$tmp/verdicts.tsv" "$tmp/tuples.tsv" >"$tmp/obs.tsv"
query observe <"$tmp/obs.tsv" >"$tmp/obs-verdicts.tsv"
e2e_check "query says every observed tuple passes" [ "$(awk -F'\t' '$3 != 1' "$tmp/obs-verdicts.tsv" | wc -l)" -eq 0 ]
load "$gw" "$tmp/observe/$SITE.nft"
e2e_check "the observe ruleset loads" [ $? -eq 0 ]
gwns_unseen
send "$tmp/obs.tsv" "$tmp/obs-outcomes.tsv"
sleep 0.2
seen "$tmp/seen.tsv"
counters "$tmp/counters.observe"
judge "$tmp/obs.tsv" "$tmp/obs-verdicts.tsv" "$tmp/obs-outcomes.tsv" observe
counter_checks observe

# --- confirm window: an unconfirmed apply rolls back ------------------------------
denied=$(awk -F'\t' '$2 == "drop" { print $1 }' "$tmp/verdicts.tsv" | head -20 | paste -sd'|')
awk -F'\t' -v ids="^($denied)$" '$1 ~ ids { $1 = $1 + 80000; print }' OFS='\t' "$tmp/tuples.tsv" >"$tmp/confirm.tsv"
if [ "$DEPLOY" -eq 1 ]; then
	load "$gw" "$tmp/enforce/$SITE.nft"
	e2e_check "enforce again" [ $? -eq 0 ]
	load "$gw" "$tmp/observe/$SITE.nft" --confirm 2
	e2e_check "apply --confirm 2 of the observe ruleset" [ $? -eq 0 ]
	e2e_check "observe is live inside the window" \
		grep -q 'segplan observe' <(e2e_in "$gw" nft -s list table inet segplan)
	sleep 4
	e2e_check "unconfirmed: the enforce ruleset is back" \
		! grep -q 'segplan observe' <(e2e_in "$gw" nft -s list table inet segplan)
	"$SEGPLAN" policy confirm --netns "$gw" >/dev/null 2>&1
	e2e_check "confirm after the window exits 1" [ $? -eq 1 ]
	send "$tmp/confirm.tsv" "$tmp/confirm.out"
	e2e_check "denied tuples are dropped again ($(wc -l <"$tmp/confirm.tsv"))" \
		[ "$(grep -vc 'silent$' "$tmp/confirm.out")" -eq 0 ]
else
	e2e_log "SKIP: confirm window (segplan policy apply not available)"
fi

e2e_done
