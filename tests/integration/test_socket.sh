#!/usr/bin/env bash
# SPDX-License-Identifier: MulanPSL-2.0
# The control socket under stress and abuse: a second daemon, a non-root
# client, garbage/oversized/silent clients, 64 concurrent clients, a slow
# start that must not block show, and SIGTERM leaving nothing behind.
. "$(dirname "$0")/lib.sh"

install -m 0700 "$ETMEM_TEST_ENGINE" "$PLUGIN_DIR/test_engine.so"
start_daemon

# A second daemon on the same name fails clearly and leaves the first alone.
if "$ETMEMD" -s "$SOCK" 2>"$TMP/err2"; then
	bad "second daemon on the same socket started"
else
	check "second daemon refused clearly" grep -q "already in use" "$TMP/err2"
fi
check "first daemon unaffected" "$ETMEM" project show -s "$SOCK"

# Non-root peers are refused, and the refusal is logged.
if setpriv --reuid=65534 --regid=65534 --clear-groups "$ETMEM" project show -s "$SOCK" 2>"$TMP/err3"; then
	bad "non-root client served"
else
	check "non-root client refused with a reason" grep -q "root only" "$TMP/err3"
	check "refusal logged" grep -q "refused connection" "$TMP/etmemd.log"
fi

check "garbage, truncated and oversized frames get errors" python3 "$(dirname "$0")/rawclient.py" "$SOCK" garbage
check "daemon alive after garbage" daemon_alive
check "a trickling client is cut off at the request deadline" python3 "$(dirname "$0")/rawclient.py" "$SOCK" trickle
check "silent clients do not stall others" python3 "$(dirname "$0")/rawclient.py" "$SOCK" silent

# 64 concurrent clients, all answered.
conf=$(write_conf p.yaml <<EOF
[project]
name=conc
loop=1
interval=1
sleep=1
EOF
)
check "add project" "$ETMEM" obj add -f "$conf" -s "$SOCK"
pids=()
for i in $(seq 1 64); do
	"$ETMEM" project show -n conc -s "$SOCK" >"$TMP/out.$i" 2>&1 &
	pids+=($!)
done
ok=0
for i in "${!pids[@]}"; do
	if wait "${pids[$i]}" && grep -q '^project: conc$' "$TMP/out.$((i + 1))"; then
		ok=$((ok + 1))
	fi
done
check "64 concurrent clients all answered ($ok/64)" test "$ok" -eq 64

# A slow start (the plugin sleeps 3 s in start_task) must not block show.
spawn_target etm-sock-slow
eng=$(write_conf eng.yaml <<EOF
[engine]
name=thirdparty
project=conc
eng_name=tester
libname=$PLUGIN_DIR/test_engine.so
ops_name=test_engine_ops
[task]
project=conc
engine=tester
name=slow
type=pid
value=$TARGET_PID
test_start=slow
EOF
)
check "add slow task" "$ETMEM" obj add -f "$eng" -s "$SOCK"
"$ETMEM" project start -n conc -s "$SOCK" &
start_pid=$!
seen=""
for _ in $(seq 1 40); do
	if show -n conc | grep -q '^state: starting'; then
		seen=yes
		break
	fi
	sleep 0.05
done
check "show answered while a start is in progress" test -n "$seen"
if "$ETMEM" project stop -n conc -s "$SOCK" 2>"$TMP/err4"; then
	bad "stop during start accepted"
else
	check "stop during start refused as busy" grep -q "busy" "$TMP/err4"
fi
check "slow start completes" wait "$start_pid"
check "slow task started" bash -c "'$ETMEM' project show -n conc -s '$SOCK' | grep -q ' true '"

# SIGTERM: exit 0, tasks stopped, no socket left behind.
pid=$DAEMON_PID
check "SIGTERM exits 0" stop_daemon
check "process gone" bash -c "! kill -0 $pid 2>/dev/null"
check "socket name released" bash -c "! grep -q '@$SOCK\$' /proc/net/unix"
check "stop logged" grep -q "stopping every task" "$TMP/etmemd.log"
finish
