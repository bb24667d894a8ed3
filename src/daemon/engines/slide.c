/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * slide: swap out the cold pages of the target's processes.
 *
 * Per task: a timer thread runs a cycle every `interval` seconds (after the
 * previous one, as the original); a pool of max_threads workers handles the
 * task's processes, one job per pid. A job, as the original's
 * slide_executor (§5.1 of the notes) with its bugs fixed:
 *   1. the swap gates (slide_policy.h); a gated process is not scanned;
 *   2. `loop` scans `sleep` seconds apart through the task's access tracker
 *      (open() takes a baseline, so every scan measures one `sleep` window;
 *      the original's first scan measured whatever had passed since the last
 *      cycle, and its final sleep only delayed the swap);
 *   3. grading: a page with weighted count < T is cold (with dram_percent,
 *      the coldest pages up to the quota);
 *   4. cold runs go to the swap-out action (swap_pages or MADV_PAGEOUT);
 *   5. swapcache reclaim when the watermarks are set and reached.
 * The pid set is re-resolved every cycle: processes that exit mid-cycle are
 * dropped silently.
 *
 * A memcg-scope tracker has no per-process pages: each cycle the gates are
 * evaluated per process, then damon_paddr's kernel-side schemes of their
 * memory cgroups are switched between "page out" and "only count", and
 * memcg_lru (windowed) waits the loop * sleep observation window and
 * has the kernel's LRU reclaim the cold part of each memory cgroup.
 */
#include <errno.h>
#include <inttypes.h>
#include <glib.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/engine.h"
#include "daemon/registry.h"
#include "daemon/target.h"
#include "scan/action.h"
#include "scan/backend.h"
#include "scan/clock.h"
#include "scan/memcg.h"
#include "scan/pagestate.h"
#include "scan/procfs.h"
#include "slide_params.h"
#include "slide_policy.h"

#define FIGURE_PIDS_MAX 16

struct slide_rt {
	struct task *tk;
	pthread_mutex_t lock;
	pthread_cond_t wake;	/* stop requests; CLOCK_MONOTONIC */
	pthread_cond_t jobs_cv; /* jobs queued / jobs done */
	bool stop;

	pthread_t timer;
	bool timer_started;
	pthread_t *workers;
	int nworkers;

	/* The current cycle's jobs (guarded by lock). */
	pid_t *jobs;
	size_t njobs, next_job, jobs_done;

	/* Configuration snapshot, fixed while the task runs. */
	char *type, *value, *name;
	int loop, interval, sleep_s, T, sysmem, wm_high, wm_low, dram_percent;
	uint64_t swap_threshold;
	bool swap_flag;
	const struct etm_backend *acc; /* a per-page tracker or a kernel-graded reclaimer */
	const struct etm_action_ops *act;
	void *group;	   /* the reclaimer's context */
	bool memcg_shared; /* memcg_shared=yes: act on memory cgroups that hold other processes too */
	char self_memcg[256];
	/* auto: why the trackers before the chosen one were skipped */
	char skipped[768];

	/* Figures (guarded by lock). */
	pid_t fig_pids[FIGURE_PIDS_MAX];
	size_t fig_npids;
	uint64_t cycles, scanned, hot, cold, swapped_bytes, gated;
	uint64_t advised_bytes; /* asked of the kernel, including pages already out */
	uint64_t cyc_scanned, cyc_hot, cyc_cold, cyc_gated;
	double last_cycle_s;
	struct etm_reclaimer_stats mstats;
	bool wmark_sent;
	char last_error[256];
};

/* Sleep @secs unless stopped first. 0, or -ECANCELED when the task stops. */
static int rt_wait(struct slide_rt *rt, double secs)
{
	struct timespec dl;
	int ret;

	etm_mono_after(secs, &dl);
	pthread_mutex_lock(&rt->lock);
	while (!rt->stop && pthread_cond_timedwait(&rt->wake, &rt->lock, &dl) != ETIMEDOUT)
		;
	ret = rt->stop ? -ECANCELED : 0;
	pthread_mutex_unlock(&rt->lock);
	return ret;
}

