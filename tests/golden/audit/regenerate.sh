#!/bin/sh
# SPDX-License-Identifier: MIT
# The summaries here are hand-made against inventory/ (tests/unit/test_audit.c).
# After a change of the policy hash (of its canonical form, docs/policy-json.md)
# this puts the new hash into every summary of the current policy; old.json
# keeps its other hash on purpose.
#   tests/golden/audit/regenerate.sh [SEGPLAN]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
segplan=${1:-${SEGPLAN_BIN:-segplan}}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$segplan" policy compile "$here/inventory" --out "$out" --site S1 --date 2026-11-26 >/dev/null
new=$(jq -r .policy_hash "$out/S1.policy.json")
old=$(jq -r .policy.hash "$here/s3.json")
for f in s1-am s1-pm s1-day s2 s3 pseudo truncated; do
	sed -i "s/$old/$new/" "$here/$f.json"
done
echo "policy hash $new"
