#!/usr/bin/env bash
# SPDX-License-Identifier: MulanPSL-2.0
# Targets that reach beyond their workload are refused (issue 8, defect 6):
# pid 1, kernel threads, etmemd itself and its ancestors, by pid and by name,
# for every engine; and a memcg-scope tracker (memcg_lru) on a memory cgroup
# that also holds a process that is not the task's, unless memcg_shared=yes.
# A cgroup that gains such a process while the task runs is skipped with a
# "last error", not reclaimed. The workload's content is verified at the end.
. "$(dirname "$0")/lib.sh"

need_root
start_daemon
proj=$(write_conf proj.conf <<EOF
[project]
name=tg
loop=1
interval=1
sleep=1
[engine]
name=slide
project=tg
EOF
)
check "project added" "$ETMEM" obj add -f "$proj" -s "$SOCK"
before=$(show)

# task_conf NAME TYPE VALUE [EXTRA KEY=VALUE...]: a slide task file.
task_conf() {
	local name=$1 type=$2 value=$3
	shift 3
	{
		printf '[task]\nproject=tg\nengine=slide\nname=%s\ntype=%s\nvalue=%s\nT=1\n' "$name" "$type" "$value"
		printf '%s\n' "$@"
	} | write_conf "$name.conf"
}

# refused WHAT PATTERN FILE: obj add fails naming PATTERN, and nothing changes.
refused() {
	local err
	if err=$("$ETMEM" obj add -f "$3" -s "$SOCK" 2>&1); then
		bad "$1: accepted"
		"$ETMEM" obj del -f "$3" -s "$SOCK" >/dev/null 2>&1 || true
		return
	fi
	if ! grep -q -- "$2" <<<"$err"; then
		bad "$1: message '$err' lacks '$2'"
	elif [[ "$(show)" != "$before" ]]; then
		bad "$1: daemon state changed"
	else
		ok "$1: $err"
	fi
}

refused "type=pid value=1" "value=1: pid 1 is init" "$(task_conf init pid 1)"
refused "etmemd's own pid" "pid $DAEMON_PID (etmemd) is etmemd itself" "$(task_conf self pid "$DAEMON_PID")"
refused "etmemd's parent (this test)" "pid $$ (.*) is an ancestor of etmemd" "$(task_conf parent pid $$)"
refused "etmemd by name" "is etmemd itself" "$(task_conf selfname name etmemd)"
comm=$(cat /proc/$$/comm)
refused "an ancestor's name ($comm)" "is an ancestor of etmemd" "$(task_conf ancname name "$comm")"
refused "kernel thread by pid" "pid 2 (kthreadd) is a kernel thread" "$(task_conf kpid pid 2)"
refused "kernel thread by name" "is a kernel thread" "$(task_conf kname name kthreadd)"

# memcg_lru acts on whole memory cgroups.
test_memcg "etmem-test-targets-$$"
start_workload --size 64M --hot-frac 0.1 --cgroup "$TEST_MEMCG"
# A process in the same cgroup that the workload did not start.
sh -c "echo \$\$ >'$TEST_MEMCG/cgroup.procs' && exec sleep 1000" &
FOREIGN=$!
on_exit "kill $FOREIGN 2>/dev/null; wait $FOREIGN 2>/dev/null"
for _ in $(seq 1 50); do
	grep -q "^$FOREIGN\$" "$TEST_MEMCG/cgroup.procs" && break
	sleep 0.05
done
check "foreign process in the workload's cgroup" grep -q "^$FOREIGN\$" "$TEST_MEMCG/cgroup.procs"
lru=$(task_conf lru pid "$WL_PID" access_tracker=memcg_lru)
check "memcg_lru task added (the project is stopped)" "$ETMEM" obj add -f "$lru" -s "$SOCK"
if "$ETMEM" project start -n tg -s "$SOCK" 2>"$TMP/err"; then
	bad "memcg_lru on a shared cgroup started"
	"$ETMEM" project stop -n tg -s "$SOCK" || true
elif grep -q "access tracker memcg_lru\|memcg_lru.*not available\|no access tracker" "$TMP/err" &&
	! grep -q "holds pid" "$TMP/err"; then
	echo "SKIP: memcg_lru not usable on this kernel: $(cat "$TMP/err")"
	exit 77
else
	check "memcg_lru on a shared cgroup refused, naming the other process" \
		grep -q "holds pid $FOREIGN (sleep), which is not the task's.*memcg_shared=yes" "$TMP/err"
	echo "refusal: $(cat "$TMP/err")"
fi
check "nothing runs after the refusal" bash -c "! '$ETMEM' project show -n tg -s '$SOCK' | grep -q ' true '"
check "obj del" "$ETMEM" obj del -f "$lru" -s "$SOCK"

shared=$(task_conf lrushared pid "$WL_PID" access_tracker=memcg_lru memcg_shared=yes)
check "memcg_shared=yes task added" "$ETMEM" obj add -f "$shared" -s "$SOCK"
check "memcg_shared=yes: started" "$ETMEM" project start -n tg -s "$SOCK"
check "memcg_shared=yes: the risk is logged" grep -q "memcg_shared=yes: memcg_lru reclaims" "$TMP/etmemd.log"
check "project stop" "$ETMEM" project stop -n tg -s "$SOCK"
check "obj del" "$ETMEM" obj del -f "$shared" -s "$SOCK"

# Alone in its cgroup, the task starts; a process that joins later makes
# each cycle skip the cgroup with a last error.
kill "$FOREIGN"
wait "$FOREIGN" 2>/dev/null || true
check "obj add (cgroup now the workload's alone)" "$ETMEM" obj add -f "$lru" -s "$SOCK"
check "started on an exclusive cgroup" "$ETMEM" project start -n tg -s "$SOCK"
sh -c "echo \$\$ >'$TEST_MEMCG/cgroup.procs' && exec sleep 1000" &
LATE=$!
on_exit "kill $LATE 2>/dev/null; wait $LATE 2>/dev/null"
seen=""
for _ in $(seq 1 40); do
	if show -n tg | grep -q "last error: .*holds pid $LATE (sleep), which is not the task's.*not reclaimed"; then
		seen=yes
		break
	fi
	sleep 0.25
done
show -n tg
check "a cgroup that gained a foreign process is skipped with a last error" test -n "$seen"
check "project stop" "$ETMEM" project stop -n tg -s "$SOCK"
if [[ -f "$TEST_MEMCG/memory.limit_in_bytes" ]]; then
	check "cgroup limit left alone" test "$(cat "$TEST_MEMCG/memory.limit_in_bytes")" -ge $((1 << 40))
fi

check "daemon alive" daemon_alive
check "SIGTERM exits 0" stop_daemon
check "workload content intact" stop_workload
finish
