#!/bin/bash
# SPDX-License-Identifier: MulanPSL-2.0
# Host test (issue 10): slide's steady state costs nothing. A server-like
# workload (256 MiB, a quarter hot, read uniformly at a rate that touches
# each hot page only every ~5 s: longer than slide's 2 s window, like a
# key-value server's pages of several small values) runs in its own memory
# cgroup under `loop=1 interval=1 sleep=1 T=1`. Once its idle part is out
# and the task backs off (nothing new to reclaim), over 60 s with 2000 more
# processes on the host (a dense server: the target's resolution must not
# read them all every cycle):
#  - etmemd's CPU (utime + stime of all its threads, /proc/PID/stat) stays
#    below 0.5 % of one core: a functional bound on idle work (a cycle that
#    finds nothing must not reclaim), not a speed figure;
#  - no reclaim runs in the workload's own context: v1, the tracepoint
#    vmscan:mm_vmscan_memcg_reclaim_begin by its threads (v1 memory.stat
#    has no pgscan); v2, memory.stat's pgscan_direct does not grow;
#  - the workload's refaults stay below 5 % of its hot pages (the hot set
#    is not taken and faulted back every cycle);
# and after a project stop and start, what was learnt is still there (the
# refaults stay as low for 20 s: the working set is not taken again).
# A second tracefs instance watches etmemd's threads for the same event:
# it must see etmemd's own reclaims during the swap-out pass, which shows
# the tracing works. Every page's content is verified at the end.
# Usage: slide_steady.sh BIN_DIR
set -u
BIN=${1:?usage: slide_steady.sh BIN_DIR}
. "$(dirname "$0")/lib.sh"

TRACE=""
INST=()
# Run by host_test_exit before the rest of the cleanup: the tracefs instances go.
host_test_cleanup() {
	local i
	for i in "${INST[@]}"; do
		echo 0 >"$i/tracing_on" 2>/dev/null
		echo 0 >"$i/events/enable" 2>/dev/null
		rmdir "$i" 2>/dev/null
	done
}
host_test_begin "$BIN" etmem-steady

HOST_MEMCG_ROOT=$(memcg_root) || skip "no memory cgroup controller"
V1=0
[ -f "$HOST_MEMCG_ROOT/memory.limit_in_bytes" ] || [ -f "$HOST_MEMCG_ROOT/memory.usage_in_bytes" ] && V1=1
for t in /sys/kernel/tracing /sys/kernel/debug/tracing; do
	[ -d "$t/instances" ] && [ -d "$t/events/vmscan/mm_vmscan_memcg_reclaim_begin" ] && TRACE=$t && break
done
if [ -z "$TRACE" ] && [ "$V1" = 1 ]; then
	skip "cgroup v1 has no pgscan in memory.stat and tracefs (vmscan:mm_vmscan_memcg_reclaim_begin) is not" \
		"available: no way to count reclaim in the workload's own context"
fi

# All it measures is its own memcg's and its own etmemd's: beside the
# other swap tests when the run holds swap on (lib.sh, host_swap_cgroup).
HOST_SWAP_SHARED=1
host_swap_cgroup etmem-steady
MS=$HOST_WL_CG/memory.stat

# 16384 hot pages at 3000 reads/s: each hot page every ~5.5 s on average.
host_workload_start --size 256M --hot-frac 0.25 --pattern uniform --rate 3000
HOT=$(json_get "$WL_READY" "r['hot_pages']")

host_start_etmemd "$BIN" "$SOCK" "$D/etmemd.log"
{
	printf '[project]\nname=steady\nloop=1\ninterval=1\nsleep=1\n'
	printf '[engine]\nname=slide\nproject=steady\n'
	printf '[task]\nproject=steady\nengine=slide\nname=wl\ntype=pid\nvalue=%s\nT=1\nmax_threads=1\n' "$WL_PID"
} >"$D/steady.conf"
chmod 600 "$D/steady.conf"
"$BIN/etmem" obj add -f "$D/steady.conf" -s "$SOCK" || fail "obj add: $(tail -5 "$D/etmemd.log")"

