/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Per-page sample counts: the VMA index, saturation, decay by cooling,
 * counts carried across index rebuilds, the fold into a page state, and
 * the counter's matching of samples to processes (foreign pids, samples
 * without an address or outside every VMA, staleness, automatic cooling,
 * concurrent readers).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "scan/pmu_counter.h"
#include "scan/pmu_pages.h"

#define PG 4096ULL
#define A 0x100000ULL
#define B 0x800000ULL

static void test_index(void **state)
{
	struct etm_pmu_range up[] = { { .start = B, .end = B + PG }, { .start = A, .end = A + PG } };
	struct etm_pmu_range over[] = { { .start = A, .end = A + 4 * PG }, { .start = A + 2 * PG, .end = A + 8 * PG } };
	struct etm_pmu_range empty[] = { { .start = A, .end = A } };
	struct etm_pmu_range odd[] = { { .start = A + 1, .end = A + PG + 1 }, { .start = B, .end = B + 2 * PG } };
	struct etm_pmu_pages *p;

	(void)state;
	assert_int_equal(etm_pmu_pages_new(up, 2, NULL, &p), -EINVAL);
	assert_int_equal(etm_pmu_pages_new(over, 2, NULL, &p), -EINVAL);
	assert_int_equal(etm_pmu_pages_new(empty, 1, NULL, &p), -EINVAL);
	assert_int_equal(etm_pmu_pages_new(odd, 2, NULL, &p), 0);
	/* rounded outwards: A..A+2PG is two pages */
	assert_int_equal(p->npages, 4);
	assert_true(etm_pmu_pages_hit(p, A + PG + 5, 1, NULL));
	assert_false(etm_pmu_pages_hit(p, A + 2 * PG, 1, NULL)); /* the gap */
	assert_false(etm_pmu_pages_hit(p, 0, 1, NULL));
	assert_false(etm_pmu_pages_hit(p, UINT64_MAX, 1, NULL));
	assert_int_equal(etm_pmu_pages_count(p, A + PG), 1);
	assert_int_equal(etm_pmu_pages_count(p, A), 0);
	assert_int_equal(etm_pmu_pages_count(p, A + 2 * PG), -1);
	assert_int_equal(etm_pmu_pages_sampled(p), 1);
	etm_pmu_pages_free(p);
	/* no range at all: nothing is ever hit */
	assert_int_equal(etm_pmu_pages_new(NULL, 0, NULL, &p), 0);
	assert_false(etm_pmu_pages_hit(p, A, 1, NULL));
	etm_pmu_pages_free(p);
}

static void test_saturate_and_cool(void **state)
{
	struct etm_pmu_range r[] = { { .start = A, .end = A + 4 * PG } };
	struct etm_pmu_pages *p;
	size_t hint = 99; /* a stale hint is harmless */

	(void)state;
	assert_int_equal(etm_pmu_pages_new(r, 1, NULL, &p), 0);
	for (int i = 0; i < 20; i++)
		etm_pmu_pages_hit(p, A, 16, &hint);
	assert_int_equal(etm_pmu_pages_count(p, A), ETM_PMU_COUNT_MAX);
	etm_pmu_pages_hit(p, A + PG, 1, &hint);
	etm_pmu_pages_hit(p, A + 2 * PG, 3, &hint);
	etm_pmu_pages_cool(p);
	assert_int_equal(etm_pmu_pages_count(p, A), 127);
	assert_int_equal(etm_pmu_pages_count(p, A + PG), 0); /* 1 decays to nothing */
	assert_int_equal(etm_pmu_pages_count(p, A + 2 * PG), 1);
	assert_int_equal(etm_pmu_pages_sampled(p), 2);
	etm_pmu_pages_free(p);
}

