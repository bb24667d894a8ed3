#!/bin/bash
# SPDX-License-Identifier: MulanPSL-2.0
# The Debian packages, installed by dpkg into a scratch root, do the main
# job: the installed etmemd, started as its installed systemd unit starts it
# (every sandbox setting, the unit's capabilities only), swaps out the idle
# part of a workload onto zram when the installed etmem drives a slide
# project from a file in /etc/etmem; every page's content stays intact.
# Then dpkg --purge leaves nothing behind.
set -u
. "$(dirname "$0")/lib.sh"
trap pkg_cleanup EXIT
trap 'exit 1' INT TERM

need_root
: "${ETMEM_WORKLOAD:?}"
pkg_root_install
wants=$PKG_ROOT/etc/systemd/system/multi-user.target.wants/etmemd.service
[ "$(readlink "$wants")" = /lib/systemd/system/etmemd.service ] || fail "postinst did not enable etmemd.service"
ETMEM="$PKG_ROOT/usr/bin/etmem"

exec 8>/tmp/etmem-test-swap.lock
flock -w 300 8 || fail "swap lock /tmp/etmem-test-swap.lock busy for 300 s"
host_swap_setup /var/tmp
CG=etmem-pkg-$$
host_memcg_new "$CG"
"$ETMEM_WORKLOAD" --size 512M --hot-frac 0.1 --cgroup "$HOST_MEMCG_ROOT/$CG" --ready-file "$PKG_TMP/ready" \
	--report-file "$PKG_TMP/report" >"$PKG_TMP/workload.out" 2>&1 &
WPID=$!
HOST_PIDS+=("$WPID")
for _ in $(seq 1 600); do
	[ -s "$PKG_TMP/ready" ] && break
	kill -0 "$WPID" 2>/dev/null || fail "workload died: $(cat "$PKG_TMP/workload.out")"
	sleep 0.1
done
[ -s "$PKG_TMP/ready" ] || fail "workload not ready after 60 s"

SOCK=etmem-pkg-$$
pkg_start_etmemd "$SOCK" "$PKG_TMP/etmemd.log"
pkg_check_confinement

# The operator's way: a configuration in /etc/etmem (the unit hides /tmp and
# /home from etmemd), root:root 0600.
conf=$PKG_ROOT/etc/etmem/pkgtest-slide.conf
printf '[project]\nname=pkgtest\nloop=1\ninterval=1\nsleep=2\n[engine]\nname=slide\nproject=pkgtest\n[task]\nproject=pkgtest\nengine=slide\nname=wl\ntype=pid\nvalue=%s\nT=1\nmax_threads=2\n' \
	"$WPID" >"$conf"
chmod 0600 "$conf"
"$ETMEM" obj add -f "$conf" -s "$SOCK" || fail "obj add: $(tail -5 "$PKG_TMP/etmemd.log")"
"$ETMEM" project start -n pkgtest -s "$SOCK" || fail "project start: $(tail -5 "$PKG_TMP/etmemd.log")"

cold=0 hot=0 ok=""
for i in $(seq 1 90); do
	sleep 1
	WL_PID=$WPID WL_REPORT=$PKG_TMP/report wl_report_try || continue
	cold=$(json_get "$PKG_TMP/report" "r['cold']['swapped']/r['cold']['pages']")
	hot=$(json_get "$PKG_TMP/report" "r['hot']['swapped']/r['hot']['pages']")
	echo "t=${i}s cold swapped $cold hot swapped $hot"
	if python3 -c "import sys; sys.exit(0 if float('$cold') >= 0.95 else 1)"; then
		ok=1
		break
	fi
done
"$ETMEM" project show -s "$SOCK"
[ -n "$ok" ] || fail "cold pages swapped: $cold < 0.95 after 90 s; etmemd: $(tail -20 "$PKG_TMP/etmemd.log")"
python3 -c "import sys; sys.exit(0 if float('$hot') <= 0.02 else 1)" || fail "hot pages swapped: $hot > 0.02"
grep "started with access tracker\|memcg_lru:" "$PKG_TMP/etmemd.log" | head -3

"$ETMEM" project stop -n pkgtest -s "$SOCK" || fail "project stop"
"$ETMEM" obj del -f "$conf" -s "$SOCK" || fail "obj del"
if [ -f "$HOST_MEMCG_ROOT/$CG/memory.limit_in_bytes" ]; then
	lim=$(cat "$HOST_MEMCG_ROOT/$CG/memory.limit_in_bytes")
	[ "$lim" -ge $((1 << 40)) ] || fail "memory.limit_in_bytes of $CG left lowered: $lim"
fi
pkg_stop_etmemd || fail "etmemd did not stop on SIGTERM within 30 s"

kill -TERM "$WPID"
wait "$WPID"
rc=$?
tail -1 "$PKG_TMP/workload.out"
[ "$rc" = 0 ] || fail "workload content verification failed (exit $rc)"

rm -f "$conf"
pkg_root_purge
echo PASS
