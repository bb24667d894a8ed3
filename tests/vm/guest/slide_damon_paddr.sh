#!/bin/sh
# slide_damon_paddr.sh [SIZE_MIB]: etmemd's slide engine with
# access_tracker=damon_paddr: the workload (10% hot) runs in its own cgroup v2
# memory cgroup; etmemd drives a kdamond (paddr context over System RAM, a
# pageout scheme with a memcg filter and a young filter). At least 95 % of the
# idle pages must go to zram and at most 2 % of the hot pages, every page's
# content survives, `project show` names the backend, `project stop` turns
# etmemd's kdamond off, and after a restart etmemd's exit (with the project
# running) leaves no kdamond running; after a SIGKILL of etmemd the kdamond
# runs on, and the next etmemd's start turns it off from its journal. A
# bystander workload in a sibling memory cgroup (all of it idle but for a
# slow trickle) must keep every page: the memcg filter's proof.
. /rig/guest-lib.sh
. /rig/bin/slide_lib.sh
size=${1:-64} min_cold=95 max_hot=2
ROOT=/sys/fs/cgroup CG=/sys/fs/cgroup/etm-paddr BY=/sys/fs/cgroup/etm-paddr-bystander
A=/sys/kernel/mm/damon/admin/kdamonds
grep -q zram0 /proc/swaps || skip "no zram swap (rig --zram 0?)"
[ -e $A/nr_kdamonds ] || skip "no DAMON sysfs ($A)"
grep -qw memory $ROOT/cgroup.controllers 2>/dev/null || skip "no cgroup v2 memory controller in $ROOT"
grep -qw memory $ROOT/cgroup.subtree_control || echo +memory >$ROOT/cgroup.subtree_control ||
	skip "cannot enable +memory in $ROOT/cgroup.subtree_control"
# The rig starts no kdamond; one running here would make the kernel refuse ours.
nk0=$(cat $A/nr_kdamonds)
i=0
while [ $i -lt "$nk0" ]; do
	[ "$(cat $A/$i/state)" = on ] && skip "kdamond $i already runs (the kernel refuses a second)"
	i=$((i + 1))
done
mkdir -p $CG $BY || fail "mkdir $CG $BY"
cleanup() { rmdir $CG $BY 2>/dev/null; }
trap cleanup EXIT
etmd_start
# the bystander, with its own workload files (guest-lib's wl_* use WL_*)
WL_OUT=/tmp/by.out WL_READY=/tmp/by.ready WL_REPORT=/tmp/by.report
wl_start --size 32 --hot-frac 0.1 --rate 1000 --seed 2 --cpu 1 --cgroup $BY
BY_PID=$WL_PID
WL_OUT=/tmp/wl.out WL_READY=/tmp/wl.ready WL_REPORT=/tmp/wl.report
wl_start --size $size --hot-frac 0.1 --pattern seq --cpu 0 --cgroup $CG
grep -q "^0::/etm-paddr\$" /proc/$WL_PID/cgroup || fail "workload not in $CG: $(cat /proc/$WL_PID/cgroup)"
tlb_noise 0 # see guest-lib.sh: the young filter clears young bits without a TLB flush
slide_conf /tmp/slide.conf paddr task $WL_PID damon_paddr
proj_add /tmp/slide.conf paddr
wait_cold $min_cold 60
# Two more apply intervals: a hot page wrongly graded cold would go out now.
sleep 5
wl_swapped
WL_PID0=$WL_PID WL_PID=$BY_PID WL_REPORT=/tmp/by.report
wl_report
BYS=$(($(jpart $WL_REPORT hot swapped) + $(jpart $WL_REPORT cold swapped)))
BYN=$(($(jpart $WL_REPORT hot pages) + $(jpart $WL_REPORT cold pages)))
WL_PID=$WL_PID0 WL_REPORT=/tmp/wl.report
$ETM project show -n paddr -s $SOCK >/tmp/show.out 2>&1
sed 's/^/    show: /' /tmp/show.out
nk=$(cat $A/nr_kdamonds)
note "DAMON: nr_kdamonds $nk0 -> $nk; $(i=0; while [ $i -lt "$nk" ]; do
	printf 'kdamond %s: state %s ops %s schemes %s; ' $i "$(cat $A/$i/state)" \
		"$(cat $A/$i/contexts/0/operations 2>/dev/null)" "$(cat $A/$i/contexts/0/schemes/nr_schemes 2>/dev/null)"
	i=$((i + 1)); done)"
