# SPDX-License-Identifier: MulanPSL-2.0
# Shared helpers for the integration tests: they run the real etmemd and etmem
# binaries on a private abstract socket name and clean up after themselves,
# also on failure. Source this file; set ETMEM_BIN_DIR to the build's bin dir.
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
FAILS=0
PASSES=0

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

fail() {
	echo "FAIL: $*" >&2
	FAILS=$((FAILS + 1))
}
pass() {
	echo "ok: $*"
	PASSES=$((PASSES + 1))
}
# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
finish() {
	echo "$PASSES passed, $FAILS failed"
	[[ $FAILS -eq 0 ]]
}

# Start etmemd in the foreground (background job) and wait until it answers.
start_daemon() {
	"$ETMEMD" -l 0 -s "$SOCK" "$@" 2>"$TMP/etmemd.log" &
	DAEMON_PID=$!
	for _ in $(seq 1 100); do
		if "$ETMEM" project show -s "$SOCK" >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.05
	done
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

need_root() {
	if [[ $(id -u) != 0 ]]; then
		echo "SKIP: needs root (etmemd acts on other processes' memory)"
		exit 77
	fi
}

WORKLOAD="$ETMEM_BIN_DIR/etmem-workload"

# test_memcg NAME: a new memory cgroup, sibling of everything (never the
# shell's own), removed at exit. Its directory is left in TEST_MEMCG.
test_memcg() {
	local root
	if [[ -d /sys/fs/cgroup/memory ]]; then
		root=/sys/fs/cgroup/memory
	elif grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
		root=/sys/fs/cgroup
	else
		echo "SKIP: no memory cgroup controller"
		exit 77
	fi
	TEST_MEMCG="$root/$1"
	mkdir "$TEST_MEMCG"
	# Its processes are gone by then (cleanups run last-registered first).
	on_exit "for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir '$TEST_MEMCG' 2>/dev/null && break; sleep 0.5; done"
}

# start_workload ARGS...: etmem-workload with a ready file; waits until its
# buffer is filled. WL_PID is its pid; stop_workload verifies its content.
start_workload() {
	"$WORKLOAD" --ready-file "$TMP/wl.ready" --report-file "$TMP/wl.report" "$@" >"$TMP/wl.out" 2>&1 &
	WL_PID=$!
	on_exit "kill -KILL $WL_PID 2>/dev/null; wait $WL_PID 2>/dev/null"
	for _ in $(seq 1 600); do
		[[ -s "$TMP/wl.ready" ]] && return 0
		kill -0 "$WL_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "workload not ready: $(cat "$TMP/wl.out")" >&2
	return 1
}

# stop_workload: SIGTERM; the workload checks every page and exits 0 when all are intact.
stop_workload() {
	local rc=0
	kill -TERM "$WL_PID"
	wait "$WL_PID" || rc=$?
	echo "workload: $(tail -n1 "$TMP/wl.out")"
	return $rc
}
