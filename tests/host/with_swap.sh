#!/bin/bash
# SPDX-License-Identifier: MulanPSL-2.0
# Run a command with some swap active (our own zram device or a swapfile if
# none is), restoring the system afterwards. Exit status: the command's.
# Usage: with_swap.sh [--held] COMMAND [ARGS...]
#   --held   for a test runner (scripts/test.sh's host steps): the command
#            sees ETMEM_SWAP_HELD=1, the promise that swap stays on until
#            it is over (tests/host/lib.sh: host_swap_cgroup); and when no
#            swap can be set up, the command runs anyway (each test that
#            needs swap then sets it up itself, or says why it skips).
#            Without it, no swap is a skip (77).
set -u
. "$(dirname "$0")/lib.sh"
need_root
HELD=0
if [ "${1:-}" = --held ]; then
	HELD=1
	shift
fi
trap host_cleanup EXIT
if [ "$HELD" = 1 ]; then
	if host_swap_try /var/tmp; then
		export ETMEM_SWAP_HELD=1
	else
		echo "with_swap.sh: no swap could be set up (no zram, no swapfile support): running without it"
	fi
else
	host_swap_setup /var/tmp
fi
"$@"
