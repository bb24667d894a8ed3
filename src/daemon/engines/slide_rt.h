/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * slide's runtime, shared by its files (not a public interface):
 *  - slide.c: lifecycle. start_task takes a snapshot of the configuration,
 *    chooses the backend and starts the threads; stop_task joins them and
 *    frees everything.
 *  - slide_cycle.c: one cycle, in one direction: resolve the targets, then
 *    either the tracker path (per process: gates -> scans -> grade -> swap
 *    out, on the worker threads) or the reclaimer path (slide_memcg.c's
 *    targets -> the reclaimer's update, which scans, grades and acts in the
 *    kernel).
 *  - slide_memcg.c: which memory cgroups the reclaimer path may act on.
 *  - slide_figures.c: the task's figures (daemon/figures.h) for `project show`.
 *  - slide_learn.c: what the cycles learn about the targets (refaults:
 *    scan/memcg_learn.h, scan/page_learn.h), kept in the registry's store
 *    (daemon/learnt.h) across task restarts.
 */
#ifndef ETM_SLIDE_RT_H
#define ETM_SLIDE_RT_H

#include <glib.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon/engine.h"
#include "daemon/task_tracker.h"
#include "scan/backend.h"

#define FIGURE_PIDS_MAX 16

/* What a task error was about: the figure `errors` counts them by kind (slide_figures.c names them). */
enum slide_err_kind {
	SLIDE_ERR_TARGET,   /* resolving the target's processes, or some left out */
	SLIDE_ERR_PROC,	    /* reading /proc (meminfo) */
	SLIDE_ERR_SCAN,	    /* the access tracker */
	SLIDE_ERR_SWAP_OUT, /* the swap-out action */
	SLIDE_ERR_RECLAIM,  /* the kernel-graded reclaimer */
	SLIDE_ERR_MEMCG,    /* a memory cgroup slide may not act on */
	SLIDE_ERR_KINDS,
};

struct slide_rt {
	struct task *tk;
	pthread_mutex_t lock;
	pthread_cond_t wake;	/* stop requests; CLOCK_MONOTONIC */
	pthread_cond_t jobs_cv; /* jobs queued / jobs done */
	bool stop;

	pthread_t timer;
	bool timer_started;
	pthread_t *workers; /* the tracker path's */
	int nworkers;

	/* The current cycle's jobs (guarded by lock). */
	pid_t *jobs;
	size_t njobs, next_job, jobs_done;

	/* Configuration snapshot, fixed while the task runs. */
	char *type, *value, *name;
	int loop, interval, sleep_s, T, sysmem, wm_high, wm_low, dram_percent;
	uint64_t swap_threshold;
	bool swap_flag;
	struct etm_task_tracker trk;	  /* the backend, chosen with the PMU keys (task_tracker.h) */
	const struct etm_backend *acc;	  /* trk.b: a per-page tracker or a kernel-graded reclaimer */
	const struct etm_action_ops *act; /* the tracker path's swap-out action */
	void *group;			  /* the reclaimer's context */
	bool memcg_shared;		  /* memcg_shared=yes: act on memory cgroups that hold other processes too */
	char self_memcg[256];
	/* auto: why the trackers before the chosen one were skipped */
	char skipped[768];
	/* What the cycles learnt, kept across restarts: the registry's store, or the task's own (own_learnt). */
	struct etm_learnt *learnt;
	bool own_learnt;
	/* Fired after each cycle (daemon/cycle_hook.h); NULL outside a registry. */
	struct etm_cycle_hook *cycle_hook;

	/* Figures (guarded by lock). */
	pid_t fig_pids[FIGURE_PIDS_MAX];
	size_t fig_npids;
	uint64_t cycles, scanned, hot, cold, swapped_bytes, gated;
	uint64_t held;		  /* tracker path: pages held hot in the last cycle because they came back */
	uint64_t came_back_pages; /* tracker path: pages found back after a swap-out, all cycles */
	uint64_t advised_bytes;	  /* asked of the kernel, including pages already out */
	uint64_t cyc_scanned, cyc_hot, cyc_cold, cyc_gated, cyc_held;
	double last_cycle_s;
	struct etm_reclaimer_stats mstats;
	bool wmark_sent;
	char last_error[256];
	uint64_t errors[SLIDE_ERR_KINDS]; /* since the task started */

