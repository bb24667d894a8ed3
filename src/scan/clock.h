/* SPDX-License-Identifier: MulanPSL-2.0 */
/* The one monotonic clock of the scan library and the engines on it (durations, waits). */
#ifndef ETM_SCAN_CLOCK_H
#define ETM_SCAN_CLOCK_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

/* CLOCK_MONOTONIC now, in seconds. */
double etm_mono_now(void);
/* CLOCK_MONOTONIC @secs from now: a deadline for a condition variable on that clock. */
void etm_mono_after(double secs, struct timespec *ts);
/* A condition variable whose timed waits take etm_mono_after() deadlines (a wall-clock step cannot stretch them). */
void etm_mono_cond_init(pthread_cond_t *cv);
/*
 * A stoppable sleep: wait up to @secs on @cv (an etm_mono_cond_init() one)
 * under @lock, returning early when *@stop is set (by whoever sets it under
 * @lock and signals @cv). 0 after the full wait, -ECANCELED when stopped.
 */
int etm_mono_wait_unless(pthread_mutex_t *lock, pthread_cond_t *cv, const bool *stop, double secs);
/* *@flag read under @lock. */
bool etm_flag_get(pthread_mutex_t *lock, const bool *flag);

#endif
