/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * One slide cycle, in one direction: resolve the target's processes (again
 * every cycle: processes that exit mid-cycle are dropped silently), then one
 * of two paths, chosen once by the task's backend:
 *
 * The tracker path (a per-page tracker, scan/tracker.h): one job per process
 * on the task's workers, as the original's slide_executor with its bugs
 * fixed (docs/compat.md):
 *   1. gate: the swap gates (slide_policy.h); a gated process is not scanned;
 *   2. scan: `loop` scans `sleep` seconds apart through the tracker (open()
 *      takes a baseline, so every scan measures one `sleep` window; the
 *      original's first scan measured whatever had passed since the last
 *      cycle, and its final sleep only delayed the swap);
 *   3. grade: a page with weighted count < T is cold (with dram_percent, the
 *      coldest pages up to the quota);
 *   4. act: cold runs go to the swap-out action (swap_pages or
 *      MADV_PAGEOUT), then swapcache reclaim when the watermarks are set and
 *      reached.
 *
 * The reclaimer path (a kernel-graded reclaimer, scan/reclaimer.h): no
 * per-process pages. The gates are evaluated per process, their memory
 * cgroups become the reclaimer's targets (slide_memcg.c), and the kernel
 * scans, grades and acts: damon_paddr's schemes are switched between "page
 * out" and "only count", memcg_lru (windowed) waits the loop * sleep
 * observation window and has the kernel's LRU reclaim the cold part.
 */
#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "daemon/cycle_hook.h"
#include "daemon/heatmap.h"
#include "daemon/target.h"
#include "scan/clock.h"
#include "scan/page_learn.h"
#include "scan/pagestate.h"
#include "scan/proc_stat.h"
#include "scan/procfs.h"
#include "slide_policy.h"
#include "slide_rt.h"

static bool gone(int err)
{
	return err == -ESRCH || err == -ENOENT;
}

struct swap_arg {
	const struct etm_action_ops *act;
	void *ctx;
	const struct slide_rt *rt;
	struct etm_page_learnt *pl; /* what went out is noted here (NULL: nothing is learnt) */
	/* dram_percent selection */
	unsigned cutoff;
	uint64_t extra;
};

static int swap_run(uint64_t start, uint64_t len, void *arg)
{
	struct swap_arg *a = arg;

	if (a->pl)
		etm_page_learn_note(a->pl, start, len);
	return a->act->add(a->ctx, start, len, ETM_ACTION_SWAP);
}

/* dram_percent: is the page @v taken (count < cutoff, and @extra of count == cutoff)? */
static bool take_selected(uint8_t v, void *arg)
{
	struct swap_arg *a = arg;
	unsigned c;

	if (!etm_ps_is_cold(v, a->rt->T))
		return false;
	c = (unsigned)etm_ps_count(v);
	if (c < a->cutoff)
		return true;
	if (c == a->cutoff && a->extra) {
		a->extra--;
		return true;
	}
	return false;
}

/* dram_percent: the cutoff that leaves dram_percent% of the process (@st) in DRAM, coldest pages first. */
static void dram_cutoff(const struct slide_rt *rt, const struct etm_pagestate *ps, const struct etm_proc_status *st,
			struct swap_arg *a)
{
	uint64_t hist[ETM_PS_COUNT_MAX + 1] = { 0 };
	unsigned limit = rt->T < (int)ETM_PS_COUNT_MAX ? (unsigned)rt->T : ETM_PS_COUNT_MAX;

	for (size_t i = 0; i < ps->n; i++) {
		uint64_t np = (ps->r[i].end - ps->r[i].start) >> ETM_PAGE_SHIFT;

		for (uint64_t k = 0; k < np; k++)
			if (etm_ps_is_cold(ps->r[i].st[k], rt->T))
				hist[etm_ps_count(ps->r[i].st[k])]++;
	}
	slide_dram_cutoff(hist, limit, slide_dram_quota_pages(rt->dram_percent, st), &a->cutoff, &a->extra);
}

