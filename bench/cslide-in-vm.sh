#!/usr/bin/env bash
# SPDX-License-Identifier: MulanPSL-2.0
# cslide against the kernel's own tiering, in the QEMU rig (issue 11).
#
#   bench/cslide-in-vm.sh [--build DIR] [--size MIB] [--hot-frac F] [--limit S]
#                         [--rounds N] [--migrate-only]
#
# Boots a 3-node guest (DRAM nodes 0-1, a CPU-less slow node 2 in a lower
# memory tier) and runs tests/vm/guest/bench_cslide.sh there: a workload
# starts with its hot part on the slow node, and cslide, numa_balancing=2
# (memory tiering mode) and DAMOS migrate_hot/migrate_cold each bring it up.
# Prints JSON lines on stdout (progress on stderr):
#   {"bench":"cslide_tiering","contender":...}: seconds until 95 % of the hot
#     part is on the fast node (null: not within --limit), the share over
#     time, the workload's throughput as a ratio of all-DRAM placement once
#     there, the CPU of the daemon (or kdamond);
#   {"bench":"cslide_migrate","path":"act"|"raw",...}: the same pages moved
#     through the move_pages action and by bare move_pages(2), in turn,
#     --rounds rounds (default 7), which of the two goes first swapped every
#     round (--migrate-only: this part alone);
#   {"bench":"cslide_migrate_ratio",...}: the action's MiB/s over raw's,
#     per round (each round's two paths ran back to back: a busy host's slow
#     spell hits both), their median and the pooled one, and ratio_best: the
#     fastest move of each path and direction (a busy host only slows moves
#     down, so the least disturbed ones are the closest to the paths' cost).
# TCG emulation: absolute speeds are the emulator's, the ratios are what to
# read. Needs the static binaries (configure with -DETMEM_STATIC=ON).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build size=64 hot=0.25 limit=60 rounds=7 parts=all
while (($#)); do
	case $1 in
	--build) build=$2; shift 2 ;;
	--size) size=$2; shift 2 ;;
	--hot-frac) hot=$2; shift 2 ;;
	--limit) limit=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--migrate-only) parts=migrate; shift ;;
	-h | --help) sed -n '3,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "cslide-in-vm: unknown argument $1" >&2; exit 2 ;;
	esac
done
files=()
for f in etmem-workload-static etmem-rigtool-static etmemd-static etmem-static etmem-numatool-static; do
	[[ -x $build/bin/$f ]] || { echo "cslide-in-vm: no $build/bin/$f (-DETMEM_STATIC=ON, build)" >&2; exit 2; }
	files+=("$build/bin/$f")
done
files+=("$root/tests/vm/guest/slide_lib.sh")
out=$(mktemp /tmp/etmem-bench-cslide.XXXXXX)
trap 'rm -f "$out"' EXIT
echo "cslide-in-vm: booting a 3-node rig guest; ${size} MiB workload, $hot hot, $limit s per contender" >&2
set +e
"$root/tests/vm/run-in-vm.sh" --nodes 3 --timeout $((limit * 3 + 300 + rounds * 20)) --files "${files[*]}" -- \
	"$root/tests/vm/guest/bench_cslide.sh" "$size" "$hot" "$limit" "$rounds" "$parts" >"$out"
rc=$?
set -e
grep -v '^BENCH-JSON ' "$out" >&2 || true
sed -n 's/^BENCH-JSON //p' "$out"
python3 - "$out" <<'PY'
import json, statistics, sys
mv = [json.loads(l.split(" ", 1)[1]) for l in open(sys.argv[1]) if l.startswith("BENCH-JSON ") and '"cslide_migrate"' in l]
def rate(path, rnd=None):
    sel = [m for m in mv if m["path"] == path and (rnd is None or m["round"] == rnd)]
    b, s = sum(m["bytes"] for m in sel), sum(m["seconds"] for m in sel)
    return b / 2**20 / s if s else None
rounds = sorted({m["round"] for m in mv})
per = [round(rate("act", r) / rate("raw", r), 3) for r in rounds if rate("act", r) and rate("raw", r)]
a, r = rate("act"), rate("raw")
# the least disturbed move of each path and direction (a busy host only ever slows one down)
def best(path):
    return sum(min(m["seconds"] for m in mv if m["path"] == path and m["to_node"] == n) for n in {m["to_node"] for m in mv})
print(json.dumps({"bench": "cslide_migrate_ratio", "action_mib_per_s": a, "raw_mib_per_s": r,
                  "ratio_pooled": round(a / r, 3) if a and r else None,
                  "ratio_median": statistics.median(per) if per else None,
                  "ratio_best": round(best("raw") / best("act"), 3) if mv else None, "rounds": len(rounds),
                  "ratio_per_round": per}))
PY
exit "$rc"
