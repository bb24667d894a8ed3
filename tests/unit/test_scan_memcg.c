/* SPDX-License-Identifier: MulanPSL-2.0 */
/* memcg_lru's pure parts: memory.stat parsing, the reclaim amount, the stepwise v1 limit plan. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "scan/memcg_reclaim.h"

#define MiB (1ULL << 20)

static void parse(const char *text, struct etm_memcg_lru_stat *s, int want)
{
	assert_int_equal(etm_memcg_stat_parse(text, strlen(text), s), want);
}

static void test_stat_v1_totals_win(void **state)
{
	struct etm_memcg_lru_stat s;

	(void)state;
	parse("cache 9539584\nrss 6709248\nswap 4096\ninactive_anon 100\nactive_anon 200\n"
	      "inactive_file 8192\ntotal_swap 8192\ntotal_inactive_anon 1000\ntotal_active_anon 2000\n",
	      &s, 0);
	assert_int_equal(s.inactive_anon, 1000);
	assert_int_equal(s.active_anon, 2000);
	assert_true(s.has_swap);
	assert_int_equal(s.swap, 8192);
}

static void test_stat_v1_own_only(void **state)
{
	struct etm_memcg_lru_stat s;

	(void)state;
	/* only one total_ key: the own counters are used, as a consistent set */
	parse("inactive_anon 100\nactive_anon 200\ntotal_inactive_anon 1000\n", &s, 0);
	assert_int_equal(s.inactive_anon, 100);
	assert_int_equal(s.active_anon, 200);
	assert_false(s.has_swap);
}

static void test_stat_v2(void **state)
{
	struct etm_memcg_lru_stat s;

	(void)state;
	parse("anon 1073741824\nfile 0\nkernel 4096\nactive_anon 107374182\ninactive_anon 966367642\n"
	      "active_file 0\ninactive_file 0", /* no final newline */
	      &s, 0);
	assert_int_equal(s.inactive_anon, 966367642);
	assert_int_equal(s.active_anon, 107374182);
}

static void test_stat_bad(void **state)
{
	struct etm_memcg_lru_stat s;

	(void)state;
	parse("", &s, -EINVAL);
	parse("inactive_anon 5\n", &s, -EINVAL);
	parse("inactive_anon x\nactive_anon 3\n", &s, -EINVAL);
	/* overflow is not a value */
	parse("inactive_anon 99999999999999999999999\nactive_anon 3\n", &s, -EINVAL);
	/* prefixes and suffixes are other keys */
	parse("inactive_anonx 5\nxactive_anon 3\n", &s, -EINVAL);
	parse("inactive_anon  5\nactive_anon 3\n", &s, -EINVAL); /* two blanks: not the kernel's format */
	{
		const char bin[] = "inactive_anon 5\0\nactive_anon 3\n";

		assert_int_equal(etm_memcg_stat_parse(bin, sizeof(bin) - 1, &s), 0);
		assert_int_equal(s.inactive_anon, 5);
		assert_int_equal(s.active_anon, 3);
	}
}

static void test_amount(void **state)
{
	struct etm_memcg_lru_stat s = { .inactive_anon = 900 * MiB + 123, .active_anon = 100 * MiB };

	(void)state;
	assert_int_equal(etm_memcg_cold_amount(&s, 0), 900 * MiB);
	assert_int_equal(etm_memcg_cold_amount(&s, 100 * MiB), 800 * MiB);
	assert_int_equal(etm_memcg_cold_amount(&s, 900 * MiB), 0);
	assert_int_equal(etm_memcg_cold_amount(&s, 2000 * MiB), 0);
	s.inactive_anon = MiB - 4096; /* below the minimum worth a reclaim */
	assert_int_equal(etm_memcg_cold_amount(&s, 0), 0);
	s.inactive_anon = MiB;
	assert_int_equal(etm_memcg_cold_amount(&s, 0), MiB);
}

