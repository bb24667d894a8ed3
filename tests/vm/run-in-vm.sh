#!/bin/bash
# run-in-vm.sh - run one test script inside a QEMU (TCG) guest on the rig kernel.
#
# Usage:
#   tests/vm/run-in-vm.sh [options] -- SCRIPT [ARGS...]
#
# SCRIPT is a host file (POSIX sh, run by busybox ash in the guest; or a
# static binary). It is copied into the guest and run as
# `/rig/payload/SCRIPT ARGS...` with cwd /tmp, stdin /dev/null.
# Its stdout+stderr become this command's stdout; its exit status becomes
# this command's exit status.
#
# Options:
#   --nodes T        guest NUMA topology (default 2):
#                      1  one node, all CPUs
#                      2  two nodes, one CPU each (cpus split evenly)
#                      3  two CPU nodes + node 2 CPU-less slow memory, HMAT
#                         (node 2 lands in a lower memory tier)
#                      4  two CPU nodes + CPU-less slow nodes 2 and 3 with HMAT;
#                         node 2 is near node 0 and node 3 near node 1, so
#                         demotion pairs are 0->2 and 1->3 (two node_pairs)
#   --node-mem MB    RAM per node (default 512)
#   --smp N          vCPUs (default 2)
#   --files "F..."   host files (static binaries, data) copied into the guest
#                    at /rig/bin/<basename>; /rig/bin is first in PATH
#   --env NAME=VAL   environment variable for SCRIPT (repeatable)
#   --zram MB        zram swap (lz4) activated before SCRIPT; 0 = none (default 256)
#   --timeout S      hard wall-clock limit for the whole boot (default 180);
#                    on expiry QEMU is killed and the exit status is 124
#   --kernel K       the kernel to boot (built by build-kernel.sh when missing):
#                      (default)     the rig kernel with the openEuler etmem
#                                    interface switched off on the command line
#                                    (etmem_scan.enabled=0 etmem_swap.enabled=0:
#                                    /proc/PID/idle_pages and swap_pages fail
#                                    with ENODEV, as on openEuler without the
#                                    modules), so userspace takes the mainline
#                                    paths
#                      openeuler-if  the same kernel with the interface on
#                      stock         the rig kernel without the patch series
#                      PATH          this bzImage
#                    ETMEM_RIG_KERNEL sets the default
#   --cpu MODEL      QEMU -cpu (default qemu64; e.g. qemu64,+pdpe1gb)
#   --append ARGS    extra kernel command line
#   --verbose        copy the guest kernel console to stderr
#   --keep           keep the work dir (initramfs, console log) and print it
#
# Guest environment: busybox (static) for /bin/sh and tools; proc, sysfs,
# devtmpfs, tmpfs /tmp and /run, cgroup2 on /sys/fs/cgroup with +memory +cpuset +cpu
# enabled for children, debugfs; RIG_NODES=T exported; /rig/guest-lib.sh (and /rig/etm.sh)
# (helpers for guest scripts) available.
#
# Exit status: SCRIPT's status; 124 timeout; 125 the guest ended without
# reporting a status (panic, boot failure; console shown on stderr);
# 2 usage or host setup error.
#
# Mechanics: payload output goes to the second serial port (ttyS1, raw),
# the kernel console to ttyS0, which also carries the `RIG-EXIT=n` marker
# written after SCRIPT returns; the guest then powers off (ACPI), which ends
# QEMU. A panic also ends QEMU (-no-reboot, panic=-1).
# Needs: qemu-system-x86, busybox-static, cpio (installed when missing).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

nodes=2 node_mem=512 smp=2 files="" zram=256 tmo=180 kernel=${ETMEM_RIG_KERNEL:-} append=""
cpu=qemu64
verbose=${RIG_VERBOSE:-0} keep=0
envs=()
while [ $# -gt 0 ]; do
	case $1 in
	--nodes) nodes=$2; shift 2 ;;
	--node-mem) node_mem=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--files) files="$files $2"; shift 2 ;;
	--env) envs+=("$2"); shift 2 ;;
	--zram) zram=$2; shift 2 ;;
	--timeout) tmo=$2; shift 2 ;;
	--kernel) kernel=$2; shift 2 ;;
	--cpu) cpu=$2; shift 2 ;;
	--append) append=$2; shift 2 ;;
	--verbose) verbose=1; shift ;;
	--keep) keep=1; shift ;;
	-h | --help) sed -n '2,60p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	--) shift; break ;;
	*) rig_die "unknown option $1 (see --help)" ;;
	esac
