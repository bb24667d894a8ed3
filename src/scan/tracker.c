/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * What every per-page tracker shares (tracker.h). Kept apart from the table
 * of backends (backend.c), which names the PMU tracker of library etmemd_pmu
 * and so is not part of libetmemd_scan.so.
 */
#include "scan/tracker.h"

#include "scan/procfs.h"

int etm_tracker_ranges(pid_t pid, const struct etm_tracker_opts *o, struct etm_pagestate *ps)
{
	struct etm_vma_filter f = {
		.anon_only = true,
		.name = o->vma_name,
	};
	struct vmas *v;
	int err = etm_proc_vmas(pid, o->filter ? o->filter : &f, &v);

	if (err)
		return err;
	for (struct vma *x = v->vma_list; x && !err; x = x->next)
		err = etm_pagestate_add_range(ps, x->start, x->end);
	etm_vmas_free(v);
	return err;
}
