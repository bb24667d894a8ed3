/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * cslide's lifecycle (cslide_rt.h): the engine's runtime and thread, its
 * tasks joining and leaving, the per-pid parameters of the plugin ABI.
 */
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "cslide_rt.h"
#include "daemon/cycle_hook.h"
#include "daemon/registry.h"
#include "etmem/etmemd_scan_exp.h"
#include "scan/clock.h"
#include "scan/pagestate.h"

/* ---------------------------------------------------------- the cycle's hold */

bool cslide_task_live(struct cslide_rt *rt, struct cslide_task *ct)
{
	bool live;

	pthread_mutex_lock(&rt->lock);
	live = ct->in_cycle && !ct->stop;
	pthread_mutex_unlock(&rt->lock);
	return live;
}

void cslide_release(struct cslide_rt *rt, struct cslide_task *ct)
{
	cslide_scan_clear(ct);
	g_array_set_size(ct->pages, 0);
	cslide_buckets_clear(&ct->b);
	pthread_mutex_lock(&rt->lock);
	ct->in_cycle = false;
	pthread_cond_broadcast(&rt->released);
	pthread_mutex_unlock(&rt->lock);
}

/* Lock held: is a task of @cycle waiting for the thread to let go of it? */
static bool stop_pending(GPtrArray *cycle)
{
	for (guint i = 0; cycle && i < cycle->len; i++) {
		struct cslide_task *ct = g_ptr_array_index(cycle, i);

		if (ct->in_cycle && ct->stop)
			return true;
	}
	return false;
}

void cslide_checkpoint(struct cslide_rt *rt, GPtrArray *cycle)
{
	for (guint i = 0; i < cycle->len; i++) {
		struct cslide_task *ct = g_ptr_array_index(cycle, i);
		bool go;

		pthread_mutex_lock(&rt->lock);
		go = ct->in_cycle && ct->stop;
		pthread_mutex_unlock(&rt->lock);
		if (go)
			cslide_release(rt, ct);
	}
}

int cslide_wait(struct cslide_rt *rt, GPtrArray *cycle, double secs)
{
	struct timespec dl;
	int ret;

	etm_mono_after(secs, &dl);
	pthread_mutex_lock(&rt->lock);
	while (!rt->stop) {
		if (stop_pending(cycle)) {
			pthread_mutex_unlock(&rt->lock);
			cslide_checkpoint(rt, cycle);
			pthread_mutex_lock(&rt->lock);
			continue;
		}
		if (pthread_cond_timedwait(&rt->wake, &rt->lock, &dl) == ETIMEDOUT)
			break;
	}
	ret = rt->stop ? -ECANCELED : 0;
	pthread_mutex_unlock(&rt->lock);
	return ret;
}

void cslide_task_error(struct cslide_task *ct, const char *fmt, ...)
{
	g_autofree char *what = g_strdup_printf("cslide task %s", ct->name);
	va_list ap;

	va_start(ap, fmt);
	etm_task_last_error(&ct->rt->lock, ct->figs.last_error, sizeof(ct->figs.last_error), what, fmt, ap);
	va_end(ap);
}

static void *thread_main(void *arg)
{
	struct cslide_rt *rt = arg;

	/* As the original's timer: wait `interval`, run a cycle, wait again. */
	while (!cslide_wait(rt, NULL, rt->interval))
		cslide_cycle_run(rt);
	return NULL;
}

/* ------------------------------------------------------------ the engine */

static void rt_free(struct cslide_rt *rt)
{
	if (!rt)
		return;
	pthread_mutex_destroy(&rt->lock);
	pthread_cond_destroy(&rt->wake);
	pthread_cond_destroy(&rt->released);
	if (rt->tasks)
		g_ptr_array_free(rt->tasks, TRUE);
	etm_numa_topo_free(rt->topo);
	free(rt->pairs);
	g_free(rt->host);
	g_free(rt);
	malloc_trim(0);
}

