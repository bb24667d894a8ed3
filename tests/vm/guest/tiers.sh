#!/bin/sh
# Memory tiers from HMAT: the CPU-less slow nodes sit in a lower tier than
# DRAM, and reclaim demotes each DRAM node's cold pages to its own slow node
# (node_pairs 0->2 and, with 4 nodes, 1->3). No swap: demotion is the only way out.
. /rig/guest-lib.sh
T=/sys/devices/virtual/memory_tiering
[ -d $T ] || skip "no memory tiering sysfs"
tier_of() { # node -> tier id
	for t in $T/memory_tier*; do
		for n in $(cat $t/nodelist | tr ',' ' '); do
			case $n in
			*-*) [ $1 -ge ${n%-*} ] && [ $1 -le ${n#*-} ] && { echo ${t##*memory_tier}; return; } ;;
			*) [ $1 = $n ] && { echo ${t##*memory_tier}; return; } ;;
			esac
		done
	done
}
for t in $T/memory_tier*; do note "$(basename $t): nodes $(cat $t/nodelist)"; done
slow="2" pairs="0:2"
[ "$RIG_NODES" = 4 ] && slow="2 3" pairs="0:2 1:3"
for s in $slow; do
	[ "$(tier_of $s)" -gt "$(tier_of 0)" ] || fail "node $s (tier $(tier_of $s)) not below node 0 (tier $(tier_of 0))"
done
[ "$(tier_of 0)" = "$(tier_of 1)" ] || fail "DRAM nodes 0 and 1 in different tiers"
pass "slow node(s) $slow in a lower memory tier than DRAM nodes 0-1"

echo 1 >/sys/kernel/mm/numa/demotion_enabled
CG=/sys/fs/cgroup/demote
mkdir -p $CG
for pr in $pairs; do
	src=${pr%:*} dst=${pr#*:}
	cpu=$(cut -d- -f1 /sys/devices/system/node/node$src/cpulist | cut -d, -f1)
	before=$(sed -n 's/^pgdemote_direct \([0-9]*\)/\1/p' /proc/vmstat)
	# First touch from a CPU of node $src puts the pages there (no mbind:
	# a bind policy would keep them from being demoted).
	wl_start --size 64 --hot-frac 0.1 --pattern seq --cpu $cpu --cgroup $CG
	wl_report
	on_src=$(( $(jnode $WL_REPORT hot $src) + $(jnode $WL_REPORT cold $src) ))
	note "before reclaim: $on_src of $WL_PAGES pages on node $src"
	echo 32M >$CG/memory.reclaim 2>/dev/null || note "memory.reclaim: partial ($?)"
	wl_report
	cold_dst=$(jnode $WL_REPORT cold $dst) hot_dst=$(jnode $WL_REPORT hot $dst)
	other=$(jnode $WL_REPORT cold $((5 - dst)) 2>/dev/null)
	after=$(sed -n 's/^pgdemote_direct \([0-9]*\)/\1/p' /proc/vmstat)
	note "after memory.reclaim 32M: cold on node $dst: $cold_dst, hot on node $dst: $hot_dst," \
		"cold on other slow node: ${other:-0}; pgdemote_direct +$((after - before))"
	grep pgdemote /proc/vmstat | tr '\n' ' '; echo
	at_least $cold_dst 4096 90 || fail "reclaim demoted $cold_dst cold pages to node $dst, want >= 90% of 4096"
	[ "${other:-0}" -le $((cold_dst / 10)) ] || fail "node $src demoted to the wrong slow node"
	wl_stop
done
echo 0 >/sys/kernel/mm/numa/demotion_enabled
rmdir $CG
pass "reclaim demoted cold pages along node pair(s) $pairs with content intact"
