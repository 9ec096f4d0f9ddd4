#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian 12 packages segplan needs to build, test and benchmark.
# As root it installs what is missing with apt-get; otherwise it names what is
# missing and fails.
set -euo pipefail

packages=(
	build-essential cmake pkg-config clang
	libigraph-dev libcsv-dev libyaml-dev libjansson-dev libglpk-dev
	libnftables-dev libnftnl-dev libmnl-dev nftables
	libnl-3-dev libnl-route-3-dev libpcap-dev
	libcriterion-dev
	tzdata
	iproute2 iputils-ping netcat-openbsd tcpdump tcpreplay jq perl iperf3 python3
	softflowd nfdump
	chromium
	openssh-server openssh-client rsync
)
extra=("$@")

missing=()
for p in "${packages[@]}" "${extra[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
	exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
	echo "segplan: missing Debian packages: ${missing[*]}" >&2
	echo "segplan: run as root, or: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "segplan: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
