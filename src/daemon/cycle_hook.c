/* SPDX-License-Identifier: MulanPSL-2.0 */
/* The cycle-done notification (cycle_hook.h). */
#include "cycle_hook.h"

#include "registry.h"

void etm_cycle_hook_init(struct etm_cycle_hook *h)
{
	pthread_mutex_init(&h->lock, NULL);
	h->fn = NULL;
	h->data = NULL;
}

void etm_cycle_hook_destroy(struct etm_cycle_hook *h)
{
	pthread_mutex_destroy(&h->lock);
}

void etm_cycle_hook_set(struct etm_cycle_hook *h, etm_cycle_fn fn, void *data)
{
	/* Taking the lock waits for a listener call in flight: after it, the old one is never called. */
	pthread_mutex_lock(&h->lock);
	h->fn = fn;
	h->data = data;
	pthread_mutex_unlock(&h->lock);
}

void etm_cycle_hook_fire(struct etm_cycle_hook *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	if (h->fn)
		h->fn(h->data);
	pthread_mutex_unlock(&h->lock);
}

struct etm_cycle_hook *etm_task_cycle_hook(struct task *tk)
{
	return etm_task_of(tk)->cycle_hook;
}
