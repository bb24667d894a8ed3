#!/bin/sh
# page_idle: mark the workload's pages idle, let it run, re-read: its hot
# pages read as accessed, its cold pages as idle.
. /rig/guest-lib.sh
[ -e /sys/kernel/mm/page_idle/bitmap ] || skip "no /sys/kernel/mm/page_idle/bitmap"
layout=${1:-contiguous}
# seq: every hot page is touched within one pass; the workload uses
# MADV_NOHUGEPAGE, so each 4K page is its own folio.
wl_start --size 64 --hot-frac 0.1 --layout $layout --pattern seq --cpu 0
tlb_noise 0
sleep 1 # let the per-CPU LRU batches drain into the LRU (page_idle skips non-LRU folios)
note "$(taskset -c 1 $RT idle-mark $WL_PID $WL_ADDR $WL_LEN)"
sleep 2
out=$(taskset -c 1 $RT idle-read $WL_PID $WL_ADDR $WL_LEN $WL_HOT $WL_LAYOUT)
echo "$out" | while read l; do note "$l"; done
hot_acc=$(rt_part "$out" hot accessed) hot_n=$(rt_part "$out" hot pages)
cold_idle=$(rt_part "$out" cold idle) cold_n=$(rt_part "$out" cold pages)
tlb_noise_stop
wl_stop
at_least $hot_acc $hot_n 98 || fail "only $hot_acc of $hot_n hot pages read as accessed"
at_least $cold_idle $cold_n 98 || fail "only $cold_idle of $cold_n cold pages read as idle"
pass "page_idle ($layout): $hot_acc/$hot_n hot pages accessed, $cold_idle/$cold_n cold pages idle"
