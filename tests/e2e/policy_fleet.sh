# SPDX-License-Identifier: MIT
# The random differential test across the fleet (docs/testing.md): gateways of
# the 850-site example (examples/stuttgart), chosen deterministically and
# spread (every data centre, every site with exceptions, every district and
# site type, sites with and without guest, school and server segments), each
# in its own namespaces (tests/e2e/gateway_ns.sh) with its compiled ruleset;
# random tuples drawn from its table, with addresses of other sites, the data
# centres, VPN pools, unassigned nets, and outside the plan (internet,
# private-external, special), and ICMP queries, replies and errors; for every
# tuple the kernel must do what `segplan policy query` says.
#
# POLICY_FLEET_SITES (25: every one of the 23 districts), POLICY_FLEET_TUPLES
# (400 a gateway), POLICY_FLEET_SEED, POLICY_FLEET_JOBS (2 gateways side by
# side), POLICY_FLEET_INVENTORY (the example), POLICY_FLEET_POLICY (another
# policy file for that inventory; POLICY_FLEET_HOSTS a hosts.csv with it),
# POLICY_FLEET_STAGE2=1 (tests/e2e/policy_fleet_stage2.sh): the stage-2
# policy, INVENTORY/policy-stage2.yaml when there is one, else the one
# stage2_policy below writes from the inventory's own.
#
# A policy of stage 2 adds to the draw the addresses of the table's named sets
# (objects, hosts, labels, site groups, external networks: their edges and
# just outside); no more tuples go to a limited rule than its bucket holds
# (polprobe.pl cap: what a rate drops is no single connection's verdict); a
# policy with time windows is judged by query at the instant the tuples are
# sent (--time; compile --date today), out of a minute of any window's edge.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gateway_ns.sh"
e2e_require_root

SEGPLAN=${SEGPLAN_BIN:-segplan}
AGENT=${SEGPLAN_AGENT:-$(dirname "$SEGPLAN")/agent/segplan-agent}
here=$(cd "$(dirname "$0")" && pwd)
TOOL=$here/../tools/polprobe.pl
INV=${POLICY_FLEET_INVENTORY:-$here/../../examples/stuttgart}
SITES=${POLICY_FLEET_SITES:-25}
COUNT=${POLICY_FLEET_TUPLES:-400}
SEED=${POLICY_FLEET_SEED:-20261203}
DATE=2026-06-01 # expiry is judged on this day by compile and query alike
WAIT_MS=900     # below TCP's first SYN retransmission (1 s, RFC 6298 2.1)

gwns_require
e2e_tmp
tmp=$E2E_TMP
ulimit -n 8192 2>/dev/null || true
started=$SECONDS

