/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Stepwise reclaim of a memory cgroup (see memcg_reclaim.h).
 *
 * Why a cgroup-wide reclaim and not one of action.h's per-process actions:
 * the kernel's reference check runs inside reclaim (shrink_folio_list ->
 * folio_check_references), and reclaim can only be aimed at a memory
 * cgroup. So the memcg_lru reclaimer delegates the grading to the kernel
 * and this file only sizes and triggers the reclaim.
 */
#include "scan/memcg_reclaim.h"

#include <errno.h>
#include <string.h>

#include "scan/clock.h"
#include "scan/memcg_journal.h"
#include "scan/pagestate.h"

/* How the steps are sized (memcg_reclaim.h). */
struct plan {
	bool lru;	    /* from memory.stat's inactive anon, down to @keep and the floor */
	uint64_t keep;	    /* lru: inactive anon left for the second chance */
	uint64_t hot_max;   /* lru: the largest active anon seen in this reclaim (etm_memcg_floor()) */
	uint64_t min_usage; /* the caller's floor (etm_memcg_reclaim_above()) */
	bool has_refault0;  /* lru: refault0 read (the kernel has the counter) */
	uint64_t refault0;  /* lru: workingset_refault_anon when the reclaim began */
	bool file;	    /* memory.reclaim writes on v1 too (openEuler) */
};

static uint64_t page_up(uint64_t v)
{
	return (v + ETM_PAGE_SIZE - 1) & ~(ETM_PAGE_SIZE - 1);
}

uint64_t etm_memcg_cold_amount(const struct etm_memcg_lru_stat *s, uint64_t keep)
{
	uint64_t a = s->inactive_anon > keep ? s->inactive_anon - keep : 0;

	a &= ~(ETM_PAGE_SIZE - 1);
	return a < ETM_MEMCG_MIN_RECLAIM ? 0 : a;
}

uint64_t etm_memcg_keep(const struct etm_memcg_lru_stat *s, uint64_t keep)
{
	uint64_t k = s->active_anon / ETM_MEMCG_KEEP_DIV;

	return k > keep ? k : keep;
}

uint64_t etm_memcg_floor(uint64_t hot_max)
{
	return page_up(hot_max + hot_max / ETM_MEMCG_KEEP_DIV);
}

bool etm_memcg_refault_stop(uint64_t refaulted_pages, uint64_t asked)
{
	return refaulted_pages > ETM_MEMCG_REFAULT_STOP_MIN &&
	       refaulted_pages * ETM_PAGE_SIZE * ETM_MEMCG_REFAULT_STOP_DIV >= asked;
}

uint64_t etm_memcg_next_limit(uint64_t usage, uint64_t goal, uint64_t step)
{
	uint64_t next;

	goal = page_up(goal);
	if (usage <= goal || !step)
		return 0;
	next = page_up(usage - goal > step ? usage - step : goal);
	return next < usage ? next : 0;
}

/* Has what the steps took begun to come back (@s: memory.stat now)? */
static bool refaulting(const struct etm_memcg_lru_stat *s, struct plan *pl, struct etm_memcg_reclaim_res *res)
{
	if (!s->has_refault)
		return false;
	if (!pl->has_refault0) {
		pl->has_refault0 = true;
		pl->refault0 = s->refault_anon;
		return false;
	}
	if (s->refault_anon < pl->refault0 || !etm_memcg_refault_stop(s->refault_anon - pl->refault0, res->asked))
		return false;
	res->refaulting = true;
	return true;
}

/*
 * How much is still worth reclaiming, at most one step. With the LRU's
 * sizing it is re-read before every step: the first scan activates the hot
 * pages that sat unscanned on the inactive list, which shrinks what is left
 * to take, and pages faulted back meanwhile end it.
 */