# trace_new NAME PID...: a tracefs instance recording memcg reclaim begun by the threads of PIDs.
trace_new() {
	local i=$TRACE/instances/$1 p t
	shift
	mkdir "$i" || fail "mkdir $i"
	INST+=("$i")
	echo 1024 >"$i/buffer_size_kb"
	for p in "$@"; do
		for t in /proc/"$p"/task/*; do
			echo "${t##*/}" >>"$i/set_event_pid" || fail "$i/set_event_pid"
		done
	done
	echo 1 >"$i/events/vmscan/mm_vmscan_memcg_reclaim_begin/enable" || fail "enable the tracepoint in $i"
	if [ -d "$i/events/vmscan/mm_vmscan_direct_reclaim_begin" ]; then
		echo 1 >"$i/events/vmscan/mm_vmscan_direct_reclaim_begin/enable"
	fi
	echo 1 >"$i/tracing_on"
}
# trace_count INSTANCE EVENT: events of that name in its buffer.
trace_count() {
	grep -c " $2:" "$TRACE/instances/$1/trace"
}
pgscan_direct() {
	awk '$1 == "pgscan_direct" {print $2; f=1} END {if (!f) print 0}' "$MS"
}
refaults() {
	awk '$1 == "total_workingset_refault_anon" {t=$2} $1 == "workingset_refault_anon" {o=$2}
		END {print (t != "" ? t : (o != "" ? o : 0))}' "$MS"
}
cpu_ticks() { # utime + stime of the whole process
	awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$1/stat"
}
show() {
	"$BIN/etmem" project show -n steady -s "$SOCK"
}
fig() { # the value of a `project show` line
	show | sed -n "s/^ *$1: \([0-9]*\).*/\1/p" | head -1
}
heat_rows_after() { # the heatmap's rows of cycles after cycle $1 (the ring keeps the last 64)
	"$BIN/etmem" engine heatmap -n steady -e slide -t wl -s "$SOCK" --json |
		python3 -c 'import json, sys; d = json.load(sys.stdin)
print(sum(1 for t in d["tables"] if t["name"] == "heatmap_cycles" for r in t["rows"] if r["cycle"] > int(sys.argv[1])))' "$1"
}

"$BIN/etmem" project start -n steady -s "$SOCK" || fail "project start: $(tail -5 "$D/etmemd.log")"
WL_TR=etmem-steady-wl-$$ D_TR=etmem-steady-d-$$
if [ -n "$TRACE" ]; then
	trace_new "$WL_TR" "$WL_PID"
	trace_new "$D_TR" "$DPID"
fi

# Convergence: the idle part out, the hot part back in (the first reclaim
# of a fresh memcg takes what was not touched within its first window, and
# the workload faults it back), and the task backing off.
conv=""
for i in $(seq 1 240); do
	sleep 1
	wl_report_try || continue
	cold=$(json_get "$WL_REPORT" "r['cold']['swapped']/r['cold']['pages']")
	hot=$(json_get "$WL_REPORT" "r['hot']['swapped']/r['hot']['pages']")
	idle=$(fig 'memory cgroups backing off')
	[ $((i % 10)) = 0 ] && echo "t=${i}s idle pages out $cold, hot pages out $hot, backing off: $idle"
	if python3 -c "import sys; sys.exit(0 if $cold >= 0.95 and $hot <= 0.02 else 1)" && [ "$idle" = 1 ]; then
		conv=1
		break
	fi
done
show | tee "$D/show1.out"
[ -n "$conv" ] || fail "no steady state within 240 s: idle pages out $cold (want >= 0.95), hot pages out $hot" \
	"(want <= 0.02), backing off: $idle"
pass_d=0 pass_wl=0
if [ -n "$TRACE" ]; then
	pass_d=$(trace_count "$D_TR" mm_vmscan_memcg_reclaim_begin)
	pass_wl=$(trace_count "$WL_TR" mm_vmscan_memcg_reclaim_begin)
fi

# A dense host: 2000 more processes (sleeping, in a memory cgroup of their
# own) for the steady window. Resolving the target reads every process's
# stat; a backed-off cycle must not do that each time (slide_cycle.c:
# resolve(); 3.3 % of a core with 5000 processes before, at one cycle
# every 2 s), or the CPU bound below fails.
CROWD=2000
host_memcg_new "etmem-steady-crowd-$$"
for _ in $(seq 1 $CROWD); do
	sh -c 'echo $$ >"$1/cgroup.procs" && exec sleep 3600' sh "$HOST_MEMCG_ROOT/etmem-steady-crowd-$$" &
	HOST_PIDS+=($!)
done
sleep 2
nproc_all=$(ls -d /proc/[0-9]* | wc -l)

