#!/bin/sh
# bench_cslide.sh SIZE_MIB HOT_FRAC LIMIT_S [ROUNDS [migrate]]: the cslide benchmark in a 3-node
# rig guest (bench/cslide-in-vm.sh runs it and keeps the JSON lines). The
# workload starts the wrong way round (hot part on the slow node 2, cold part
# on the fast node 0); each contender must bring the hot part up:
#   cslide            etmemd, pairs from the kernel's tiers
#   numa_balancing_2  the kernel's memory tiering mode (promotion on hinting faults)
#   damos_migrate     DAMON paddr with migrate_hot (slow node) and migrate_cold (fast node) schemes
# and the moves themselves: the move_pages action against bare move_pages(2)
# on the same pages, ROUNDS (default 7) interleaved rounds, the order of
# the two swapped every round (a busy host's slow spell then hits both);
# "migrate" runs that part only. Every measurement is a line "BENCH-JSON {...}".
. /rig/guest-lib.sh
. /rig/bin/slide_lib.sh
size=${1:-64} hot=${2:-0.25} limit=${3:-60} rounds=${4:-7} parts=${5:-all}
FAST=0 SLOW=2
[ $RIG_NODES -ge 3 ] || skip "the benchmark needs a slow node (rig --nodes 3)"
NT=etmem-numatool-static
HZ=100 # USER_HZ

out() { echo "BENCH-JSON $*"; }
# rate: accesses per second over 3 s of the running workload
rate() {
	wl_report; a0=$(jget $WL_REPORT accesses) e0=$(jget $WL_REPORT elapsed_s)
	sleep 3
	wl_report; a1=$(jget $WL_REPORT accesses) e1=$(jget $WL_REPORT elapsed_s)
	awk -v a="$((a1 - a0))" -v e0="$e0" -v e1="$e1" 'BEGIN { printf "%.0f", a / (e1 - e0) }'
}
# hot_pct: the hot part's share on the fast node now
hot_pct() {
	wl_report
	pct "$(jnode $WL_REPORT hot $FAST)" "$(jpart $WL_REPORT hot pages)"
}
# converge NAME: poll until 95 % of the hot part is on the fast node; T95 (s, or "null"), a timeline
converge() {
	t0=$(uptime_ms) T95=null TL=""
	while [ $(($(uptime_ms) - t0)) -lt $((limit * 1000)) ]; do
		p=$(hot_pct) t=$(($(uptime_ms) - t0))
		TL="$TL${TL:+,}[$(awk -v t=$t 'BEGIN { printf "%.1f", t / 1000 }'),$p]"
		if awk -v p=$p 'BEGIN { exit !(p >= 95) }'; then
			T95=$(awk -v t=$t 'BEGIN { printf "%.1f", t / 1000 }')
			break
		fi
		sleep 0.5
	done
}
# cpu_ticks PID: utime + stime
cpu_ticks() { awk '{ print $14 + $15 }' /proc/$1/stat; }
wrong_way() { wl_start --size $size --hot-frac $hot --backing anon --hot-node $SLOW --cold-node $FAST --pattern seq --cpu 0; }
# result NAME RATE_DRAM CPU_PCT: the contender's lines
result() {
	r=$(rate)
	cold=$(pct "$(jnode $WL_REPORT cold $SLOW)" "$(jpart $WL_REPORT cold pages)")
	out "{\"bench\":\"cslide_tiering\",\"contender\":\"$1\",\"size_mib\":$size,\"seconds_to_95pct_hot_on_fast\":$T95,\"cold_on_slow_pct\":$cold,\"throughput_ratio_to_dram\":$(awk -v r=$r -v d=$2 'BEGIN { printf "%.3f", r / d }'),\"daemon_cpu_pct\":$3,\"hot_on_fast_pct_over_time\":[$TL]}"
}