# stage2_policy INVENTORY OUT: a stage-2 policy for the example city, written
# into OUT (a copy of the inventory): the inventory's policy with objects,
# an external network, site groups, hosts.csv with labels (servers in the
# two data centres' server segments), rules with labels, groups at both
# ends, except, limits and a time window first, and a gateway service.
stage2_policy() {
	local inv=$1 out=$2 d1 d2 d1v6 d2v6
	read -r d1 d1v6 < <(awk -F, '$1 == "DC1" && $3 == "servers" { print $5, $6 }' "$inv/segments.csv")
	read -r d2 d2v6 < <(awk -F, '$1 == "DC2" && $3 == "servers" { print $5, $6 }' "$inv/segments.csv")
	[ -n "$d1" ] && [ -n "$d2" ] && [ -n "$d1v6" ] && [ -n "$d2v6" ] || {
		e2e_log "FAIL: $inv has no IPv4 and IPv6 servers segments at DC1 and DC2 for the stage-2 policy"
		exit 1
	}
	h() { perl "$TOOL" host "$1" "$2" | cut -d/ -f1; } # host N of a prefix
	{
		echo "name,site,addresses,labels,description"
		echo "dc1-dns1,DC1,$(h "$d1" 53) $(h "$d1v6" 53),app=dns role=resolver,"
		echo "dc2-dns1,DC2,$(h "$d2" 53) $(h "$d2v6" 53),app=dns role=resolver,"
		echo "dc1-ntp,DC1,$(h "$d1" 123) $(h "$d1v6" 123),app=ntp role=time,"
		echo "pay-web,DC1,$(h "$d1" 80) $(h "$d1v6" 80),app=payroll role=web env=prod,"
		echo "pay-app,DC1,$(h "$d1" 81) $(h "$d1v6" 81),app=payroll role=app env=prod,"
		echo "pay-db,DC2,$(h "$d2" 82) $(h "$d2v6" 82),app=payroll role=db env=prod,"
		echo "mon1,DC1,$(h "$d1" 161) $(h "$d1v6" 161),app=snmp role=monitoring,"
		echo "state-portal,,100.70.1.10 fd70::10,partner=state-dc role=web,"
	} >"$out/hosts.csv"
	awk -v core4="$(h "$d1" 123)" -v core6="$(h "$d1v6" 123)" -v d1="$d1" -v d2="$d2" -v d1v6="$d1v6" -v d2v6="$d2v6" '
	/^services:$/ { print; print "  sql: {tcp: [5432]}"; next }
	/^rules:$/ {
		print "objects:"
		print "  resolvers: [dc1-dns1, dc2-dns1]"
		print "  core: {objects: [resolvers], addresses: [" core4 ", \"" core6 "\"]}"
		print "  dc-servers: [" d1 ", " d2 ", \"" d1v6 "\", \"" d2v6 "\"]"
		print "externals:"
		print "  state-dc: {addresses: [100.70.0.0/16, \"fd70::/48\"], description: State data centre}"
		print "site_groups:"
		print "  fire: {types: [fire_station]}"
		print "  mitte: {districts: [Mitte]}"
		print "  townhalls: {types: [town_hall]}"
		print
		print "  - id: s2-core"
		print "    from: {except: [guest, school]}"
		print "    to: core"
		print "    services: [dns, ntp]"
		print "    action: accept"
		print "  - id: s2-payroll-web"
		print "    from: {zone: admin, sites: townhalls}"
		print "    to: {app: payroll, role: web}"
		print "    services: [web]"
		print "    action: accept"
		print "  - id: s2-payroll-db"
		print "    from: {app: payroll, role: app}"
		print "    to: {app: payroll, role: db}"
		print "    services: [sql]"
		print "    action: accept"
		print "  - id: s2-state"
		print "    from: {zone: admin, sites: mitte}"
		print "    to: state-dc"
		print "    services: [web]"
		print "    action: accept"
		print "  - id: s2-guest-state"
		print "    from: [guest]"
		print "    to: state-dc"
		print "    services: any"
		print "    action: reject"
		print "  - id: s2-fire-alarm"
		print "    from: {zone: bms, sites: fire}"
		print "    to: {zone: servers, sites: [DC1]}"
		print "    services: [web, sip]"
		print "    action: accept"
		print "  - id: s2-print-not-resolvers"
		print "    from: [admin]"
		print "    to: {object: dc-servers, except: [resolvers]}"
		print "    services: [printing]"
		print "    action: accept"
		print "  - id: s2-ssh-staff"
		print "    from: [vpn-staff]"
		print "    to: {zone: servers, sites: [DC1, DC2]}"
		print "    services: [ssh]"
		print "    action: accept"
		print "    limit: {rate: 50/second, burst: 20}"
		print "  - id: s2-ssh-admin"
		print "    from: [admin]"
		print "    to: dc-servers"
		print "    services: [ssh]"
		print "    action: accept"
		print "    limit: {rate: 20/minute, per: source}"
		print "  - id: s2-vendors-fire"
		print "    from: [vpn-vendors]"
		print "    to: {zone: bms, sites: fire}"
		print "    services: [ssh, modbus]"
		print "    action: accept"
		print "    when: {days: mon-fri, hours: \"07:00-19:00\", timezone: Europe/Berlin}"
		next
	}
	{ print }
	END {
		print "gateway:"
		print "  - id: s2-snmp"
		print "    from: {role: monitoring}"
		print "    services: [snmp]"
		print "    action: accept"
		print "    interfaces: [transfer]"
	}' "$inv/policy.yaml" >"$out/policy.yaml"
}

# another policy: a copy of the inventory with it as policy.yaml
POLICY=${POLICY_FLEET_POLICY:-}
HOSTS=${POLICY_FLEET_HOSTS:-}
if [ "${POLICY_FLEET_STAGE2:-0}" = 1 ] && [ -z "$POLICY" ] && [ -f "$INV/policy-stage2.yaml" ]; then
	POLICY=$INV/policy-stage2.yaml
fi
if [ -n "$POLICY" ] || [ "${POLICY_FLEET_STAGE2:-0}" = 1 ]; then
	mkdir -p "$tmp/inv"
	find "$INV" -maxdepth 1 -type f \( -name '*.csv' -o -name '*.yaml' \) -exec cp {} "$tmp/inv/" \;
	if [ -n "$POLICY" ]; then
		cp "$POLICY" "$tmp/inv/policy.yaml" || exit 1
		[ -z "$HOSTS" ] || cp "$HOSTS" "$tmp/inv/hosts.csv" || exit 1
		e2e_log "policy $POLICY${HOSTS:+ with $HOSTS}"
	else
		stage2_policy "$INV" "$tmp/inv"
		e2e_log "policy: the stage-2 policy written from $INV/policy.yaml (no $INV/policy-stage2.yaml)"
	fi
	INV=$tmp/inv
	# time windows and expiry are judged now, by compile (today) and query (--time)
	DATE=$(date -u +%F)
