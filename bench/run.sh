#!/bin/bash
# SPDX-License-Identifier: MulanPSL-2.0
# etmem benchmarks (issue #4), run on demand, never by ctest. Prints one JSON
# line per metric on stdout (progress goes to stderr); see bench/README.md.
#
# Usage: sudo bench/run.sh [--bin DIR] [--size SIZE] [--hot-frac F] [--window S]
#                          [--damon-wait S] [--mem-sizes "1 4 16"] [--repeat N] [--rounds N]
#   --bin DIR       directory with etmemd, etmem, etmem-workload and the
#                   etmem-bench-* helpers (default: build/bin next to this script)
#   --size SIZE     workload buffer (default 1G; fits a 24 GiB host)
#   --window S      length of each throughput window in seconds (default 15)
#   --damon-wait S  how long to wait for a free DAMON kdamond (default 60)
#   --mem-sizes L   target sizes in GiB for the memory-per-page line
#   --repeat N      raw/action pageout pairs, best of N counts (default 3)
#   --rounds N      paired windows etmem running / project stopped (default 3)
#
# What it changes, all undone on exit (also on failure or ^C): a swap device
# when none is active (zram via hot_add, else a swapfile in /var/tmp), one
# sibling memory cgroup, the processes it starts. It holds the swap lock
# /tmp/etmem-test-swap.lock like the swap-using tests, so it never measures
# while another test swaps.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$HERE/../build/bin
SIZE=1G
HOT_FRAC=0.1
WINDOW=15
DAMON_WAIT=60
MEM_SIZES="1 4 16"
REPEAT=3
ROUNDS=3
while [ $# -gt 0 ]; do
	case $1 in
	--bin) BIN=$2; shift 2 ;;
	--size) SIZE=$2; shift 2 ;;
	--hot-frac) HOT_FRAC=$2; shift 2 ;;
	--window) WINDOW=$2; shift 2 ;;
	--damon-wait) DAMON_WAIT=$2; shift 2 ;;
	--mem-sizes) MEM_SIZES=$2; shift 2 ;;
	--repeat) REPEAT=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	-h | --help) sed -n '3,/^set -u/{/^#/p}' "$0"; exit 0 ;;
	*) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done
BIN=$(cd "$BIN" 2>/dev/null && pwd) || { echo "no such directory: $BIN (build first, or pass --bin)" >&2; exit 2; }
for b in etmemd etmem etmem-workload etmem-bench-pageout etmem-bench-pagestate-mem; do
	[ -x "$BIN/$b" ] || { echo "$BIN/$b missing: build first" >&2; exit 2; }
done

# tests/host/lib.sh: host_swap_setup/teardown, host_memcg_new, host_cleanup.
# Its skip() exits 77, which here means "could not run".
. "$HERE/../tests/host/lib.sh"
host_need_root

# 1. Memory per tracked page: no swap, no cgroup needed.
"$BIN/etmem-bench-pagestate-mem" $MEM_SIZES || echo '{"bench":"memory_per_page","error":"helper failed"}'

# 2. Everything that swaps, under the shared swap lock.
exec 8>/tmp/etmem-test-swap.lock
echo "waiting for /tmp/etmem-test-swap.lock" >&2
flock -w 600 8 || { echo '{"bench":"run","error":"swap lock busy for 600 s"}'; exit 1; }

D=$(mktemp -d /tmp/etmem-bench.XXXXXX)
cleanup() {
	host_cleanup
	rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

host_swap_setup /var/tmp
CG=etmem-bench-$$
host_memcg_new "$CG"

python3 "$HERE/bench.py" --bin "$BIN" --memcg-dir "$HOST_MEMCG_ROOT/$CG" --memcg-path "/$CG" \
	--size "$SIZE" --hot-frac "$HOT_FRAC" --window "$WINDOW" --damon-wait "$DAMON_WAIT" --repeat "$REPEAT" --rounds "$ROUNDS" --tmp "$D"
