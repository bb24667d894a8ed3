#!/usr/bin/env bash
# SPDX-License-Identifier: MulanPSL-2.0
# demo-in-vm.sh BUILD_DIR [--engine slide|cslide] [--size MIB] [--hot-frac F] [--wait S]
# The README's demo (scripts/demo.sh) inside the QEMU rig, whose kernel has
# page_idle: boots the rig (2 NUMA nodes, zram swap) with the static etmemd,
# etmem and workload from BUILD_DIR/bin (configure with -DETMEM_STATIC=ON),
# runs tests/vm/guest/demo.sh there, and prints the before/after table and
# the content check. Nothing on the host is changed. --engine cslide boots 3
# nodes (a CPU-less slow node 2) and runs guest/demo_cslide.sh, which prints
# its per-node before/after table itself.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: demo-in-vm.sh BUILD_DIR [--size MIB] [--hot-frac F] [--wait S]}
shift
size=256 hot=0.1 wait_s=60 engine=slide size_given=0
while (($#)); do
	case $1 in
	--size) size=$2; size_given=1; shift 2 ;;
	--engine) engine=$2; shift 2 ;;
	--hot-frac) hot=$2; shift 2 ;;
	--wait) wait_s=$2; shift 2 ;;
	*) echo "demo-in-vm: unknown argument $1" >&2; exit 2 ;;
	esac
done
bin=$build/bin
files=()
for f in etmemd-static etmem-static etmem-workload-static etmem-rigtool-static; do
	[[ -x $bin/$f ]] || { echo "demo-in-vm: no $bin/$f (configure $build with -DETMEM_STATIC=ON and build)" >&2; exit 2; }
	files+=("$bin/$f")
done
files+=("$here/guest/slide_lib.sh")
if [[ $engine = cslide ]]; then
	((size_given)) || size=64
	[[ $hot != 0.1 ]] || hot=0.25
	echo "demo: booting the rig (QEMU, 3 NUMA nodes: DRAM 0-1, slow node 2); a ${size} MiB workload," \
		"$hot of it hot, placed hot on the slow node and cold on the fast one"
	exec "$here/run-in-vm.sh" --nodes 3 --timeout $((wait_s + 240)) --files "${files[*]}" -- \
		"$here/guest/demo_cslide.sh" "$size" "$hot" "$wait_s"
fi
# RAM: the workload, its zram copy (incompressible content) and the rest.
node_mem=$(((size * 2 + 256) / 2))
((node_mem >= 512)) || node_mem=512
echo "demo: booting the rig (QEMU, 2 NUMA nodes x $node_mem MiB, zram swap $((size * 2)) MiB);" \
	"a ${size} MiB workload, $hot of it hot"
out=$(mktemp /tmp/etmem-demo-vm.XXXXXX)
trap 'rm -f "$out"' EXIT
set +e
"$here/run-in-vm.sh" --nodes 2 --node-mem "$node_mem" --zram $((size * 2)) --timeout $((wait_s + 240)) \
	--files "${files[*]}" -- "$here/guest/demo.sh" "$size" "$hot" "$wait_s" >"$out"
rc=$?
set -e
grep -v '^DEMO-JSON ' "$out" || true
((rc == 0 || rc == 1)) || { echo "demo-in-vm: the guest run failed (status $rc)" >&2; exit "$rc"; }
echo
python3 - "$out" <<'PY'
import json, sys
snaps = {}
for line in open(sys.argv[1]):
    if line.startswith("DEMO-JSON "):
        _, name, js = line.rstrip("\n").split(" ", 2)
        snaps[name] = json.loads(js)
def rate(a, b):
    return (b["accesses"] - a["accesses"]) / max(1e-9, b["elapsed_s"] - a["elapsed_s"])
rows = []
for name in ("before", "after"):
    a, b = snaps[f"{name}.a"], snaps[f"{name}.b"]
    mib = b["page_size"] / 2**20
    rows.append((name, (b["hot"]["resident"] + b["cold"]["resident"]) * mib,
                 (b["hot"]["swapped"] + b["cold"]["swapped"]) * mib,
                 b["hot"]["resident"] * mib, b["cold"]["swapped"] * mib, rate(a, b) / 1e6))
print(f"{'':8} {'resident MiB':>13} {'swapped MiB':>12} {'hot resident':>13} {'cold swapped':>13} {'hot Macc/s':>11}")
for r in rows:
    print(f"{r[0]:8} {r[1]:13.1f} {r[2]:12.1f} {r[3]:13.1f} {r[4]:13.1f} {r[5]:11.2f}")
print(f"\nmemory given back: {rows[0][1] - rows[1][1]:.0f} MiB of {rows[0][1]:.0f} MiB; "
      f"hot-set throughput after/before: {rows[1][5] / max(1e-9, rows[0][5]):.2f}")
s = snaps.get("summary")
if s:
    print(f"content check: {s['verified_pages']} pages verified, {s['bad_pages']} bad: {s['result']}")
else:
    print("content check: no summary from the workload")
PY
exit "$rc"
