#!/usr/bin/env bash
# SPDX-License-Identifier: MulanPSL-2.0
# The main job, end to end: installs what is missing, builds, and shows
# etmemd swapping out the cold memory of a real process while its hot memory
# stays resident and its content stays intact.
#
#   scripts/demo.sh [--engine slide|psi] [--size MIB] [--hot-frac F] [--wait SECONDS] [--heatmap FILE]
#                   [--vm [--engine slide|cslide]]
#
# It sets up a temporary zram swap if no swap is active, puts the workload in
# a memory cgroup of its own (a sibling, never the caller's), starts etmemd on
# a private socket, adds and starts a project, and prints a before/after
# table. Everything it set up is undone on exit, also on failure or Ctrl-C.
# --engine slide (default): the workload's cold pages, process by process;
# it also draws the workload's heatmap (etmem engine heatmap -o) to FILE
# (.png or .svg; default BUILD/etmem-demo-heatmap.png), whose path it prints.
# --engine psi: the whole cgroup, reclaimed while its memory pressure stays
# low; the table adds the cgroup's memory and its pressure (some avg10).
# --vm runs the slide demo inside the QEMU rig (page_idle available there).
# --vm --engine cslide runs cslide there instead, on a 3-node guest with a
# slow node: the workload starts with its hot part on the slow node and its
# cold part on the fast one, and a per-node before/after table shows cslide
# swapping them.
set -euo pipefail

size=1024
size_given=0
hot=0.1
wait_s=120
in_vm=0
heatmap=""
engine=slide
while (($#)); do
	case $1 in
	--engine) engine=$2; shift 2 ;;
	--size) size=$2; size_given=1; shift 2 ;;
	--hot-frac) hot=$2; shift 2 ;;
	--wait) wait_s=$2; shift 2 ;;
	--heatmap) heatmap=$2; shift 2 ;;
	--vm) in_vm=1; shift ;;
	-h | --help) sed -n '3,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "demo: unknown argument $1" >&2; exit 2 ;;
	esac
done
[[ $engine = slide || $engine = cslide || $engine = psi ]] ||
	{ echo "demo: --engine slide, psi or cslide, not $engine" >&2; exit 2; }
[[ $engine != cslide || $in_vm = 1 ]] || { echo "demo: --engine cslide needs --vm (this machine has one NUMA node)" >&2; exit 2; }
[[ $engine != psi || $in_vm = 0 ]] || { echo "demo: --engine psi runs on this machine, not with --vm" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "demo: run as root (etmemd acts on other processes' memory)" >&2; exit 1; }

root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
build=${ETMEM_DEMO_BUILD:-$root/build}
static_opt=()
((in_vm)) && static_opt=(-DETMEM_STATIC=ON) # the rig runs static binaries
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${static_opt[@]}" >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
bin=$build/bin
heatmap=$(realpath -m "${heatmap:-$build/etmem-demo-heatmap.png}")

if ((in_vm)); then
	# The guest is small: the rig demo's own default size applies unless given.
	vm_args=(--engine "$engine" --hot-frac "$hot" --wait "$wait_s")
	((size_given)) && vm_args+=(--size "$size")
	exec "$root/tests/vm/demo-in-vm.sh" "$build" "${vm_args[@]}"
fi

