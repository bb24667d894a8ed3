#!/bin/bash
# --hot-node/--cold-node on this host: the arguments, and the one-node path
# (both parts on node 0, the buffer keeping the default policy, content
# intact) for anon, thp and hugetlb. The rig's cslide_numa.sh places the
# parts on different nodes for real. --defer-hot: the hot part is not
# present until SIGUSR2, then first-touched; never touched, it is left out
# of the verification (anon, hugetlb; the rig's cslide_pmu.sh hugetlb
# samples those first touches).
# hugetlb: when node 0's 2 MiB pool has too few free pages, the pool is
# grown for the test and ALWAYS put back (trap).
# Usage: place.sh ETMEM_WORKLOAD
set -u
. "$(dirname "$0")/lib.sh"
WL=$1
POOL=/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages
POOL_OLD=""
teardown() {
	cleanup_wl
	[ -n "$POOL_OLD" ] && echo "$POOL_OLD" >$POOL
}
trap teardown EXIT
trap 'exit 1' INT TERM

# expect_rc RC GREP ARGS...: the workload exits RC saying GREP.
expect_rc() {
	local want=$1 text=$2 rc=0
	shift 2
	"$WL" --size 8 --duration 0.1 "$@" >"$WORK/o" 2>&1 || rc=$?
	[ $rc = "$want" ] || fail "$*: exit $rc, want $want: $(head -3 "$WORK/o")"
	grep -q -- "$text" "$WORK/o" || fail "$*: no '$text' in: $(head -3 "$WORK/o")"
	echo "  $*: exit $rc ($(grep -m1 -- "$text" "$WORK/o"))"
}
expect_rc 2 "go together" --hot-node 0
expect_rc 2 "go together" --cold-node 0
expect_rc 2 "not with --node" --hot-node 0 --cold-node 0 --node 0
expect_rc 2 "bad value '-1'" --hot-node -1 --cold-node 0
expect_rc 2 "bad value '1x'" --hot-node 1x --cold-node 0
expect_rc 2 "bad value '64'" --hot-node 0 --cold-node 64
nodes=$(cat /sys/devices/system/node/has_memory)
absent=$(($(ls -d /sys/devices/system/node/node[0-9]* | sed 's/.*node//' | sort -n | tail -1) + 1))
expect_rc 3 "no NUMA node $absent with memory" --hot-node 0 --cold-node $absent
echo "  nodes with memory here: $nodes"

# placed: BACKING: both parts on node 0, default policy, verified.
placed() {
	wl_start --size 16 --hot-frac 0.25 --backing "$1" --hot-node 0 --cold-node 0 --op write
	wl_report
	local hot cold hex pol
	hot=$(sed -n 's/.*"hot":{[^}]*"nodes":\[\([0-9]*\).*/\1/p' "$WL_REPORT")
	cold=$(sed -n 's/.*"cold":{[^}]*"nodes":\[\([0-9]*\).*/\1/p' "$WL_REPORT")
	[ "$(jget "$WL_REPORT" hot_node)" = 0 ] && [ "$(jget "$WL_REPORT" cold_node)" = 0 ] ||
		fail "$1: report does not say hot_node/cold_node 0: $(cut -c1-300 "$WL_REPORT")"
	[ "$hot" = "$(jpart "$WL_REPORT" hot pages)" ] && [ "$cold" = "$(jpart "$WL_REPORT" cold pages)" ] ||
		fail "$1: not every page on node 0: hot $hot cold $cold"
	hex=$(printf '%x' $WL_ADDR)
	pol=$(awk -v a="$hex" '$1 == a {print $2}' /proc/$WL_PID/numa_maps)
	[ "$pol" = default ] || fail "$1: the buffer's policy is '$pol', want default (first-touch placement only)"
	wl_stop
	[ $WL_RC = 0 ] || fail "$1: verification failed: $(cat "$WL_SUMMARY")"
	echo "  $1: $hot hot + $cold cold pages on node 0, policy $pol, content intact"
}
placed anon
placed thp

free2m=$(cat /sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages)
if [ "$free2m" -lt 8 ]; then
	# Short of pages machine-wide, mmap's reservation fails first (a node's
	# own shortfall is checked in the rig, which has more than one node).
	expect_rc 3 "mmap hugetlb.*Cannot allocate memory" --size 16 --backing hugetlb --hot-node 0 --cold-node 0
	POOL_OLD=$(cat $POOL)
	echo $((POOL_OLD + 8 - free2m)) >$POOL
	[ "$(cat /sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages)" -ge 8 ] ||
		fail "could not grow node 0's 2 MiB pool to 8 free pages (memory too fragmented?)"
fi
placed hugetlb

# deferred BACKING: --defer-hot, with and without the SIGUSR2 that touches the hot part
deferred() {
	local i=0 hp
	wl_start --size 16 --hot-frac 0.25 --backing "$1" --defer-hot --op write
	wl_report
	hp=$(jpart "$WL_REPORT" hot pages)
	[ "$(jget "$WL_REPORT" hot_touched)" = false ] && [ "$(jpart "$WL_REPORT" hot not_present)" = "$hp" ] &&
		[ "$(jpart "$WL_REPORT" cold resident)" = "$(jpart "$WL_REPORT" cold pages)" ] ||
		fail "$1 --defer-hot: hot part present or cold part not before SIGUSR2: $(cut -c1-600 "$WL_REPORT")"
	kill -USR2 "$WL_PID"
	until wl_report && [ "$(jget "$WL_REPORT" hot_touched)" = true ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || fail "$1 --defer-hot: the hot part not touched 10 s after SIGUSR2"
		sleep 0.1
	done
	[ "$(jpart "$WL_REPORT" hot resident)" = "$hp" ] || fail "$1: after SIGUSR2: $(cut -c1-600 "$WL_REPORT")"
	wl_stop
	[ "$(jget "$WL_SUMMARY" verified_pages)" = "$(jget "$WL_SUMMARY" pages)" ] ||
		fail "$1: not every page verified: $(cat "$WL_SUMMARY")"
	# never touched: the cold part alone is verified, and intact
	wl_start --size 16 --hot-frac 0.25 --backing "$1" --defer-hot --op write
	wl_stop
	[ "$(jget "$WL_SUMMARY" verified_pages)" = $(($(jget "$WL_SUMMARY" pages) - hp)) ] ||
		fail "$1: hot part never touched, yet verified: $(cat "$WL_SUMMARY")"
	echo "  $1 --defer-hot: $hp hot pages absent until SIGUSR2, then resident; untouched, left out of the check"
}
deferred anon
deferred hugetlb
pass "--hot-node/--cold-node: arguments checked; one node: every part on node 0 for anon, thp, hugetlb;" \
	"--defer-hot: the hot part first touched on SIGUSR2"
