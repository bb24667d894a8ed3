# SPDX-License-Identifier: MulanPSL-2.0
# The workload's host tests: tests/lib/etm.sh, with the workload's files in a
# private directory removed by cleanup_wl (the test's EXIT trap).
. "$(dirname "${BASH_SOURCE[0]}")/../lib/etm.sh"

WORK=$(mktemp -d /tmp/etmem-wltest.XXXXXX)
wl_files "$WORK"
cleanup_wl() {
	[ -n "$WL_PID" ] && kill -9 "$WL_PID" 2>/dev/null
	rm -rf "$WORK"
}
