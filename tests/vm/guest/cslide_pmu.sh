#!/bin/sh
# cslide_pmu.sh PHASE: cslide with the PMU keys on the rig kernel, whose CPU
# model (TCG) has no PMU: the software path, pmu_event=page-faults, sampled
# by the pmu tracker. A fault is the only access a resident page never
# repeats, so the hot part must fault for real. 3 nodes: DRAM 0-1, slow 2.
# Phases:
#   swap     4 KiB pages, faulting back in from zram (below)
#   hugetlb  vm_flags=ht, 2 MiB hugetlb pages (the original's main use),
#            faulting in for the first time (further below)
#
# swap: the hot part is paged out to zram and the workload touches it back
# in.
# The workload's buffer is bound to the slow node (mbind), so every page it
# faults in lands there, and its cold part is then moved to node 0 (the
# wrong way round, as in cslide.sh). hot_threshold=4 is above loop*3 (3):
# only sampled counts reach it (a fault weighs 16); node_hot_reserve=4096
# is more than node 0 has, so no prefetch moves anything up unasked.
#  1. Before any fault is sampled: two cycles, and the hot part is still on
#     the slow node and nothing of the buffer is counted hot (the cold part
#     goes down: count 0 on the fast node).
#  2. The workload stopped, its hot part paged out (>= 95 % of it in swap),
#     continued: each touch is a swap-in fault, sampled. Then >= 95 % of the
#     hot pages on node 0 and >= 90 % of the cold ones on node 2, the hot
#     bytes at least 95 % of the hot part and at most it plus 64 pages of
#     the workload's own (stack, data): the untouched cold part is not
#     counted hot. If the sampler's counts did not reach the buckets, the hot
#     part would stay on the slow node.
#  0. Refusal: the same project without pmu_event (the CPU's memory-access
#     events, which this guest has no PMU for) does not start, and the error
#     names the event and why and suggests page-faults; etmemd stays up.
#  3. Two more cycles: the hot pages stay up (counts decay, never reset: a
#     reset would make them cold on the fast node and send them down), the
#     figures show samples counted and at least one halving
#     (cooling_interval=1000 counted samples), and every page's content is
#     intact.
#
# hugetlb: 16 2 MiB pages in the pools of node 0 and node 2 (as
# vm_cslide_hugetlb_3). hugetlb pages are never swapped, so the only faults
# they give are first touches: the workload's buffer (8 hugetlb pages) is
# bound to the slow node, its cold part (6 pages) first-touched there at
# start, its hot part (2 pages) only once the task runs (--defer-hot,
# SIGUSR2). Same keys as swap, with vm_flags=ht.
#  0. Refusal: pmu_event=major-faults with vm_flags=ht does not start (a
#     hugetlb fault is never major), the reason named.
#  1. Before the touch: two cycles; the hot part not present, nothing counted
#     hot, the cold part on the slow node; the sampler's index holds the
#     buffer's 8 huge pages and nothing else (hugetlb VMAs only, a 2 MiB page
#     is one page).
#  2. SIGUSR2: the hot part faults in on the slow node; those faults are the
#     samples (at least one per hot huge page counted). Then >= 95 % of the
#     hot pages on node 0, every cold one still on node 2, and the hot bytes
#     exactly the hot part. If the samples did not reach the buckets, the hot
#     part would stay on the slow node.
#  3. Two more cycles: kept up; every page's content intact.
. /rig/guest-lib.sh
. /rig/bin/slide_lib.sh
SLOW=2
HOT_T=4

[ $RIG_NODES -ge 3 ] || skip "cslide needs a slow node (rig --nodes 3)"
[ -e /proc/sys/kernel/perf_event_paranoid ] || skip "kernel without perf events (CONFIG_PERF_EVENTS)"
note "path: software event page-faults (perf's PERF_COUNT_SW_PAGE_FAULTS); the guest CPU has no PMU" \
	"($(ls /sys/bus/event_source/devices | tr '\n' ' '))"

