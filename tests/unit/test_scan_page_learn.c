/* SPDX-License-Identifier: MulanPSL-2.0 */
/* What a tracker's cycles learn from pages that came back (scan/page_learn.h), over a fake pagemap. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "scan/page_learn.h"
#include "scan/pagestate.h"

#define BASE 0x100000000ULL
#define NPAGES 64
#define PG(i) (BASE + (uint64_t)(i)*ETM_PAGE_SIZE)

/* The fake process: page i of [BASE, BASE + NPAGES pages) is present when present[i]. */
struct fake {
	uint8_t present[NPAGES];
	int fail; /* -errno to return */
	unsigned queries;
};

static int fake_present(void *arg, uint64_t addr, size_t n, uint8_t *out)
{
	struct fake *f = arg;
	size_t first = (addr - BASE) / ETM_PAGE_SIZE;

	f->queries++;
	if (f->fail)
		return f->fail;
	assert_true(addr >= BASE && first + n <= NPAGES);
	memcpy(out, &f->present[first], n);
	return 0;
}

/* One scan: every page seen, pages [hot_from, hot_to) accessed once, the rest idle. */
static struct etm_pagestate *scan(unsigned hot_from, unsigned hot_to)
{
	struct etm_pagestate *ps = etm_pagestate_new();

	assert_non_null(ps);
	assert_int_equal(etm_pagestate_add_range(ps, BASE, PG(NPAGES)), 0);
	etm_pagestate_mark(ps, BASE, NPAGES, ETM_WEIGHT_IDLE);
	etm_pagestate_mark(ps, PG(hot_from), hot_to - hot_from, ETM_WEIGHT_ACCESSED);
	return ps;
}

static uint64_t cold_pages(const struct etm_pagestate *ps, int T)
{
	struct etm_grade g;

	etm_pagestate_grade(ps, T, &g);
	return g.cold;
}

/* slide's swap-out of [from, to): noted, the fake makes them not present, recorded. */
static void swap_out(struct etm_page_learnt *pl, struct fake *f, unsigned from, unsigned to, double now)
{
	assert_int_equal(etm_page_learn_note(pl, PG(from), (uint64_t)(to - from) * ETM_PAGE_SIZE), 0);
	for (unsigned i = from; i < to; i++)
		f->present[i] = 0;
	assert_int_equal(etm_page_learn_out(pl, now, fake_present, f), 0);
}

static void test_came_back_is_held(void **state)
{
	struct etm_page_learnt *pl = etm_page_learnt_new(42);
	struct etm_page_learn_stats st;
	struct etm_pagestate *ps;
	struct fake f;

	(void)state;
	memset(f.present, 1, sizeof(f.present));
	f.fail = 0;
	assert_int_equal(etm_page_learnt_id(pl), 42);
	/* Cycle 1: pages 0..15 accessed, 16..63 idle and sent out. */
	ps = scan(0, 16);
	assert_int_equal(etm_page_learn_apply(pl, ps, 1, 0, 120, fake_present, &f, &st), 0);
	assert_int_equal(st.came_back, 0);
	assert_int_equal(st.held, 0);
	assert_int_equal(cold_pages(ps, 1), 48);
	swap_out(pl, &f, 16, 64, 0);
	etm_pagestate_free(ps);
	/* The process reads pages 16..19 again (several small items on them, each read now and then). */
	memset(&f.present[16], 1, 4);
	/* Cycle 2: the window missed them again; they came back, so they are held hot. */
	ps = scan(0, 16);
	assert_int_equal(etm_page_learn_apply(pl, ps, 1, 2, 120, fake_present, &f, &st), 0);
	assert_int_equal(st.came_back, 4);
	assert_int_equal(st.held, 4);
	assert_int_equal(cold_pages(ps, 1), 44);
	etm_pagestate_free(ps);
	/* Still held on later cycles, without counting as coming back again. */
	ps = scan(0, 16);
	assert_int_equal(etm_page_learn_apply(pl, ps, 1, 4, 120, fake_present, &f, &st), 0);
	assert_int_equal(st.came_back, 0);
	assert_int_equal(st.held, 4);
	etm_pagestate_free(ps);
	/* A page that comes back long after it went out (past recent_s) is not "straight back". */
	f.present[30] = 1;
	ps = scan(0, 16);
	assert_int_equal(etm_page_learn_apply(pl, ps, 1, 200, 120, fake_present, &f, &st), 0);
	assert_int_equal(st.came_back, 0);
	assert_int_equal(st.held, 4);
	etm_pagestate_free(ps);
	/* The hold ends after ETM_PAGE_LEARN_HOLD_S: the windows grade them again. */
	ps = scan(0, 16);
	assert_int_equal(etm_page_learn_apply(pl, ps, 1, 2 + ETM_PAGE_LEARN_HOLD_S + 1, 120, fake_present, &f, &st), 0);
	assert_int_equal(st.held, 0);
	assert_int_equal(cold_pages(ps, 1), 48);
	etm_pagestate_free(ps);
	assert_true(etm_page_learnt_bytes(pl) >= sizeof(uint64_t));
	etm_page_learnt_free(pl);
}

