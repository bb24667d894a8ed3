#!/usr/bin/env bash
# SPDX-License-Identifier: MulanPSL-2.0
# Installs what is missing, builds, and runs every test: formatting, unit,
# host (real kernel) and vm (QEMU rig) tests, then the same unit and host
# tests under ASan+UBSan (but the two steady-state measurements), then the
# stress tests (hostile and concurrent use of the real daemon) under
# ASan+UBSan, then each fuzzer briefly. Needs root.
#   ETMEM_TEST_SKIP_VM=1   leave out the rig tests (developer shortcut; CI never sets it)
#   ETMEM_FUZZ_SECONDS=N   seconds per fuzzer (default 10)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=$(nproc)
total_pass=0
total_fail=0
status=0

scripts/install-deps.sh || exit 1

# step NAME: a heading, and the time the step before it took (the budget is 20 minutes).
step_name="" step_t0=$SECONDS
step_times=""
step() {
	[[ -z $step_name ]] || step_times+="$(printf '%5d s  %s' $((SECONDS - step_t0)) "$step_name")"$'\n'
	step_name=$* step_t0=$SECONDS
	[[ $# -eq 0 ]] || printf '\n===== %s =====\n' "$*"
}
# run_ctest BUILD_DIR ARGS...: runs ctest (under the command in the array
# ctest_wrap, when set) and adds its counts to the totals.
ctest_wrap=()
run_ctest() {
	local dir=$1 out
	shift
	out=$(mktemp)
	"${ctest_wrap[@]}" ctest --test-dir "$dir" --output-on-failure --no-tests=error "$@" 2>&1 | tee "$out"
	local rc=${PIPESTATUS[0]}
	local line
	line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$out" | tail -1)
	if [[ -n $line ]]; then
		local failed total
		failed=$(sed -E 's/.*tests passed, ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
		total=$(sed -E 's/.*tests passed, ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$line")
		total_pass=$((total_pass + total - failed))
		total_fail=$((total_fail + failed))
	elif ((rc != 0)); then
		total_fail=$((total_fail + 1))
	fi
	rm -f "$out"
	((rc == 0)) || status=1
}

step "format"
if scripts/check-format.sh; then total_pass=$((total_pass + 1)); else total_fail=$((total_fail + 1)); status=1; fi

step "build (-Werror)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DETMEM_STATIC=ON >/dev/null &&
	cmake --build build -j"$jobs" || { echo "build failed"; exit 1; }

step "unit tests"
run_ctest build -L unit -j"$jobs"
step "host tests (real kernel)"
# Two at a time, with swap held on for the whole step (with_swap.sh): what
# they share (swap, the pid file, the undo journal) is a ctest
# RESOURCE_LOCK or RUN_SERIAL of the tests that use it, and most of their
# time is spent waiting on engine cycles (460 s serially, 250 s so).
ctest_wrap=(tests/host/with_swap.sh --held)
run_ctest build -L host -j2
ctest_wrap=()
if [[ ${ETMEM_TEST_SKIP_VM:-0} != 1 ]]; then
	step "vm tests (QEMU rig)"
	# Two guests at a time: each test's guest mostly waits for engine
	# cycles, and every guest has its own work directory, so two share the
	# machine's cores well (530 s serially, 370 s so, on 2 cores).
	run_ctest build -L vm -j2
fi

step "build with ASan+UBSan"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DETMEM_SANITIZE=ON >/dev/null &&
	cmake --build build-asan -j"$jobs" || { echo "sanitizer build failed"; exit 1; }
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
step "unit tests under ASan+UBSan"
run_ctest build-asan -L unit -j"$jobs"
step "host and integration tests under ASan+UBSan"
# Not the two steady-state measurements (host.slide_steady: 60 s of daemon
# CPU, 350 s under ASan; host.psi_engine: a 60 s pressure window): they
# measure time and CPU, which a sanitized daemon distorts, and run above on
# the real build; their engines' code runs under the sanitizers in the unit
# tests (test_psi_cycle, test_learnt, test_scan_memcg_learn) and the
# integration tests. Keeps CI near its 20-minute budget.
ctest_wrap=(tests/host/with_swap.sh --held)
run_ctest build-asan -L host -j2 -E '^host\.(slide_steady|psi_engine)$'
ctest_wrap=()
step "stress tests under ASan+UBSan"
run_ctest build-asan -L stress -j2

step "fuzzers"
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DETMEM_FUZZ=ON -DETMEM_SANITIZE=ON >/dev/null &&
	cmake --build build-fuzz -j"$jobs" --target fuzzers || { echo "fuzz build failed"; exit 1; }
# run_fuzzer F: runs fuzzer F on a copy of its seed corpus; prints its
# verdict and, on a crash, the report's tail; returns its status.
run_fuzzer() {
	local f=$1 name corpus work
	name=$(basename "$f")
	corpus="$root/tests/fuzz/corpus/${name#fuzz_}"
	work=$(mktemp -d)
	[[ -d $corpus ]] && cp -r "$corpus/." "$work/"
	# A crash input goes to build-fuzz/crashes/ (git-ignored), not into the source tree.
	if "$f" -max_total_time="${ETMEM_FUZZ_SECONDS:-10}" -rss_limit_mb=2048 \
		-artifact_prefix="build-fuzz/crashes/$name-" "$work" >"$work.log" 2>&1; then
		echo "ok: $name ($(grep -Eo 'Done [0-9]+ runs' "$work.log" | tail -1))"
		rm -rf "$work" "$work.log"
		return 0
	fi
	echo "FAIL: $name"
	tail -40 "$work.log"
	rm -rf "$work" "$work.log"
	return 1
}
mkdir -p build-fuzz/crashes
# As many fuzzers at a time as there are cores (each is single-threaded);
# each one's output is printed whole when it ends.
fuzzers=(build-fuzz/bin/fuzz_*)
for ((i = 0; i < ${#fuzzers[@]}; i += jobs)); do
	pids=()
	outs=()
	for f in "${fuzzers[@]:i:jobs}"; do
		out=$(mktemp)
		run_fuzzer "$f" >"$out" 2>&1 &
		pids+=($!)
		outs+=("$out")
	done
	for k in "${!pids[@]}"; do
		if wait "${pids[k]}"; then
			total_pass=$((total_pass + 1))
		else
			total_fail=$((total_fail + 1))
			status=1
		fi
		cat "${outs[k]}"
		rm -f "${outs[k]}"
	done
done

step
printf '\nstep times:\n%s%5d s  total\n' "$step_times" $SECONDS
echo "$total_pass passed, $total_fail failed"
exit $status
