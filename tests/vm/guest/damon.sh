#!/bin/sh
# DAMON vaddr monitors the workload: after a few seconds, the regions DAMON
# reports as accessed lie in the workload's hot range, the cold range reads
# as not accessed.
. /rig/guest-lib.sh
A=/sys/kernel/mm/damon/admin
[ -d $A ] || skip "no DAMON sysfs"
wl_start --size 64 --hot-frac 0.1 --pattern seq --cpu 0 --name wl-damon
tlb_noise 0
echo 1 >$A/kdamonds/nr_kdamonds
K=$A/kdamonds/0
echo 1 >$K/contexts/nr_contexts
C=$K/contexts/0
echo vaddr >$C/operations || skip "DAMON has no vaddr operations"
echo 5000 >$C/monitoring_attrs/intervals/sample_us
echo 100000 >$C/monitoring_attrs/intervals/aggr_us
echo 1000000 >$C/monitoring_attrs/intervals/update_us
echo 10 >$C/monitoring_attrs/nr_regions/min
echo 1000 >$C/monitoring_attrs/nr_regions/max
echo 1 >$C/targets/nr_targets
echo $WL_PID >$C/targets/0/pid_target
# A "stat" scheme matching everything: its tried_regions are DAMON's view.
echo 1 >$C/schemes/nr_schemes
S=$C/schemes/0
echo stat >$S/action
echo 18446744073709551615 >$S/access_pattern/sz/max
echo 4294967295 >$S/access_pattern/nr_accesses/max
echo 4294967295 >$S/access_pattern/age/max
echo on >$K/state || fail "kdamond did not start"
note "kdamond pid $(cat $K/pid) monitoring pid $WL_PID (vaddr)"
sleep 8
echo update_schemes_tried_regions >$K/state
start=$(printf '%d' $WL_ADDR) end=$((start + WL_LEN)) hot_end=$((start + WL_HOT * PAGE))
hot_acc=0 cold_acc=0 nreg=0
for r in $S/tried_regions/[0-9]*; do
	s=$(cat $r/start) e=$(cat $r/end) a=$(cat $r/nr_accesses)
	[ $e -le $start ] || [ $s -ge $end ] && continue
	nreg=$((nreg + 1))
	[ $a -gt 0 ] || continue
	[ $s -lt $start ] && s=$start
	[ $e -gt $end ] && e=$end
	# split the accessed region at hot_end
	if [ $s -lt $hot_end ]; then
		he=$e; [ $he -gt $hot_end ] && he=$hot_end
		hot_acc=$((hot_acc + he - s))
	fi
	if [ $e -gt $hot_end ]; then
		cs=$s; [ $cs -lt $hot_end ] && cs=$hot_end
		cold_acc=$((cold_acc + e - cs))
	fi
done
echo off >$K/state
echo 0 >$A/kdamonds/nr_kdamonds
hot_b=$((WL_HOT * PAGE)) cold_b=$((WL_LEN - WL_HOT * PAGE))
note "$nreg DAMON regions over the buffer; accessed: $((hot_acc >> 10)) of $((hot_b >> 10)) KiB hot," \
	"$((cold_acc >> 10)) of $((cold_b >> 10)) KiB cold"
tlb_noise_stop
wl_stop
at_least $hot_acc $hot_b 80 || fail "DAMON saw only $hot_acc of $hot_b hot bytes accessed"
[ $((cold_acc * 100)) -le $((cold_b * 5)) ] || fail "DAMON saw $cold_acc of $cold_b cold bytes accessed"
pass "DAMON vaddr: hot range accessed, cold range idle"
