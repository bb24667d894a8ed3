# SPDX-License-Identifier: MulanPSL-2.0
# Helpers for host-label tests (bash), on top of tests/lib/etm.sh (outcomes,
# the workload, the memory cgroup root). Everything a test changes is undone
# by host_cleanup, which the test runs from an EXIT trap.
. "$(dirname "${BASH_SOURCE[0]}")/../lib/etm.sh"

HOST_ZRAM=""
HOST_SWAPFILE=""
HOST_CGROUPS=()
HOST_PIDS=()

# Swap for the test: nothing when some swap is already active; else our own
# zram device (hot_add, so another user's zram0 is left alone); else a
# swapfile in $1 (a directory on a filesystem that supports swapfiles).
# Skips the test (77) when none can be set up.
host_swap_setup() {
	host_swap_try "$1" || skip "no swap can be set up (no zram, no swapfile support)"
}

# host_swap_setup's work: 0 when swap is on, else 1 with nothing left behind.
host_swap_try() {
	if [ -n "$(swapon --noheadings --show 2>/dev/null)" ]; then
		return 0
	fi
	if [ -e /sys/class/zram-control/hot_add ]; then
		local id
		id=$(cat /sys/class/zram-control/hot_add 2>/dev/null) || id=""
		if [ -n "$id" ]; then
			HOST_ZRAM=$id
			echo lz4 >/sys/block/zram$id/comp_algorithm 2>/dev/null || true
			if echo 4G >/sys/block/zram$id/disksize && mkswap /dev/zram$id >/dev/null &&
				swapon -p 100 /dev/zram$id; then
				return 0
			fi
			echo "zram$id setup failed, trying a swapfile"
			host_swap_teardown
		fi
	fi
	HOST_SWAPFILE="$1/etmem-host-swap.$$"
	if fallocate -l 4G "$HOST_SWAPFILE" && chmod 600 "$HOST_SWAPFILE" && mkswap "$HOST_SWAPFILE" >/dev/null &&
		swapon "$HOST_SWAPFILE"; then
		return 0
	fi
	host_swap_teardown
	return 1
}

host_swap_teardown() {
	if [ -n "$HOST_ZRAM" ]; then
		swapoff /dev/zram$HOST_ZRAM 2>/dev/null
		echo 1 >/sys/block/zram$HOST_ZRAM/reset 2>/dev/null
		echo "$HOST_ZRAM" >/sys/class/zram-control/hot_remove 2>/dev/null
		HOST_ZRAM=""
	fi
	if [ -n "$HOST_SWAPFILE" ]; then
		swapoff "$HOST_SWAPFILE" 2>/dev/null
		rm -f "$HOST_SWAPFILE"
		HOST_SWAPFILE=""
	fi
}

# A new memory cgroup, sibling of everything (never the shell's own).
# Prints its path as /proc/PID/cgroup shows it ("/name"); the directory is
# $HOST_MEMCG_ROOT/name.
host_memcg_new() {
	local name=$1
	HOST_MEMCG_ROOT=$(memcg_root) || skip "no memory cgroup controller"
	mkdir "$HOST_MEMCG_ROOT/$name" || fail "mkdir $HOST_MEMCG_ROOT/$name"
	HOST_CGROUPS+=("$HOST_MEMCG_ROOT/$name")
}

host_cleanup() {
	local p cg
	for p in "${HOST_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${HOST_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	for cg in "${HOST_CGROUPS[@]}"; do
		# the processes we started are gone; rmdir may need a moment
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			rmdir "$cg" 2>/dev/null && break
			sleep 0.5
		done
	done
	host_swap_teardown
}

# etmemd in the background: host_start_etmemd BIN_DIR SOCKET LOG. Sets DPID
# (the caller stops it); fails unless it answers within 5 s.
host_start_etmemd() {
	"$1/etmemd" -l 0 -s "$2" >"$3" 2>&1 &
	DPID=$!
	etmemd_wait "$1/etmem" "$2" "$DPID" 50 || fail "etmemd did not start: $(tail -5 "$3")"
}

