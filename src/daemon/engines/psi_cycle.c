/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * psi: one cycle (psi_rt.h). cg_dir is expanded again and the set of
 * tracked cgroups brought in line with it; then each cgroup in turn is
 * read, decided on (psi_policy.h), reclaimed when it may be, its own rate
 * adapted, and the cycle recorded in its history. Every step is logged at
 * debug level with its values.
 */
#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "daemon/cycle_hook.h"
#include "psi_rt.h"
#include "scan/clock.h"

/* A limit for the log: "none" when there is none. */
static const char *limit_text(uint64_t v, char *buf, size_t len)
{
	if (v >= PSI_LIMIT_NONE)
		return "none";
	snprintf(buf, len, "%" PRIu64, v);
	return buf;
}

static void log_added_removed(const struct psi_rt *rt, GPtrArray *added, GPtrArray *removed)
{
	for (guint i = 0; i < added->len; i++)
		etm_info("psi task %s: cgroup %s picked up", rt->name, ((struct psi_cg *)added->pdata[i])->rel);
	for (guint i = 0; i < removed->len; i++)
		etm_info("psi task %s: cgroup %s dropped (gone, or cg_dir no longer matches it)", rt->name,
			 ((struct psi_cg *)removed->pdata[i])->rel);
}

/* cg_dir expanded again: the cgroups that appeared are picked up, those that vanished dropped. */
static int refresh(struct psi_rt *rt)
{
	g_autoptr(GPtrArray) matches = NULL, added = g_ptr_array_new();
	g_autoptr(GPtrArray) removed = g_ptr_array_new_with_free_func((GDestroyNotify)psi_cg_free);
	unsigned dropped = 0, was;
	int err = psi_cg_expand(rt->backend->mem.mnt, rt->cg_dir, &matches, &dropped);

	if (err) {
		psi_rt_error(rt, "cannot expand cg_dir %s below %s: %s", rt->cg_dir, rt->backend->mem.mnt,
			     g_strerror(-err));
		return err;
	}
	pthread_mutex_lock(&rt->lock);
	psi_cgset_update(rt->set, matches, added, removed);
	was = rt->dropped;
	rt->dropped = dropped;
	pthread_mutex_unlock(&rt->lock);
	log_added_removed(rt, added, removed);
	if (dropped && !was)
		etm_warn("psi task %s: cg_dir %s matches more than %d cgroups: %u left out", rt->name, rt->cg_dir,
			 PSI_CG_MAX, dropped);
	etm_debug("psi task %s: cg_dir %s below %s matches %u cgroups (%u new, %u gone)", rt->name, rt->cg_dir,
		  rt->backend->mem.mnt, matches->len, added->len, removed->len);
	return 0;
}

static void log_decision(const struct psi_rt *rt, const struct psi_cg *cg, const struct psi_cg_last *l)
{
	const struct psi_readings *r = &l->r;
	const struct psi_decision *d = &l->d;
	char lim[24];

	etm_debug("psi task %s: cgroup %s: pressure %.2f (%s), usage %" PRIu64 ", limit %s, min %" PRIu64
		  ", low %" PRIu64 ", file %" PRIu64 ", anon %" PRIu64 ", active %" PRIu64 ", swap room %" PRIu64
		  ", refaulted %" PRIu64 "; floor %" PRIu64 " (%s), hot hint %" PRIu64
		  ", approach %.3f; rate %.3f: %s%s%s, %" PRIu64 " bytes%s",
		  rt->name, cg->rel, r->pressure, psi_source_name(l->src), r->usage,
		  limit_text(r->limit, lim, sizeof(lim)), r->min, r->low, r->file, r->anon, r->active, r->swap_room,
		  d->refault_bytes, d->floor.bytes, psi_floor_term_name(d->floor.by), d->hot_hint, d->approach, d->rate,
		  psi_state_name(d->state), d->refaulting ? " (the last reclaim refaulted)" : "",
		  d->stopped ? " (the kernel stopped the last reclaim short)" : "", d->amount,
		  d->capped ? " (capped by reclaim_max_bytes)" : "");
}

/* Reclaim what @l decided; the outcome for the rate. */
static enum psi_outcome reclaim(struct psi_rt *rt, const struct psi_cg *cg, struct psi_cg_last *l,
				struct psi_reclaim_res *res)
{
	int err = rt->backend->ops->reclaim(rt->backend, cg->rel, l->d.amount, res);

