/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef ETMEMD_TASK_EXP_H
#define ETMEMD_TASK_EXP_H

#include <pthread.h>

struct engine;
struct task_pid;

struct task {
	char *type; /* "pid" or "name" */
	char *value;
	char *name;
	int max_threads;
	int swap_flag;
	struct task_pid *pids;
	struct engine *eng;
	void *params; /* engine-private */
	pthread_t task_pt;
	void *timer_inst;      /* engine-private timer (opaque to plugins) */
	void *threadpool_inst; /* engine-private pool (opaque to plugins) */
	struct task *next;
};

/* One process a task acts on (the main target or one of its descendants). */
struct task_pid {
	unsigned int pid;
	float rt_swapin_rate;
	void *params;
	struct task *tk;
	struct task_pid *next;
};

#endif
