# SPDX-License-Identifier: MulanPSL-2.0
# Helpers for the integration and stress tests, on top of tests/lib/etm.sh
# (outcomes, counted checks, the workload): they run the real etmemd and etmem
# binaries on a private abstract socket name and clean up after themselves,
# also on failure. Source this file; set ETMEM_BIN_DIR to the build's bin dir.
. "$(dirname "${BASH_SOURCE[0]}")/../lib/etm.sh"
set -euo pipefail

: "${ETMEM_BIN_DIR:?ETMEM_BIN_DIR must point at the directory holding etmemd and etmem}"
ETMEMD="$ETMEM_BIN_DIR/etmemd"
ETMEM="$ETMEM_BIN_DIR/etmem"
SOCK="etmem-test-$$-$RANDOM"
TMP=$(mktemp -d /tmp/etmem-it.XXXXXX)
chmod 0700 "$TMP"
# Test plugins: etmemd refuses a library in a directory others may write
# (anything under /tmp), so they go into a private directory under /run.
PLUGIN_DIR=$(mktemp -d /run/etmem-plugins.XXXXXX)
DAEMON_PID=""
CLEANUPS=()

cleanup() {
	local rc=$?
	for ((i = ${#CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${CLEANUPS[$i]}" || true
	done
	if [[ -n "$DAEMON_PID" ]] && kill -0 "$DAEMON_PID" 2>/dev/null; then
		kill -TERM "$DAEMON_PID" 2>/dev/null || true
		wait "$DAEMON_PID" 2>/dev/null || true
	fi
	rm -rf "$TMP" "$PLUGIN_DIR"
	exit $rc
}
trap cleanup EXIT

on_exit() { CLEANUPS+=("$1"); }

# Start etmemd in the foreground (background job) and wait until it answers.
start_daemon() {
	"$ETMEMD" -l 0 -s "$SOCK" "$@" 2>"$TMP/etmemd.log" &
	DAEMON_PID=$!
	etmemd_wait "$ETMEM" "$SOCK" "$DAEMON_PID" 50 && return 0
	echo "etmemd did not come up; its log:" >&2
	cat "$TMP/etmemd.log" >&2
	return 1
}

stop_daemon() {
	local rc=0
	kill -TERM "$DAEMON_PID"
	wait "$DAEMON_PID" || rc=$?
	DAEMON_PID=""
	return $rc
}

daemon_alive() { kill -0 "$DAEMON_PID" 2>/dev/null; }

# write_conf NAME <<EOF ... : a config file the daemon accepts (root, 0600).
write_conf() {
	local f="$TMP/$1"
	cat >"$f"
	chmod 0600 "$f"
	echo "$f"
}

# spawn_target COMM: start a process this test owns, whose comm is COMM (a
# copy of sleep under that name); its pid is left in TARGET_PID.
spawn_target() {
	cp "$(command -v sleep)" "$TMP/$1"
	"$TMP/$1" 1000 &
	TARGET_PID=$!
	on_exit "kill $TARGET_PID 2>/dev/null; wait $TARGET_PID 2>/dev/null"
}

show() { "$ETMEM" project show -s "$SOCK" "$@"; }

WORKLOAD="$ETMEM_BIN_DIR/etmem-workload"
WL=$WORKLOAD
wl_files "$TMP"

# test_memcg NAME: a new memory cgroup, sibling of everything (never the
# shell's own), removed at exit. Its directory is left in TEST_MEMCG.
test_memcg() {
	local root
	root=$(memcg_root) || skip "no memory cgroup controller"
	TEST_MEMCG="$root/$1"
	mkdir "$TEST_MEMCG"
	# Its processes are gone by then (cleanups run last-registered first).
	on_exit "for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir '$TEST_MEMCG' 2>/dev/null && break; sleep 0.5; done"
}

# need_swap: a test whose cold memory must really go out. It takes the swap
# lock the host tests take (one swap user at a time), then swap: whatever is
# active, else a zram device or swapfile of its own (tests/host/lib.sh),
# removed at exit. A clean machine has no swap; without this such a test
# would see nothing swapped out.
need_swap() {
	. "$(dirname "${BASH_SOURCE[0]}")/../host/lib.sh"
	exec 8>/tmp/etmem-test-swap.lock
	echo "waiting for /tmp/etmem-test-swap.lock"
	flock -w 240 8 || fail "swap lock /tmp/etmem-test-swap.lock busy for 240 s"
	on_exit "host_swap_teardown"
	host_swap_setup /var/tmp
}

# start_workload ARGS...: the workload (wl_start), killed at exit.
start_workload() {
	wl_start "$@"
	on_exit "kill -KILL $WL_PID 2>/dev/null; wait $WL_PID 2>/dev/null"
}

# stop_workload: SIGTERM; the workload checks every page; status 0 when all are intact.
stop_workload() {
	wl_finish
	echo "workload: $(cat "$WL_SUMMARY")"
	return "$WL_RC"
}
