#!/usr/bin/env bash
# SPDX-License-Identifier: MulanPSL-2.0
# The real daemon's metrics: `etmem metrics` and the --metrics-file it keeps
# for node_exporter's textfile collector, through python3-prometheus-client's
# parser and promtool check metrics (tests/metrics/check_metrics.py), with a
# slide task running on a workload. The file is rewritten after the task's
# cycles (the interval is an hour there, so only the cycle-done path can
# have written it) and every interval when nothing cycles; it is replaced
# whole (a new inode, never half written) and removed when etmemd stops; a
# metrics file etmemd cannot write, or a bad interval, stops it at start.
. "$(dirname "$0")/lib.sh"

need_root
PROMTOOL=$(command -v promtool || echo /usr/local/bin/promtool)
CHECK=(/usr/bin/python3 "$ETMEM_SOURCE_DIR/tests/metrics/check_metrics.py" --promtool "$PROMTOOL")
/usr/bin/python3 -c 'import prometheus_client' 2>/dev/null || fail "python3-prometheus-client missing (scripts/install-deps.sh)"
[ -x "$PROMTOOL" ] || fail "promtool missing (scripts/install-deps.sh)"

# Refusals at start: nothing is served, the reason is on stderr.
err=$("$ETMEMD" -s "$SOCK-bad" --metrics-file "$TMP/no/such/dir/etmem.prom" 2>&1) && bad "unwritable metrics file accepted" ||
	check "unwritable metrics file refused at start" grep -q "cannot write the metrics file $TMP/no/such/dir/etmem.prom: No such file or directory" <<<"$err"
err=$("$ETMEMD" -s "$SOCK-bad" --metrics-file relative.prom 2>&1) && bad "relative metrics file accepted" ||
	check "relative metrics file refused" grep -q "must be an absolute path" <<<"$err"
err=$("$ETMEMD" -s "$SOCK-bad" --metrics-file "$TMP/m.prom" --metrics-interval 0 2>&1) && bad "interval 0 accepted" ||
	check "interval 0 refused" grep -q "invalid metrics interval '0': must be 1..3600 seconds" <<<"$err"
check "help names the options" bash -c "'$ETMEMD' --help | grep -q -- '--metrics-file <path>'"

need_swap
PROM="$TMP/textfile/etmem.prom"
mkdir "$TMP/textfile"
# An hour: every rewrite while the project runs comes from a finished cycle.
start_daemon --metrics-file "$PROM" --metrics-interval 3600
check "metrics file written at start" test -s "$PROM"
check "metrics file readable by the collector (0644)" test "$(stat -c %a "$PROM")" = 644
check "daemon only: valid" "${CHECK[@]}" --require etmem_daemon_resident_memory_bytes --require etmem_daemon_cpu_seconds_total "$PROM"

test_memcg "etmem-test-metrics-$$"
start_workload --size 32M --hot-frac 0.25 --cgroup "$TEST_MEMCG"
conf=$(write_conf slide.conf <<EOF
[project]
name=mt
loop=1
interval=1
sleep=1
[engine]
name=slide
project=mt
[task]
project=mt
engine=slide
name=wl
type=pid
value=$WL_PID
T=1
access_tracker=memcg_lru
EOF
)
check "obj add" "$ETMEM" obj add -f "$conf" -s "$SOCK"
ino=$(stat -c %i "$PROM")
check "project start" "$ETMEM" project start -n mt -s "$SOCK"
# The cycle path: the file shows the task's cycles long before the hour is
# up (a generous minute allowed; a cycle here takes about two seconds).
cycled='^etmem_task_cycles_total{project="mt",engine="slide",task="wl"} ([2-9]|[1-9][0-9]+)$'
for _ in $(seq 1 120); do
	grep -Eq "$cycled" "$PROM" && break
	sleep 0.5
done
check "metrics file rewritten after cycles, interval 3600 s" grep -Eq "$cycled" "$PROM"
for _ in $(seq 1 60); do
	"$ETMEM" metrics -s "$SOCK" >"$TMP/m.txt" || break
	grep -q '^etmem_task_cycles_total{project="mt",engine="slide",task="wl"} [1-9]' "$TMP/m.txt" && break
	sleep 0.5
done
"$ETMEM" metrics -s "$SOCK" >"$TMP/m.txt"
cat "$TMP/m.txt"
check "etmem metrics: valid, with the task's figures" "${CHECK[@]}" \
	--require etmem_task_scanned_pages --require etmem_task_cold_pages --require etmem_task_swapped_out_bytes_total \
	--require etmem_task_last_cycle_seconds --require etmem_task_errors_total --require etmem_task_cycles_total \
	--require etmem_task_info --require etmem_project_started "$TMP/m.txt"
check "the task runs" grep -q '^etmem_task_started{project="mt",engine="slide",task="wl"} 1$' "$TMP/m.txt"
check "errors by kind" grep -q '^etmem_task_errors_total{project="mt",engine="slide",task="wl",kind="reclaim"} [0-9]' "$TMP/m.txt"
check "backend as an info label" grep -q '^etmem_task_info{project="mt",engine="slide",task="wl",engine_type="slide",backend="memcg_lru' "$TMP/m.txt"
check "cold memory swapped out (a counter that moved)" grep -Eq '^etmem_task_swapped_out_bytes_total\{[^}]*\} [1-9]' "$TMP/m.txt"

# The file: replaced whole (a new inode) at each write, valid every time.
check "metrics file replaced by rename (new inode)" test "$(stat -c %i "$PROM")" != "$ino"
check "metrics file: valid, with the task" "${CHECK[@]}" --require etmem_task_cycles_total "$PROM"
check "no temporary file left beside it" test "$(ls "$TMP/textfile")" = etmem.prom
# A reader racing the writer never sees a partial file.
torn=0
for _ in $(seq 1 200); do
	tail -c 1 "$PROM" | od -An -c | grep -q '\\n' || torn=$((torn + 1))
done
check "a reader never sees a torn file ($torn of 200)" test "$torn" -eq 0

check "project stop" "$ETMEM" project stop -n mt -s "$SOCK"
check "stop_daemon" stop_daemon
check "metrics file removed when etmemd stops" test ! -e "$PROM"
stop_workload || bad "workload pages damaged"

# The ceiling: with nothing cycling the file is still rewritten every
# interval (the daemon's RSS and CPU move).
start_daemon --metrics-file "$PROM" --metrics-interval 1
ino=$(stat -c %i "$PROM")
for _ in $(seq 1 60); do
	[ "$(stat -c %i "$PROM")" != "$ino" ] && break
	sleep 0.5
done
check "metrics file rewritten each interval with no project" test "$(stat -c %i "$PROM")" != "$ino"
check "stop_daemon (no project)" stop_daemon
finish
