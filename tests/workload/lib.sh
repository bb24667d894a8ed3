# Helpers for the workload's host tests (bash). Exit: 0 pass, 1 fail, 77 skip.
fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
pass() { echo "PASS: $*"; }

# jget FILE KEY: first (top-level) value of KEY in a one-line JSON report.
jget() { head -n1 "$1" | awk -F"\"$2\":" 'NF > 1 {print $2}' | sed 's/^"//; s/[",}].*//'; }
# jpart FILE hot|cold KEY
jpart() { sed -n "s/.*\"$2\":{\([^}]*\)}.*/\1/p" "$1" | sed -n "s/.*\"$3\":\([0-9]*\).*/\1/p"; }

WORK=$(mktemp -d /tmp/etmem-wltest.XXXXXX)
WL_PID=""
cleanup_wl() {
	[ -n "$WL_PID" ] && kill -9 "$WL_PID" 2>/dev/null
	rm -rf "$WORK"
}

# wl_start BIN ARGS...: start the workload, wait until ready. Sets WL_PID WL_ADDR WL_LEN.
wl_start() {
	local bin=$1 i
	shift
	rm -f "$WORK/ready" "$WORK/report"
	"$bin" --ready-file "$WORK/ready" --report-file "$WORK/report" "$@" >"$WORK/out" 2>&1 &
	WL_PID=$!
	for ((i = 0; i < 300; i++)); do
		[ -s "$WORK/ready" ] && break
		kill -0 $WL_PID 2>/dev/null || { cat "$WORK/out"; fail "workload exited early"; }
		sleep 0.1
	done
	[ -s "$WORK/ready" ] || fail "workload not ready"
	WL_ADDR=$(jget "$WORK/ready" addr) WL_LEN=$(jget "$WORK/ready" len)
}

wl_report() {
	local i
	rm -f "$WORK/report"
	kill -USR1 $WL_PID
	for ((i = 0; i < 300; i++)); do
		[ -s "$WORK/report" ] && return 0
		sleep 0.1
	done
	fail "no report"
}

# wl_stop: SIGTERM, wait; sets WL_RC; the summary is in $WORK/summary.
wl_stop() {
	kill -TERM $WL_PID
	WL_RC=0
	wait $WL_PID || WL_RC=$?
	WL_PID=""
	tail -n1 "$WORK/out" >"$WORK/summary"
}
