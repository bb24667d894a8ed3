/* SPDX-License-Identifier: MulanPSL-2.0 */
/* psi engine: the cgroup2 backend (psi_backend.h): memory.pressure and memory.reclaim. */
#include "psi_backend.h"

#include <string.h>

static int v2_pressure(const struct psi_backend *b, const char *rel, struct psi_pressure *out, enum psi_source *src)
{
	struct etm_memcg_dir d;
	int err = psi_dir(&b->mem, rel, false, &d);

	*src = PSI_SRC_OWN;
	return err ? err : psi_pressure_read_cg(&d, out);
}

/* memory.swap.max - memory.swap.current; without them (no swap accounting) only the system's free swap counts. */
static uint64_t v2_swap_room(const struct etm_memcg_dir *d)
{
	uint64_t max, cur;

	if (psi_read_u64(d, "memory.swap.max", &max) || psi_read_u64(d, "memory.swap.current", &cur))
		return UINT64_MAX;
	return max > cur ? max - cur : 0;
}

static int v2_readings(const struct psi_backend *b, const char *rel, struct psi_readings *out)
{
	struct etm_memcg_dir d;
	struct psi_stat st;
	int err;

	if ((err = psi_dir(&b->mem, rel, false, &d)) || (err = psi_read_u64(&d, "memory.current", &out->usage)) ||
	    (err = psi_read_u64(&d, "memory.max", &out->limit)) || (err = psi_read_u64(&d, "memory.min", &out->min)) ||
	    (err = psi_read_u64(&d, "memory.low", &out->low)) || (err = psi_read_stat(&d, &st)))
		return err;
	out->anon = st.anon;
	out->file = st.file;
	out->active = st.active;
	out->refaults = st.refaults;
	out->has_refaults = st.has_refaults;
	out->swap_room = v2_swap_room(&d);
	return 0;
}

static int v2_reclaim(const struct psi_backend *b, const char *rel, uint64_t bytes, struct psi_reclaim_res *res)
{
	return psi_reclaim_layer(b, rel, bytes, true, res);
}

const struct psi_backend_ops psi_backend_cgroup2 = {
	.name = "cgroup2",
	.pressure = v2_pressure,
	.readings = v2_readings,
	.reclaim = v2_reclaim,
};