tmp=$(mktemp -d /tmp/etmem-demo.XXXXXX)
sock=etmem-demo-$$
undo=()
cleanup() {
	set +e
	for ((i = ${#undo[@]} - 1; i >= 0; i--)); do eval "${undo[$i]}" >/dev/null 2>&1; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- swap -------------------------------------------------------------------
# Tests and benchmarks that set up swap take the same lock: one at a time.
exec 9>/tmp/etmem-test-swap.lock
flock 9
if [[ -z $(swapon --show --noheadings) ]]; then
	if [[ -e /sys/block/zram0 && $(cat /sys/block/zram0/disksize) == 0 ]]; then
		echo lz4 >/sys/block/zram0/comp_algorithm 2>/dev/null || true
		echo $((size * 2))M >/sys/block/zram0/disksize
		mkswap /dev/zram0 >/dev/null
		swapon -p 100 /dev/zram0
		undo+=("swapoff /dev/zram0; echo 1 > /sys/block/zram0/reset")
		echo "demo: temporary swap on zram0 ($((size * 2)) MiB)"
	else
		fallocate -l $((size * 2))M "$tmp/swapfile"
		chmod 600 "$tmp/swapfile"
		mkswap "$tmp/swapfile" >/dev/null
		swapon "$tmp/swapfile"
		undo+=("swapoff '$tmp/swapfile'")
		echo "demo: temporary swap file $tmp/swapfile"
	fi
fi

# --- a memory cgroup of the workload's own ----------------------------------
twin=""
if [[ -d /sys/fs/cgroup/memory ]]; then
	cg=/sys/fs/cgroup/memory/etmem-demo-$$ # cgroup v1 memory controller
	usage_file=$cg/memory.usage_in_bytes
	# cgroup2 mounted beside v1: a twin holding the workload gives psi its own pressure
	u=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
	[[ -n $u ]] && twin=$u/etmem-demo-$$
else
	cg=/sys/fs/cgroup/etmem-demo-$$ # cgroup v2
	usage_file=$cg/memory.current
	grep -qw memory /sys/fs/cgroup/cgroup.subtree_control || echo +memory >/sys/fs/cgroup/cgroup.subtree_control
fi
mkdir "$cg"
undo+=("rmdir '$cg'")
if [[ -n $twin ]]; then
	mkdir "$twin"
	undo+=("rmdir '$twin'")
	pressure_file=$twin/memory.pressure
elif [[ -e $cg/memory.pressure ]]; then
	pressure_file=$cg/memory.pressure
else
	pressure_file=/proc/pressure/memory
fi

# --- daemon and workload ----------------------------------------------------
"$bin/etmemd" -l 1 -s "$sock" 2>"$tmp/etmemd.log" &
dpid=$!
undo+=("kill -TERM $dpid; wait $dpid")
# The workload joins the twin (when there is one) first, then its memory cgroup (--cgroup).
sh -c '[ -z "$0" ] || echo $$ >"$0/cgroup.procs"; exec "$@"' "$twin" \
	"$bin/etmem-workload" --size "$size" --hot-frac "$hot" --cgroup "$cg" --name etmem_demo \
	--ready-file "$tmp/ready" --report-file "$tmp/report" >"$tmp/summary" 2>"$tmp/workload.err" &
wpid=$!
undo+=("kill -TERM $wpid; wait $wpid")
for _ in $(seq 1 600); do [[ -s $tmp/ready ]] && break; sleep 0.1; done
[[ -s $tmp/ready ]] || { echo "demo: workload did not start" >&2; cat "$tmp/workload.err" >&2; exit 1; }
until "$bin/etmem" project show -s "$sock" >/dev/null 2>&1; do sleep 0.1; done

report() { # a fresh report from the workload, as JSON on stdout
	rm -f "$tmp/report"
	kill -USR1 "$wpid"
	for _ in $(seq 1 100); do [[ -s $tmp/report ]] && break; sleep 0.05; done
	cat "$tmp/report"
}
# snapshot NAME: page states now, the hot-set throughput over 3 seconds, the cgroup's memory and pressure
snapshot() {
	report >"$tmp/$1.a"
	sleep 3
	report >"$tmp/$1.b"
	cat "$usage_file" >"$tmp/$1.usage"
	sed -n 's/^some avg10=\([0-9.]*\).*/\1/p' "$pressure_file" >"$tmp/$1.pressure"
}

snapshot before
if [[ $engine == psi ]]; then
	# cg_dir is relative to the memory hierarchy's mount; pressure in percent (some avg10/avg60)
	cat >"$tmp/demo.yaml" <<EOF
[project]
name=demo
scan_type=psi
interval=2
[engine]
name=psi
project=demo
[task]
project=demo
engine=psi
name=workload
cg_dir=etmem-demo-$$
pressure=1
reclaim_rate=0.2
limit_min_bytes=$((64 << 20))
limit_min_ratio=0
EOF
	goal=0.8
	what="psi project started on cgroup $cg (pressure from $pressure_file)"
else
	cat >"$tmp/demo.yaml" <<EOF
[project]
name=demo
loop=1
interval=1
sleep=1
[engine]
name=slide
project=demo
[task]
project=demo
engine=slide
name=workload
type=pid
value=$wpid
T=1
EOF
	goal=0.95
	what="slide project started on pid $wpid"
fi
chmod 0600 "$tmp/demo.yaml"
"$bin/etmem" obj add -f "$tmp/demo.yaml" -s "$sock"
"$bin/etmem" project start -n demo -s "$sock"
undo+=("'$bin/etmem' obj del -f '$tmp/demo.yaml' -s '$sock'")
echo "demo: $what; waiting for its cold memory to go out (at most ${wait_s}s)"

deadline=$((SECONDS + wait_s))
while ((SECONDS < deadline)); do
	sleep 2
	frac=$(report | python3 -c 'import json,sys; r=json.load(sys.stdin); c=r["cold"]; print(c["swapped"]/max(1,c["pages"]))')
	printf '\r  cold pages swapped out: %5.1f%%' "$(python3 -c "print($frac*100)")"
	python3 -c "import sys; sys.exit(0 if $frac >= $goal else 1)" && break
done
echo
snapshot after
echo
"$bin/etmem" project show -n demo -s "$sock"
if [[ $engine == psi ]]; then
	"$bin/etmem" engine pressure -n demo -e psi -s "$sock" | tail -n 8
# The task's ring: every cycle since the start, the cold part going out.
elif "$bin/etmem" engine heatmap -n demo -e slide -t workload -s "$sock" -o "$heatmap" >/dev/null; then
	echo "demo: heatmap of the workload's memory (etmem engine heatmap): $heatmap"
else
	echo "demo: no heatmap drawn (see the message above)"
fi

python3 - "$tmp" "$pressure_file" <<'EOF'
import json, sys
t = sys.argv[1]
def load(n):
    return json.load(open(f"{t}/{n}"))
def rate(a, b):
    return (b["accesses"] - a["accesses"]) / max(1e-9, b["elapsed_s"] - a["elapsed_s"])
def text(n):
    return open(f"{t}/{n}").read().strip() or "nan"
rows = []
for name in ("before", "after"):
    a, b = load(f"{name}.a"), load(f"{name}.b")
    mib = b["page_size"] / 2**20
    rows.append((name,
                 (b["hot"]["resident"] + b["cold"]["resident"]) * mib,
                 (b["hot"]["swapped"] + b["cold"]["swapped"]) * mib,
                 b["hot"]["resident"] * mib, b["cold"]["swapped"] * mib,
                 rate(a, b) / 1e6,
                 int(text(f"{name}.usage")) / 2**20, float(text(f"{name}.pressure"))))
print(f"{'':8} {'resident MiB':>13} {'swapped MiB':>12} {'hot resident':>13} {'cold swapped':>13} {'hot Macc/s':>11}"
      f" {'cgroup MiB':>11} {'pressure':>9}")
for r in rows:
    print(f"{r[0]:8} {r[1]:13.1f} {r[2]:12.1f} {r[3]:13.1f} {r[4]:13.1f} {r[5]:11.2f} {r[6]:11.1f} {r[7]:9.2f}")
print(f"(cgroup MiB: the memory cgroup's usage; pressure: some avg10 of {sys.argv[2]}, %)")
b = rows[1]
print(f"\nmemory given back: {rows[0][1] - b[1]:.0f} MiB of {rows[0][1]:.0f} MiB; "
      f"hot-set throughput after/before: {rows[1][5] / max(1e-9, rows[0][5]):.2f}")
EOF

"$bin/etmem" project stop -n demo -s "$sock"
kill -TERM "$wpid"
wait "$wpid" && verdict=ok || verdict=failed
python3 -c 'import json,sys; r=json.loads(open(sys.argv[1]).read().splitlines()[-1]); print("content check: %d pages verified, %d bad: %s" % (r["verified_pages"], r["bad_pages"], r["result"]))' "$tmp/summary"
[[ $verdict == ok ]]
