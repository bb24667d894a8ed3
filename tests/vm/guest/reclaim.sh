#!/bin/sh
# cgroup v2 memory.reclaim with zram swap: the workload's cold pages go to
# swap, its hot pages mostly stay, and every page comes back intact.
. /rig/guest-lib.sh
grep -q zram0 /proc/swaps || skip "no zram swap (rig --zram 0?)"
CG=/sys/fs/cgroup/reclaim
mkdir -p $CG
[ -e $CG/memory.reclaim ] || skip "no memory.reclaim"
wl_start --size 64 --hot-frac 0.1 --pattern seq --cpu 0 --cgroup $CG
sleep 1
cur0=$(cat $CG/memory.current) pswp0=$(sed -n 's/^pswpout //p' /proc/vmstat)
t0=$(uptime_ms)
echo 32M >$CG/memory.reclaim || note "memory.reclaim returned an error (partial reclaim)"
cur1=$(cat $CG/memory.current) pswp1=$(sed -n 's/^pswpout //p' /proc/vmstat)
wl_report
hs=$(jpart $WL_REPORT hot swapped) cs=$(jpart $WL_REPORT cold swapped)
note "memory.current $((cur0 >> 10)) -> $((cur1 >> 10)) KiB in $(($(uptime_ms) - t0)) ms; pswpout +$((pswp1 - pswp0))"
note "swapped: hot $hs of $WL_HOT, cold $cs of $((WL_PAGES - WL_HOT)); zram mm_stat: $(cat /sys/block/zram0/mm_stat)"
note "memory.stat: $(grep -E '^(anon|swapcached|pswpout) ' $CG/memory.stat 2>/dev/null | tr '\n' ' ')"
wl_stop
rmdir $CG
[ $((cur0 - cur1)) -ge $((24 << 20)) ] || fail "memory.current fell by only $(((cur0 - cur1) >> 10)) KiB"
[ $((hs + cs)) -ge 6144 ] || fail "only $((hs + cs)) pages swapped"
[ $((hs * 100)) -le $((WL_HOT * 10)) ] || fail "$hs of $WL_HOT hot pages swapped"
pass "memory.reclaim swapped $cs cold and $hs hot pages to zram; all content verified after swap-in"
