#!/bin/bash
# SPDX-License-Identifier: MulanPSL-2.0
# The psi engine against a Senpai-style controller (bench/senpai.py), on the
# same cgroup and workload; run on demand, never by ctest. Prints JSON lines
# on stdout (progress on stderr); see bench/README.md.
#
# Usage: sudo bench/psi_run.sh [--bin DIR] [--size SIZE] [--hot-frac F] [--duration S]
#                              [--window S] [--agents senpai,psi] [--keep DIR]
#   --bin DIR       directory with etmemd, etmem and etmem-workload (default: build/bin)
#   --size SIZE     workload buffer (default 1G)
#   --hot-frac F    its working set, read continuously (default 0.2)
#   --duration S    how long each agent runs (default 120)
#   --window S      baseline window without an agent (default 15)
#   --agents LIST   which agents, in order (default senpai,psi)
#   --keep DIR      keep each agent's record there: etmemd's debug log and its
#                   last cycles (`etmem engine pressure --json`), senpai's lines
#
# What it changes, all undone on exit (also on failure or ^C): a swap device
# when none is active (zram via hot_add, else a swapfile in /var/tmp), one
# sibling memory cgroup and, where the memory controller is on cgroup v1 and
# cgroup2 is mounted beside it (this host), the cgroup's twin in cgroup2,
# whose memory.pressure counts the workload's stalls; the processes it
# starts. Each agent writes back the limit it moved when it stops. It holds
# /tmp/etmem-test-swap.lock like the swap-using tests.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$HERE/../build/bin
ARGS=()
while [ $# -gt 0 ]; do
	case $1 in
	--bin) BIN=$2; shift 2 ;;
	--size | --hot-frac | --duration | --window | --agents) ARGS+=("$1" "$2"); shift 2 ;;
	--keep) mkdir -p "$2" && ARGS+=("$1" "$(cd "$2" && pwd)"); shift 2 ;;
	-h | --help) sed -n '3,/^set -u/{/^#/p}' "$0"; exit 0 ;;
	*) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done
BIN=$(cd "$BIN" 2>/dev/null && pwd) || { echo "no such directory: $BIN (build first, or pass --bin)" >&2; exit 2; }
for b in etmemd etmem etmem-workload; do
	[ -x "$BIN/$b" ] || { echo "$BIN/$b missing: build first" >&2; exit 2; }
done

. "$HERE/../tests/host/lib.sh"
need_root

exec 8>/tmp/etmem-test-swap.lock
echo "waiting for /tmp/etmem-test-swap.lock" >&2
flock -w 600 8 || { echo '{"bench":"psi_run","error":"swap lock busy for 600 s"}'; exit 1; }

D=$(mktemp -d /tmp/etmem-psi-bench.XXXXXX)
cleanup() {
	host_cleanup
	rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

host_swap_setup /var/tmp
CG=etmem-psi-bench-$$
host_memcg_new "$CG"
MEMCG=$HOST_MEMCG_ROOT/$CG
TWIN=""
PRESSURE=$MEMCG/memory.pressure
if [ "$HOST_MEMCG_ROOT" = /sys/fs/cgroup/memory ]; then
	U=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
	[ -n "$U" ] || skip "cgroup v1 without cgroup2 beside it: no per-cgroup pressure to drive either agent"
	TWIN=$U/$CG
	mkdir "$TWIN" || fail "mkdir $TWIN"
	HOST_CGROUPS+=("$TWIN")
	PRESSURE=$TWIN/memory.pressure
fi
[ -r "$PRESSURE" ] || skip "no $PRESSURE: the kernel has no PSI (boot with psi=1)"

python3 "$HERE/psi_bench.py" --bin "$BIN" --memcg-dir "$MEMCG" --twin-dir "$TWIN" --pressure-file "$PRESSURE" \
	--cg-rel "$CG" --tmp "$D" "${ARGS[@]}"