/* The process maps and unmaps: pages that stay keep their counts, the rest start at 0. */
static void test_carry_across_rebuild(void **state)
{
	struct etm_pmu_range r1[] = { { .start = A, .end = A + 10 * PG }, { .start = B, .end = B + 10 * PG } };
	struct etm_pmu_range r2[] = { { .start = A + 5 * PG, .end = A + 20 * PG },
				      { .start = B + 20 * PG, .end = B + 30 * PG } };
	struct etm_pmu_pages *p, *q;

	(void)state;
	assert_int_equal(etm_pmu_pages_new(r1, 2, NULL, &p), 0);
	for (uint64_t i = 0; i < 10; i++) {
		etm_pmu_pages_hit(p, A + i * PG, (unsigned)i + 1, NULL);
		etm_pmu_pages_hit(p, B + i * PG, 50, NULL);
	}
	assert_int_equal(etm_pmu_pages_new(r2, 2, p, &q), 0);
	for (uint64_t i = 0; i < 20; i++)
		assert_int_equal(etm_pmu_pages_count(q, A + i * PG), i < 5 ? -1 : i < 10 ? (int)i + 1 : 0);
	for (uint64_t i = 20; i < 30; i++)
		assert_int_equal(etm_pmu_pages_count(q, B + i * PG), 0);
	assert_int_equal(etm_pmu_pages_count(q, B), -1);
	assert_int_equal(etm_pmu_pages_sampled(q), 5);
	etm_pmu_pages_free(p);
	etm_pmu_pages_free(q);
}

static void test_fold(void **state)
{
	struct etm_pmu_range r[] = { { .start = A, .end = A + 8 * PG } };
	struct etm_pagestate *ps = etm_pagestate_new();
	struct etm_pmu_pages *p;
	struct etm_grade g;

	(void)state;
	assert_int_equal(etm_pmu_pages_new(r, 1, NULL, &p), 0);
	/* counts 0, 1, 3, 16, 255 on pages 0..4; pages 5..7 never sampled */
	etm_pmu_pages_hit(p, A + PG, 1, NULL);
	etm_pmu_pages_hit(p, A + 2 * PG, 3, NULL);
	etm_pmu_pages_hit(p, A + 3 * PG, 16, NULL);
	etm_pmu_pages_hit(p, A + 4 * PG, 255, NULL);
	/* the page state covers pages 2.. of the index and a range the index lacks */
	assert_int_equal(etm_pagestate_add_range(ps, A + 2 * PG, A + 16 * PG), 0);
	etm_pmu_pages_fold(p, ps, -1, ETM_PMU_FOLD_WEIGHT);
	assert_int_equal(etm_ps_count(ps->r[0].st[0]), 2);  /* count 3: bit length 2 */
	assert_int_equal(etm_ps_count(ps->r[0].st[1]), 5);  /* 16 */
	assert_int_equal(etm_ps_count(ps->r[0].st[2]), 8);  /* 255 */
	assert_int_equal(etm_ps_count(ps->r[0].st[3]), 0);  /* never sampled: seen, cold */
	assert_int_equal(etm_ps_count(ps->r[0].st[6]), -1); /* beyond the index: not seen */
	etm_pagestate_grade(ps, 1, &g);
	assert_int_equal(g.scanned, 6);
	assert_int_equal(g.cold, 3);
	assert_int_equal(g.hot, 3);
	assert_int_equal(etm_pmu_weight(0), 0);
	assert_int_equal(etm_pmu_weight(1), 1);
	assert_int_equal(etm_pmu_weight(7), 3);
	assert_int_equal(etm_pmu_weight(8), 4);
	etm_pagestate_free(ps);
	etm_pmu_pages_free(p);
}

/*
 * With the target's pagemap, a page never sampled is seen only where it is
 * present or swapped: 3 touched pages of a 64 GiB reservation of this
 * process, not 16 Mi pages (PAGEMAP_SCAN, Linux 6.7; older kernels mark
 * every page, which is checked instead).
 */
