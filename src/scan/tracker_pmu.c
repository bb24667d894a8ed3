/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The PMU sampler (pmu_sampler.h) as a per-page tracker (tracker.h). One
 * sampler per task, its rings and readers shared by every process of the
 * task: task_new() starts it (the refusal at task start when no event is
 * usable), task_cycle() hands it the cycle's processes and, when the task
 * has no cooling_interval (slide), halves the counts once per cycle. open()
 * makes sure the process is sampled, scan() folds its counts into the page
 * state (their weights, or with o->sample_counts the counts themselves:
 * cslide), close() ends the job but keeps the counts: they must outlive the
 * cycle, or a page faulted back in would look cold again at the next one.
 * A process stops being sampled when it leaves the task's targets or exits.
 */
#include "scan/tracker.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "scan/pmu_sampler.h"

/* The probe's period: any will do, it only checks that the event opens. */
#define PROBE_PERIOD 10000

struct pmu_task {
	struct etm_pmu_sampler *s;
	bool cool_each_cycle; /* no cooling_interval: halve once per cycle */
	uint64_t cycles;
};

struct pmu_job {
	struct pmu_task *t;
	pid_t pid;
};

/* Available when the CPU's memory-access events can be sampled, or at least page faults (pmu_event=page-faults). */
static int pmu_probe(char *why, size_t len)
{
	struct etm_pmu_events e;
	char hw[512], sw[256];

	if (!etm_pmu_events_choose(NULL, PROBE_PERIOD, &e, hw, sizeof(hw)) ||
	    !etm_pmu_events_choose("page-faults", 1, &e, sw, sizeof(sw)))
		return 0;
	snprintf(why, len, "%s; %s", hw, sw);
	return -ENOTSUP;
}

static int pmu_task_new(const struct etm_tracker_opts *o, const struct etm_pmu_conf *pmu, void **task, char *why,
			size_t len)
{
	struct etm_pmu_conf c;
	struct pmu_task *t;
	int rc;

	*task = NULL;
	if (!pmu) {
		snprintf(why, len, "needs the PMU keys (sample_period, vma_updata_rate, cpu_set_size)");
		return -EINVAL;
	}
	if (!(t = calloc(1, sizeof(*t))))
		return -ENOMEM;
	c = *pmu;
	/* Index the pages the engine's page state tracks (etm_tracker_ranges()): its filter, hugetlb VMAs too. */
	c.anon_only = true;
	c.vma_name = o->vma_name;
	c.filter = o->filter;
	c.fold = o->sample_counts ? ETM_PMU_FOLD_COUNT : ETM_PMU_FOLD_WEIGHT;
	t->cool_each_cycle = !c.cooling_interval;
	if ((rc = etm_pmu_sampler_new(&c, &t->s, why, len))) {
		free(t);
		return rc;
	}
	*task = t;
	return 0;
}

static int pmu_task_cycle(void *task, const pid_t *pids, size_t n, char *why, size_t len)
{
	struct pmu_task *t = task;

	if (t->cycles++ && t->cool_each_cycle)
		etm_pmu_sampler_cool(t->s);
	return etm_pmu_sampler_set_targets(t->s, pids, n, why, len);
}

static void pmu_task_free(void *task)
{
	struct pmu_task *t = task;

	if (!t)
		return;
	etm_pmu_sampler_free(t->s);
	free(t);
}

struct etm_pmu_sampler *etm_tracker_pmu_sampler(void *task)
{
	return task ? ((struct pmu_task *)task)->s : NULL;
}

static int pmu_open(pid_t pid, const struct etm_tracker_opts *o, void **ctx)
{
	struct pmu_task *t = o->task;
	struct pmu_job *j;
	char why[256];
	int rc;

	if (!t)
		return -EINVAL;
	/* task_cycle() attached it; again here only if that failed (the cycle reported why). */
	rc = etm_pmu_sampler_attach(t->s, pid, why, sizeof(why));
	if (rc && rc != -EEXIST)
		return rc;
	if (!(j = malloc(sizeof(*j))))
		return -ENOMEM;
	j->t = t;
	j->pid = pid;
	*ctx = j;
	return 0;
}

static int pmu_scan(void *ctx, struct etm_pagestate *ps)
{
	struct pmu_job *j = ctx;

	return etm_pmu_sampler_fold(j->t->s, j->pid, ps);
}

static void pmu_close(void *ctx)
{
	free(ctx);
}

const struct etm_tracker_ops etm_tracker_pmu = {
	.keyed = true,
	/* a sample's address is where the access went, whatever maps it: a hugetlb page counts whole */
	.sees_hugetlb = true,
	.probe = pmu_probe,
	.task_new = pmu_task_new,
	.task_cycle = pmu_task_cycle,
	.task_free = pmu_task_free,
	.open = pmu_open,
	.scan = pmu_scan,
	.close = pmu_close,
};