fi

# --- the gateways and their rulesets -----------------------------------------
perl "$TOOL" pick "$INV" "$SITES" "$SEED" >"$tmp/sites" || exit 1
mapfile -t gateways <"$tmp/sites"
site_args=()
for site in "${gateways[@]}"; do
	site_args+=(--site "$site")
done
# one compile for all of them when --site may be given again, else one each
if ! "$SEGPLAN" policy compile "$INV" --out "$tmp/rules" "${site_args[@]}" --date "$DATE" \
	>/dev/null 2>"$tmp/compile.err" || [ "$(ls "$tmp/rules"/*.nft 2>/dev/null | wc -l)" -ne "${#gateways[@]}" ]; then
	for site in "${gateways[@]}"; do
		if ! "$SEGPLAN" policy compile "$INV" --out "$tmp/rules" --site "$site" --date "$DATE" \
			>/dev/null 2>"$tmp/compile.err"; then
			cat "$tmp/compile.err" >&2
			e2e_log "FAIL: segplan policy compile --site $site"
			exit 1
		fi
	done
fi
e2e_log "gateways (${#gateways[@]}): ${gateways[*]}"
iface_note=$([ -f "$INV/interfaces.csv" ] && echo "with interfaces.csv" || echo "without interfaces.csv")
e2e_log "inventory $INV ($iface_note)"

