/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * What slide's cycles learn about their targets from refaults, and where it
 * is kept between cycles: the registry's store (daemon/learnt.h), so that a
 * project stop and start does not forget it (without it every restart
 * would learn the working set again by swapping it out).
 *
 *  - The reclaimer path (memcg_lru): one scan/memcg_learn.h state per
 *    memory cgroup, keyed "memcg:V:PATH" (V: 1 for cgroup v1, 2 for v2);
 *    the reclaimer checks the memcg's identity itself (a memcg made again
 *    under the same path starts afresh).
 *  - The tracker path: one scan/page_learn.h state per process, keyed
 *    "pid:PID:STARTTIME" (a reused pid is another process).
 *
 * Each state is taken out of the store for the cycle and put back after
 * it, so a task never holds another's while it runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/learnt.h"
#include "scan/clock.h"
#include "scan/memcg_learn.h"
#include "scan/page_learn.h"
#include "scan/pagemap.h"
#include "scan/proc_stat.h"
#include "scan/reclaimer.h"
#include "slide_rt.h"

/* A recorded swap-out counts as "straight back" for this long, and for at least 4 cycles. */
#define RECENT_MIN_S 120.0

static void memcg_key(const struct etm_memcg_target *t, char *key, size_t len)
{
	snprintf(key, len, "memcg:%d:%s", t->v1 ? 1 : 2, t->path);
}

void slide_learn_memcgs_take(struct slide_rt *rt, struct etm_memcg_target *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char key[ETM_LEARNT_KEY_MAX];
		size_t size;
		struct etm_memcg_learnt *l;

		memcg_key(&t[i], key, sizeof(key));
		l = etm_learnt_take(rt->learnt, key, &size);
		if (l && size != sizeof(*l)) { /* not ours: start afresh */
			free(l);
			l = NULL;
		}
		/* A fresh state has no identity: the reclaimer sets it when it first sees the memcg. */
		t[i].learnt = l ? l : calloc(1, sizeof(*l));
	}
}

void slide_learn_memcgs_put(struct slide_rt *rt, struct etm_memcg_target *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char key[ETM_LEARNT_KEY_MAX];

		if (!t[i].learnt)
			continue;
		memcg_key(&t[i], key, sizeof(key));
		etm_learnt_put(rt->learnt, key, t[i].learnt, sizeof(*t[i].learnt), free);
		t[i].learnt = NULL;
	}
}

/* The process's key; false when it is gone. */
static bool pid_key(pid_t pid, char *key, size_t len, uint64_t *id)
{
	struct etm_proc_stat st;

	if (etm_proc_stat_read(-1, pid, ETM_STAT_STARTTIME, &st))
		return false;
	*id = st.starttime;
	snprintf(key, len, "pid:%d:%llu", (int)pid, (unsigned long long)st.starttime);
	return true;
}

static void page_learnt_free(void *p)
{
	etm_page_learnt_free(p);
}

static struct etm_page_learnt *pages_take(struct slide_rt *rt, pid_t pid)
{
	char key[ETM_LEARNT_KEY_MAX];
	struct etm_page_learnt *pl;
	uint64_t id;
	size_t size;

	if (!pid_key(pid, key, sizeof(key), &id))
		return NULL;
	pl = etm_learnt_take(rt->learnt, key, &size);
	if (pl && etm_page_learnt_id(pl) == id)
		return pl;
	etm_page_learnt_free(pl);
	return etm_page_learnt_new(id);
}

struct etm_page_learnt *slide_learn_pages_apply(struct slide_rt *rt, pid_t pid, struct etm_pagestate *ps,
						struct etm_page_learn_stats *st)
{
	struct etm_page_learnt *pl = pages_take(rt, pid);
	double cycle = rt->interval + (double)rt->loop * rt->sleep_s;
	int fd, err;

	memset(st, 0, sizeof(*st));
	if (!pl)
		return NULL;
	if ((fd = etm_pagemap_open(pid)) < 0)
		return pl;
	err = etm_page_learn_apply(pl, ps, rt->T, etm_mono_now(), cycle * 4 > RECENT_MIN_S ? cycle * 4 : RECENT_MIN_S,
				   etm_pagemap_present, &fd, st);
	close(fd);
	if (err)
		etm_debug("slide task %s: pid %d: checking what came back: %s", rt->name, (int)pid, strerror(-err));
	return pl;
}

void slide_learn_pages_out(struct slide_rt *rt, pid_t pid, struct etm_page_learnt *pl)
{
	int fd, err;

	if (!pl || (fd = etm_pagemap_open(pid)) < 0)
		return;
	err = etm_page_learn_out(pl, etm_mono_now(), etm_pagemap_present, &fd);
	close(fd);
	if (err)
		etm_debug("slide task %s: pid %d: recording what went out: %s", rt->name, (int)pid, strerror(-err));
}

void slide_learn_pages_put(struct slide_rt *rt, pid_t pid, struct etm_page_learnt *pl)
{
	char key[ETM_LEARNT_KEY_MAX];
	uint64_t id;

	if (!pl)
		return;
	if (!pid_key(pid, key, sizeof(key), &id) || id != etm_page_learnt_id(pl)) {
		etm_page_learnt_free(pl); /* the process is gone: nothing to keep */
		return;
	}
	etm_learnt_put(rt->learnt, key, pl, etm_page_learnt_bytes(pl), page_learnt_free);
}
