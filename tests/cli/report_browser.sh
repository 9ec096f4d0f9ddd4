#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# segplan report in a real browser: the command's exit codes, then the
# report of the 850-site example city opened offline in headless Chromium.
# The DOM after the scripts ran must hold one marker per site, one matrix
# cell per zone pair and one timeline row per planned year (counted from the
# inventory files, independently of segplan); the console must stay silent;
# the screenshot must be a real picture. A deliberately broken page proves
# that console errors are caught. Without Chromium the test is skipped
# (exit 77); with CI=true a skip is a failure.
set -u
browser=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $browser ]]; then
	if [[ ${CI:-} == true ]]; then
		echo "FAIL: chromium is not installed (scripts/deps.sh installs it)"
		exit 1
	fi
	echo "SKIP: chromium is not installed"
	exit 77
fi
. "$(dirname "$0")/lib.sh"
pass() { passes=$((passes + 1)); }
fail() {
	fails=$((fails + 1))
	echo "FAIL: $*"
}

# Headless Chromium without network, sync or first-run work; a fresh profile each time.
# Console messages and uncaught exceptions go to stderr as "...:CONSOLE..." lines.
chrome() { # chrome LOG ARGS...
	local log=$1
	shift
	timeout 60 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$(mktemp -d "$tmp/profile.XXXXXX")" --enable-logging=stderr --v=0 \
		"$@" 2>"$log"
}
console_errors() { # console_errors LOG: the lines that fail a page
	grep -E 'CONSOLE|Uncaught' "$1"
}

city=$tmp/city
expect 0 "generate the city" -- "$bin" example --sites 850 --seed 1 --out "$city"

expect 0 "report --help" -- "$bin" report --help
grep -q "usage: segplan report" "$tmp/out" && pass || fail "help on stdout"
expect 2 "no inventory" -- "$bin" report
grep -q "usage: segplan report" "$tmp/err" && pass || fail "usage on stderr"
expect 2 "no -o" -- "$bin" report "$city"
expect 2 "inexact option" -- "$bin" report "$city" -o "$tmp/x.html" --tit X
expect 2 "bad --top" -- "$bin" report "$city" -o "$tmp/x.html" --top 0
expect 2 "bad --date" -- "$bin" report "$city" -o "$tmp/x.html" --date 2026-02-30
expect 3 "missing inventory" -- "$bin" report "$tmp/nothing" -o "$tmp/x.html"
printf '{"format": 1,\n "kind": 7}\n' >"$tmp/bad.json"
expect 3 "malformed summary" -- "$bin" report "$city" "$tmp/bad.json" -o "$tmp/x.html"
grep -q "bad.json" "$tmp/err" && pass || fail "the summary's error names the file"
[[ ! -e $tmp/x.html ]] && pass || fail "nothing written after invalid input"

report=$tmp/report.html
expect 0 "report" -- "$bin" report "$city" -o "$report" --title 'Stuttgart & Umgebung' \
	--date 2026-11-26 --top 12
size=$(stat -c %s "$report" 2>/dev/null || echo 0)
((size > 10000 && size < 2 * 1024 * 1024)) && pass || fail "report size $size bytes"
grep -qE 'https?://' "$report" && fail "the report refers to a URL" || pass

# The detector itself: a page with an uncaught error must be caught, a clean one not.
printf '<!DOCTYPE html><html><body><p>x</p><script>undefinedFunction();</script></body></html>\n' \
	>"$tmp/broken.html"
chrome "$tmp/broken.log" --dump-dom "file://$tmp/broken.html" >/dev/null
console_errors "$tmp/broken.log" >/dev/null && pass || fail "a console error goes unnoticed"
printf '<!DOCTYPE html><html><body><p>x</p><script>var a = 1;</script></body></html>\n' \
	>"$tmp/clean.html"
chrome "$tmp/clean.log" --dump-dom "file://$tmp/clean.html" >/dev/null
console_errors "$tmp/clean.log" >/dev/null && fail "a clean page counts as broken" || pass

# The DOM after the scripts ran.
chrome "$tmp/dom.log" --dump-dom "file://$report" >"$tmp/dom.html"
if console_errors "$tmp/dom.log"; then
	fail "console output while loading the report"
else
	pass
fi
grep -q 'data-script="ok"' "$tmp/dom.html" && pass || fail "the report's script did not run to its end"

sites=$(($(wc -l <"$city/sites.csv") - 1))
markers=$(grep -o '<circle[^>]* class="site bb-[0-9]"' "$tmp/dom.html" | wc -l)
same "site markers" "$markers" "$sites"
ids=$(grep -o 'data-id="[^"]*"' "$tmp/dom.html" | sort -u | wc -l)
same "distinct marker ids" "$ids" "$sites"

# The policy's zones: declared, of segments, of the address plan (not "city"), and the
# pseudo-zones internet, unassigned, special and private-external; the dc overlay is no
# row of its own.
zones=$(
	{
		awk '/^zones:/ {z = 1; next} /^[^ #]/ {z = 0} z && /^  [a-z0-9-]+:/ {sub(/:.*/, ""); print $1}' \
			"$city/policy.yaml"
		tail -n +2 "$city/segments.csv" | cut -d, -f3
		tail -n +2 "$city/addressplan.csv" | cut -d, -f1 | grep -vx city
		printf 'internet\nunassigned\nspecial\nprivate-external\n'
	} | sort -u | wc -l
)
cells=$(grep -o '<td class="cell ' "$tmp/dom.html" | wc -l)
rows=$(grep -o '<th class="rowh">' "$tmp/dom.html" | wc -l)
same "matrix rows" "$rows" "$zones"
same "matrix cells" "$cells" $((zones * zones))

horizon=$(awk '/^horizon_years:/ {print $2}' "$city/rollout.yaml")
years=$(grep -o '<tr class="year"' "$tmp/dom.html" | wc -l)
same "timeline rows" "$years" "$horizon"
start=$(awk '/^start_year:/ {print $2}' "$city/rollout.yaml")
grep -q "<tr class=\"year\" data-year=\"$start\">" "$tmp/dom.html" && pass ||
	fail "the first row is $start"
grep -q 'Stuttgart &amp; Umgebung' "$tmp/dom.html" && pass || fail "title escaped"
same "--top rows" "$(grep -o '<tr class="spof-row"' "$tmp/dom.html" | wc -l)" 12

# The screenshot: a PNG of real content (a blank page compresses to a few kilobytes).
chrome "$tmp/shot.log" --hide-scrollbars --window-size=1400,3000 \
	--screenshot="$tmp/report.png" "file://$report" >/dev/null
if console_errors "$tmp/shot.log"; then
	fail "console output while taking the screenshot"
else
	pass
fi
magic=$(head -c 8 "$tmp/report.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')
same "PNG signature" "$magic" "89504e470d0a1a0a"
png=$(stat -c %s "$tmp/report.png" 2>/dev/null || echo 0)
((png > 100000)) && pass || fail "screenshot of $png bytes"
if [[ -n ${SEGPLAN_REPORT_PNG:-} ]]; then
	cp "$tmp/report.png" "$SEGPLAN_REPORT_PNG"
fi

echo "report_browser: $passes passed, $fails failed"
((fails == 0))