static bool rt_stopping(struct slide_rt *rt)
{
	bool s;

	pthread_mutex_lock(&rt->lock);
	s = rt->stop;
	pthread_mutex_unlock(&rt->lock);
	return s;
}

static void rt_error(struct slide_rt *rt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rt_error(struct slide_rt *rt, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	bool fresh;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&rt->lock);
	fresh = strcmp(rt->last_error, msg) != 0;
	snprintf(rt->last_error, sizeof(rt->last_error), "%s", msg);
	pthread_mutex_unlock(&rt->lock);
	if (fresh) /* the same failure every cycle is logged once */
		etm_err("slide task %s: %s", rt->name, msg);
}

static bool gone(int err)
{
	return err == -ESRCH || err == -ENOENT;
}

struct swap_arg {
	const struct etm_action_ops *act;
	void *ctx;
	const struct slide_rt *rt;
	/* dram_percent selection */
	bool select;
	unsigned cutoff;
	uint64_t extra;
};

static int swap_run(uint64_t start, uint64_t len, void *arg)
{
	struct swap_arg *a = arg;

	return a->act->add(a->ctx, start, len, ETM_ACTION_SWAP);
}

/* dram_percent: take cold pages with count < cutoff, and @extra of count == cutoff. */
static int swap_selected(const struct etm_pagestate *ps, struct swap_arg *a)
{
	uint64_t run_start = 0, run_len = 0;
	int err;

	for (size_t i = 0; i < ps->n; i++) {
		uint64_t np = (ps->r[i].end - ps->r[i].start) >> ETM_PAGE_SHIFT;

		for (uint64_t k = 0; k < np; k++) {
			uint8_t v = ps->r[i].st[k];
			uint64_t addr = ps->r[i].start + (k << ETM_PAGE_SHIFT);
			bool take = false;

			if (etm_ps_is_cold(v, a->rt->T)) {
				unsigned c = (unsigned)etm_ps_count(v);

				if (c < a->cutoff)
					take = true;
				else if (c == a->cutoff && a->extra) {
					take = true;
					a->extra--;
				}
			}
			if (!take)
				continue;
			if (run_len && run_start + run_len == addr) {
				run_len += ETM_PAGE_SIZE;
				continue;
			}
			if (run_len && (err = a->act->add(a->ctx, run_start, run_len, ETM_ACTION_SWAP)))
				return err;
			run_start = addr;
			run_len = ETM_PAGE_SIZE;
		}
	}
	return run_len ? a->act->add(a->ctx, run_start, run_len, ETM_ACTION_SWAP) : 0;
}

static int swap_out(struct slide_rt *rt, pid_t pid, const struct etm_pagestate *ps, const struct etm_proc_status *st,
		    uint64_t *bytes)
{
	struct swap_arg a = { .act = rt->act, .rt = rt };
	struct etm_action_stats ast;
	int err;

	*bytes = 0;
	if ((err = rt->act->open(pid, &a.ctx)))
		return err;
	if (rt->dram_percent > 0) {
		uint64_t hist[ETM_PS_COUNT_MAX + 1] = { 0 };
		unsigned limit = rt->T < (int)ETM_PS_COUNT_MAX ? (unsigned)rt->T : ETM_PS_COUNT_MAX;

		for (size_t i = 0; i < ps->n; i++) {
			uint64_t np = (ps->r[i].end - ps->r[i].start) >> ETM_PAGE_SHIFT;

			for (uint64_t k = 0; k < np; k++)
				if (etm_ps_is_cold(ps->r[i].st[k], rt->T))
					hist[etm_ps_count(ps->r[i].st[k])]++;
		}
		slide_dram_cutoff(hist, limit, slide_dram_quota_pages(rt->dram_percent, st), &a.cutoff, &a.extra);
		err = swap_selected(ps, &a);
	} else {
		err = etm_pagestate_for_each_cold(ps, rt->T, swap_run, &a);
	}
	if (!err)
		err = rt->act->flush(a.ctx);
	rt->act->stats(a.ctx, &ast);
	*bytes = ast.bytes_done;
	if (!err && rt->wm_high > 0 && rt->act->swapcache_reclaim) {
		struct etm_meminfo mi;

		if (!etm_proc_meminfo(&mi) && slide_swapcache_due(rt->wm_high, &mi)) {
			bool first;

			pthread_mutex_lock(&rt->lock);
			first = !rt->wmark_sent;
			rt->wmark_sent = true;
			pthread_mutex_unlock(&rt->lock);
			if (rt->act->swapcache_reclaim(a.ctx, rt->wm_low, rt->wm_high, first))
				etm_warn("slide task %s: swapcache reclaim ioctl failed", rt->name);
		}
	}
	rt->act->close(a.ctx);
	return err;
}