static void test_fold_resident_only(void **state)
{
	const uint64_t len = 64ULL << 30;
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uint64_t a = (uint64_t)(uintptr_t)m;
	struct etm_pmu_range r[1];
	struct etm_pagestate *ps = etm_pagestate_new();
	struct etm_pmu_pages *p;
	struct pm_probe {
		uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages, inv, mask, anyof, ret;
	} probe = { .size = sizeof(probe) };
	struct etm_grade g;
	bool scan;
	int fd;

	(void)state;
	assert_true(m != MAP_FAILED);
	r[0] = (struct etm_pmu_range){ .start = a, .end = a + len };
	m[0] = 1;
	m[PG * 1000] = 1;
	m[len - 1] = 1;
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	/* An empty walk: 0 regions where the kernel has PAGEMAP_SCAN ('f', 16), -1 otherwise. */
	probe.start = probe.end = a;
	scan = ioctl(fd, _IOWR('f', 16, struct pm_probe), &probe) >= 0;
	assert_int_equal(etm_pmu_pages_new(r, 1, NULL, &p), 0);
	etm_pmu_pages_hit(p, a + PG * 1000, 4, NULL);
	assert_int_equal(etm_pagestate_add_range(ps, a, a + len), 0);
	etm_pmu_pages_fold(p, ps, fd, ETM_PMU_FOLD_WEIGHT);
	etm_pagestate_grade(ps, 1, &g);
	if (scan) {
		assert_int_equal(g.scanned, 3);
		assert_int_equal(g.hot, 1);
		assert_int_equal(g.cold, 2);
		assert_int_equal(etm_ps_count(ps->r[0].st[1]), -1); /* never touched: not seen */
	} else {
		print_message("no PAGEMAP_SCAN on this kernel: every page is marked\n");
		assert_int_equal(g.scanned, len / PG);
	}
	assert_int_equal(etm_ps_count(ps->r[0].st[0]), 0);
	assert_int_equal(etm_ps_count(ps->r[0].st[1000]), 3);
	close(fd);
	etm_pagestate_free(ps);
	etm_pmu_pages_free(p);
	munmap(m, len);
}

/*
 * A process that reserves 16 TiB it never touches (a sanitizer's shadow, a
 * managed heap): counts, cooling, rebuilds and folds cost what was sampled.
 */
static void test_sparse_reservation(void **state)
{
	const uint64_t huge = 16ULL << 40;
	struct etm_pmu_range r[] = { { .start = A, .end = A + huge },
				     { .start = 0x7f0000000000ULL, .end = 0x7f0000000000ULL + 4 * PG } };
	struct etm_pmu_range shrunk[] = { { .start = A, .end = A + (1ULL << 30) } };
	struct etm_pagestate *ps = etm_pagestate_new();
	struct etm_pmu_pages *p, *q, *bad;

	(void)state;
	assert_int_equal(etm_pmu_pages_new(r, 2, NULL, &p), 0);
	assert_int_equal(p->npages, (huge >> 12) + 4);
	assert_int_equal(etm_pmu_pages_bytes(p), 0);
	assert_true(etm_pmu_pages_hit(p, A + 5 * PG, 4, NULL));
	assert_true(etm_pmu_pages_hit(p, A + huge - PG, 4, NULL));
	assert_true(etm_pmu_pages_hit(p, 0x7f0000000000ULL + 3 * PG, 4, NULL));
	/* three leaves and the nodes above them, not 4 Gi bytes */
	assert_true(etm_pmu_pages_bytes(p) < 64 * 1024);
	etm_pmu_pages_cool(p);
	assert_int_equal(etm_pmu_pages_count(p, A + huge - PG), 2);
	assert_int_equal(etm_pmu_pages_sampled(p), 3);
	/* the page state tracks a small part: the fold costs that part */
	assert_int_equal(etm_pagestate_add_range(ps, A, A + 16 * PG), 0);
	etm_pmu_pages_fold(p, ps, -1, ETM_PMU_FOLD_WEIGHT);
	assert_int_equal(etm_ps_count(ps->r[0].st[5]), 2);
	assert_int_equal(etm_ps_count(ps->r[0].st[4]), 0);
	/* the reservation shrinks to 1 GiB: the count beyond it goes, the others stay */
	assert_int_equal(etm_pmu_pages_new(shrunk, 1, p, &q), 0);
	assert_int_equal(etm_pmu_pages_count(q, A + 5 * PG), 2);
	assert_int_equal(etm_pmu_pages_count(q, A + huge - PG), -1);
	assert_int_equal(etm_pmu_pages_sampled(q), 1);
	assert_int_equal(etm_pmu_pages_sampled(p), 0); /* moved, not copied */
	/* past 2^57 nothing can be indexed */
	r[1].end = ETM_PMU_ADDR_LIMIT + PG;
	r[1].start = ETM_PMU_ADDR_LIMIT - PG;
	assert_int_equal(etm_pmu_pages_new(r, 2, NULL, &bad), -EINVAL);
	assert_null(bad);
	etm_pmu_pages_free(p);
	etm_pmu_pages_free(q);
	etm_pagestate_free(ps);
}

