/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The access tracker a task scans with, for every engine that grades pages
 * (slide, cslide): one function weighs the task's access_tracker key, the
 * PMU keys and what the engine can use, so that a new way of observing
 * accesses (PMU sampling) joins every engine in one place.
 */
#ifndef ETM_TRACKER_CHOICE_H
#define ETM_TRACKER_CHOICE_H

#include <stdbool.h>
#include <stddef.h>

#include "scan/backend.h"

struct etm_pmu_params;

struct etm_tracker_req {
	const char *engine; /* "slide", "cslide": for messages */
	const char *task;
	int tracker;			  /* access_tracker=: 0 auto, else a backend id (enum etm_backend_id) */
	const struct etm_pmu_params *pmu; /* the PMU keys, NULL when the engine has none */
	/* A per-page tracker only: the engine grades and places each page itself (cslide). */
	bool per_page;
	/*
	 * It must see accesses to hugetlb pages (cslide with vm_flags=ht):
	 * page_idle cannot, nor can the sampler with major faults only.
	 */
	bool hugetlb;
};

/*
 * Choose for @req: with the PMU keys the pmu tracker (its sampler is
 * started by etm_task_tracker_choose(), daemon/task_tracker.h, which every
 * engine calls); with
 * access_tracker=auto the first backend in the auto order (backend.h) that
 * the kernel offers and the engine can use, else the one named. 0 with *out set, or -errno with @why saying what the
 * kernel lacks or why the named one does not fit.
 */
int etm_tracker_choose(const struct etm_tracker_req *req, const struct etm_backend **out, char *why, size_t len);

#endif