static void rt_stop(struct cslide_rt *rt)
{
	pthread_mutex_lock(&rt->lock);
	rt->stop = true;
	pthread_cond_broadcast(&rt->wake);
	pthread_mutex_unlock(&rt->lock);
	if (rt->thread_started)
		pthread_join(rt->thread, NULL);
	rt->thread_started = false;
}

/* The pairs the engine places by: node_pair, else the kernel's tiers; every node with memory now. */
static int rt_pairs(struct cslide_rt *rt, const struct cslide_eng_params *ep, struct task *tk)
{
	const char *from = ep->n_pairs ? "node_pair" : "memory tiers";
	char why[256];
	size_t used = 0;
	int err;

	if ((err = etm_numa_need_two(rt->topo, why, sizeof(why)))) {
		etm_task_report_error(tk, "%s", why);
		return err;
	}
	if (ep->n_pairs) {
		rt->pairs = calloc(ep->n_pairs, sizeof(*rt->pairs));
		if (!rt->pairs)
			return -ENOMEM;
		for (size_t i = 0; i < ep->n_pairs; i++)
			rt->pairs[i] = (struct etm_numa_pair){ ep->pairs[i].hot_node, ep->pairs[i].cold_node };
		rt->npairs = ep->n_pairs;
	} else if ((err = etm_numa_tier_pairs(rt->topo, &rt->pairs, &rt->npairs, why, sizeof(why)))) {
		etm_task_report_error(tk, "node pairs: %s", why);
		return err;
	}
	for (size_t i = 0; i < rt->npairs; i++) {
		const struct etm_numa_pair *p = &rt->pairs[i];

		if (!etm_numa_topo_node(rt->topo, p->hot_node) || !etm_numa_topo_node(rt->topo, p->cold_node)) {
			etm_task_report_error(tk, "node pair %d,%d: node %d has no memory now", p->hot_node,
					      p->cold_node,
					      etm_numa_topo_node(rt->topo, p->hot_node) ? p->cold_node : p->hot_node);
			return -ENODEV;
		}
		used += (size_t)snprintf(rt->pairs_text + used, sizeof(rt->pairs_text) - used, "%s%d->%d",
					 i ? ", " : "", p->hot_node, p->cold_node);
		if (used >= sizeof(rt->pairs_text))
			break;
	}
	if (used < sizeof(rt->pairs_text))
		snprintf(rt->pairs_text + used, sizeof(rt->pairs_text) - used, " (%s)", from);
	return 0;
}

/* The engine's runtime, for its first task @tk, with its thread running. */
static int rt_start(struct engine *eng, struct cslide_eng_params *ep, const struct page_scan *scan, struct task *tk)
{
	struct cslide_rt *rt = g_new0(struct cslide_rt, 1);
	char why[256];
	int err;

	pthread_mutex_init(&rt->lock, NULL);
	etm_mono_cond_init(&rt->wake);
	etm_mono_cond_init(&rt->released);
	rt->eng = eng;
	rt->tasks = g_ptr_array_new();
	rt->loop = scan->loop > 0 ? scan->loop : 1;
	rt->interval = scan->interval > 0 ? scan->interval : 1;
	rt->sleep_s = scan->sleep > 0 ? scan->sleep : 1;
	rt->hot_threshold = ep->hot_threshold;
	/* Sampled counts are not passes: a page sampled 40 times (or faulted thrice) counts 40 (48). */
	rt->max_count = ep->pmu.enabled ? (int)ETM_PS_COUNT_MAX : rt->loop * 3;
	rt->quota = (int64_t)ep->node_mig_quota << 20;
	rt->reserve = (int64_t)ep->node_hot_reserve << 20;
	if ((err = etm_action_move_pages.probe(why, sizeof(why))) ||
	    (err = etm_numa_topo_read("", &rt->topo, why, sizeof(why)))) {
		etm_task_report_error(tk, "%s", why);
		goto fail;
	}
	if ((err = rt_pairs(rt, ep, tk)))
		goto fail;
	if ((err = -pthread_create(&rt->thread, NULL, thread_main, rt))) {
		etm_task_report_error(tk, "cannot create the engine thread: %s", strerror(-err));
		goto fail;
	}
	rt->thread_started = true;
	ep->rt = rt;
	etm_info("cslide engine %s: node pairs %s, quota %d MiB, reserve %d MiB", eng->name, rt->pairs_text,
		 ep->node_mig_quota, ep->node_hot_reserve);
	return 0;
fail:
	rt_free(rt);
	return err;
}

