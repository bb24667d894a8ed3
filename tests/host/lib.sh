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
host_swap_setup() {
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
	fallocate -l 4G "$HOST_SWAPFILE" && chmod 600 "$HOST_SWAPFILE" && mkswap "$HOST_SWAPFILE" >/dev/null &&
		swapon "$HOST_SWAPFILE" || skip "no swap can be set up (no zram, no swapfile support)"
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
