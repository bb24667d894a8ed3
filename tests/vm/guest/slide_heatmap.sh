#!/bin/sh
# slide_heatmap.sh: the heatmap of a real per-page tracker. A slide task
# with access_tracker=page_idle runs over a workload whose first 40 % is
# hot (layout contiguous, every hot page read each pass; more than a third,
# so that the checker's most accessed third of regions is all hot) until its ring has
# CYCLES cycles; then `etmem engine heatmap -o` is asked for the picture and
# --json for the series. The static client here is built without cairo, so
# -o must say so, and the series is printed between markers for the host
# (tests/vm/heatmap-in-vm.sh), which draws it with etmem-heatmap and checks
# the hot range brighter than the cold one; the ranges are printed too.
. /rig/guest-lib.sh
. /rig/bin/slide_lib.sh
CYCLES=${CYCLES:-5}
[ -e /sys/kernel/mm/page_idle/bitmap ] || skip "no /sys/kernel/mm/page_idle/bitmap"
grep -q zram0 /proc/swaps || skip "no zram swap (rig --zram 0?)"
etmd_start
wl_start --size 64 --hot-frac 0.4 --layout contiguous --pattern seq --cpu 0
tlb_noise 0 # see guest-lib.sh: without context switches hot pages look idle
slide_conf /tmp/hm.conf hm task $WL_PID page_idle
proj_add /tmp/hm.conf hm
HM="engine heatmap -n hm -e slide -t task -s $SOCK"
# One line per cycle kept: the rows of table heatmap_cycles carry the mode's value.
n=0 i=0
while [ $i -lt 120 ]; do
	$ETM $HM --json >/tmp/series.json 2>/dev/null && n=$(grep -c '"mode": *"\(accesses\|residency\)"' /tmp/series.json)
	[ "$n" -ge $CYCLES ] && break
	i=$((i + 1))
	sleep 1
done
[ "$n" -ge $CYCLES ] || { proj_show hm; etmd_log_tail; fail "the ring has $n cycles after 120 s (want $CYCLES)"; }
grep -q '"mode": *"accesses"' /tmp/series.json || fail "page_idle's series is not in accesses mode"
# -o draws where the client has cairo; this static one must say it has not.
if out=$($ETM $HM -o /tmp/heatmap.png 2>&1); then
	note "the guest's client drew it: $out"
	DREW=1
else
	echo "$out" | grep -q "built without cairo" || fail "engine heatmap -o failed: $out"
	note "engine heatmap -o in the guest: $out"
	DREW=0
fi
# The series of that moment (taken after -o: the host draws this one).
$ETM $HM --json >/tmp/series.json || fail "engine heatmap --json failed"
proj_show hm
wl_swapped
proj_del /tmp/hm.conf hm
tlb_noise_stop
wl_stop
etmd_stop
hot_end=$((WL_ADDR + WL_HOT * 4096)) end=$((WL_ADDR + WL_LEN))
echo "heatmap hot range: $(printf '0x%x-0x%x' $((WL_ADDR)) $hot_end)"
echo "heatmap cold range: $(printf '0x%x-0x%x' $hot_end $end)"
echo "=== heatmap series begin ==="
cat /tmp/series.json
echo "=== heatmap series end ==="
if [ $DREW = 1 ] && command -v base64 >/dev/null; then
	echo "=== heatmap png begin ==="
	base64 /tmp/heatmap.png
	echo "=== heatmap png end ==="
fi
note "cold swapped $CS/$CN, hot swapped $HS/$HN"
pass "slide/page_idle heatmap: $n cycles in accesses mode taken from the guest"
