/* SPDX-License-Identifier: MulanPSL-2.0 */
/* Page state: grading by T, saturation, cold-run coalescing, the pageout iovec walker. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <cmocka.h>

#include "scan/action.h"
#include "scan/pagestate.h"

#define PG 4096ULL

static void test_ranges(void **state)
{
	struct etm_pagestate *ps = etm_pagestate_new();

	(void)state;
	assert_int_equal(etm_pagestate_add_range(ps, 0x10000, 0x20000), 0);
	assert_int_equal(etm_pagestate_add_range(ps, 0x18000, 0x30000), -EINVAL); /* overlap */
	assert_int_equal(etm_pagestate_add_range(ps, 0x5000, 0x6000), -EINVAL);	  /* descending */
	assert_int_equal(etm_pagestate_add_range(ps, 0x40000, 0x40000), -EINVAL); /* empty */
	assert_int_equal(etm_pagestate_add_range(ps, 0x20001, 0x21000), 0);	  /* rounded outwards */
	assert_int_equal(ps->r[1].start, 0x20000);
	assert_int_equal(etm_pagestate_pages(ps), 17);
	/* one byte per page plus a constant */
	assert_true(etm_pagestate_bytes(ps) <= 17 + sizeof(*ps) + ps->cap * sizeof(*ps->r));
	etm_pagestate_free(ps);
}

static void test_mark_and_grade(void **state)
{
	struct etm_pagestate *ps = etm_pagestate_new();
	struct etm_grade g;

	(void)state;
	assert_int_equal(etm_pagestate_add_range(ps, 0, 8 * PG), 0);
	assert_int_equal(etm_pagestate_add_range(ps, 16 * PG, 24 * PG), 0);
	/* a span over the gap marks only tracked pages */
	etm_pagestate_mark(ps, 6 * PG, 12, ETM_WEIGHT_ACCESSED); /* pages 6,7 and 16,17 */
	etm_pagestate_mark(ps, 0, 2, ETM_WEIGHT_IDLE);
	etm_pagestate_mark(ps, 100 * PG, 5, 3);			/* untracked: ignored */
	etm_pagestate_mark(ps, UINT64_MAX - PG, 1ULL << 60, 3); /* wraps: clipped, no crash */
	etm_pagestate_grade(ps, 1, &g);
	assert_int_equal(g.scanned, 6);
	assert_int_equal(g.hot, 4);
	assert_int_equal(g.cold, 2);
	/* T = 0: nothing is cold (count < 0 never holds) */
	etm_pagestate_grade(ps, 0, &g);
	assert_int_equal(g.cold, 0);
	/* T = 2 after a dirty pass on page 6: 1 + 3 = 4 */
	etm_pagestate_mark(ps, 6 * PG, 1, ETM_WEIGHT_DIRTY);
	assert_int_equal(etm_ps_count(ps->r[0].st[6]), 4);
	etm_pagestate_grade(ps, 2, &g);
	assert_int_equal(g.cold, 5);
	assert_int_equal(g.hot, 1);
	etm_pagestate_reset(ps);
	etm_pagestate_grade(ps, 1, &g);
	assert_int_equal(g.scanned, 0);
	etm_pagestate_free(ps);
}

static void test_saturation(void **state)
{
	struct etm_pagestate *ps = etm_pagestate_new();

	(void)state;
	assert_int_equal(etm_pagestate_add_range(ps, 0, PG), 0);
	/* loop = 120 dirty passes: 360 > 254 saturates */
	for (int i = 0; i < 120; i++)
		etm_pagestate_mark(ps, 0, 1, ETM_WEIGHT_DIRTY);
	assert_int_equal(etm_ps_count(ps->r[0].st[0]), ETM_PS_COUNT_MAX);
	/* a saturated page is hot for any T, even T = 360 */
	assert_false(etm_ps_is_cold(ps->r[0].st[0], 360));
	assert_false(etm_ps_is_cold(ps->r[0].st[0], 254));
	assert_true(etm_ps_is_cold(1 + 253, 360));
	assert_false(etm_ps_is_cold(0, 1)); /* unseen is never cold */
	etm_pagestate_free(ps);
}