conf() { # conf FILE PID [EVENT [TASK_KEY]]: EVENT "-" leaves pmu_event out
	ev=${3:-page-faults}
	cat >"$1" <<EOF
[project]
name=cs
scan_type=page
loop=1
interval=1
sleep=1
[engine]
name=cslide
project=cs
node_pair=0,$SLOW
hot_threshold=$HOT_T
node_mig_quota=1024
node_hot_reserve=4096
sample_period=1
vma_updata_rate=1
cpu_set_size=16
cooling_interval=1000
$([ "$ev" = - ] || echo "pmu_event=$ev")
[task]
project=cs
engine=cslide
name=t
type=pid
value=$2
${4:-}
EOF
	chmod 0600 "$1"
}

show() { $ETM project show -n cs -s $SOCK >/tmp/show 2>&1 || { cat /tmp/show; fail "project show"; }; }
# fig LABEL: the figure's number in the last show
fig() { sed -n "s/^ *$1: \([0-9]*\).*/\1/p" /tmp/show | head -n1; }
# hot_bytes: the last cycle's hot bytes, all nodes
hot_bytes() {
	sed -n 's/^ *hot bytes by node: [0-9]* (\([0-9,]*\)).*/\1/p' /tmp/show | tr ',' '\n' |
		awk '{ s += $1 } END { print s + 0 }'
}
# wait_cycles N: until N more cycles than now have run (40 s at most)
wait_cycles() {
	show
	c0=$(fig cycles) t0=$(uptime_ms)
	until [ "$(fig cycles)" -ge $((c0 + $1)) ]; do
		[ $(($(uptime_ms) - t0)) -lt 40000 ] || { cat /tmp/show; fail "no $1 cycles in 40 s"; }
		sleep 0.5
		show
	done
}
# nodes_now: HF HS (hot pages on 0, on SLOW) CF CS (cold pages on 0, on SLOW), HN CN
nodes_now() {
	wl_report
	HF=$(jnode $WL_REPORT hot 0) HS=$(jnode $WL_REPORT hot $SLOW)
	CF=$(jnode $WL_REPORT cold 0) CS=$(jnode $WL_REPORT cold $SLOW)
	HN=$(jpart $WL_REPORT hot pages) CN=$(jpart $WL_REPORT cold pages)
}

# refused FILE WHAT: project start fails, naming WHAT; etmemd stays up
refused() {
	$ETM obj add -f "$1" -s $SOCK || { etmd_log_tail; fail "obj add -f $1 refused"; }
	if $ETM project start -n cs -s $SOCK >/tmp/start.out 2>&1; then
		fail "$1 started"
	fi
	sed 's/^/    refusal: /' /tmp/start.out
	grep -q "$2" /tmp/start.out || fail "the refusal does not say '$2': $(cat /tmp/start.out)"
	kill -0 $ETMD_PID || fail "etmemd died"
	proj_del "$1" cs
}