/* One process: gates, loop scans, grading, swap-out. */
static void slide_job(struct slide_rt *rt, pid_t pid)
{
	struct etm_tracker_opts o = {
		.flagged_only = rt->swap_flag,
		.vma_name = rt->swap_flag && !rt->acc->tracker->kernel_marks ? ETM_SWAP_VMA_NAME : NULL,
		.sleep_s = (unsigned)rt->sleep_s,
		.loop = (unsigned)rt->loop,
	};
	struct etm_proc_status st;
	struct etm_meminfo mi;
	struct etm_pagestate *ps = NULL;
	struct etm_grade g = { 0 };
	enum slide_gate gate;
	uint64_t bytes = 0, advised = 0;
	void *ctx = NULL;
	int err;

	if ((err = etm_proc_meminfo(&mi))) {
		rt_error(rt, "reading /proc/meminfo: %s", strerror(-err));
		return;
	}
	if ((err = etm_proc_status(pid, &st)))
		return; /* exited, or a zombie/kernel thread with no memory */
	gate = slide_gate_check(rt->sysmem, rt->swap_threshold, &mi, &st);
	if (gate != SLIDE_GATE_SWAP) {
		etm_debug("slide task %s: pid %d not swapped (%s)", rt->name, (int)pid, slide_gate_name(gate));
		pthread_mutex_lock(&rt->lock);
		rt->cyc_gated++;
		pthread_mutex_unlock(&rt->lock);
		return;
	}
	ps = etm_pagestate_new();
	if (!ps)
		return;
	if ((err = etm_tracker_ranges(pid, &o, ps)))
		goto out;
	if ((err = rt->acc->tracker->open(pid, &o, &ctx)))
		goto out;
	for (int i = 0; i < rt->loop; i++) {
		if ((err = rt_wait(rt, rt->sleep_s)))
			goto out;
		if ((err = rt->acc->tracker->scan(ctx, ps)))
			goto out;
	}
	rt->acc->tracker->close(ctx);
	ctx = NULL;
	etm_pagestate_grade(ps, rt->T, &g);
	if (g.cold && !rt_stopping(rt)) {
		struct etm_proc_status after;

		err = swap_out(rt, pid, ps, &st, &advised);
		/*
		 * Advised bytes include pages that were already out (trackers
		 * see them as unaccessed): what left memory is VmSwap's growth.
		 */
		if (!etm_proc_status(pid, &after) && after.vm_swap_kb > st.vm_swap_kb)
			bytes = (after.vm_swap_kb - st.vm_swap_kb) * 1024;
	}
	etm_debug("slide task %s: pid %d scanned %" PRIu64 " hot %" PRIu64 " cold %" PRIu64 " swapped %" PRIu64
		  " bytes (state %zu bytes)",
		  rt->name, (int)pid, g.scanned, g.hot, g.cold, bytes, etm_pagestate_bytes(ps));
out:
	if (ctx)
		rt->acc->tracker->close(ctx);
	if (err && !gone(err) && err != -ECANCELED)
		rt_error(rt, "pid %d: %s: %s", (int)pid, rt->acc->name, strerror(-err));
	pthread_mutex_lock(&rt->lock);
	rt->cyc_scanned += g.scanned;
	rt->cyc_hot += g.hot;
	rt->cyc_cold += g.cold;
	rt->swapped_bytes += bytes;
	rt->advised_bytes += advised;
	pthread_mutex_unlock(&rt->lock);
	etm_pagestate_free(ps);
	malloc_trim(0); /* the page state of a big process is gone: give it back */
}