struct runs {
	uint64_t s[32], l[32];
	int n;
};

static int collect_run(uint64_t start, uint64_t len, void *arg)
{
	struct runs *r = arg;

	r->s[r->n] = start;
	r->l[r->n] = len;
	r->n++;
	return r->n >= 32;
}

static void test_coalescing(void **state)
{
	struct etm_pagestate *ps = etm_pagestate_new();
	struct runs r = { 0 };

	(void)state;
	assert_int_equal(etm_pagestate_add_range(ps, 0, 8 * PG), 0);
	assert_int_equal(etm_pagestate_add_range(ps, 8 * PG, 12 * PG), 0); /* adjacent VMA */
	assert_int_equal(etm_pagestate_add_range(ps, 20 * PG, 24 * PG), 0);
	etm_pagestate_mark(ps, 0, 24, ETM_WEIGHT_IDLE);		/* everything seen and idle */
	etm_pagestate_mark(ps, 3 * PG, 1, ETM_WEIGHT_ACCESSED); /* a hot page splits a run */
	assert_int_equal(etm_pagestate_for_each_cold(ps, 1, collect_run, &r), 0);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.s[0], 0);
	assert_int_equal(r.l[0], 3 * PG);
	/* pages 4..11 run across the VMA boundary */
	assert_int_equal(r.s[1], 4 * PG);
	assert_int_equal(r.l[1], 8 * PG);
	assert_int_equal(r.s[2], 20 * PG);
	assert_int_equal(r.l[2], 4 * PG);
	etm_pagestate_free(ps);
}

/* Runs of any selection: the caller's predicate sees every page once, in order (dram_percent's coldest first). */
struct pick {
	struct runs r;
	int seen;
	int budget; /* pages of weight 0 still to take */
};

static bool take_budget(uint8_t v, void *arg)
{
	struct pick *p = arg;

	p->seen++;
	if (etm_ps_count(v) != 0 || !p->budget)
		return false;
	p->budget--;
	return true;
}

static int collect_pick(uint64_t start, uint64_t len, void *arg)
{
	return collect_run(start, len, &((struct pick *)arg)->r);
}

static void test_for_each_run(void **state)
{
	struct etm_pagestate *ps = etm_pagestate_new();
	struct pick p = { .budget = 5 };

	(void)state;
	assert_int_equal(etm_pagestate_add_range(ps, 0, 8 * PG), 0);
	assert_int_equal(etm_pagestate_add_range(ps, 8 * PG, 12 * PG), 0);
	etm_pagestate_mark(ps, 0, 12, ETM_WEIGHT_IDLE);
	etm_pagestate_mark(ps, 2 * PG, 1, ETM_WEIGHT_ACCESSED);
	assert_int_equal(etm_pagestate_for_each_run(ps, take_budget, collect_pick, &p), 0);
	assert_int_equal(p.seen, 12);
	assert_int_equal(p.r.n, 2); /* pages 0-1, then 3-5: the budget ends the second run */
	assert_int_equal(p.r.s[0], 0);
	assert_int_equal(p.r.l[0], 2 * PG);
	assert_int_equal(p.r.s[1], 3 * PG);
	assert_int_equal(p.r.l[1], 3 * PG);
	etm_pagestate_free(ps);
}

/*
 * A fake process_madvise: holes and caps as the kernel behaves (an unmapped
 * first iovec: ENOMEM; at most MAX_RW_COUNT bytes per call).
 */
struct fake {
	uint64_t hole_start, hole_end; /* unmapped */
	size_t cap;		       /* bytes per call (MAX_RW_COUNT-like) */
	int calls;
	size_t max_vlen;
	int fail_errno;
	uint64_t advised;
};