static uint64_t next_step(const struct etm_memcg_dir *d, struct plan *pl, struct etm_memcg_reclaim_res *res)
{
	struct etm_memcg_lru_stat s;
	uint64_t a;

	if (!pl->lru)
		return ETM_MEMCG_STEP;
	if (etm_memcg_read_stat(d, &s) || refaulting(&s, pl, res))
		return 0;
	if (s.active_anon > pl->hot_max)
		pl->hot_max = s.active_anon;
	a = etm_memcg_cold_amount(&s, etm_memcg_keep(&s, pl->keep));
	return a < ETM_MEMCG_STEP ? a : ETM_MEMCG_STEP;
}

static uint64_t plan_floor(const struct plan *pl)
{
	uint64_t f = pl->lru ? etm_memcg_floor(pl->hot_max) : 0;

	return f > pl->min_usage ? f : pl->min_usage;
}

/* @s cut so that the usage stays above the floor; 0: nothing may go. */
static uint64_t above_floor(const struct etm_memcg_dir *d, const struct plan *pl, uint64_t s)
{
	uint64_t usage, floor = plan_floor(pl);

	/* Without memory.current (or a floor), the stat's figures alone. */
	if (!floor || etm_memcg_read_u64(d, "memory.current", &usage))
		return s;
	if (usage <= floor)
		return 0;
	return usage - s < floor ? (usage - floor) & ~(ETM_PAGE_SIZE - 1) : s;
}

static int reclaim_v2(const struct etm_memcg_dir *d, uint64_t amount, struct plan *pl,
		      struct etm_memcg_reclaim_res *res)
{
	uint64_t s;

	while (amount && res->steps < ETM_MEMCG_MAX_STEPS && (s = next_step(d, pl, res))) {
		int err;

		if (!(s = above_floor(d, pl, amount < s ? amount : s)))
			break;
		err = etm_memcg_write_u64(d, "memory.reclaim", s);
		res->steps++;
		res->asked += s;
		amount -= s;
		if (err == -EAGAIN || err == -EBUSY) { /* reclaimed less than asked: the cold part is gone */
			res->busy = true;
			return 0;
		}
		if (err)
			return err;
	}
	return 0;
}

/*
 * The v1 cuts: @amount bytes in all, each cut from the usage of the moment
 * and undone at once (@orig written back; the caller writes it once more at
 * the end). The kernel sets a lower limit only once the usage fits under
 * it, reclaiming in this write() until then (mem_cgroup_resize_max()); from
 * that moment every charge of the target above it would reclaim in the
 * target's own context. Putting the limit back before the next step's
 * memory.stat read keeps that moment to two back-to-back writes. What the
 * target charges between two steps (pages it faults back) is not taken
 * again: each step cuts from where the usage is then, and the steps ask
 * for @amount in all.
 */
static int v1_cuts(const struct etm_memcg_dir *d, uint64_t amount, uint64_t usage, uint64_t orig, struct plan *pl,
		   struct etm_memcg_journal *j, struct etm_memcg_reclaim_res *res)
{
	int err = 0;

	while (res->steps < ETM_MEMCG_MAX_STEPS && res->asked < amount) {
		uint64_t step = next_step(d, pl, res), next;

		if (step > amount - res->asked)
			step = amount - res->asked;
		if (!step || !(next = etm_memcg_next_limit(usage, plan_floor(pl), step)))
			break;
		/* Journal first: after a crash the limit is then always within [last, orig]. */
		if (j && (err = etm_memcg_journal_note(j, next)))
			break;
		err = etm_memcg_write_u64(d, "memory.limit_in_bytes", next);
		res->steps++;
		if (err == -EBUSY) { /* the kernel found too little to reclaim: stop lowering */
			res->busy = true;
			return 0;
		}
		if (err || (err = etm_memcg_write_u64(d, "memory.limit_in_bytes", orig)))
			break;
		res->asked += usage - next;
		if (etm_memcg_read_u64(d, "memory.usage_in_bytes", &usage))
			usage = next;
	}
	return err;
}

/*
 * The original limit and the usage, with @d claimed in the journal (@j
 * NULL: no journal) before the limit is read: a concurrent reclaim's
 * lowered limit must never be taken for the original. A dead owner's cut is
 * undone inside the claim, so the limit read next is the real one. 0, 1
 * when another reclaim holds @d (res->contended), or -errno.
 */
