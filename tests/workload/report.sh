#!/bin/bash
# The workload's resident/swapped/node report matches what the kernel says
# (smaps Rss/Swap of its VMA, numa_maps node counts) after paging out its cold
# part with process_madvise(MADV_PAGEOUT).
# Swap: when none is active, a temporary one is set up and ALWAYS removed
# (trap): a zram device of our own (hot_add: the machine's zram0 is never
# touched), else a swapfile (tests/host/lib.sh). Existing swap is used as is.
# Usage: report.sh ETMEM_WORKLOAD ETMEM_RIGTOOL
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../host/lib.sh"
WL=$1 RT=$2
teardown() {
	cleanup_wl
	host_swap_teardown
}
trap teardown EXIT
trap 'exit 1' INT TERM

# Serialise swap setup with other etmem tests that do the same.
exec 8>/tmp/etmem-test-swap.lock
flock -w 300 8 || fail "swap lock busy"
if [ -z "$(swapon --noheadings --show 2>/dev/null)" ]; then
	host_swap_try /var/tmp || fail "no swap could be set up (no zram device could be added, no swapfile)"
	echo "  temporary swap: ${HOST_ZRAM:+/dev/zram$HOST_ZRAM}$HOST_SWAPFILE"
else
	echo "  using the swap already active: $(awk 'NR > 1 {print $1}' /proc/swaps | tr '\n' ' ')"
fi

for layout in contiguous interleaved; do
	wl_start --size 64 --hot-frac 0.1 --layout $layout --pattern seq --rate 20000
	hot=$WL_HOT pages=$WL_PAGES
	# Page out every cold page: one iovec per cold run (rigtool does one range),
	# so for interleaved page out the whole buffer and let the hot pages fault back.
	if [ $layout = contiguous ]; then
		$RT pageout $WL_PID $((WL_ADDR + hot * 4096)) $((WL_LEN - hot * 4096)) >/dev/null
	else
		$RT pageout $WL_PID $WL_ADDR $WL_LEN >/dev/null
		sleep 0.5 # the workload touches all hot pages every ~0.1 s
	fi || fail "pageout failed"
	wl_report
	hex=$(printf '%x' $WL_ADDR)
	smaps=$(awk -v s="$hex-" 'index($0, s) == 1 {f = 1; next} f && /^[0-9a-f]+-/ {exit} f' /proc/$WL_PID/smaps)
	rss=$(echo "$smaps" | awk '/^Rss:/ {print $2 / 4}') swap=$(echo "$smaps" | awk '/^Swap:/ {print $2 / 4}')
	n0=$(grep "^$hex " /proc/$WL_PID/numa_maps | sed -n 's/.* N0=\([0-9]*\).*/\1/p')
	r_res=$(($(jpart "$WL_REPORT" hot resident) + $(jpart "$WL_REPORT" cold resident)))
	r_swp=$(($(jpart "$WL_REPORT" hot swapped) + $(jpart "$WL_REPORT" cold swapped)))
	r_node0=$(sed -n 's/.*"hot":{[^}]*"nodes":\[\([0-9]*\).*/\1/p' "$WL_REPORT")
	r_node0=$((r_node0 + $(sed -n 's/.*"cold":{[^}]*"nodes":\[\([0-9]*\).*/\1/p' "$WL_REPORT")))
	echo "  $layout: kernel Rss=$rss Swap=$swap N0=${n0:-0} pages; report resident=$r_res swapped=$r_swp node0=$r_node0" \
		"(hot swapped $(jpart "$WL_REPORT" hot swapped), cold swapped $(jpart "$WL_REPORT" cold swapped))"
	wl_finish
	[ $WL_RC = 0 ] || fail "verification after swap-in failed: $(cat "$WL_SUMMARY")"
	[ "$rss" = $r_res ] || fail "$layout: resident: smaps $rss, report $r_res"
	[ "$swap" = $r_swp ] || fail "$layout: swapped: smaps $swap, report $r_swp"
	[ "${n0:-0}" = $r_node0 ] || fail "$layout: node 0: numa_maps $n0, report $r_node0"
	[ $r_swp -ge $((pages - hot - 64)) ] || fail "$layout: only $r_swp pages swapped"
	[ "$(jpart "$WL_REPORT" hot swapped)" = 0 ] || fail "$layout: hot pages still swapped while in use"
done
pass "report matches smaps and numa_maps; content intact after swap-in"