/* ------------------------------------------------------------- the tasks */

static void task_free(struct cslide_task *ct)
{
	if (!ct)
		return;
	if (ct->pages)
		g_array_free(ct->pages, TRUE);
	etm_task_tracker_release(&ct->trk);
	cslide_buckets_clear(&ct->b);
	cslide_figs_clear(&ct->figs);
	g_strfreev(ct->vmflags);
	g_free(ct->type);
	g_free(ct->value);
	g_free(ct->name);
	g_free(ct);
}

static bool has_ht(const struct cslide_task_params *tp)
{
	for (int i = 0; i < tp->n_vm_flags; i++)
		if (!strcmp(tp->vm_flags[i], "ht"))
			return true;
	return false;
}

/* Which VMAs, how they are scanned (before the tracker is chosen: the sampler indexes by them). */
static void task_scan_setup(struct cslide_task *ct, const struct cslide_task_params *tp, const struct cslide_rt *rt)
{
	if (ct->hugetlb) {
		ct->vmflags = g_strdupv(tp->vm_flags);
		ct->filter = (struct etm_vma_filter){ .anon_only = tp->anon_only,
						      .vmflags = ct->vmflags,
						      .nvmflags = tp->n_vm_flags };
	} else {
		/* Without vm_flags: anonymous memory only (docs/compat.md: MOVE_ALL would move shared file pages). */
		ct->filter = (struct etm_vma_filter){ .anon_only = true };
	}
	ct->topts = (struct etm_tracker_opts){
		/* The original scans with SCAN_AS_HUGE always: a page table's worth of base pages is one item. */
		.scan_flags = SCAN_AS_HUGE | (tp->ign_host ? SCAN_IGN_HOST : 0),
		.sleep_s = (unsigned)rt->sleep_s,
		.loop = (unsigned)rt->loop,
		.filter = &ct->filter,
		/* the pmu tracker: hot_threshold is weighed against sampled counts (cslide_scan_pass) */
		.sample_counts = true,
	};
}

/* The task's tracker (the PMU keys: the sampler, started here); what it cannot honour is said once. */
static int task_tracker_start(struct cslide_task *ct, const struct cslide_task_params *tp,
			      const struct etm_tracker_req *req)
{
	char why[1024], what[1024];
	int err;

	if ((err = etm_task_tracker_choose(req, &ct->topts, &ct->trk, why, sizeof(why)))) {
		etm_task_report_error(ct->tk, "%s", why);
		return err;
	}
	ct->acc = ct->trk.b;
	ct->topts.task = ct->trk.task;
	ct->sampled = ct->acc->tracker == &etm_tracker_pmu;
	ct->fold = ct->sampled			      ? CSLIDE_FOLD_SUM
		   : ct->acc->tracker->grades_regions ? CSLIDE_FOLD_MOST
						      : CSLIDE_FOLD_LOWEST;
	if (tp->ign_host && ct->acc->tracker != &etm_tracker_idle_pages)
		etm_warn("cslide task %s: ign_host=yes is honoured by idle_pages only; %s sees every access", ct->name,
			 ct->acc->name);
	etm_task_tracker_describe(&ct->trk, what, sizeof(what));
	if (what[0])
		etm_info("cslide task %s: %s samples %s", ct->name, ct->acc->name, what);
	return 0;
}

