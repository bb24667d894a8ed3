#!/bin/bash
# kselftest.sh: the etmem kselftest of the patch series (tests/vm/kernel/,
# tools/testing/selftests/mm/etmem.c), which build-kernel.sh builds with the
# kernel, run in the full guest (lib.sh RIG_FULL_OPTS). Passes only if every
# test passed: the guest has everything they need, so a skip is a failure.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
kernel=$("$RIG_SRC_DIR/build-kernel.sh" | tail -n1)
exec "$RIG_SRC_DIR/run-in-vm.sh" "${RIG_FULL_OPTS[@]}" --timeout 280 \
	--files "$(dirname "$kernel")/selftests/etmem" -- "$RIG_SRC_DIR/guest/kselftest.sh" etmem
