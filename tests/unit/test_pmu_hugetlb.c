/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Samples in hugetlb VMAs (cslide's vm_flags=ht): the sampler's index
 * takes each VMA's page size from smaps, and a sample anywhere in a huge
 * page raises that huge page's one count. Checked here: the ranges from
 * smaps text, counting per 2 MiB and 1 GiB page next to 4 KiB pages,
 * the index's checks, rebuilds (a huge VMA that stays, grows, shrinks, or
 * is remapped with another page size), cooling, the two folds into the
 * 4 KiB page state, and a counter fed samples end to end up to cslide's
 * unit counts and buckets.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/engines/cslide_policy.h"
#include "scan/pmu_counter.h"
#include "scan/pmu_pages.h"
#include "scan/pmu_sampler.h"
#include "scan/procfs.h"

#define PG 4096ULL
#define H2M (2ULL << 20)
#define H1G (1ULL << 30)
/* a 4 KiB VMA, a 2 MiB hugetlb VMA (8 pages), a 1 GiB hugetlb VMA (2 pages) */
#define BASE 0x10000000ULL
#define HT (64ULL << 30)
#define GIG (128ULL << 30)
#define PID 11

static const char smaps[] = "10000000-10010000 rw-p 00000000 00:00 0 \n"
			    "KernelPageSize:        4 kB\n"
			    "VmFlags: rd wr mr mw me ac\n"
			    "1000000000-1001000000 rw-p 00000000 00:0f 1234 /anon_hugepage (deleted)\n"
			    "KernelPageSize:     2048 kB\n"
			    "VmFlags: rd wr mr mw me de ht\n"
			    "2000000000-2080000000 rw-s 00000000 00:10 99 /dev/hugepages1G/vm\n"
			    "KernelPageSize:  1048576 kB\n"
			    "VmFlags: rd wr sh mr mw me ms de ht\n";

/* The three VMAs above as the sampler's ranges (what smaps_ranges() gives it). */
static struct etm_pmu_range *ranges(size_t *n)
{
	struct etm_smaps_vma *v = NULL;
	struct etm_pmu_range *r = NULL;

	assert_int_equal(etm_parse_smaps(smaps, sizeof(smaps) - 1, NULL, &v, n), 0);
	assert_int_equal(*n, 3);
	assert_int_equal(etm_pmu_ranges_of_smaps(v, *n, &r), 0);
	free(v);
	return r;
}

