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
# side), POLICY_FLEET_INVENTORY (the example).
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
for site in "${gateways[@]}"; do
	# a seed of its own per gateway: the run's seed and a checksum of the site id
	perl "$TOOL" tuples "$INV" "$tmp/rules/$site.policy.json" "$((SEED + ${#site} * 7919 + $(cksum <<<"$site" | cut -d' ' -f1) % 100000))" \
		"$COUNT" >"$tmp/tuples.$site" || exit 1
	if ! perl "$TOOL" query "$SEGPLAN" "$INV" "$site" "$DATE" enforce <"$tmp/tuples.$site" \
		>"$tmp/verdicts.$site" 2>>"$tmp/query.err"; then
		tail -3 "$tmp/query.err" >&2
		e2e_log "FAIL: segplan policy query ($site)"
		exit 1
	fi
done
cat "$tmp"/tuples.* >"$tmp/all.tsv"
total=$(wc -l <"$tmp/all.tsv")
v6=$(awk -F'\t' '$2 == 6' "$tmp/all.tsv" | wc -l)
e2e_check "at least 20 gateways (${#gateways[@]})" [ "${#gateways[@]}" -ge 20 ]
e2e_check "at least 10,000 tuples ($total)" [ "$total" -ge 10000 ]
e2e_check "at least 40% of them IPv6 ($v6)" [ $((v6 * 100)) -ge $((total * 40)) ]
e2e_log "query decided by: $(cat "$tmp"/verdicts.* | cut -f5 | sort | uniq -c | awk '{ printf "%s%s %s", sep, $2, $1; sep = ", " }')"
# query --batch (one process) says what one query per tuple says: a sample
head -40 "$tmp/tuples.${gateways[0]}" >"$tmp/sample.tsv"
POLPROBE_QUERY_SINGLE=1 perl "$TOOL" query "$SEGPLAN" "$INV" "${gateways[0]}" "$DATE" enforce \
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
	local site=$1 t0=$SECONDS gw unanswered p f n n6 bad_counters
	GWNS_TAG=g$2-
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