swap() {
	grep -q zram0 /proc/swaps || skip "no zram swap (rig --zram 0?)"
	wl_start --size 16 --hot-frac 0.25 --backing anon --node $SLOW --pattern seq --cpu 0
	HOT_LEN=$((WL_HOT * PAGE))
	cold_addr=$(printf '0x%x' $((WL_ADDR + HOT_LEN)))
	out=$($RT move $WL_PID $cold_addr $((WL_LEN - HOT_LEN)) 0) || fail "moving the cold part to node 0: $out"
	nodes_now
	at_least "$HS" "$HN" 95 && at_least "$CF" "$CN" 95 ||
		fail "not placed: hot on $SLOW $HS/$HN, cold on 0 $CF/$CN"
	note "placed: hot part on node $SLOW ($HS/$HN), cold part on node 0 ($CF/$CN)"
	# 0. no usable event: refused at start, naming it
	conf /tmp/hw.conf $WL_PID -
	refused /tmp/hw.conf "access tracker pmu: "
	grep -q "pmu_event=page-faults" /tmp/start.out || fail "the refusal does not suggest page-faults"
	pass "without a usable event the cslide task does not start, and says why"

	conf /tmp/cs.conf $WL_PID
	proj_add /tmp/cs.conf cs
	want_backend cs "pmu+move_pages"

	# 1. nothing sampled yet
	wait_cycles 2
	nodes_now
	hb=$(hot_bytes)
	grep -E 'PMU sampling|perf events open|hot bytes' /tmp/show | sed 's/^/    /'
	grep -q "PMU sampling: page-faults \[software:page-faults\]" /tmp/show || fail "project show does not name page-faults"
	[ "$(fig 'perf events open')" -gt 0 ] || fail "no perf event open for the workload"
	at_least "$HS" "$HN" 95 || { cat /tmp/show; fail "before any fault: hot pages moved off node $SLOW ($HS/$HN left)"; }
	[ "$hb" -le $((64 * PAGE)) ] || { cat /tmp/show; fail "before any fault: $hb bytes counted hot"; }
	pass "before any sampled fault: hot part still on node $SLOW ($HS/$HN), $hb bytes counted hot"

	# 2. the hot part faults back in from zram
	kill -STOP $WL_PID
	out=$($RT pageout $WL_PID $WL_ADDR $HOT_LEN) || { kill -CONT $WL_PID; fail "pageout: $out"; }
	st=$($RT nodes $WL_PID $WL_ADDR $WL_LEN $WL_HOT contiguous)
	kill -CONT $WL_PID
	sw=$(rt_part "$st" hot swapped)
	at_least "${sw:-0}" "$WL_HOT" 95 || fail "pageout left the hot part resident: $st"
	note "paged out: $sw of $WL_HOT hot pages in swap; the workload touches them back in"
	both_placed() { nodes_now && at_least "$HF" "$HN" 95 && at_least "$CS" "$CN" 90; }
	wait_until 40 both_placed
	ms=$WAIT_MS
	show
	hb=$(hot_bytes) counted=$(fig 'PMU samples counted on a page')
	note "after $ms ms: hot on node 0 $HF/$HN, cold on node $SLOW $CS/$CN; $hb bytes hot, $counted samples counted"
	at_least "$HF" "$HN" 95 && at_least "$CS" "$CN" 90 || {
		sed 's/^/    show: /' /tmp/show
		etmd_log_tail
		fail "after $ms ms: hot on node 0 $HF/$HN (want 95 %), cold on node $SLOW $CS/$CN (want 90 %)"
}
[ "$counted" -ge $((WL_HOT * 95 / 100)) ] || fail "only $counted samples counted for $WL_HOT faulted pages"
at_least "$hb" "$HOT_LEN" 95 || fail "hot bytes $hb, want >= 95 % of $HOT_LEN"
[ "$hb" -le $((HOT_LEN + 64 * PAGE)) ] || fail "hot bytes $hb: more than the hot part ($HOT_LEN) and 64 pages"
pass "sampled faults reached the buckets: hot on node 0 $HF/$HN, cold on node $SLOW $CS/$CN within $ms ms," \
	"$hb bytes hot (hot part $HOT_LEN)"

# 3. kept up: counts decay, they are not reset
wait_cycles 2
nodes_now
grep -E 'PMU|perf events|hot bytes|cold bytes|promoted|demoted|failed' /tmp/show | sed 's/^/    /'
at_least "$HF" "$HN" 95 || fail "two cycles later only $HF/$HN hot pages on node 0: counts lost"
[ "$(fig 'PMU count halvings')" -ge 1 ] || fail "cooling_interval=1000: no halving after $counted samples"
proj_del /tmp/cs.conf cs
wl_stop
pass "cslide/pmu (page-faults, no PMU in the guest): hot part kept on node 0 ($HF/$HN) two cycles later," \
	"$(fig 'PMU count halvings') halvings, content intact"
}

HUGE_PAGE=2097152

