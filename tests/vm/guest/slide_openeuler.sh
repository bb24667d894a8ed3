#!/bin/sh
# slide_openeuler.sh KIND: slide with access_tracker=auto on the kernel with
# the openEuler etmem interface (rig --kernel openeuler-if); the task must
# run on idle_pages + swap_pages, and every page's content survives.
#   swap_flag  swap_flag=yes, the second half of the buffer marked with
#              madvise(MADV_SWAPFLAG): the daemon scans with VMA_SCAN_FLAG,
#              the marked half goes out, the unmarked half (with the hot set)
#              stays
#   swapcache  swapcache_high_wmark/swapcache_low_wmark: pages read back into
#              the swap cache (MADV_WILLNEED) stay there until the daemon,
#              after a swap-out, asks the kernel (RECLAIM_SWAPCACHE_ON) to
#              take the swap cache below the low watermark
. /rig/guest-lib.sh
. /rig/bin/slide_lib.sh
kind=$1
grep -q zram0 /proc/swaps || skip "no zram swap (rig --zram 0?)"
BACKEND=idle_pages+swap_pages

# meminfo KEY: value in kB
meminfo() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" /proc/meminfo; }

etmd_start
case $kind in
swap_flag)
	# hot set = first 10 %; pages 8192.. (the second half) are marked
	wl_start --size 64 --hot-frac 0.1 --pattern seq --cpu 0 --swapflag --name-from 8192
	[ "$(jget $WL_READY swapflag_set)" = true ] || fail "madvise(MADV_SWAPFLAG) refused: not the openEuler interface kernel"
	half=$((WL_LEN / 2)) marked=$(printf '0x%x' $(($(printf '%d' $WL_ADDR) + WL_LEN / 2)))
	slide_conf /tmp/flag.conf flag task $WL_PID auto swap_flag=yes
	proj_add /tmp/flag.conf flag
	want_backend flag $BACKEND
	i=0
	while :; do
		out=$(taskset -c 1 $RT nodes $WL_PID $marked $half 0 contiguous)
		ms=$(rt_part "$out" cold swapped) mn=$(rt_part "$out" cold pages)
		at_least $ms $mn 99 && break
		i=$((i + 1)); [ $i -lt 60 ] || break
		sleep 1
	done
	sleep 3 # two more cycles: an unmarked page swapped by mistake would go now
	out=$(taskset -c 1 $RT nodes $WL_PID $marked $half 0 contiguous)
	ms=$(rt_part "$out" cold swapped) mn=$(rt_part "$out" cold pages)
	out=$(taskset -c 1 $RT nodes $WL_PID $WL_ADDR $half 0 contiguous)
	us=$(rt_part "$out" cold swapped) un=$(rt_part "$out" cold pages)
	proj_show flag
	proj_del /tmp/flag.conf flag
	note "marked half: $ms/$mn swapped; unmarked half: $us/$un swapped"
	at_least $ms $mn 99 || { etmd_log_tail; fail "swap_flag=yes: only $ms of $mn marked pages swapped out"; }
	[ $us = 0 ] || { etmd_log_tail; fail "swap_flag=yes: $us unmarked pages swapped out"; }
	res="swap_flag=yes swapped $ms/$mn pages of the MADV_SWAPFLAG range and none of the rest"
	;;
swapcache)
	# 32 MiB in a 512 MiB guest (rig --node-mem 256), hot set = first
	# 10 %. Pages 40 %.. are swapped out and read back into the swap cache
	# (unmapped) before the project starts: about 4 % of RAM. The project
	# then swaps out the still resident cold pages (10-40 %) and, the swap
	# cache being above its high watermark (2 %), asks for a reclaim down
	# to the low one (1 %).
	wl_start --size 32 --hot-frac 0.1 --pattern seq --cpu 0
	from=$((WL_PAGES * 4 / 10))
	addr=$(printf '0x%x' $(($(printf '%d' $WL_ADDR) + from * PAGE)))
	len=$(((WL_PAGES - from) * PAGE))
	taskset -c 1 $RT pageout $WL_PID $addr $len >/dev/null || fail "pageout of the cold tail failed"
	taskset -c 1 $RT willneed $WL_PID $addr $len >/dev/null || fail "MADV_WILLNEED of the cold tail failed"
	total=$(meminfo MemTotal) sc=$(meminfo SwapCached) high=2 low=1
	note "swap cache $sc kB of $total kB: watermarks low $low %, high $high %"
	[ $((sc * 100)) -ge $((high * total)) ] || fail "swap cache $sc kB is below the high watermark: no test"
	# nothing else takes the swap cache down
	sleep 3
	sc=$(meminfo SwapCached)
	[ $((sc * 100)) -ge $((high * total)) ] || fail "swap cache fell to $sc kB on its own"
	slide_conf /tmp/sc.conf sc task $WL_PID auto swapcache_high_wmark=$high swapcache_low_wmark=$low
	proj_add /tmp/sc.conf sc
	want_backend sc $BACKEND
	t0=$(uptime_ms) i=0
	while :; do
		sc=$(meminfo SwapCached)
		[ $((sc * 100)) -lt $((low * total)) ] && break
		i=$((i + 1)); [ $i -lt 60 ] || break
		sleep 1
	done
	proj_show sc
	proj_del /tmp/sc.conf sc
	note "after $(($(uptime_ms) - t0)) ms: swap cache $sc kB"
	[ $((sc * 100)) -lt $((low * total)) ] ||
		{ etmd_log_tail 40; fail "swap cache still $sc kB, not below the low watermark ($low % of $total kB)"; }
	res="the swap cache fell below the low watermark ($sc kB < $low % of $total kB)"
	;;
*) fail "unknown kind $kind" ;;
esac
wl_stop
etmd_stop
pass "slide on idle_pages + swap_pages, $res; content intact"
