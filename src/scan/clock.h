/* SPDX-License-Identifier: MulanPSL-2.0 */
/* The one monotonic clock of the scan library and the engines on it (durations, waits). */
#ifndef ETM_SCAN_CLOCK_H
#define ETM_SCAN_CLOCK_H

#include <time.h>

/* CLOCK_MONOTONIC now, in seconds. */
double etm_mono_now(void);
/* CLOCK_MONOTONIC @secs from now: a deadline for a condition variable on that clock. */
void etm_mono_after(double secs, struct timespec *ts);

#endif
