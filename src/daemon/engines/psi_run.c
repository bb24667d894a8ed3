/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * psi: the lifecycle of a task's runtime (psi_rt.h says which file does
 * what else). Per task one timer thread: wait `interval` seconds, run a
 * cycle (psi_cycle.c), wait again, as slide's timer and the original's.
 * stop_task joins it before freeing anything (engine.h's contract); a v1
 * limit cut in flight is always put back before the thread can end.
 */
#include <errno.h>
#include <glib.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "daemon/cycle_hook.h"
#include "daemon/registry.h"
#include "psi.h"
#include "psi_rt.h"
#include "scan/clock.h"
#include "scan/journal.h"

int psi_rt_wait(struct psi_rt *rt, double secs)
{
	return etm_mono_wait_unless(&rt->lock, &rt->wake, &rt->stop, secs);
}

bool psi_rt_stopping(struct psi_rt *rt)
{
	return etm_flag_get(&rt->lock, &rt->stop);
}

void psi_rt_error(struct psi_rt *rt, const char *fmt, ...)
{
	g_autofree char *what = g_strdup_printf("psi task %s", rt->name);
	va_list ap;

	va_start(ap, fmt);
	etm_task_last_error(&rt->lock, rt->last_error, sizeof(rt->last_error), what, fmt, ap);
	va_end(ap);
}

static void *timer_main(void *arg)
{
	struct psi_rt *rt = arg;

	while (!psi_rt_wait(rt, rt->interval))
		psi_cycle_run(rt);
	return NULL;
}

static void rt_free(struct psi_rt *rt)
{
	if (!rt)
		return;
	psi_cgset_free(rt->set);
	psi_backend_free(rt->backend);
	g_free(rt->backend_desc);
	g_free(rt->cg_dir);
	g_free(rt->name);
	pthread_mutex_destroy(&rt->lock);
	pthread_cond_destroy(&rt->wake);
	g_free(rt);
}

/* The task's keys as the policy uses them. */
static void policy_of(const struct psi_task_params *pp, struct psi_policy *p)
{
	*p = (struct psi_policy){
		.pressure = pp->pressure,
		.rate_init = pp->reclaim_rate,
		.rate_min = pp->reclaim_rate_min,
		.rate_max = pp->reclaim_rate_max,
		.reclaim_max_bytes = pp->reclaim_max_bytes,
		.limit_min_bytes = pp->limit_min_bytes,
		.limit_min_ratio = pp->limit_min_ratio,
	};
}

/* A runtime holding a snapshot of the task's keys and the kernel's backend; NULL with the error reported. */
static struct psi_rt *rt_new(struct task *tk, const struct psi_task_params *pp, int interval)
{
	g_autoptr(GString) why = g_string_new(NULL);
	struct psi_sys sys = psi_sys_host;
	struct psi_rt *rt = g_new0(struct psi_rt, 1);

	pthread_mutex_init(&rt->lock, NULL);
	etm_mono_cond_init(&rt->wake);
	rt->name = g_strdup(tk->name ? tk->name : "");
	rt->cycle_hook = etm_task_cycle_hook(tk);
	rt->interval = interval > 0 ? interval : 1;
	rt->cg_dir = g_strdup(pp->cg_dir);
	policy_of(pp, &rt->policy);
	rt->policy.learnt_decay = psi_learnt_decay(rt->interval);
	/* v1 limit cuts are journaled where etmemd's start-up recovery looks (main.c) */
	sys.jdir = ETM_RUN_DIR;
	if (!(rt->backend = psi_backend_detect(&sys, why))) {
		etm_task_report_error(tk, "%s", why->str);
		rt_free(rt);
		return NULL;
	}
	rt->backend_desc = psi_backend_describe(rt->backend);
	rt->set = psi_cgset_new(&rt->policy);
	return rt;
}

static int psi_start_task(struct engine *eng, struct task *tk)
{
	struct project *proj = eng->proj;
	const struct psi_task_params *pp = tk->params;
	const struct psi_scan *scan = proj && proj->type == PSI_SCAN ? proj->scan_param : NULL;
	struct psi_rt *rt;
	int err;

	if (!pp || !scan) {
		etm_task_report_error(tk, "psi not configured (needs a scan_type=psi project and cg_dir)");
		return -EINVAL;
	}
	if (tk->timer_inst)
		return 0; /* already running */
	if (!(rt = rt_new(tk, pp, scan->interval)))
		return -ENOTSUP;
	if ((err = -pthread_create(&rt->timer, NULL, timer_main, rt))) {
		etm_task_report_error(tk, "cannot create the timer thread: %s", strerror(-err));
		rt_free(rt);
		return err;
	}
	rt->timer_started = true;
	tk->timer_inst = rt;
	etm_info("psi task %s: started on %s; cg_dir %s, every %d s, pressure below %g", rt->name, rt->backend_desc,
		 rt->cg_dir, rt->interval, rt->policy.pressure);
	return 0;
}

static void psi_stop_task(struct engine *eng, struct task *tk)
{
	struct psi_rt *rt = tk->timer_inst;

	(void)eng;
	if (!rt)
		return;
	pthread_mutex_lock(&rt->lock);
	rt->stop = true;
	pthread_cond_broadcast(&rt->wake);
	pthread_mutex_unlock(&rt->lock);
	if (rt->timer_started)
		pthread_join(rt->timer, NULL);
	tk->timer_inst = NULL;
	etm_info("psi task %s: stopped after %" G_GUINT64_FORMAT " cycles, %" G_GUINT64_FORMAT " bytes reclaimed",
		 rt->name, rt->cycles, rt->reclaimed_total);
	rt_free(rt);
}

const struct engine_ops psi_ops = {
	.start_task = psi_start_task,
	.stop_task = psi_stop_task,
};