# --- the tuples and what query says of them, every gateway --------------------
# With time windows query judges an instant (out of reach of every window's
# edges), and each gateway is asked again just before its tuples are sent.
WHEN=$DATE
WINDOWS=0
if cat "$tmp"/rules/*.policy.json | jq -e -s '[.[].rules[] | select(.window_spans)] | length > 0' >/dev/null; then
	WINDOWS=1
	WHEN=$(perl "$TOOL" instant 10 "$tmp"/rules/*.policy.json)
	e2e_log "time windows: query judges $WHEN (and each gateway again when it sends)"
fi
capped=0
for site in "${gateways[@]}"; do
	# a seed of its own per gateway: the run's seed and a checksum of the site id
	perl "$TOOL" tuples "$INV" "$tmp/rules/$site.policy.json" "$((SEED + ${#site} * 7919 + $(cksum <<<"$site" | cut -d' ' -f1) % 100000))" \
		"$COUNT" >"$tmp/tuples.$site" || exit 1
	if ! perl "$TOOL" query "$SEGPLAN" "$INV" "$site" "$WHEN" enforce <"$tmp/tuples.$site" \
		>"$tmp/verdicts.$site" 2>>"$tmp/query.err"; then
		tail -3 "$tmp/query.err" >&2
		e2e_log "FAIL: segplan policy query ($site)"
		exit 1
	fi
	perl "$TOOL" cap "$tmp/rules/$site.policy.json" "$tmp/tuples.$site" "$tmp/verdicts.$site" \
		>"$tmp/capped.$site" 2>"$tmp/cap.err" || exit 1
	mv "$tmp/capped.$site" "$tmp/tuples.$site"
	awk -F'\t' 'NR == FNR { keep[$1] = 1; next } keep[$1]' "$tmp/tuples.$site" "$tmp/verdicts.$site" >"$tmp/kept.$site"
	mv "$tmp/kept.$site" "$tmp/verdicts.$site"
	capped=$((capped + $(awk '{ print $2 }' "$tmp/cap.err")))
done
[ "$capped" -eq 0 ] || e2e_log "$capped tuples left out: more than a limited rule's bucket holds"
cat "$tmp"/tuples.* >"$tmp/all.tsv"
total=$(wc -l <"$tmp/all.tsv")
v6=$(awk -F'\t' '$2 == 6' "$tmp/all.tsv" | wc -l)
e2e_check "at least 20 gateways (${#gateways[@]})" [ "${#gateways[@]}" -ge 20 ]
e2e_check "at least 10,000 tuples ($total)" [ "$total" -ge 10000 ]
e2e_check "at least 40% of them IPv6 ($v6)" [ $((v6 * 100)) -ge $((total * 40)) ]
e2e_log "query decided by: $(cat "$tmp"/verdicts.* | cut -f5 | sort | uniq -c | awk '{ printf "%s%s %s", sep, $2, $1; sep = ", " }')"
# the rules naming objects, hosts, labels, site groups or external networks
# (named sets of the tables): the tuples drawn for each (their own match) and
# those each decided, at any gateway; a rule with a time window decides only
# in it
# (a gateway service, and its forward rule towards the gateways offering it,
# are not drawn for: their far ends are gateways' own addresses)
cat "$tmp"/rules/*.policy.json | jq -r -s '[.[].rules[]] as $all | [$all[] | select(.gateway) | .id] as $gs
	| [$all[] | select((.from_sets // []) + (.to_sets // []) | length > 0)
	| select(.id as $i | any($gs[]; . == $i) | not) | "\(.id) \(if .window then 1 else 0 end)"] | unique[]' >"$tmp/set-rules"
if [ -s "$tmp/set-rules" ]; then
	cat "$tmp"/tuples.* | awk -F'\t' '$10 == "in" { print $9 }' | sort | uniq -c >"$tmp/aimed"
	cat "$tmp"/verdicts.* | awk -F'\t' '$5 == "rule" { print $4 }' | sort | uniq -c >"$tmp/decided"
	while read -r id windowed; do
		aimed=$(awk -v i="$id" '$2 == i { print $1 }' "$tmp/aimed")
		dec=$(awk -v i="$id" '$2 == i { print $1 }' "$tmp/decided")
		e2e_check "rule $id (naming a set): ${aimed:-0} tuples drawn for it, ${dec:-0} decided by it$([ "$windowed" = 1 ] && echo ' (a time window)')" \
			[ "${aimed:-0}" -gt 0 -a \( "${dec:-0}" -gt 0 -o "$windowed" = 1 \) ]
	done <"$tmp/set-rules"
fi
# query --batch (one process) says what one query per tuple says: a sample
head -40 "$tmp/tuples.${gateways[0]}" >"$tmp/sample.tsv"
POLPROBE_QUERY_SINGLE=1 perl "$TOOL" query "$SEGPLAN" "$INV" "${gateways[0]}" "$WHEN" enforce \
	<"$tmp/sample.tsv" >"$tmp/sample.single" 2>/dev/null
e2e_check "query --batch agrees with single queries (40 tuples of ${gateways[0]})" \
	cmp -s "$tmp/sample.single" <(head -40 "$tmp/verdicts.${gateways[0]}")

# the zones of the far ends, as query classified them
for site in "${gateways[@]}"; do
	awk -F'\t' '{ print ($7 == "up" ? $5 : $6) }' "$tmp/tuples.$site"
done | sort -u >"$tmp/far"
zones_of() { # the kinds of the far addresses, as query classifies them
	awk '{ print $1, $1, "udp", 53 }' "$tmp/far" |
		"$SEGPLAN" policy query "$INV" --batch --date "$DATE" 2>/dev/null |
		jq -r .dst.kind | sort | uniq -c | awk '{ printf "%s%s=%s", sep, $2, $1; sep = " " }'
}
far_kinds=$(zones_of)
e2e_log "far ends by kind: $far_kinds"
for kind in segment vpn unassigned internet private-external special; do
	e2e_check "far ends of kind $kind in the draw" grep -q "\\b$kind=" <<<"$far_kinds"
done

# --- every gateway in the kernel ---------------------------------------------------
# Each gateway in a subshell of its own (its namespaces tagged g<N>-), up to
# POLICY_FLEET_JOBS side by side; each writes its line of the summary and its
# result ("site passed failed counters-ok") for the totals.
gateway_run() { # $1 site, $2 index
	local site=$1 t0=$SECONDS gw unanswered p f n n6 bad_counters when
	GWNS_TAG=g$2-
	if [ "$WINDOWS" = 1 ]; then
		# query again now: the kernel judges the windows at the time it sees the packets
		when=$(perl "$TOOL" instant 30 "$tmp/rules/$site.policy.json")
		perl "$TOOL" query "$SEGPLAN" "$INV" "$site" "$when" enforce <"$tmp/tuples.$site" \
			>"$tmp/verdicts.$site" 2>>"$tmp/query.$site.err" || e2e_log "FAIL: $site: segplan policy query at $when"
		perl "$TOOL" cap "$tmp/rules/$site.policy.json" "$tmp/tuples.$site" "$tmp/verdicts.$site" \
			>"$tmp/capped.$site" 2>/dev/null && mv "$tmp/capped.$site" "$tmp/tuples.$site"
	fi
	gwns_build "$INV" "$site" "$tmp/tuples.$site"
	gw=${GWNS[gw]}
	if ! e2e_in "$gw" nft -f "$tmp/rules/$site.nft" >"$tmp/load.$site" 2>&1; then
		cat "$tmp/load.$site" >&2
		e2e_log "FAIL: $site: the ruleset does not load"
		echo "$site 0 $(wc -l <"$tmp/tuples.$site") 0" >"$tmp/result.$site"
		gwns_teardown
		return
	fi
	unanswered=$(gwns_warm)
	[ "$unanswered" -eq 0 ] || e2e_log "$site: $unanswered test addresses did not answer the gateway"
	e2e_in "$gw" nft -f "$tmp/rules/$site.nft" # fresh counters
	gwns_capture "$tmp/gw.$site.pcap" || echo "AGENT 0 0 0" >"$tmp/agent.$site"
	gwns_send "$tmp/tuples.$site" "$tmp/outcomes.$site" "$WAIT_MS"
	sleep 0.2
	gwns_capture_end
	gwns_seen "$tmp/seen.$site"
	e2e_in "$gw" nft -j list chain inet segplan forward | perl "$TOOL" counters >"$tmp/counters.$site"
	gwns_teardown
	gwns_agent "$tmp/rules/$site.policy.json" "$tmp/tuples.$site" "$tmp/verdicts.$site" \
		"$tmp/agent.$site" || echo "AGENT 0 0 0" >>"$tmp/agent.$site"
	grep '^AGENT-' "$tmp/agent.$site" | sed "s/^/$site /" | head -20 >&2
	perl "$TOOL" judge "$tmp/rules/$site.policy.json" "$tmp/tuples.$site" "$tmp/verdicts.$site" \
		"$tmp/outcomes.$site" "$tmp/seen.$site" "$tmp/counters.$site" >"$tmp/judge.$site" || exit 1
	grep '^MISMATCH ' "$tmp/judge.$site" | sed "s/^MISMATCH /MISMATCH $site /" >&2
	read -r _ p f < <(grep '^TUPLES ' "$tmp/judge.$site")
	n=$(wc -l <"$tmp/tuples.$site")
	n6=$(awk -F'\t' '$2 == 6' "$tmp/tuples.$site" | wc -l)
	bad_counters=$(awk '$1 == "COUNTER" && $3 != $4 { printf "%s%s %s/%s", sep, $2, $4, $3; sep = ", " }' "$tmp/judge.$site")
	[ -z "$bad_counters" ] || e2e_log "FAIL: $site: rule counters differ from the tuples each rule decided (packets/tuples): $bad_counters"
	echo "$site $p $f $([ -z "$bad_counters" ] && echo 1 || echo 0)" >"$tmp/result.$site"
	printf '%-8s %5d tuples %4d IPv6 %5d as query said %3d not %3d s\n' "$site" "$n" "$n6" "$p" "$f" \
		$((SECONDS - t0)) >&2
}
JOBS=${POLICY_FLEET_JOBS:-2}
i=0
for site in "${gateways[@]}"; do
	i=$((i + 1))
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
		wait -n
	done
	gateway_run "$site" "$i" &
	E2E_PIDS+=("$!") # killed at exit (then lib.sh removes the namespaces)
done
wait
for site in "${gateways[@]}"; do
	if [ ! -s "$tmp/result.$site" ]; then
		e2e_check "$site: the gateway's run finished" false
		continue
	fi
	read -r _ p f c <"$tmp/result.$site"
	E2E_PASS=$((E2E_PASS + p))
	E2E_FAIL=$((E2E_FAIL + f))
	e2e_check "$site: rule counters count the tuples each rule decided" [ "$c" = 1 ]
	read -r _ ap af am < <(grep '^AGENT ' "$tmp/agent.$site" | tail -1)
	e2e_check "$site: the agent says what query says for every tuple ($ap agree, $af not, $am not seen)" \
		[ "${ap:-0}" -gt 0 -a "${af:-1}" -eq 0 -a "${am:-1}" -eq 0 ]
	agent_agreed=$((${agent_agreed:-0} + ${ap:-0}))
done

# --- totals ------------------------------------------------------------------------
failed=$(cat "$tmp"/result.* 2>/dev/null | awk '$3 > 0' | wc -l)
agreed=$(cat "$tmp"/result.* 2>/dev/null | awk '{ s += $2 } END { print s + 0 }')
e2e_log "FLEET: ${#gateways[@]} gateways, $total tuples, $v6 IPv6 ($((v6 * 100 / total))%), $agreed as query said, $((total - agreed)) not; $failed gateways with disagreements; the agent agreed on ${agent_agreed:-0}; $((SECONDS - started)) s"
e2e_done
