#!/bin/sh
# slide_gate.sh KIND: each of slide's gates holds swapping back, and its
# opposite setting lets it through, on the same workload in one guest:
#   swap_threshold  RSS ~1.1 GiB: swap_threshold=2g swaps nothing over several
#                   cycles; swap_threshold=1g swaps the cold pages
#   sysmem_threshold  0 (available memory is never below 0 %) swaps nothing;
#                   100 swaps the cold pages
#   swap_flag       swap_flag=yes with only the second half of the buffer named
#                   etmem_swap (PR_SET_VMA_ANON_NAME): that half's pages go out,
#                   the unnamed first half (which holds the hot set) stays
# The tracker is page_idle; every page's content is verified at the end.
. /rig/guest-lib.sh
. /rig/bin/slide_lib.sh
kind=$1
[ -e /sys/kernel/mm/page_idle/bitmap ] || skip "no /sys/kernel/mm/page_idle/bitmap"
grep -q zram0 /proc/swaps || skip "no zram swap (rig --zram 0?)"
GATED_WAIT=4 # seconds = about three cycles (interval=1, sleep=1)

# gated NAME KEY=VALUE...: a project that must not swap anything
gated() {
	name=$1
	shift
	slide_conf /tmp/$name.conf $name task $WL_PID page_idle "$@"
	proj_add /tmp/$name.conf $name
	sleep $GATED_WAIT
	wl_swapped
	proj_show $name
	proj_del /tmp/$name.conf $name
	note "$*: after $GATED_WAIT s: cold swapped $CS/$CN, hot $HS/$HN"
	[ $((CS + HS)) = 0 ] || { etmd_log_tail; fail "$*: $((CS + HS)) pages swapped out although gated"; }
	$ETM project show -s $SOCK >/dev/null || fail "etmemd died"
}
# ungated NAME KEY=VALUE...: a project that must swap the cold pages out
ungated() {
	name=$1
	shift
	slide_conf /tmp/$name.conf $name task $WL_PID page_idle "$@"
	proj_add /tmp/$name.conf $name
	wait_cold 90 60
	proj_show $name
	proj_del /tmp/$name.conf $name
	at_least $CS $CN 90 || { etmd_log_tail; fail "$*: only $CS of $CN cold pages swapped out"; }
	[ $((HS * 100)) -le $((HN * 1)) ] || { etmd_log_tail; fail "$*: $HS of $HN hot pages swapped out"; }
}

etmd_start
case $kind in
swap_threshold)
	# swap_threshold's only unit is GiB (1g at least): RSS must exceed 1 GiB.
	wl_start --size 1088 --hot-frac 0.9 --pattern seq --cpu 0
	tlb_noise 0
	note "VmRSS $(sed -n 's/^VmRSS:[[:space:]]*//p' /proc/$WL_PID/status)"
	gated thr_hi swap_threshold=2g
	ungated thr_lo swap_threshold=1g
	res="swap_threshold=2g (> RSS) swapped nothing; swap_threshold=1g (< RSS) swapped $CS/$CN cold pages"
	;;
sysmem_threshold)
	wl_start --size 64 --hot-frac 0.1 --pattern seq --cpu 0
	tlb_noise 0
	note "$(grep -E '^Mem(Total|Available):' /proc/meminfo | tr -s ' \n' ' ')"
	gated sys0 sysmem_threshold=0
	ungated sys100 sysmem_threshold=100
	res="sysmem_threshold=0 swapped nothing; sysmem_threshold=100 swapped $CS/$CN cold pages"
	;;
swap_flag)
	# hot set = first 10 %; pages 8192.. (the second half) are named.
	wl_start --size 64 --hot-frac 0.1 --pattern seq --cpu 0 --name etmem_swap --name-from 8192
	grep -q "anon:etmem_swap" /proc/$WL_PID/maps || skip "the kernel cannot name anonymous VMAs (CONFIG_ANON_VMA_NAME)"
	tlb_noise 0
	half=$((WL_LEN / 2)) named=$(printf '0x%x' $(($(printf '%d' $WL_ADDR) + WL_LEN / 2)))
	slide_conf /tmp/flag.conf flag task $WL_PID page_idle swap_flag=yes
	proj_add /tmp/flag.conf flag
	i=0
	while :; do
		out=$(taskset -c 1 $RT nodes $WL_PID $named $half 0 contiguous)
		ns=$(rt_part "$out" cold swapped) nn=$(rt_part "$out" cold pages)
		at_least $ns $nn 90 && break
		i=$((i + 1)); [ $i -lt 60 ] || break
		sleep 1
	done
	sleep 3 # two more cycles: an unnamed page swapped by mistake would go now
	out=$(taskset -c 1 $RT nodes $WL_PID $named $half 0 contiguous)
	ns=$(rt_part "$out" cold swapped) nn=$(rt_part "$out" cold pages)
	out=$(taskset -c 1 $RT nodes $WL_PID $WL_ADDR $half 0 contiguous)
	us=$(rt_part "$out" cold swapped) un=$(rt_part "$out" cold pages)
	proj_show flag
	proj_del /tmp/flag.conf flag
	note "named half: $ns/$nn swapped; unnamed half: $us/$un swapped"
	at_least $ns $nn 90 || { etmd_log_tail; fail "swap_flag=yes: only $ns of $nn named pages swapped out"; }
	[ $us = 0 ] || { etmd_log_tail; fail "swap_flag=yes: $us unnamed pages swapped out"; }
	res="swap_flag=yes swapped $ns/$nn pages of the named range and none of the unnamed one"
	;;
*) fail "unknown gate $kind" ;;
esac
tlb_noise_stop
wl_stop
etmd_stop
pass "slide gate $kind: $res; content intact"
