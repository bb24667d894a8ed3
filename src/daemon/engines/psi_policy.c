/* SPDX-License-Identifier: MulanPSL-2.0 */
/* psi engine: the policy (psi_policy.h). */
#include "psi_policy.h"

#include <math.h>
#include <stddef.h>

/* 2^64 as a double: (uint64_t) of anything at or above it is undefined. */
#define U64_LIMIT_D 18446744073709551616.0

const char *psi_floor_term_name(enum psi_floor_term t)
{
	static const char *const names[PSI_FLOOR_NTERMS] = {
		[PSI_FLOOR_NONE] = "none",
		[PSI_FLOOR_LIMIT_MIN_BYTES] = "limit_min_bytes",
		[PSI_FLOOR_LIMIT_MIN_RATIO] = "limit_min_ratio",
		[PSI_FLOOR_MEMORY_MIN] = "memory.min",
		[PSI_FLOOR_MEMORY_LOW] = "memory.low",
		[PSI_FLOOR_UNRECLAIMABLE] = "unreclaimable",
		[PSI_FLOOR_WORKING_SET] = "working_set",
	};

	return (unsigned)t < PSI_FLOOR_NTERMS ? names[t] : "?";
}

const char *psi_state_name(enum psi_state s)
{
	switch (s) {
	case PSI_STATE_RECLAIMING:
		return "reclaiming";
	case PSI_STATE_BACKING_OFF:
		return "backing off";
	case PSI_STATE_AT_FLOOR:
		return "at floor";
	}
	return "?";
}

/* @v * @f for f in [0, 1], without the undefined conversion of a rounded-up 2^64. */
static uint64_t scale(uint64_t v, double f)
{
	double d = (double)v * f;

	if (!(d > 0))
		return 0;
	return d >= U64_LIMIT_D ? UINT64_MAX : (uint64_t)d;
}

/*
 * What the kernel cannot take from the cgroup now: file pages can always be
 * dropped or written back, anonymous ones only into swap the cgroup may
 * still use; the rest of the usage (unevictable and mlocked pages, kernel
 * memory, anon beyond the swap room) stays.
 */
static uint64_t unreclaimable(const struct psi_readings *r)
{
	uint64_t anon = r->anon < r->swap_room ? r->anon : r->swap_room;
	uint64_t reclaimable = r->file > UINT64_MAX - anon ? UINT64_MAX : r->file + anon;

	return r->usage > reclaimable ? r->usage - reclaimable : 0;
}

void psi_floor_compute(const struct psi_policy *p, const struct psi_readings *r, struct psi_floor *out)
{
	out->term[PSI_FLOOR_NONE] = 0;
	out->term[PSI_FLOOR_LIMIT_MIN_BYTES] = p->limit_min_bytes;
	out->term[PSI_FLOOR_LIMIT_MIN_RATIO] = r->limit >= PSI_LIMIT_NONE ? 0 : scale(r->limit, p->limit_min_ratio);
	out->term[PSI_FLOOR_MEMORY_MIN] = r->min;
	out->term[PSI_FLOOR_MEMORY_LOW] = r->low;
	out->term[PSI_FLOOR_UNRECLAIMABLE] = unreclaimable(r);
	out->term[PSI_FLOOR_WORKING_SET] = 0; /* psi_decide() sets it: it needs the previous cycle */
	out->by = PSI_FLOOR_NONE;
	out->bytes = 0;
	/* Strictly greater: on a tie the earlier term (the operator's own key first) is named. */
	for (int t = PSI_FLOOR_NONE + 1; t < PSI_FLOOR_NTERMS; t++) {
		if (out->term[t] > out->bytes) {
			out->bytes = out->term[t];
			out->by = (enum psi_floor_term)t;
		}
	}
}

uint64_t psi_reclaim_amount(uint64_t usage, uint64_t floor, double rate, uint64_t max_bytes, bool *capped)
{
	uint64_t a;

	*capped = false;
	if (usage <= floor)
		return 0;
	a = scale(usage - floor, rate > 1 ? 1 : rate);
	if (a > max_bytes) {
		a = max_bytes;
		*capped = true;
	}
	return a & ~(PSI_PAGE - 1);
}

double psi_approach(uint64_t usage, uint64_t near)
{
	uint64_t zone = near / PSI_APPROACH_ZONE_DIV;
	double f;

	if (!zone)
		return 1.0;
	/* usage - near, not near + zone: that could wrap */
	f = usage > near ? (double)(usage - near) / (double)zone : 0;
	if (f >= 1)
		return 1.0;
	return f > 1.0 / PSI_APPROACH_MIN_DIV ? f : 1.0 / PSI_APPROACH_MIN_DIV;
}