	/* The heatmap (daemon/heatmap.h): the ring, and the running cycle's figures (guarded by lock). */
	struct etm_heat_ring *heat;
	struct etm_heat_cycle *heat_cycle;

	/*
	 * The reclaimer path's processes as last resolved, each with its start
	 * time, reused while the task backs off (slide_cycle.c: resolve());
	 * the cycle thread's own.
	 */
	pid_t *known_pids;
	uint64_t *known_start;
	size_t nknown;
	double resolved_s; /* when the last full resolution ran (etm_mono_now) */
	bool idle;	   /* the last cycle's memcgs all backed off */
};

/* slide.c */
/* Sleep @secs unless stopped first. 0, or -ECANCELED when the task stops. */
int slide_rt_wait(struct slide_rt *rt, double secs);
bool slide_rt_stopping(struct slide_rt *rt);
/* The task's last error (project show), counted by @kind; logged when it differs from the previous one. */
void slide_rt_error(struct slide_rt *rt, enum slide_err_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* slide_cycle.c */
void slide_cycle_run(struct slide_rt *rt);
/* A worker thread of the tracker path: runs the cycle's jobs until the task stops. */
void *slide_worker_main(void *rt);

/* slide_memcg.c */
struct etm_meminfo;
/*
 * The reclaimer path's targets of @pids into @t (room for @n): each
 * process's memory cgroup when it is one slide may act on, with whether the
 * gates (@mi, the process's status) let it swap now; errors reported on the
 * way. The number of targets (one per process: etm_memcg_targets_merge()).
 */
size_t slide_memcg_targets(struct slide_rt *rt, const struct etm_meminfo *mi, const pid_t *pids, size_t n,
			   struct etm_memcg_target *t);
/*
 * At start: can the reclaimer act on the target as it is now (some process
 * in a memory cgroup of its own, and no cgroup shared with others)? 0, or
 * -errno with the error reported on @tk.
 */
int slide_memcg_precheck(struct slide_rt *rt, struct task *tk);

/* slide_learn.c */
struct etm_memcg_target;
struct etm_page_learnt;
struct etm_page_learn_stats;
struct etm_pagestate;
/* The learnt state of each memcg of @t (after the merge) out of the store, into t[i].learnt. */
void slide_learn_memcgs_take(struct slide_rt *rt, struct etm_memcg_target *t, size_t n);
/* ... and back into the store; t[i].learnt is cleared. */
void slide_learn_memcgs_put(struct slide_rt *rt, struct etm_memcg_target *t, size_t n);
/*
 * Before grading @ps of @pid: what came back since the last swap-outs is
 * held hot in @ps (scan/page_learn.h), with the figures in @st. The
 * process's learnt state, taken out of the store, or NULL (nothing learnt:
 * the process is gone, or out of memory); give it back with
 * slide_learn_pages_put().
 */
struct etm_page_learnt *slide_learn_pages_apply(struct slide_rt *rt, pid_t pid, struct etm_pagestate *ps,
						struct etm_page_learn_stats *st);
/* After the swap-out action flushed: what went out is recorded in @pl (NULL: nothing). */
void slide_learn_pages_out(struct slide_rt *rt, pid_t pid, struct etm_page_learnt *pl);
void slide_learn_pages_put(struct slide_rt *rt, pid_t pid, struct etm_page_learnt *pl);

/* slide_figures.c */
struct etm_figures;
void slide_task_figures(struct engine *eng, struct task *tk, struct etm_figures *figs);
/* The private commands (heatmap). */
extern const struct etm_engine_cmd slide_cmds[];

#endif