/* openEuler swapcache reclaim, when the watermarks are set and SwapCached reached the high one. */
static void swapcache(struct slide_rt *rt, void *ctx)
{
	struct etm_meminfo mi;
	bool first;

	if (rt->wm_high <= 0 || !rt->act->swapcache_reclaim || etm_proc_meminfo(&mi) ||
	    !slide_swapcache_due(rt->wm_high, &mi))
		return;
	pthread_mutex_lock(&rt->lock);
	first = !rt->wmark_sent;
	rt->wmark_sent = true;
	pthread_mutex_unlock(&rt->lock);
	if (rt->act->swapcache_reclaim(ctx, rt->wm_low, rt->wm_high, first))
		etm_warn("slide task %s: swapcache reclaim ioctl failed", rt->name);
}

/* The cold pages of @ps to the swap-out action; *@bytes: what the action reports done. */
static int swap_out(struct slide_rt *rt, pid_t pid, const struct etm_pagestate *ps, const struct etm_proc_status *st,
		    struct etm_page_learnt *pl, uint64_t *bytes)
{
	struct swap_arg a = { .act = rt->act, .rt = rt, .pl = pl };
	struct etm_action_stats ast;
	int err;

	*bytes = 0;
	if ((err = rt->act->open(pid, &a.ctx)))
		return err;
	if (rt->dram_percent > 0) {
		dram_cutoff(rt, ps, st, &a);
		err = etm_pagestate_for_each_run(ps, take_selected, swap_run, &a);
	} else {
		err = etm_pagestate_for_each_cold(ps, rt->T, swap_run, &a);
	}
	if (!err)
		err = rt->act->flush(a.ctx);
	if (!err)
		slide_learn_pages_out(rt, pid, pl);
	rt->act->stats(a.ctx, &ast);
	*bytes = ast.bytes_done;
	if (!err)
		swapcache(rt, a.ctx);
	rt->act->close(a.ctx);
	return err;
}

/* 1. gate: may @pid be swapped out now? Its status into @st. */
static bool job_gate(struct slide_rt *rt, pid_t pid, struct etm_proc_status *st)
{
	struct etm_meminfo mi;
	enum slide_gate gate;
	int err;

	if ((err = etm_proc_meminfo(&mi))) {
		slide_rt_error(rt, SLIDE_ERR_PROC, "reading /proc/meminfo: %s", strerror(-err));
		return false;
	}
	if (etm_proc_status(pid, st))
		return false; /* exited, or a zombie/kernel thread with no memory */
	gate = slide_gate_check(rt->sysmem, rt->swap_threshold, &mi, st);
	if (gate == SLIDE_GATE_SWAP)
		return true;
	etm_debug("slide task %s: pid %d not swapped (%s)", rt->name, (int)pid, slide_gate_name(gate));
	pthread_mutex_lock(&rt->lock);
	rt->cyc_gated++;
	pthread_mutex_unlock(&rt->lock);
	return false;
}

/* 2. scan: `loop` passes of the tracker, `sleep` seconds apart, into @ps (its ranges set here). */
static int job_scan(struct slide_rt *rt, pid_t pid, struct etm_pagestate *ps)
{
	const struct etm_tracker_ops *tr = rt->acc->tracker;
	struct etm_tracker_opts o = {
		.flagged_only = rt->swap_flag,
		.vma_name = rt->swap_flag && !tr->kernel_marks ? ETM_SWAP_VMA_NAME : NULL,
		.sleep_s = (unsigned)rt->sleep_s,
		.loop = (unsigned)rt->loop,
		.task = rt->trk.task,
	};
	void *ctx = NULL;
	int err;

	if ((err = etm_tracker_ranges(pid, &o, ps)) || (err = tr->open(pid, &o, &ctx)))
		return err;
	for (int i = 0; i < rt->loop && !err; i++)
		if (!(err = slide_rt_wait(rt, rt->sleep_s)))
			err = tr->scan(ctx, ps);
	tr->close(ctx);
	return err;
}

/* 4. act: swap out; *@bytes: what left memory, *@advised: what the kernel was asked. */
static int job_act(struct slide_rt *rt, pid_t pid, const struct etm_pagestate *ps, const struct etm_proc_status *st,
		   struct etm_page_learnt *pl, uint64_t *bytes, uint64_t *advised)
{
	struct etm_proc_status after;
	int err = swap_out(rt, pid, ps, st, pl, advised);

