#!/bin/sh
# psi_v2.sh [steady|grow]: etmemd's psi engine on cgroup v2 (memory.pressure,
# memory.reclaim). A workload (128 MiB, 20 % hot) runs in its own memory
# cgroup.
#  steady: at least 60 % of its idle pages go to zram within 2 minutes; the
#          pressure stays below the target in at least 90 % of the cycles;
#          project show names the cgroup2 backend and memory.pressure;
#          memory.max / memory.high are left as they were.
#  grow:   once the cgroup is reclaimed down, a second workload whose whole
#          128 MiB is hot joins the cgroup (the working set grows); the
#          engine must back off (a cycle backing off after the growth, the
#          usage let grow again), and nothing is OOM-killed (memory.events).
# Both: every page's content survives. The cycles come from `etmem engine
# pressure` (columns: task cgroup cycle pressure usage reclaimed rate state ...).
. /rig/guest-lib.sh
. /rig/bin/slide_lib.sh
mode=${1:-steady} target=5
ROOT=/sys/fs/cgroup CG=/sys/fs/cgroup/etm-psi
grep -q zram0 /proc/swaps || skip "no zram swap (rig --zram 0?)"
[ -r /proc/pressure/memory ] || skip "no PSI in the rig kernel (CONFIG_PSI)"
grep -qw memory $ROOT/cgroup.controllers 2>/dev/null || skip "no cgroup v2 memory controller in $ROOT"
grep -qw memory $ROOT/cgroup.subtree_control || echo +memory >$ROOT/cgroup.subtree_control ||
	skip "cannot enable +memory in $ROOT/cgroup.subtree_control"
mkdir -p $CG || fail "mkdir $CG"
[ -e $CG/memory.reclaim ] || { rmdir $CG; skip "no memory.reclaim (kernel < 5.19)"; }
max0=$(cat $CG/memory.max) high0=$(cat $CG/memory.high)
etmd_start
wl_start --size 128 --hot-frac 0.2 --pattern seq --cpu 0 --cgroup $CG
tlb_noise 0
cat >/tmp/psi.conf <<EOF
[project]
name=psi
scan_type=psi
interval=1
[engine]
name=psi
project=psi
[task]
project=psi
engine=psi
name=t
cg_dir=etm-{psi,none}
pressure=$target
reclaim_rate=0.2
limit_min_bytes=8388608
EOF
chmod 0600 /tmp/psi.conf
proj_add /tmp/psi.conf psi
wait_cold 60 120
steady_ms=$WAIT_MS steady_cs=$CS steady_cn=$CN
at_least $CS $CN 60 || { etmd_log_tail; fail "psi: only $(pct $CS $CN) % of idle pages swapped in $WAIT_MS ms (want >= 60 % within 120 s)"; }
note "psi: $(pct $CS $CN) % of idle pages out after $WAIT_MS ms"
# 30 s in all, so that the pressure is judged near the floor too, not only on the way down
[ $WAIT_MS -lt 30000 ] && sleep $(((30000 - WAIT_MS) / 1000))

if [ "$mode" = grow ]; then
	low=$(cat $CG/memory.current)
	hist0=$($ETM engine pressure -n psi -e psi -s $SOCK | awk '$3 ~ /^[0-9]+$/ { n = $3 } END { print n + 0 }')
	WL2_OUT=/tmp/wl2.out
	$WL --size 128 --hot-frac 1 --pattern seq --cpu 0 --cgroup $CG --seed 2 --ready-file /tmp/wl2.ready \
		>$WL2_OUT 2>&1 &
	WL2=$!
	i=0
	until [ -s /tmp/wl2.ready ]; do
		kill -0 $WL2 2>/dev/null || { cat $WL2_OUT; fail "second workload exited early"; }
		i=$((i + 1)); [ $i -lt 600 ] || fail "second workload not ready after 60 s"
		sleep 0.1
	done
	note "working set grown: usage $low before, $(cat $CG/memory.current) now"
	sleep 20
	kill -0 $WL2 2>/dev/null || fail "second workload gone: $(tail -n 2 $WL2_OUT)"
	kill -0 $WL_PID 2>/dev/null || fail "first workload gone: $(tail -n 2 $WL_OUT)"
fi

$ETM project show -n psi -s $SOCK >/tmp/show.out 2>&1
sed 's/^/    show: /' /tmp/show.out
$ETM engine pressure -n psi -e psi -s $SOCK >/tmp/pressure.out 2>&1 || fail "engine pressure: $(cat /tmp/pressure.out)"
sed 's/^/    pressure: /' /tmp/pressure.out
grep "psi task t: cgroup" $ETMD_LOG | tail -n 3 | sed 's/^/    etmemd: /'
proj_del /tmp/psi.conf psi
max1=$(cat $CG/memory.max) high1=$(cat $CG/memory.high)
oom=$(sed -n 's/^oom_kill //p' $CG/memory.events)
tlb_noise_stop
if [ "$mode" = grow ]; then
	kill -TERM $WL2
	wait $WL2 || fail "second workload: $(tail -n 1 $WL2_OUT)"
fi
wl_stop
etmd_stop
rmdir $CG

grep -q "backend: cgroup2" /tmp/show.out || fail "project show does not name the cgroup2 backend"
grep -q "pressure from: memory.pressure" /tmp/show.out || fail "project show does not name memory.pressure"
grep -q "last error" /tmp/show.out && fail "project show reports an error: $(grep 'last error' /tmp/show.out)"
[ "$max1" = "$max0" ] || fail "memory.max changed: $max0 -> $max1"
[ "$high1" = "$high0" ] || fail "memory.high changed: $high0 -> $high1"
[ "${oom:-0}" = 0 ] || fail "memory.events: oom_kill $oom"
set -- $(awk -v t=$target '$3 ~ /^[0-9]+$/ && NF >= 8 { n++; if ($4 < t) b++ } END { print n + 0, b + 0 }' /tmp/pressure.out)
n=$1 below=$2
[ "$n" -gt 0 ] && [ $((below * 100)) -ge $((n * 90)) ] || fail "pressure below $target in $below of $n cycles (want >= 90 %)"
if [ "$mode" = grow ]; then
	# the cycles after the growth: at least one backed off, and the usage was let grow
	after=$(awk -v h=$hist0 '$3 ~ /^[0-9]+$/ && $3 > h' /tmp/pressure.out)
	echo "$after" | grep -q "backing off" || fail "no cycle backed off after the working set grew"
	top=$(echo "$after" | awk '{ if ($5 > m) m = $5 } END { print m + 0 }')
	[ "$top" -gt $((low + (64 << 20))) ] || fail "usage after the growth peaked at $top (before $low): the engine kept it down"
	pass "psi (cgroup v2, growing working set): $(pct $steady_cs $steady_cn) % of idle pages out in $steady_ms ms, backed off when it grew (usage $low -> $top), no OOM kill, pressure below $target in $below of $n cycles, content intact"
else
	pass "psi (cgroup v2): $(pct $steady_cs $steady_cn) % of idle pages out in $steady_ms ms (>= 60 % within 120 s), pressure below $target in $below of $n cycles, memory.max/high unchanged, content intact"
fi