static void test_keep(void **state)
{
	struct etm_memcg_lru_stat s = { .inactive_anon = 50 * MiB, .active_anon = 800 * MiB };

	(void)state;
	/* a short inactive list is left to the LRU: the kernel refills it with hot pages */
	assert_int_equal(etm_memcg_keep(&s, 0), 800 * MiB / ETM_MEMCG_KEEP_DIV);
	assert_int_equal(etm_memcg_cold_amount(&s, etm_memcg_keep(&s, 0)), 0);
	assert_int_equal(etm_memcg_keep(&s, 200 * MiB), 200 * MiB);
	s.active_anon = 0;
	assert_int_equal(etm_memcg_keep(&s, 0), 0);
	assert_int_equal(etm_memcg_cold_amount(&s, etm_memcg_keep(&s, 0)), 50 * MiB);
}

static void test_next_limit(void **state)
{
	(void)state;
	assert_int_equal(etm_memcg_next_limit(1024 * MiB, 100 * MiB, 64 * MiB), 960 * MiB);
	assert_int_equal(etm_memcg_next_limit(130 * MiB, 100 * MiB, 64 * MiB), 100 * MiB);
	assert_int_equal(etm_memcg_next_limit(100 * MiB, 100 * MiB, 64 * MiB), 0);
	assert_int_equal(etm_memcg_next_limit(90 * MiB, 100 * MiB, 64 * MiB), 0);
	assert_int_equal(etm_memcg_next_limit(100 * MiB, 0, 0), 0);
	/* unaligned usage: the limit is rounded up to a page, never above the usage */
	assert_int_equal(etm_memcg_next_limit(64 * MiB + 100, 0, 64 * MiB), 4096);
	assert_int_equal(etm_memcg_next_limit(4000, 0, 64 * MiB), 0);
}

static void test_plan(void **state)
{
	uint64_t l[64];
	size_t n;

	(void)state;
	n = etm_memcg_limit_plan(1026 * MiB, 900 * MiB, 64 * MiB, 0, l, 64);
	assert_int_equal(n, 15); /* 14 full cuts and the rest */
	assert_int_equal(l[0], 962 * MiB);
	for (size_t i = 1; i < n; i++)
		assert_true(l[i] < l[i - 1] && l[i - 1] - l[i] <= 64 * MiB);
	assert_int_equal(l[n - 1], 126 * MiB);
	/* the floor wins over the amount */
	n = etm_memcg_limit_plan(1026 * MiB, 2000 * MiB, 64 * MiB, 200 * MiB, l, 64);
	assert_int_equal(l[n - 1], 200 * MiB);
	/* bounded by max */
	assert_int_equal(etm_memcg_limit_plan(1026 * MiB, 900 * MiB, 64 * MiB, 0, l, 3), 3);
	/* nothing to do */
	assert_int_equal(etm_memcg_limit_plan(1026 * MiB, 0, 64 * MiB, 0, l, 64), 0);
	assert_int_equal(etm_memcg_limit_plan(0, 100, 64 * MiB, 0, l, 64), 0);
}

static void test_dir_of(void **state)
{
	struct etm_memcg_dir d;
	char longp[400];

	(void)state;
	assert_int_equal(etm_memcg_dir_of("relative", true, &d), -EINVAL);
	assert_int_equal(etm_memcg_dir_of("/a/../b", true, &d), -EINVAL);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(etm_memcg_dir_of(longp, true, &d), -ENAMETOOLONG);
	assert_int_equal(etm_memcg_dir_of("/etmem-no-such-cgroup-xyz", true, &d), -ENOENT);
	assert_string_equal(d.dir, ETM_MEMCG_V1_ROOT "/etmem-no-such-cgroup-xyz");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stat_v1_totals_win),
		cmocka_unit_test(test_stat_v1_own_only),
		cmocka_unit_test(test_stat_v2),
		cmocka_unit_test(test_stat_bad),
		cmocka_unit_test(test_amount),
		cmocka_unit_test(test_keep),
		cmocka_unit_test(test_next_limit),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_dir_of),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