# The steady window.
hz=$(getconf CLK_TCK)
n0=$(fig cycles)
c0=$(cpu_ticks "$DPID") r0=$(refaults) s0=$(pgscan_direct) k0=$(fig 'cycles skipped (backing off)')
t0=$(date +%s.%N)
sleep 60
c1=$(cpu_ticks "$DPID") r1=$(refaults) s1=$(pgscan_direct) k1=$(fig 'cycles skipped (backing off)')
t1=$(date +%s.%N)
n1=$(fig cycles) rows=$(heat_rows_after "$n0")
show | tee "$D/show2.out"
wl_reclaims=0 wl_direct=0
if [ -n "$TRACE" ]; then
	wl_reclaims=$(($(trace_count "$WL_TR" mm_vmscan_memcg_reclaim_begin) - pass_wl))
	wl_direct=$(trace_count "$WL_TR" mm_vmscan_direct_reclaim_begin)
fi
cpu=$(python3 -c "print(($c1 - $c0) / $hz / ($t1 - $t0))")
refaulted=$((r1 - r0))
echo "steady window ($nproc_all processes on the host): etmemd CPU $(python3 -c "print(f'{100 * $cpu:.3f}')") % of a core ($((c1 - c0)) ticks)," \
	"workload refaults $refaulted pages (hot set $HOT), cycles skipped $((k1 - k0))," \
	"memcg reclaims in the workload's context: pass $pass_wl, steady $wl_reclaims (etmemd's during the pass:" \
	"$pass_d), global direct reclaims in its context $wl_direct, pgscan_direct growth $((s1 - s0))"
grep "memcg_lru:" "$D/etmemd.log" | tail -5
# A heatmap row samples the workload's page tables (3072 pagemap reads): only
# cycles that updated the memcg add one, and the last skipped cycle of each
# back-off (its skips ran out): at most two per update, plus one.
updates=$(((n1 - n0) - (k1 - k0)))
echo "heatmap: $rows rows in $((n1 - n0)) cycles, $updates of them updates (the rest backed off)"
[ "$updates" -eq 0 ] || [ "$rows" -ge 1 ] || fail "no heatmap row in $((n1 - n0)) cycles with $updates updates"
[ "$rows" -le $((2 * updates + 1)) ] ||
	fail "the heatmap took $rows rows in $((n1 - n0)) cycles of which only $updates updated the memcg:" \
		"the backed-off cycles still sample the workload's page tables"

[ -z "$TRACE" ] || [ "$pass_d" -gt 0 ] ||
	fail "tracing saw no memcg reclaim by etmemd during the swap-out pass: the count below proves nothing"
python3 -c "import sys; sys.exit(0 if $cpu < 0.005 else 1)" || fail "etmemd used $cpu of a core in the steady state (>= 0.005)"
[ "$wl_reclaims" -eq 0 ] || fail "$wl_reclaims memcg reclaims ran in the workload's own context in the steady state"
[ "$((s1 - s0))" -eq 0 ] || fail "the workload's pgscan_direct grew by $((s1 - s0)) in the steady state"
[ $((refaulted * 20)) -lt "$HOT" ] || fail "the workload faulted back $refaulted pages in 60 s (hot set $HOT): churn"
[ "$((k1 - k0))" -gt 0 ] || fail "no cycle was skipped in the steady state"

# What was learnt survives a project stop and start (the registry's store):
# a restarted task must not learn the working set again by swapping it out.
"$BIN/etmem" project stop -n steady -s "$SOCK" || fail "project stop"
r0=$(refaults)
"$BIN/etmem" project start -n steady -s "$SOCK" || fail "project start (again)"
sleep 20
r1=$(refaults)
learnt=$(fig 'working set learnt from refaults')
echo "after a restart: working set learnt $learnt bytes, workload refaults $((r1 - r0)) pages in 20 s"
[ "${learnt:-0}" -gt 0 ] || fail "the learnt working set was forgotten across a project stop and start"
[ $(((r1 - r0) * 20)) -lt "$HOT" ] ||
	fail "the workload faulted back $((r1 - r0)) pages within 20 s of a restart (hot set $HOT): re-learnt by swapping"

"$BIN/etmem" project stop -n steady -s "$SOCK" || fail "project stop"
if [ "$V1" = 1 ]; then
	lim=$(cat "$HOST_MEMCG_ROOT/$CG/memory.limit_in_bytes")
	[ "$lim" -ge $((1 << 40)) ] || fail "memory.limit_in_bytes of $CG left lowered: $lim"
fi
kill -TERM "$WL_PID"
wait "$WL_PID"
rc=$?
WL_PID=""
tail -1 "$WL_OUT"
[ "$rc" = 0 ] || fail "workload content verification failed (exit $rc)"
echo PASS