	/*
	 * Advised bytes include pages that were already out (trackers see them
	 * as unaccessed): what left memory is VmSwap's growth.
	 */
	if (!etm_proc_status(pid, &after) && after.vm_swap_kb > st->vm_swap_kb)
		*bytes = (after.vm_swap_kb - st->vm_swap_kb) * 1024;
	return err;
}

/* One process of the tracker path: gate, scan, grade (with what came back held hot), act. */
static void slide_job(struct slide_rt *rt, pid_t pid)
{
	struct etm_proc_status st;
	struct etm_pagestate *ps;
	struct etm_page_learnt *pl = NULL;
	struct etm_page_learn_stats ls = { 0 };
	struct etm_grade g = { 0 };
	uint64_t bytes = 0, advised = 0;
	enum slide_err_kind kind = SLIDE_ERR_SCAN;
	int err;

	if (!job_gate(rt, pid, &st) || !(ps = etm_pagestate_new()))
		return;
	if (!(err = job_scan(rt, pid, ps))) {
		pl = slide_learn_pages_apply(rt, pid, ps, &ls);
		etm_pagestate_grade(ps, rt->T, &g); /* 3. grade */
		kind = SLIDE_ERR_SWAP_OUT;
		if (g.cold && !slide_rt_stopping(rt))
			err = job_act(rt, pid, ps, &st, pl, &bytes, &advised);
		slide_learn_pages_put(rt, pid, pl);
		etm_debug("slide task %s: pid %d scanned %" PRIu64 " hot %" PRIu64 " cold %" PRIu64 " swapped %" PRIu64
			  " bytes (state %zu bytes)",
			  rt->name, (int)pid, g.scanned, g.hot, g.cold, bytes, etm_pagestate_bytes(ps));
	}
	if (err && !gone(err) && err != -ECANCELED)
		slide_rt_error(rt, kind, "pid %d: %s: %s", (int)pid,
			       kind == SLIDE_ERR_SCAN ? rt->acc->name : rt->act->name, strerror(-err));
	pthread_mutex_lock(&rt->lock);
	rt->cyc_scanned += g.scanned;
	rt->cyc_hot += g.hot;
	rt->cyc_cold += g.cold;
	rt->cyc_held += ls.held;
	rt->came_back_pages += ls.came_back;
	rt->swapped_bytes += bytes;
	rt->advised_bytes += advised;
	pthread_mutex_unlock(&rt->lock);
	/* The heatmap's figures of this process, after its swap-out (the worker owns heat_cycle's use). */
	if (!err)
		etm_heat_cycle_add_pagestate(rt->heat_cycle, pid, ps);
	etm_pagestate_free(ps);
	malloc_trim(0); /* the page state of a big process is gone: give it back */
}

void *slide_worker_main(void *arg)
{
	struct slide_rt *rt = arg;

	pthread_mutex_lock(&rt->lock);
	for (;;) {
		pid_t pid;

		while (!rt->stop && rt->next_job >= rt->njobs)
			pthread_cond_wait(&rt->jobs_cv, &rt->lock);
		if (rt->stop)
			break;
		pid = rt->jobs[rt->next_job++];
		pthread_mutex_unlock(&rt->lock);
		slide_job(rt, pid);
		pthread_mutex_lock(&rt->lock);
		rt->jobs_done++;
		pthread_cond_broadcast(&rt->jobs_cv);
	}
	pthread_mutex_unlock(&rt->lock);
	return NULL;
}

/* The tracker path: one job per process on the workers; back when all are done or the task stops. */
static void cycle_tracker(struct slide_rt *rt, pid_t *pids, size_t n)
{
	if (!n)
		return;
	pthread_mutex_lock(&rt->lock);
	rt->jobs = pids;
	rt->njobs = n;
	rt->next_job = rt->jobs_done = 0;
	pthread_cond_broadcast(&rt->jobs_cv);
	while (!rt->stop && rt->jobs_done < rt->njobs)
		pthread_cond_wait(&rt->jobs_cv, &rt->lock);
	/* On stop, workers exit after their current job; none touches jobs again. */
	rt->njobs = rt->next_job = 0;
	rt->jobs = NULL;
	pthread_mutex_unlock(&rt->lock);
}

/* Growth of a running total; a total that went down was reset. */
static uint64_t since(uint64_t now, uint64_t before)
{
	return now >= before ? now - before : now;
}

