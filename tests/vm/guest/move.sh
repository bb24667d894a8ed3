#!/bin/sh
# move_pages of the workload's pages to every other node and back, content intact.
. /rig/guest-lib.sh
nn=$(ls -d /sys/devices/system/node/node[0-9]* | wc -l)
[ $nn -ge 2 ] || skip "needs 2 or more nodes"
wl_start --size 64 --hot-frac 0.1 --op write --pattern uniform --cpu 0 --node 0
check_on() { # node
	wl_report
	on=$(( $(jnode $WL_REPORT hot $1) + $(jnode $WL_REPORT cold $1) ))
	[ $on = $WL_PAGES ] || fail "$on of $WL_PAGES pages on node $1 (report: $(cat $WL_REPORT))"
	note "all $on pages on node $1"
}
check_on 0
n=1
while [ $n -lt $nn ]; do
	t0=$(uptime_ms)
	out=$($RT move $WL_PID $WL_ADDR $WL_LEN $n) || fail "move to $n: $out"
	note "$out"
	check_on $n
	out=$($RT move $WL_PID $WL_ADDR $WL_LEN 0) || fail "move back to 0: $out"
	note "$out ($(($(uptime_ms) - t0)) ms there and back, with checks)"
	check_on 0
	n=$((n + 1))
done
wl_stop
pass "moved $WL_PAGES pages (being written) to nodes 1..$((nn - 1)) and back, content intact"
