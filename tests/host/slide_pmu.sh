#!/bin/bash
# SPDX-License-Identifier: MulanPSL-2.0
# Host test: slide with the PMU keys through the real daemon, on zram swap.
#
# Software path (every kernel): pmu_event=page-faults. The workload (64 MiB,
# 10 % of its pages hot and read all the time, interleaved with the idle
# ones) is in a memory cgroup of its own. slide's first cycle knows nothing
# and pages all of the workload's memory out; the hot pages fault straight
# back in, and those faults are the samples. From then on the project must
# keep the hot pages resident while the idle ones stay out: at least 95 %
# of the idle pages in swap and at most 2 % of the hot ones, and the last
# cycle's hot figure at least 95 % of the hot pages and at most the hot
# pages plus the workload's memory outside its buffer (its stack and data,
# which it touches too): no untouched page of the buffer is counted. (Which
# pages exactly carry a count is test_host_pmu's check, host.pmu_sampler.)
# The sampler's figures must be in `project show`.
#
# Hardware path: the same task without pmu_event samples the CPU's
# memory-access events. Where the kernel registered no CPU PMU (this
# machine kind), the task must be refused at start with the event and the
# reason, and the test says it skipped the hardware half; with a PMU the
# same checks run on hardware samples. A pmu_event that names no event is
# refused at start, naming it.
# Usage: slide_pmu.sh BIN_DIR
set -u
BIN=${1:?usage: slide_pmu.sh BIN_DIR}
. "$(dirname "$0")/lib.sh"

host_test_begin "$BIN" etmem-pmu
# The sanitizer build's workload carries ASan's 16 TiB shadow, which slide's
# page state would grade byte by byte every cycle (tools/workload/CMakeLists.txt):
# there, the workload built without sanitizers; etmemd stays sanitized.
if [ -x "$BIN/etmem-workload-plain" ]; then
	WL=$BIN/etmem-workload-plain
	echo "workload: $WL (the sanitizer build's etmemd against a workload without ASan's shadow)"
fi

host_swap_cgroup etmem-pmu
host_workload_start --size 64M --hot-frac 0.1 --layout interleaved --op read
host_start_etmemd "$BIN" "$SOCK" "$D/etmemd.log"

# conf FILE TASK [KEY=VALUE...]: the project, slide and a PMU task on the workload.
conf() {
	local f=$1 name=$2
	shift 2
	{
		printf '[project]\nname=pmuproj\nloop=1\ninterval=1\nsleep=1\n'
		printf '[engine]\nname=slide\nproject=pmuproj\n'
		printf '[task]\nproject=pmuproj\nengine=slide\nname=%s\ntype=pid\nvalue=%s\n' "$name" "$WL_PID"
		# The spec's cpu_set_size=16 on any machine: every CPU is read whatever it divides.
		printf 'T=1\nmax_threads=1\nvma_updata_rate=5\ncpu_set_size=16\n'
		printf '%s\n' "$@"
	} >"$f"
	chmod 600 "$f"
}

# show_fig LABEL: the value of the figure LABEL in the last `project show`.
show_fig() { sed -n "s/^ *$1: \([0-9.]*\).*/\1/p" "$D/show.out" | head -n1; }

# run_path NAME: start the project, then wait until the hot pages stay in and the rest went out.
run_path() {
	local name=$1 i cold hot fig_hot scanned cycles ok=""
	"$BIN/etmem" project start -n pmuproj -s "$SOCK" || fail "$name: project start: $(tail -3 "$D/etmemd.log")"
	for i in $(seq 1 60); do
		sleep 1
		wl_report
		cold=$(jpart "$WL_REPORT" cold swapped)
		hot=$(jpart "$WL_REPORT" hot swapped)
		"$BIN/etmem" project show -n pmuproj -s "$SOCK" >"$D/show.out" || fail "project show"
		fig_hot=$(show_fig hot)
		scanned=$(show_fig "pages scanned")
		echo "t=${i}s $name: idle pages in swap $cold/$((WL_PAGES - WL_HOT)), hot pages in swap $hot/$WL_HOT," \
			"the last cycle's hot figure ${fig_hot:-none} of ${scanned:-none} pages"
		if [ "$cold" -ge $(((WL_PAGES - WL_HOT) * 95 / 100)) ] && [ "$hot" -le $((WL_HOT * 2 / 100)) ] &&
			[ -n "$fig_hot" ] && [ "$fig_hot" -ge $((WL_HOT * 95 / 100)) ] &&
			[ "$fig_hot" -le $((WL_HOT + scanned - WL_PAGES)) ]; then
			ok=1
			break
		fi
	done
	cat "$D/show.out"
	[ -n "$ok" ] || fail "$name: after 60 s the hot pages were not kept resident while the idle ones went out"
	pass "$name: $cold of $((WL_PAGES - WL_HOT)) idle pages in swap, $hot of $WL_HOT hot ones;" \
		"$fig_hot pages counted hot: >= 95 % of the hot ones, at most $((scanned - WL_PAGES)) outside the buffer"
	# Kept, not just brought back once: two more cycles, and the hot pages are still in.
	cycles=$(show_fig cycles)
	for i in $(seq 1 30); do
		sleep 1
		"$BIN/etmem" project show -n pmuproj -s "$SOCK" >"$D/show.out" || fail "project show"
		[ "$(show_fig cycles)" -ge $((cycles + 2)) ] && break
	done
	wl_report
	cold=$(jpart "$WL_REPORT" cold swapped)
	hot=$(jpart "$WL_REPORT" hot swapped)
	fig_hot=$(show_fig hot)
	[ "$cold" -ge $(((WL_PAGES - WL_HOT) * 95 / 100)) ] && [ "$hot" -le $((WL_HOT * 2 / 100)) ] &&
		[ "$fig_hot" -ge $((WL_HOT * 95 / 100)) ] ||
		fail "$name: two cycles later: idle pages in swap $cold, hot pages in swap $hot, hot figure $fig_hot"
	pass "$name: two cycles later (cycle $(show_fig cycles)): $cold idle pages in swap, $hot hot ones," \
		"$fig_hot pages counted hot"
	for f in "PMU sampling" "PMU samples" "PMU samples lost" "PMU throttling records" \
		"PMU samples counted on a page" "PMU samples outside the VMA index" "PMU count halvings" \
		"PMU VMA index rebuilds" "perf events open" "PMU readers' CPU"; do
		grep -q "^ *$f: " "$D/show.out" || fail "$name: project show lacks \"$f\""
	done
	[ "$(show_fig "PMU samples counted on a page")" -gt 0 ] || fail "$name: no sample counted"
	[ "$(show_fig "PMU count halvings")" -gt 0 ] || fail "$name: slide never halved the counts"
	"$BIN/etmem" project stop -n pmuproj -s "$SOCK" || fail "project stop"
}

