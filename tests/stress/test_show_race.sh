#!/usr/bin/env bash
# SPDX-License-Identifier: MulanPSL-2.0
# `project show` racing `project start/stop` and `obj add/del` (issue 8,
# defect 1): show reads a task's runtime figures while other requests stop
# the task and free them. Four loops of show, one of start/stop and one of
# add/del run against a slide task on a real workload for STRESS_SECONDS;
# the daemon must answer throughout and at the end, leave no sanitizer
# report, exit cleanly on SIGTERM, and the workload's every page must hold
# its content.
. "$(dirname "$0")/lib.sh"

need_root
test_memcg "etmem-stress-show-$$"
start_workload --size 128M --hot-frac 0.1 --cgroup "$TEST_MEMCG"
start_daemon

proj=$(write_conf proj.conf <<EOF
[project]
name=race
loop=1
interval=1
sleep=1
[engine]
name=slide
project=race
[task]
project=race
engine=slide
name=t1
type=pid
value=$WL_PID
T=1
max_threads=2
EOF
)
task=$(write_conf task.conf <<EOF
[task]
project=race
engine=slide
name=t2
type=pid
value=$WL_PID
T=1
EOF
)
check "obj add" "$ETMEM" obj add -f "$proj" -s "$SOCK"
if ! "$ETMEM" project start -n race -s "$SOCK" 2>"$TMP/start.err"; then
	if grep -q "no access tracker" "$TMP/start.err"; then
		echo "SKIP: $(cat "$TMP/start.err")"
		exit 77
	fi
	bad "first project start: $(cat "$TMP/start.err")"
fi
"$ETMEM" project stop -n race -s "$SOCK"

deadline=$((SECONDS + STRESS_SECONDS))
# loop NAME COMMAND...: run COMMAND until the deadline or the daemon is gone;
# the number of successful runs goes to $TMP/count.NAME.
loop() {
	local name=$1 n=0
	shift
	while ((SECONDS < deadline)) && daemon_alive; do
		if "$@" >/dev/null 2>&1; then
			n=$((n + 1))
		fi
	done
	echo "$n" >"$TMP/count.$name"
}
# A request refused as busy (another one in flight on the project) leaves
# the state as it was: the next round's first request fails and its second
# retries. A round counts when its second request (stop, del) succeeds.
start_stop() {
	"$ETMEM" project start -n race -s "$SOCK" || true
	# Sometimes long enough for a cycle's figures to exist (interval=1).
	sleep "$((RANDOM % 2)).$((RANDOM % 10))"
	"$ETMEM" project stop -n race -s "$SOCK"
}
add_del() {
	"$ETMEM" obj add -f "$task" -s "$SOCK" || true
	sleep "0.$((RANDOM % 10))"
	"$ETMEM" obj del -f "$task" -s "$SOCK"
}
pids=()
for i in 1 2 3 4; do
	loop "show$i" "$ETMEM" project show -s "$SOCK" &
	pids+=($!)
done
loop startstop start_stop &
pids+=($!)
loop adddel add_del &
pids+=($!)
wait "${pids[@]}"

for f in show1 show2 show3 show4 startstop adddel; do
	echo "$f: $(cat "$TMP/count.$f" 2>/dev/null) successful runs"
done
check "daemon alive after ${STRESS_SECONDS}s of show against start/stop and add/del" daemon_alive
check "daemon answers after the race" bash -c "'$ETMEM' project show -n race -s '$SOCK' | grep -q '^project: race'"
# Loose floors (a few per second for show, one per 6 s for the others): the
# loops must have run all along, not stalled behind a stuck request.
for f in show1 show2 show3 show4; do
	check "$f answered throughout" test "$(cat "$TMP/count.$f")" -ge $((STRESS_SECONDS * 2))
done
check "start/stop cycles ran" test "$(cat "$TMP/count.startstop")" -ge $((STRESS_SECONDS / 6))
check "add/del cycles ran" test "$(cat "$TMP/count.adddel")" -ge $((STRESS_SECONDS / 6))
if daemon_alive; then
	check "SIGTERM exits 0" stop_daemon
fi
check "no sanitizer report in the daemon's log" daemon_log_clean
check "workload content intact" stop_workload
if ((ETM_FAILS)); then
	echo "--- etmemd log (tail) ---"
	tail -n 30 "$TMP/etmemd.log"
fi
finish
