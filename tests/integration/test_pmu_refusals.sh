#!/usr/bin/env bash
# SPDX-License-Identifier: MulanPSL-2.0
# A slide task with the PMU keys, through the real daemon: where no event can
# be sampled the task does not start and the error names the event and why
# (no PMU, perf_event_paranoid, no precise sampling, built without libpfm4);
# a pmu_event naming no event is refused naming it; pmu_event=page-faults
# starts on every kernel and project show names the encoding and the lost
# samples. Run against etmemd (with libpfm4 when the build found it,
# ETMEM_PMU_LIBPFM) and, where built, etmemd-static, which never has libpfm4
# (what an ENABLE_PMU=OFF build gives). The daemon stays up throughout.
. "$(dirname "$0")/lib.sh"

spawn_target etm-pmu-target

# A CPU PMU the kernel registered (none in most VMs, this machine kind included).
cpu_pmu=""
for p in cpu cpu_core cpu_atom armv8_pmuv3 armv8_pmuv3_0 ibs_op; do
	[[ -e /sys/bus/event_source/devices/$p ]] && cpu_pmu=$p
done

# conf NAME [KEY=VALUE...]: a project NAME with one slide task on the target and the PMU keys.
conf() {
	local name=$1
	shift
	write_conf "$name.yaml" <<EOF
[project]
name=$name
loop=1
interval=1
sleep=1
[engine]
name=slide
project=$name
[task]
project=$name
engine=slide
name=t_$name
type=pid
value=$TARGET_PID
T=1
max_threads=1
vma_updata_rate=5
cpu_set_size=16
$(printf '%s\n' "$@")
EOF
}

# refused WHAT PROJECT PATTERN...: start fails, its one error line matches every PATTERN (grep -E).
refused() {
	local what=$1 proj=$2 err
	shift 2
	if "$ETMEM" project start -n "$proj" -s "$SOCK" 2>"$TMP/err" >&2; then
		bad "$what: the task started"
		"$ETMEM" project stop -n "$proj" -s "$SOCK" || true
		return
	fi
	err=$(cat "$TMP/err")
	for p in "$@"; do
		if ! grep -Eq -- "$p" <<<"$err"; then
			bad "$what: the error '$err' does not say '$p'"
			return
		fi
	done
	if show -n "$proj" | grep -q "true"; then
		bad "$what: a task is shown started after the refusal"
		return
	fi
	ok "$what: $err"
}

