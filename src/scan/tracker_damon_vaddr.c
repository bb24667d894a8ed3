/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * DAMON vaddr: a kdamond monitors the targets' address spaces; a "stat"
 * scheme matching everything exposes the monitored regions through
 * update_schemes_tried_regions. Each scan maps a region's nr_accesses of
 * the last aggregation window (sized to the project's sleep) to every page
 * of the region: accessed (weight 1) if nr_accesses > 0, else idle. The
 * granularity is DAMON's regions, not pages.
 *
 * A task (task_new() .. task_free()) keeps one kdamond running across its
 * cycles: its regions have adapted by the next cycle, and no cycle pays a
 * kdamond start. Every process of the task is one target of its context;
 * task_cycle() writes the cycle's pids and commits them to the running
 * kdamond (state "commit"), or turns it on when it stopped (a kdamond whose
 * targets all exited stops itself). Target i has scheme i, whose "target"
 * filter rejects the regions of every other target: tried_regions do not
 * say whose they are, and two processes' address ranges overlap.
 * Without a task context (o->task NULL) open() starts a kdamond of its own
 * for one pid and close() stops it.
 */
#include "scan/tracker.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/damon_sysfs.h"
#include "scan/parse.h"

#define CTX "contexts/0"
/* Targets, and so schemes, per task: the processes a task follows with one kdamond. */
#define VADDR_TARGETS_MAX 256

struct vaddr_task {
	struct etm_kdamond k;
	pthread_mutex_t lock; /* the task's thread and show may not be the only callers */
	unsigned long long aggr_us;
	pid_t pids[VADDR_TARGETS_MAX]; /* target i monitors pids[i] */
	size_t n;
	bool on;
	/*
	 * A commit changed the targets: the kernel hands each slot's regions to
	 * the slot's new pid (a target that left shifts the others down), and
	 * the window the commit fell in counts the old pid's accesses in them.
	 */
	bool stale;
	uint64_t gen; /* tried_regions snapshots taken */
};

struct vaddr_ctx {
	struct etm_kdamond k; /* first: etm_kdamond_ctx_close(); idx -1 with a task's kdamond */
	pid_t pid;
	struct vaddr_task *t;
	uint64_t seen; /* the task's snapshot this process last read */
};

static int vaddr_probe(char *why, size_t len)
{
	return etm_damon_probe("vaddr", why, len);
}

static unsigned long long aggr_of(const struct etm_tracker_opts *o)
{
	return (unsigned long long)(o->sleep_s ? o->sleep_s : 1) * 1000000ULL;
}

/* The context's monitoring attributes, without targets or schemes. */
static int write_attrs(const struct etm_kdamond *k, unsigned long long aggr)
{
	int err;

	if ((err = etm_kdamond_write(k, "contexts/nr_contexts", "1")) ||
	    (err = etm_kdamond_write(k, CTX "/operations", "vaddr")) ||
	    (err = etm_kdamond_write(k, CTX "/monitoring_attrs/intervals/sample_us", "5000")) ||
	    (err = etm_kdamond_write(k, CTX "/monitoring_attrs/intervals/aggr_us", "%llu", aggr)) ||
	    (err = etm_kdamond_write(k, CTX "/monitoring_attrs/intervals/update_us", "1000000")) ||
	    (err = etm_kdamond_write(k, CTX "/monitoring_attrs/nr_regions/min", "100")))
		return err;
	return etm_kdamond_write(k, CTX "/monitoring_attrs/nr_regions/max", "10000");
}

/* Scheme @i: stat on every region; with @filter, of target @i only. */
static int write_scheme(const struct etm_kdamond *k, size_t i, bool filter)
{
	char s[64], rel[128];
	int err;

	snprintf(s, sizeof(s), CTX "/schemes/%zu", i);
#define W(file, ...) (snprintf(rel, sizeof(rel), "%s/%s", s, file), etm_kdamond_write(k, rel, __VA_ARGS__))
	if ((err = W("action", "stat")) || (err = W("access_pattern/sz/max", "18446744073709551615")) ||
	    (err = W("access_pattern/nr_accesses/max", "4294967295")) ||
	    (err = W("access_pattern/age/max", "4294967295")) || (err = W("filters/nr_filters", "%d", filter)) ||
	    !filter)
		return err;
	/* matching=N: the regions that are not target i's are filtered out (the kernel's reject filter). */
	if ((err = W("filters/0/type", "target")) || (err = W("filters/0/damon_target_idx", "%zu", i)))
		return err;
	return W("filters/0/matching", "N");
#undef W
}

/* Targets and schemes for @pids (one scheme per target, filtered, when there are several). */
static int write_targets(const struct etm_kdamond *k, const pid_t *pids, size_t n)
{
	char rel[96];
	int err;

	if ((err = etm_kdamond_write(k, CTX "/targets/nr_targets", "%zu", n)) ||
	    (err = etm_kdamond_write(k, CTX "/schemes/nr_schemes", "%zu", n)))
		return err;
	for (size_t i = 0; i < n; i++) {
		snprintf(rel, sizeof(rel), CTX "/targets/%zu/pid_target", i);
		if ((err = etm_kdamond_write(k, rel, "%d", (int)pids[i])) || (err = write_scheme(k, i, n > 1)))
			return err;
	}
	return 0;
}

/* Index of @pid's target, or -1. */
static int target_of(const struct vaddr_task *t, pid_t pid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->pids[i] == pid)
			return (int)i;
	return -1;
}

