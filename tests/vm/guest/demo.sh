#!/bin/sh
# demo.sh SIZE_MIB HOT_FRAC WAIT_S: the README's demo inside the rig guest,
# with the page_idle tracker. Prints progress for people and, for the host
# side (tests/vm/demo-in-vm.sh, which has python for the table), the
# workload's JSON reports as lines "DEMO-JSON <name> <json>".
. /rig/guest-lib.sh
. /rig/bin/slide_lib.sh
size=${1:-256} hot=${2:-0.1} wait_s=${3:-60}
[ -e /sys/kernel/mm/page_idle/bitmap ] || skip "no /sys/kernel/mm/page_idle/bitmap"
grep -q zram0 /proc/swaps || skip "no zram swap"
CG=/sys/fs/cgroup/etmem-demo
mkdir -p $CG
echo "demo(guest): $(uname -sr), $(grep -c ^processor /proc/cpuinfo) CPUs, $(ls -d /sys/devices/system/node/node* | wc -l) NUMA nodes," \
	"swap: $(awk 'NR > 1 {printf "%s %d MiB", $1, $3 / 1024}' /proc/swaps)"
etmd_start
wl_start --size $size --hot-frac $hot --pattern seq --cpu 0 --cgroup $CG --name etmem_demo
# Another runnable process on the workload's CPU, as on any busy server: see
# tlb_noise in guest-lib.sh (without it QEMU's TLB hides the hot accesses).
tlb_noise 0
json() { echo "DEMO-JSON $1 $(head -n1 $WL_REPORT)"; }
snapshot() {
	wl_report; json $1.a
	sleep 3
	wl_report; json $1.b
}
snapshot before
slide_conf /tmp/demo.conf demo workload $WL_PID page_idle
proj_add /tmp/demo.conf demo
echo "demo(guest): slide project started on pid $WL_PID (access_tracker=page_idle, T=1, loop=1, interval=1, sleep=1)"
t0=$(uptime_ms) deadline=$(($(uptime_ms) + wait_s * 1000))
while :; do
	sleep 1
	wl_swapped
	echo "  $((($(uptime_ms) - t0) / 1000)) s: cold pages swapped out $(pct $CS $CN) %, hot $(pct $HS $HN) %"
	at_least $CS $CN 95 && break
	[ $(uptime_ms) -lt $deadline ] || break
done
snapshot after
$ETM project show -n demo -s $SOCK
proj_del /tmp/demo.conf demo
tlb_noise_stop
kill -TERM $WL_PID
wait $WL_PID
rc=$?
echo "DEMO-JSON summary $(tail -n1 $WL_OUT)"
etmd_stop
rmdir $CG
exit $rc