static struct etm_perf_sample smp(uint32_t pid, uint64_t addr)
{
	return (struct etm_perf_sample){ .pid = pid, .tid = pid, .addr = addr };
}

static void test_counter_matching(void **state)
{
	struct etm_pmu_range r[] = { { .start = A, .end = A + 4 * PG } };
	struct etm_perf_sample s[] = { smp(7, A), smp(7, A + PG), smp(8, A), smp(7, 0), smp(7, B), smp(9, A + PG) };
	struct etm_pmu_count_stats st;
	struct etm_pmu_counter *c;

	(void)state;
	assert_int_equal(etm_pmu_counter_new(0, 0, &c), -EINVAL);
	assert_int_equal(etm_pmu_counter_new(0, 256, &c), -EINVAL);
	assert_int_equal(etm_pmu_counter_new(0, 2, &c), 0);
	assert_int_equal(etm_pmu_counter_set(c, 7, r, 1), 0);
	assert_int_equal(etm_pmu_counter_set(c, 9, r, 1), 0);
	etm_pmu_counter_samples(c, s, sizeof(s) / sizeof(s[0]));
	etm_pmu_counter_stats(c, &st);
	assert_int_equal(st.counted, 3);
	assert_int_equal(st.foreign, 1);
	assert_int_equal(st.no_addr, 1);
	assert_int_equal(st.unmapped, 1);
	assert_int_equal(st.targets, 2);
	assert_int_equal(st.pages, 8);
	assert_int_equal(etm_pmu_counter_count(c, 7, A), 2);
	assert_int_equal(etm_pmu_counter_count(c, 9, A + PG), 2);
	assert_int_equal(etm_pmu_counter_count(c, 9, A), 0);
	assert_true(etm_pmu_counter_count(c, 8, A) < -1);
	assert_int_equal(etm_pmu_counter_fold(c, 8, NULL, -1, ETM_PMU_FOLD_WEIGHT), -ESRCH);
	etm_pmu_counter_remove(c, 7);
	etm_pmu_counter_remove(c, 7);
	assert_true(etm_pmu_counter_count(c, 7, A) < -1);
	assert_int_equal(etm_pmu_counter_sampled(c, 9), 1);
	etm_pmu_counter_free(c);
}

