#!/bin/sh
# cslide.sh PHASE...: the cslide engine in a guest with a CPU-less slow node
# (3 nodes: DRAM 0-1, slow 2; 4 nodes: pairs 0->2 and 1->3, from the
# kernel's memory tiers: node_pair is left out). The workload is placed the
# wrong way round (its hot part on the slow node, its cold part on the fast
# one); cslide must undo that. Phases:
#   anon | thp | hugetlb  4 KiB pages, THP, 2 MiB hugetlb (vm_flags=ht, pools
#                on both nodes): at least 95 % of the hot pages end on the
#                fast node and 90 % of the cold ones on the slow node;
#                showtaskpages and showhostpages agree with numa_maps; every
#                page's content intact
#   quota        node_mig_quota=2, node_pair=0,SLOW: no cycle moves more than
#                2 MiB, and the moves add up to what the workload sees
#   reserve      node_hot_reserve=R: the fast node is filled beyond it; cold
#                pages leave it until at least R MiB are free again
#   pair1        (4 nodes) the second pair: hot on node 3, cold on node 1
#   damon2       DAMON vaddr, a type=name task over two hugetlb workloads: one kdamond while
#                the second joins and the first leaves (targets committed online)
#   ignhost      (openEuler interface) ign_host=yes: SCAN_IGN_HOST, only secondary-MMU accesses
#                count, so the whole workload (hot part too) leaves the fast node
# Environment: TRACKER=the access tracker the task must run on (default
# page_idle, damon_vaddr for hugetlb); NOISE=0: no tlb_noise (idle_pages).
. /rig/guest-lib.sh
. /rig/bin/slide_lib.sh
MB=1048576
SLOW=2

cs_conf() { # cs_conf FILE PID [engine:key=v | task:key=v]...
	f=$1 pid=$2
	shift 2
	ek="hot_threshold=${HOT:-1}
node_mig_quota=1024
node_hot_reserve=4096" tk=""
	for kv in "$@"; do
		case $kv in
		engine:*) ek="$ek
${kv#engine:}" ;;
		task:*) tk="$tk
${kv#task:}" ;;
		esac
	done
	case $pid in
	name:*) target="type=name
value=${pid#name:}" ;;
	*) target="type=pid
value=$pid" ;;
	esac
	cat >"$f" <<EOF
[project]
name=cs
scan_type=page
loop=${LOOP:-1}
interval=1
sleep=1
[engine]
name=cslide
project=cs
$ek
[task]
project=cs
engine=cslide
name=t
$target$tk
EOF
	chmod 0600 "$f"
}

# placed FAST SLOW: hot pages on FAST, cold on SLOW now (HF CS: their counts)
placed() {
	wl_report
	HF=$(jnode $WL_REPORT hot $1) CS=$(jnode $WL_REPORT cold $2)
	HF=${HF:-0} CS=${CS:-0} HN=$(jpart $WL_REPORT hot pages) CN=$(jpart $WL_REPORT cold pages)
	at_least "$HF" "$HN" 95 && at_least "$CS" "$CN" 90
}
# wait_placed FAST SLOW SECONDS
wait_placed() {
	wait_until $3 placed $1 $2
	note "after $WAIT_MS ms: hot on node $1 $HF/$HN, cold on node $2 $CS/$CN"
}

# nm_node PID NODE: KB numa_maps puts on NODE in the VMAs cslide places: with HUGE=1 the hugetlb
# ones (" huge "), else the anonymous ones (no "file=")
nm_node() {
	awk -v k="N$2=" -v huge="${HUGE:-0}" '
		{ h = / huge / ? 1 : 0; if (h != huge || (!h && / file=/)) next
		  n = 0; kb = 4
		  for (i = 3; i <= NF; i++) {
			if (index($i, k) == 1) n = substr($i, length(k) + 1)
			if (index($i, "kernelpagesize_kB=") == 1) kb = substr($i, 19)
		  }
		  s += n * kb }
		END { print s + 0 }' /proc/$1/numa_maps
}

# near A B: A within 1 % + 512 KB of B (one cycle's drift: the small VMAs of the workload move too)
near() { [ $(($1 > $2 ? $1 - $2 : $2 - $1)) -le $(($2 / 100 + 512)) ]; }