S=$A/$nk0/contexts/0/schemes/0 F=ops_filters
[ -d $S/$F ] || F=filters # kernels before 6.15
[ -d $S ] && note "scheme: action $(cat $S/action) apply_interval_us $(cat $S/apply_interval_us) $F: $(cat $S/$F/nr_filters) memcg_path '$(cat $S/$F/0/memcg_path)'; stats: nr_tried $(cat $S/stats/nr_tried) sz_applied $(cat $S/stats/sz_applied)"
grep -i "damon\|paddr" $ETMD_LOG | tail -n 5 | sed 's/^/    etmemd: /'
# project stop: etmemd's kdamond (slot nk0) is off, or its slot is gone (the kernel
# only shrinks nr_kdamonds when no kdamond runs, so gone means off too)
$ETM project stop -n paddr -s $SOCK || fail "project stop refused"
nk1=$(cat $A/nr_kdamonds)
st1=gone
[ "$nk1" -gt "$nk0" ] && st1=$(cat $A/$nk0/state)
note "after project stop: nr_kdamonds $nk1, etmemd's kdamond: $st1"
# Start it again and let etmemd exit while it runs: the shutdown must turn it off too.
$ETM project start -n paddr -s $SOCK || fail "project restart refused"
i=0
until [ "$(cat $A/$nk0/state 2>/dev/null)" = on ]; do
	i=$((i + 1)); [ $i -lt 50 ] || { etmd_log_tail; fail "restarted project: no kdamond on after 5 s"; }
	sleep 0.1
done
note "project restarted: kdamond $nk0 $(cat $A/$nk0/state)"
# A crash (SIGKILL) leaves the kdamond running; its journal record tells the
# next etmemd, which turns it off and empties its slot at start-up.
kill -KILL $ETMD_PID
wait $ETMD_PID 2>/dev/null
st_kill=$(cat $A/$nk0/state 2>/dev/null || echo gone)
rec_kill=$(cat /run/etmemd/kdamond-$nk0 2>/dev/null | tr '\n' ' ')
etmd_start
st_restart=$(cat $A/$nk0/state 2>/dev/null || echo gone)
note "after SIGKILL: kdamond $nk0 $st_kill, record '${rec_kill:-none}'; after the next start: $st_restart"
grep "kdamond.*dead\|died" $ETMD_LOG | sed 's/^/    etmemd: /'
[ "$st_kill" = on ] || fail "kdamond $nk0 is '$st_kill' right after etmemd was killed (want on: nothing to recover)"
[ -n "$rec_kill" ] || fail "no journal record /run/etmemd/kdamond-$nk0 while etmemd's kdamond ran"
[ "$st_restart" = off ] || [ "$st_restart" = gone ] ||
	fail "the next etmemd left the dead one's kdamond $nk0 '$st_restart'"
grep -q "DAMON kdamond $nk0 was left running by etmemd pid .*, which died" $ETMD_LOG ||
	fail "the next etmemd did not log the release: $(etmd_log_tail)"
[ ! -e /run/etmemd/kdamond-$nk0 ] || fail "the dead etmemd's record is still there after the release"
tlb_noise_stop
wl_stop
WL_PID=$BY_PID WL_OUT=/tmp/by.out
wl_stop
etmd_stop
nk2=$(cat $A/nr_kdamonds)
on2=""
i=0
while [ $i -lt "$nk2" ]; do
	[ "$(cat $A/$i/state)" = on ] && on2="$on2 $i"
	i=$((i + 1))
done
note "after etmemd exits: nr_kdamonds $nk2, running:${on2:- none}"
cp=$(pct $CS $CN) hp=$(pct $HS $HN)
note "damon_paddr (${size} MiB): cold swapped $CS/$CN = $cp %, hot swapped $HS/$HN = $hp % (within $WAIT_MS ms)"
note "bystander in $BY: $BYS/$BYN pages swapped out"
grep -q "backend: damon_paddr" /tmp/show.out || fail "project show does not report backend damon_paddr"
grep -q "last error" /tmp/show.out && fail "project show reports an error: $(grep 'last error' /tmp/show.out)"
[ "$nk" -gt "$nk0" ] || fail "etmemd created no kdamond (nr_kdamonds $nk0 -> $nk)"
[ "$st1" = off ] || [ "$st1" = gone ] || fail "etmemd's kdamond is '$st1' after project stop (want off)"
[ -z "$on2" ] || fail "kdamond(s)$on2 still running after etmemd exited"
[ "$BYS" = 0 ] || fail "the memcg filter let $BYS pages of the bystander (another memory cgroup) go out"
at_least $CS $CN $min_cold || { etmd_log_tail; fail "damon_paddr: only $cp % of idle pages swapped out (want >= $min_cold %)"; }
[ $((HS * 100)) -le $((HN * max_hot)) ] || { etmd_log_tail; fail "damon_paddr: $hp % of hot pages swapped out (want <= $max_hot %)"; }
pass "slide/damon_paddr (cgroup v2, $size MiB): $cp % of idle pages out (>= $min_cold), $hp % of hot pages (<= $max_hot), content intact, bystander memcg untouched, kdamond off after stop, after exit and after a crash + restart"
