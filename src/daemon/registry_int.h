/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The registry's inside, shared by registry.c (state, start/stop, show,
 * engine commands) and registry_files.c (obj add/del). Not for engines.
 */
#ifndef ETM_REGISTRY_INT_H
#define ETM_REGISTRY_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "config.h"
#include "cycle_hook.h"
#include "registry.h"

struct etm_registry {
	pthread_mutex_t lock;
	/* Broadcast whenever a project leaves STARTING/STOPPING or busy (CLOCK_MONOTONIC). */
	pthread_cond_t settled;
	bool closing;		      /* stop_all ran: no project starts again */
	struct etm_project *projects; /* in order of addition */
	/* obj add/del running now, and the wait for a free slot (CLOCK_MONOTONIC). */
	int loads;
	pthread_cond_t load_done;
	/* The configuration files' owner check (etm_conf_owner_root unless a test sets another). */
	etm_conf_owner_fn conf_owner;
	/* What engines learnt about their targets, kept across task restarts (its own lock). */
	struct etm_learnt *learnt;
	/* Who hears of tasks' finished cycles (the metrics writer, when there is one); its own lock. */
	struct etm_cycle_hook cycle_hook;
	/* When the registry was made (seconds since the epoch): the daemon's start, for the metrics. */
	double started_at;
};

/* Lock held: the project called @name, or NULL. */
struct etm_project *etm_reg_find_project(struct etm_registry *reg, const char *name);
void etm_reg_unlink_project(struct etm_registry *reg, struct etm_project *proj);
/*
 * A target that reaches beyond its workload is refused for every engine
 * (target.h): when the task is added, and again when it starts, since what
 * a name matches changes. true with @err set.
 */
bool etm_reg_target_refused(struct etm_task *tk, GString *err);
/*
 * The engine's start_task, with its failure explained in @err. The caller
 * has the task in STARTING (or holds the lock over a task nobody can see).
 */
int etm_reg_engine_start_task(struct etm_registry *reg, struct etm_task *tk, GString *err);
/* Stop one registered task if it runs; called without the lock. */
void etm_reg_task_stop(struct etm_registry *reg, struct etm_task *tk);
/* The caller has marked @proj STARTING or STOPPING, which freezes its lists. */
void etm_reg_project_stop_tasks(struct etm_registry *reg, struct etm_project *proj);
/* Lock held: the project state as a client-facing error, or ETM_OK when it is idle. */
int etm_reg_project_idle_or_busy(struct etm_project *proj, GString *err);
/* "stopped", "starting", "started", "stopping" (registry_show.c). */
const char *etm_reg_project_state_str(enum etm_proj_state st);
const char *etm_reg_task_state_str(enum etm_task_state st);
/* Lock held: a new list of @tk's figures when it is STARTED and its engine has figures, else NULL. */
struct etm_figures *etm_reg_task_figures(struct engine *eng, struct task *tk);
/* @ms from now on CLOCK_MONOTONIC, the clock of the registry's condition variables. */
void etm_reg_deadline_in_ms(struct timespec *dl, long ms);

#endif