static ssize_t fake_madvise(void *arg, const struct iovec *iov, size_t n)
{
	struct fake *f = arg;
	size_t done = 0;

	f->calls++;
	if (n > f->max_vlen)
		f->max_vlen = n;
	if (n > ETM_PAGEOUT_MAX_IOV) {
		errno = EINVAL;
		return -1;
	}
	if (f->fail_errno) {
		errno = f->fail_errno;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t s = (uint64_t)(uintptr_t)iov[i].iov_base, e = s + iov[i].iov_len;

		if (s < f->hole_end && e > f->hole_start) {
			if (i == 0) {
				errno = ENOMEM;
				return -1;
			}
			break;
		}
		if (f->cap && done + iov[i].iov_len > f->cap) {
			done = f->cap;
			break;
		}
		done += iov[i].iov_len;
	}
	f->advised += done;
	return (ssize_t)done;
}

static void test_pageout_walker(void **state)
{
	struct iovec *iov = calloc(3000, sizeof(*iov));
	struct fake f = { 0 };
	uint64_t skipped = 0;
	int64_t r;

	(void)state;
	/* 3000 single-page iovecs: at most 1024 per call */
	for (int i = 0; i < 3000; i++) {
		iov[i].iov_base = (void *)(uintptr_t)((uint64_t)(2 * i) * PG);
		iov[i].iov_len = PG;
	}
	r = etm_pageout_iovecs(iov, 3000, fake_madvise, &f, &skipped);
	assert_int_equal(r, 3000 * PG);
	assert_int_equal(f.max_vlen, ETM_PAGEOUT_MAX_IOV);
	assert_int_equal(f.calls, 3);
	assert_int_equal(skipped, 0);

	/* a hole in iovec 5 (not first): short return, then ENOMEM on it, skipped, rest done */
	for (int i = 0; i < 10; i++) {
		iov[i].iov_base = (void *)(uintptr_t)((uint64_t)(2 * i) * PG);
		iov[i].iov_len = PG;
	}
	f = (struct fake){ .hole_start = 10 * PG, .hole_end = 11 * PG };
	skipped = 0;
	r = etm_pageout_iovecs(iov, 10, fake_madvise, &f, &skipped);
	assert_int_equal(r, 9 * PG);
	assert_int_equal(skipped, PG);

	/* the per-call byte cap splits inside an iovec and resumes there */
	iov[0].iov_base = (void *)(uintptr_t)0x100000;
	iov[0].iov_len = 10 * PG;
	iov[1].iov_base = (void *)(uintptr_t)0x200000;
	iov[1].iov_len = 2 * PG;
	f = (struct fake){ .cap = 3 * PG };
	r = etm_pageout_iovecs(iov, 2, fake_madvise, &f, NULL);
	assert_int_equal(r, 12 * PG);
	assert_int_equal(f.calls, 4);

	/* a gone process is fatal */
	iov[0].iov_base = (void *)(uintptr_t)0x100000;
	iov[0].iov_len = PG;
	f = (struct fake){ .fail_errno = ESRCH };
	assert_int_equal(etm_pageout_iovecs(iov, 1, fake_madvise, &f, NULL), -ESRCH);
	/* EINVAL on every iovec (e.g. unaligned): all skipped, no loop */
	f = (struct fake){ .fail_errno = EINVAL };
	skipped = 0;
	iov[0].iov_len = PG;
	iov[1].iov_base = (void *)(uintptr_t)0x300000;
	iov[1].iov_len = PG;
	assert_int_equal(etm_pageout_iovecs(iov, 2, fake_madvise, &f, &skipped), 0);
	assert_int_equal(skipped, 2 * PG);
	free(iov);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ranges),	       cmocka_unit_test(test_mark_and_grade),
		cmocka_unit_test(test_saturation),     cmocka_unit_test(test_coalescing),
		cmocka_unit_test(test_pageout_walker), cmocka_unit_test(test_for_each_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
