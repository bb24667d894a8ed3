#!/bin/bash
# SPDX-License-Identifier: MulanPSL-2.0
# Run a command with some swap active (our own zram device or a swapfile if
# none is), restoring the system afterwards. Exit status: the command's.
set -u
. "$(dirname "$0")/lib.sh"
need_root
trap host_cleanup EXIT
host_swap_setup /var/tmp
"$@"
