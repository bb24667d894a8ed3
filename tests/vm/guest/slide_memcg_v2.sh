#!/bin/sh
# slide_memcg_v2.sh [SIZE_MIB [mglru]]: etmemd's slide engine with
# access_tracker=memcg_lru on cgroup v2: the workload (10% hot) runs in its
# own memory cgroup; each cycle the kernel's LRU grades it through
# memory.reclaim. At least 95 % of its idle pages must go to zram and at most
# 2 % of its hot pages, every page's content survives, `project show` names
# the backend, and the cgroup's memory.max / memory.high are left as they
# were (v2 reclaim must never touch the limits, unlike v1's limit steps).
. /rig/guest-lib.sh
. /rig/bin/slide_lib.sh
size=${1:-64} lru=${2:-classic} min_cold=95 max_hot=2
ROOT=/sys/fs/cgroup CG=/sys/fs/cgroup/etm-wl
grep -q zram0 /proc/swaps || skip "no zram swap (rig --zram 0?)"
grep -qw memory $ROOT/cgroup.controllers 2>/dev/null || skip "no cgroup v2 memory controller in $ROOT"
grep -qw memory $ROOT/cgroup.subtree_control || echo +memory >$ROOT/cgroup.subtree_control ||
	skip "cannot enable +memory in $ROOT/cgroup.subtree_control"
if [ "$lru" = mglru ]; then
	# multi-gen LRU (distribution kernels turn it on): memory.stat's active/inactive are generations
	[ -w /sys/kernel/mm/lru_gen/enabled ] || skip "no multi-gen LRU (CONFIG_LRU_GEN)"
	echo y >/sys/kernel/mm/lru_gen/enabled || fail "cannot enable lru_gen"
	note "lru_gen enabled: $(cat /sys/kernel/mm/lru_gen/enabled)"
fi
mkdir -p $CG || fail "mkdir $CG"
[ -e $CG/memory.reclaim ] || { rmdir $CG; skip "no memory.reclaim (kernel < 5.19)"; }
max0=$(cat $CG/memory.max) high0=$(cat $CG/memory.high)
etmd_start
wl_start --size $size --hot-frac 0.1 --pattern seq --cpu 0 --cgroup $CG
grep -q "^0::/etm-wl\$" /proc/$WL_PID/cgroup || fail "workload not in $CG: $(cat /proc/$WL_PID/cgroup)"
tlb_noise 0 # see guest-lib.sh: reclaim's referenced check clears young bits without a flush too
slide_conf /tmp/slide.conf lru task $WL_PID memcg_lru
proj_add /tmp/slide.conf lru
wait_cold $min_cold 90
# Two more cycles: a hot page wrongly reclaimed would go out now.
sleep 4
wl_swapped
$ETM project show -n lru -s $SOCK >/tmp/show.out 2>&1
sed 's/^/    show: /' /tmp/show.out
note "memory.stat: $(grep -E '^(anon|active_anon|inactive_anon|workingset_refault_anon|pswpout) ' $CG/memory.stat | tr '\n' ' ')"
note "memory.swap.current: $(cat $CG/memory.swap.current)"
grep "memcg_lru" $ETMD_LOG | tail -n 3 | sed 's/^/    etmemd: /'
proj_del /tmp/slide.conf lru
max1=$(cat $CG/memory.max) high1=$(cat $CG/memory.high)
tlb_noise_stop
wl_stop
etmd_stop
rmdir $CG
cp=$(pct $CS $CN) hp=$(pct $HS $HN)
note "memcg_lru v2 (${size} MiB, $lru LRU): cold swapped $CS/$CN = $cp %, hot swapped $HS/$HN = $hp % (within $WAIT_MS ms)"
grep -q "backend: memcg_lru" /tmp/show.out || fail "project show does not report backend memcg_lru"
sw=$(sed -n 's/^ *bytes swapped out: //p' /tmp/show.out)
[ "${sw:-0}" -gt 0 ] || fail "project show: bytes swapped out is '${sw}' (memory.swap.current not accounted?)"
grep -q "last error" /tmp/show.out && fail "project show reports an error: $(grep 'last error' /tmp/show.out)"
[ "$max1" = "$max0" ] || fail "memory.max changed: $max0 -> $max1"
[ "$high1" = "$high0" ] || fail "memory.high changed: $high0 -> $high1"
at_least $CS $CN $min_cold || { etmd_log_tail; fail "memcg_lru: only $cp % of idle pages swapped out (want >= $min_cold %)"; }
[ $((HS * 100)) -le $((HN * max_hot)) ] || { etmd_log_tail; fail "memcg_lru: $hp % of hot pages swapped out (want <= $max_hot %)"; }
pass "slide/memcg_lru (cgroup v2, $lru LRU, $size MiB): $cp % of idle pages out (>= $min_cold), $hp % of hot pages (<= $max_hot), content intact, memory.max/high unchanged"
