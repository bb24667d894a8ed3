/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * memcg_lru: the kernel's LRU grades, etmem decides when and how much.
 *
 * For kernels whose only per-page tracker is unusable (no idle_pages, no
 * page_idle bitmap, no DAMON vaddr, DAMON paddr occupied or missing) but
 * that have a memory controller. The target runs in its own memory cgroup,
 * the same precondition as damon_paddr.
 *
 * Grading is delegated, which is why this is a reclaimer (reclaimer.h)
 * that sizes and triggers the kernel's reclaim (memcg_reclaim.h) instead of
 * a tracker filling a pagestate: reclaim checks each inactive page's accessed bits through rmap
 * and activates the referenced ones (second chance), so the pages it swaps
 * out are exactly those not accessed since the previous check. etmem's part:
 *  - when: after slide's observation window (loop * sleep seconds, the
 *    engine waits it because the reclaimer is windowed), past slide's gates;
 *  - how much: the memcg's inactive anon (memory.stat) -- what the LRU
 *    holds as not recently used -- stepwise, re-reading memory.stat between
 *    steps so that hot pages the kernel activates on its first scan shrink
 *    the amount instead of being taken in their place.
 *
 * T and loop: the referenced-bit check is one bit per page over the time
 * since the page was last scanned, i.e. about T = 1 over the window since
 * the previous reclaim. A larger T cannot be honoured (slide warns).
 *
 * One bit over a short window misjudges pages touched less often than the
 * window lasts, and a cycle that runs at full rate after the cold part is
 * out takes them every time. With each target's learnt state
 * (etm_memcg_target.learnt, memcg_learn.h) the refaults teach a floor the
 * memcg is not reclaimed below, cycles that find nothing back off until
 * the memcg grows, and the first pass over a memcg goes in steps that wait
 * for their refaults to settle (rule 4).
 */
#include "scan/reclaimer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "scan/clock.h"
#include "scan/journal.h"
#include "scan/lru_gen.h"
#include "scan/memcg.h"
#include "scan/memcg_learn.h"
#include "scan/memcg_reclaim.h"
#include "scan/procfs.h"

#define MAX_MEMCGS 16

struct lru_ctx {
	struct etm_reclaimer_opts o;
	struct etm_reclaimer_stats total;
	/* memcgs already warned about memory.swappiness = 0 */
	char warned[MAX_MEMCGS][256];
	size_t nwarned;
	bool aging_warned; /* multi-gen LRU on but the memcg could not be aged */
};

/* Is 'memory' among the controllers of cgroup2's root? */
static bool v2_has_memory(const struct etm_cgroup_root *r)
{
	char path[sizeof(r->mnt) + 32], *b = NULL, *save = NULL;
	bool mem = false;
	size_t n;

	snprintf(path, sizeof(path), "%s/cgroup.controllers", r->mnt);
	if (etm_read_file(path, &b, &n, 4096))
		return false;
	for (char *t = strtok_r(b, " \n", &save); t; t = strtok_r(NULL, " \n", &save))
		mem = mem || !strcmp(t, "memory");
	free(b);
	return mem;
}

static int lru_probe(char *why, size_t len)
{
	struct etm_cgroup_root r;
	char stat[sizeof(r.mnt) + 16];

	char ro[sizeof(r.mnt)] = "";

	if (!etm_cgroup_hier_find(true, &r)) {
		snprintf(stat, sizeof(stat), "%s/memory.stat", r.mnt);
		if (!access(stat, R_OK)) {
			if (!access(r.mnt, W_OK))
				return 0;
			/* Present but not writable (a container's read-only /sys/fs/cgroup): saying
			 * "no controller" would send the operator looking at the kernel config. */
			if (errno == EROFS)
				snprintf(ro, sizeof(ro), "%s", r.mnt);
		}
	}
	if (!etm_cgroup_hier_find(false, &r) && v2_has_memory(&r))
		return 0;
	if (ro[0]) {
		snprintf(why, len,
			 "the cgroup v1 memory hierarchy at %s is mounted read-only: etmemd needs to write its "
			 "limits (mount it read-write, or run etmemd outside the container)",
			 ro);
		return -EROFS;
	}
	snprintf(why, len,
		 "no memory cgroup controller (neither %s (cgroup v1) nor 'memory' in %s/cgroup.controllers "
		 "(cgroup v2)): kernel built without CONFIG_MEMCG or the controller is not mounted",
		 ETM_MEMCG_V1_ROOT, ETM_MEMCG_V2_ROOT);
	return -ENOTSUP;
}

static int lru_open(const struct etm_reclaimer_opts *o, void **out, char *why, size_t len)
{
	struct lru_ctx *c = calloc(1, sizeof(*c));

	(void)why;
	(void)len;
	if (!c)
		return -ENOMEM;
	c->o = *o;
	*out = c;
	return 0;
}

