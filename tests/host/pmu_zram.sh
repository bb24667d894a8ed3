#!/bin/bash
# SPDX-License-Identifier: MulanPSL-2.0
# Host test of the PMU sampler (test_host_pmu.c) with swap on zram (or a
# swapfile), serialised with the other swap-using tests.
# Usage: pmu_zram.sh TEST_BINARY ETMEM_WORKLOAD [--record FILE]
set -u
. "$(dirname "$0")/lib.sh"
need_root
trap host_cleanup EXIT
exec 8>/tmp/etmem-test-swap.lock
flock -w 300 8 || fail "swap lock /tmp/etmem-test-swap.lock busy for 300 s"
host_swap_setup /var/tmp
"$@"
