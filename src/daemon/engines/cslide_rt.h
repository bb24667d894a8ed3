/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * cslide's runtime, shared by its files (not a public interface). One
 * runtime per engine, as the original's: the flow control weighs the pages
 * of every task of the engine against each node pair's quota and free
 * memory, so one thread runs the cycles of all of them.
 *
 *  - cslide.c: the keys (cslide.h).
 *  - cslide_run.c: lifecycle. The first start_task of the engine creates the
 *    runtime and its thread, each start_task adds its task; stop_task
 *    withdraws the task (the thread lets go of it at its next checkpoint)
 *    and the last one joins the thread and frees the runtime. The per-pid
 *    parameters of the plugin ABI (alloc_pid_params/free_pid_params) hold
 *    each process's cycle state.
 *  - cslide_scan.c: one task's processes in a cycle: resolve, the VMAs
 *    (smaps), the tracker's passes, then the units move_pages moves (base
 *    pages, THP, hugetlb pages) with their access counts and nodes.
 *  - cslide_cycle.c: one cycle: scan, buckets, flow control
 *    (cslide_policy.h) per kind of memory, migration, figures.
 *  - cslide_figures.c: project show's figures and the private commands
 *    showhostpages / showtaskpages (cslide_show.h formats them).
 *
 * Locking: rt->lock guards the task list, each task's stop/in_cycle flags
 * and every figure. The cycle's own data (pages, buckets, tracker
 * contexts, tk->pids) is the engine thread's while a task is in_cycle; a
 * task leaves the cycle only through the thread (cslide_release), so
 * stop_task frees it once in_cycle is false.
 */
#ifndef ETM_CSLIDE_RT_H
#define ETM_CSLIDE_RT_H

#include <glib.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "cslide.h"
#include "cslide_policy.h"
#include "cslide_show.h"
#include "daemon/engine.h"
#include "daemon/task_tracker.h"
#include "scan/action.h"
#include "scan/backend.h"
#include "scan/numa_node.h"
#include "scan/procfs.h"

#define CSLIDE_FIGURE_PIDS_MAX 16
/* The hugetlb page size cslide places with vm_flags=ht (the original's; other sizes stay where they are). */
#define CSLIDE_HUGE_SHIFT 21

/* One process of a task: its task_pid's params (alloc_pid_params), the cycle's state. */
struct cslide_pid {
	pid_t pid;
	struct etm_smaps_vma *vmas; /* the VMAs placed this cycle */
	size_t nvmas;
	struct etm_pagestate *ps; /* access counts, one range per VMA */
	void *trk;		  /* the tracker while the cycle scans */
	bool failed;		  /* gone, or failed: left out of the rest of the cycle */
	size_t first, n;	  /* its units in the task's page array */
};

/* What showtaskpages prints for one process: bytes per node. */
struct cslide_pid_show {
	pid_t pid;
	struct cslide_show_node *nodes;
	size_t n;
};

/* A task's figures (rt->lock). */
struct cslide_task_figs {
	uint64_t cycles;
	uint64_t promoted_bytes, demoted_bytes;		  /* all cycles */
	uint64_t last_promoted_bytes, last_demoted_bytes; /* the last cycle */
	uint64_t max_cycle_moved_bytes;			  /* the most one cycle moved, both ways */
	uint64_t failed_bytes[ETM_ACTION_FAIL_NR];	  /* all cycles, by reason */
	uint64_t capped_bytes;				  /* planned, not given to move_pages: the quota cap */
	uint64_t units;					  /* the last cycle's units placed */
	uint64_t *hot_by_node, *cold_by_node;		  /* the last cycle's, after it moved, by node id */
	size_t nnodes;					  /* max node id + 1 */
	pid_t pids[CSLIDE_FIGURE_PIDS_MAX];
	size_t npids;
	double last_cycle_s;
	char last_error[256];
	/* showtaskpages: per process, after the last cycle's moves; stamp 0 before the first cycle */
	struct cslide_pid_show *show;
	size_t nshow;
	time_t stamp;
};

