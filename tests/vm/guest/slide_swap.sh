#!/bin/sh
# slide_swap.sh TRACKER MIN_COLD_PCT MAX_HOT_PCT [LAYOUT]: etmemd's slide
# engine with access_tracker=TRACKER swaps out at least MIN_COLD_PCT % of the
# workload's idle pages and at most MAX_HOT_PCT % of its hot pages, and every
# page's content survives (the workload verifies all of them on exit).
# Environment: BACKEND=TRACKER+ACTION: the task must run on it (for
# TRACKER=auto: what the daemon picked); NOISE=0: no tlb_noise (a tracker
# that flushes the TLB itself, as idle_pages does, must not need it).
. /rig/guest-lib.sh
. /rig/bin/slide_lib.sh
tracker=$1 min_cold=$2 max_hot=$3 layout=${4:-contiguous}
case $tracker in
page_idle) [ -e /sys/kernel/mm/page_idle/bitmap ] || skip "no /sys/kernel/mm/page_idle/bitmap" ;;
damon_vaddr) [ -d /sys/kernel/mm/damon/admin ] || skip "no DAMON sysfs" ;;
esac
grep -q zram0 /proc/swaps || skip "no zram swap (rig --zram 0?)"
etmd_start
# seq: every hot page is touched within one pass (well under a second), so
# each scan window sees all of them; 64 MiB fits the guest and its zram.
wl_start --size 64 --hot-frac 0.1 --layout $layout --pattern seq --cpu 0
[ "${NOISE:-1}" = 0 ] || tlb_noise 0 # see guest-lib.sh: without context switches hot pages look idle
slide_conf /tmp/slide.conf swap task $WL_PID $tracker
proj_add /tmp/slide.conf swap
[ -z "${BACKEND:-}" ] || want_backend swap "$BACKEND"
wait_cold $min_cold 60
# Two more cycles: a hot page wrongly graded cold would go out now. DAMON: the task's one kdamond
# runs through them (not one per cycle).
if [ $tracker = damon_vaddr ]; then kdamond_kept 3; else sleep 3; fi
wl_swapped
proj_show swap
proj_del /tmp/slide.conf swap
[ $tracker != damon_vaddr ] || [ -z "$(kdamonds_on)" ] || fail "kdamond still on after the task stopped: $(kdamonds_on)"
[ "${NOISE:-1}" = 0 ] || tlb_noise_stop
wl_stop
etmd_stop
cp=$(pct $CS $CN) hp=$(pct $HS $HN)
note "$tracker ($layout): cold swapped $CS/$CN = $cp %, hot swapped $HS/$HN = $hp % (swapped within $WAIT_MS ms)"
at_least $CS $CN $min_cold || { etmd_log_tail; fail "$tracker: only $cp % of idle pages swapped out (want >= $min_cold %)"; }
[ $((HS * 100)) -le $((HN * max_hot)) ] || { etmd_log_tail; fail "$tracker: $hp % of hot pages swapped out (want <= $max_hot %)"; }
pass "slide/$tracker${BACKEND:+ = $BACKEND} ($layout): $cp % of idle pages out (>= $min_cold), $hp % of hot pages (<= $max_hot), content intact"
