/* SPDX-License-Identifier: MulanPSL-2.0 */
/* The one monotonic clock of the scan library and the engines on it (durations, waits). */
#ifndef ETM_SCAN_CLOCK_H
#define ETM_SCAN_CLOCK_H

#include <pthread.h>
#include <time.h>

/* CLOCK_MONOTONIC now, in seconds. */
double etm_mono_now(void);
/* CLOCK_MONOTONIC @secs from now: a deadline for a condition variable on that clock. */
void etm_mono_after(double secs, struct timespec *ts);
/* A condition variable whose timed waits take etm_mono_after() deadlines (a wall-clock step cannot stretch them). */
void etm_mono_cond_init(pthread_cond_t *cv);

#endif
