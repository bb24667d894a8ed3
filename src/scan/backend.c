/* SPDX-License-Identifier: MulanPSL-2.0 */
#include "scan/backend.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "scan/procfs.h"

/* The auto order: most precise and cheapest first. */
static const struct etm_access_ops *const trackers[] = {
	&etm_access_idle_pages,
	&etm_access_page_idle,
	&etm_access_damon_vaddr,
	&etm_access_damon_paddr,
	/* Last: coarser (whole-memcg, T = 1) but needs only a memory controller. */
	&etm_access_memcg_lru,
};

const struct etm_access_ops *etm_access_find(const char *name)
{
	for (size_t i = 0; i < sizeof(trackers) / sizeof(trackers[0]); i++)
		if (!strcmp(trackers[i]->name, name))
			return trackers[i];
	return NULL;
}

int etm_access_choose(const char *want, const struct etm_access_ops **out, char *why, size_t len)
{
	char one[256];
	size_t used = 0;
	int err;

	if (want && strcmp(want, ETM_ACCESS_AUTO)) {
		const struct etm_access_ops *a = etm_access_find(want);

		if (!a) {
			snprintf(why, len,
				 "unknown access tracker '%s' (auto, idle_pages, page_idle, damon_vaddr, "
				 "damon_paddr, memcg_lru)",
				 want);
			return -EINVAL;
		}
		err = a->probe(one, sizeof(one));
		if (err) {
			snprintf(why, len, "access tracker %s unavailable: %s", a->name, one);
			return err;
		}
		*out = a;
		return 0;
	}
	if (len)
		why[0] = '\0';
	for (size_t i = 0; i < sizeof(trackers) / sizeof(trackers[0]); i++) {
		if (!trackers[i]->probe(one, sizeof(one))) {
			*out = trackers[i];
			return 0;
		}
		etm_info("access tracker %s skipped: %s", trackers[i]->name, one);
		if (used < len)
			used += (size_t)snprintf(why + used, len - used, "%s%s: %s",
						 i ? "; " : "no access tracker: ", trackers[i]->name, one);
	}
	return -ENOTSUP;
}

int etm_access_ranges(pid_t pid, const struct etm_access_opts *o, struct etm_pagestate *ps)
{
	struct etm_vma_filter f = {
		.anon_only = true,
		.name = o->vma_name,
	};
	struct vmas *v;
	int err = etm_proc_vmas(pid, &f, &v);

	if (err)
		return err;
	for (struct vma *x = v->vma_list; x && !err; x = x->next)
		err = etm_pagestate_add_range(ps, x->start, x->end);
	etm_vmas_free(v);
	return err;
}
