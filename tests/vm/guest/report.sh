#!/bin/sh
# The workload's resident/swapped/node report matches what the kernel says
# (/proc/PID/numa_maps node counts, smaps Swap) after moving part of it to
# node 1 and paging part of it out. Hot = first quarter (kept busy), second
# quarter moved to node 1, third paged out, so the accesses change nothing.
. /rig/guest-lib.sh
grep -q zram0 /proc/swaps || skip "no zram swap"
wl_start --size 32 --hot-frac 0.25 --layout contiguous --pattern seq --cpu 0 --node 0 --rate 20000
q=$((WL_LEN / 4))
a=$(printf '%d' $WL_ADDR)
note "$($RT move $WL_PID $((a + q)) $q 1)"
note "$($RT pageout $WL_PID $((a + 2 * q)) $q)"
wl_report
note "report: $(cat $WL_REPORT | sed 's/.*\("hot":\)/\1/')"
# kernel side: the buffer's VMA in numa_maps and smaps
hex=$(printf '%x' $a)
nm=$(grep "^$hex " /proc/$WL_PID/numa_maps)
note "numa_maps: $nm"
k0=$(echo "$nm" | sed -n 's/.* N0=\([0-9]*\).*/\1/p') k1=$(echo "$nm" | sed -n 's/.* N1=\([0-9]*\).*/\1/p')
swap_kb=$(awk -v s="$hex-" 'index($0, s) == 1 {f = 1; next} f && /^Swap:/ {print $2; exit}' /proc/$WL_PID/smaps)
r0=$(( $(jnode $WL_REPORT hot 0) + $(jnode $WL_REPORT cold 0) ))
r1=$(( $(jnode $WL_REPORT hot 1) + $(jnode $WL_REPORT cold 1) ))
rs=$(( $(jpart $WL_REPORT hot swapped) + $(jpart $WL_REPORT cold swapped) ))
note "kernel: N0=${k0:-0} N1=${k1:-0} swap=$((swap_kb / 4)) pages; report: node0=$r0 node1=$r1 swapped=$rs"
wl_stop
[ "${k0:-0}" = $r0 ] || fail "node 0: numa_maps $k0, report $r0"
[ "${k1:-0}" = $r1 ] || fail "node 1: numa_maps $k1, report $r1"
[ $((swap_kb / 4)) = $rs ] || fail "swapped: smaps $((swap_kb / 4)), report $rs"
[ $rs -gt 0 ] && [ $r1 -gt 0 ] || fail "nothing moved or swapped"
pass "report matches numa_maps and smaps (node0=$r0 node1=$r1 swapped=$rs)"
