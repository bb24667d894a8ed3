/* SPDX-License-Identifier: MulanPSL-2.0 */
/* memcg_lru's memory (scan/memcg_learn.h): the refault-learnt floor, its decay, the back-off and the wake. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "scan/memcg_learn.h"
#include "scan/memcg_reclaim.h"
#include "scan/pagestate.h"

#define MiB (1ULL << 20)
/* Refault counters are in pages. */
#define PAGES(bytes) ((bytes) / ETM_PAGE_SIZE)

static void test_nothing_before_a_reclaim(void **state)
{
	struct etm_memcg_learnt l;

	(void)state;
	etm_memcg_learn_reset(&l, 7);
	assert_int_equal(l.id, 7);
	/* Refaults nobody of ours caused (the kernel's own reclaim) teach nothing. */
	etm_memcg_learn_observe(&l, 0, true, 1000);
	etm_memcg_learn_observe(&l, 2, true, 1000 + PAGES(50 * MiB));
	assert_int_equal(l.floor, 0);
	assert_int_equal(l.refaulted_bytes, 0);
	/* No counter in this kernel: nothing is read, nothing learnt. */
	etm_memcg_learn_observe(&l, 4, false, 0);
	assert_int_equal(l.refault_seen, 1000 + PAGES(50 * MiB));
}

static void test_floor_from_refaults(void **state)
{
	struct etm_memcg_learnt l;
	uint64_t c = 500;

	(void)state;
	etm_memcg_learn_reset(&l, 1);
	etm_memcg_learn_observe(&l, 0, true, c);
	/* A reclaim took 100 MiB down to 50 MiB; 2 MiB came back while it ran. */
	c += PAGES(2 * MiB);
	etm_memcg_learn_reclaimed(&l, 50 * MiB, true, c, 100 * MiB);
	assert_int_equal(l.back, 2 * MiB);
	assert_int_equal(l.level, 0);
	assert_int_equal(l.skip, 0);
	/* 22 MiB back in all: below 1/4 of what it swapped, no floor yet. */
	c += PAGES(20 * MiB);
	etm_memcg_learn_observe(&l, 2, true, c);
	assert_false(l.hit);
	assert_int_equal(l.floor, 0);
	/* 26 MiB: a hit, the floor is the usage after it plus what came back. */
	c += PAGES(4 * MiB);
	etm_memcg_learn_observe(&l, 4, true, c);
	assert_true(l.hit);
	assert_int_equal(l.floor, 76 * MiB);
	/* Each later refault raises it by itself. */
	c += PAGES(1 * MiB);
	etm_memcg_learn_observe(&l, 6, true, c);
	assert_int_equal(l.floor, 77 * MiB);
	assert_int_equal(l.refaulted_bytes, 27 * MiB);
	/* A counter that went back (another memcg by that path): only its growth from there counts. */
	etm_memcg_learn_observe(&l, 6, true, 10);
	assert_int_equal(l.floor, 77 * MiB);
	etm_memcg_learn_observe(&l, 6, true, 10 + PAGES(1 * MiB));
	assert_int_equal(l.floor, 78 * MiB);
	/* A new reclaim that is not hit does not lower it. */
	etm_memcg_learn_reclaimed(&l, 90 * MiB, true, 10 + PAGES(1 * MiB), 10 * MiB);
	assert_false(l.hit);
	assert_int_equal(l.floor, 78 * MiB);
}

static void test_amount_above_floor(void **state)
{
	struct etm_memcg_learnt l;

	(void)state;
	etm_memcg_learn_reset(&l, 1);
	/* Nothing learnt: what the LRU holds cold. */
	assert_int_equal(etm_memcg_learn_amount(&l, 100 * MiB, 40 * MiB), 40 * MiB);
	l.floor = 77 * MiB;
	assert_int_equal(etm_memcg_learn_amount(&l, 100 * MiB, 40 * MiB), 23 * MiB);
	assert_int_equal(etm_memcg_learn_amount(&l, 100 * MiB, 5 * MiB), 5 * MiB);
	/* Less than the minimum left above the floor, or below it: nothing. */
	assert_int_equal(etm_memcg_learn_amount(&l, 77 * MiB + 4096, 40 * MiB), 0);
	assert_int_equal(etm_memcg_learn_amount(&l, 60 * MiB, 40 * MiB), 0);
	assert_int_equal(etm_memcg_learn_amount(&l, 100 * MiB, ETM_MEMCG_MIN_RECLAIM - 4096), 0);
	/* Page aligned. */
	assert_int_equal(etm_memcg_learn_amount(&l, 100 * MiB + 100, 40 * MiB), 23 * MiB);
}

