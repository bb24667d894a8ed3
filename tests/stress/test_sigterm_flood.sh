#!/usr/bin/env bash
# SPDX-License-Identifier: MulanPSL-2.0
# Issue 8, defect 3: etmemd freed its server while client threads still used
# it, after waiting 20 s for them. SIGTERM while 140 non-root and 40 root
# connections trickle their bytes and 4 root clients sit on an 8 MiB engine
# reply they never read: etmemd must exit 0 within 15 s (it shuts the client
# sockets down and joins every client thread), with no sanitizer report, and
# the workload its slide project worked on must be intact.
. "$ETMEM_SOURCE_DIR/tests/host/lib.sh"
. "$ETMEM_SOURCE_DIR/tests/integration/lib.sh"
. "$(dirname "$0")/flood_lib.sh"

need_root
install -m 0700 "$ETMEM_TEST_ENGINE" "$PLUGIN_DIR/test_engine.so"
start_daemon
check "workload and slide project started" start_workload_project flood
spawn_target etmem-stress-t
conf=$(write_conf eng.yaml <<EOT
[project]
name=eng
loop=1
interval=1
sleep=1
[engine]
name=thirdparty
project=eng
eng_name=tester
libname=$PLUGIN_DIR/test_engine.so
ops_name=test_engine_ops
[task]
project=eng
engine=tester
name=t
type=pid
value=$TARGET_PID
EOT
)
check "engine project added" "$ETMEM" obj add -f "$conf" -s "$SOCK"
check "engine project started" "$ETMEM" project start -n eng -s "$SOCK"

python3 "$(dirname "$0")/noread.py" "$SOCK" eng tester "fill 8388608" 4 >"$TMP/noread.out" 2>&1 &
NOREAD_PID=$!
on_exit "kill $NOREAD_PID 2>/dev/null; wait $NOREAD_PID 2>/dev/null"
for _ in $(seq 1 100); do
	grep -qs '^ready' "$TMP/noread.out" && break
	sleep 0.1
done
check "4 clients sit on their engine reply" grep -q '^ready' "$TMP/noread.out"
check "non-root flood of 140 slow connections running" start_flood nobody 140 60 flood-nobody
check "root flood of 40 slow connections running" start_flood root 40 60 flood-root
# Let the floods and the blocked replies settle in.
sleep 2
check "root still served under the floods" "$ETMEM" project show -s "$SOCK"

pid=$DAEMON_PID
kill -TERM "$pid"
for _ in $(seq 1 150); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
	bad "etmemd still running 15 s after SIGTERM"
	kill -KILL "$pid"
fi
rc=0
wait "$pid" || rc=$?
DAEMON_PID=""
check "SIGTERM under the floods exits 0 (exit status $rc)" test "$rc" -eq 0
check "stop logged" grep -q "stopping every task" "$TMP/etmemd.log"
check "the blocked replies were woken and joined" grep -q "waiting for [1-9][0-9]* client command(s) in progress" "$TMP/etmemd.log"
check "no client left behind" bash -c "! grep -q 'still waiting\|still in progress' '$TMP/etmemd.log'"
check "no sanitizer report" no_sanitizer_report "$TMP/etmemd.log"
stop_floods
check "workload content intact" verify_workload
finish