# run_checks LIBPFM: the checks against the running daemon, built with libpfm4 when LIBPFM is 1.
run_checks() {
	local libpfm=$1 hw bogus sw

	hw=$(conf hw sample_period=5000)
	check "project with the PMU keys and no pmu_event added" "$ETMEM" obj add -f "$hw" -s "$SOCK"
	if [[ $libpfm != 1 ]]; then
		refused "built without libpfm4, no pmu_event" hw \
			"task t_hw: access tracker pmu: event [^ ]+: etmem was built without libpfm4 \(cmake -DENABLE_PMU=ON\)" \
			"pmu_event=page-faults samples page faults instead"
	elif [[ -z $cpu_pmu ]]; then
		refused "no CPU PMU, no pmu_event" hw \
			"task t_hw: access tracker pmu: event [^ ]+: (no PMU for it|not known to libpfm4)" \
			"no memory-access event of this CPU can be sampled"
		echo "hardware path not run: this kernel registered no CPU PMU" \
			"($(ls /sys/bus/event_source/devices | tr '\n' ' '))"
	elif "$ETMEM" project start -n hw -s "$SOCK" 2>"$TMP/err"; then
		check "hardware path: project show names the event" grep -q "PMU sampling: " <(show -n hw)
		check "hardware path stops" "$ETMEM" project stop -n hw -s "$SOCK"
	else
		# A PMU without a usable event (no precise sampling in a VM, perf_event_paranoid): a reason.
		if grep -Eq "access tracker pmu: event [^ ]+: .*(no precise sampling|not permitted|no PMU|not known)" \
			"$TMP/err"; then
			ok "PMU $cpu_pmu offers no usable event, refused with the reason: $(cat "$TMP/err")"
		else
			bad "hardware path refused without a reason: $(cat "$TMP/err")"
		fi
	fi
	check "obj del (hw)" "$ETMEM" obj del -f "$hw" -s "$SOCK"

	bogus=$(conf bogus sample_period=5000 pmu_event=ETMEM_NO_SUCH_EVENT)
	check "project with pmu_event=ETMEM_NO_SUCH_EVENT added" "$ETMEM" obj add -f "$bogus" -s "$SOCK"
	refused "pmu_event naming no event" bogus \
		"access tracker pmu: event ETMEM_NO_SUCH_EVENT: (not known to libpfm4|etmem was built without libpfm4)"
	check "obj del (bogus)" "$ETMEM" obj del -f "$bogus" -s "$SOCK"

	sw=$(conf sw sample_period=1 pmu_event=page-faults)
	check "project with pmu_event=page-faults added" "$ETMEM" obj add -f "$sw" -s "$SOCK"
	if "$ETMEM" project start -n sw -s "$SOCK" 2>"$TMP/err"; then
		ok "pmu_event=page-faults starts (libpfm4: $libpfm)"
		show -n sw >"$TMP/show"
		check "project show names the page-faults encoding" \
			grep -q "PMU sampling: page-faults \[software:page-faults\] type 1 config 0x2" "$TMP/show"
		check "project show counts the lost samples" grep -Eq "PMU samples lost: [0-9]+" "$TMP/show"
		check "project show: backend pmu" grep -q "backend: pmu" "$TMP/show"
		# The same figures as JSON (valid for the schema) and as metrics.
		"$ETMEM" project show -n sw --json -s "$SOCK" >"$TMP/show.json"
		check "project show --json valid for the schema" /usr/bin/python3 \
			"$ETMEM_SOURCE_DIR/tests/json/check_json.py" --kind project_show "$TMP/show.json"
		check "project show --json: pmu_lost_samples and the encoding" /usr/bin/python3 -c '
import json, sys
f = json.load(open(sys.argv[1]))["projects"][0]["engines"][0]["tasks"][0]["figures"]
sys.exit(not (isinstance(f["pmu_lost_samples"], int) and f["pmu_sampling"].startswith("page-faults ")))' \
			"$TMP/show.json"
		"$ETMEM" metrics -s "$SOCK" >"$TMP/metrics"
		check "etmem metrics: the lost samples" grep -Eq "^etmem_task_pmu_lost_samples_total\{.*\} [0-9]+" \
			"$TMP/metrics"
		check "page-faults stops" "$ETMEM" project stop -n sw -s "$SOCK"
	else
		bad "pmu_event=page-faults refused: $(cat "$TMP/err")"
	fi
	check "obj del (sw)" "$ETMEM" obj del -f "$sw" -s "$SOCK"
	check "daemon alive after the refusals" daemon_alive
}

echo "== etmemd (libpfm4: ${ETMEM_PMU_LIBPFM:-?})"
[[ -n ${ETMEM_PMU_LIBPFM:-} ]] || fail "ETMEM_PMU_LIBPFM unset (the build says whether it has libpfm4)"
start_daemon
run_checks "$ETMEM_PMU_LIBPFM"
check "SIGTERM exits 0" stop_daemon

if [[ -x $ETMEM_BIN_DIR/etmemd-static ]]; then
	echo "== etmemd-static (built without libpfm4)"
	ETMEMD=$ETMEM_BIN_DIR/etmemd-static
	start_daemon
	run_checks 0
	check "SIGTERM exits 0 (static)" stop_daemon
else
	echo "etmemd-static not built (ETMEM_STATIC=OFF): the build without libpfm4 is checked above only if this is one"
fi
finish
