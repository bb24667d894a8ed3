/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * psi engine: the policy against worked examples. The floor (each term
 * winning once, ties, no limit), the reclaim amount (the cap, 4 KiB
 * rounding), the decision (back-off, at floor, the cgroup's own rate) and
 * the rate's adaptation up and down within its clamps.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/engines/psi_policy.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
/* v1's "unlimited" (PAGE_COUNTER_MAX * 4 KiB) */
#define V1_UNLIMITED 9223372036854771712ULL

/* The README's defaults. */
static const struct psi_policy defaults = {
	.pressure = 0.1,
	.rate_init = 0.05,
	.rate_min = 0.01,
	.rate_max = 0.5,
	.reclaim_max_bytes = GiB,
	.limit_min_bytes = 0,
	.limit_min_ratio = 0.1,
};

/* 1 GiB used, all of it file cache (reclaimable), no limit, no protection, no pressure. */
static struct psi_readings base(void)
{
	struct psi_readings r = {
		.pressure = 0,
		.usage = GiB,
		.limit = V1_UNLIMITED,
		.file = GiB,
		.anon = 0,
		.swap_room = 0,
	};

	return r;
}

static void expect_floor(const struct psi_policy *p, const struct psi_readings *r, enum psi_floor_term by,
			 uint64_t bytes)
{
	struct psi_floor f;

	psi_floor_compute(p, r, &f);
	if (f.by != by || f.bytes != bytes)
		fail_msg("floor %llu by %s, expected %llu by %s", (unsigned long long)f.bytes,
			 psi_floor_term_name(f.by), (unsigned long long)bytes, psi_floor_term_name(by));
}

static void test_floor_each_term(void **state)
{
	struct psi_policy p = defaults;
	struct psi_readings r = base();

	(void)state;
	/* limit_min_bytes: 200 MiB; no limit, so the ratio term is 0 */
	p.limit_min_bytes = 200 * MiB;
	expect_floor(&p, &r, PSI_FLOOR_LIMIT_MIN_BYTES, 200 * MiB);
	/* limit_min_ratio: 0.25 of a 2 GiB limit = 512 MiB */
	r.limit = 2 * GiB;
	p.limit_min_ratio = 0.25;
	expect_floor(&p, &r, PSI_FLOOR_LIMIT_MIN_RATIO, 512 * MiB);
	/* memory.min above both */
	r.min = 600 * MiB;
	expect_floor(&p, &r, PSI_FLOOR_MEMORY_MIN, 600 * MiB);
	/* memory.low above min */
	r.low = 700 * MiB;
	expect_floor(&p, &r, PSI_FLOOR_MEMORY_LOW, 700 * MiB);
	/* unreclaimable: 100 MiB file + 900 MiB anon with only 100 MiB of swap room: 824 MiB stay */
	r.file = 100 * MiB;
	r.anon = 900 * MiB;
	r.swap_room = 100 * MiB;
	expect_floor(&p, &r, PSI_FLOOR_UNRECLAIMABLE, 824 * MiB);
}

static void test_floor_none_ties_and_limits(void **state)
{
	struct psi_policy p = defaults;
	struct psi_readings r = base();
	struct psi_floor f;

	(void)state;
	/* every term 0: none */
	p.limit_min_ratio = 0;
	expect_floor(&p, &r, PSI_FLOOR_NONE, 0);
	/* a tie names the earlier term: the operator's key before the kernel's protection */
	p.limit_min_bytes = 300 * MiB;
	r.min = 300 * MiB;
	expect_floor(&p, &r, PSI_FLOOR_LIMIT_MIN_BYTES, 300 * MiB);
	/* v2's "max" and v1's unlimited both mean no limit: the ratio term is 0, not 10 % of 8 EiB */
	p = defaults;
	r = base();
	r.limit = UINT64_MAX;
	psi_floor_compute(&p, &r, &f);
	assert_int_equal(f.term[PSI_FLOOR_LIMIT_MIN_RATIO], 0);
	r.limit = PSI_LIMIT_NONE - 4096;
	psi_floor_compute(&p, &r, &f);
	assert_true(f.term[PSI_FLOOR_LIMIT_MIN_RATIO] > 0);
	/* anon fully swappable: nothing unreclaimable */
	r = base();
	r.file = 0;
	r.anon = GiB;
	r.swap_room = 4 * GiB;
	psi_floor_compute(&p, &r, &f);
	assert_int_equal(f.term[PSI_FLOOR_UNRECLAIMABLE], 0);
	/* no swap: all anon stays */
	r.swap_room = 0;
	expect_floor(&p, &r, PSI_FLOOR_UNRECLAIMABLE, GiB);
	/* LRU sums beyond the usage (the counters are not read atomically): 0, not a wrap */
	r.file = UINT64_MAX;
	r.swap_room = UINT64_MAX;
	r.anon = UINT64_MAX;
	psi_floor_compute(&p, &r, &f);
	assert_int_equal(f.term[PSI_FLOOR_UNRECLAIMABLE], 0);
	assert_string_equal(psi_floor_term_name(PSI_FLOOR_MEMORY_LOW), "memory.low");
}

static void test_amount(void **state)
{
	bool capped;

	(void)state;
	/* (1 GiB - 200 MiB) * 0.05 = 43201331.2 bytes, rounded down to 4 KiB: 43200512 */
	assert_int_equal(psi_reclaim_amount(GiB, 200 * MiB, 0.05, GiB, &capped), 43200512);
	assert_false(capped);
	/* the cap: 50 GiB asked, 1 GiB allowed */
	assert_int_equal(psi_reclaim_amount(100 * GiB, 0, 0.5, GiB, &capped), GiB);
	assert_true(capped);
	/* a cap that is no page multiple is rounded down too */
	assert_int_equal(psi_reclaim_amount(100 * GiB, 0, 0.5, 1000000, &capped), 999424);
	assert_true(capped);
	/* 4 KiB rounding: 10000 bytes above the floor at rate 1 -> two pages; 4095 -> nothing */
	assert_int_equal(psi_reclaim_amount(10000 + MiB, MiB, 1.0, GiB, &capped), 8192);
	assert_int_equal(psi_reclaim_amount(4095 + MiB, MiB, 1.0, GiB, &capped), 0);
	/* at or below the floor */
	assert_int_equal(psi_reclaim_amount(MiB, MiB, 0.5, GiB, &capped), 0);
	assert_int_equal(psi_reclaim_amount(MiB, 2 * MiB, 0.5, GiB, &capped), 0);
	/* hostile figures saturate instead of overflowing */
	assert_int_equal(psi_reclaim_amount(UINT64_MAX, 0, 1.0, UINT64_MAX, &capped), UINT64_MAX & ~4095ULL);
}

static void test_decide(void **state)
{
	struct psi_policy p = defaults;
	struct psi_readings r = base();
	struct psi_rate rate;
	struct psi_decision d;

	(void)state;
	p.limit_min_bytes = 200 * MiB;
	psi_rate_init(&p, &rate);
	/* below the target: reclaim (usage - floor) * rate */
	r.pressure = 0.09;
	psi_decide(&p, &rate, &r, NULL, &d);
	assert_int_equal(d.state, PSI_STATE_RECLAIMING);
	assert_int_equal(d.amount, 43200512);
	assert_int_equal(d.floor.by, PSI_FLOOR_LIMIT_MIN_BYTES);
	assert_string_equal(psi_state_name(d.state), "reclaiming");
	/* at the target: back off, nothing reclaimed, the floor still shown */
	r.pressure = 0.1;
	psi_decide(&p, &rate, &r, NULL, &d);
	assert_int_equal(d.state, PSI_STATE_BACKING_OFF);
	assert_int_equal(d.amount, 0);
	assert_int_equal(d.floor.bytes, 200 * MiB);
	assert_string_equal(psi_state_name(d.state), "backing off");
	/* at the floor */
	r.pressure = 0;
	r.usage = 200 * MiB;
	psi_decide(&p, &rate, &r, NULL, &d);
	assert_int_equal(d.state, PSI_STATE_AT_FLOOR);
	assert_string_equal(psi_state_name(d.state), "at floor");
	/* the cgroup's own rate sizes the reclaim, not the task's starting one (the original's bug) */
	r.usage = GiB;
	rate.rate = 0.2;
	psi_decide(&p, &rate, &r, NULL, &d);
	assert_float_equal(d.rate, 0.2, 1e-12);
	assert_int_equal(d.amount, (uint64_t)((double)(824 * MiB) * 0.2) & ~4095ULL);
}

static void test_refaults(void **state)
{
	struct psi_policy p = defaults;
	struct psi_readings r = base();
	struct psi_prev prev = { .known = true, .refaults = 1000, .has_refaults = true, .reclaimed = 16 * MiB };
	struct psi_rate rate;
	struct psi_decision d;
	uint64_t b;

	(void)state;
	psi_rate_init(&p, &rate);
	r.pressure = 0;
	r.has_refaults = true;
	/* 2 MiB of the 16 MiB reclaimed came back (1/8): the working set was hit, back off */
	r.refaults = 1000 + 512;
	assert_true(psi_refaulting(&prev, &r, &b));
	assert_int_equal(b, 2 * MiB);
	psi_decide(&p, &rate, &r, &prev, &d);
	assert_int_equal(d.state, PSI_STATE_BACKING_OFF);
	assert_true(d.refaulting);
	assert_int_equal(d.amount, 0);
	/* one page less than 1/8: reclaim goes on */
	r.refaults = 1000 + 511;
	assert_false(psi_refaulting(&prev, &r, &b));
	assert_int_equal(b, 511 * 4096);
	psi_decide(&p, &rate, &r, &prev, &d);
	assert_int_equal(d.state, PSI_STATE_RECLAIMING);
	assert_false(d.refaulting);
	/* a small reclaim: under PSI_REFAULT_MIN (256 KiB) refaults are noise */
	prev.reclaimed = 512 * 1024;
	r.refaults = 1000 + 63;
	assert_false(psi_refaulting(&prev, &r, &b));
	r.refaults = 1000 + 64;
	assert_true(psi_refaulting(&prev, &r, &b));
	/* refaults after a cycle without reclaim are not ours */
	prev.reclaimed = 0;
	r.refaults = 1000000;
	assert_false(psi_refaulting(&prev, &r, &b));
	assert_int_equal(b, (1000000 - 1000) * 4096ULL);
	/* unknown: first cycle, no counter on either side, a counter that went back (a new cgroup, same inode) */
	prev.reclaimed = 16 * MiB;
	assert_false(psi_refaulting(NULL, &r, &b));
	assert_int_equal(b, 0);
	prev.known = false;
	assert_false(psi_refaulting(&prev, &r, &b));
	prev.known = true;
	prev.has_refaults = false;
	assert_false(psi_refaulting(&prev, &r, &b));
	prev.has_refaults = true;
	r.has_refaults = false;
	assert_false(psi_refaulting(&prev, &r, &b));
	r.has_refaults = true;
	r.refaults = 10;
	assert_false(psi_refaulting(&prev, &r, &b));
	assert_int_equal(b, 0);
	/* a hostile counter saturates */
	prev.refaults = 0;
	r.refaults = UINT64_MAX;
	assert_true(psi_refaulting(&prev, &r, &b));
	assert_int_equal(b, UINT64_MAX);
}

static void outcomes(const struct psi_policy *p, struct psi_rate *r, enum psi_outcome o, int n)
{
	while (n--)
		psi_rate_update(p, r, o);
}

static void test_rate_up_down(void **state)
{
	struct psi_policy p = defaults;
	struct psi_rate r;

	(void)state;
	psi_rate_init(&p, &r);
	assert_float_equal(r.rate, 0.05, 1e-12);
	/* four good cycles: not yet; the fifth raises by one step */
	outcomes(&p, &r, PSI_OUTCOME_RECLAIMED, 4);
	assert_float_equal(r.rate, 0.05, 1e-12);
	outcomes(&p, &r, PSI_OUTCOME_RECLAIMED, 1);
	assert_float_equal(r.rate, 0.06, 1e-12);
	/* a pressured cycle breaks the run: four more good ones do not raise */
	outcomes(&p, &r, PSI_OUTCOME_RECLAIMED, 3);
	outcomes(&p, &r, PSI_OUTCOME_PRESSURED, 1);
	outcomes(&p, &r, PSI_OUTCOME_RECLAIMED, 4);
	assert_float_equal(r.rate, 0.06, 1e-12);
	/* two pressured cycles in a row lower it by one step */
	outcomes(&p, &r, PSI_OUTCOME_PRESSURED, 2);
	assert_float_equal(r.rate, 0.05, 1e-12);
	/* six pressured cycles: three steps */
	outcomes(&p, &r, PSI_OUTCOME_PRESSURED, 6);
	assert_float_equal(r.rate, 0.02, 1e-12);
	/* cycles at the floor (or failed reclaims) change nothing, not even the run */
	outcomes(&p, &r, PSI_OUTCOME_PRESSURED, 1);
	outcomes(&p, &r, PSI_OUTCOME_NONE, 10);
	assert_float_equal(r.rate, 0.02, 1e-12);
	outcomes(&p, &r, PSI_OUTCOME_PRESSURED, 1);
	assert_float_equal(r.rate, 0.01, 1e-12);
}

static void test_rate_clamps(void **state)
{
	struct psi_policy p = defaults;
	struct psi_rate r;

	(void)state;
	psi_rate_init(&p, &r);
	/* down to the minimum and no further */
	outcomes(&p, &r, PSI_OUTCOME_PRESSURED, 100);
	assert_float_equal(r.rate, 0.01, 1e-12);
	/* up to the maximum and no further: 49 steps of 5 cycles, then more */
	outcomes(&p, &r, PSI_OUTCOME_RECLAIMED, 49 * 5 + 50);
	assert_float_equal(r.rate, 0.5, 1e-9);
	/* a narrow range: min = max */
	p.rate_min = p.rate_max = 0.2;
	psi_rate_init(&p, &r);
	assert_float_equal(r.rate, 0.2, 1e-12);
	outcomes(&p, &r, PSI_OUTCOME_RECLAIMED, 20);
	assert_float_equal(r.rate, 0.2, 1e-12);
	outcomes(&p, &r, PSI_OUTCOME_PRESSURED, 20);
	assert_float_equal(r.rate, 0.2, 1e-12);
	/* a starting rate outside the range is clamped at init */
	p = defaults;
	p.rate_init = 0.9;
	psi_rate_init(&p, &r);
	assert_float_equal(r.rate, 0.5, 1e-12);
	p.rate_init = 0.001;
	psi_rate_init(&p, &r);
	assert_float_equal(r.rate, 0.01, 1e-12);
}

/*
 * The working set learnt from refaults: the usage when a reclaim came back
 * becomes a floor term; the next cycles stop at it (at floor), it decays
 * with a 10-minute half-life, a new refault raises it at once.
 */
static void test_learnt_working_set(void **state)
{
	struct psi_policy p = defaults;
	struct psi_readings r = base();
	struct psi_prev prev = {
		.known = true, .refaults = 1000, .has_refaults = true, .reclaimed = 16 * MiB, .active = 100 * MiB
	};
	struct psi_rate rate;
	struct psi_decision d;

	(void)state;
	p.limit_min_ratio = 0;
	p.learnt_decay = psi_learnt_decay(2);
	assert_float_equal(psi_learnt_decay(PSI_LEARNT_HALF_LIFE_S), 0.5, 1e-12);
	assert_float_equal(psi_learnt_decay(0), 1.0, 1e-12);
	psi_rate_init(&p, &rate);
	r.usage = 220 * MiB;
	r.has_refaults = true;
	/* the 16 MiB reclaimed came back: learnt at the usage now */
	r.refaults = 1000 + 4096;
	psi_decide(&p, &rate, &r, &prev, &d);
	assert_int_equal(d.state, PSI_STATE_BACKING_OFF);
	assert_int_equal(d.learnt_ws, 220 * MiB);
	assert_int_equal(d.floor.by, PSI_FLOOR_WORKING_SET);
	assert_int_equal(d.floor.bytes, 220 * MiB);
	assert_string_equal(psi_floor_term_name(d.floor.by), "working_set");
	/* next cycle, no refaults, usage where it was: at the (slightly decayed) floor, a nibble at most */
	prev =
	    (struct psi_prev){ .known = true, .refaults = r.refaults, .has_refaults = true, .learnt_ws = d.learnt_ws };
	psi_decide(&p, &rate, &r, &prev, &d);
	assert_int_equal(d.floor.by, PSI_FLOOR_WORKING_SET);
	assert_true(d.learnt_ws < 220 * MiB && d.learnt_ws > 219 * MiB);
	assert_true(d.amount < 64 * 1024);
	/* 300 cycles of 2 s (one half-life): half of it */
	for (int i = 0; i < 299; i++) {
		prev.learnt_ws = d.learnt_ws;
		psi_decide(&p, &rate, &r, &prev, &d);
	}
	assert_true(d.learnt_ws > 109 * MiB && d.learnt_ws < 111 * MiB);
	assert_int_equal(d.state, PSI_STATE_RECLAIMING);
	/* an operator's term as large wins the tie: the floor is named by the key */
	p.limit_min_bytes = d.learnt_ws + 1;
	prev.learnt_ws = d.learnt_ws;
	psi_decide(&p, &rate, &r, &prev, &d);
	assert_int_equal(d.floor.by, PSI_FLOOR_LIMIT_MIN_BYTES);
	/* a new refault raises it back to the usage at once */
	p.limit_min_bytes = 0;
	prev = (struct psi_prev){ .known = true,
				  .refaults = 1000,
				  .has_refaults = true,
				  .reclaimed = 8 * MiB,
				  .active = 100 * MiB,
				  .learnt_ws = 50 * MiB };
	r.refaults = 1000 + 2048;
	psi_decide(&p, &rate, &r, &prev, &d);
	assert_int_equal(d.learnt_ws, 220 * MiB);
	/* the first cycle of a cgroup knows nothing */
	psi_decide(&p, &rate, &r, NULL, &d);
	assert_int_equal(d.learnt_ws, 0);
}

/* The factor on the rate as the usage nears where the working set is thought to be. */
static void test_approach(void **state)
{
	(void)state;
	/* nowhere known: full speed */
	assert_float_equal(psi_approach(GiB, 0), 1.0, 1e-12);
	assert_float_equal(psi_approach(GiB, 1), 1.0, 1e-12);
	/* 200 MiB: full speed from 300 MiB (half of it above) up */
	assert_float_equal(psi_approach(GiB, 200 * MiB), 1.0, 1e-12);
	assert_float_equal(psi_approach(300 * MiB, 200 * MiB), 1.0, 1e-12);
	/* 250 MiB: half of the 100 MiB zone left: half the rate */
	assert_float_equal(psi_approach(250 * MiB, 200 * MiB), 0.5, 1e-12);
	assert_float_equal(psi_approach(225 * MiB, 200 * MiB), 0.25, 1e-12);
	/* 210 MiB: 0.1, but never below 1/8 (also at and below it) */
	assert_float_equal(psi_approach(210 * MiB, 200 * MiB), 0.125, 1e-12);
	assert_float_equal(psi_approach(200 * MiB, 200 * MiB), 0.125, 1e-12);
	assert_float_equal(psi_approach(100 * MiB, 200 * MiB), 0.125, 1e-12);
	/* hostile figures: no wrap of near + near / 2 */
	assert_float_equal(psi_approach(UINT64_MAX, UINT64_MAX - 1), 0.125, 1e-12);
	assert_float_equal(psi_approach(UINT64_MAX, UINT64_MAX / 2), 1.0, 1e-12);
}

/*
 * The step near the working set, in a cgroup of 1 GiB with a 200 MiB hot
 * set, no limit and no keys (so no floor) at rate 0.1: the kernel's
 * active lists show 200 MiB after the first reclaims.
 */
static void test_approach_decide(void **state)
{
	struct psi_policy p = defaults;
	struct psi_readings r = base();
	struct psi_prev prev = { .known = true, .has_refaults = true, .active = 200 * MiB, .hot_hint = 0 };
	struct psi_rate rate = { .rate = 0.1 };
	struct psi_decision d;

	(void)state;
	p.limit_min_ratio = 0;
	p.learnt_decay = psi_learnt_decay(2);
	r.has_refaults = true;
	r.active = 200 * MiB;
	/* far above: (1 GiB - 0) * 0.1, rounded down to 4 KiB */
	psi_decide(&p, &rate, &r, &prev, &d);
	assert_int_equal(d.hot_hint, 200 * MiB);
	assert_int_equal(d.near, 200 * MiB);
	assert_float_equal(d.approach, 1.0, 1e-12);
	assert_int_equal(d.amount, 107372544);
	/* 250 MiB: 250 MiB * 0.1 * 0.5 = 12.5 MiB */
	r.usage = 250 * MiB;
	psi_decide(&p, &rate, &r, &prev, &d);
	assert_float_equal(d.approach, 0.5, 1e-12);
	assert_int_equal(d.amount, 13107200);
	/* the kernel deactivated half of the hot set (inactive lists ran short): the hint keeps the largest, decayed */
	r.active = 80 * MiB;
	prev.hot_hint = 200 * MiB;
	psi_decide(&p, &rate, &r, &prev, &d);
	assert_int_equal(d.hot_hint, (uint64_t)((double)(200 * MiB) * psi_learnt_decay(2)));
	assert_true(d.approach > 0.49 && d.approach < 0.51);
	/* at the hint, one eighth of the rate: 200 MiB * 0.1 / 8 = 2.5 MiB; no floor, so still reclaiming */
	r.usage = 200 * MiB;
	psi_decide(&p, &rate, &r, &prev, &d);
	assert_float_equal(d.approach, 0.125, 1e-12);
	assert_int_equal(d.state, PSI_STATE_RECLAIMING);
	assert_int_equal(d.amount, 2621440);
	/* at a learnt floor of 220 MiB, 1 MiB above it: 1 MiB * 0.1 / 8 = 13107 bytes, 3 pages */
	r.usage = 221 * MiB;
	prev.learnt_ws = (uint64_t)((double)(220 * MiB) / psi_learnt_decay(2)) + 1;
	psi_decide(&p, &rate, &r, &prev, &d);
	assert_int_equal(d.floor.by, PSI_FLOOR_WORKING_SET);
	assert_int_equal(d.near, d.floor.bytes);
	assert_float_equal(d.approach, 0.125, 1e-12);
	assert_int_equal(d.amount, 12288);
	/* backing off computes the approach all the same (project show, the log) */
	r.pressure = 1;
	psi_decide(&p, &rate, &r, &prev, &d);
	assert_int_equal(d.state, PSI_STATE_BACKING_OFF);
	assert_int_equal(d.amount, 0);
	assert_float_equal(d.approach, 0.125, 1e-12);
}

/*
 * A reclaim the kernel stopped short teaches the working set like refaults;
 * refaults after a reclaim of a cgroup the kernel had never sorted (no
 * active pages) back off but teach nothing.
 */
static void test_stopped_and_unsorted(void **state)
{
	struct psi_policy p = defaults;
	struct psi_readings r = base();
	struct psi_prev prev = { .known = true,
				 .refaults = 1000,
				 .has_refaults = true,
				 .reclaimed = 15 * MiB,
				 .stopped = true,
				 .active = 200 * MiB };
	struct psi_rate rate;
	struct psi_decision d;

	(void)state;
	p.limit_min_ratio = 0;
	p.learnt_decay = 1;
	psi_rate_init(&p, &rate);
	r.has_refaults = true;
	r.refaults = 1000; /* none yet */
	r.usage = 221 * MiB;
	psi_decide(&p, &rate, &r, &prev, &d);
	assert_int_equal(d.state, PSI_STATE_BACKING_OFF);
	assert_true(d.stopped);
	assert_false(d.refaulting);
	assert_int_equal(d.learnt_ws, 221 * MiB);
	assert_int_equal(d.floor.by, PSI_FLOOR_WORKING_SET);
	/* stopped short on a cgroup without active pages: still the kernel's word */
	prev.active = 0;
	psi_decide(&p, &rate, &r, &prev, &d);
	assert_int_equal(d.learnt_ws, 221 * MiB);
	/* the first reclaim of a never-scanned 1 GiB took 54 MiB of hot pages, 58 MiB came back */
	prev = (struct psi_prev){ .known = true, .refaults = 1000, .has_refaults = true, .reclaimed = 54 * MiB };
	r.usage = 1000 * MiB;
	r.refaults = 1000 + 58 * 256;
	psi_decide(&p, &rate, &r, &prev, &d);
	assert_int_equal(d.state, PSI_STATE_BACKING_OFF);
	assert_true(d.refaulting);
	assert_false(d.stopped);
	assert_int_equal(d.learnt_ws, 0);
	assert_int_not_equal(d.floor.by, PSI_FLOOR_WORKING_SET);
	/* the same once the kernel has sorted it: learnt */
	prev.active = 160 * MiB;
	psi_decide(&p, &rate, &r, &prev, &d);
	assert_int_equal(d.learnt_ws, 1000 * MiB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_floor_each_term),
		cmocka_unit_test(test_floor_none_ties_and_limits),
		cmocka_unit_test(test_amount),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_refaults),
		cmocka_unit_test(test_rate_up_down),
		cmocka_unit_test(test_rate_clamps),
		cmocka_unit_test(test_learnt_working_set),
		cmocka_unit_test(test_approach),
		cmocka_unit_test(test_approach_decide),
		cmocka_unit_test(test_stopped_and_unsorted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
