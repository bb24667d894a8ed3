# SPDX-License-Identifier: MulanPSL-2.0
# Helpers for the stress tests, on top of tests/integration/lib.sh (the daemon
# on a private socket, a real workload in a memory cgroup of its own, cleanup
# on exit): the loops' duration and the sanitizer check of the daemon's log.
# Source this file.
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"

# How long each stress loop runs (seconds).
STRESS_SECONDS=${ETMEM_STRESS_SECONDS:-60}

# The daemon's log holds no sanitizer report.
daemon_log_clean() {
	if grep -q "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:" "$TMP/etmemd.log"; then
		grep -A40 "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:" "$TMP/etmemd.log" | head -80 >&2
		return 1
	fi
	return 0
}
