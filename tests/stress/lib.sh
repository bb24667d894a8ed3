# SPDX-License-Identifier: MulanPSL-2.0
# Helpers for the stress tests, on top of tests/integration/lib.sh (the daemon
# on a private socket, cleanup on exit): a real workload in a memory cgroup
# of its own, and the sanitizer check of the daemon's log. Source this file.
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"

# How long each stress loop runs (seconds).
STRESS_SECONDS=${ETMEM_STRESS_SECONDS:-60}
WORKLOAD="$ETMEM_BIN_DIR/etmem-workload"

stress_need_root() {
	if [[ $(id -u) != 0 ]]; then
		echo "SKIP: needs root (etmemd acts on other processes' memory)"
		exit 77
	fi
}

# stress_memcg NAME: a new memory cgroup, sibling of everything (never the
# shell's own), removed at exit. Its directory is left in STRESS_MEMCG.
stress_memcg() {
	local root
	if [[ -d /sys/fs/cgroup/memory ]]; then
		root=/sys/fs/cgroup/memory
	elif grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
		root=/sys/fs/cgroup
	else
		echo "SKIP: no memory cgroup controller"
		exit 77
	fi
	STRESS_MEMCG="$root/$1"
	mkdir "$STRESS_MEMCG"
	# Its processes are gone by then (cleanups run last-registered first).
	on_exit "for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir '$STRESS_MEMCG' 2>/dev/null && break; sleep 0.5; done"
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

# The daemon's log holds no sanitizer report.
daemon_log_clean() {
	if grep -q "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:" "$TMP/etmemd.log"; then
		grep -A40 "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:" "$TMP/etmemd.log" | head -80 >&2
		return 1
	fi
	return 0
}