static void test_only_what_left(void **state)
{
	struct etm_page_learnt *pl = etm_page_learnt_new(1);
	struct etm_page_learn_stats st;
	struct etm_pagestate *ps;
	struct fake f;

	(void)state;
	memset(f.present, 1, sizeof(f.present));
	f.fail = 0;
	/* The action was handed 32..47 but could move only 32..39: the rest is not "out". */
	assert_int_equal(etm_page_learn_note(pl, PG(32), 16 * ETM_PAGE_SIZE), 0);
	memset(&f.present[32], 0, 8);
	assert_int_equal(etm_page_learn_out(pl, 0, fake_present, &f), 0);
	ps = scan(0, 0);
	assert_int_equal(etm_page_learn_apply(pl, ps, 1, 1, 120, fake_present, &f, &st), 0);
	assert_int_equal(st.came_back, 0);
	assert_int_equal(st.held, 0);
	etm_pagestate_free(ps);
	/* A failing pagemap read loses nothing: the runs stay and are checked next time. */
	memset(&f.present[32], 1, 8);
	f.fail = -EIO;
	ps = scan(0, 0);
	assert_int_equal(etm_page_learn_apply(pl, ps, 1, 2, 120, fake_present, &f, &st), -EIO);
	assert_int_equal(st.came_back, 0);
	f.fail = 0;
	assert_int_equal(etm_page_learn_apply(pl, ps, 1, 3, 120, fake_present, &f, &st), 0);
	assert_int_equal(st.came_back, 8);
	assert_int_equal(st.held, 8);
	etm_pagestate_free(ps);
	/* T = 0 holds nothing (every seen page is hot then anyway). */
	ps = scan(0, 0);
	assert_int_equal(etm_page_learn_apply(pl, ps, 0, 4, 120, fake_present, &f, &st), 0);
	assert_int_equal(st.held, 0);
	etm_pagestate_free(ps);
	etm_page_learnt_free(pl);
	etm_page_learnt_free(NULL);
}

static void test_bounded(void **state)
{
	struct etm_page_learnt *pl = etm_page_learnt_new(1);
	uint64_t base = 1ULL << 40;

	(void)state;
	/* Runs of one swap-out past the bound are not noted; adjacent ones merge and cost nothing. */
	for (unsigned i = 0; i < 3 * ETM_PAGE_LEARN_RUNS; i++)
		assert_int_equal(etm_page_learn_note(pl, base + (uint64_t)i * 2 * ETM_PAGE_SIZE, ETM_PAGE_SIZE), 0);
	assert_true(etm_page_learnt_bytes(pl) <= 64 + 2 * ETM_PAGE_LEARN_RUNS * 3 * sizeof(uint64_t));
	for (unsigned i = 0; i < 100; i++)
		assert_int_equal(etm_page_learn_note(pl, 2 * base + (uint64_t)i * ETM_PAGE_SIZE, ETM_PAGE_SIZE), 0);
	etm_page_learnt_free(pl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_came_back_is_held),
		cmocka_unit_test(test_only_what_left),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
