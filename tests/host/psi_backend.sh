#!/bin/bash
# SPDX-License-Identifier: MulanPSL-2.0
# Host test: the psi engine's cgroup1-limit backend on the real kernel (v1
# memory with cgroup2 mounted beside it, zram swap). Three cgroups, each with
# a 256 MiB workload (20 % hot): one whose cgroup2 twin holds the workload,
# one without a twin, one with an empty twin. See test_host_psi_backend.c.
# The workloads verify every page at the end.
# Usage: psi_backend.sh TEST_BINARY
set -u
T=${1:?usage: psi_backend.sh TEST_BINARY}
BIN=$(dirname "$T")/../bin
. "$(dirname "$0")/lib.sh"

need_root
[ -d /sys/fs/cgroup/memory ] || skip "no cgroup v1 memory controller (the cgroup2 backend is the rig's)"
U=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
[ -n "$U" ] || skip "no cgroup2 mounted beside cgroup v1"
[ -r /proc/pressure/memory ] || skip "no PSI (boot with psi=1)"
[ -x "$BIN/etmem-workload" ] || BIN=$(dirname "$T")
[ -x "$BIN/etmem-workload" ] || fail "etmem-workload missing next to $T"

exec 8>/tmp/etmem-test-swap.lock
echo "waiting for /tmp/etmem-test-swap.lock"
flock -w 300 8 || fail "swap lock /tmp/etmem-test-swap.lock busy for 300 s"
D=$(mktemp -d /tmp/etmem-psi-backend.XXXXXX)
WLS=()
cleanup() {
	host_cleanup
	rm -rf "$D"
}
trap cleanup EXIT
host_swap_setup /var/tmp

# $1 name, $2 twin: "join" (the workload joins it), "empty" (made, left empty) or "none"
cgroup_with_workload() {
	host_memcg_new "$1"
	local run=()
	if [ "$2" != none ]; then
		mkdir "$U/$1" || fail "mkdir $U/$1"
		HOST_CGROUPS+=("$U/$1")
	fi
	[ "$2" = join ] && run=(sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$U/$1")
	"${run[@]}" "$BIN/etmem-workload" --size 256M --hot-frac 0.2 --cgroup "$HOST_MEMCG_ROOT/$1" \
		--ready-file "$D/$1.ready" >"$D/$1.out" 2>&1 &
	HOST_PIDS+=($!)
	WLS+=("$!:$1")
}
cgroup_with_workload "etm-psi-twin-$$" join
cgroup_with_workload "etm-psi-notwin-$$" none
cgroup_with_workload "etm-psi-diff-$$" empty
for w in "${WLS[@]}"; do
	for _ in $(seq 1 600); do
		[ -e "$D/${w#*:}.ready" ] && break
		kill -0 "${w%%:*}" 2>/dev/null || fail "workload ${w#*:} exited: $(cat "$D/${w#*:}.out")"
		sleep 0.05
	done
	[ -e "$D/${w#*:}.ready" ] || fail "workload ${w#*:} not ready"
done
mkdir -m 0700 "$D/journal"
"$T" "$D/journal" "etm-psi-twin-$$" "etm-psi-notwin-$$" "etm-psi-diff-$$"
rc=$?
[ "$rc" = 0 ] || exit "$rc"
# Content intact after the reclaim.
for w in "${WLS[@]}"; do
	kill -TERM "${w%%:*}"
	wait "${w%%:*}" || fail "workload ${w#*:}: $(tail -1 "$D/${w#*:}.out")"
done
HOST_PIDS=()
echo "PASS"
