#!/bin/bash
# capture-streams.sh [--check] BUILD_DIR: run etmem-idle-capture (idle_capture.c,
# from BUILD_DIR/bin) in the full guest (lib.sh RIG_FULL_OPTS) and print the
# idle_pages streams it read. With --check, compare them with the stored
# tests/unit/data/idle_pages_streams.txt instead: the kernel must still write
# what the unit test test_scan_idle_kernel was checked against.
# Regenerate the stored file with:
#   tests/vm/capture-streams.sh build > tests/unit/data/idle_pages_streams.txt
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
check=0
[ "${1:-}" = --check ] && { check=1; shift; }
[ $# = 1 ] || rig_die "usage: capture-streams.sh [--check] BUILD_DIR"
bin=$1/bin/etmem-idle-capture-static
[ -x "$bin" ] || rig_die "no $bin (build the project first)"
stored=$RIG_SRC_DIR/../unit/data/idle_pages_streams.txt
if [ $check = 0 ]; then
	exec "$RIG_SRC_DIR/run-in-vm.sh" "${RIG_FULL_OPTS[@]}" --timeout 200 -- "$bin"
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$RIG_SRC_DIR/run-in-vm.sh" "${RIG_FULL_OPTS[@]}" --timeout 200 -- "$bin" >"$out" ||
	{ cat "$out"; echo "FAIL: the capture failed"; exit 1; }
if ! diff -u "$stored" "$out"; then
	echo "FAIL: the kernel's idle_pages streams differ from $stored (above, - stored, + now)."
	echo "If the kernel change is intended, regenerate the file (see the top of this script)"
	echo "and run the unit test test_scan_idle_kernel on it."
	exit 1
fi
echo "PASS: idle_pages streams identical to the stored capture ($(grep -c '^read ' "$out") reads)"