static void test_ranges_from_smaps(void **state)
{
	const char *const ht[] = { "ht" };
	struct etm_vma_filter f = { .vmflags = (char *const *)ht, .nvmflags = 1 };
	struct etm_smaps_vma *v = NULL, odd = { .start = HT, .end = HT + H2M, .page_size = 3 * PG, .hugetlb = true };
	struct etm_pmu_range *r;
	size_t n;

	(void)state;
	r = ranges(&n);
	assert_int_equal(r[0].start, BASE);
	assert_int_equal(r[0].shift, 12);
	assert_int_equal(r[1].start, HT);
	assert_int_equal(r[1].end, HT + 8 * H2M);
	assert_int_equal(r[1].shift, 21);
	assert_int_equal(r[2].start, GIG);
	assert_int_equal(r[2].shift, 30);
	free(r);
	/* vm_flags=ht: the two hugetlb VMAs only, as cslide's filter asks */
	assert_int_equal(etm_parse_smaps(smaps, sizeof(smaps) - 1, &f, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(etm_pmu_ranges_of_smaps(v, n, &r), 0);
	assert_int_equal(r[0].shift, 21);
	assert_int_equal(r[1].shift, 30);
	free(r);
	free(v);
	/* a page size that is no power of two: counted in 4 KiB pages, never refused */
	assert_int_equal(etm_pmu_ranges_of_smaps(&odd, 1, &r), 0);
	assert_int_equal(r[0].shift, 12);
	free(r);
}

/* A sample anywhere in a huge page counts on that page: one count per 2 MiB or 1 GiB. */
static void test_count_per_huge_page(void **state)
{
	struct etm_pmu_pages *p;
	struct etm_pmu_range *r;
	size_t n, hint = 0;

	(void)state;
	r = ranges(&n);
	assert_int_equal(etm_pmu_pages_new(r, n, NULL, &p), 0);
	free(r);
	assert_int_equal(p->nt, 3);
	assert_int_equal(p->npages, 16 + 8 + 2); /* 4 KiB pages, 2 MiB pages, 1 GiB pages */
	/* huge page 3 of the 2 MiB VMA: its first byte, its middle, its last byte */
	assert_true(etm_pmu_pages_hit(p, HT + 3 * H2M, 1, &hint));
	assert_true(etm_pmu_pages_hit(p, HT + 3 * H2M + 777 * PG / 2, 1, &hint));
	assert_true(etm_pmu_pages_hit(p, HT + 4 * H2M - 1, 1, &hint));
	assert_int_equal(etm_pmu_pages_count(p, HT + 3 * H2M), 3);
	assert_int_equal(etm_pmu_pages_count(p, HT + 3 * H2M + 100 * PG), 3); /* any address of it */
	assert_int_equal(etm_pmu_pages_count(p, HT + 4 * H2M), 0);	      /* the next one */
	assert_int_equal(etm_pmu_pages_count(p, HT + 2 * H2M + H2M - PG), 0); /* the one before */
	/* the 1 GiB VMA: two pages, a sample near the end of the second */
	assert_true(etm_pmu_pages_hit(p, GIG + 2 * H1G - 64, 16, &hint));
	assert_int_equal(etm_pmu_pages_count(p, GIG + H1G), 16);
	assert_int_equal(etm_pmu_pages_count(p, GIG), 0);
	/* the 4 KiB VMA next to them is per 4 KiB as ever */
	assert_true(etm_pmu_pages_hit(p, BASE + PG + 8, 5, &hint));
	assert_int_equal(etm_pmu_pages_count(p, BASE + PG), 5);
	assert_int_equal(etm_pmu_pages_count(p, BASE), 0);
	/* outside every VMA */
	assert_false(etm_pmu_pages_hit(p, HT + 8 * H2M, 1, &hint));
	assert_int_equal(etm_pmu_pages_count(p, HT - 1), -1);
	/* three sampled pages, whatever their size; one leaf per size, not 512 per huge page */
	assert_int_equal(etm_pmu_pages_sampled(p), 3);
	assert_true(etm_pmu_pages_bytes(p) <= 3 * (512 + 4 * 512 * sizeof(void *)));
	/* saturation and cooling as for 4 KiB pages */
	for (int i = 0; i < 20; i++)
		etm_pmu_pages_hit(p, HT + 3 * H2M + 5, 16, &hint);
	assert_int_equal(etm_pmu_pages_count(p, HT + 3 * H2M), ETM_PMU_COUNT_MAX);
	etm_pmu_pages_cool(p);
	assert_int_equal(etm_pmu_pages_count(p, HT + 3 * H2M), 127);
	assert_int_equal(etm_pmu_pages_count(p, GIG + H1G), 8);
	assert_int_equal(etm_pmu_pages_count(p, BASE + PG), 2);
	etm_pmu_pages_free(p);
}

/* The index's checks with page sizes: the sizes it takes, alignment, order, how many sizes. */
static void test_index_checks(void **state)
{
	struct etm_pmu_range small[] = { { .start = HT, .end = HT + H2M, .shift = 11 } };
	struct etm_pmu_range big[] = { { .start = HT, .end = HT + H2M, .shift = ETM_PMU_SHIFT_MAX + 1 } };
	/* a 4 KiB VMA ending inside the huge page the next VMA's start rounds down to */
	struct etm_pmu_range overlap[] = { { .start = HT - H2M, .end = HT + PG },
					   { .start = HT + 2 * PG, .end = HT + H2M, .shift = 21 } };
	/* unaligned ends are rounded out to the VMA's page size */
	struct etm_pmu_range odd[] = { { .start = HT + PG, .end = HT + H2M + 1, .shift = 21 } };
	struct etm_pmu_range seven[7];
	struct etm_pmu_pages *p;

	(void)state;
	assert_int_equal(etm_pmu_pages_new(small, 1, NULL, &p), -EINVAL);
	assert_null(p);
	assert_int_equal(etm_pmu_pages_new(big, 1, NULL, &p), -EINVAL);
	assert_int_equal(etm_pmu_pages_new(overlap, 2, NULL, &p), -EINVAL);
	assert_int_equal(etm_pmu_pages_new(odd, 1, NULL, &p), 0);
	assert_int_equal(p->v[0].start, HT);
	assert_int_equal(p->v[0].end, HT + 2 * H2M);
	assert_int_equal(p->npages, 2);
	etm_pmu_pages_free(p);
	/* more page sizes than ETM_PMU_TREES: refused, nothing leaked */
	for (unsigned i = 0; i < 7; i++)
		seven[i] = (struct etm_pmu_range){ .start = (uint64_t)(i + 1) << 40,
						   .end = ((uint64_t)(i + 1) << 40) + (1ULL << (14 + i)),
						   .shift = 14 + i };
	assert_int_equal(etm_pmu_pages_new(seven, 7, NULL, &p), -EINVAL);
	assert_null(p);
	assert_int_equal(etm_pmu_pages_new(seven, 6, NULL, &p), 0);
	assert_int_equal(p->nt, ETM_PMU_TREES);
	etm_pmu_pages_free(p);
}

/*
 * Rebuilds: the hugetlb VMA stays (counts kept), grows (new pages at 0),
 * shrinks (counts beyond dropped), and is remapped with 4 KiB pages (its
 * huge counts dropped, the tree freed) and back.
 */
static void test_rebuilds(void **state)
{
	struct etm_pmu_range r1[] = { { .start = BASE, .end = BASE + 16 * PG },
				      { .start = HT, .end = HT + 8 * H2M, .shift = 21 } };
	struct etm_pmu_range grown[] = { { .start = BASE, .end = BASE + 16 * PG },
					 { .start = HT, .end = HT + 16 * H2M, .shift = 21 } };
	struct etm_pmu_range shrunk[] = { { .start = HT + 2 * H2M, .end = HT + 6 * H2M, .shift = 21 } };
	struct etm_pmu_range small[] = { { .start = HT, .end = HT + 8 * H2M } };
	struct etm_pmu_pages *p, *q;

	(void)state;
	assert_int_equal(etm_pmu_pages_new(r1, 2, NULL, &p), 0);
	for (uint64_t i = 0; i < 8; i++)
		etm_pmu_pages_hit(p, HT + i * H2M + i * PG, (unsigned)i + 1, NULL);
	etm_pmu_pages_hit(p, BASE, 9, NULL);
	/* the same VMAs again (vma_updata_rate): every count kept */
	assert_int_equal(etm_pmu_pages_new(r1, 2, p, &q), 0);
	etm_pmu_pages_free(p);
	for (uint64_t i = 0; i < 8; i++)
		assert_int_equal(etm_pmu_pages_count(q, HT + i * H2M), (int)i + 1);
	assert_int_equal(etm_pmu_pages_count(q, BASE), 9);
	/* grown: the old pages keep theirs, the new ones start at 0 */
	assert_int_equal(etm_pmu_pages_new(grown, 2, q, &p), 0);
	etm_pmu_pages_free(q);
	assert_int_equal(etm_pmu_pages_count(p, HT + 7 * H2M), 8);
	assert_int_equal(etm_pmu_pages_count(p, HT + 12 * H2M), 0);
	assert_int_equal(etm_pmu_pages_sampled(p), 9);
	/* shrunk to pages 2..5, the 4 KiB VMA unmapped: the rest dropped */
	assert_int_equal(etm_pmu_pages_new(shrunk, 1, p, &q), 0);
	etm_pmu_pages_free(p);
	assert_int_equal(etm_pmu_pages_sampled(q), 4);
	assert_int_equal(etm_pmu_pages_count(q, HT + 2 * H2M), 3);
	assert_int_equal(etm_pmu_pages_count(q, HT + 5 * H2M + H2M - 1), 6);
	assert_int_equal(etm_pmu_pages_count(q, HT + H2M), -1);
	assert_int_equal(etm_pmu_pages_count(q, BASE), -1);
	assert_int_equal(q->nt, 1);
	/* remapped with 4 KiB pages: a huge page's count is no 4 KiB page's, all dropped */
	assert_int_equal(etm_pmu_pages_new(small, 1, q, &p), 0);
	etm_pmu_pages_free(q);
	assert_int_equal(etm_pmu_pages_sampled(p), 0);
	assert_int_equal(etm_pmu_pages_bytes(p), 0); /* the 2 MiB tree went with its counts */
	assert_int_equal(etm_pmu_pages_count(p, HT + 2 * H2M), 0);
	etm_pmu_pages_hit(p, HT + 2 * H2M + PG, 4, NULL);
	/* and back to hugetlb: the 4 KiB counts are dropped the same way */
	assert_int_equal(etm_pmu_pages_new(shrunk, 1, p, &q), 0);
	etm_pmu_pages_free(p);
	assert_int_equal(etm_pmu_pages_sampled(q), 0);
	assert_int_equal(etm_pmu_pages_count(q, HT + 2 * H2M + PG), 0);
	etm_pmu_pages_free(q);
}

static int ps_count(const struct etm_pagestate *ps, size_t range, uint64_t addr)
{
	return etm_ps_count(ps->r[range].st[(addr - ps->r[range].start) / PG]);
}

/*
 * The folds into the 4 KiB page state: cslide's (the count on the huge
 * page's first 4 KiB page, 0 on the others: the unit's sum is its count)
 * and slide's (the weight on each). A huge page never sampled is seen with
 * 0 (no pagemap here: every indexed page is marked).
 */
static void test_folds(void **state)
{
	struct etm_pmu_range r[] = { { .start = HT, .end = HT + 4 * H2M, .shift = 21 } };
	struct etm_pagestate *ps = etm_pagestate_new();
	const struct etm_ps_range *pr;
	struct etm_pmu_pages *p;

	(void)state;
	assert_int_equal(etm_pmu_pages_new(r, 1, NULL, &p), 0);
	etm_pmu_pages_hit(p, HT + H2M + 300 * PG, 16, NULL); /* page 1: one fault */
	etm_pmu_pages_hit(p, HT + 2 * H2M + 5, 40, NULL);    /* page 2: 40 */
	etm_pmu_pages_hit(p, HT + 2 * H2M + H2M - 1, 40, NULL);
	/* the page state covers the VMA and 2 MiB beyond it */
	assert_int_equal(etm_pagestate_add_range(ps, HT, HT + 5 * H2M), 0);
	pr = &ps->r[0];
	etm_pmu_pages_fold(p, ps, -1, ETM_PMU_FOLD_COUNT);
	assert_int_equal(ps_count(ps, 0, HT + H2M), 16);
	assert_int_equal(ps_count(ps, 0, HT + H2M + PG), 0);
	assert_int_equal(ps_count(ps, 0, HT + H2M + 300 * PG), 0);
	assert_int_equal(ps_count(ps, 0, HT + 2 * H2M), 80);
	assert_int_equal(cslide_unit_count(pr, HT, H2M, CSLIDE_FOLD_SUM), 0);
	assert_int_equal(cslide_unit_count(pr, HT + H2M, H2M, CSLIDE_FOLD_SUM), 16);
	assert_int_equal(cslide_unit_count(pr, HT + 2 * H2M, H2M, CSLIDE_FOLD_SUM), 80);
	assert_int_equal(cslide_unit_count(pr, HT + 3 * H2M, H2M, CSLIDE_FOLD_SUM), 0);
	assert_int_equal(cslide_unit_count(pr, HT + 4 * H2M, H2M, CSLIDE_FOLD_SUM), -1); /* beyond the index */
	/* slide's fold: every 4 KiB page of a huge page carries its weight */
	etm_pagestate_reset(ps);
	etm_pmu_pages_fold(p, ps, -1, ETM_PMU_FOLD_WEIGHT);
	assert_int_equal(ps_count(ps, 0, HT + H2M), 5);
	assert_int_equal(ps_count(ps, 0, HT + 2 * H2M - PG), 5);
	assert_int_equal(ps_count(ps, 0, HT + 2 * H2M + 77 * PG), 7);
	assert_int_equal(ps_count(ps, 0, HT), 0);
	etm_pagestate_free(ps);
	/* a page state starting inside a huge page: the count on its first page there, not lost */
	ps = etm_pagestate_new();
	assert_int_equal(etm_pagestate_add_range(ps, HT + H2M + 8 * PG, HT + 2 * H2M), 0);
	etm_pmu_pages_fold(p, ps, -1, ETM_PMU_FOLD_COUNT);
	assert_int_equal(cslide_unit_count(&ps->r[0], HT + H2M, H2M, CSLIDE_FOLD_SUM), 16);
	etm_pagestate_free(ps);
	etm_pmu_pages_free(p);
}

static void samples(struct etm_pmu_counter *c, uint64_t addr, size_t times)
{
	struct etm_perf_sample s = { .pid = PID, .tid = PID, .addr = addr };

	for (size_t i = 0; i < times; i++)
		etm_pmu_counter_samples(c, &s, 1);
}

/*
 * End to end as cslide runs it with pmu_event=page-faults: a 16 MiB hugetlb
 * VM, the first touches of two huge pages sampled at odd addresses (weight
 * 16 each), folded as counts, graded in 2 MiB units and bucketed: those two
 * are hot at hot_threshold 4, the six never faulted cold; the index is then
 * rebuilt (the VMA grows) and cooled, and the two stay hot.
 */
static void test_counter_to_buckets(void **state)
{
	struct etm_pmu_range r[] = { { .start = HT, .end = HT + 8 * H2M, .shift = 21 } };
	struct etm_pmu_range grown[] = { { .start = HT, .end = HT + 12 * H2M, .shift = 21 } };
	struct etm_pagestate *ps = etm_pagestate_new();
	struct cslide_page pages[8];
	struct cslide_buckets b = { 0 };
	struct etm_pmu_count_stats st;
	struct etm_pmu_counter *c;
	uint64_t hot, cold;

	(void)state;
	assert_int_equal(etm_pmu_counter_new(3, ETM_PMU_FAULT_WEIGHT, &c), 0);
	assert_int_equal(etm_pmu_counter_set(c, PID, r, 1), 0);
	samples(c, HT + 2 * H2M + 4321, 1);
	samples(c, HT + 5 * H2M + H2M - 8, 1);
	samples(c, HT + 9 * H2M, 1); /* not mapped yet: outside the index */
	etm_pmu_counter_stats(c, &st);
	assert_int_equal(st.counted, 2);
	assert_int_equal(st.unmapped, 1);
	assert_int_equal(st.pages, 8);
	assert_int_equal(etm_pmu_counter_count(c, PID, HT + 2 * H2M), 16);
	assert_int_equal(etm_pmu_counter_sampled(c, PID), 2);
	for (int round = 0; round < 2; round++) {
		size_t n = 0;

		assert_int_equal(etm_pagestate_add_range(ps, HT, HT + 8 * H2M), 0);
		assert_int_equal(etm_pmu_counter_fold(c, PID, ps, -1, ETM_PMU_FOLD_COUNT), 0);
		for (uint64_t i = 0; i < 8; i++) {
			int cnt = cslide_unit_count(&ps->r[0], HT + i * H2M, H2M, CSLIDE_FOLD_SUM);

			assert_true(cnt >= 0);
			pages[n++] = (struct cslide_page){
				.addr = HT + i * H2M, .count = (uint16_t)cnt, .node = 1, .shift = 21
			};
		}
		assert_int_equal(pages[2].count, round ? 8 : 16);
		assert_int_equal(cslide_buckets_build(&b, pages, n, (int)ETM_PS_COUNT_MAX, 2), 0);
		cslide_buckets_node_bytes(&b, 4, 1, &hot, &cold);
		assert_int_equal(hot, 2 * H2M);
		assert_int_equal(cold, 6 * H2M);
		cslide_buckets_clear(&b);
		etm_pagestate_free(ps);
		ps = etm_pagestate_new();
		/* the VMA grows: rebuilt, the faulted pages keep their counts; a third sample halves them */
		assert_int_equal(etm_pmu_counter_set(c, PID, grown, 1), 0);
		samples(c, HT + 9 * H2M, 1);
	}
	etm_pmu_counter_stats(c, &st);
	assert_int_equal(st.coolings, 1);
	assert_int_equal(st.rebuilds, 2);
	assert_int_equal(st.pages, 12);
	/* the page mapped by the growth: 16, halved with the rest, then 16 more */
	assert_int_equal(etm_pmu_counter_count(c, PID, HT + 9 * H2M + 1), 24);
	etm_pmu_counter_free(c);
	etm_pagestate_free(ps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ranges_from_smaps),
		cmocka_unit_test(test_count_per_huge_page),
		cmocka_unit_test(test_index_checks),
		cmocka_unit_test(test_rebuilds),
		cmocka_unit_test(test_folds),
		cmocka_unit_test(test_counter_to_buckets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
