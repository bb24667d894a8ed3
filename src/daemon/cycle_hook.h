/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The cycle-done notification: how a task's runtime tells whoever listens
 * that it finished a cycle, without knowing who that is (as DAMON's core
 * calls its users' after_aggregation callbacks). The registry owns one hook
 * and hands every task it starts a pointer to it, as it hands the learnt
 * store; an engine fires it once per finished cycle of a task, from its own
 * thread. Today the listener is the metrics writer, which rewrites
 * its file soon after (metrics.h); engines do not know that.
 *
 * The listener runs on the engine's thread, under the hook's lock: it must
 * be short and must not block (set a flag, signal a condition variable).
 * Engines call it without any lock of their own held.
 */
#ifndef ETM_CYCLE_HOOK_H
#define ETM_CYCLE_HOOK_H

#include <pthread.h>

struct task;

typedef void (*etm_cycle_fn)(void *data);

struct etm_cycle_hook {
	pthread_mutex_t lock;
	etm_cycle_fn fn; /* NULL: nobody listens */
	void *data;
};

void etm_cycle_hook_init(struct etm_cycle_hook *h);
void etm_cycle_hook_destroy(struct etm_cycle_hook *h);
/*
 * Install @fn (NULL removes it). Once this returns, the previous listener
 * runs no more: it may free its @data.
 */
void etm_cycle_hook_set(struct etm_cycle_hook *h, etm_cycle_fn fn, void *data);
/* Call the listener, if any. @h may be NULL. */
void etm_cycle_hook_fire(struct etm_cycle_hook *h);

/*
 * For engines, in start_task: the hook of @tk's registry, kept in the
 * task's runtime and fired (etm_cycle_hook_fire) after each finished cycle.
 * NULL for a task started outside a registry (unit tests): firing NULL does
 * nothing. Valid until the task's stop_task returns.
 */
struct etm_cycle_hook *etm_task_cycle_hook(struct task *tk);

#endif