static int vaddr_task_new(const struct etm_tracker_opts *o, const struct etm_pmu_conf *pmu, void **task, char *why,
			  size_t len)
{
	struct vaddr_task *t = calloc(1, sizeof(*t));
	int err;

	(void)pmu;
	*task = NULL;
	if (!t)
		return -ENOMEM;
	t->k.idx = -1;
	t->aggr_us = aggr_of(o);
	pthread_mutex_init(&t->lock, NULL);
	if ((err = etm_kdamond_alloc(&t->k, why, len))) {
		pthread_mutex_destroy(&t->lock);
		free(t);
		return err;
	}
	if ((err = write_attrs(&t->k, t->aggr_us))) {
		snprintf(why, len, "configuring DAMON kdamond %d: %s", t->k.idx, strerror(-err));
		etm_kdamond_release(&t->k);
		pthread_mutex_destroy(&t->lock);
		free(t);
		return err;
	}
	*task = t;
	return 0;
}

static bool same_pids(const struct vaddr_task *t, const pid_t *pids, size_t n)
{
	return t->n == n && !memcmp(t->pids, pids, n * sizeof(*pids));
}

/* Has the kdamond stopped (by itself: its targets exited)? A read that fails (EBUSY) says nothing. */
static bool stopped(const struct etm_kdamond *k)
{
	char st[16];

	return !etm_kdamond_read_str(k, "state", st, sizeof(st)) && !strcmp(st, "off");
}

/* Hand the kdamond @t->pids: commit them online, or (re)start it. */
static int task_apply(struct vaddr_task *t, char *why, size_t len)
{
	int err;

	if (t->on && stopped(&t->k))
		t->on = false;
	if (!t->n) {
		if (t->on)
			etm_kdamond_write(&t->k, "state", "off");
		t->on = false;
		return 0;
	}
	if ((err = write_targets(&t->k, t->pids, t->n))) {
		snprintf(why, len, "writing DAMON kdamond %d's targets: %s", t->k.idx, strerror(-err));
		return err;
	}
	err = t->on ? etm_kdamond_write(&t->k, "state", "commit") : etm_kdamond_on(&t->k);
	if (err) {
		snprintf(why, len, "%s DAMON kdamond %d: %s", t->on ? "committing targets to" : "starting", t->k.idx,
			 strerror(-err));
		return err;
	}
	t->stale = t->on;
	t->on = true;
	return 0;
}

static int vaddr_task_cycle(void *task, const pid_t *pids, size_t n, char *why, size_t len)
{
	struct vaddr_task *t = task;
	pid_t live[VADDR_TARGETS_MAX];
	size_t k = 0, over = 0;
	int err;

	/* A pid gone before the commit would fail it for all: the living ones only. */
	for (size_t i = 0; i < n; i++) {
		if (kill(pids[i], 0) && errno == ESRCH)
			continue;
		if (k < VADDR_TARGETS_MAX)
			live[k++] = pids[i];
		else
			over++;
	}
	pthread_mutex_lock(&t->lock);
	if (same_pids(t, live, k) && t->on && !stopped(&t->k)) {
		err = 0;
	} else {
		memcpy(t->pids, live, k * sizeof(*live));
		t->n = k;
		if ((err = task_apply(t, why, len)))
			t->n = 0; /* no target is monitored: open() says so for each */
	}
	pthread_mutex_unlock(&t->lock);
	if (!err && over) {
		snprintf(why, len, "%zu processes beyond DAMON vaddr's %d targets per task are not tracked", over,
			 VADDR_TARGETS_MAX);
		return -E2BIG;
	}
	return err;
}