/* One task (tk->timer_inst). */
struct cslide_task {
	struct task *tk;
	struct cslide_rt *rt;
	struct etm_cycle_hook *cycle_hook; /* fired after each of its cycles (daemon/cycle_hook.h) */
	/* configuration snapshot */
	char *type, *value, *name;
	bool hugetlb;		       /* vm_flags=ht: 2 MiB hugetlb pages only, from the hugetlb pools */
	char **vmflags;		       /* the filter's flags (a copy) */
	struct etm_vma_filter filter;  /* which VMAs */
	struct etm_tracker_opts topts; /* the tracker's options */
	const struct etm_backend *acc; /* a per-page tracker (trk.b) */
	/* the tracker's task-wide context: with the PMU keys the sampler, which outlives the cycles */
	struct etm_task_tracker trk;
	/* pmu: a page's count is its sampled count (0..254, halved by cooling), not a sum of passes */
	bool sampled;
	enum cslide_fold fold; /* how a large unit's count comes from its pages' */
	/* rt->lock */
	bool stop;     /* stop_task asked: the thread lets go at its next checkpoint */
	bool in_cycle; /* the engine thread holds the cycle data below */
	/* the cycle's (engine thread) */
	GArray *pages; /* struct cslide_page, process by process (cslide_pid first/n) */
	struct cslide_buckets b;
	uint64_t cyc_promoted, cyc_demoted, cyc_capped, cyc_failed[ETM_ACTION_FAIL_NR];
	struct cslide_task_figs figs;
};

/* The engine's runtime, hung on its params (cslide_eng_params.rt). */
struct cslide_rt {
	struct engine *eng;
	pthread_mutex_t lock;
	pthread_cond_t wake;	 /* stop requests; CLOCK_MONOTONIC */
	pthread_cond_t released; /* a task left the cycle */
	pthread_t thread;
	bool thread_started, stop;
	GPtrArray *tasks; /* struct cslide_task (rt->lock) */
	/* configuration snapshot */
	int loop, interval, sleep_s, hot_threshold;
	int max_count;		/* the buckets' top count: loop * 3, or 254 with the PMU keys (sampled counts) */
	int64_t quota, reserve; /* bytes */
	struct etm_numa_pair *pairs;
	size_t npairs;
	char pairs_text[256];	    /* "0->2, 1->3 (memory tiers)" */
	struct etm_numa_topo *topo; /* the engine thread's after start */
	/* showhostpages (rt->lock): per node, after the last cycle's moves */
	struct cslide_show_node *host;
	size_t nhost;
	time_t stamp;
};

/* cslide_run.c */
extern const struct engine_ops cslide_engine_ops;
/* Wait @secs unless the engine stops (-ECANCELED); tasks asked to stop meanwhile are let go. */
int cslide_wait(struct cslide_rt *rt, GPtrArray *cycle, double secs);
/* Let go of the tasks of @cycle asked to stop (a checkpoint of the cycle). */
void cslide_checkpoint(struct cslide_rt *rt, GPtrArray *cycle);
/* Free the cycle data of @ct and mark it out of the cycle. */
void cslide_release(struct cslide_rt *rt, struct cslide_task *ct);
bool cslide_task_live(struct cslide_rt *rt, struct cslide_task *ct);
/* The task's last error (project show); logged when it differs from the previous one. */
void cslide_task_error(struct cslide_task *ct, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* cslide_scan.c */
/* Resolve the task's processes, read their VMAs and open the tracker on each (its baseline). */
void cslide_scan_prepare(struct cslide_task *ct);
/* One pass of the tracker over every process of the task. */
void cslide_scan_pass(struct cslide_task *ct);
/* Close the trackers; the units of every process with their counts and nodes into ct->pages. */
void cslide_scan_units(struct cslide_task *ct);
/* Free the per-process cycle state (trackers, VMAs, counts). */
void cslide_scan_clear(struct cslide_task *ct);
int cslide_alloc_pid(struct engine *eng, struct task_pid **tp);
void cslide_free_pid(struct engine *eng, struct task_pid **tp);

/* cslide_cycle.c */
void cslide_cycle_run(struct cslide_rt *rt);

/* cslide_figures.c */
void cslide_task_figures(struct engine *eng, struct task *tk, struct etm_figures *figs);
/* showhostpages, showtaskpages */
extern const struct etm_engine_cmd cslide_cmds[];
/* After a cycle of @secs: @ct's figures from its pages and moves (engine thread, takes rt->lock). */
void cslide_figs_publish(struct cslide_task *ct, time_t now, double secs);
/* The host's per-node figures from the tasks of @cycle (engine thread, takes rt->lock). */
void cslide_host_publish(struct cslide_rt *rt, GPtrArray *cycle, time_t now);
void cslide_figs_clear(struct cslide_task_figs *f);

#endif
