#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The whole pipeline on the embedded example: make demo runs this after the build.
# usage: scripts/demo.sh SEGPLAN_BINARY INVENTORY [OUTDIR]
set -euo pipefail
bin=$1
inv=$2
out=${3:-demo-out}
mkdir -p "$out"

step() { printf '\n== %s\n' "$*"; }

step "segplan check $inv"
"$bin" check "$inv"

step "segplan topology $inv"
"$bin" topology "$inv"
"$bin" topology "$inv" --json >"$out/topology.json"
for fmt in geojson svg graphml dot; do
	"$bin" topology "$inv" --export "$fmt" -o "$out/topology.$fmt"
done

printf '\nOutputs in %s/:\n' "$out"
ls -l "$out"
