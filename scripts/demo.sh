#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The whole pipeline on the embedded example: make demo runs this after the build.
# usage: scripts/demo.sh SEGPLAN_BINARY INVENTORY [OUTDIR]
# segplan demo does every step (docs/demo.md); check first, so that a broken
# inventory shows its diagnostics before anything else runs.
set -euo pipefail
bin=$1
inv=$2
out=${3:-demo-out}

"$bin" check "$inv"
"$bin" demo --inventory "$inv" --out "$out"