/*
 * The reclaimer path: the processes' memory cgroups to the reclaimer, which
 * scans, grades and acts. Sets rt->idle: every memcg backs off now. True
 * when, besides, each skipped its update this cycle (nothing was read of
 * them but their counters, nothing moved).
 */
static bool cycle_reclaimer(struct slide_rt *rt, const pid_t *pids, size_t n)
{
	const struct etm_reclaimer_ops *rc = rt->acc->reclaimer;
	g_autofree struct etm_memcg_target *t = calloc(n ? n : 1, sizeof(*t));
	struct etm_reclaimer_stats ms = { 0 };
	struct etm_meminfo mi;
	size_t nt;
	char why[512];
	bool skipped;
	int err;

	rt->idle = false;

	if (!t)
		return false;
	/* memcg_lru: the kernel checks the accessed bits when it reclaims, at the end of the window. */
	if (rc->windowed && slide_rt_wait(rt, (double)rt->loop * rt->sleep_s))
		return false;
	if ((err = etm_proc_meminfo(&mi))) {
		slide_rt_error(rt, SLIDE_ERR_PROC, "reading /proc/meminfo: %s", strerror(-err));
		return false;
	}
	/* a memcg pages out only if all its processes may */
	nt = etm_memcg_targets_merge(t, slide_memcg_targets(rt, &mi, pids, n, t));
	slide_learn_memcgs_take(rt, t, nt);
	if ((err = rc->update(rt->group, t, nt, &ms, why, sizeof(why))))
		slide_rt_error(rt, SLIDE_ERR_RECLAIM, "%s", why);
	slide_learn_memcgs_put(rt, t, nt);
	/* Every memcg backs off now; skipped: besides, each skipped its update this cycle. */
	rt->idle = nt && ms.memcgs_idle == nt;
	skipped = rt->idle && since(ms.cycles_skipped, rt->mstats.cycles_skipped) == nt;
	pthread_mutex_lock(&rt->lock);
	/* The reclaimer's counters run over all cycles; show this cycle's, like per-page trackers do. */
	rt->cyc_scanned = since(ms.bytes_tried, rt->mstats.bytes_tried) / ETM_PAGE_SIZE;
	rt->cyc_cold = since(ms.bytes_cold, rt->mstats.bytes_cold) / ETM_PAGE_SIZE;
	rt->cyc_hot = ms.bytes_hot / ETM_PAGE_SIZE;
	rt->mstats = ms;
	rt->swapped_bytes = ms.bytes_applied;
	pthread_mutex_unlock(&rt->lock);
	return skipped;
}

/*
 * While a reclaimer task backs off, a full resolution of its target (a read
 * of every process's stat: 3.3 % of a core on a host of 5000 processes, at
 * one cycle every 2 s) runs at most this often; in between the last list
 * serves while each of its processes is still there.
 */
#define RESOLVE_IDLE_MAX_S 30.0

/* @pid's start time; UINT64_MAX, a start time no process has, when it is gone. */
static uint64_t start_time(pid_t pid)
{
	struct etm_proc_stat st;

	return etm_proc_stat_read(-1, pid, ETM_STAT_STARTTIME, &st) ? UINT64_MAX : st.starttime;
}

/* Is every process of the last resolution still the one it was (there, same start time)? */
static bool known_alive(const struct slide_rt *rt)
{
	for (size_t i = 0; i < rt->nknown; i++) {
		uint64_t s = start_time(rt->known_pids[i]);

		if (s == UINT64_MAX || s != rt->known_start[i])
			return false;
	}
	return true;
}

static void known_set(struct slide_rt *rt, const pid_t *pids, size_t n, double now)
{
	g_free(rt->known_pids);
	g_free(rt->known_start);
	rt->known_pids = g_memdup2(pids, n * sizeof(*pids));
	rt->known_start = g_new0(uint64_t, n ? n : 1);
	rt->nknown = n;
	rt->resolved_s = now;
	/* One gone already reads UINT64_MAX: known_alive() then resolves again. */
	for (size_t i = 0; i < n; i++)
		rt->known_start[i] = start_time(pids[i]);
}

/*
 * The cycle's processes (etm_target_resolve()). A reclaimer task whose
 * memcgs all backed off last cycle takes the last list again while each
 * of its processes lives, for up to RESOLVE_IDLE_MAX_S: a process started
 * meanwhile (a new match or descendant) joins within that time; growth of
 * the memcgs it already has wakes them as before.
 */
