/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The access tracker of a slide or cslide task, chosen once when the task
 * starts through etm_tracker_choose(), the one choice of every engine:
 *  - with the PMU keys (pmu_keys.h) the pmu tracker: its sampler starts
 *    there, and a task whose event cannot be sampled is refused with the
 *    event and the reason (no PMU, perf_event_paranoid, no precise
 *    sampling, built without libpfm4);
 *  - otherwise access_tracker's value (auto, or NULL for an engine without
 *    the key: the first backend the kernel offers, scan/backend.h).
 * A running task then calls etm_task_tracker_cycle() at the start of every
 * cycle with the cycle's processes, and the tracker's open/scan/close per
 * process with o->task = t->task; etm_task_tracker_release() at stop.
 */
#ifndef ETM_TASK_TRACKER_H
#define ETM_TASK_TRACKER_H

#include <stddef.h>
#include <sys/types.h>

#include "daemon/engines/tracker_choice.h"
#include "daemon/pmu_keys.h"
#include "scan/backend.h"

struct etm_figures;

struct etm_task_tracker {
	const struct etm_backend *b; /* a per-page tracker or (slide) a kernel-graded reclaimer */
	void *task;		     /* its task-wide context (pmu: the sampler), or NULL */
};

/*
 * Choose @t's backend with etm_tracker_choose() (engines/tracker_choice.h,
 * the one choice of every engine) and start its
 * task-wide context: @o is the task's tracker options (the VMA filter:
 * flagged_only, vma_name). 0, with @why (for auto) saying why the backends
 * before the chosen one were skipped; or -errno with @why the refusal.
 */
int etm_task_tracker_choose(const struct etm_tracker_req *req, const struct etm_tracker_opts *o,
			    struct etm_task_tracker *t, char *why, size_t len);
/* A new cycle over @pids: the task-wide context follows them. 0, or -errno with @why (a pid left out). */
int etm_task_tracker_cycle(struct etm_task_tracker *t, const pid_t *pids, size_t n, char *why, size_t len);
/* The task-wide context's figures for `project show` (the pmu tracker's sampling), none for the others. */
void etm_task_tracker_figures(const struct etm_task_tracker *t, struct etm_figures *figs);
/* One line saying what the tracker samples (pmu: the chosen encoding), or "" . */
void etm_task_tracker_describe(const struct etm_task_tracker *t, char *buf, size_t len);
/* Stop the task-wide context; @t may be half chosen or zeroed. */
void etm_task_tracker_release(struct etm_task_tracker *t);

#endif