static void check_swappiness(struct lru_ctx *c, const struct etm_memcg_dir *d, const char *path)
{
	int sw;

	for (size_t i = 0; i < c->nwarned; i++)
		if (!strcmp(c->warned[i], path))
			return;
	if (etm_memcg_swappiness(d, &sw) || sw > 0 || c->nwarned == MAX_MEMCGS)
		return;
	snprintf(c->warned[c->nwarned++], sizeof(c->warned[0]), "%s", path);
	etm_warn("memcg_lru: %s/memory.swappiness is 0: the kernel's reclaim will not swap anonymous memory "
		 "of this cgroup, so nothing will be swapped out",
		 d->dir);
}

/* Multi-gen LRU: a fresh generation per window, else inactive_anon stays 0 (lru_gen.h). true: aged. */
static bool age(struct lru_ctx *c, const char *path)
{
	int err = etm_memcg_lru_gen_age(path);

	if (!err)
		return true;
	if (err == -ENOTSUP || c->aging_warned)
		return false;
	c->aging_warned = true;
	etm_warn("memcg_lru: the multi-gen LRU is on but %s could not be aged through %s: %s; its inactive list only "
		 "grows when the kernel ages it under memory pressure (mount debugfs, or turn the multi-gen LRU off "
		 "in %s)",
		 path, ETM_LRU_GEN_DEBUGFS, strerror(-err), ETM_LRU_GEN_ENABLED);
	return false;
}

/* After a reclaim of @d: the figures, the log line, and the error to report (0: none). */
static int reclaimed(struct lru_ctx *c, const struct etm_memcg_dir *d, const struct etm_memcg_lru_stat *s,
		     const struct etm_memcg_reclaim_res *r, int err, char *why, size_t len)
{
	if (r->contended) {
		etm_info("memcg_lru: %s: another reclaim of this memory cgroup is in progress (a second task or "
			 "etmemd on it); skipped this cycle",
			 d->dir);
		return 0;
	}
	c->total.bytes_applied += r->swapped;
	if (!r->steps && !err) { /* the inactive list is within what the LRU keeps: nothing asked */
		etm_debug("memcg_lru: %s: inactive anon %llu KiB within the LRU's share of active %llu KiB", d->dir,
			  (unsigned long long)(s->inactive_anon >> 10), (unsigned long long)(s->active_anon >> 10));
		return 0;
	}
	/* Only a reclaim that ran: "last reclaim" in project show is the most recent real one. */
	c->total.last_reclaim_s = r->seconds;
	etm_info("memcg_lru: %s: inactive anon %llu MiB, active %llu MiB: asked %llu MiB in %u steps%s, swapped %llu "
		 "MiB in %.3f s",
		 d->dir, (unsigned long long)(s->inactive_anon >> 20), (unsigned long long)(s->active_anon >> 20),
		 (unsigned long long)(r->asked >> 20), r->steps,
		 r->busy	 ? " (kernel stopped early)"
		 : r->refaulting ? " (stopped: what it took came back)"
				 : "",
		 (unsigned long long)(r->swapped >> 20), r->seconds);
	if (r->restore_failed)
		snprintf(why, len,
			 "memcg_lru: could not restore %s/memory.limit_in_bytes after reclaim: %s (the limit is left "
			 "lowered)",
			 d->dir, strerror(-err));
	else if (err)
		snprintf(why, len, "memcg_lru: reclaiming in %s: %s", d->dir, strerror(-err));
	return err;
}

/* What one update reads of a memcg: its LRU, its usage. */
struct reading {
	struct etm_memcg_lru_stat s;
	uint64_t usage;
};

static int read_memcg(const struct etm_memcg_dir *d, struct reading *r)
{
	int err = etm_memcg_read_stat(d, &r->s);

	return err ? err : etm_memcg_usage(d, &r->usage);
}

static uint64_t resident(const struct reading *r)
{
	return r->s.inactive_anon + r->s.active_anon;
}

/* The memcg's directory, and what was learnt of it unless it is another memcg by now. */
static int open_memcg(const struct etm_memcg_target *t, struct etm_memcg_dir *d, char *why, size_t len)
{
	uint64_t id;
	int err;

	if ((err = etm_memcg_dir_of(t->path, t->v1, d))) {
		snprintf(why, len, "memcg_lru: memory cgroup %s: %s", t->path, strerror(-err));
		return err;
	}
	if (t->learnt && !etm_memcg_id(d, &id) && id != t->learnt->id)
		etm_memcg_learn_reset(t->learnt, id);
	return 0;
}

/* After a reclaim: learn from it, and what stays resident is hot as the LRU graded it. */
static void after_reclaim(struct lru_ctx *c, const struct etm_memcg_dir *d, struct etm_memcg_learnt *l,
			  const struct reading *before, const struct etm_memcg_reclaim_res *r)
{
	struct reading now;

	if (read_memcg(d, &now)) {
		c->total.bytes_hot += resident(before);
		return;
	}
	c->total.bytes_hot += resident(&now);
	if (l && !r->contended)
		etm_memcg_learn_reclaimed(l, now.usage, now.s.has_refault, now.s.refault_anon, r->swapped);
}

