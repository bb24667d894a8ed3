# SPDX-License-Identifier: MulanPSL-2.0
# shellcheck shell=bash
# Helpers for the packaging tests (bash): scratch roots with the Debian
# packages installed by dpkg, and the installed etmemd started the way its
# systemd unit starts it. Builds on tests/host/lib.sh (swap, cgroups,
# skip/fail); pkg_cleanup undoes everything, the test calls it from its
# EXIT trap.
# Environment: ETMEM_BUILD_DIR (the ctest build tree), ETMEM_SOURCE_DIR.
. "$(dirname "${BASH_SOURCE[0]}")/../host/lib.sh"

: "${ETMEM_BUILD_DIR:?}" "${ETMEM_SOURCE_DIR:?}"
PKG_DEB_DIR=$ETMEM_BUILD_DIR/deb # package.deb_build leaves the .debs here
PKG_MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
PKG_ROOT=""
PKG_DPID=""
PKG_SINK_PID=""
PKG_RUN_DIR_MADE=""
PKG_TMP=$(mktemp -d /tmp/etmem-pkg.XXXXXX)

pkg_debs() {
	ls "$PKG_DEB_DIR"/etmem_*.deb "$PKG_DEB_DIR"/libetmemd-scan0_*.deb "$PKG_DEB_DIR"/etmem-dev_*.deb 2>/dev/null
}

# A scratch root with the three packages installed by dpkg, maintainer
# scripts included: they run outside a chroot (the root has no shell) with
# DPKG_ROOT set, as debhelper's snippets and deb-systemd-helper support; a
# policy-rc.d forbids starting services, as in any image build. It lives
# under /var/lib, which the unit's sandbox leaves visible (not /tmp, /home
# or /root). Sets PKG_ROOT.
pkg_root_install() {
	local debs
	debs=$(pkg_debs)
	[ "$(echo "$debs" | wc -l)" = 3 ] || fail "no .deb files in $PKG_DEB_DIR (package.deb_build runs first)"
	PKG_ROOT=$(mktemp -d /var/lib/etmem-pkgtest.XXXXXX)
	mkdir -p "$PKG_ROOT"/var/lib/dpkg/{info,updates} "$PKG_ROOT"/var/log "$PKG_ROOT"/usr/sbin
	touch "$PKG_ROOT"/var/lib/dpkg/{status,available}
	printf '#!/bin/sh\nexit 101\n' >"$PKG_ROOT/usr/sbin/policy-rc.d"
	chmod 0755 "$PKG_ROOT/usr/sbin/policy-rc.d"
	# --force-depends: libc6, libglib2.0-0 & co. are the host's, not in this root.
	# shellcheck disable=SC2086
	dpkg --root="$PKG_ROOT" --force-depends --force-script-chrootless -i $debs \
		>"$PKG_TMP/dpkg-install.log" 2>&1 || fail "dpkg -i into $PKG_ROOT: $(tail -20 "$PKG_TMP/dpkg-install.log")"
	for p in etmem libetmemd-scan0 etmem-dev; do
		dpkg --root="$PKG_ROOT" -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' ||
			fail "package $p not installed in the scratch root"
	done
}

# Removes the packages again with dpkg --purge and checks that nothing of
# them is left in the scratch root.
pkg_root_purge() {
	dpkg --root="$PKG_ROOT" --force-depends --force-script-chrootless --purge etmem-dev etmem libetmemd-scan0 \
		>"$PKG_TMP/dpkg-purge.log" 2>&1 || fail "dpkg --purge: $(tail -20 "$PKG_TMP/dpkg-purge.log")"
	local left
	left=$(cd "$PKG_ROOT" && find . \( -path ./var -o -path ./usr/sbin/policy-rc.d \) -prune -o \( -type f -o -type l \) -print)
	[ -z "$left" ] || fail "left in the root after purge: $left"
}

# A unix datagram socket that collects syslog lines into $1 (etmemd and its
# plugins log through syslog; the sandbox binds this at /dev/log).
pkg_syslog_sink() {
	/usr/bin/python3 - "$PKG_TMP/log.sock" "$1" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "ab", buffering=0) as out:
    while True:
        out.write(s.recv(65536).rstrip(b"\0\n") + b"\n")
EOF
	PKG_SINK_PID=$!
	for _ in $(seq 1 50); do
		[ -S "$PKG_TMP/log.sock" ] && return 0
		sleep 0.1
	done
	fail "syslog sink did not start"
}