done
[ $# -ge 1 ] || rig_die "no SCRIPT given (see --help)"
script=$1
shift
[ -f "$script" ] || rig_die "no such file: $script"
case $nodes in 1 | 2 | 3 | 4) ;; *) rig_die "--nodes must be 1, 2, 3 or 4" ;; esac
[ "$smp" -ge 2 ] || [ "$nodes" = 1 ] || rig_die "--nodes $nodes needs --smp >= 2"

need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v cpio >/dev/null || need+=(cpio)
[ ${#need[@]} = 0 ] || rig_need_pkgs "${need[@]}"
case $kernel in
"" | default)
	kernel=$("$RIG_SRC_DIR/build-kernel.sh" | tail -n1)
	append="etmem_scan.enabled=0 etmem_swap.enabled=0 $append"
	;;
openeuler-if) kernel=$("$RIG_SRC_DIR/build-kernel.sh" | tail -n1) ;;
stock) kernel=$("$RIG_SRC_DIR/build-kernel.sh" --stock | tail -n1) ;;
esac
[ -s "$kernel" ] || rig_die "no kernel at $kernel"

work=$(mktemp -d /tmp/etmem-rig.XXXXXX)
cleanup() { [ $keep = 1 ] && rig_log "work dir kept: $work" || rm -rf "$work"; }
trap cleanup EXIT

# ---- initramfs ----
root=$work/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,rig/bin,rig/payload}
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list-full); do
	[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
for f in $files; do
	[ -f "$f" ] || rig_die "--files: no such file: $f"
	cp "$f" "$root/rig/bin/"
done
cp "$script" "$root/rig/payload/"
chmod +x "$root/rig/payload/$(basename "$script")"
cp "$RIG_SRC_DIR/guest/guest-lib.sh" "$root/rig/guest-lib.sh"
cp "$RIG_SRC_DIR/../lib/etm.sh" "$root/rig/etm.sh"

# Quote each argument for the guest shell (busybox ash has no $'..'):
# single quotes, with embedded ' written as '\''.
q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
{
	echo "export RIG_NODES=$nodes"
	for e in "${envs[@]+"${envs[@]}"}"; do echo "export $(q "$e")"; done
	printf 'exec /rig/payload/%s' "$(q "$(basename "$script")")"
	for a in "$@"; do printf ' %s' "$(q "$a")"; done
	echo
} >"$root/rig/cmd"

cat >"$root/init" <<EOF
#!/bin/sh
export PATH=/rig/bin:/bin:/sbin:/usr/bin:/usr/sbin HOME=/tmp
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t tmpfs tmp /tmp
mount -t tmpfs -o mode=0755 run /run
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup
echo "+memory +cpuset +cpu" >/sys/fs/cgroup/cgroup.subtree_control
if [ $zram -gt 0 ]; then
	echo lz4 >/sys/block/zram0/comp_algorithm 2>/dev/null
	echo ${zram}M >/sys/block/zram0/disksize &&
		mkswap /dev/zram0 >/dev/null && swapon /dev/zram0 ||
		echo "rig: zram swap setup failed" >/dev/ttyS0
fi
stty -F /dev/ttyS1 raw -echo
cd /tmp
sh /rig/cmd </dev/null >/dev/ttyS1 2>&1
rc=\$?
echo "RIG-EXIT=\$rc" >/dev/ttyS0
sync
poweroff -f
EOF
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 >"$work/initrd.gz"

# ---- topology ----
total=$((nodes * node_mem))
qargs=(-accel tcg -cpu "$cpu" -m "$total" -smp "$smp")
mem_node() { qargs+=(-object "memory-backend-ram,size=${node_mem}M,id=m$1"); }
# HMAT numbers are illustrative: DRAM local 80 ns/20 GB/s, remote 130 ns/10 GB/s,
# slow memory near 300 ns/2 GB/s, far 400 ns/1 GB/s.
hmat() { # initiator target latency bandwidth
	qargs+=(-numa "hmat-lb,initiator=$1,target=$2,hierarchy=memory,data-type=access-latency,latency=$3"
		-numa "hmat-lb,initiator=$1,target=$2,hierarchy=memory,data-type=access-bandwidth,bandwidth=$4")
}
half=$((smp / 2))
cpus0="0-$((half - 1))" cpus1="$half-$((smp - 1))"
case $nodes in
1) ;;
2)
	mem_node 0; mem_node 1
	qargs+=(-numa "node,nodeid=0,cpus=$cpus0,memdev=m0" -numa "node,nodeid=1,cpus=$cpus1,memdev=m1"
		-numa dist,src=0,dst=1,val=20)
	;;
