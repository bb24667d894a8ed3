/* SPDX-License-Identifier: MulanPSL-2.0 */
#include "scan/clock.h"

#include <errno.h>

double etm_mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void etm_mono_after(double secs, struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)secs;
	ts->tv_nsec += (long)((secs - (double)(time_t)secs) * 1e9);
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

void etm_mono_cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &ca);
	pthread_condattr_destroy(&ca);
}

int etm_mono_wait_unless(pthread_mutex_t *lock, pthread_cond_t *cv, const bool *stop, double secs)
{
	struct timespec dl;
	int ret;

	etm_mono_after(secs, &dl);
	pthread_mutex_lock(lock);
	while (!*stop && pthread_cond_timedwait(cv, lock, &dl) != ETIMEDOUT)
		;
	ret = *stop ? -ECANCELED : 0;
	pthread_mutex_unlock(lock);
	return ret;
}

bool etm_flag_get(pthread_mutex_t *lock, const bool *flag)
{
	bool v;

	pthread_mutex_lock(lock);
	v = *flag;
	pthread_mutex_unlock(lock);
	return v;
}
