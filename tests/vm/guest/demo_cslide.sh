#!/bin/sh
# demo_cslide.sh SIZE_MIB HOT_FRAC WAIT_S: the cslide demo inside the rig
# guest (3 nodes: DRAM 0 and 1, a CPU-less slow node 2 in a lower memory
# tier). The workload starts the wrong way round, its hot part on the slow
# node and its cold part on the fast one; a cslide project with the pairs
# from the kernel's tiers puts it right. Prints the per-node before/after
# table of the workload's hot and cold MiB, and its content check.
. /rig/guest-lib.sh
. /rig/bin/slide_lib.sh
size=${1:-64} hot=${2:-0.25} wait_s=${3:-60}
FAST=0 SLOW=2
[ $RIG_NODES -ge 3 ] || skip "cslide needs a slow node (rig --nodes 3)"
echo "demo(guest): $(uname -sr), nodes: $(ls -d /sys/devices/system/node/node* | sed 's|.*/node||' | tr '\n' ' ')"
etmd_start
wl_start --size $size --hot-frac $hot --backing anon --hot-node $SLOW --cold-node $FAST --pattern seq --cpu 0
tlb_noise 0 # see guest-lib.sh: without context switches QEMU's TLB hides the hot accesses

# mib PAGES
mib() { awk -v p="$1" 'BEGIN { printf "%.1f", p * 4096 / 1048576 }'; }
# row NAME: hot and cold MiB on the fast and the slow node now
row() {
	wl_report
	printf "%-8s %12s %12s %12s %12s\n" "$1" "$(mib $(jnode $WL_REPORT hot $FAST))" \
		"$(mib $(jnode $WL_REPORT cold $FAST))" "$(mib $(jnode $WL_REPORT hot $SLOW))" \
		"$(mib $(jnode $WL_REPORT cold $SLOW))" >>/tmp/table
}
printf "%-8s %12s %12s %12s %12s\n" "" "hot node $FAST" "cold node $FAST" "hot node $SLOW" "cold node $SLOW" >/tmp/table
row before

# As the original, cold pages leave the fast node only to keep node_hot_reserve free there: a
# reserve as large as the node sends every cold page down.
cat >/tmp/demo.conf <<CONF
[project]
name=demo
scan_type=page
loop=1
interval=1
sleep=1
[engine]
name=cslide
project=demo
hot_threshold=1
node_mig_quota=256
node_hot_reserve=1024
[task]
project=demo
engine=cslide
name=workload
type=pid
value=$WL_PID
CONF
chmod 0600 /tmp/demo.conf
proj_add /tmp/demo.conf demo
echo "demo(guest): cslide project started on pid $WL_PID (node_pair from the memory tiers, quota 256 MiB, reserve 1024 MiB)"
t0=$(uptime_ms) deadline=$(($(uptime_ms) + wait_s * 1000))
while :; do
	sleep 1
	wl_report
	hf=$(jnode $WL_REPORT hot $FAST) hn=$(jpart $WL_REPORT hot pages)
	cs=$(jnode $WL_REPORT cold $SLOW) cn=$(jpart $WL_REPORT cold pages)
	echo "  $((($(uptime_ms) - t0) / 1000)) s: hot on the fast node $(pct ${hf:-0} $hn) %, cold on the slow node $(pct ${cs:-0} $cn) %"
	at_least ${hf:-0} $hn 95 && at_least ${cs:-0} $cn 90 && break
	[ $(uptime_ms) -lt $deadline ] || break
done
row after
$ETM engine showhostpages -n demo -e cslide -s $SOCK
$ETM project show -n demo -s $SOCK
proj_del /tmp/demo.conf demo
tlb_noise_stop
wl_finish
echo
echo "the workload's memory by node (MiB):"
cat /tmp/table
echo "content check: result=$(jget "$WL_SUMMARY" result), bad pages $(jget "$WL_SUMMARY" bad_pages)"
etmd_stop
exit $WL_RC
