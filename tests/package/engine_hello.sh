#!/bin/bash
# SPDX-License-Identifier: MulanPSL-2.0
# The plugin SDK works out of tree: the engine-hello example that etmem-dev
# ships is built with its own Makefile against the SDK installed by dpkg in
# a scratch root, found through pkg-config alone (the scratch root is the
# sysroot; nothing of this source tree is used), installed root:root 0500 as
# etmemd demands, and loaded into the installed etmemd running under its
# unit's sandbox. Each cycle it logs the task's processes and their RSS
# to syslog, and its private command shows them.
set -u
. "$(dirname "$0")/lib.sh"
trap pkg_cleanup EXIT
trap 'exit 1' INT TERM

need_root
: "${ETMEM_WORKLOAD:?}"
pkg_root_install
ETMEM="$PKG_ROOT/usr/bin/etmem"

# ---- build against the installed SDK ----
# The sysroot: the scratch root's /usr laid over the host's, so that the
# SDK's own dependency (libglib2.0-dev) is found as in a full installation.
# Only the scratch root has etmem's headers, .pc files and library.
[ -e /usr/include/etmem ] && fail "/usr/include/etmem exists on this host: the build could pick it up"
cp -r "$PKG_ROOT/usr/share/doc/etmem-dev/examples/engine-hello" "$PKG_TMP/hello"
sysroot=$PKG_TMP/sysroot
mkdir -p "$sysroot/usr"
pcdirs=$sysroot/usr/lib/$PKG_MA/pkgconfig:$sysroot/usr/share/pkgconfig
# COMMAND... with pkg-config looking into the sysroot.
sdk_run() {
	unshare -m --propagation private bash -c '
		root=$1 sysroot=$2 pcdirs=$3
		shift 3
		mount -t overlay overlay -o "ro,lowerdir=$root/usr:/usr" "$sysroot/usr" || exit
		PKG_CONFIG_SYSROOT_DIR=$sysroot PKG_CONFIG_LIBDIR=$pcdirs "$@"' \
		_ "$PKG_ROOT" "$sysroot" "$pcdirs" "$@"
}
sdk_make() { sdk_run make -C "$PKG_TMP/hello" "$@"; }
sdk_make >"$PKG_TMP/make.log" 2>&1 || fail "building engine-hello: $(cat "$PKG_TMP/make.log")"
cat "$PKG_TMP/make.log"
so=$PKG_TMP/hello/engine_hello.so
readelf -d "$so" | grep -q 'NEEDED.*libetmemd_scan.so.0' || fail "engine_hello.so does not link libetmemd_scan.so.0"
[ "$(nm -D --defined-only "$so" | awk '$2 ~ /[DdBb]/ {print $3}')" = hello_engine_ops ] ||
	fail "engine_hello.so exports more than hello_engine_ops: $(nm -D --defined-only "$so")"
# Its own install rule, into the enginedir the SDK names.
# (without the sysroot prefix pkg-config puts before paths)
enginedir=$(sdk_run env -u PKG_CONFIG_SYSROOT_DIR pkg-config --variable=enginedir etmem-engine)
[ "$enginedir" = "/usr/lib/$PKG_MA/etmem/engines" ] || fail "enginedir of etmem-engine.pc: $enginedir"
sdk_make install DESTDIR="$PKG_ROOT" ENGINEDIR="$enginedir" >/dev/null || fail "make install"
plugin=$PKG_ROOT$enginedir/engine_hello.so
[ "$(stat -c '%U:%G %a' "$plugin")" = "root:root 500" ] || fail "installed plugin is $(stat -c '%U:%G %a' "$plugin")"

# ---- load it into the installed etmemd ----
"$ETMEM_WORKLOAD" --size 64M --hot-frac 0.5 --ready-file "$PKG_TMP/ready" >"$PKG_TMP/workload.out" 2>&1 &
WPID=$!
HOST_PIDS+=("$WPID")
for _ in $(seq 1 100); do
	[ -s "$PKG_TMP/ready" ] && break
	sleep 0.1
done
[ -s "$PKG_TMP/ready" ] || fail "workload not ready: $(cat "$PKG_TMP/workload.out")"

SOCK=etmem-pkg-$$
# The library directory of the scratch root stands for the system's: the
# plugin's libetmemd_scan.so.0 is there.
pkg_start_etmemd "$SOCK" "$PKG_TMP/etmemd.log" "LD_LIBRARY_PATH=$PKG_ROOT/usr/lib/$PKG_MA"
pkg_check_confinement

conf=$PKG_ROOT/etc/etmem/pkgtest-hello.conf
sed -e "s|^libname=.*|libname=$plugin|" -e 's/^name=sshd/name=wl/' -e 's/^type=name/type=pid/' \
	-e "s/^value=sshd/value=$WPID/" -e 's/^hello_interval=.*/hello_interval=1/' "$PKG_TMP/hello/hello.conf" >"$conf"
chmod 0600 "$conf"
"$ETMEM" obj add -f "$conf" -s "$SOCK" || fail "obj add of the hello engine: $(tail -5 "$PKG_TMP/etmemd.log")"
"$ETMEM" project start -n hello -s "$SOCK" || fail "project start: $(tail -5 "$PKG_TMP/etmemd.log")"

ok=""
for _ in $(seq 1 50); do
	sleep 0.2
	"$ETMEM" engine showrss -n hello -e hello -t wl -s "$SOCK" >"$PKG_TMP/show.out" 2>&1 || continue
	rss=$(awk -v p="$WPID" '$1 == p {print $2}' "$PKG_TMP/show.out")
	[ -n "$rss" ] && ok=1 && break
done
cat "$PKG_TMP/show.out"
[ -n "$ok" ] || fail "showrss never listed the workload pid $WPID"
# 64 MiB, all of it touched: the RSS the plugin read is at least that.
[ "$rss" -ge 65536 ] || fail "RSS of the workload as the plugin saw it: $rss kB < 64 MiB"
grep -q "^task wl (pid $WPID): [1-9][0-9]* cycles" "$PKG_TMP/show.out" || fail "showrss header"
vmas=$(awk -v p="$WPID" '$1 == p {print $3}' "$PKG_TMP/show.out")
[ "$vmas" -ge 1 ] || fail "libetmemd_scan found no anonymous VMA of the workload"
# The log reaches the file through the syslog sink, a moment after the call.
log_has() {
	for _ in $(seq 1 50); do
		grep -q "$1" "$PKG_TMP/etmemd.log" && return 0
		sleep 0.1
	done
	return 1
}
log_has "hello wl: pid $WPID rss [0-9]* kB" || fail "no per-cycle log line of the plugin"
"$ETMEM" engine nosuch -n hello -e hello -s "$SOCK" >/dev/null 2>&1 && fail "an unknown private command succeeded"
log_has "hello: unknown command 'nosuch'" || fail "the unknown command was not logged"

"$ETMEM" project stop -n hello -s "$SOCK" || fail "project stop"
"$ETMEM" obj del -f "$conf" -s "$SOCK" || fail "obj del (unloads the plugin)"
pkg_stop_etmemd || fail "etmemd did not stop on SIGTERM within 30 s"
rm -f "$conf" "$plugin"
pkg_root_purge
echo PASS
