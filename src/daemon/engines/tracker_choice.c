/* SPDX-License-Identifier: MulanPSL-2.0 */
/* The access tracker a task scans with (see tracker_choice.h). */
#include "tracker_choice.h"

#include <stdio.h>

#include "daemon/pmu_keys.h"
#include "scan/pmu_event.h"
#include "slide_params.h"

/*
 * Does pmu_event name major faults only? The kernel never counts a hugetlb
 * fault as major (mm/hugetlb.c: hugetlb pages are not read in from swap or
 * from a file), so such a sampler would see no access to hugetlb pages. The
 * default events, and names that do not resolve (the sampler's start says
 * why), are not.
 */
static bool major_faults_only(const struct etm_pmu_params *pmu)
{
	struct etm_pmu_events e;
	char w[256];

	if (!pmu->event || etm_pmu_events_resolve(pmu->event, &e, w, sizeof(w)))
		return false;
	for (size_t i = 0; i < e.n; i++)
		if (e.ev[i].attr.type != PERF_TYPE_SOFTWARE || e.ev[i].attr.config != PERF_COUNT_SW_PAGE_FAULTS_MAJ)
			return false;
	return e.n > 0;
}

/* Can the engine of @arg (a request) use @b? */
static bool fits(const struct etm_backend *b, void *arg, char *why, size_t len)
{
	const struct etm_tracker_req *req = arg;

	if (req->per_page && !b->tracker) {
		snprintf(why, len, "%s grades whole memory cgroups in the kernel; %s needs each page's accesses",
			 b->name, req->engine);
		return false;
	}
	if (req->hugetlb && b->tracker && !b->tracker->sees_hugetlb) {
		snprintf(why, len, "%s cannot see accesses to hugetlb pages (vm_flags=ht)", b->name);
		return false;
	}
	return true;
}

int etm_tracker_choose(const struct etm_tracker_req *req, const struct etm_backend **out, char *why, size_t len)
{
	bool sampled = req->pmu && req->pmu->enabled;
	const char *want = req->tracker ? slide_tracker_name(req->tracker) : ETM_BACKEND_AUTO;

	/* The PMU keys choose the sampler (never auto: it is keyed); whether its event works is task_new()'s. */
	if (sampled && req->tracker && req->tracker != ETM_BACKEND_ID_pmu) {
		snprintf(why, len, "access_tracker=%s: the PMU keys sample with the pmu tracker", want);
		return -EINVAL;
	}
	if (sampled && req->hugetlb && major_faults_only(req->pmu)) {
		snprintf(why, len,
			 "pmu_event=%s: a hugetlb page's faults are never major (it is not read in from swap or a "
			 "file), so the sampler would see no access to the vm_flags=ht pages; use page-faults or "
			 "minor-faults",
			 req->pmu->event);
		return -EINVAL;
	}
	if (sampled)
		want = etm_backend_by_id(ETM_BACKEND_ID_pmu)->name;
	return etm_backend_choose_fit(want, fits, (void *)req, out, why, len);
}