static int v1_begin(const struct etm_memcg_dir *d, const char *jdir, struct etm_memcg_journal *j, uint64_t *orig,
		    uint64_t *usage, struct etm_memcg_reclaim_res *res)
{
	int err;

	if (j && (err = etm_memcg_journal_begin(jdir, d, 0, j))) {
		res->contended = err == -EBUSY;
		return res->contended ? 1 : err;
	}
	if ((err = etm_memcg_read_u64(d, "memory.limit_in_bytes", orig)) ||
	    (err = etm_memcg_read_u64(d, "memory.usage_in_bytes", usage)))
		goto fail;
	if (j) {
		j->rec.orig = j->rec.last = *orig;
		if ((err = etm_memcg_journal_note(j, *orig)))
			goto fail;
	}
	return 0;
fail:
	if (j)
		etm_memcg_journal_end(j);
	return err;
}

static int reclaim_v1(const struct etm_memcg_dir *d, uint64_t amount, struct plan *pl, const char *jdir,
		      struct etm_memcg_reclaim_res *res)
{
	struct etm_memcg_journal jr = { .dfd = -1 }, *j = jdir ? &jr : NULL;
	uint64_t orig, usage;
	int err, rerr;

	if ((err = v1_begin(d, jdir, j, &orig, &usage, res)))
		return err > 0 ? 0 : err;
	/* Start from the usage (or a lower limit someone set): the cuts must bite at once. */
	err = v1_cuts(d, amount, orig < usage ? orig : usage, orig, pl, j, res);
	/* ALWAYS put the original limit back, whatever happened above. */
	if ((rerr = etm_memcg_write_u64(d, "memory.limit_in_bytes", orig))) {
		/* The record stays (fd closed, file kept): the next etmemd start retries the restore. */
		if (j)
			etm_memcg_journal_abandon(j);
		res->restore_failed = true;
		return rerr;
	}
	if (j)
		etm_memcg_journal_end(j);
	return err;
}

static int reclaim(const struct etm_memcg_dir *d, uint64_t amount, struct plan *pl, const char *jdir,
		   struct etm_memcg_reclaim_res *res)
{
	uint64_t swap0 = 0, swap1 = 0;
	bool has_swap;
	double t0 = etm_mono_now();
	int err;

	memset(res, 0, sizeof(*res));
	if (!amount)
		return 0;
	has_swap = !etm_memcg_swap_bytes(d, &swap0);
	err = d->v1 && !pl->file ? reclaim_v1(d, amount, pl, jdir, res) : reclaim_v2(d, amount, pl, res);
	if (has_swap && !etm_memcg_swap_bytes(d, &swap1) && swap1 > swap0)
		res->swapped = swap1 - swap0;
	res->seconds = etm_mono_now() - t0;
	return err;
}

int etm_memcg_reclaim(const struct etm_memcg_dir *d, uint64_t amount, uint64_t keep, const char *jdir,
		      struct etm_memcg_reclaim_res *res)
{
	return etm_memcg_reclaim_above(d, amount, keep, 0, jdir, res);
}

int etm_memcg_reclaim_above(const struct etm_memcg_dir *d, uint64_t amount, uint64_t keep, uint64_t min_usage,
			    const char *jdir, struct etm_memcg_reclaim_res *res)
{
	struct plan pl = { .lru = true, .keep = keep, .min_usage = min_usage };

	return reclaim(d, amount, &pl, jdir, res);
}

int etm_memcg_reclaim_bytes(const struct etm_memcg_dir *d, uint64_t amount, const char *jdir,
			    struct etm_memcg_reclaim_res *res)
{
	struct plan pl = { .lru = false };

	return reclaim(d, amount, &pl, jdir, res);
}

int etm_memcg_reclaim_file_bytes(const struct etm_memcg_dir *d, uint64_t amount, struct etm_memcg_reclaim_res *res)
{
	struct plan pl = { .lru = false, .file = true };

	return reclaim(d, amount, &pl, NULL, res);
}
