#!/usr/bin/env bash
# SPDX-License-Identifier: MulanPSL-2.0
# Installs what building, testing and the demo need on Debian 12, only when
# something is missing (so a prepared machine does no apt work at all).
# debhelper, dpkg-dev, lintian: the .deb build and its checks (tests/package);
# systemd: systemd-analyze for the unit; python3-seccomp: the unit's
# system call filter, applied by tests/package/unit_sandbox.py;
# python3-jsonschema: the JSON output against its schema (tests/json);
# python3-prometheus-client: the metrics text through a real parser
# (tests/metrics); strace: its syscall fault injection kills etmemd between
# a v1 limit cut and its restore (tests/stress/test_journal_zombie.sh);
# promtool: see below. libcairo2-dev, libjson-glib-dev: the heatmap picture
# (etmem engine heatmap -o, etmem-heatmap; optional in the build).
set -euo pipefail

pkgs=(build-essential cmake pkg-config clang clang-format libclang-rt-14-dev
      libglib2.0-dev libnuma-dev libcmocka-dev libpfm4-dev libcairo2-dev libjson-glib-dev
      python3 util-linux procps kmod strace
      debhelper dpkg-dev lintian systemd python3-seccomp python3-jsonschema
      python3-prometheus-client)
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

# promtool (`promtool check metrics`, tests/metrics) comes from Debian's
# prometheus package, but installing that package would also install and
# start a Prometheus server: only its promtool is taken, from the package
# file, into /usr/local/bin.
if ! command -v promtool >/dev/null 2>&1; then
	echo "install-deps: installing promtool from Debian's prometheus package"
	d=$(mktemp -d)
	trap 'rm -rf "$d"' EXIT
	# The package lists may not be there yet on a fresh machine.
	if ! { cd "$d" && { apt-get download -qq prometheus >/dev/null 2>&1 ||
		{ apt-get update -qq && apt-get download -qq prometheus >/dev/null 2>&1; }; } &&
		dpkg-deb -x prometheus_*.deb x && install -m 0755 x/usr/bin/promtool /usr/local/bin/promtool; }; then
		echo "install-deps: cannot take promtool from the prometheus package" >&2
		exit 1
	fi
	cd - >/dev/null
fi
