#!/bin/bash
# SPDX-License-Identifier: MulanPSL-2.0
# Host test: etmemd's slide engine swaps out the cold memory of a real
# process onto zram. The workload (1 GiB, 10% hot) runs in its own memory
# cgroup; after the project runs, >= 95% of its idle pages must be swapped
# out and <= 2% of its hot pages, and every page's content must be intact.
# A target that exits mid-cycle and one that never existed must leave the
# daemon answering. On a kernel whose only per-page tracker (DAMON paddr) is
# taken by someone else's kdamond, auto falls back to memcg_lru (the
# cgroup's own LRU grades, memory.limit_in_bytes steps / memory.reclaim
# swap): the test must pass there too, never skip.
# Usage: slide_zram.sh BIN_DIR
set -u
BIN=${1:?usage: slide_zram.sh BIN_DIR}
. "$(dirname "$0")/lib.sh"

host_test_begin "$BIN" etmem-host
host_swap_cgroup etmem-test
host_workload_start --size 1G --hot-frac 0.1
host_start_etmemd "$BIN" "$SOCK" "$D/etmemd.log"

conf() { # $1 file, $2 task name, $3 type, $4 value [, $5 "task": only the [task] section]
	{
		if [ "${5:-}" != task ]; then
			printf '[project]\nname=hostproj\nloop=1\ninterval=1\nsleep=2\n'
			printf '[engine]\nname=slide\nproject=hostproj\n'
		fi
		printf '[task]\nproject=hostproj\nengine=slide\nname=%s\ntype=%s\nvalue=%s\nT=1\nmax_threads=2\n' "$2" "$3" "$4"
	} >"$1"
	chmod 600 "$1"
}
conf "$D/wl.conf" wl pid "$WL_PID"
"$BIN/etmem" obj add -f "$D/wl.conf" -s "$SOCK" || fail "obj add: $(tail -5 "$D/etmemd.log")"
if ! "$BIN/etmem" project start -n hostproj -s "$SOCK" >"$D/start.out" 2>&1; then
	cat "$D/start.out"
	if grep -q "no access tracker" "$D/etmemd.log"; then
		skip "no access tracker on this kernel: $(grep -o 'no access tracker.*' "$D/etmemd.log" | head -1)"
	fi
	fail "project start: $(tail -5 "$D/etmemd.log")"
fi

# Bounded wait for the cold part to go out.
ok=""
for i in $(seq 1 90); do
	sleep 1
	wl_report_try || continue
	cold=$(json_get "$WL_REPORT" "r['cold']['swapped']/r['cold']['pages']")
	hot=$(json_get "$WL_REPORT" "r['hot']['swapped']/r['hot']['pages']")
	echo "t=${i}s cold swapped $cold hot swapped $hot"
	if python3 -c "import sys; sys.exit(0 if float('$cold') >= 0.95 else 1)"; then
		ok=1
		break
	fi
done
"$BIN/etmem" project show -s "$SOCK" | tee "$D/show.out"
[ -n "$ok" ] || fail "cold pages swapped: $cold < 0.95 after 90 s"
python3 -c "import sys; sys.exit(0 if float('$hot') <= 0.02 else 1)" || fail "hot pages swapped: $hot > 0.02"
grep -q "bytes swapped out:" "$D/show.out" || fail "project show lacks the task figures"
grep -q "backend:" "$D/show.out" || fail "project show lacks the backend"
# Hot pages swapped out and faulted back in before a report could see them.
echo "refaults of the workload's memcg: $(grep -w 'workingset_refault_anon' "$HOST_MEMCG_ROOT/$CG/memory.stat" 2>/dev/null)"
grep "access tracker .* skipped\|started with access tracker\|memcg_lru:" "$D/etmemd.log"

# A target that exits mid-cycle and one that never existed.
"$BIN/etmem" project stop -n hostproj -s "$SOCK" || fail "project stop"
# memcg_lru lowers memory.limit_in_bytes while it reclaims: it must be back.
if [ -f "$HOST_MEMCG_ROOT/$CG/memory.limit_in_bytes" ]; then
	lim=$(cat "$HOST_MEMCG_ROOT/$CG/memory.limit_in_bytes")
	[ "$lim" -ge $((1 << 40)) ] || fail "memory.limit_in_bytes of $CG left lowered: $lim"
fi
CG2=etmem-test2-$$
host_memcg_new "$CG2"
sh -c "echo \$\$ > $HOST_MEMCG_ROOT/$CG2/cgroup.procs; exec sleep 3" &
SPID=$!
HOST_PIDS+=("$SPID")
# Start the project only once the target is in its own cgroup (the shell moves itself first).
for _ in $(seq 1 50); do
	grep -q ":/$CG2\$" /proc/$SPID/cgroup 2>/dev/null && break
	sleep 0.05
done
conf "$D/short.conf" short pid "$SPID" task
conf "$D/none.conf" none name etmem-nosuch task
"$BIN/etmem" obj add -f "$D/short.conf" -s "$SOCK" || fail "obj add short"
"$BIN/etmem" obj add -f "$D/none.conf" -s "$SOCK" || fail "obj add none"
"$BIN/etmem" project start -n hostproj -s "$SOCK" || fail "project start with short-lived targets"
sleep 8
kill -0 "$DPID" 2>/dev/null || fail "etmemd died"
"$BIN/etmem" project show -s "$SOCK" >"$D/show2.out" || fail "project show after targets vanished"
cat "$D/show2.out"
"$BIN/etmem" project stop -n hostproj -s "$SOCK" || fail "project stop"
"$BIN/etmem" obj del -f "$D/none.conf" -s "$SOCK" || fail "obj del"

# Content: the workload verifies every page on SIGTERM.
kill -TERM "$WL_PID"
wait "$WL_PID"
rc=$?
WL_PID=""
tail -1 "$WL_OUT"
[ "$rc" = 0 ] || fail "workload content verification failed (exit $rc)"
echo PASS