# ---- software path ----------------------------------------------------------
conf "$D/sw.conf" pmu_sw pmu_event=page-faults sample_period=1
"$BIN/etmem" obj add -f "$D/sw.conf" -s "$SOCK" || fail "obj add: $(tail -3 "$D/etmemd.log")"
run_path "software path (page-faults)"
grep -q "PMU sampling: page-faults" "$D/show.out" || fail "project show does not name the page-faults event"
"$BIN/etmem" obj del -f "$D/sw.conf" -s "$SOCK" || fail "obj del"

# ---- refusals ---------------------------------------------------------------
# start_refused CONF WHAT PATTERN: the task does not start; the error names PATTERN.
start_refused() {
	"$BIN/etmem" obj add -f "$1" -s "$SOCK" || fail "obj add $1"
	if "$BIN/etmem" project start -n pmuproj -s "$SOCK" >"$D/start.out" 2>&1; then
		"$BIN/etmem" project stop -n pmuproj -s "$SOCK"
		return 1
	fi
	cat "$D/start.out"
	grep -Eq "$3" "$D/start.out" || fail "$2: the refusal does not say $3"
	kill -0 "$DPID" || fail "etmemd died"
	return 0
}
conf "$D/bogus.conf" pmu_bogus pmu_event=ETMEM_NO_SUCH_EVENT sample_period=1000
start_refused "$D/bogus.conf" "pmu_event naming no event" \
	"event ETMEM_NO_SUCH_EVENT: (not known|etmem was built without libpfm4)" ||
	fail "a task sampling ETMEM_NO_SUCH_EVENT started"
ok "a pmu_event that names no event is refused at start, naming it"
"$BIN/etmem" obj del -f "$D/bogus.conf" -s "$SOCK" || fail "obj del"

# ---- hardware path ----------------------------------------------------------
have_pmu=""
for p in cpu cpu_core cpu_atom armv8_pmuv3 armv8_pmuv3_0 ibs_op; do
	[ -e "/sys/bus/event_source/devices/$p" ] && have_pmu=$p
done
conf "$D/hw.conf" pmu_hw sample_period=1000
if start_refused "$D/hw.conf" "hardware events" \
	"event [^ ]+: .*(no PMU|not permitted|no precise sampling|not known|without libpfm4)"; then
	if [ -z "$have_pmu" ]; then
		echo "SKIP (hardware half): this kernel registered no CPU PMU (/sys/bus/event_source/devices has" \
			"$(ls /sys/bus/event_source/devices | tr '\n' ' '| sed 's/ $//')); the refusal above names the" \
			"events and why; only the software path ran"
	else
		echo "hardware half: PMU $have_pmu exists but offers no usable memory-access event (the refusal above)"
	fi
else
	echo "hardware path: the task started on PMU ${have_pmu:-?}"
	# A fresh workload: its pages all resident again.
	wl_stop
	host_workload_start --size 64M --hot-frac 0.1 --layout interleaved --op read
	"$BIN/etmem" obj del -f "$D/hw.conf" -s "$SOCK" || fail "obj del"
	conf "$D/hw.conf" pmu_hw sample_period=1000
	"$BIN/etmem" obj add -f "$D/hw.conf" -s "$SOCK" || fail "obj add"
	run_path "hardware path"
fi
"$BIN/etmem" obj del -f "$D/hw.conf" -s "$SOCK" 2>/dev/null

kill -0 "$DPID" || fail "etmemd died"
wl_stop
echo PASS