# show_check: showtaskpages and showhostpages columns against numa_maps (within 1 % + 512 KB: pages
# page_idle cannot see, the workload's own small allocations)
# show_match: the tables against numa_maps now; 1 with $WHY when they differ
show_match() {
	$ETM engine showtaskpages -n cs -e cslide -t t -s $SOCK >/tmp/tp 2>&1 || { cat /tmp/tp; fail "showtaskpages failed"; }
	$ETM engine showhostpages -n cs -e cslide -s $SOCK >/tmp/hp 2>&1 || { cat /tmp/hp; fail "showhostpages failed"; }
	sed 's/^/    /' /tmp/tp /tmp/hp
	grep -q "^\[.*\] task $WL_PID pages info (KB):$" /tmp/tp || fail "showtaskpages title"
	grep -Eq '^ *node +used +hot +cold$' /tmp/tp || fail "showtaskpages header"
	grep -Eq '^ *node +total +used +hot +cold$' /tmp/hp || fail "showhostpages header"
	for n in 0 $SLOW; do
		used=$(awk -v n=$n '$1 == n && NF == 4 {print $2}' /tmp/tp)
		nm=$(nm_node $WL_PID $n)
		host=$(awk -v n=$n '$1 == n && NF == 5 {print $3}' /tmp/hp)
		near "$used" "$nm" || { WHY="showtaskpages says $used KB on node $n, numa_maps $nm KB"; return 1; }
		near "$host" "$used" || { WHY="showhostpages says $host KB used on node $n, showtaskpages $used KB"; return 1; }
		note "node $n: showtaskpages $used KB, numa_maps $nm KB, showhostpages $host KB"
	done
}
show_check() {
	# The tables are the last cycle's; numa_maps is now. A cycle running in between may move a
	# unit DAMON's regions misread at their edge (cslide_policy.c): compare again after it.
	for try in 1 2 3; do
		show_match && break
		note "try $try: $WHY"
		[ $try -lt 3 ] || fail "$WHY (3 tries, 2 s apart)"
		sleep 2
	done
	# --json: the same table in bytes
	$ETM engine showhostpages -n cs -e cslide -s $SOCK --json >/tmp/hp.json 2>&1 || { cat /tmp/hp.json; fail "showhostpages --json failed"; }
	grep -q '"name": "host_pages"' /tmp/hp.json || fail "showhostpages --json: no host_pages table: $(cat /tmp/hp.json)"
	grep -q '"used_bytes": [0-9]' /tmp/hp.json || fail "showhostpages --json: no used_bytes: $(cat /tmp/hp.json)"
}

# thp_kb PID: KB of anonymous memory mapped as whole THPs
thp_kb() { awk '/^AnonHugePages:/ { s += $2 } END { print s + 0 }' /proc/$1/smaps; }

# run BACKING FAST SLOW: the workload placed wrong, cslide puts it right
run() {
	bk=$1 fast=$2 slow=$3 size=16
	extra="" LOOP=1 HOT=1
	# hugetlb on mainline is tracked by DAMON: one pass a cycle, the task's kdamond kept across
	# cycles (its regions adapt over them), hot when accessed in that pass
	[ $bk = hugetlb ] && extra="task:vm_flags=ht"
	damon=$([ "${TRACKER:-$([ $bk = hugetlb ] && echo damon_vaddr)}" = damon_vaddr ] && echo 1 || echo 0)
	wl_start --size $size --hot-frac 0.25 --backing $bk --hot-node $slow --cold-node $fast --pattern seq --cpu 0
	placed $slow $fast || fail "$bk: not placed hot on $slow / cold on $fast: $(cat $WL_REPORT)"
	thp0=$(thp_kb $WL_PID)
	[ $bk != thp ] || [ $thp0 -ge 8192 ] || fail "thp: only $thp0 KB of the workload in THPs"
	cs_conf /tmp/cs.conf $WL_PID $extra
	proj_add /tmp/cs.conf cs
	# before the first cycle (interval + loop x sleep): the reason, not a table of zeros
	out=$($ETM engine showtaskpages -n cs -e cslide -t t -s $SOCK 2>&1) && fail "showtaskpages before a cycle: $out"
	echo "$out" | grep -q "no page figures yet" || fail "showtaskpages before a cycle says: $out"
	want_backend cs "${TRACKER:-$([ $bk = hugetlb ] && echo damon_vaddr || echo page_idle)}+move_pages"
	wait_placed $fast $slow 40
	placed $fast $slow || {
		proj_show cs
		etmd_log_tail
		fail "$bk: after $WAIT_MS ms hot on node $fast $HF/$HN, cold on node $slow $CS/$CN (want 95 % / 90 %)"
	}
	# move_pages moves a THP whole: none was split on the way
	[ $bk != thp ] || [ $(thp_kb $WL_PID) -ge $thp0 ] || fail "thp: $(thp_kb $WL_PID) KB in THPs after, $thp0 KB before"
	# a cycle with nothing left to move: the show must match numa_maps now
	if [ $damon = 1 ]; then kdamond_kept 2; else sleep 2; fi
	HUGE=$([ $bk = hugetlb ] && echo 1 || echo 0) show_check
	proj_show cs | grep -E 'pairs|promoted|demoted|failed|last cycle'
	proj_del /tmp/cs.conf cs
	[ $damon = 0 ] || [ -z "$(kdamonds_on)" ] || fail "$bk: kdamond still on after the task stopped: $(kdamonds_on)"
	wl_stop
	pass "$bk (loop=1): hot on node $fast $HF/$HN, cold on node $slow $CS/$CN within $WAIT_MS ms, show = numa_maps, content intact"
}