static void test_back_off(void **state)
{
	struct etm_memcg_learnt l;
	unsigned want = 2;

	(void)state;
	etm_memcg_learn_reset(&l, 1);
	assert_false(etm_memcg_learn_skip(&l, 64 * MiB));
	/* Each cycle that finds nothing doubles the skip, up to 2^ETM_LEARN_LEVEL_MAX. */
	for (unsigned round = 0; round < ETM_LEARN_LEVEL_MAX + 2; round++) {
		uint64_t before = l.skipped_cycles;

		etm_memcg_learn_idle(&l, 64 * MiB);
		assert_int_equal(l.skip, want);
		for (unsigned i = 0; i < want; i++)
			assert_true(etm_memcg_learn_skip(&l, 64 * MiB));
		assert_false(etm_memcg_learn_skip(&l, 64 * MiB));
		assert_int_equal(l.skipped_cycles - before, want);
		if (want < (1u << ETM_LEARN_LEVEL_MAX))
			want *= 2;
	}
	assert_int_equal(l.level, ETM_LEARN_LEVEL_MAX);
	/* A reclaim that swaps less than the minimum backs off further. */
	etm_memcg_learn_reclaimed(&l, 64 * MiB, true, 0, ETM_MEMCG_MIN_RECLAIM - 4096);
	assert_int_equal(l.skip, 1u << ETM_LEARN_LEVEL_MAX);
	/* One that finds something starts over at full rate. */
	etm_memcg_learn_reclaimed(&l, 60 * MiB, true, 0, 4 * MiB);
	assert_int_equal(l.level, 0);
	assert_int_equal(l.skip, 0);
	assert_false(etm_memcg_learn_skip(&l, 60 * MiB));
}

static void test_wake_on_growth(void **state)
{
	struct etm_memcg_learnt l;
	uint64_t skipped;

	(void)state;
	etm_memcg_learn_reset(&l, 1);
	l.floor = 77 * MiB;
	for (int i = 0; i < 4; i++)
		etm_memcg_learn_idle(&l, 100 * MiB);
	assert_int_equal(l.skip, 16);
	skipped = l.skipped_cycles;
	/* Growth within 1/64 of where it backed off (1.5625 MiB) does not wake it. */
	assert_true(etm_memcg_learn_skip(&l, 101 * MiB));
	assert_int_equal(l.skipped_cycles, skipped + 1);
	/* 10 MiB more does, and that cycle takes at most the growth. */
	assert_false(etm_memcg_learn_skip(&l, 110 * MiB));
	assert_int_equal(l.skip, 0);
	assert_int_equal(l.wake_cap, 10 * MiB);
	assert_int_equal(etm_memcg_learn_amount(&l, 110 * MiB, 50 * MiB), 10 * MiB);
	/* The level stays: if that finds nothing the next skip is longer still. */
	etm_memcg_learn_idle(&l, 110 * MiB);
	assert_int_equal(l.skip, 32);
	assert_int_equal(l.wake_cap, 0);
	/* Small memcgs: at least ETM_MEMCG_MIN_RECLAIM of growth wakes it, and the base is the floor when higher. */
	etm_memcg_learn_reset(&l, 2);
	l.floor = 8 * MiB;
	etm_memcg_learn_idle(&l, 4 * MiB);
	assert_true(etm_memcg_learn_skip(&l, 9 * MiB));
	assert_false(etm_memcg_learn_skip(&l, 9 * MiB + 4096));
	assert_int_equal(l.wake_cap, 1 * MiB + 4096);
}