static void *worker_main(void *arg)
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

/* The memory cgroup of @pid if it is one slide may act on; else -errno with @why. */
static int usable_memcg(struct slide_rt *rt, pid_t pid, struct etm_memcg_target *t, char *why, size_t len)
{
	int err = etm_proc_memcg(pid, t->path, sizeof(t->path), &t->v1);

	if (err) {
		snprintf(why, len, "pid %d: no memory cgroup found in /proc/%d/cgroup", (int)pid, (int)pid);
		return err;
	}
	if (!strcmp(t->path, "/")) {
		if (rt->skipped[0])
			snprintf(why, len,
				 "pid %d is in the root memory cgroup: with %s the target must run in its own memory "
				 "cgroup (no per-process access tracking usable on this kernel: %.300s)",
				 (int)pid, rt->acc->name, rt->skipped);
		else
			snprintf(why, len,
				 "pid %d is in the root memory cgroup: %s (access_tracker) acts on whole memory "
				 "cgroups, the target must run in its own",
				 (int)pid, rt->acc->name);
		return -EINVAL;
	}
	if (rt->self_memcg[0] && !strcmp(t->path, rt->self_memcg)) {
		/* (the return value is used: a long reason is cut, and that is fine) */
		if (snprintf(why, len,
			     "pid %d shares etmemd's memory cgroup %s: with %s the target needs its own%s%.300s%s",
			     (int)pid, t->path, rt->acc->name,
			     rt->skipped[0] ? " (no per-process access tracking usable on this kernel: " : "",
			     rt->skipped, rt->skipped[0] ? ")" : "") >= (int)len)
			etm_debug("slide task %s: reason cut to %zu bytes", rt->name, len);
		return -EINVAL;
	}
	return 0;
}

/*
 * A memcg-scope tracker reclaims the whole memory cgroup @t: unless
 * memcg_shared=yes, it must hold nothing but the task's processes (@pids and
 * what they started), in it and in every cgroup below it. 0, or -EPERM with
 * @why. @verdicts caches the answer per cgroup path for one pass over @pids.
 */
static int exclusive_memcg(struct slide_rt *rt, const struct etm_memcg_target *t, const pid_t *pids, size_t n,
			   GHashTable *verdicts, char *why, size_t len)
{
	struct etm_memcg_dir d;
	const char *cached;
	char comm[32];
	pid_t other = 0;
	int err;

	if (rt->memcg_shared)
		return 0;
	cached = g_hash_table_lookup(verdicts, t->path);
	if (!cached) {
		err = etm_memcg_dir_of(t->path, t->v1, &d);
		if (!err)
			err = etm_target_memcg_foreign(d.dir, pids, n, &other, comm, sizeof(comm));
		if (err == 1)
			cached =
			    g_strdup_printf("memory cgroup %s holds pid %d (%s), which is not the task's: %s would "
					    "reclaim its memory too (memcg_shared=yes allows it)",
					    t->path, (int)other, comm, rt->acc->name);
		else if (err)
			cached = g_strdup_printf("memory cgroup %s: cannot tell whether it holds processes other "
						 "than the task's (%s)",
						 t->path, strerror(-err));
		else
			cached = g_strdup("");
		g_hash_table_insert(verdicts, g_strdup(t->path), (gpointer)cached);
	}
	if (!cached[0])
		return 0;
	snprintf(why, len, "%s", cached);
	return -EPERM;
}

