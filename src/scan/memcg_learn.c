/* SPDX-License-Identifier: MulanPSL-2.0 */
/* What memcg_lru learns from refaults, and its back-off: see memcg_learn.h. */
#include "scan/memcg_learn.h"

#include <stdint.h>
#include <string.h>

#include "scan/memcg_reclaim.h"
#include "scan/pagestate.h"

/* ln 2: the first-order decay over one reading's interval (at most a minute of an hour's half-life). */
#define LN2 0.6931471805599453

static uint64_t page_down(uint64_t v)
{
	return v & ~(ETM_PAGE_SIZE - 1);
}

void etm_memcg_learn_reset(struct etm_memcg_learnt *l, uint64_t id)
{
	memset(l, 0, sizeof(*l));
	l->id = id;
}

uint64_t etm_memcg_learn_first_pace(uint64_t usage)
{
	uint64_t p = usage / ETM_LEARN_PACE_DIV;

	if (p < ETM_LEARN_PACE_MIN)
		p = ETM_LEARN_PACE_MIN;
	if (p > ETM_MEMCG_STEP)
		p = ETM_MEMCG_STEP;
	return page_down(p);
}

/* Rule 4 over: what is resident now (@floor) is the working set, and refaults from here raise it. */
static void pass_end(struct etm_memcg_learnt *l, uint64_t floor)
{
	l->passed = true;
	l->settling = false;
	if (!l->reclaimed)
		return; /* nothing was ever taken: nothing learnt */
	l->hit = true;
	if (floor > l->floor)
		l->floor = floor;
}

double etm_memcg_learn_half_life(const struct etm_memcg_learnt *l)
{
	return l->half_life_s > 0 ? l->half_life_s : ETM_LEARN_HALF_LIFE_S;
}

/* Rule 3: @dt seconds observed without refaults. */
static void decay(struct etm_memcg_learnt *l, double dt)
{
	double lost;

	if (dt <= 0 || !l->floor)
		return;
	/* Not page aligned: rounding each small step down would decay a small floor several times as fast. */
	lost = (double)l->floor * dt * LN2 / etm_memcg_learn_half_life(l) + 1;
	l->floor = lost >= (double)l->floor ? 0 : l->floor - (uint64_t)lost;
}

/* Rule 1: @bytes more came back since the last reclaim. */
static void came_back(struct etm_memcg_learnt *l, uint64_t bytes)
{
	if (!l->reclaimed)
		return; /* not ours to learn from: nothing of it was taken by us */
	l->back += bytes;
	l->refaulted_bytes += bytes;
	if (!l->passed)
		return; /* the first pass: its step's settling decides (rule 4) */
	if (l->hit) {
		/*
		 * Each refault adds itself, not "usage after + all back": a floor
		 * the decay lowered is then not put back whole by a trickle of
		 * refaults, only raised by what came back.
		 */
		l->floor += bytes;
		return;
	}
	if (!l->swapped || l->back < l->swapped / ETM_LEARN_HIT_DIV)
		return;
	l->hit = true;
	if (l->usage_after + l->back > l->floor)
		l->floor = l->usage_after + l->back;
	if (!l->probe)
		return;
	/* Rule 3: the floor was right (a probe below it came back): probe half as often from now on. */
	l->half_life_s = etm_memcg_learn_half_life(l) * 2;
	if (l->half_life_s > ETM_LEARN_HALF_LIFE_MAX_S)
		l->half_life_s = ETM_LEARN_HALF_LIFE_MAX_S;
}

/*
 * Rule 4: has the last step's come-back settled (@pages in the reading
 * @dt s long, at @now)? Then the next step may go, at which pace.
 */
static void pass_settle(struct etm_memcg_learnt *l, uint64_t pages, double dt, double now)
{
	double rate_bytes = dt > 0 ? (double)(pages * ETM_PAGE_SIZE) / dt : -1;
	bool quiet = pages <= ETM_LEARN_QUIET_PAGES ||
		     (rate_bytes >= 0 && rate_bytes * ETM_LEARN_SETTLE_DIV <= (double)l->swapped);
	double waited = now - l->step_s;

	if (waited < ETM_LEARN_SETTLE_MAX_S && (!quiet || waited < l->ws_s))
		return;
	l->settling = false;
	if (!l->ws_s) /* the first step: how long the working set takes to come back */
		l->ws_s = waited < ETM_LEARN_SETTLE_MAX_S / 2 ? waited : ETM_LEARN_SETTLE_MAX_S / 2;
	if (l->back * ETM_LEARN_PACE_QUIET_DIV < l->swapped) {
		if (l->pace && l->pace <= UINT64_MAX / 4) {
			l->pace *= 2;
			l->grown = true;
		}
		return;
	}
	/* Past what the LRU put first, the steps reached the working set: rule 1's hit. */
	if (l->grown && l->back * ETM_LEARN_HIT_DIV >= l->swapped)
		pass_end(l, l->usage_after + l->back);
}

void etm_memcg_learn_observe(struct etm_memcg_learnt *l, double now, bool has_refault, uint64_t refault_pages)
{
	double dt = l->has_seen && now > l->seen_s ? now - l->seen_s : 0;
	uint64_t pages = 0;

	if (!has_refault) {
		/* Nothing to pace rule 4 by (a kernel before 5.9): no first pass. */
		l->passed = true;
		l->settling = false;
		return;
	}
	if (dt > ETM_LEARN_OBSERVED_MAX_S)
		dt = 0; /* a gap in the readings (the task was stopped): not observed */
	/* A counter that went down belongs to another memcg: only its growth from here counts. */
	if (l->has_seen && refault_pages >= l->refault_seen)
		pages = refault_pages - l->refault_seen;
	l->has_seen = true;
	l->seen_s = now;
	l->refault_seen = refault_pages;
	came_back(l, pages * ETM_PAGE_SIZE);
	if (pages <= ETM_LEARN_QUIET_PAGES)
		decay(l, dt);
	if (!l->passed && l->settling)
		pass_settle(l, pages, dt, now);
}