# figure NAME: the task's figure (project show label) as a number
figure() { $ETM project show -n cs -s $SOCK | sed -n "s/^ *$1: \([0-9]*\).*/\1/p" | head -n1; }

quota() {
	wl_start --size 16 --hot-frac 0.5 --backing anon --hot-node $SLOW --cold-node 0 --pattern seq --cpu 0
	# one pair: the quota is per pair and cycle (tier pairs would be 0->2 and 1->2 here)
	cs_conf /tmp/cs.conf $WL_PID engine:node_mig_quota=2 engine:node_pair=0,$SLOW
	proj_add /tmp/cs.conf cs
	sleep 8
	cyc=$(figure cycles) pro=$(figure "bytes promoted") dem=$(figure "bytes demoted")
	most=$(figure "most bytes moved in one cycle")
	proj_show cs | grep -E 'cycles|promoted|demoted|quota'
	proj_del /tmp/cs.conf cs
	wl_report
	up=$(jnode $WL_REPORT hot 0)
	wl_stop
	[ "$cyc" -ge 2 ] || fail "quota: only $cyc cycles"
	[ "$pro" -gt 0 ] || fail "quota: nothing promoted"
	[ "$most" -le $((2 * MB)) ] || fail "quota: a cycle moved $most bytes, over the 2 MiB quota"
	[ $((pro + dem)) -le $((cyc * 2 * MB)) ] || fail "quota: $pro + $dem bytes moved in $cyc cycles, over 2 MiB each"
	# the figures are a finished cycle's: the cycle running when they were read (2 MiB at most) may
	# have moved pages by the time proj_del lets it finish
	[ $((up * PAGE)) -le $((pro + 2 * MB)) ] || fail "quota: $up hot pages on node 0, but only $pro bytes promoted"
	pass "quota 2 MiB: at most $most bytes in a cycle, $((pro + dem)) bytes moved in $cyc cycles, $up hot pages up"
}

# node_free_mb NODE
node_free_mb() { awk '/MemFree:/ {print int($4 / 1024)}' /sys/devices/system/node/node$1/meminfo; }

reserve() {
	r=64
	free0=$(node_free_mb 0)
	# the cold part fills node 0 to within 16 MiB of empty; the hot part waits on the slow node
	size=$((free0 - 16))
	wl_start --size $size --hot-frac 0.05 --backing anon --hot-node $SLOW --cold-node 0 --pattern seq --cpu 0
	note "node 0: $free0 MiB free before, $(node_free_mb 0) MiB with the workload's cold part"
	cs_conf /tmp/cs.conf $WL_PID engine:node_hot_reserve=$r
	proj_add /tmp/cs.conf cs
	reserved() { [ "$(node_free_mb 0)" -ge $r ] && placed 0 $SLOW; }
	wait_until 60 reserved
	sleep 2
	f=$(node_free_mb 0)
	wl_report
	hf=$(jnode $WL_REPORT hot 0) hn=$(jpart $WL_REPORT hot pages)
	proj_show cs | grep -E 'promoted|demoted|failed'
	proj_del /tmp/cs.conf cs
	wl_stop
	[ "$f" -ge $r ] || fail "reserve: $f MiB free on node 0, want >= $r"
	at_least "$hf" "$hn" 95 || fail "reserve: only $hf/$hn hot pages on node 0"
	pass "reserve $r MiB: $f MiB free on node 0, hot $hf/$hn there, content intact"
}