# the three contenders, each from the wrong placement
contenders() {
	tlb_noise 0 # see guest-lib.sh: without context switches QEMU's TLB hides the hot accesses

	# all-DRAM reference
	wl_start --size $size --hot-frac $hot --backing anon --hot-node $FAST --cold-node $FAST --pattern seq --cpu 0
	DRAM=$(rate)
	wl_stop
	out "{\"bench\":\"cslide_tiering\",\"contender\":\"all_dram\",\"size_mib\":$size,\"accesses_per_s\":$DRAM}"

	# cslide
	etmd_start
	wrong_way
	cat >/tmp/b.conf <<-CONF
	[project]
	name=b
	scan_type=page
	loop=1
	interval=1
	sleep=1
	[engine]
	name=cslide
	project=b
	hot_threshold=1
	node_mig_quota=1024
	node_hot_reserve=4096
	[task]
	project=b
	engine=cslide
	name=w
	type=pid
	value=$WL_PID
	CONF
	chmod 0600 /tmp/b.conf
	c0=$(cpu_ticks $ETMD_PID) t0=$(uptime_ms)
	proj_add /tmp/b.conf b
	converge
	result cslide $DRAM "$(awk -v c=$(($(cpu_ticks $ETMD_PID) - c0)) -v t=$(($(uptime_ms) - t0)) -v hz=$HZ 'BEGIN { printf "%.1f", 100 * c / hz / (t / 1000) }')"
	proj_del /tmp/b.conf b
	wl_stop
	etmd_stop

	# numa_balancing=2 (memory tiering mode)
	if [ -e /proc/sys/kernel/numa_balancing ]; then
		nb=$(cat /proc/sys/kernel/numa_balancing)
		wrong_way
		if echo 2 >/proc/sys/kernel/numa_balancing 2>/dev/null; then
			converge
			result numa_balancing_2 $DRAM null
			echo $nb >/proc/sys/kernel/numa_balancing
		else
			note "numa_balancing=2 refused by this kernel"
		fi
		wl_stop
	fi

	# DAMOS migrate_hot / migrate_cold on the physical ranges of the two nodes
	A=/sys/kernel/mm/damon/admin
	# node_range NODE: "start end" in bytes of the node's zones (zoneinfo start_pfn + spanned)
	node_range() {
		awk -v n="Node $1," '$0 ~ "^" n { z = 1; next } /^Node / { z = 0 }
			z && $1 == "spanned" { sp = $2 } z && $1 == "start_pfn:" { if (sp > 0) { s = $2; e = $2 + sp; if (!lo || s < lo) lo = s; if (e > hi) hi = e } }
			END { if (hi) printf "%d %d\n", lo * 4096, hi * 4096 }' /proc/zoneinfo
	}
	damos() {
		[ -d $A ] || return 1
		set -- $(node_range $FAST) $(node_range $SLOW)
		[ $# -eq 4 ] || return 1
		echo 1 >$A/kdamonds/nr_kdamonds && K=$A/kdamonds/0 && echo 1 >$K/contexts/nr_contexts || return 1
		C=$K/contexts/0
		echo paddr >$C/operations || return 1
		echo 5000 >$C/monitoring_attrs/intervals/sample_us
		echo 100000 >$C/monitoring_attrs/intervals/aggr_us
		echo 1 >$C/targets/nr_targets
		echo 2 >$C/targets/0/regions/nr_regions
		echo $1 >$C/targets/0/regions/0/start && echo $2 >$C/targets/0/regions/0/end
		echo $3 >$C/targets/0/regions/1/start && echo $4 >$C/targets/0/regions/1/end
		echo 2 >$C/schemes/nr_schemes
		S=$C/schemes/0 # accessed memory to the fast node
		echo migrate_hot >$S/action 2>/dev/null || return 1
		echo $FAST >$S/target_nid
		echo 18446744073709551615 >$S/access_pattern/sz/max
		echo 1 >$S/access_pattern/nr_accesses/min
		echo 4294967295 >$S/access_pattern/nr_accesses/max
		echo 4294967295 >$S/access_pattern/age/max
		S=$C/schemes/1 # memory idle for 2 s to the slow node
		echo migrate_cold >$S/action || return 1
		echo $SLOW >$S/target_nid
		echo 18446744073709551615 >$S/access_pattern/sz/max
		echo 0 >$S/access_pattern/nr_accesses/max
		echo 20 >$S/access_pattern/age/min
		echo 4294967295 >$S/access_pattern/age/max
		echo on >$K/state
	}
	wrong_way
	if damos; then
		kd=$(cat $A/kdamonds/0/pid)
		c0=$(cpu_ticks $kd) t0=$(uptime_ms)
		converge
		result damos_migrate $DRAM "$(awk -v c=$(($(cpu_ticks $kd) - c0)) -v t=$(($(uptime_ms) - t0)) -v hz=$HZ 'BEGIN { printf "%.1f", 100 * c / hz / (t / 1000) }')"
		echo off >$A/kdamonds/0/state
		echo 0 >$A/kdamonds/nr_kdamonds
	else
		note "DAMOS migrate_hot/migrate_cold not available here"
		[ -d $A/kdamonds/0 ] && { echo off >$A/kdamonds/0/state; echo 0 >$A/kdamonds/nr_kdamonds; } 2>/dev/null
	fi
	wl_stop
	tlb_noise_stop || true # the killed loop's status
}

[ "$parts" = migrate ] || contenders

# migrate throughput: the same pages back and forth, the action and bare move_pages(2) in turn
wl_start --size $size --hot-frac 0.01 --backing anon --hot-node $FAST --cold-node $FAST --pattern seq --cpu 0
# a warm-up round, not recorded: the first pages the guest puts on the slow node are faulted in by
# QEMU on the host, a cost the first path measured would carry alone (0.5 of the other in round 1)
$NT raw $WL_PID $WL_ADDR $WL_LEN $SLOW 4k >/dev/null && $NT raw $WL_PID $WL_ADDR $WL_LEN $FAST 4k >/dev/null
# the workload stopped while its pages move: its accesses on the other vCPU would make every move
# wait on TLB-flush IPIs, which TCG serves slowly and unevenly (moves 5x slower, twice the spread)
kill -STOP $WL_PID
for round in $(seq 1 $rounds); do
	order="act raw"
	[ $((round % 2)) = 0 ] && order="raw act"
	for how in $order; do
		for node in $SLOW $FAST; do
			l=$($NT $how $WL_PID $WL_ADDR $WL_LEN $node 4k)
			b=$(echo "$l" | sed -n 's/.*bytes=\([0-9]*\).*/\1/p') s=$(echo "$l" | sed -n 's/.*secs=\([0-9.]*\).*/\1/p')
			out "{\"bench\":\"cslide_migrate\",\"path\":\"$how\",\"round\":$round,\"to_node\":$node,\"bytes\":$b,\"seconds\":$s,\"mib_per_s\":$(awk -v b=$b -v s=$s 'BEGIN { printf "%.1f", (s > 0) ? b / 1048576 / s : 0 }')}"
		done
	done
done
kill -CONT $WL_PID
wl_stop
exit 0
