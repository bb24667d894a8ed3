/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * slide: swap out the cold pages of the target's processes. This file is
 * its lifecycle (slide_rt.h says which file does what else).
 *
 * Per task: a timer thread runs a cycle (slide_cycle.c) every `interval`
 * seconds, after the previous one, as the original (docs/compat.md); with a
 * per-page tracker a pool of max_threads workers handles the task's
 * processes, one job per pid; with a kernel-graded reclaimer the timer
 * thread drives the reclaimer's context alone. stop_task joins every thread
 * before it frees the runtime (engine.h's contract).
 */
#include <errno.h>
#include <glib.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/cycle_hook.h"
#include "daemon/learnt.h"
#include "daemon/heatmap.h"
#include "daemon/registry.h"
#include "scan/clock.h"
#include "scan/procfs.h"
#include "slide_params.h"
#include "slide_rt.h"
#include "tracker_choice.h"

int slide_rt_wait(struct slide_rt *rt, double secs)
{
	return etm_mono_wait_unless(&rt->lock, &rt->wake, &rt->stop, secs);
}

bool slide_rt_stopping(struct slide_rt *rt)
{
	return etm_flag_get(&rt->lock, &rt->stop);
}

void slide_rt_error(struct slide_rt *rt, enum slide_err_kind kind, const char *fmt, ...)
{
	g_autofree char *what = g_strdup_printf("slide task %s", rt->name);
	va_list ap;

	pthread_mutex_lock(&rt->lock);
	rt->errors[kind]++;
	pthread_mutex_unlock(&rt->lock);
	va_start(ap, fmt);
	etm_task_last_error(&rt->lock, rt->last_error, sizeof(rt->last_error), what, fmt, ap);
	va_end(ap);
}

static void *timer_main(void *arg)
{
	struct slide_rt *rt = arg;

	/* As the original's timer: wait `interval`, run, wait again. */
	while (!slide_rt_wait(rt, rt->interval))
		slide_cycle_run(rt);
	return NULL;
}

static void rt_free(struct slide_rt *rt)
{
	if (!rt)
		return;
	if (rt->group)
		rt->acc->reclaimer->close(rt->group);
	if (rt->own_learnt)
		etm_learnt_free(rt->learnt);
	etm_task_tracker_release(&rt->trk);
	etm_heat_cycle_free(rt->heat_cycle);
	etm_heat_ring_free(rt->heat);
	g_free(rt->known_pids);
	g_free(rt->known_start);
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

/* A runtime holding a snapshot of the task's configuration; NULL when out of memory. */
static struct slide_rt *rt_new(const struct project *proj, const struct page_scan *scan, struct task *tk,
			       const struct slide_params *sp)
{
	struct slide_rt *rt = calloc(1, sizeof(*rt));

	if (!rt)
		return NULL;
	pthread_mutex_init(&rt->lock, NULL);
	etm_mono_cond_init(&rt->wake);
	etm_mono_cond_init(&rt->jobs_cv);
	rt->tk = tk;
	rt->heat = etm_heat_ring_new();
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
	/* Outside a registry (tests) the task keeps what it learns to itself. */
	rt->cycle_hook = etm_task_cycle_hook(tk);
	if (!(rt->learnt = etm_task_learnt(tk))) {
		rt->learnt = etm_learnt_new();
		rt->own_learnt = true;
	}
	if (rt->type && rt->value && rt->name)
		return rt;
	rt_free(rt);
	return NULL;
}

/* What either path says about keys the backend or the kernel cannot honour. */
static void warn_common(const struct slide_rt *rt, const struct task *tk)
{
	if (rt->wm_high > 0 && (!rt->act || !rt->act->swapcache_reclaim))
		etm_warn("slide task %s: swapcache_high_wmark/swapcache_low_wmark ignored: this kernel has no "
			 "swapcache reclaim control (openEuler /proc/PID/swap_pages ioctl)",
			 tk->name);
	if (rt->swap_flag && !(rt->acc->tracker && rt->acc->tracker->kernel_marks))
		etm_info("slide task %s: swap_flag=yes: only anonymous ranges named '%s' with "
			 "prctl(PR_SET_VMA_ANON_NAME) are swapped",
			 tk->name, ETM_SWAP_VMA_NAME);
}

/* The tracker path: a swap-out action, and the workers that run the jobs. */
static int start_tracker(struct slide_rt *rt, struct task *tk)
{
	int nw = tk->max_threads > 0 ? tk->max_threads : 1, err;

	if (!(rt->act = etm_action_choose_swap())) {
		etm_task_report_error(tk, "no way to swap out another process's pages (no "
					  "/proc/PID/swap_pages, process_madvise(MADV_PAGEOUT) unavailable)");
		return -ENOTSUP;
	}
	warn_common(rt, tk);
	if (!(rt->workers = calloc((size_t)nw, sizeof(*rt->workers)))) {
		etm_task_report_error(tk, "out of memory");
		return -ENOMEM;
	}
	for (int i = 0; i < nw; i++) {
		if ((err = -pthread_create(&rt->workers[i], NULL, slide_worker_main, rt))) {
			etm_task_report_error(tk, "cannot create a worker thread: %s", strerror(-err));
			return err;
		}
		rt->nworkers++;
	}
	return 0;
}

/* What the reclaimer path does not honour, or does at a risk. */
static void warn_reclaimer(const struct slide_rt *rt, const struct task *tk)
{
	if (rt->T > 1)
		etm_warn("slide task %s: %s grades at young-bit granularity: a page not accessed during loop*sleep "
			 "seconds is cold, whatever T (%d) is",
			 tk->name, rt->acc->name, rt->T);
	if (rt->dram_percent > 0)
		etm_warn("slide task %s: dram_percent is not supported by %s (the kernel picks the pages); ignored",
			 tk->name, rt->acc->name);
	if (rt->swap_flag)
		etm_warn("slide task %s: swap_flag is not supported by %s (physical-address monitoring); ignored",
			 tk->name, rt->acc->name);
	if (rt->memcg_shared)
		etm_warn("slide task %s: memcg_shared=yes: %s reclaims the task's memory cgroups even when other "
			 "processes share them, and takes their cold memory too",
			 tk->name, rt->acc->name);
}

/*
 * The reclaimer path: the target must be reclaimable as it is now, then the
 * reclaimer's context. @skipped: with auto, why no tracker could be used.
 */
static int start_reclaimer(struct slide_rt *rt, struct task *tk, const char *skipped)
{
	struct etm_reclaimer_opts o = { .sleep_s = (unsigned)rt->sleep_s, .loop = (unsigned)rt->loop };
	char why[1024];
	bool self_v1;
	int err;

	if (skipped)
		snprintf(rt->skipped, sizeof(rt->skipped), "%.700s", skipped);
	warn_common(rt, tk);
	warn_reclaimer(rt, tk);
	if (etm_proc_memcg(getpid(), rt->self_memcg, sizeof(rt->self_memcg), &self_v1))
		rt->self_memcg[0] = '\0';
	if ((err = slide_memcg_precheck(rt, tk)))
		return err;
	if ((err = rt->acc->reclaimer->open(&o, &rt->group, why, sizeof(why)))) {
		etm_task_report_error(tk, "cannot start access tracker %s: %s", rt->acc->name, why);
		rt->group = NULL;
	}
	return err;
}

/* The backend, its path's start, and the timer thread. 0, or -errno with the error reported. */
static int rt_start(struct slide_rt *rt, struct task *tk, const struct slide_params *sp)
{
	struct etm_tracker_req req = { .engine = "slide", .task = tk->name, .tracker = sp->tracker, .pmu = &sp->pmu };
	bool is_auto = sp->tracker == SLIDE_TRACKER_AUTO;
	/* The task-wide tracker's filter (the pmu sampler's index): per-process opens get theirs in job_scan. */
	struct etm_tracker_opts o = {
		.flagged_only = rt->swap_flag,
		.vma_name = rt->swap_flag ? ETM_SWAP_VMA_NAME : NULL,
		.sleep_s = (unsigned)rt->sleep_s,
		.loop = (unsigned)rt->loop,
	};
	char why[1024];
	int err;

	if ((err = etm_task_tracker_choose(&req, &o, &rt->trk, why, sizeof(why)))) {
		etm_task_report_error(tk, "%s", why);
		return err;
	}
	rt->acc = rt->trk.b;
	/* The one branch: pages graded here, or by the kernel. */
	err = rt->acc->tracker ? start_tracker(rt, tk) : start_reclaimer(rt, tk, is_auto ? why : NULL);
	if (err)
		return err;
	if ((err = -pthread_create(&rt->timer, NULL, timer_main, rt))) {
		etm_task_report_error(tk, "cannot create the timer thread: %s", strerror(-err));
		return err;
	}
	rt->timer_started = true;
	return 0;
}

static int slide_start_task(struct engine *eng, struct task *tk)
{
	struct slide_params *sp = tk->params;
	struct project *proj = eng->proj;
	struct page_scan *scan = proj ? proj->scan_param : NULL;
	struct slide_rt *rt;
	char why[1024];
	int err;

	if (!sp || !scan || proj->type != PAGE_SCAN) {
		etm_task_report_error(tk, "slide not configured (needs a scan_type=page project and T)");
		return -EINVAL;
	}
	if (tk->timer_inst)
		return 0; /* already running */
	if (!(rt = rt_new(proj, scan, tk, sp))) {
		etm_task_report_error(tk, "out of memory");
		return -ENOMEM;
	}
	if ((err = rt_start(rt, tk, sp))) {
		rt_stop_threads(rt);
		rt_free(rt);
		return err;
	}
	tk->timer_inst = rt;
	etm_task_tracker_describe(&rt->trk, why, sizeof(why));
	etm_info("slide task %s: started with access tracker %s%s%s%s%s%s", tk->name, rt->acc->name, why[0] ? " (" : "",
		 why, why[0] ? ")" : "", rt->act ? ", swap-out " : "", rt->act ? rt->act->name : "");
	return 0;
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

static const struct engine_ops slide_ops = {
	.start_task = slide_start_task,
	.stop_task = slide_stop_task,
};

const struct etm_engine_type etm_slide_engine = {
	.name = "slide",
	.type = SLIDE_ENGINE,
	.scan_type = PAGE_SCAN,
	.ops = &slide_ops,
	.task_keys = &slide_task_keys,
	.parse_task = slide_parse_task,
	.task_figures = slide_task_figures,
	.cmds = slide_cmds,
};