# JSON field of a workload report: $1 file, $2 python expression over r.
json_get() {
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# ---- the preamble of a test that swaps a workload ---------------------------
# host_test_begin BIN_DIR NAME: root and BIN_DIR's etmemd, etmem and
# etmem-workload are needed. Sets D (a scratch directory, /tmp/NAME.XXXXXX),
# SOCK (NAME-PID), DPID (empty: host_start_etmemd sets it), WL (the
# workload binary; a test may point it elsewhere before starting one) and
# the workload's files in D (wl_files). The EXIT trap (host_test_exit)
# runs the test's own host_test_cleanup first when it defines one, then
# stops etmemd and the workload, undoes host_cleanup's changes and removes D.
host_test_begin() {
	local b
	need_root
	for b in etmemd etmem etmem-workload; do
		[ -x "$1/$b" ] || fail "$1/$b missing"
	done
	D=$(mktemp -d "/tmp/$2.XXXXXX")
	SOCK=$2-$$
	DPID=""
	WL=$1/etmem-workload
	wl_files "$D"
	trap host_test_exit EXIT
	trap 'exit 1' INT TERM
}

host_test_exit() {
	declare -F host_test_cleanup >/dev/null && host_test_cleanup
	[ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	[ -n "$WL_PID" ] && kill -TERM "$WL_PID" 2>/dev/null && wait "$WL_PID" 2>/dev/null
	host_cleanup
	rm -rf "$D"
}

# host_swap_cgroup NAME: take the swap lock (/tmp/etmem-test-swap.lock, fd
# 8, held until the test exits: the tests that set up swap or measure
# swapping run one at a time), set up swap (host_swap_setup) and make the
# workload's memory cgroup NAME-PID. Sets CG (its name) and HOST_WL_CG (its
# directory).
# A test whose measurements are all of its own memory cgroup and daemon
# sets HOST_SWAP_SHARED=1 first: when the run's swap is held on for all of
# it (ETMEM_SWAP_HELD=1, from with_swap.sh: scripts/test.sh's host step),
# nobody sets swap up or tears it down under it, and it runs beside the
# others without the lock.
host_swap_cgroup() {
	if [ "${ETMEM_SWAP_HELD:-0}" = 1 ] && [ "${HOST_SWAP_SHARED:-0}" = 1 ] &&
		[ -n "$(swapon --noheadings --show 2>/dev/null)" ]; then
		echo "swap is held on for the whole run (ETMEM_SWAP_HELD=1): not taking the swap lock"
	else
		exec 8>/tmp/etmem-test-swap.lock
		echo "waiting for /tmp/etmem-test-swap.lock"
		flock -w 300 8 || fail "swap lock /tmp/etmem-test-swap.lock busy for 300 s"
		host_swap_setup /var/tmp
	fi
	CG=$1-$$
	host_memcg_new "$CG"
	HOST_WL_CG=$HOST_MEMCG_ROOT/$CG
}

# host_workload_start [--join DIR] WORKLOAD_ARGS...: $WL in HOST_WL_CG
# (wl_start: waits until its buffer is filled; sets WL_PID, WL_READY,
# WL_REPORT, WL_OUT...). --join DIR: the workload joins the cgroup DIR
# first (a cgroup2 twin beside a v1 memory cgroup), then HOST_WL_CG.
host_workload_start() {
	local wl=$WL
	if [ "${1:-}" = --join ]; then
		printf '#!/bin/sh\necho $$ >"%s/cgroup.procs" && exec "%s" "$@"\n' "$2" "$WL" >"$D/wl-join.sh"
		chmod 700 "$D/wl-join.sh"
		WL=$D/wl-join.sh
		shift 2
	fi
	wl_start "$@" --cgroup "$HOST_WL_CG"
	WL=$wl
}