3)
	mem_node 0; mem_node 1; mem_node 2
	qargs+=(-machine hmat=on
		-numa "node,nodeid=0,cpus=$cpus0,memdev=m0" -numa "node,nodeid=1,cpus=$cpus1,memdev=m1"
		-numa node,nodeid=2,memdev=m2,initiator=0
		-numa dist,src=0,dst=1,val=20 -numa dist,src=0,dst=2,val=30 -numa dist,src=1,dst=2,val=30)
	hmat 0 0 80 20G; hmat 0 1 130 10G; hmat 0 2 300 2G
	hmat 1 0 130 10G; hmat 1 1 80 20G; hmat 1 2 300 2G
	;;
4)
	mem_node 0; mem_node 1; mem_node 2; mem_node 3
	qargs+=(-machine hmat=on
		-numa "node,nodeid=0,cpus=$cpus0,memdev=m0" -numa "node,nodeid=1,cpus=$cpus1,memdev=m1"
		-numa node,nodeid=2,memdev=m2,initiator=0 -numa node,nodeid=3,memdev=m3,initiator=1
		-numa dist,src=0,dst=1,val=20 -numa dist,src=0,dst=2,val=30 -numa dist,src=0,dst=3,val=40
		-numa dist,src=1,dst=2,val=40 -numa dist,src=1,dst=3,val=30 -numa dist,src=2,dst=3,val=40)
	hmat 0 0 80 20G; hmat 0 1 130 10G; hmat 0 2 300 2G; hmat 0 3 400 1G
	hmat 1 0 130 10G; hmat 1 1 80 20G; hmat 1 2 400 1G; hmat 1 3 300 2G
	;;
esac

console=$work/console.log out=$work/payload.out
: >"$console"
: >"$out"
tailpid=""
if [ "$verbose" = 1 ]; then
	tail -n +1 -f "$console" >&2 &
	tailpid=$!
fi
set +e
# In the background so that a TERM/INT to this script (ctest's own timeout,
# ^C) can be passed on: timeout(1) runs QEMU in its own process group, which
# signals to ours do not reach.
timeout -k 5 "$tmo" qemu-system-x86_64 "${qargs[@]}" \
	-nodefaults -no-user-config -display none -monitor none -no-reboot \
	-serial "file:$console" -serial "file:$out" \
	-kernel "$kernel" -initrd "$work/initrd.gz" \
	-append "console=ttyS0 quiet panic=-1 $append" </dev/null &
qpid=$!
trap 'kill -TERM $qpid 2>/dev/null; wait $qpid; [ -n "$tailpid" ] && kill $tailpid; exit 143' TERM INT
wait $qpid
qrc=$?
trap - TERM INT
set -e
[ -n "$tailpid" ] && { sleep 0.2; kill "$tailpid" 2>/dev/null; wait "$tailpid" 2>/dev/null || true; }

cat "$out"
if [ $qrc = 124 ] || [ $qrc = 137 ]; then
	rig_log "timeout after ${tmo}s (QEMU killed)"
	[ "$verbose" = 1 ] || tail -n 20 "$console" >&2
	exit 124
fi
rc=$(tr -d '\r' <"$console" | sed -n 's/^RIG-EXIT=\([0-9]*\)$/\1/p' | tail -n1)
if [ -z "$rc" ]; then
	rig_log "guest ended without an exit status (QEMU status $qrc); console:"
	[ "$verbose" = 1 ] || tail -n 40 "$console" >&2
	exit 125
fi
exit "$rc"
