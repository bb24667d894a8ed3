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
#define LN2 0.6931471805599453
/* Refault counters are in pages. */
#define PAGES(bytes) ((bytes) / ETM_PAGE_SIZE)

/* A state past its first pass (rule 4): rules 1-3 on their own. */
static void reset_passed(struct etm_memcg_learnt *l, uint64_t id)
{
	etm_memcg_learn_reset(l, id);
	l->passed = true;
}

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
	/* No counter in this kernel: nothing is read, nothing learnt, no first pass to pace. */
	assert_false(l.passed);
	etm_memcg_learn_observe(&l, 4, false, 0);
	assert_int_equal(l.refault_seen, 1000 + PAGES(50 * MiB));
	assert_true(l.passed);
	assert_int_equal(l.floor, 0);
}

static void test_floor_from_refaults(void **state)
{
	struct etm_memcg_learnt l;
	uint64_t c = 500;

	(void)state;
	reset_passed(&l, 1);
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
	reset_passed(&l, 1);
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
	reset_passed(&l, 1);
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
	reset_passed(&l, 1);
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
	reset_passed(&l, 2);
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

/*
 * A reclaim that got less than ETM_MEMCG_MIN_RECLAIM out backs off at once,
 * and the base it backs off from is the usage before it: its own pages
 * coming back, with the usage's usual wander on top, are no growth.
 */
static void test_small_reclaim_backs_off_from_before(void **state)
{
	struct etm_memcg_learnt l;
	double now = 0;
	uint64_t c = 0, usage = 62 * MiB + 292 * 1024, got = MiB - 64 * 1024;

	(void)state;
	reset_passed(&l, 1);
	etm_memcg_learn_observe(&l, now, true, c);
	l.floor = 61 * MiB;
	l.level = 4;
	etm_memcg_learn_reclaimed(&l, usage - got, true, c, got);
	assert_int_equal(l.level, 5);
	assert_int_equal(l.idle_usage, usage);
	/* All of it back, and 100 KiB of wander: still backing off. */
	readings(&l, &now, 4, &c, PAGES(got));
	assert_true(etm_memcg_learn_skip(&l, usage + 100 * 1024));
	assert_int_equal(l.wake_cap, 0);
	/* Real growth past the margin (1 MiB here) still wakes it. */
	l.skip = 1;
	assert_false(etm_memcg_learn_skip(&l, usage + 3 * MiB));
}

static void test_decay(void **state)
{
	struct etm_memcg_learnt l;
	double now = 0;
	uint64_t c = 0, f;

	(void)state;
	reset_passed(&l, 1);
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
	/* Slow: a minute takes about 0.3 % of it. */
	readings(&l, &now, 60, &c, 0);
	assert_in_range(l.floor, f - f / 200, f - f / 500);
	/* It ends at zero. */
	readings(&l, &now, 40 * ETM_LEARN_HALF_LIFE_S, &c, 0);
	assert_int_equal(l.floor, 0);
}

/* Rule 3's back-off: each probe below the floor that comes back doubles the half-life; one that stays out resets it. */
static void test_probe_back_off(void **state)
{
	struct etm_memcg_learnt l;
	double now = 0, hl = ETM_LEARN_HALF_LIFE_S;
	uint64_t c = 0, usage = 64 * MiB;

	(void)state;
	reset_passed(&l, 1);
	etm_memcg_learn_observe(&l, now, true, c);
	l.floor = 64 * MiB;
	assert_true(etm_memcg_learn_half_life(&l) == ETM_LEARN_HALF_LIFE_S);
	for (int probe = 0; probe < 12; probe++) {
		double t0 = now;
		uint64_t amount;

		/* Quiet until the floor has decayed a probe's worth below the usage. */
		while (!(amount = etm_memcg_learn_amount(&l, usage, 32 * MiB)))
			readings(&l, &now, 2, &c, 0);
		/* About half-life / (64 ln 2) for the 1 MiB (1/64) a probe needs: the wait doubles with the half-life.
		 */
		assert_in_range((uint64_t)(now - t0), (uint64_t)(hl / 64 / LN2 * 0.95),
				(uint64_t)(hl / 64 / LN2 * 1.05) + 4);
		assert_false(etm_memcg_learn_skip(&l, usage));
		etm_memcg_learn_reclaimed(&l, usage - amount, true, c, amount);
		assert_true(l.probe);
		/* All of it faults straight back: a hit, the floor was right. */
		readings(&l, &now, 2, &c, PAGES(amount));
		assert_true(l.hit);
		assert_int_equal(l.floor, usage);
		hl = hl * 2 > ETM_LEARN_HALF_LIFE_MAX_S ? ETM_LEARN_HALF_LIFE_MAX_S : hl * 2;
		assert_true(etm_memcg_learn_half_life(&l) == hl);
	}
	assert_true(etm_memcg_learn_half_life(&l) == ETM_LEARN_HALF_LIFE_MAX_S);
	/* A probe that stays out (the working set shrank): the next reclaim is back at the first half-life. */
	while (!etm_memcg_learn_amount(&l, usage, 32 * MiB))
		readings(&l, &now, 60, &c, 0);
	etm_memcg_learn_reclaimed(&l, usage - MiB, true, c, MiB);
	usage -= MiB;
	readings(&l, &now, 600, &c, 0);
	assert_false(l.hit);
	etm_memcg_learn_reclaimed(&l, usage - MiB, true, c, MiB);
	assert_true(etm_memcg_learn_half_life(&l) == ETM_LEARN_HALF_LIFE_S);
	/*
	 * Backing off, a probe needs room past the wake margin (1/64 of the
	 * floor, at least 1 MiB) and 1 MiB more: the usage wandering within it
	 * (kernel memory, buffers) sets none off.
	 */
	reset_passed(&l, 3);
	etm_memcg_learn_idle(&l, 64 * MiB);
	etm_memcg_learn_skip(&l, 64 * MiB);
	l.skip = 0;
	l.floor = 62 * MiB + MiB / 2;
	assert_int_equal(etm_memcg_learn_amount(&l, 64 * MiB, 32 * MiB), 0);
	l.floor = 61 * MiB;
	assert_int_equal(etm_memcg_learn_amount(&l, 64 * MiB, 32 * MiB), 2 * MiB);
	/* Not backing off (the level back at 0 after a reclaim), or woken by growth: the floor alone. */
	l.level = 0;
	l.floor = 62 * MiB + MiB / 2;
	assert_int_equal(etm_memcg_learn_amount(&l, 64 * MiB, 32 * MiB), MiB + MiB / 2);
	/* A reclaim growth woke is no probe: its refaults raise the floor but leave the half-life. */
	reset_passed(&l, 2);
	etm_memcg_learn_observe(&l, now, true, c);
	l.floor = 64 * MiB;
	etm_memcg_learn_idle(&l, 64 * MiB);
	assert_false(etm_memcg_learn_skip(&l, 80 * MiB));
	assert_int_equal(etm_memcg_learn_amount(&l, 80 * MiB, 32 * MiB), 16 * MiB);
	etm_memcg_learn_reclaimed(&l, 64 * MiB, true, c, 16 * MiB);
	assert_false(l.probe);
	readings(&l, &now, 2, &c, PAGES(16 * MiB));
	assert_true(l.hit);
	assert_int_equal(l.floor, 80 * MiB);
	assert_true(etm_memcg_learn_half_life(&l) == ETM_LEARN_HALF_LIFE_S);
}

static void test_first_pace(void **state)
{
	(void)state;
	/* 1/64 of the usage, page aligned: the server's 442 MiB memcg starts at 6.9 MiB. */
	assert_int_equal(etm_memcg_learn_first_pace(442 * MiB), (442 * MiB / 64) & ~(uint64_t)(ETM_PAGE_SIZE - 1));
	/* At least 4 MiB, at most one v1 cut. */
	assert_int_equal(etm_memcg_learn_first_pace(100 * MiB), ETM_LEARN_PACE_MIN);
	assert_int_equal(etm_memcg_learn_first_pace(0), ETM_LEARN_PACE_MIN);
	assert_int_equal(etm_memcg_learn_first_pace(8192 * MiB), ETM_MEMCG_STEP);
}

/* One pass step at @now: skip() says go, amount() gives the pace, the reclaim takes it. */
static uint64_t pass_step(struct etm_memcg_learnt *l, double now, uint64_t *usage, uint64_t c, uint64_t cold)
{
	uint64_t a;

	etm_memcg_learn_observe(l, now, true, c);
	assert_false(etm_memcg_learn_skip(l, *usage));
	a = etm_memcg_learn_amount(l, *usage, cold);
	*usage -= a;
	etm_memcg_learn_reclaimed(l, *usage, true, c, a);
	return a;
}

/* 1 s readings of the refaults @per_s (pages, one a second) until a cycle is not skipped; the seconds waited. */
static int settle(struct etm_memcg_learnt *l, double *now, uint64_t *c, const uint64_t *per_s, size_t n, uint64_t usage)
{
	for (size_t i = 0;; i++) {
		*now += 1;
		*c += i < n ? per_s[i] : 0;
		etm_memcg_learn_observe(l, *now, true, *c);
		if (!etm_memcg_learn_skip(l, usage))
			return (int)i + 1;
	}
}

/*
 * Rule 4 on the figures measured on the server (bench/README.md): an
 * 8 MiB cut at the tail of a fresh 442 MiB Redis memcg brought back 265,
 * 161, 149, 147, 105, 104, 73, 78, 61, 53, 34, 26 pages in the 12 s after
 * it: the working set the LRU put first.
 */
static void test_pass_waits_for_refaults(void **state)
{
	static const uint64_t tail_hot[] = { 265, 161, 149, 147, 105, 104, 73, 78, 61, 53, 34, 26 };
	static const uint64_t idle[] = { 20, 9, 5, 3 };
	struct etm_memcg_learnt l;
	uint64_t c = 1000, usage = 442 * MiB, pace, a;
	double now = 0;
	int waited;

	(void)state;
	etm_memcg_learn_reset(&l, 1);
	assert_false(l.passed);
	/* The first step: 1/64 of the usage, not the 430 MiB the LRU calls cold. */
	a = pass_step(&l, now, &usage, c, 430 * MiB);
	pace = etm_memcg_learn_first_pace(442 * MiB);
	assert_int_equal(a, pace);
	assert_true(l.settling);
	/*
	 * The next waits while the step comes back at more than 1/64 of it per
	 * second (27.6 pages/s for 1767 pages): 11 s, not one cycle.
	 */
	waited = settle(&l, &now, &c, tail_hot, 12, usage);
	assert_int_equal(waited, 12);
	assert_int_equal(l.skipped_cycles, 11);
	/* 1256 of 1767 pages came back: the pace stays, and it is not a floor (usage is still mostly idle). */
	assert_int_equal(l.pace, pace);
	assert_false(l.grown);
	assert_false(l.hit);
	assert_int_equal(l.floor, 0);
	assert_false(l.passed);
	/*
	 * A step the workload does not want back: 20 pages in the first
	 * second is below 1/64 of it per second, but every step waits as long
	 * as the first one's refaults took (12 s: what the pages the kernel
	 * deactivates need before they are checked again); below 1/16 of it
	 * in all doubles the pace.
	 */
	assert_int_equal(l.ws_s, 12);
	a = pass_step(&l, now, &usage, c, 420 * MiB);
	assert_int_equal(a, pace);
	waited = settle(&l, &now, &c, idle, 4, usage);
	assert_int_equal(waited, 12);
	assert_int_equal(l.pace, 2 * pace);
	assert_true(l.grown);
	a = pass_step(&l, now, &usage, c, 420 * MiB);
	assert_int_equal(a, 2 * pace);
	/* A step with its refaults still coming after ETM_LEARN_SETTLE_MAX_S is let go then. */
	for (int i = 0; i < 100; i++) {
		now += 1;
		c += 200;
		etm_memcg_learn_observe(&l, now, true, c);
		if (!etm_memcg_learn_skip(&l, usage))
			break;
	}
	assert_false(l.settling);
	assert_true(now - l.step_s >= ETM_LEARN_SETTLE_MAX_S && now - l.step_s < ETM_LEARN_SETTLE_MAX_S + 1);
	/* It came back whole after the pace had grown: the working set at the end, rule 1's hit ends the pass. */
	assert_true(l.passed);
	assert_true(l.hit);
	assert_int_equal(l.floor, usage + l.back);
}

/* The pass ends when nothing more is cold: the working set is what stays. */
static void test_pass_ends_when_nothing_is_left(void **state)
{
	struct etm_memcg_learnt l;
	uint64_t c = 0, usage = 300 * MiB;
	double now = 0;
	int steps = 0;

	(void)state;
	etm_memcg_learn_reset(&l, 1);
	/* Never reclaimed: nothing to learn, the pass is just over. */
	etm_memcg_learn_idle(&l, usage);
	assert_true(l.passed);
	assert_false(l.hit);
	assert_int_equal(l.floor, 0);

	etm_memcg_learn_reset(&l, 1);
	/* 240 MiB cold, no refaults: 4, 8, 16, .. MiB a cycle, one step a cycle. */
	while (usage > 60 * MiB && steps < 20) {
		now += 2;
		etm_memcg_learn_observe(&l, now, true, c);
		uint64_t a;

		assert_false(etm_memcg_learn_skip(&l, usage));
		a = etm_memcg_learn_amount(&l, usage, usage - 60 * MiB);
		usage -= a;
		etm_memcg_learn_reclaimed(&l, usage, true, c, a);
		assert_true(l.settling);
		steps++;
	}
	/* 4+8+16+32+64+116: six cycles for what one reclaim took before. */
	assert_int_equal(steps, 6);
	assert_int_equal(usage, 60 * MiB);
	assert_false(l.passed);
	/* The next finds nothing: the pass ends, the floor is the 60 MiB left, later refaults raise it. */
	now += 2;
	etm_memcg_learn_observe(&l, now, true, c);
	assert_false(etm_memcg_learn_skip(&l, usage));
	assert_int_equal(etm_memcg_learn_amount(&l, usage, 0), 0);
	etm_memcg_learn_idle(&l, usage);
	assert_true(l.passed);
	assert_int_equal(l.floor, 60 * MiB);
	assert_int_equal(l.skip, 2);
	c += PAGES(2 * MiB);
	etm_memcg_learn_observe(&l, now + 2, true, c);
	assert_int_equal(l.floor, 62 * MiB);
	/* A reclaim that swaps less than the minimum ends it too. */
	etm_memcg_learn_reset(&l, 3);
	etm_memcg_learn_reclaimed(&l, 50 * MiB, true, 0, 4 * MiB);
	assert_false(l.passed);
	l.settling = false;
	etm_memcg_learn_reclaimed(&l, 50 * MiB, true, 0, 4096);
	assert_true(l.passed);
	assert_int_equal(l.floor, 50 * MiB);
}

/* Rule 4: in the pass, no step below the kernel's active anon at its largest (its LRU floor). */
static void test_pass_floor_from_active(void **state)
{
	struct etm_memcg_learnt l;

	(void)state;
	etm_memcg_learn_reset(&l, 1);
	etm_memcg_learn_lru(&l, 40 * MiB, 400 * MiB);
	etm_memcg_learn_lru(&l, 42 * MiB, 380 * MiB);
	/* Less active than before: the largest counts. */
	etm_memcg_learn_lru(&l, 30 * MiB, 360 * MiB);
	assert_int_equal(l.active_max, 42 * MiB);
	assert_false(l.passed);
	assert_int_equal(etm_memcg_learn_min_usage(&l), etm_memcg_floor(42 * MiB));
	/* 58 MiB resident, 56 MiB inactive: 10.75 MiB may go, not the 28 MiB the kernel found. */
	l.pace = 64 * MiB;
	assert_int_equal(etm_memcg_learn_amount(&l, 58 * MiB, 56 * MiB), 58 * MiB - etm_memcg_floor(42 * MiB));
	/* A learnt floor above it wins. */
	l.floor = 50 * MiB;
	assert_int_equal(etm_memcg_learn_min_usage(&l), 50 * MiB);
	/* After the pass only the learnt floor. */
	l.passed = true;
	l.floor = 0;
	etm_memcg_learn_lru(&l, 100 * MiB, 400 * MiB);
	assert_int_equal(l.active_max, 42 * MiB);
	assert_int_equal(etm_memcg_learn_min_usage(&l), 0);
}

/*
 * Rule 4's end on the server (bench/README.md): a 152 MiB step drained the
 * inactive list, the kernel deactivated the 42 MiB active one, and the
 * next reading showed active 0 of 58 MiB resident: the pass is over, the
 * 58 MiB are the working set (the step after would have taken 9 MiB of it).
 */
static void test_pass_ends_when_the_kernel_deactivates(void **state)
{
	struct etm_memcg_learnt l;

	(void)state;
	etm_memcg_learn_reset(&l, 1);
	/* No reclaim of ours yet (the kernel's own aging): nothing ends. */
	etm_memcg_learn_lru(&l, 42 * MiB, 440 * MiB);
	etm_memcg_learn_lru(&l, 0, 440 * MiB);
	assert_false(l.passed);
	etm_memcg_learn_reclaimed(&l, 210 * MiB, true, 0, 152 * MiB);
	etm_memcg_learn_lru(&l, 22 * MiB, 60 * MiB);
	assert_false(l.passed);
	etm_memcg_learn_lru(&l, 0, 58 * MiB);
	assert_true(l.passed);
	assert_true(l.hit);
	assert_int_equal(l.floor, 58 * MiB);
	assert_int_equal(etm_memcg_learn_amount(&l, 58 * MiB, 56 * MiB), 0);
	/* A memcg too small to tell (active never reached the first pace): not from that. */
	etm_memcg_learn_reset(&l, 2);
	etm_memcg_learn_reclaimed(&l, 20 * MiB, true, 0, 4 * MiB);
	etm_memcg_learn_lru(&l, 3 * MiB, 20 * MiB);
	etm_memcg_learn_lru(&l, 0, 20 * MiB);
	assert_false(l.passed);
}

static void test_refault_stop(void **state)
{
	(void)state;
	/* Refaults during one reclaim: 1/16 of what its steps asked (and more than a trickle) ends it. */
	assert_false(etm_memcg_refault_stop(0, 64 * MiB));
	assert_false(etm_memcg_refault_stop(ETM_MEMCG_REFAULT_STOP_MIN, 4096));
	assert_true(etm_memcg_refault_stop(ETM_MEMCG_REFAULT_STOP_MIN + 1, 4096));
	assert_false(etm_memcg_refault_stop(PAGES(4 * MiB) - 1, 64 * MiB));
	assert_true(etm_memcg_refault_stop(PAGES(4 * MiB), 64 * MiB));
	/* Before any step asked anything, past the trickle: stop. */
	assert_true(etm_memcg_refault_stop(100, 0));
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
	 * The first pass learns it: 4, 8, 16, 32, 64 MiB with nothing back
	 * (each doubles the pace), then the rest down to 16 MiB, whose 48 MiB
	 * back after the pace grew are rule 1's hit: six reclaims. Then only the decay's probes, about 1 MiB below the
	 * floor each (the first after ~11 min of a 64 MiB floor, each later one twice as far), taken and learnt back:
	 * the cycles are skipped but for those.
	 */
	assert_in_range(l.floor, 60 * MiB, 64 * MiB);
	assert_int_equal(usage, 64 * MiB);
	/* 20 min: one probe at most (after ~11 min; the next ~22 min later). */
	assert_in_range(reclaims, 6, 7);
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
		cmocka_unit_test(test_probe_back_off),
		cmocka_unit_test(test_small_reclaim_backs_off_from_before),
		cmocka_unit_test(test_first_pace),
		cmocka_unit_test(test_pass_waits_for_refaults),
		cmocka_unit_test(test_pass_ends_when_nothing_is_left),
		cmocka_unit_test(test_pass_floor_from_active),
		cmocka_unit_test(test_pass_ends_when_the_kernel_deactivates),
		cmocka_unit_test(test_refault_stop),
		cmocka_unit_test(test_converges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
