# Helpers for guest test scripts (busybox ash). Use: . /rig/guest-lib.sh
# Exit conventions: 0 pass, 1 fail, 77 skip (kernel lacks the facility).

WL=etmem-workload-static
RT=etmem-rigtool-static
PAGE=4096
WL_OUT=/tmp/wl.out WL_READY=/tmp/wl.ready WL_REPORT=/tmp/wl.report

fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
pass() { echo "PASS: $*"; }
note() { echo "  $*"; }

# jget FILE KEY: top-level value of KEY in a one-line JSON report (first match;
# top-level keys come before the hot/cold objects, so "pages" is unambiguous).
jget() { head -n1 "$1" | awk -F"\"$2\":" 'NF > 1 {print $2}' | sed 's/^"//; s/[",}].*//'; }
# jpart FILE hot|cold KEY
jpart() { sed -n "s/.*\"$2\":{\([^}]*\)}.*/\1/p" "$1" | sed -n "s/.*\"$3\":\([0-9]*\).*/\1/p"; }
# jnode FILE hot|cold NODE: pages of that part resident on NODE
jnode() {
	sed -n "s/.*\"$2\":{[^}]*\"nodes\":\[\([^]]*\)\].*/\1/p" "$1" | tr ',' '\n' |
		sed -n "$(($3 + 1))p"
}

# wl_start ARGS...: start the workload in the background and wait until it has
# filled its buffer. Sets WL_PID WL_ADDR WL_LEN WL_PAGES WL_HOT WL_LAYOUT.
wl_start() {
	rm -f "$WL_READY" "$WL_REPORT"
	"$WL" --ready-file "$WL_READY" --report-file "$WL_REPORT" "$@" >"$WL_OUT" 2>&1 &
	WL_PID=$!
	i=0
	while [ ! -s "$WL_READY" ]; do
		kill -0 $WL_PID 2>/dev/null || { cat "$WL_OUT"; fail "workload exited early"; }
		i=$((i + 1)); [ $i -lt 600 ] || fail "workload not ready after 60 s"
		sleep 0.1
	done
	WL_ADDR=$(jget "$WL_READY" addr) WL_LEN=$(jget "$WL_READY" len)
	WL_PAGES=$(jget "$WL_READY" pages) WL_HOT=$(jget "$WL_READY" hot_pages)
	WL_LAYOUT=$(jget "$WL_READY" layout)
	note "workload pid=$WL_PID addr=$WL_ADDR len=$WL_LEN pages=$WL_PAGES hot=$WL_HOT"
}

# wl_report: ask for a report (SIGUSR1), wait for it in $WL_REPORT.
wl_report() {
	rm -f "$WL_REPORT"
	kill -USR1 $WL_PID
	i=0
	while [ ! -s "$WL_REPORT" ]; do
		i=$((i + 1)); [ $i -lt 300 ] || fail "no report after 30 s"
		sleep 0.1
	done
}

# wl_stop: SIGTERM, wait; fails the test unless verification passed.
wl_stop() {
	kill -TERM $WL_PID
	wait $WL_PID
	rc=$?
	tail -n1 "$WL_OUT" >/tmp/wl.summary
	note "summary: result=$(jget /tmp/wl.summary result) bad_pages=$(jget /tmp/wl.summary bad_pages)" \
		"accesses_per_s=$(jget /tmp/wl.summary accesses_per_s)"
	[ $rc = 0 ] || { cat "$WL_OUT"; fail "workload verification failed (exit $rc)"; }
}

# rt_part OUTPUT hot|cold KEY: value from etmem-rigtool output lines
rt_part() { echo "$1" | grep "^$2 " | tr ' ' '\n' | sed -n "s/^$3=//p"; }

# tlb_noise CPU: a busy loop sharing CPU with the workload, so that the
# workload is context-switched every few ms.
# Why: page_idle and DAMON clear a PTE's young bit without a TLB flush (as
# on hardware). QEMU's software TLB is large, and a process that runs alone on
# its vCPU keeps its translations forever, so later accesses never set the bit
# again and hot pages look idle. Each switch between processes reloads CR3,
# which flushes QEMU's TLB (qemu64 has no PCID), like TLB pressure does on a
# loaded real server. Sets NOISE_PID; stop it with tlb_noise_stop.
tlb_noise() {
	taskset -c "$1" sh -c 'while :; do :; done' &
	NOISE_PID=$!
}
tlb_noise_stop() { kill $NOISE_PID 2>/dev/null; wait $NOISE_PID 2>/dev/null; }

# uptime_ms: guest clock for durations (date +%s is too coarse)
uptime_ms() { awk '{printf "%d\n", $1 * 1000}' /proc/uptime; }

# at_least A B PCT: A >= B*PCT/100
at_least() { [ $(($1 * 100)) -ge $(($2 * $3)) ]; }