# ign_host=yes (openEuler interface): idle_pages gets SCAN_IGN_HOST and leaves the accessed bits
# of the process's own page tables alone, counting only accesses through a secondary MMU (a KVM
# guest's, kernel/0002). The workload here has none, so its hot pages, touched all along, read as
# idle like its cold ones: all of it, placed on the fast node, goes to the slow node; the same task
# with ign_host=no first moves the cold part only.
ignhost() {
	[ -e /proc/self/idle_pages ] || skip "ign_host: no /proc/PID/idle_pages (rig --kernel openeuler-if)"
	wl_start --size 16 --hot-frac 0.25 --backing anon --hot-node 0 --cold-node 0 --pattern seq --cpu 0
	placed 0 0 || fail "ign_host: not all on node 0: $(cat $WL_REPORT)"
	# the control, ign_host=no: the cold part leaves, the hot part stays
	cs_conf /tmp/cs.conf $WL_PID task:ign_host=no
	proj_add /tmp/cs.conf cs
	wait_placed 0 $SLOW 40
	sleep 3 # more cycles: a hot page read idle would leave now
	placed 0 $SLOW || fail "ign_host=no: hot on node 0 $HF/$HN, cold on node $SLOW $CS/$CN (want 95 % / 90 %)"
	proj_del /tmp/cs.conf cs
	note "ign_host=no: hot on node 0 $HF/$HN, cold on node $SLOW $CS/$CN"
	cs_conf /tmp/cs.conf $WL_PID task:ign_host=yes
	proj_add /tmp/cs.conf cs
	want_backend cs "idle_pages+move_pages"
	wait_until 40 placed $SLOW $SLOW
	ms=$WAIT_MS
	proj_show cs | grep -E 'promoted|demoted|hot|cold' | head -8
	proj_del /tmp/cs.conf cs
	wl_stop
	note "ign_host=yes after $ms ms: hot on node $SLOW $HF/$HN, cold on node $SLOW $CS/$CN"
	at_least "$HF" "$HN" 90 || fail "ign_host=yes: only $HF/$HN hot pages demoted: host accesses were counted"
	at_least "$CS" "$CN" 90 || fail "ign_host=yes: only $CS/$CN cold pages demoted"
	pass "ign_host=yes: host accesses ignored, hot pages read idle: $HF/$HN hot and $CS/$CN cold on node $SLOW in $ms ms"
}

# use_wl A|B: the guest-lib wl_* functions act on workload A or B (their own files)
use_wl() {
	[ -z "$CUR" ] || eval "PID_$CUR=\$WL_PID"
	CUR=$1 WL_OUT=/tmp/wl$1.out WL_READY=/tmp/wl$1.ready WL_REPORT=/tmp/wl$1.report
	eval "WL_PID=\${PID_$1:-}"
}

# kd_targets: nr_targets of the task's kdamond ($KD, "IDX:PID")
kd_targets() { kd_read /sys/kernel/mm/damon/admin/kdamonds/${KD%%:*}/contexts/0/targets/nr_targets; }

