/* SPDX-License-Identifier: MulanPSL-2.0 */
/* slide's threshold gates, swapcache trigger and dram_percent quota, over fake /proc text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/engines/slide_policy.h"

static void mi_of(struct etm_meminfo *mi, unsigned total, unsigned free, unsigned avail, unsigned cached)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "MemTotal: %u kB\nMemFree: %u kB\nMemAvailable: %u kB\nSwapCached: %u kB\n",
			 total, free, avail, cached);

	assert_int_equal(etm_parse_meminfo(buf, (size_t)n, mi), 0);
}

static void st_of(struct etm_proc_status *st, unsigned rss, unsigned swap)
{
	char buf[128];
	int n = snprintf(buf, sizeof(buf), "Name:\tw\nVmRSS:\t%u kB\nVmSwap:\t%u kB\n", rss, swap);

	assert_int_equal(etm_parse_status(buf, (size_t)n, st), 0);
}

static void test_sysmem_gate(void **state)
{
	struct etm_meminfo mi;
	struct etm_proc_status st;

	(void)state;
	st_of(&st, 1000000, 0);
	/* unset: always swap */
	mi_of(&mi, 1000, 900, 900, 0);
	assert_int_equal(slide_gate_check(-1, 0, &mi, &st), SLIDE_GATE_SWAP);
	/* 60% available >= 50: no swap. MemAvailable counts, not MemFree (10%). */
	mi_of(&mi, 1000, 100, 600, 0);
	assert_int_equal(slide_gate_check(50, 0, &mi, &st), SLIDE_GATE_SYSMEM);
	/* exactly at the threshold: not below it */
	mi_of(&mi, 1000, 100, 500, 0);
	assert_int_equal(slide_gate_check(50, 0, &mi, &st), SLIDE_GATE_SYSMEM);
	mi_of(&mi, 1000, 900, 499, 0);
	assert_int_equal(slide_gate_check(50, 0, &mi, &st), SLIDE_GATE_SWAP);
	/* sysmem 0: available is never below 0% */
	assert_int_equal(slide_gate_check(0, 0, &mi, &st), SLIDE_GATE_SYSMEM);
	/* sysmem 100: swap unless everything is available */
	assert_int_equal(slide_gate_check(100, 0, &mi, &st), SLIDE_GATE_SWAP);
}

static void test_swap_ratio(void **state)
{
	struct etm_meminfo mi;
	struct etm_proc_status st;

	(void)state;
	mi_of(&mi, 1000, 0, 100, 0); /* 10% available */
	/* sysmem 50, no swap_threshold: swap while VmSwap < 50% of RSS+Swap */
	st_of(&st, 600, 400);
	assert_int_equal(slide_gate_check(50, 0, &mi, &st), SLIDE_GATE_SWAP);
	st_of(&st, 500, 500);
	assert_int_equal(slide_gate_check(50, 0, &mi, &st), SLIDE_GATE_SWAP_RATIO);
}

static void test_swap_threshold(void **state)
{
	struct etm_meminfo mi;
	struct etm_proc_status st;
	uint64_t g1 = 1ULL << 30;

	(void)state;
	mi_of(&mi, 1000, 0, 100, 0);
	st_of(&st, 1048576, 0); /* exactly 1 GiB RSS */
	assert_int_equal(slide_gate_check(50, g1, &mi, &st), SLIDE_GATE_SWAP_THRESHOLD);
	st_of(&st, 1048577, 0);
	assert_int_equal(slide_gate_check(50, g1, &mi, &st), SLIDE_GATE_SWAP);
	/* swap_threshold replaces the ratio rule */
	st_of(&st, 2097152, 2097152);
	assert_int_equal(slide_gate_check(50, g1, &mi, &st), SLIDE_GATE_SWAP);
	/* on its own (the spec's wording) it still gates */
	st_of(&st, 1000, 0);
	assert_int_equal(slide_gate_check(-1, g1, &mi, &st), SLIDE_GATE_SWAP_THRESHOLD);
	/* sysmem first */
	mi_of(&mi, 1000, 0, 900, 0);
	st_of(&st, 2097152, 0);
	assert_int_equal(slide_gate_check(50, g1, &mi, &st), SLIDE_GATE_SYSMEM);
	assert_string_equal(slide_gate_name(SLIDE_GATE_SYSMEM), "sysmem_threshold");
}

static void test_swapcache(void **state)
{
	struct etm_meminfo mi;

	(void)state;
	mi_of(&mi, 1000, 0, 0, 0);
	assert_false(slide_swapcache_due(10, &mi));
	mi_of(&mi, 1000, 0, 0, 99);
	assert_false(slide_swapcache_due(10, &mi));
	mi_of(&mi, 1000, 0, 0, 100);
	assert_true(slide_swapcache_due(10, &mi));
	assert_false(slide_swapcache_due(-1, &mi));
}

static void test_dram_percent(void **state)
{
	struct etm_proc_status st;
	uint64_t hist[4] = { 10, 20, 30, 40 };
	unsigned cutoff;
	uint64_t extra;

	(void)state;
	st_of(&st, 800, 200); /* keep 50% of 1000 kB = 500: 300 kB = 75 pages go */
	assert_int_equal(slide_dram_quota_pages(50, &st), 75);
	assert_int_equal(slide_dram_quota_pages(90, &st), 0);
	assert_int_equal(slide_dram_quota_pages(0, &st), 0);
	assert_int_equal(slide_dram_quota_pages(101, &st), 0);
	slide_dram_cutoff(hist, 4, 45, &cutoff, &extra);
	assert_int_equal(cutoff, 2);
	assert_int_equal(extra, 15);
	slide_dram_cutoff(hist, 4, 1000, &cutoff, &extra);
	assert_int_equal(cutoff, 4);
	assert_int_equal(extra, 0);
	slide_dram_cutoff(hist, 4, 0, &cutoff, &extra);
	assert_int_equal(cutoff, 0);
	assert_int_equal(extra, 0);
	/* the limit is T: counts >= T never enter (the original's OOB bucket bug) */
	slide_dram_cutoff(hist, 2, 1000, &cutoff, &extra);
	assert_int_equal(cutoff, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sysmem_gate),    cmocka_unit_test(test_swap_ratio),
		cmocka_unit_test(test_swap_threshold), cmocka_unit_test(test_swapcache),
		cmocka_unit_test(test_dram_percent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
