/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * cslide with the PMU keys: the sampler's counts as cslide's bucket input
 * (daemon/engines/cslide_scan.c does these steps with a live sampler).
 * Samples go into a real counter (pmu_counter.h) with cooling_interval,
 * are folded into a page state as counts (ETM_PMU_FOLD_COUNT, what
 * cslide's tracker options ask for), turned into units (cslide_unit_count:
 * a large unit sums its pages' counts) and bucketed with max_count 254, so
 * that hot_threshold is weighed against the sampled counts themselves.
 * And the cooling: a page-fault sample (weight 16) stays hot through the
 * halvings every cooling_interval counted samples, and folding (every
 * cycle) never resets it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/engines/cslide_policy.h"
#include "scan/pmu_counter.h"
#include "scan/pmu_pages.h"
#include "scan/pmu_sampler.h"

#define PG 4096ULL
#define HUGE (2ULL << 20)
/* 2 MiB aligned, so that the THP unit below is one */
#define A (1ULL << 30)
#define PID 7

static void hit(struct etm_pmu_counter *c, uint64_t addr, size_t times)
{
	struct etm_perf_sample s = { .pid = PID, .tid = PID, .addr = addr };

	for (size_t i = 0; i < times; i++)
		etm_pmu_counter_samples(c, &s, 1);
}

/* One pass as cslide makes it: the page state reset, then the counts folded in. */
static void pass(struct etm_pmu_counter *c, struct etm_pagestate *ps)
{
	etm_pagestate_reset(ps);
	assert_int_equal(etm_pmu_counter_fold(c, PID, ps, -1, ETM_PMU_FOLD_COUNT), 0);
}

static int count_at(const struct etm_pagestate *ps, uint64_t addr)
{
	return etm_ps_count(ps->r[0].st[(addr - ps->r[0].start) / PG]);
}

/* A fault weighs 16: halved every 4 counted samples, it is 8, 4, 2, 1, then 0; folds change nothing. */
static void test_fault_cooling(void **state)
{
	struct etm_pmu_range r[] = { { .start = A, .end = A + 64 * PG } };
	struct etm_pagestate *ps = etm_pagestate_new();
	struct etm_pmu_counter *c;
	struct etm_pmu_count_stats st;

	(void)state;
	assert_int_equal(etm_pmu_counter_new(4, ETM_PMU_FAULT_WEIGHT, &c), 0);
	assert_int_equal(etm_pmu_counter_set(c, PID, r, 1), 0);
	assert_int_equal(etm_pagestate_add_range(ps, A, A + 64 * PG), 0);
	hit(c, A, 1); /* the fault of page 0 */
	for (int cycle = 0; cycle < 3; cycle++) {
		pass(c, ps); /* the counts survive any number of cycles: never reset */
		assert_int_equal(count_at(ps, A), 16);
		assert_int_equal(count_at(ps, A + PG), 0); /* never faulted: seen, count 0 */
	}
	/* Three more faults elsewhere: the fourth counted sample halves every count. */
	hit(c, A + 10 * PG, 1);
	hit(c, A + 11 * PG, 1);
	pass(c, ps);
	assert_int_equal(count_at(ps, A), 16);
	hit(c, A + 12 * PG, 1);
	pass(c, ps);
	assert_int_equal(count_at(ps, A), 8);
	assert_int_equal(count_at(ps, A + 12 * PG), 8); /* counted, then halved with the rest */
	/* 4 samples a halving: 8 -> 4 -> 2 -> 1 (still hot at hot_threshold 1) -> 0 */
	for (int want = 4; want >= 0; want /= 2) {
		hit(c, A + 20 * PG, 4);
		pass(c, ps);
		assert_int_equal(count_at(ps, A), want);
		if (!want)
			break;
	}
	etm_pmu_counter_stats(c, &st);
	assert_int_equal(st.coolings, 5);
	assert_int_equal(st.counted, 20);
	etm_pmu_counter_free(c);
	etm_pagestate_free(ps);
}

/* The fold as counts: the count itself (saturating at the page state's 254), not its bit length. */
static void test_fold_counts(void **state)
{
	struct etm_pmu_range r[] = { { .start = A, .end = A + 8 * PG } };
	struct etm_pagestate *ps = etm_pagestate_new();
	struct etm_pmu_pages *p;

	(void)state;
	assert_int_equal(etm_pmu_pages_new(r, 1, NULL, &p), 0);
	etm_pmu_pages_hit(p, A + PG, 1, NULL);
	etm_pmu_pages_hit(p, A + 2 * PG, 3, NULL);
	etm_pmu_pages_hit(p, A + 3 * PG, 16, NULL);
	etm_pmu_pages_hit(p, A + 4 * PG, 255, NULL);
	assert_int_equal(etm_pagestate_add_range(ps, A, A + 8 * PG), 0);
	etm_pmu_pages_fold(p, ps, -1, ETM_PMU_FOLD_COUNT);
	assert_int_equal(count_at(ps, A), 0);
	assert_int_equal(count_at(ps, A + PG), 1);
	assert_int_equal(count_at(ps, A + 2 * PG), 3);
	assert_int_equal(count_at(ps, A + 3 * PG), 16);
	assert_int_equal(count_at(ps, A + 4 * PG), (int)ETM_PS_COUNT_MAX);
	/* the weights (slide's fold) for the same counts: 0, 1, 2, 5, 8 */
	etm_pagestate_reset(ps);
	etm_pmu_pages_fold(p, ps, -1, ETM_PMU_FOLD_WEIGHT);
	assert_int_equal(count_at(ps, A + 3 * PG), 5);
	etm_pmu_pages_free(p);
	etm_pagestate_free(ps);
}

/*
 * A unit's count: a sampled unit sums its pages' (saturating), a scanned one
 * takes the lowest, a region-graded one the count 3/4 of its pages reach;
 * -1 unseen.
 */
static void test_unit_counts(void **state)
{
	struct etm_pagestate *ps = etm_pagestate_new();
	const struct etm_ps_range *r;

	(void)state;
	assert_int_equal(etm_pagestate_add_range(ps, A, A + 2 * HUGE), 0);
	r = &ps->r[0];
	/* THP 0: three pages sampled 1, 2 and 16 times, the other 509 seen with 0 */
	etm_pagestate_mark(ps, A, HUGE / PG, 0);
	etm_pagestate_mark(ps, A + 5 * PG, 1, 1);
	etm_pagestate_mark(ps, A + 6 * PG, 1, 2);
	etm_pagestate_mark(ps, A + 300 * PG, 1, 16);
	assert_int_equal(cslide_unit_count(r, A, HUGE, CSLIDE_FOLD_SUM), 19);
	assert_int_equal(cslide_unit_count(r, A, HUGE, CSLIDE_FOLD_LOWEST), 0);
	/* THP 1: every page at 200, the sum saturates */
	etm_pagestate_mark(ps, A + HUGE, HUGE / PG, 200);
	assert_int_equal(cslide_unit_count(r, A + HUGE, HUGE, CSLIDE_FOLD_SUM), (int)ETM_PS_COUNT_MAX);
	assert_int_equal(cslide_unit_count(r, A + HUGE, HUGE, CSLIDE_FOLD_LOWEST), 200);
	/* a base page, and one past the range's end: unseen */
	assert_int_equal(cslide_unit_count(r, A + 6 * PG, PG, CSLIDE_FOLD_SUM), 2);
	assert_int_equal(cslide_unit_count(r, A + 2 * HUGE, PG, CSLIDE_FOLD_SUM), -1);
	/* DAMON's regions: the count 3/4 of the unit's pages reach */
	assert_int_equal(cslide_unit_count(r, A, HUGE, CSLIDE_FOLD_MOST), 0);
	assert_int_equal(cslide_unit_count(r, A + HUGE, HUGE, CSLIDE_FOLD_MOST), 200);
	/*
	 * THP 1's last 13 pages in a region that read idle (the rig's hot huge
	 * page whose tail shared a region with cold ones): still hot, up to a
	 * quarter of it; one page more: idle.
	 */
	etm_pagestate_reset(ps);
	etm_pagestate_mark(ps, A + HUGE, HUGE / PG - 13, 200);
	etm_pagestate_mark(ps, A + 2 * HUGE - 13 * PG, 13, 0);
	assert_int_equal(cslide_unit_count(r, A + HUGE, HUGE, CSLIDE_FOLD_MOST), 200);
	assert_int_equal(cslide_unit_count(r, A + HUGE, HUGE, CSLIDE_FOLD_LOWEST), 0);
	etm_pagestate_reset(ps);
	etm_pagestate_mark(ps, A + HUGE, HUGE / PG * 3 / 4, 200);
	etm_pagestate_mark(ps, A + HUGE + HUGE * 3 / 4, HUGE / PG / 4, 0);
	assert_int_equal(cslide_unit_count(r, A + HUGE, HUGE, CSLIDE_FOLD_MOST), 200);
	etm_pagestate_reset(ps);
	etm_pagestate_mark(ps, A + HUGE, HUGE / PG * 3 / 4 - 1, 200);
	etm_pagestate_mark(ps, A + HUGE + HUGE * 3 / 4 - PG, HUGE / PG / 4 + 1, 0);
	assert_int_equal(cslide_unit_count(r, A + HUGE, HUGE, CSLIDE_FOLD_MOST), 0);
	/* a cold huge page half in a region that read accessed (the other misreading): cold */
	etm_pagestate_reset(ps);
	etm_pagestate_mark(ps, A + HUGE, HUGE / PG / 2, 0);
	etm_pagestate_mark(ps, A + HUGE + HUGE / 2, HUGE / PG / 2, 1);
	assert_int_equal(cslide_unit_count(r, A + HUGE, HUGE, CSLIDE_FOLD_MOST), 0);
	etm_pagestate_reset(ps);
	assert_int_equal(cslide_unit_count(r, A, HUGE, CSLIDE_FOLD_SUM), -1);
	etm_pagestate_free(ps);
}

/*
 * From samples to buckets: 4 KiB pages on node 1 (slow) with sampled counts
 * 0, 3, 4, 16 and 40, bucketed with max_count 254: hot_threshold 4 takes
 * the pages at 4 and above, which the passes' scale (loop * 3 = 3 with
 * loop 1) could never reach.
 */
static void test_buckets_from_samples(void **state)
{
	static const size_t times[] = { 0, 3, 4, 16, 40 };
	struct etm_pmu_range r[] = { { .start = A, .end = A + 8 * PG } };
	struct etm_pagestate *ps = etm_pagestate_new();
	struct cslide_page pages[8];
	struct cslide_buckets b = { 0 };
	struct etm_pmu_counter *c;
	uint64_t hot, cold;
	size_t n = 0;

	(void)state;
	/* memory-access events: weight 1; no cooling (large interval) */
	assert_int_equal(etm_pmu_counter_new(1000000, 1, &c), 0);
	assert_int_equal(etm_pmu_counter_set(c, PID, r, 1), 0);
	assert_int_equal(etm_pagestate_add_range(ps, A, A + 5 * PG), 0);
	for (size_t i = 0; i < 5; i++)
		hit(c, A + i * PG, times[i]);
	pass(c, ps);
	for (uint64_t a = A; a < A + 5 * PG; a += PG) {
		int cnt = cslide_unit_count(&ps->r[0], a, PG, CSLIDE_FOLD_SUM);

		assert_true(cnt >= 0);
		pages[n++] = (struct cslide_page){ .addr = a, .count = (uint16_t)cnt, .node = 1, .shift = 12 };
	}
	assert_int_equal(pages[4].count, 40);
	assert_int_equal(cslide_buckets_build(&b, pages, n, (int)ETM_PS_COUNT_MAX, 2), 0);
	cslide_buckets_node_bytes(&b, 4, 1, &hot, &cold);
	assert_int_equal(hot, 3 * PG);
	assert_int_equal(cold, 2 * PG);
	cslide_buckets_node_bytes(&b, 5, 1, &hot, &cold); /* the edge: 4 is below 5 */
	assert_int_equal(hot, 2 * PG);
	cslide_buckets_node_bytes(&b, 41, 1, &hot, &cold);
	assert_int_equal(hot, 0);
	assert_int_equal(cold, 5 * PG);
	cslide_buckets_node_bytes(&b, 1, 1, &hot, &cold); /* any sample makes a page hot */
	assert_int_equal(hot, 4 * PG);
	cslide_buckets_node_bytes(&b, 4, 0, &hot, &cold); /* nothing on node 0 */
	assert_int_equal(hot + cold, 0);
	cslide_buckets_clear(&b);
	/* The passes' scale: the same counts clamped to loop * 3 = 3 are all cold at 4. */
	assert_int_equal(cslide_buckets_build(&b, pages, n, 3, 2), 0);
	cslide_buckets_node_bytes(&b, 4, 1, &hot, &cold);
	assert_int_equal(hot, 0);
	cslide_buckets_clear(&b);
	etm_pmu_counter_free(c);
	etm_pagestate_free(ps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fault_cooling),
		cmocka_unit_test(test_fold_counts),
		cmocka_unit_test(test_unit_counts),
		cmocka_unit_test(test_buckets_from_samples),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