	etm_debug("psi task %s: cgroup %s: reclaim of %" PRIu64 ": asked %" PRIu64 " in %u steps, usage down %" PRIu64
		  ", %.3f s%s%s",
		  rt->name, cg->rel, l->d.amount, res->asked, res->steps, res->reclaimed, res->seconds,
		  res->busy ? ", the kernel took less" : "", res->contended ? ", another reclaim runs" : "");
	if (res->restore_failed)
		psi_rt_error(rt,
			     "cgroup %s: its memory.limit_in_bytes could not be put back (the journal in %s keeps "
			     "it for the next etmemd start)",
			     cg->rel, rt->backend->jdir ? rt->backend->jdir : "-");
	if (err) {
		l->err = err;
		if (err != -ENOENT) /* gone meanwhile: dropped next cycle */
			psi_rt_error(rt, "cgroup %s: reclaim: %s", cg->rel, g_strerror(-err));
		return PSI_OUTCOME_NONE;
	}
	/* The kernel found less than asked: no reason to raise the rate. */
	return res->contended || res->busy ? PSI_OUTCOME_NONE : PSI_OUTCOME_RECLAIMED;
}

/* One cgroup's cycle; the set is not changed meanwhile (this thread alone changes it). */
static void cycle_cg(struct psi_rt *rt, struct psi_cg *cg, uint64_t n)
{
	struct psi_cg_last l = cg->last;
	const struct psi_prev prev = { .known = cg->last.known,
				       .refaults = cg->last.r.refaults,
				       .has_refaults = cg->last.r.has_refaults,
				       .reclaimed = cg->last.asked,
				       .stopped = cg->last.stopped,
				       .active = cg->last.r.active,
				       .learnt_ws = cg->last.d.learnt_ws,
				       .hot_hint = cg->last.d.hot_hint };
	struct psi_reclaim_res res = { 0 };
	enum psi_outcome o = PSI_OUTCOME_NONE;
	struct psi_sample s;
	int err = psi_backend_read(rt->backend, cg->rel, &l.r, &l.src);

	if (err) {
		etm_debug("psi task %s: cgroup %s: cannot read it: %s", rt->name, cg->rel, g_strerror(-err));
		if (err != -ENOENT)
			psi_rt_error(rt, "cgroup %s: %s", cg->rel, g_strerror(-err));
		pthread_mutex_lock(&rt->lock);
		cg->last.err = err;
		pthread_mutex_unlock(&rt->lock);
		return;
	}
	l.known = true;
	l.err = 0;
	l.asked = 0;
	l.stopped = false;
	psi_decide(&rt->policy, &cg->rate, &l.r, &prev, &l.d);
	log_decision(rt, cg, &l);
	if (l.d.state == PSI_STATE_BACKING_OFF)
		o = PSI_OUTCOME_PRESSURED;
	else if (l.d.state == PSI_STATE_RECLAIMING)
		o = reclaim(rt, cg, &l, &res);
	/*
	 * What the reclaim took, for the next cycle's refault check: what it
	 * asked, or the usage it brought down when that is more. A reclaim the
	 * kernel stopped short counts as 0 asked but took memory too (often
	 * the working set, which then refaults); the kernel also reclaims in
	 * batches of 32 pages, more than a small step asks. A contended one
	 * did nothing of its own.
	 */
	if (l.d.state == PSI_STATE_RECLAIMING && !l.err && !res.contended) {
		l.asked = res.asked > res.reclaimed ? res.asked : res.reclaimed;
		l.stopped = res.busy;
	}
	s = (struct psi_sample){ .cycle = n,
				 .pressure = l.r.pressure,
				 .usage = l.r.usage,
				 .reclaimed = res.reclaimed,
				 .rate = l.d.rate,
				 .state = l.d.state };
	pthread_mutex_lock(&rt->lock);
	psi_rate_update(&rt->policy, &cg->rate, o);
	cg->last = l;
	psi_cg_record(cg, &s);
	rt->reclaimed_total += res.reclaimed;
	pthread_mutex_unlock(&rt->lock);
	if (cg->rate.rate != l.d.rate)
		etm_debug("psi task %s: cgroup %s: rate %.3f -> %.3f", rt->name, cg->rel, l.d.rate, cg->rate.rate);
}

void psi_cycle_run(struct psi_rt *rt)
{
	double t0 = etm_mono_now();
	GPtrArray *list;
	uint64_t n;

	pthread_mutex_lock(&rt->lock);
	n = rt->cycles + 1;
	pthread_mutex_unlock(&rt->lock);
	if (!refresh(rt)) {
		/* Only this thread changes the set: its list stays as it is until the next refresh. */
		list = psi_cgset_list(rt->set);
		for (guint i = 0; i < list->len && !psi_rt_stopping(rt); i++)
			cycle_cg(rt, list->pdata[i], n);
	}
	pthread_mutex_lock(&rt->lock);
	rt->cycles = n;
	rt->last_cycle_s = etm_mono_now() - t0;
	pthread_mutex_unlock(&rt->lock);
	etm_cycle_hook_fire(rt->cycle_hook);
}
