#!/usr/bin/env bash
# SPDX-License-Identifier: MulanPSL-2.0
# Installs what building, testing and the demo need on Debian 12, only when
# something is missing (so a prepared machine does no apt work at all).
# debhelper, dpkg-dev, lintian: the .deb build and its checks (tests/package);
# systemd: systemd-analyze for the unit; python3-seccomp: the unit's
# system call filter, applied by tests/package/unit_sandbox.py;
# python3-jsonschema: the JSON output against its schema (tests/json).
set -euo pipefail

pkgs=(build-essential cmake pkg-config clang clang-format libclang-rt-14-dev
      libglib2.0-dev libnuma-dev libcmocka-dev libpfm4-dev
      python3 util-linux procps kmod
      debhelper dpkg-dev lintian systemd python3-seccomp python3-jsonschema)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
	echo "install-deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	log=$(mktemp)
	if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
		cat "$log" >&2
		rm -f "$log"
		echo "install-deps: apt-get failed" >&2
		exit 1
	fi
	rm -f "$log"
fi