static struct cslide_task *task_new(struct cslide_rt *rt, struct engine *eng, struct task *tk, int *err)
{
	const struct cslide_eng_params *ep = eng->params;
	const struct cslide_task_params *tp = tk->params;
	struct cslide_task *ct = g_new0(struct cslide_task, 1);
	struct etm_tracker_req req = { .engine = "cslide",
				       .task = tk->name,
				       .tracker = tp->tracker,
				       .pmu = &ep->pmu,
				       .per_page = true,
				       .hugetlb = has_ht(tp) };

	ct->tk = tk;
	ct->rt = rt;
	ct->cycle_hook = etm_task_cycle_hook(tk);
	ct->type = g_strdup(tk->type ? tk->type : "");
	ct->value = g_strdup(tk->value ? tk->value : "");
	ct->name = g_strdup(tk->name ? tk->name : "");
	ct->hugetlb = req.hugetlb;
	ct->pages = g_array_new(FALSE, FALSE, sizeof(struct cslide_page));
	task_scan_setup(ct, tp, rt);
	if ((*err = task_tracker_start(ct, tp, &req))) {
		task_free(ct);
		return NULL;
	}
	return ct;
}

static int cslide_start_task(struct engine *eng, struct task *tk)
{
	struct cslide_eng_params *ep = eng->params;
	struct project *proj = eng->proj;
	struct page_scan *scan = proj ? proj->scan_param : NULL;
	struct cslide_task *ct;
	bool created = false;
	int err;

	if (!ep || !tk->params || !scan || proj->type != PAGE_SCAN) {
		etm_task_report_error(tk, "cslide not configured (needs a scan_type=page project)");
		return -EINVAL;
	}
	if (tk->timer_inst)
		return 0; /* already running */
	if (!ep->rt) {
		if ((err = rt_start(eng, ep, scan, tk)))
			return err;
		created = true;
	}
	if (!(ct = task_new(ep->rt, eng, tk, &err))) {
		if (created) {
			rt_stop(ep->rt);
			rt_free(g_steal_pointer(&ep->rt));
		}
		return err;
	}
	pthread_mutex_lock(&ep->rt->lock);
	g_ptr_array_add(ep->rt->tasks, ct);
	pthread_mutex_unlock(&ep->rt->lock);
	tk->timer_inst = ct;
	etm_info("cslide task %s: started with access tracker %s%s, node pairs %s", tk->name, ct->acc->name,
		 ct->hugetlb ? ", 2 MiB hugetlb pages" : "", ep->rt->pairs_text);
	return 0;
}

static void cslide_stop_task(struct engine *eng, struct task *tk)
{
	struct cslide_eng_params *ep = eng->params;
	struct cslide_task *ct = tk->timer_inst;
	struct cslide_rt *rt;
	bool last;

	if (!ct)
		return;
	rt = ct->rt;
	pthread_mutex_lock(&rt->lock);
	ct->stop = true;
	pthread_cond_broadcast(&rt->wake);
	while (ct->in_cycle)
		pthread_cond_wait(&rt->released, &rt->lock);
	g_ptr_array_remove(rt->tasks, ct);
	last = rt->tasks->len == 0;
	pthread_mutex_unlock(&rt->lock);
	/* The thread has let go of the task: its processes' parameters are ours to free. */
	etm_task_pids_clear(eng, tk);
	tk->timer_inst = NULL;
	task_free(ct);
	if (last) {
		rt_stop(rt);
		ep->rt = NULL;
		rt_free(rt);
	}
}

const struct engine_ops cslide_engine_ops = {
	.start_task = cslide_start_task,
	.stop_task = cslide_stop_task,
	.alloc_pid_params = cslide_alloc_pid,
	.free_pid_params = cslide_free_pid,
};