# Starts the installed etmemd as the installed unit starts it (ExecStartPre,
# ExecStart with -m, every sandbox setting: see unit_sandbox.py), on socket
# $1, logging into $2; extra VAR=VALUE arguments go into its environment.
# Sets PKG_DPID from the unit's PIDFile, like systemd.
pkg_start_etmemd() {
	local sock=$1 log=$2 unit=$PKG_ROOT/lib/systemd/system/etmemd.service
	shift 2
	local envs=(--setenv "ETMEMD_SOCKET=$sock" --setenv ETMEMD_LOG_LEVEL=0)
	for e in "$@"; do envs+=(--setenv "$e"); done
	[ -d /run/etmemd ] || PKG_RUN_DIR_MADE=1
	pkg_syslog_sink "$log"
	/usr/bin/python3 "$ETMEM_SOURCE_DIR/tests/package/unit_sandbox.py" --unit "$unit" --root "$PKG_ROOT" \
		--dev-log "$PKG_TMP/log.sock" "${envs[@]}" >"$PKG_TMP/start.out" 2>&1 ||
		fail "etmemd (Type=forking) did not become ready: $(cat "$PKG_TMP/start.out"; tail -20 "$log")"
	PKG_DPID=$(pkg_own_daemon)
	[ -n "$PKG_DPID" ] || fail "the installed etmemd is not running after its start"
	# Another etmemd -m on this machine (a developer's test) writes the same file.
	[ "$(cat /run/etmemd.pid 2>/dev/null)" = "$PKG_DPID" ] ||
		fail "/run/etmemd.pid holds '$(cat /run/etmemd.pid 2>/dev/null)', not the daemon's pid $PKG_DPID"
	"$PKG_ROOT/usr/bin/etmem" project show -s "$sock" >/dev/null || fail "installed etmemd does not answer"
}

# The daemon runs with exactly the unit's capabilities, no_new_privs and a
# seccomp filter.
pkg_check_confinement() {
	local unit=$PKG_ROOT/lib/systemd/system/etmemd.service status=/proc/$PKG_DPID/status want caps
	caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr ' ' ',' | tr 'A-Z' 'a-z')
	want=$(/usr/bin/python3 -c '
import ctypes, sys
cap = ctypes.CDLL("libcap.so.2")
mask = 0
for name in sys.argv[1].split(","):
    v = ctypes.c_int()
    assert cap.cap_from_name(name.encode(), ctypes.byref(v)) == 0, name
    mask |= 1 << v.value
print("%016x" % mask)' "$caps")
	[ -n "$want" ] || fail "cannot compute the capability mask of $caps"
	grep -q "^CapBnd:[[:space:]]*$want$" "$status" || fail "CapBnd is not the unit's ($want): $(grep CapBnd "$status")"
	grep -q "^CapEff:[[:space:]]*$want$" "$status" || fail "CapEff is not the unit's ($want): $(grep CapEff "$status")"
	grep -q "^NoNewPrivs:[[:space:]]*1$" "$status" || fail "NoNewPrivs not set"
	grep -q "^Seccomp:[[:space:]]*2$" "$status" || fail "no seccomp filter"
	echo "etmemd $PKG_DPID confined: CapEff $want ($caps), NoNewPrivs, seccomp filter"
}

# The pid of the etmemd this test started: the only process whose
# executable is the scratch root's (never a pid from a shared file alone).
pkg_own_daemon() {
	local p
	[ -n "$PKG_ROOT" ] || return 0
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/exe" 2>/dev/null)" = "$PKG_ROOT/usr/bin/etmemd" ] && echo "${p#/proc/}"
	done
}

# SIGTERM, as systemctl stop would; waits up to the unit's TimeoutStopSec.
pkg_stop_etmemd() {
	[ -n "$PKG_DPID" ] || PKG_DPID=$(pkg_own_daemon | head -1)
	[ -n "$PKG_DPID" ] || return 0
	kill -TERM "$PKG_DPID" 2>/dev/null
	for _ in $(seq 1 300); do
		kill -0 "$PKG_DPID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$PKG_DPID" 2>/dev/null; then
		kill -KILL "$PKG_DPID"
		PKG_DPID=""
		return 1
	fi
	# systemd removes the PIDFile after the stop
	[ "$(cat /run/etmemd.pid 2>/dev/null)" = "$PKG_DPID" ] && rm -f /run/etmemd.pid
	PKG_DPID=""
	return 0
}

pkg_cleanup() {
	pkg_stop_etmemd || echo "etmemd ignored SIGTERM for 30 s"
	[ -n "$PKG_SINK_PID" ] && kill "$PKG_SINK_PID" 2>/dev/null && wait "$PKG_SINK_PID" 2>/dev/null
	[ -n "$PKG_RUN_DIR_MADE" ] && rmdir /run/etmemd 2>/dev/null
	host_cleanup
	[ -n "$PKG_ROOT" ] && rm -rf "$PKG_ROOT"
	rm -rf "$PKG_TMP"
}
