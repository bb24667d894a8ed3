# Helpers for the slide-engine rig tests (busybox ash), on top of
# /rig/guest-lib.sh. The rig copies only the test script into the guest, so
# this file travels with --files and is sourced as /rig/bin/slide_lib.sh.
# Needs etmemd-static and etmem-static in /rig/bin.

ETMD=etmemd-static
ETM=etmem-static
SOCK=rig
ETMD_LOG=/tmp/etmemd.log

# etmd_start: etmemd in the foreground (debug log) on CPU 1, away from the
# workload's CPU 0, so its scans do not steal the workload's time slices.
etmd_start() {
	taskset -c 1 $ETMD -l 0 -s $SOCK >$ETMD_LOG 2>&1 &
	ETMD_PID=$!
	i=0
	until $ETM project show -s $SOCK >/dev/null 2>&1; do
		kill -0 $ETMD_PID 2>/dev/null || { cat $ETMD_LOG; fail "etmemd exited early"; }
		i=$((i + 1)); [ $i -lt 100 ] || { cat $ETMD_LOG; fail "etmemd not answering after 10 s"; }
		sleep 0.1
	done
}
etmd_stop() {
	kill -TERM $ETMD_PID 2>/dev/null
	wait $ETMD_PID 2>/dev/null
}
# etmd_log_tail N: the daemon's last N log lines, indented
etmd_log_tail() { tail -n "${1:-20}" $ETMD_LOG | sed 's/^/    etmemd: /'; }

# slide_conf FILE PROJECT TASK PID TRACKER [key=value...]: a slide project
# file with a short cycle (loop=1, interval=1, sleep=1, T=1). Extra keys go to
# [project] when they are project keys (loop, interval, sleep,
# sysmem_threshold, swapcache_*_wmark), else to [task].
slide_conf() {
	f=$1 proj=$2 task=$3 pid=$4 tracker=$5
	shift 5
	pkeys="" tkeys="" c_loop=1 c_interval=1 c_sleep=1
	for kv in "$@"; do
		case $kv in
		loop=*) c_loop=${kv#*=} ;;
		interval=*) c_interval=${kv#*=} ;;
		sleep=*) c_sleep=${kv#*=} ;;
		sysmem_threshold=* | swapcache_*) pkeys="$pkeys
$kv" ;;
		*) tkeys="$tkeys
$kv" ;;
		esac
	done
	cat >"$f" <<EOF
[project]
name=$proj
scan_type=page
loop=$c_loop
interval=$c_interval
sleep=$c_sleep$pkeys
[engine]
name=slide
project=$proj
[task]
project=$proj
engine=slide
name=$task
type=pid
value=$pid
T=1
access_tracker=$tracker$tkeys
EOF
	chmod 0600 "$f"
}

# proj_add FILE PROJ: obj add + project start (fails the test on error)
proj_add() {
	$ETM obj add -f "$1" -s $SOCK || { etmd_log_tail; fail "obj add -f $1 refused"; }
	$ETM project start -n "$2" -s $SOCK || { etmd_log_tail; fail "project start $2 refused"; }
}
proj_del() {
	$ETM project stop -n "$2" -s $SOCK >/dev/null 2>&1
	$ETM obj del -f "$1" -s $SOCK >/dev/null 2>&1
}
proj_show() { $ETM project show -n "$1" -s $SOCK 2>&1 | sed 's/^/    show: /'; }
# want_backend PROJ BACKEND: the project's task runs on BACKEND ("tracker +
# action" as project show prints it, spaces left out: idle_pages+swap_pages)
want_backend() {
	b=$($ETM project show -n "$1" -s $SOCK 2>&1 | sed -n 's/^ *backend: //p' | tr -d ' ')
	[ "$b" = "$2" ] || { proj_show "$1"; etmd_log_tail; fail "backend '$b', want '$2'"; }
}

# wl_swapped: refresh the report; sets HS CS (hot/cold pages swapped), HN CN
# (hot/cold pages) and CR (cold pages resident)
wl_swapped() {
	wl_report
	HS=$(jpart $WL_REPORT hot swapped) CS=$(jpart $WL_REPORT cold swapped)
	HN=$(jpart $WL_REPORT hot pages) CN=$(jpart $WL_REPORT cold pages)
	CR=$(jpart $WL_REPORT cold resident)
}

# wait_cold PCT SECONDS: poll the workload until PCT% of its cold pages are
# swapped out or SECONDS pass; then wait one more cycle and take the final
# figures (HS CS HN CN). Prints progress.
wait_cold() {
	t0=$(uptime_ms) deadline=$(($(uptime_ms) + $2 * 1000))
	while :; do
		wl_swapped
		at_least $CS $CN $1 && break
		[ $(uptime_ms) -lt $deadline ] || break
		sleep 1
	done
	WAIT_MS=$(($(uptime_ms) - t0))
	note "after $WAIT_MS ms: cold swapped $CS/$CN, hot swapped $HS/$HN"
}

# pct A B: A/B in percent with two decimals
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b ? 100 * a / b : 0 }'; }

# kd_read FILE: a DAMON sysfs file; state and pid are EBUSY while a sysfs command runs (the
# daemon's update_schemes_tried_regions, up to one aggregation window): retried for 5 s
kd_read() {
	for i in 1 2 3 4 5 6 7 8 9 10; do
		cat "$1" 2>/dev/null && return 0
		sleep 0.5
	done
	echo "?"
}

# kdamonds_on: "IDX:PID" of every running DAMON kdamond, space-separated ("" without DAMON)
kdamonds_on() {
	for k in /sys/kernel/mm/damon/admin/kdamonds/[0-9]*; do
		[ -d "$k" ] && [ "$(kd_read $k/state)" = on ] && printf '%s:%s ' "${k##*/}" "$(kd_read $k/pid)"
	done
	return 0
}

# kdamond_kept SECONDS: the task's kdamond (the one running now) still runs, the
# same thread, SECONDS later (cycles in between); sets KD
kdamond_kept() {
	KD=$(kdamonds_on)
	[ -n "$KD" ] || fail "no DAMON kdamond runs during the task"
	sleep $1
	[ "$(kdamonds_on)" = "$KD" ] || fail "kdamond not kept across cycles: '$KD', $1 s later '$(kdamonds_on)'"
	note "kdamond $KD kept for $1 s of cycles"
}