/* Per cgroup path: "" when exclusive to the task, else why not. */
static GHashTable *verdicts_new(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

/* Growth of a running total; a total that went down was reset. */
static uint64_t since(uint64_t now, uint64_t before)
{
	return now >= before ? now - before : now;
}

static void cycle_memcg(struct slide_rt *rt, const pid_t *pids, size_t n)
{
	struct etm_memcg_target *t = calloc(n ? n : 1, sizeof(*t));
	g_autoptr(GHashTable) verdicts = verdicts_new();
	struct etm_reclaimer_stats ms = { 0 };
	struct etm_meminfo mi;
	size_t nt = 0;
	char why[512];
	int err;

	if (!t)
		return;
	/* memcg_lru: the kernel checks the accessed bits when it reclaims, at the end of the window. */
	if (rt->acc->reclaimer->windowed && rt_wait(rt, (double)rt->loop * rt->sleep_s)) {
		free(t);
		return;
	}
	if ((err = etm_proc_meminfo(&mi))) {
		rt_error(rt, "reading /proc/meminfo: %s", strerror(-err));
		free(t);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct etm_proc_status st;

		if (etm_proc_status(pids[i], &st))
			continue;
		if (usable_memcg(rt, pids[i], &t[nt], why, sizeof(why))) {
			rt_error(rt, "%s", why);
			continue;
		}
		/* A cgroup that gained a process of someone else's is skipped, not reclaimed. */
		if (exclusive_memcg(rt, &t[nt], pids, n, verdicts, why, sizeof(why))) {
			rt_error(rt, "%s; not reclaimed", why);
			continue;
		}
		t[nt].swap = slide_gate_check(rt->sysmem, rt->swap_threshold, &mi, &st) == SLIDE_GATE_SWAP;
		if (!t[nt].swap) {
			pthread_mutex_lock(&rt->lock);
			rt->cyc_gated++;
			pthread_mutex_unlock(&rt->lock);
		}
		nt++;
	}
	/* a memcg pages out only if all its processes may */
	nt = etm_memcg_targets_merge(t, nt);
	err = rt->acc->reclaimer->update(rt->group, t, nt, &ms, why, sizeof(why));
	if (err)
		rt_error(rt, "%s", why);
	pthread_mutex_lock(&rt->lock);
	/* The group's counters run over all cycles; show this cycle's, like per-page trackers do. */
	rt->cyc_scanned = since(ms.bytes_tried, rt->mstats.bytes_tried) / ETM_PAGE_SIZE;
	rt->cyc_cold = since(ms.bytes_cold, rt->mstats.bytes_cold) / ETM_PAGE_SIZE;
	rt->cyc_hot = ms.hot_known ? ms.bytes_hot / ETM_PAGE_SIZE : 0;
	rt->mstats = ms;
	rt->swapped_bytes = ms.bytes_applied;
	pthread_mutex_unlock(&rt->lock);
	free(t);
}

static void run_cycle(struct slide_rt *rt)
{
	double t0 = etm_mono_now();
	pid_t *pids = NULL;
	size_t n = 0;
	char why[256];
	int err;

	err = etm_target_resolve(rt->type, rt->value, &pids, &n, why, sizeof(why));
	if (err) {
		rt_error(rt, "resolving %s %s: %s", rt->type, rt->value, strerror(-err));
		return;
	}
	if (why[0])
		rt_error(rt, "%s %s: %s; left out", rt->type, rt->value, why);
	pthread_mutex_lock(&rt->lock);
	rt->cyc_scanned = rt->cyc_hot = rt->cyc_cold = rt->cyc_gated = 0;
	rt->fig_npids = n;
	for (size_t i = 0; i < n && i < FIGURE_PIDS_MAX; i++)
		rt->fig_pids[i] = pids[i];
	pthread_mutex_unlock(&rt->lock);

	if (rt->acc->reclaimer) {
		cycle_memcg(rt, pids, n);
	} else if (n) {
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
	g_free(pids);
	pthread_mutex_lock(&rt->lock);
	if (!rt->stop) {
		rt->cycles++;
		rt->scanned = rt->cyc_scanned;
		rt->hot = rt->cyc_hot;
		rt->cold = rt->cyc_cold;
		rt->gated = rt->cyc_gated;
		rt->last_cycle_s = etm_mono_now() - t0;
	}
	pthread_mutex_unlock(&rt->lock);
}

static void *timer_main(void *arg)
{
	struct slide_rt *rt = arg;

	/* As the original's timer: wait `interval`, run, wait again. */
	while (!rt_wait(rt, rt->interval))
		run_cycle(rt);
	return NULL;
}

static void rt_free(struct slide_rt *rt)
{
	if (!rt)
		return;
	if (rt->group)
		rt->acc->reclaimer->close(rt->group);
	pthread_mutex_destroy(&rt->lock);
	pthread_cond_destroy(&rt->wake);
	pthread_cond_destroy(&rt->jobs_cv);
	free(rt->workers);
	free(rt->type);
	free(rt->value);
	free(rt->name);
	free(rt);
}

static void rt_stop_threads(struct slide_rt *rt)
{
	pthread_mutex_lock(&rt->lock);
	rt->stop = true;
	pthread_cond_broadcast(&rt->wake);
	pthread_cond_broadcast(&rt->jobs_cv);
	pthread_mutex_unlock(&rt->lock);
	if (rt->timer_started)
		pthread_join(rt->timer, NULL);
	rt->timer_started = false;
	for (int i = 0; i < rt->nworkers; i++)
		pthread_join(rt->workers[i], NULL);
	rt->nworkers = 0;
}

/*
 * Check that a memcg-scope tracker can act on the target as it is now: some
 * process in a memory cgroup of its own, and no cgroup shared with others.
 */
static int memcg_precheck(struct slide_rt *rt, struct task *tk)
{
	g_autoptr(GHashTable) verdicts = verdicts_new();
	struct etm_memcg_target t;
	pid_t *pids = NULL;
	size_t n = 0, ok = 0;
	char why[512] = "";
	int err = etm_target_resolve(rt->type, rt->value, &pids, &n, NULL, 0);

	if (err)
		return 0; /* resolved again every cycle */
	for (size_t i = 0; i < n && !err; i++) {
		if (usable_memcg(rt, pids[i], &t, why, sizeof(why)))
			continue;
		err = exclusive_memcg(rt, &t, pids, n, verdicts, why, sizeof(why));
		ok++;
	}
	g_free(pids);
	if (err || (n && !ok)) {
		etm_task_report_error(tk, "%s", why);
		return err ? err : -EINVAL;
	}
	return 0;
}

static int slide_start_task(struct engine *eng, struct task *tk)
{
	struct slide_params *sp = tk->params;
	struct project *proj = eng->proj;
	struct page_scan *scan = proj ? proj->scan_param : NULL;
	const char *want = sp ? slide_tracker_name(sp->tracker) : ETM_BACKEND_AUTO;
	struct slide_rt *rt;
	pthread_condattr_t ca;
	char why[1024];
	bool self_v1;
	int err;

	if (!sp || !scan || proj->type != PAGE_SCAN) {
		etm_task_report_error(tk, "slide not configured (needs a scan_type=page project and T)");
		return -EINVAL;
	}
	if (tk->timer_inst)
		return 0; /* already running */
	rt = calloc(1, sizeof(*rt));
	if (!rt)
		return -ENOMEM;
	pthread_mutex_init(&rt->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&rt->wake, &ca);
	pthread_cond_init(&rt->jobs_cv, &ca);
	pthread_condattr_destroy(&ca);
	rt->tk = tk;
	rt->type = strdup(tk->type ? tk->type : "");
	rt->value = strdup(tk->value ? tk->value : "");
	rt->name = strdup(tk->name ? tk->name : "");
	rt->loop = scan->loop > 0 ? scan->loop : 1;
	rt->interval = scan->interval > 0 ? scan->interval : 1;
	rt->sleep_s = scan->sleep > 0 ? scan->sleep : 1;
	rt->T = sp->t;
	rt->swap_threshold = sp->swap_threshold;
	rt->dram_percent = sp->dram_percent;
	rt->sysmem = proj->sysmem_threshold;
	rt->wm_high = proj->swapcache_high_wmark;
	rt->wm_low = proj->swapcache_low_wmark;
	rt->swap_flag = tk->swap_flag != 0;
	rt->memcg_shared = sp->memcg_shared;
	if (!rt->type || !rt->value || !rt->name) {
		etm_task_report_error(tk, "out of memory");
		err = -ENOMEM;
		goto fail;
	}
	if ((err = etm_backend_choose(want, &rt->acc, why, sizeof(why)))) {
		etm_task_report_error(tk, "%s", why);
		goto fail;
	}
	if (rt->acc->reclaimer && (!want || !strcmp(want, ETM_BACKEND_AUTO)))
		snprintf(rt->skipped, sizeof(rt->skipped), "%.700s", why);
	if (rt->acc->tracker) {
		rt->act = etm_action_choose_swap();
		if (!rt->act) {
			etm_task_report_error(tk, "no way to swap out another process's pages (no "
						  "/proc/PID/swap_pages, process_madvise(MADV_PAGEOUT) unavailable)");
			err = -ENOTSUP;
			goto fail;
		}
	}
	if (sp->pmu.enabled)
		etm_warn("slide task %s: PMU sampling is not used by slide yet; scanning with %s", tk->name,
			 rt->acc->name);
	if (rt->wm_high > 0 && (!rt->act || !rt->act->swapcache_reclaim))
		etm_warn("slide task %s: swapcache_high_wmark/swapcache_low_wmark ignored: this kernel has no "
			 "swapcache reclaim control (openEuler /proc/PID/swap_pages ioctl)",
			 tk->name);
	if (rt->swap_flag && !(rt->acc->tracker && rt->acc->tracker->kernel_marks))
		etm_info("slide task %s: swap_flag=yes: only anonymous ranges named '%s' with "
			 "prctl(PR_SET_VMA_ANON_NAME) are swapped",
			 tk->name, ETM_SWAP_VMA_NAME);
	if (rt->acc->reclaimer) {
		struct etm_reclaimer_opts o = { .sleep_s = (unsigned)rt->sleep_s, .loop = (unsigned)rt->loop };

		if (rt->T > 1)
			etm_warn("slide task %s: %s grades at young-bit granularity: a page not accessed during "
				 "loop*sleep seconds is cold, whatever T (%d) is",
				 tk->name, rt->acc->name, rt->T);
		if (rt->dram_percent > 0)
			etm_warn("slide task %s: dram_percent is not supported by %s (the kernel picks the pages); "
				 "ignored",
				 tk->name, rt->acc->name);
		if (rt->swap_flag)
			etm_warn("slide task %s: swap_flag is not supported by %s (physical-address monitoring); "
				 "ignored",
				 tk->name, rt->acc->name);
		if (rt->memcg_shared)
			etm_warn("slide task %s: memcg_shared=yes: %s reclaims the task's memory cgroups even when "
				 "other processes share them, and takes their cold memory too",
				 tk->name, rt->acc->name);
		if (etm_proc_memcg(getpid(), rt->self_memcg, sizeof(rt->self_memcg), &self_v1))
			rt->self_memcg[0] = '\0';
		if ((err = memcg_precheck(rt, tk)))
			goto fail;
		if ((err = rt->acc->reclaimer->open(&o, &rt->group, why, sizeof(why)))) {
			etm_task_report_error(tk, "cannot start access tracker %s: %s", rt->acc->name, why);
			rt->group = NULL;
			goto fail;
		}
	} else {
		int nw = tk->max_threads > 0 ? tk->max_threads : 1;

		rt->workers = calloc((size_t)nw, sizeof(*rt->workers));
		if (!rt->workers) {
			etm_task_report_error(tk, "out of memory");
			err = -ENOMEM;
			goto fail;
		}
		for (int i = 0; i < nw; i++) {
			if ((err = -pthread_create(&rt->workers[i], NULL, worker_main, rt))) {
				etm_task_report_error(tk, "cannot create a worker thread: %s", strerror(-err));
				goto fail_threads;
			}
			rt->nworkers++;
		}
	}
	if ((err = -pthread_create(&rt->timer, NULL, timer_main, rt))) {
		etm_task_report_error(tk, "cannot create the timer thread: %s", strerror(-err));
		goto fail_threads;
	}
	rt->timer_started = true;
	tk->timer_inst = rt;
	etm_info("slide task %s: started with access tracker %s%s%s", tk->name, rt->acc->name,
		 rt->act ? ", swap-out " : "", rt->act ? rt->act->name : "");
	return 0;
fail_threads:
	rt_stop_threads(rt);
fail:
	rt_free(rt);
	return err ? err : -EINVAL;
}

static void slide_stop_task(struct engine *eng, struct task *tk)
{
	struct slide_rt *rt = tk->timer_inst;

	(void)eng;
	if (!rt)
		return;
	rt_stop_threads(rt);
	tk->timer_inst = NULL;
	rt_free(rt); /* turns a DAMON kdamond off */
}

static void slide_task_figures(struct engine *eng, struct task *tk, GString *out)
{
	struct slide_rt *rt = tk->timer_inst;
	bool windowed;

	(void)eng;
	if (!rt)
		return;
	windowed = rt->acc->reclaimer && rt->acc->reclaimer->windowed;
	pthread_mutex_lock(&rt->lock);
	g_string_append_printf(out, "    backend: %s%s%s\n", rt->acc->name, rt->act || windowed ? " + " : "",
			       rt->act	  ? rt->act->name
			       : windowed ? "memcg_reclaim"
					  : "");
	g_string_append_printf(out, "    pids: %zu", rt->fig_npids);
	for (size_t i = 0; i < rt->fig_npids && i < FIGURE_PIDS_MAX; i++)
		g_string_append_printf(out, "%s%d", i ? "," : " (", (int)rt->fig_pids[i]);
	g_string_append_printf(out, "%s\n", rt->fig_npids > FIGURE_PIDS_MAX ? ",...)" : rt->fig_npids ? ")" : "");
	g_string_append_printf(out, "    cycles: %" PRIu64 "\n", rt->cycles);
	/* Per-page figures are the last cycle's, for every tracker. */
	g_string_append_printf(out, "    pages scanned: %" PRIu64 "\n", rt->scanned);
	if (rt->acc->reclaimer && !rt->mstats.hot_known)
		g_string_append(out, "    hot: n/a\n");
	else
		g_string_append_printf(out, "    hot: %" PRIu64 "%s\n", rt->hot,
				       rt->acc->reclaimer ? " (the LRU's active anon)" : "");
	g_string_append_printf(out, "    cold: %" PRIu64 "\n", rt->cold);
	if (rt->acc->reclaimer) {
		g_string_append_printf(out, "    cold bytes identified (all cycles): %" PRIu64 "\n",
				       rt->mstats.bytes_cold);
		if (windowed)
			g_string_append_printf(out, "    last reclaim: %.3f s\n", rt->mstats.last_reclaim_s);
	}
	g_string_append_printf(out, "    processes gated: %" PRIu64 "\n", rt->gated);
	g_string_append_printf(out, "    bytes swapped out: %" PRIu64 "\n", rt->swapped_bytes);
	if (rt->advised_bytes)
		g_string_append_printf(out, "    bytes advised: %" PRIu64 "\n", rt->advised_bytes);
	if (rt->cycles)
		g_string_append_printf(out, "    last cycle: %.3f s\n", rt->last_cycle_s);
	else
		g_string_append(out, "    last cycle: none yet\n");
	if (rt->last_error[0])
		g_string_append_printf(out, "    last error: %s\n", rt->last_error);
	pthread_mutex_unlock(&rt->lock);
}

static const struct engine_ops slide_ops = {
	.fill_task_params = slide_fill_task_params,
	.clear_task_params = slide_clear_task_params,
	.start_task = slide_start_task,
	.stop_task = slide_stop_task,
};

const struct etm_engine_type etm_slide_engine = {
	.name = "slide",
	.type = SLIDE_ENGINE,
	.scan_type = PAGE_SCAN,
	.ops = &slide_ops,
	.task_figures = slide_task_figures,
};