void psi_rate_init(const struct psi_policy *p, struct psi_rate *r)
{
	r->rate = p->rate_init < p->rate_min ? p->rate_min : p->rate_init > p->rate_max ? p->rate_max : p->rate_init;
	r->gather = 0;
}

bool psi_refaulting(const struct psi_prev *prev, const struct psi_readings *r, uint64_t *bytes)
{
	uint64_t pages;

	*bytes = 0;
	if (!prev || !prev->known || !prev->has_refaults || !r->has_refaults || r->refaults < prev->refaults)
		return false;
	pages = r->refaults - prev->refaults;
	*bytes = pages > UINT64_MAX / PSI_PAGE ? UINT64_MAX : pages * PSI_PAGE;
	/* Refaults after a cycle without reclaim are not ours: the pressure decides alone then. */
	return prev->reclaimed && *bytes >= PSI_REFAULT_MIN && *bytes >= prev->reclaimed / PSI_REFAULT_SHARE;
}

double psi_learnt_decay(double interval_s)
{
	return interval_s > 0 ? pow(0.5, interval_s / PSI_LEARNT_HALF_LIFE_S) : 1.0;
}

/*
 * The learnt working set as this cycle's floor term: the previous one
 * decayed, raised to the usage by a refault or a reclaim the kernel stopped
 * short. Not by refaults after a reclaim of a cgroup without active pages:
 * the kernel had never scanned it, so that reclaim took hot and cold alike.
 */
static void learn_working_set(const struct psi_policy *p, const struct psi_readings *r, const struct psi_prev *prev,
			      struct psi_decision *d)
{
	bool known = prev && prev->known;
	uint64_t ws = known ? scale(prev->learnt_ws, p->learnt_decay) : 0;
	uint64_t hint = known ? scale(prev->hot_hint, p->learnt_decay) : 0;

	d->hot_hint = r->active > hint ? r->active : hint;
	if (((d->refaulting && prev->active) || d->stopped) && r->usage > ws)
		ws = r->usage;
	d->learnt_ws = ws;
	d->floor.term[PSI_FLOOR_WORKING_SET] = ws;
	/* Last in the tie order: a key of the operator's that says as much is named instead. */
	if (ws > d->floor.bytes) {
		d->floor.bytes = ws;
		d->floor.by = PSI_FLOOR_WORKING_SET;
	}
}

void psi_decide(const struct psi_policy *p, const struct psi_rate *rate, const struct psi_readings *r,
		const struct psi_prev *prev, struct psi_decision *d)
{
	psi_floor_compute(p, r, &d->floor);
	d->rate = rate->rate;
	d->amount = 0;
	d->capped = false;
	d->refaulting = psi_refaulting(prev, r, &d->refault_bytes);
	d->stopped = prev && prev->known && prev->stopped;
	learn_working_set(p, r, prev, d);
	d->near = d->hot_hint > d->floor.bytes ? d->hot_hint : d->floor.bytes;
	d->approach = psi_approach(r->usage, d->near);
	/* Not "!(pressure < target)" by accident: a NaN cannot come from psi_pressure_parse(). */
	if (r->pressure >= p->pressure || d->refaulting || d->stopped) {
		d->state = PSI_STATE_BACKING_OFF;
		return;
	}
	d->amount =
	    psi_reclaim_amount(r->usage, d->floor.bytes, rate->rate * d->approach, p->reclaim_max_bytes, &d->capped);
	d->state = d->amount ? PSI_STATE_RECLAIMING : PSI_STATE_AT_FLOOR;
}

void psi_rate_update(const struct psi_policy *p, struct psi_rate *r, enum psi_outcome o)
{
	switch (o) {
	case PSI_OUTCOME_PRESSURED:
		r->gather = r->gather > 0 ? -1 : r->gather - 1;
		if (r->gather <= -PSI_GATHER_DOWN) {
			r->rate -= PSI_RATE_STEP;
			r->gather = 0;
		}
		break;
	case PSI_OUTCOME_RECLAIMED:
		r->gather = r->gather < 0 ? 1 : r->gather + 1;
		if (r->gather >= PSI_GATHER_UP) {
			r->rate += PSI_RATE_STEP;
			r->gather = 0;
		}
		break;
	case PSI_OUTCOME_NONE:
		return;
	}
	/* The clamps also bring back a rate someone set outside them (a reloaded task). */
	if (r->rate < p->rate_min)
		r->rate = p->rate_min;
	if (r->rate > p->rate_max)
		r->rate = p->rate_max;
}