static void vaddr_task_free(void *task)
{
	struct vaddr_task *t = task;

	if (!t)
		return;
	etm_kdamond_release(&t->k); /* turns it off */
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* A kdamond of its own for @pid (no task context). */
static int own_kdamond(struct vaddr_ctx *c, unsigned long long aggr)
{
	char why[256];
	int err;

	if ((err = etm_kdamond_alloc(&c->k, why, sizeof(why))))
		return err;
	if ((err = write_attrs(&c->k, aggr)) || (err = write_targets(&c->k, &c->pid, 1)) ||
	    (err = etm_kdamond_on(&c->k)))
		return err == -ENOENT ? -ESRCH : err;
	return 0;
}

static int vaddr_open(pid_t pid, const struct etm_tracker_opts *o, void **out)
{
	struct vaddr_ctx *c = calloc(1, sizeof(*c));
	struct vaddr_task *t = o->task;
	int err = 0;

	if (!c)
		return -ENOMEM;
	c->pid = pid;
	c->k.idx = -1;
	if (t) {
		pthread_mutex_lock(&t->lock);
		if (target_of(t, pid) < 0)
			err = -ESRCH; /* not among the cycle's living processes */
		c->t = t;
		c->seen = t->gen; /* the first scan takes a new snapshot */
		pthread_mutex_unlock(&t->lock);
	} else {
		err = own_kdamond(c, aggr_of(o));
	}
	if (err) {
		etm_kdamond_ctx_close(c);
		return err;
	}
	*out = c;
	return 0;
}

/*
 * Take a snapshot of the tried regions (blocks until the schemes are next
 * applied, up to one aggregation window). -ESRCH when the kdamond stopped.
 */
static int snapshot(const struct etm_kdamond *k)
{
	int err = etm_kdamond_write(k, "state", "update_schemes_tried_regions");

	return err && stopped(k) ? -ESRCH : err;
}

/* Mark the regions of scheme @sch's tried_regions in @ps. */
static int read_regions(const struct etm_kdamond *k, int sch, struct etm_pagestate *ps)
{
	char path[256], rel[320];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/" CTX "/schemes/%d/tried_regions", k->dir, sch);
	if (!(d = opendir(path)))
		return -errno;
	while ((de = readdir(d))) {
		const char *end = de->d_name;
		uint64_t s, e, acc;

		/* region directories are numbered; skip the others */
		if (etm_parse_u64(&end, de->d_name + strlen(de->d_name), &s) || *end)
			continue;
		snprintf(rel, sizeof(rel), CTX "/schemes/%d/tried_regions/%s/start", sch, de->d_name);
		if (etm_kdamond_read_u64(k, rel, &s))
			continue;
		snprintf(rel, sizeof(rel), CTX "/schemes/%d/tried_regions/%s/end", sch, de->d_name);
		if (etm_kdamond_read_u64(k, rel, &e))
			continue;
		snprintf(rel, sizeof(rel), CTX "/schemes/%d/tried_regions/%s/nr_accesses", sch, de->d_name);
		if (etm_kdamond_read_u64(k, rel, &acc))
			continue;
		if (e > s)
			etm_pagestate_mark(ps, s, (e - s) >> ETM_PAGE_SHIFT,
					   acc ? ETM_WEIGHT_ACCESSED : ETM_WEIGHT_IDLE);
	}
	closedir(d);
	return 0;
}

/*
 * With a task's kdamond: one snapshot serves every process of a pass; a
 * process that has read the current one takes the next.
 */
static int task_scan(struct vaddr_ctx *c, struct etm_pagestate *ps)
{
	struct vaddr_task *t = c->t;
	int i, err = 0;

	pthread_mutex_lock(&t->lock);
	if ((i = target_of(t, c->pid)) < 0 || !t->on)
		err = -ESRCH;
	else if (c->seen == t->gen && !(err = snapshot(&t->k))) {
		/* After a commit the window that holds it is thrown away: the next one is all the new pids'. */
		if (t->stale && !(err = snapshot(&t->k)))
			t->stale = false;
		if (!err)
			t->gen++;
	}
	if (!err)
		err = read_regions(&t->k, i, ps);
	c->seen = t->gen;
	pthread_mutex_unlock(&t->lock);
	return err;
}

static int vaddr_scan(void *ctx, struct etm_pagestate *ps)
{
	struct vaddr_ctx *c = ctx;
	int err;

	if (c->t)
		return task_scan(c, ps);
	if ((err = snapshot(&c->k)))
		return err;
	return read_regions(&c->k, 0, ps);
}

const struct etm_tracker_ops etm_tracker_damon_vaddr = {
	.sees_hugetlb = true, /* DAMON checks and clears hugetlb entries' accessed bits too */
	.grades_regions = true,
	.probe = vaddr_probe,
	.task_new = vaddr_task_new,
	.task_cycle = vaddr_task_cycle,
	.task_free = vaddr_task_free,
	.open = vaddr_open,
	.scan = vaddr_scan,
	.close = etm_kdamond_ctx_close,
};
