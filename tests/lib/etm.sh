# SPDX-License-Identifier: MulanPSL-2.0
# shellcheck shell=sh
# The one helper library of etmem's shell tests: host, integration, stress,
# workload and package tests (bash) and the rig's guest scripts (busybox ash)
# source it. POSIX sh only: no arrays, no [[ ]], no local -a, no $'..'; what
# needs bash lives in tests/integration/lib.sh and tests/host/lib.sh on top
# of it, what only the guest needs in tests/vm/guest/guest-lib.sh.
#
# Conventions:
#  - exit status: 0 pass, 1 fail, 77 skip (only when the kernel lacks the
#    facility, and the message says which);
#  - fail MSG stops the test; a test that counts its checks instead uses
#    ok / bad / check and ends with finish ("N passed, N failed");
#  - the workload (etmem-workload) is $WL; its files are $WL_OUT, $WL_READY,
#    $WL_REPORT and $WL_SUMMARY (wl_files DIR puts them in DIR; /tmp by default).

# Sourced once: a second source (tests/integration/lib.sh's need_swap takes
# tests/host/lib.sh, which sources this file too) must not reset the counts.
[ -n "${ETM_LIB_LOADED:-}" ] && return 0
ETM_LIB_LOADED=1

# ---- outcome --------------------------------------------------------------

fail() {
	echo "FAIL: $*"
	exit 1
}
skip() {
	echo "SKIP: $*"
	exit 77
}
pass() { echo "PASS: $*"; }
note() { echo "  $*"; }

ETM_PASSES=0
ETM_FAILS=0
# ok MSG / bad MSG: one check passed / failed; the test goes on.
ok() {
	echo "ok: $*"
	ETM_PASSES=$((ETM_PASSES + 1))
}
bad() {
	echo "FAIL: $*" >&2
	ETM_FAILS=$((ETM_FAILS + 1))
}
# check MSG COMMAND...: ok when the command succeeds, else bad.
check() {
	_etm_what=$1
	shift
	if "$@"; then ok "$_etm_what"; else bad "$_etm_what"; fi
}
# finish: the counts, and the status (0 when no check failed).
finish() {
	echo "$ETM_PASSES passed, $ETM_FAILS failed"
	[ "$ETM_FAILS" -eq 0 ]
}

need_root() {
	[ "$(id -u)" = 0 ] || skip "needs root (etmemd acts on other processes' memory)"
}

# ---- one-line JSON reports (the workload's) --------------------------------

# jget FILE KEY: top-level value of KEY (first match; top-level keys come
# before the hot/cold objects, so "pages" is unambiguous).
jget() { head -n1 "$1" | awk -F"\"$2\":" 'NF > 1 {print $2}' | sed 's/^"//; s/[",}].*//'; }
# jpart FILE hot|cold KEY
jpart() { sed -n "s/.*\"$2\":{\([^}]*\)}.*/\1/p" "$1" | sed -n "s/.*\"$3\":\([0-9]*\).*/\1/p"; }
# jnode FILE hot|cold NODE: pages of that part resident on NODE
jnode() {
	sed -n "s/.*\"$2\":{[^}]*\"nodes\":\[\([^]]*\)\].*/\1/p" "$1" | tr ',' '\n' |
		sed -n "$(($3 + 1))p"
}

# ---- the workload -----------------------------------------------------------

WL=${WL:-etmem-workload}
WL_PID=""
# wl_files DIR: the workload's output, ready, report and summary files in DIR.
wl_files() {
	WL_OUT=$1/wl.out WL_READY=$1/wl.ready WL_REPORT=$1/wl.report WL_SUMMARY=$1/wl.summary
}
wl_files /tmp

# wl_start ARGS...: start $WL in the background and wait (60 s at most) until
# it has filled its buffer. Sets WL_PID WL_ADDR WL_LEN WL_PAGES WL_HOT WL_LAYOUT.
wl_start() {
	rm -f "$WL_READY" "$WL_REPORT"
	"$WL" --ready-file "$WL_READY" --report-file "$WL_REPORT" "$@" >"$WL_OUT" 2>&1 &
	WL_PID=$!
	_etm_i=0
	while [ ! -s "$WL_READY" ]; do
		kill -0 "$WL_PID" 2>/dev/null || {
			cat "$WL_OUT"
			fail "workload exited early"
		}
		_etm_i=$((_etm_i + 1))
		[ $_etm_i -lt 600 ] || fail "workload not ready after 60 s"
		sleep 0.1
	done
	WL_ADDR=$(jget "$WL_READY" addr) WL_LEN=$(jget "$WL_READY" len)
	WL_PAGES=$(jget "$WL_READY" pages) WL_HOT=$(jget "$WL_READY" hot_pages)
	WL_LAYOUT=$(jget "$WL_READY" layout)
	note "workload pid=$WL_PID addr=$WL_ADDR len=$WL_LEN pages=$WL_PAGES hot=$WL_HOT"
}

# wl_report_try [SECONDS]: ask for a report (SIGUSR1) and wait (SECONDS, default
# 5, at most) for $WL_REPORT; 1 when none came (a polling loop asks again).
wl_report_try() {
	rm -f "$WL_REPORT"
	kill -USR1 "$WL_PID"
	_etm_i=0
	while [ ! -s "$WL_REPORT" ]; do
		_etm_i=$((_etm_i + 1))
		[ $_etm_i -lt $((${1:-5} * 10)) ] || return 1
		sleep 0.1
	done
}
# wl_report: the same, and a failure after 30 s.
wl_report() { wl_report_try 30 || fail "no report after 30 s"; }

# wl_finish: SIGTERM, wait; WL_RC is the workload's status (0: every page
# verified intact), its summary line is in $WL_SUMMARY.
wl_finish() {
	kill -TERM "$WL_PID"
	WL_RC=0
	wait "$WL_PID" || WL_RC=$?
	WL_PID=""
	tail -n1 "$WL_OUT" >"$WL_SUMMARY"
}

# wl_stop: wl_finish, and fail the test unless the workload's content is intact.
wl_stop() {
	wl_finish
	note "summary: result=$(jget "$WL_SUMMARY" result) bad_pages=$(jget "$WL_SUMMARY" bad_pages)" \
		"accesses_per_s=$(jget "$WL_SUMMARY" accesses_per_s)"
	[ "$WL_RC" = 0 ] || {
		cat "$WL_OUT"
		fail "workload verification failed (exit $WL_RC)"
	}
}

# ---- the system -------------------------------------------------------------

# memcg_root: the memory controller's hierarchy (v1 memory/ or the v2 root);
# status 1 when the kernel has no memory controller.
memcg_root() {
	if [ -d /sys/fs/cgroup/memory ]; then
		echo /sys/fs/cgroup/memory
	elif grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
		echo /sys/fs/cgroup
	else
		return 1
	fi
}

# etmemd_wait ETMEM SOCKET PID TENTHS: wait until etmemd PID answers `etmem
# project show` on SOCKET, TENTHS tenths of a second at most; status 1 when
# it died or did not answer.
etmemd_wait() {
	_etm_i=0
	while [ $_etm_i -lt "$4" ]; do
		"$1" project show -s "$2" >/dev/null 2>&1 && return 0
		kill -0 "$3" 2>/dev/null || return 1
		_etm_i=$((_etm_i + 1))
		sleep 0.1
	done
	return 1
}