# damon2: a task of type=name over two processes, tracked by one DAMON kdamond that stays up while
# the second process joins (its target committed online) and the first leaves; both placed right
damon2() {
	[ -d /sys/kernel/mm/damon/admin ] || skip "damon2: no DAMON sysfs"
	for n in 0 $SLOW; do
		echo 32 >/sys/devices/system/node/node$n/hugepages/hugepages-2048kB/nr_hugepages
	done
	wl="--size 16 --hot-frac 0.25 --backing hugetlb --hot-node $SLOW --cold-node 0 --pattern seq --cpu 0"
	CUR=""
	use_wl A
	wl_start $wl
	# type=name: both workloads' comm (no other process of that name runs in the guest)
	cs_conf /tmp/cs.conf name:$(cat /proc/$WL_PID/comm) task:vm_flags=ht task:access_tracker=damon_vaddr
	proj_add /tmp/cs.conf cs
	want_backend cs "damon_vaddr+move_pages"
	wait_placed 0 $SLOW 60
	placed 0 $SLOW || { proj_show cs; etmd_log_tail; fail "damon2: A not placed: hot $HF/$HN on node 0, cold $CS/$CN on node $SLOW"; }
	KD=$(kdamonds_on)
	[ -n "$KD" ] && [ "$(kd_targets)" = 1 ] || fail "damon2: kdamond '$KD' with $(kd_targets) targets, want 1"
	use_wl B
	wl_start $wl
	# a target added online starts from DAMON's three coarse regions of its address space (a new
	# kdamond splits them into nr_regions/min first): B takes longer than A
	wait_placed 0 $SLOW 90
	placed 0 $SLOW || { proj_show cs; etmd_log_tail; fail "damon2: B not placed: hot $HF/$HN on node 0, cold $CS/$CN on node $SLOW"; }
	[ "$(kdamonds_on)" = "$KD" ] || fail "damon2: kdamond '$KD' replaced by '$(kdamonds_on)' when B joined"
	[ "$(kd_targets)" = 2 ] || fail "damon2: $(kd_targets) targets with A and B, want 2"
	note "damon2: B placed in $WAIT_MS ms, kdamond $KD with 2 targets"
	use_wl A
	# a huge page whose tail shares a DAMON region with cold ones reads idle there: the count 3/4
	# of its pages reach decides (cslide_policy.c), not the lowest
	placed 0 $SLOW || { proj_show cs; fail "damon2: A lost its placement once B joined: hot $HF/$HN, cold $CS/$CN"; }
	wl_stop
	# the next cycle resolves the name without A and commits (a cycle here: interval, two DAMON
	# windows, the moves: 3-4 s)
	one_target() { [ "$(kd_targets)" = 1 ]; }
	wait_until 15 one_target
	[ "$(kdamonds_on)" = "$KD" ] || fail "damon2: kdamond '$KD' replaced by '$(kdamonds_on)' when A left"
	[ "$(kd_targets)" = 1 ] || fail "damon2: $(kd_targets) targets 15 s after A left, want 1"
	# B's target moved into A's slot and inherited A's regions (docs/cslide.md, Limits): some of its
	# pages may be misjudged until the regions adapt again, so B is placed again, not kept
	use_wl B
	wait_placed 0 $SLOW 60
	placed 0 $SLOW || fail "damon2: B not placed again after A left: hot $HF/$HN, cold $CS/$CN"
	# etmemd exits with the task running (SIGTERM): the kdamond goes with it
	etmd_stop
	[ -z "$(kdamonds_on)" ] || fail "damon2: kdamond still on after etmemd exited: $(kdamonds_on)"
	[ "$(kd_read /sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds)" = 0 ] ||
		fail "damon2: nr_kdamonds $(kd_read /sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds) after etmemd exited"
	etmd_start
	wl_stop
	pass "damon2: one kdamond ($KD) through B joining (2 targets) and A leaving (1), both placed, content intact, gone with etmemd"
}

[ $RIG_NODES -ge 3 ] || skip "cslide needs a slow node (rig --nodes 3 or 4)"
etmd_start
[ "${NOISE:-1}" = 0 ] || tlb_noise 0 # see guest-lib.sh: without context switches hot pages look idle
for ph in "$@"; do
	case $ph in
	anon | thp) run $ph 0 $SLOW ;;
	hugetlb)
		for n in 0 $SLOW; do
			echo 16 >/sys/devices/system/node/node$n/hugepages/hugepages-2048kB/nr_hugepages
		done
		run hugetlb 0 $SLOW
		;;
	pair1) run anon 1 3 ;;
	quota) quota ;;
	ignhost) ignhost ;;
	damon2) damon2 ;;
	reserve) reserve ;;
	*) fail "unknown phase $ph" ;;
	esac
done
[ "${NOISE:-1}" = 0 ] || tlb_noise_stop
etmd_stop
