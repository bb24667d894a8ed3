#!/bin/sh
# cslide's kernel helpers on a real kernel, before the engine sits on them
# (3-node HMAT guest: DRAM 0-1, slow node 2). numa_node reads the nodes and
# pairs them by memory tier; the workload places its cold part on the fast
# node and its hot part on the slow one (what cslide has to undo); numa_move
# finds each page's node, moves the hot part up within a quota, then the
# rest, then the cold part down, for 4 KiB pages, THP (units from
# numa_units) and hugetlb. /proc/PID/numa_maps must agree, the workload's
# content must be intact.
. /rig/guest-lib.sh
NT=etmem-numatool-static
MB2=2097152

kv() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# nm_bytes PID ADDR NODE: bytes numa_maps counts on NODE for the VMA at ADDR
nm_bytes() {
	awk -v a="$(printf '%x' "$2")" -v k="N$3=" '$1 == a {
		n = 0; kb = 4
		for (i = 3; i <= NF; i++) {
			if (index($i, k) == 1) n = substr($i, length(k) + 1)
			if (index($i, "kernelpagesize_kB=") == 1) kb = substr($i, 19)
		}
		print n * kb * 1024; exit }' /proc/$1/numa_maps
}

pool() { echo "$2" >/sys/devices/system/node/node$1/hugepages/hugepages-2048kB/nr_hugepages; }

out=$($NT topo) || fail "topo: $out"
echo "$out" | sed 's/^/  /'
echo "$out" | grep -qx 'nodes=3' || fail "want 3 memory nodes"
echo "$out" | grep -qx 'need_two=ok' || fail "need_two"
echo "$out" | grep -q '^node=2 cpu=0 ' || fail "node 2 should be CPU-less"
echo "$out" | grep -qx 'pairs=0:2,1:2' || fail "tier pairs: want 0:2,1:2 (both DRAM nodes demote to node 2)"

# hugetlb: a pool short on the hot node is refused before anything is touched
pool 0 16
pool 2 0
rc=0
$WL --size 16 --hot-frac 0.25 --backing hugetlb --hot-node 2 --cold-node 0 --duration 0.1 >/tmp/short 2>&1 || rc=$?
[ $rc = 3 ] && grep -q "hugetlb needs 2 free 2 MiB pages on node 2, it has 0" /tmp/short ||
	fail "short pool on node 2: exit $rc: $(cat /tmp/short)"
note "short pool: $(grep -m1 needs /tmp/short)"
pool 0 10
pool 2 10

# run BACKING UNIT
run() {
	b=$1 u=$2
	wl_start --size 16 --hot-frac 0.25 --backing "$b" --hot-node 2 --cold-node 0 --op write --cpu 0
	hotb=$((WL_HOT * PAGE)) coldb=$(((WL_PAGES - WL_HOT) * PAGE))
	wl_report
	[ "$(jnode $WL_REPORT hot 2)" = "$WL_HOT" ] && [ "$(jnode $WL_REPORT cold 0)" = $((WL_PAGES - WL_HOT)) ] ||
		fail "$b: not placed hot on 2 / cold on 0: $(cat $WL_REPORT)"
	q=$($NT query $WL_PID $WL_ADDR $WL_LEN) || fail "$b: query: $q"
	[ "$(kv "$q" node0)" = $coldb ] && [ "$(kv "$q" node2)" = $hotb ] || fail "$b: query says $q"
	note "$b: placed cold $coldb B on node 0, hot $hotb B on node 2; query agrees"
	if [ "$b" = thp ]; then
		ahp=$(awk -v s="$(printf '%x' $WL_ADDR)-" 'index($0, s) == 1 {f = 1} f && /^AnonHugePages:/ {print $2; exit}' \
			/proc/$WL_PID/smaps)
		[ "$ahp" = $((WL_LEN / 1024)) ] || fail "thp: the kernel gave $ahp kB of THP for $WL_LEN bytes"
	fi

	# the quota: 2 MiB of the hot part, no more
	out=$($NT move $WL_PID $WL_ADDR $hotb 0 $MB2 "$u") || fail "$b: move with quota: $out"
	[ "$(kv "$out" moved_bytes)" = $MB2 ] && [ "$(kv "$out" over_budget_bytes)" = $((hotb - MB2)) ] ||
		fail "$b: quota 2 MiB: $out"
	wl_report
	[ "$(jnode $WL_REPORT hot 0)" = 512 ] || fail "$b: after the 2 MiB quota $(jnode $WL_REPORT hot 0) hot pages on node 0"
	note "$b: quota 2 MiB: $out"
	# the rest of the hot part up, then the cold part down
	out=$($NT move $WL_PID $WL_ADDR $hotb 0 0 "$u") || fail "$b: move hot: $out"
	[ "$(kv "$out" moved_bytes)" = $hotb ] || fail "$b: hot part: $out"
	out=$($NT move $WL_PID $((WL_ADDR + hotb)) $coldb 2 0 "$u") || fail "$b: move cold: $out"
	[ "$(kv "$out" moved_bytes)" = $coldb ] || fail "$b: cold part: $out"
	note "$b: cold part: $out"
	wl_report
	[ "$(jnode $WL_REPORT hot 0)" = "$WL_HOT" ] && [ "$(jnode $WL_REPORT cold 2)" = $((WL_PAGES - WL_HOT)) ] ||
		fail "$b: not hot on 0 / cold on 2 afterwards: $(cat $WL_REPORT)"
	n0=$(nm_bytes $WL_PID $WL_ADDR 0) n2=$(nm_bytes $WL_PID $WL_ADDR 2)
	[ "$n0" = $hotb ] && [ "$n2" = $coldb ] || fail "$b: numa_maps N0=$n0 N2=$n2 bytes, want $hotb $coldb"
	note "$b: numa_maps N0=$n0 N2=$n2 bytes"
	GONE_PID=$WL_PID GONE_ADDR=$WL_ADDR # wl_stop clears WL_PID
	wl_stop
}
run anon 4k
run thp thp
run hugetlb 2m

# the process gone: every unit counts as exited
out=$($NT move $GONE_PID $GONE_ADDR 8192 0 0 4k) && fail "move for an exited process succeeded: $out"
[ "$(kv "$out" exited)" = 8192 ] || fail "exited process: $out"
pool 0 0
pool 2 0
pass "numa_node, numa_move, numa_units on 4K, THP and hugetlb: placement, quota, numa_maps, content intact"
