#!/bin/sh
# The guest sees the NUMA topology the rig was asked for: $1 nodes, of which
# $2 have no CPUs (slow memory).
. /rig/guest-lib.sh
want=$1 want_cpuless=${2:-0}
online=$(cat /sys/devices/system/node/online)
n=0 cpuless=0
for d in /sys/devices/system/node/node[0-9]*; do
	n=$((n + 1))
	cpus=$(cat $d/cpulist)
	mem=$(sed -n 's/.*MemTotal: *\([0-9]*\) kB/\1/p' $d/meminfo)
	[ -n "$cpus" ] || cpuless=$((cpuless + 1))
	note "$(basename $d): cpus=[${cpus}] MemTotal=${mem} kB distance=$(cat $d/distance)"
done
note "online=$online"
[ $n = "$want" ] || fail "$n nodes visible, want $want"
[ $cpuless = "$want_cpuless" ] || fail "$cpuless CPU-less nodes, want $want_cpuless"
pass "$n nodes visible, $cpuless without CPUs"