void etm_memcg_learn_lru(struct etm_memcg_learnt *l, uint64_t active_anon, uint64_t usage)
{
	if (l->passed)
		return;
	if (active_anon > l->active_max)
		l->active_max = active_anon;
	else if (l->reclaimed && l->active_max >= ETM_LEARN_PACE_MIN && active_anon * 2 < l->active_max)
		pass_end(l, usage);
}

uint64_t etm_memcg_learn_min_usage(const struct etm_memcg_learnt *l)
{
	uint64_t f = l->passed ? 0 : etm_memcg_floor(l->active_max);

	return f > l->floor ? f : l->floor;
}

/* The usage that counts as grown: past the larger of the back-off's and the floor, by a share of it. */
static uint64_t wake_at(const struct etm_memcg_learnt *l, uint64_t *base)
{
	uint64_t b = l->idle_usage > l->floor ? l->idle_usage : l->floor;
	uint64_t margin = b / ETM_LEARN_WAKE_DIV;

	*base = b;
	return b + (margin > ETM_MEMCG_MIN_RECLAIM ? margin : ETM_MEMCG_MIN_RECLAIM);
}

bool etm_memcg_learn_skip(struct etm_memcg_learnt *l, uint64_t usage)
{
	uint64_t base;

	l->wake_cap = 0;
	if (!l->passed) {
		if (!l->pace)
			l->pace = etm_memcg_learn_first_pace(usage);
		if (l->settling) {
			l->skipped_cycles++;
			return true;
		}
	}
	if (!l->skip)
		return false;
	if (usage > wake_at(l, &base)) {
		/* Grown: take at most the growth now; the level stays until a reclaim finds something. */
		l->skip = 0;
		l->wake_cap = page_down(usage - base);
		return false;
	}
	l->skip--;
	l->skipped_cycles++;
	return true;
}

uint64_t etm_memcg_learn_amount(const struct etm_memcg_learnt *l, uint64_t usage, uint64_t amount)
{
	uint64_t min = etm_memcg_learn_min_usage(l);

	if (l->passed && l->level && !l->wake_cap) {
		/*
		 * Rule 3's probe (backing off, no growth woke it): the decay must
		 * open room past the wake margin too. The usage wanders by a few
		 * hundred KiB (kernel memory, buffers) with nothing new to take;
		 * without the margin that wander, not the decay, set the probes off
		 * (the server bench's run b: one ~190 s after the pass).
		 */
		uint64_t margin = min / ETM_LEARN_WAKE_DIV;

		min += margin > ETM_MEMCG_MIN_RECLAIM ? margin : ETM_MEMCG_MIN_RECLAIM;
	}
	uint64_t room = usage > min ? page_down(usage - min) : 0;

	if (amount > room)
		amount = room;
	if (l->wake_cap && amount > l->wake_cap)
		amount = l->wake_cap;
	if (!l->passed) {
		uint64_t pace = l->pace ? l->pace : etm_memcg_learn_first_pace(usage);

		if (amount > pace)
			amount = pace;
	}
	return amount < ETM_MEMCG_MIN_RECLAIM ? 0 : amount;
}

void etm_memcg_learn_idle(struct etm_memcg_learnt *l, uint64_t usage)
{
	if (!l->passed)
		pass_end(l, usage);
	if (l->level < ETM_LEARN_LEVEL_MAX)
		l->level++;
	l->skip = 1u << l->level;
	l->idle_usage = usage;
	l->wake_cap = 0;
}

void etm_memcg_learn_reclaimed(struct etm_memcg_learnt *l, uint64_t usage_after, bool has_refault,
			       uint64_t refault_pages, uint64_t swapped)
{
	uint64_t during = 0;

	if (has_refault && l->has_seen && refault_pages >= l->refault_seen)
		during = (refault_pages - l->refault_seen) * ETM_PAGE_SIZE;
	if (has_refault) {
		l->has_seen = true;
		l->refault_seen = refault_pages;
	}
	/* Rule 3: the last probe stayed out, the working set shrank: decay at the first half-life again. */
	if (l->probe && !l->hit && l->swapped >= ETM_MEMCG_MIN_RECLAIM)
		l->half_life_s = 0;
	l->probe = l->passed && !l->wake_cap;
	l->reclaimed = true;
	l->hit = false;
	l->usage_after = usage_after;
	l->swapped = swapped;
	l->back = 0;
	came_back(l, during);
	if (swapped < ETM_MEMCG_MIN_RECLAIM) {
		/*
		 * What it did take comes back as refaults if it was working set:
		 * the back-off's base is the usage before it, or its own pages
		 * coming back would read as growth and wake it to take them
		 * again (the server bench's run d: a probe that got 0.9 MiB out,
		 * then "grown past where it backed off", 1.1 MiB, as they came back).
		 * The floor (a pass it ends) is still what stayed resident.
		 */
		etm_memcg_learn_idle(l, usage_after);
		l->idle_usage = usage_after + swapped;
		return;
	}
	l->level = 0;
	l->skip = 0;
	l->wake_cap = 0;
	if (!l->passed) { /* rule 4: the next step waits for this one's refaults */
		l->settling = true;
		l->step_s = l->seen_s;
	}
}
