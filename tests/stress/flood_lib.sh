# SPDX-License-Identifier: MulanPSL-2.0
# Helpers for the stress tests of etmemd's control socket: a slow-client
# flood (flood.py) run as a given user, and a workload, in a memory cgroup
# of its own, that a slide project works on while the socket is flooded; its
# content is verified at the end. Sourced after tests/host/lib.sh and
# tests/integration/lib.sh (their helpers are used, not copied).

FLOOD_PY="$(dirname "${BASH_SOURCE[0]}")/flood.py"
WORKLOAD="$ETMEM_BIN_DIR/etmem-workload"
WL_PID=""
FLOOD_PIDS=()

# start_flood USER N SECONDS NAME: N slow connections as USER (a name or a
# uid) for SECONDS; waits until all were opened once. The flood's pid is
# added to FLOOD_PIDS, its output is $TMP/NAME.out. The script is fed on
# stdin: an unprivileged user cannot read the test's private directories.
start_flood() {
	local user=$1 n=$2 secs=$3 name=$4 uid
	uid=$(id -u "$user")
	setpriv --reuid="$uid" --regid="$(id -g "$user")" --clear-groups \
		/usr/bin/python3 - "$SOCK" "$n" "$secs" <"$FLOOD_PY" >"$TMP/$name.out" 2>&1 &
	FLOOD_PIDS+=($!)
	on_exit "kill $! 2>/dev/null; wait $! 2>/dev/null"
	for _ in $(seq 1 100); do
		grep -qs '^ready' "$TMP/$name.out" && return 0
		kill -0 "${FLOOD_PIDS[-1]}" 2>/dev/null || break
		sleep 0.1
	done
	echo "flood $name did not open its $n connections:" >&2
	cat "$TMP/$name.out" >&2
	return 1
}

stop_floods() {
	local p
	for p in "${FLOOD_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	FLOOD_PIDS=()
}

# start_workload_project PROJECT: a 64 MiB workload (10% hot) in a memory
# cgroup of its own, and a started slide project on it. Sets WL_PID.
start_workload_project() {
	local proj=$1 cg=etmem-stress-$$ conf
	host_memcg_new "$cg"
	on_exit host_cleanup
	"$WORKLOAD" --size 64M --hot-frac 0.1 --cgroup "$HOST_MEMCG_ROOT/$cg" \
		--ready-file "$TMP/wl.ready" --report-file "$TMP/wl.report" >"$TMP/wl.out" 2>&1 &
	WL_PID=$!
	HOST_PIDS+=("$WL_PID")
	for _ in $(seq 1 300); do
		[ -s "$TMP/wl.ready" ] && break
		kill -0 "$WL_PID" 2>/dev/null || break
		sleep 0.1
	done
	[ -s "$TMP/wl.ready" ] || { cat "$TMP/wl.out" >&2; return 1; }
	conf=$(write_conf "$proj.yaml" <<EOF
[project]
name=$proj
loop=1
interval=1
sleep=1
[engine]
name=slide
project=$proj
[task]
project=$proj
engine=slide
name=wl
type=pid
value=$WL_PID
T=1
max_threads=1
EOF
	)
	"$ETMEM" obj add -f "$conf" -s "$SOCK" && "$ETMEM" project start -n "$proj" -s "$SOCK"
}

# verify_workload: stop the workload; it checks every page's content.
verify_workload() {
	local rc=0
	kill -TERM "$WL_PID"
	wait "$WL_PID" || rc=$?
	tail -n1 "$TMP/wl.out"
	[ "$rc" -eq 0 ] && tail -n1 "$TMP/wl.out" | grep -q '"result":"ok"'
}

# no_sanitizer_report LOG: no ASan/UBSan report in the daemon's log.
no_sanitizer_report() {
	! grep -E "ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:" "$1"
}
