#!/usr/bin/env bash
# SPDX-License-Identifier: MulanPSL-2.0
# The whole add -> start -> show -> engine command -> stop -> del cycle, with a
# third-party engine (the test plugin), through the real binaries.
. "$(dirname "$0")/lib.sh"

install -m 0700 "$ETMEM_TEST_ENGINE" "$PLUGIN_DIR/test_engine.so"
start_daemon

check "show with no project" bash -c "'$ETMEM' project show -s '$SOCK' | grep -qx 'no project exists'"

proj=$(write_conf proj.yaml <<EOF
[project]
name=it
loop=1
interval=1
sleep=1
EOF
)
eng=$(write_conf eng.yaml <<EOF
[engine]
name=thirdparty
project=it
eng_name=tester
libname=$PLUGIN_DIR/test_engine.so
ops_name=test_engine_ops
test_mode=ok
EOF
)
task=$(write_conf task.yaml <<EOF
[task]
project=it
engine=tester
name=t1
type=name
value=sleep
test_start=ok
EOF
)

# A relative path is resolved by the client, not by the daemon's cwd.
check "obj add project (relative -f)" bash -c "cd '$TMP' && '$ETMEM' obj add -f proj.yaml -s '$SOCK'"
check "obj add engine (long options)" "$ETMEM" obj add --file "$eng" --socket "$SOCK"
check "obj add task" "$ETMEM" obj add -f "$task" -s "$SOCK"

out=$(show -n it)
echo "$out"
check "show header" grep -q '^number   type     value            name             engine           started $' <<<"$out"
check "show task row not started" grep -Eq '^1 +name +sleep +t1 +tester +false' <<<"$out"

err=$("$ETMEM" obj add -f "$proj" -s "$SOCK" 2>&1) && bad "duplicate project accepted" || true
check "duplicate project refused with a reason" grep -q 'project has been existed' <<<"$err"
check "error is one line" test "$(wc -l <<<"$err")" -eq 1

check "project start" "$ETMEM" project start -n it -s "$SOCK"
check "show task started" bash -c "'$ETMEM' project show -n it -s '$SOCK' | grep -Eq '^1 +name +sleep +t1 +tester +true'"
err=$("$ETMEM" project start -n it -s "$SOCK" 2>&1) && bad "second start accepted" || true
check "second start refused" grep -q 'has been started' <<<"$err"

check "engine command with task" bash -c "[ \"\$('$ETMEM' engine echo -n it -e tester -t t1 -s '$SOCK')\" = t1 ]"
check "engine command without task" bash -c "[ \"\$('$ETMEM' engine echo --proj_name it --engine tester --socket '$SOCK')\" = 'no task' ]"
"$ETMEM" engine bytes -n it -e tester -s "$SOCK" >"$TMP/bytes"
check "engine output carries every byte value (0xff, 0xfe included)" \
	python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); sys.exit(d != bytes(range(256)))' "$TMP/bytes"
err=$("$ETMEM" engine nosuch -n it -e tester -s "$SOCK" 2>&1) && bad "unknown engine command accepted" || true
check "unknown engine command refused" grep -q 'rejected command nosuch' <<<"$err"
err=$("$ETMEM" engine echo -n it -e tester -t nosuch -s "$SOCK" 2>&1) && bad "unknown task accepted" || true
check "engine command on unknown task refused" grep -q 'task nosuch is not exist' <<<"$err"

# Adding a task to a started project starts it at once.
spawn_target etm-cycle-t2
task2=$(write_conf task2.yaml <<EOF
[task]
project=it
engine=tester
name=t2
type=pid
value=$TARGET_PID
EOF
)
check "add task to started project" "$ETMEM" obj add -f "$task2" -s "$SOCK"
check "new task runs at once" bash -c "'$ETMEM' project show -n it -s '$SOCK' | grep -Eq '^2 +pid +$TARGET_PID +t2 +tester +true'"
# The plugin ABI's per-pid parameters: allocated for the task's process as it starts, freed when it stops.
out=$("$ETMEM" engine pids -n it -e tester -t t2 -s "$SOCK")
check "alloc_pid_params ran for the task's pid ($out)" grep -Eq "^$TARGET_PID params=[1-9]" <<<"$out"

check "project stop" "$ETMEM" project stop -n it -s "$SOCK"
check "show stopped" bash -c "! '$ETMEM' project show -n it -s '$SOCK' | grep -q true"
err=$("$ETMEM" project stop -n it -s "$SOCK" 2>&1) && bad "second stop accepted" || true
check "second stop refused" grep -q 'has been stopped' <<<"$err"

check "obj del task" "$ETMEM" obj del -f "$task2" -s "$SOCK"
check "deleted task gone" bash -c "! '$ETMEM' project show -n it -s '$SOCK' | grep -q ' t2 '"
err=$("$ETMEM" obj del -f "$task2" -s "$SOCK" 2>&1) && bad "double delete accepted" || true
check "double delete refused" grep -q 'task t2 is not exist' <<<"$err"

# Deleting a started project stops it first.
check "restart" "$ETMEM" project start -n it -s "$SOCK"
# t2 is gone and t1 started anew: only t1's pids have parameters (stop freed the others).
out=$("$ETMEM" engine pids -n it -e tester -t t1 -s "$SOCK")
check "free_pid_params ran on stop: parameters only for t1's pids ($out)" \
	bash -c "set -- $out; [ \"\${!#}\" = params=\$((\$# - 1)) ]"
check "obj del started project" "$ETMEM" obj del -f "$proj" -s "$SOCK"
check "no project left" bash -c "'$ETMEM' project show -s '$SOCK' | grep -qx 'no project exists'"
err=$("$ETMEM" project show -n it -s "$SOCK" 2>&1) && bad "show of deleted project succeeded" || true
check "show of unknown project names it" grep -q 'project it is not exist' <<<"$err"
check "daemon alive" daemon_alive
check "SIGTERM exits 0" stop_daemon
finish