/* 2 s readings over @seconds, @pages refaults each. */
static void readings(struct etm_memcg_learnt *l, double *now, double seconds, uint64_t *c, uint64_t pages)
{
	for (double t = 0; t < seconds; t += 2) {
		*now += 2;
		*c += pages;
		etm_memcg_learn_observe(l, *now, true, *c);
	}
}

static void test_decay(void **state)
{
	struct etm_memcg_learnt l;
	double now = 0;
	uint64_t c = 0, f;

	(void)state;
	etm_memcg_learn_reset(&l, 1);
	etm_memcg_learn_observe(&l, now, true, c);
	l.floor = 64 * MiB;
	/* Quiet for one half-life: about half of it is left. */
	readings(&l, &now, ETM_LEARN_HALF_LIFE_S, &c, 0);
	assert_in_range(l.floor, 31 * MiB, 33 * MiB);
	/* A few refaults per reading (not ours to learn from: no reclaim yet) still count as quiet. */
	f = l.floor;
	readings(&l, &now, 600, &c, ETM_LEARN_QUIET_PAGES);
	assert_true(l.floor < f);
	/* More than that: no decay. */
	f = l.floor;
	readings(&l, &now, 600, &c, ETM_LEARN_QUIET_PAGES + 1);
	assert_int_equal(l.floor, f);
	/* A gap in the readings (the task stopped) is not observed time. */
	now += 10 * ETM_LEARN_HALF_LIFE_S;
	etm_memcg_learn_observe(&l, now, true, c);
	assert_int_equal(l.floor, f);
	/* Slow: a minute takes about 1 % of it. */
	readings(&l, &now, 60, &c, 0);
	assert_in_range(l.floor, f - f / 50, f - f / 200);
	/* It ends at zero. */
	readings(&l, &now, 40 * ETM_LEARN_HALF_LIFE_S, &c, 0);
	assert_int_equal(l.floor, 0);
}

/* The steady state end to end: a working set reclaimed once, learnt, then nothing taken and the cycles skipped. */
static void test_converges(void **state)
{
	struct etm_memcg_learnt l;
	double now = 0;
	uint64_t c = 0, usage = 256 * MiB, reclaims = 0, cycles = 0;

	(void)state;
	etm_memcg_learn_reset(&l, 1);
	for (; cycles < 600; cycles++) {
		uint64_t amount;

		now += 2;
		etm_memcg_learn_observe(&l, now, true, c);
		if (etm_memcg_learn_skip(&l, usage))
			continue;
		/* The LRU calls all but 16 MiB cold every time: a one-bit window on a slow working set. */
		amount = etm_memcg_learn_amount(&l, usage, usage - 16 * MiB);
		if (!amount) {
			etm_memcg_learn_idle(&l, usage);
			continue;
		}
		reclaims++;
		usage -= amount;
		etm_memcg_learn_reclaimed(&l, usage, true, c, amount);
		/* Of what went, whatever was above 64 MiB of working set comes back before the next cycle. */
		if (usage < 64 * MiB) {
			c += PAGES(64 * MiB - usage);
			usage = 64 * MiB;
		}
	}
	/*
	 * Two reclaims learn it: the first takes the working set too, the
	 * second what was left above it before the refaults reached a quarter.
	 * Then only the decay's probes, about 1 MiB below the floor each (one
	 * in ~150 s of a 64 MiB floor), taken and learnt back: the cycles are
	 * skipped but for those.
	 */
	assert_in_range(l.floor, 60 * MiB, 64 * MiB);
	assert_int_equal(usage, 64 * MiB);
	assert_in_range(reclaims, 2, 2 + 2 * cycles / 120);
	assert_true(l.skipped_cycles > cycles * 85 / 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_before_a_reclaim),
		cmocka_unit_test(test_floor_from_refaults),
		cmocka_unit_test(test_amount_above_floor),
		cmocka_unit_test(test_back_off),
		cmocka_unit_test(test_wake_on_growth),
		cmocka_unit_test(test_decay),
		cmocka_unit_test(test_converges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
