#!/usr/bin/env bash
# SPDX-License-Identifier: MulanPSL-2.0
# `cmake --install` puts every piece where the spec and the issue say, with
# the modes etmemd demands (config files 0600), into a staging root.
. "$(dirname "$0")/lib.sh"

: "${ETMEM_BUILD_DIR:?}"
stage=$TMP/root
DESTDIR=$stage cmake --install "$ETMEM_BUILD_DIR" --prefix /usr >"$TMP/install.log" 2>&1 || {
	cat "$TMP/install.log" >&2
	bad "cmake --install failed"
}
for f in slide_conf.yaml cslide_conf.yaml thirdparty_conf.yaml psi_conf.yaml; do
	check "/etc/etmem/$f is 0600" test "$(stat -c %a "$stage/etc/etmem/$f")" = 600
done
check "etmemd installed" test -x "$stage/usr/bin/etmemd"
check "etmem installed" test -x "$stage/usr/bin/etmem"
check "libetmemd_scan installed" bash -c "ls '$stage'/usr/lib*/libetmemd_scan.so* >/dev/null 2>&1 || ls '$stage'/usr/lib/*/libetmemd_scan.so* >/dev/null"
check "plugin headers installed" test -f "$stage/usr/include/etmem/etmemd_thirdparty_export.h"
check "scan headers installed" test -f "$stage/usr/include/etmem/etmemd_scan_export.h"
for pc in etmemd_scan etmem-engine; do
	check "$pc.pc installed" bash -c "ls '$stage'/usr/lib*/pkgconfig/$pc.pc '$stage'/usr/lib/*/pkgconfig/$pc.pc 2>/dev/null | grep -q ."
done
check "libetmemd_scan has its SONAME" bash -c "readelf -d '$stage'/usr/lib*/libetmemd_scan.so.0 | grep -q 'soname: \[libetmemd_scan.so.0\]'"
unit=$(find "$stage" -name etmemd.service | head -1)
check "systemd unit installed" test -n "$unit"
check "unit runs etmemd by absolute path with -m" grep -Eq '^ExecStart=/[^ ]*/etmemd .*-m' "$unit"
check "unit is Type=forking" grep -q '^Type=forking' "$unit"
for m in man8/etmemd.8 man8/etmem.8 man5/etmem.conf.5; do
	check "man page $m installed" test -f "$stage/usr/share/man/$m"
done
# The shipped examples are accepted by the daemon as they are.
start_daemon
for f in slide_conf.yaml psi_conf.yaml; do
	check "example $f accepted" "$ETMEM" obj add -f "$stage/etc/etmem/$f" -s "$SOCK"
	check "example $f deleted" "$ETMEM" obj del -f "$stage/etc/etmem/$f" -s "$SOCK"
done
check "SIGTERM exits 0" stop_daemon
finish