hugetlb() {
	for n in 0 $SLOW; do
		echo 16 >/sys/devices/system/node/node$n/hugepages/hugepages-2048kB/nr_hugepages
	done
	wl_start --size 16 --hot-frac 0.25 --backing hugetlb --node $SLOW --defer-hot --pattern seq --cpu 0
	HOT_LEN=$((WL_HOT * PAGE)) units=$((WL_LEN / HUGE_PAGE))
	nodes_now
	[ "$(jpart $WL_REPORT hot not_present)" = "$HN" ] && [ "$CS" = "$CN" ] ||
		fail "not placed: the hot part touched or the cold part not all on node $SLOW: $(cat $WL_REPORT)"
	note "placed: hot part not touched yet ($HN pages), cold part on node $SLOW ($CS/$CN), $units huge pages"
	# 0. major faults only: never a hugetlb page's
	conf /tmp/maj.conf $WL_PID major-faults vm_flags=ht
	refused /tmp/maj.conf "pmu_event=major-faults: a hugetlb page's faults are never major"
	pass "pmu_event=major-faults with vm_flags=ht does not start, and says why"

	conf /tmp/cs.conf $WL_PID page-faults vm_flags=ht
	proj_add /tmp/cs.conf cs
	want_backend cs "pmu+move_pages"
	# 1. before the first touch
	wait_cycles 2
	nodes_now
	hb=$(hot_bytes) ix=$(fig 'PMU pages indexed')
	grep -E 'PMU sampling|PMU pages indexed|hot bytes' /tmp/show | sed 's/^/    /'
	[ "$ix" = "$units" ] || { cat /tmp/show; fail "the sampler indexes $ix pages, want the buffer's $units huge pages"; }
	[ "$hb" = 0 ] || { cat /tmp/show; fail "before the first touch: $hb bytes counted hot"; }
	[ "$(jpart $WL_REPORT hot not_present)" = "$HN" ] && [ "$CS" = "$CN" ] ||
		{ cat $WL_REPORT; fail "before the first touch: the buffer moved or was touched"; }
	pass "before the first touch: nothing hot, the index is the $units huge pages of the buffer"

	# 2. the first touch of the hot part: its faults are the samples
	kill -USR2 $WL_PID
	hot_placed() { nodes_now && at_least "$HF" "$HN" 95; }
	wait_until 40 hot_placed
	ms=$WAIT_MS
	show
	hb=$(hot_bytes) counted=$(fig 'PMU samples counted on a page')
	note "after $ms ms: hot on node 0 $HF/$HN, cold on node $SLOW $CS/$CN; $hb bytes hot, $counted samples counted"
	[ "$(jget $WL_REPORT hot_touched)" = true ] || fail "the workload did not touch its hot part on SIGUSR2"
	at_least "$HF" "$HN" 95 && [ "$CS" = "$CN" ] || {
		sed 's/^/    show: /' /tmp/show
		etmd_log_tail
		fail "after $ms ms: hot on node 0 $HF/$HN (want 95 %), cold on node $SLOW $CS/$CN (want all)"
	}
	[ "$counted" -ge $((HOT_LEN / HUGE_PAGE)) ] ||
		fail "$counted samples counted for $((HOT_LEN / HUGE_PAGE)) faulted huge pages"
	[ "$hb" = "$HOT_LEN" ] || fail "hot bytes $hb, want the hot part's $HOT_LEN"
	pass "first-touch faults of hugetlb pages reached the buckets: hot on node 0 $HF/$HN, cold on node" \
		"$SLOW $CS/$CN within $ms ms, $hb bytes hot = the hot part, $counted samples counted"

	# 3. kept up
	wait_cycles 2
	nodes_now
	grep -E 'PMU|perf events|hot bytes|cold bytes|promoted|demoted|failed' /tmp/show | sed 's/^/    /'
	at_least "$HF" "$HN" 95 && [ "$CS" = "$CN" ] ||
		fail "two cycles later: hot on node 0 $HF/$HN, cold on node $SLOW $CS/$CN"
	proj_del /tmp/cs.conf cs
	wl_stop
	pass "cslide/pmu hugetlb (page-faults, no PMU in the guest): hot huge pages kept on node 0 ($HF/$HN)," \
		"cold ones on node $SLOW ($CS/$CN), content intact"
}

etmd_start
for ph in "$@"; do
	case $ph in
	swap | hugetlb) $ph ;;
	*) fail "unknown phase $ph" ;;
	esac
done
etmd_stop
