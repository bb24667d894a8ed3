/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * psi's runtime, shared by its files (not a public interface):
 *  - psi.c: the keys and the engine type; the backend is detected at
 *    `obj add` (a kernel without PSI is refused there).
 *  - psi_run.c: lifecycle. start_task snapshots the task's keys, detects
 *    the backend and starts the timer thread; stop_task joins it and frees
 *    everything.
 *  - psi_cycle.c: one cycle: cg_dir expanded again, then per cgroup read,
 *    decide (psi_policy.h), reclaim, adapt the rate, record.
 *  - psi_show.c: the task's figures (daemon/figures.h) for `project show`
 *    and the `pressure` engine command (the last cycles of each cgroup).
 *
 * Threads: the timer thread is the only writer of the set of cgroups and of
 * every cgroup's state; it changes them under @lock, and reads them without
 * it. project show and the engine command read them under @lock, which is
 * never held across a kernel read or a reclaim.
 */
#ifndef ETM_PSI_RT_H
#define ETM_PSI_RT_H

#include <glib.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "daemon/engine.h"
#include "psi_backend.h"
#include "psi_cgroups.h"
#include "psi_policy.h"

struct psi_rt {
	pthread_mutex_t lock;
	pthread_cond_t wake; /* stop requests; CLOCK_MONOTONIC */
	bool stop;
	pthread_t timer;
	bool timer_started;

	/* Fixed while the task runs. */
	char *name;			   /* the task's */
	struct etm_cycle_hook *cycle_hook; /* fired after each cycle (daemon/cycle_hook.h); may be NULL */
	int interval;
	char *cg_dir;
	struct psi_policy policy;
	struct psi_backend *backend;
	char *backend_desc;

	/* Written by the timer thread under lock. */
	struct psi_cgset *set;
	uint64_t cycles;
	unsigned dropped; /* matches of cg_dir left out (more than PSI_CG_MAX) */
	double last_cycle_s;
	uint64_t reclaimed_total; /* of every cgroup, those since dropped too */
	char last_error[256];
};

/* psi_run.c */
extern const struct engine_ops psi_ops;
/* Sleep @secs unless stopped first. 0, or -ECANCELED when the task stops. */
int psi_rt_wait(struct psi_rt *rt, double secs);
bool psi_rt_stopping(struct psi_rt *rt);
/* The task's last error (project show); logged when it differs from the previous one. */
void psi_rt_error(struct psi_rt *rt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* psi_cycle.c */
void psi_cycle_run(struct psi_rt *rt);

/* psi_show.c */
void psi_task_figures(struct engine *eng, struct task *tk, struct etm_figures *figs);
/* The engine's private commands (`pressure`). */
extern const struct etm_engine_cmd psi_cmds[];

#endif