static int resolve(struct slide_rt *rt, pid_t **pids, size_t *n, char *why, size_t len)
{
	double now = etm_mono_now();
	int err;

	why[0] = '\0';
	if (!rt->acc->tracker && rt->idle && rt->nknown && now - rt->resolved_s < RESOLVE_IDLE_MAX_S &&
	    known_alive(rt)) {
		*pids = g_memdup2(rt->known_pids, rt->nknown * sizeof(**pids));
		*n = rt->nknown;
		return 0;
	}
	err = etm_target_resolve(rt->type, rt->value, pids, n, why, len);
	if (!err && !rt->acc->tracker)
		known_set(rt, *pids, *n, now);
	return err;
}

void slide_cycle_run(struct slide_rt *rt)
{
	double t0 = etm_mono_now();
	pid_t *pids = NULL;
	size_t n = 0;
	char why[256];
	bool done, idle = false;
	int err;

	err = resolve(rt, &pids, &n, why, sizeof(why));
	if (err) {
		slide_rt_error(rt, SLIDE_ERR_TARGET, "resolving %s %s: %s", rt->type, rt->value, strerror(-err));
		return;
	}
	if (why[0])
		slide_rt_error(rt, SLIDE_ERR_TARGET, "%s %s: %s; left out", rt->type, rt->value, why);
	/* A task-wide tracker (pmu) follows the cycle's processes. */
	if (etm_task_tracker_cycle(&rt->trk, pids, n, why, sizeof(why)))
		slide_rt_error(rt, SLIDE_ERR_SCAN, "%s", why);
	pthread_mutex_lock(&rt->lock);
	rt->cyc_scanned = rt->cyc_hot = rt->cyc_cold = rt->cyc_gated = rt->cyc_held = 0;
	rt->fig_npids = n;
	for (size_t i = 0; i < n && i < FIGURE_PIDS_MAX; i++)
		rt->fig_pids[i] = pids[i];
	pthread_mutex_unlock(&rt->lock);
	/* The one branch: pages graded here, or by the kernel. */
	rt->heat_cycle = etm_heat_cycle_new();
	if (rt->acc->tracker)
		cycle_tracker(rt, pids, n);
	else
		idle = cycle_reclaimer(rt, pids, n);
	/*
	 * The reclaimer counts nothing per page: the heatmap keeps where the
	 * pages are, sampled from pagemap (3072 reads of each process's page
	 * tables). Not while the task backs off: nothing of ours moved, and
	 * the steady state must cost the target nothing (issue 10: those reads
	 * were most of etmemd's system calls there). Its next update's row
	 * shows what came back meanwhile.
	 */
	for (size_t i = 0; !rt->acc->tracker && !idle && i < n && i < ETM_HEAT_MAX_PROCS && !slide_rt_stopping(rt); i++)
		etm_heat_cycle_add_process(rt->heat_cycle, pids[i]);
	g_free(pids);
	if (idle && !slide_rt_stopping(rt)) {
		etm_heat_cycle_free(rt->heat_cycle);
		rt->heat_cycle = NULL;
	}
	/* Stopping, a worker may still be in its last job: the builder then stays for rt_free(). */
	if (rt->heat_cycle && !slide_rt_stopping(rt)) {
		etm_heat_ring_commit(rt->heat, rt->heat_cycle, rt->cycles + 1,
				     rt->acc->tracker ? ETM_HEAT_ACCESSES : ETM_HEAT_RESIDENCY,
				     ETM_WEIGHT_DIRTY * (unsigned)rt->loop, rt->acc->name);
		rt->heat_cycle = NULL;
	}
	pthread_mutex_lock(&rt->lock);
	done = !rt->stop;
	if (done) {
		rt->cycles++;
		rt->scanned = rt->cyc_scanned;
		rt->hot = rt->cyc_hot;
		rt->cold = rt->cyc_cold;
		rt->gated = rt->cyc_gated;
		rt->held = rt->cyc_held;
		rt->last_cycle_s = etm_mono_now() - t0;
	}
	pthread_mutex_unlock(&rt->lock);
	if (done)
		etm_cycle_hook_fire(rt->cycle_hook);
}