/* Samples mostly outside the index: it is stale, and a set (rebuild) catches up, keeping counts. */
static void test_counter_stale_rebuild(void **state)
{
	struct etm_pmu_range r1[] = { { .start = A, .end = A + 4 * PG } };
	struct etm_pmu_range r2[] = { { .start = A, .end = A + 4 * PG }, { .start = B, .end = B + 4 * PG } };
	struct etm_perf_sample s[100];
	struct etm_pmu_count_stats st;
	struct etm_pmu_counter *c;

	(void)state;
	assert_int_equal(etm_pmu_counter_new(0, 1, &c), 0);
	assert_int_equal(etm_pmu_counter_set(c, 7, r1, 1), 0);
	for (int i = 0; i < 100; i++)
		s[i] = smp(7, i < 10 ? A : B + PG);
	etm_pmu_counter_samples(c, s, 100);
	assert_true(etm_pmu_counter_stale(c, 7));
	assert_false(etm_pmu_counter_stale(c, 8));
	assert_int_equal(etm_pmu_counter_set(c, 7, r2, 2), 0);
	assert_false(etm_pmu_counter_stale(c, 7));
	assert_int_equal(etm_pmu_counter_count(c, 7, A), 10);
	etm_pmu_counter_samples(c, s, 100);
	assert_int_equal(etm_pmu_counter_count(c, 7, A), 20);
	assert_int_equal(etm_pmu_counter_count(c, 7, B + PG), 90);
	etm_pmu_counter_stats(c, &st);
	assert_int_equal(st.rebuilds, 1);
	etm_pmu_counter_free(c);
}

/* cooling_interval: every 10 counted samples (checked per batch) halve all counts. */
static void test_counter_auto_cooling(void **state)
{
	struct etm_pmu_range r[] = { { .start = A, .end = A + PG } };
	struct etm_perf_sample s[10];
	struct etm_pmu_count_stats st;
	struct etm_pmu_counter *c;

	(void)state;
	assert_int_equal(etm_pmu_counter_new(10, 1, &c), 0);
	assert_int_equal(etm_pmu_counter_set(c, 7, r, 1), 0);
	for (int i = 0; i < 10; i++)
		s[i] = smp(7, A);
	etm_pmu_counter_samples(c, s, 9);
	assert_int_equal(etm_pmu_counter_count(c, 7, A), 9);
	etm_pmu_counter_samples(c, s, 1); /* 10: cool to 5 */
	assert_int_equal(etm_pmu_counter_count(c, 7, A), 5);
	etm_pmu_counter_samples(c, s, 10); /* 15: cool to 7 */
	etm_pmu_counter_samples(c, s, 10); /* 17: cool to 8 */
	assert_int_equal(etm_pmu_counter_count(c, 7, A), 8);
	etm_pmu_counter_stats(c, &st);
	assert_int_equal(st.coolings, 3);
	etm_pmu_counter_free(c);
}

#define THREADS 4
#define PAGES 1000
#define PER_PAGE 50

static void *hammer(void *arg)
{
	struct etm_perf_sample s[256];
	size_t n = 0;

	for (int k = 0; k < PER_PAGE; k++) {
		for (uint64_t i = 0; i < PAGES; i++) {
			s[n++] = smp(7, A + i * PG);
			if (n == 256) {
				etm_pmu_counter_samples(arg, s, n);
				n = 0;
			}
		}
	}
	etm_pmu_counter_samples(arg, s, n);
	return NULL;
}

/* Readers on several CPUs hitting the same pages lose no increment. */
static void test_counter_concurrent(void **state)
{
	struct etm_pmu_range r[] = { { .start = A, .end = A + PAGES * PG } };
	struct etm_pmu_counter *c;
	pthread_t th[THREADS];

	(void)state;
	assert_int_equal(etm_pmu_counter_new(0, 1, &c), 0);
	assert_int_equal(etm_pmu_counter_set(c, 7, r, 1), 0);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, hammer, c), 0);
	/* a rebuild in the middle keeps every count */
	assert_int_equal(etm_pmu_counter_set(c, 7, r, 1), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	for (uint64_t i = 0; i < PAGES; i++)
		assert_int_equal(etm_pmu_counter_count(c, 7, A + i * PG), THREADS * PER_PAGE);
	etm_pmu_counter_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index),
		cmocka_unit_test(test_fold_resident_only),
		cmocka_unit_test(test_saturate_and_cool),
		cmocka_unit_test(test_carry_across_rebuild),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_sparse_reservation),
		cmocka_unit_test(test_counter_matching),
		cmocka_unit_test(test_counter_stale_rebuild),
		cmocka_unit_test(test_counter_auto_cooling),
		cmocka_unit_test(test_counter_concurrent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