/* Reclaim @amount of @d above the floor, learn from it. 0 or -errno with @why. */
static int reclaim_one(struct lru_ctx *c, const struct etm_memcg_dir *d, struct etm_memcg_learnt *l,
		       const struct reading *rd, uint64_t amount, char *why, size_t len)
{
	struct etm_memcg_reclaim_res r;
	int err = etm_memcg_reclaim_above(d, amount, 0, l ? etm_memcg_learn_min_usage(l) : 0, ETM_RUN_DIR, &r);

	after_reclaim(c, d, l, rd, &r);
	return reclaimed(c, d, &rd->s, &r, err, why, len);
}

/*
 * One memcg: read it and learn (memcg_learn.h); unless its processes may
 * not swap or it backs off, age it and reclaim its cold part above the
 * learnt floor. 0 or -errno with @why.
 */
static int update_one(struct lru_ctx *c, const struct etm_memcg_target *t, char *why, size_t len)
{
	struct etm_memcg_learnt *l = t->learnt;
	struct etm_memcg_dir d;
	struct reading rd;
	uint64_t amount, refaulted0 = l ? l->refaulted_bytes : 0;
	int err;

	if ((err = open_memcg(t, &d, why, len)))
		return err;
	if ((err = read_memcg(&d, &rd))) {
		if (err == -ENOENT) /* removed meanwhile: its processes are gone */
			return 0;
		snprintf(why, len, "memcg_lru: reading %s/memory.stat: %s", d.dir, strerror(-err));
		return err;
	}
	if (l) {
		etm_memcg_learn_observe(l, etm_mono_now(), rd.s.has_refault, rd.s.refault_anon);
		etm_memcg_learn_lru(l, rd.s.active_anon, rd.usage);
		c->total.bytes_refaulted += l->refaulted_bytes - refaulted0;
	}
	/* Backing off: nothing is tried, graded cold or aged; what is resident stays hot. */
	if (t->swap && l && etm_memcg_learn_skip(l, rd.usage)) {
		c->total.cycles_skipped++;
		c->total.bytes_hot += resident(&rd);
		return 0;
	}
	c->total.bytes_tried += resident(&rd);
	if (!t->swap) { /* gated: looked at, nothing is cold */
		c->total.bytes_hot += resident(&rd);
		return 0;
	}
	if (age(c, t->path) && read_memcg(&d, &rd)) /* a fresh generation: its inactive list changed */
		return 0;
	check_swappiness(c, &d, t->path);
	amount = etm_memcg_cold_amount(&rd.s, 0);
	if (l)
		amount = etm_memcg_learn_amount(l, rd.usage, amount);
	c->total.bytes_cold += amount;
	if (amount && l && l->passed)
		/* After the pass every reclaim is rare: say what let it through, for the operator and the bench. */
		etm_info("memcg_lru: %s: usage %llu KiB, learnt floor %llu KiB (half-life %.1f h): %s, %llu KiB", d.dir,
			 (unsigned long long)(rd.usage >> 10), (unsigned long long)(l->floor >> 10),
			 etm_memcg_learn_half_life(l) / 3600,
			 l->wake_cap ? "grown past where it backed off" : "room above the floor",
			 (unsigned long long)(amount >> 10));
	if (amount)
		return reclaim_one(c, &d, l, &rd, amount, why, len);
	if (l)
		etm_memcg_learn_idle(l, rd.usage);
	c->total.bytes_hot += resident(&rd);
	return 0;
}

static int lru_update(void *ctx, const struct etm_memcg_target *t, size_t n, struct etm_reclaimer_stats *st, char *why,
		      size_t len)
{
	struct lru_ctx *c = ctx;
	int ret = 0;

	c->total.bytes_hot = c->total.bytes_learnt = 0; /* this update's, summed over the memcgs */
	c->total.memcgs_idle = c->total.memcgs_first = 0;
	c->total.half_life_max_s = 0;
	for (size_t i = 0; i < n; i++) {
		int err = update_one(c, &t[i], why, len);

		if (err)
			ret = err;
		if (t[i].learnt) {
			c->total.bytes_learnt += t[i].learnt->floor;
			c->total.memcgs_idle += t[i].learnt->skip > 0;
			c->total.memcgs_first += !t[i].learnt->passed;
			if (etm_memcg_learn_half_life(t[i].learnt) > c->total.half_life_max_s)
				c->total.half_life_max_s = etm_memcg_learn_half_life(t[i].learnt);
		}
	}
	c->total.hot_known = c->total.learning = true;
	*st = c->total;
	return ret;
}

static void lru_close(void *ctx)
{
	free(ctx); /* nothing stays changed in the kernel between two updates */
}

const struct etm_reclaimer_ops etm_reclaimer_memcg_lru = {
	.windowed = true,
	.probe = lru_probe,
	.open = lru_open,
	.update = lru_update,
	.close = lru_close,
};
