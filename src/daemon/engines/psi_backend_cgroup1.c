/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * psi engine: the two cgroup v1 backends (psi_backend.h). Both read the v1
 * memory hierarchy alike; they differ in where pressure comes from and how
 * memory is reclaimed.
 */
#include "psi_backend.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int system_pressure(const struct psi_backend *b, struct psi_pressure *out, enum psi_source *src,
			   enum psi_source why)
{
	*src = why;
	return psi_pressure_read(b->proc_pressure, out);
}

/*
 * v1 has no swap limit of its own: swapping a page out moves its charge
 * from memory to swap and leaves memsw unchanged. What keeps anon in is
 * memory.swappiness 0 (memcg reclaim then scans file pages only) and the
 * system running out of swap, which psi_backend_read() applies.
 */
static uint64_t v1_swap_room(const struct etm_memcg_dir *d)
{
	uint64_t swappiness;

	if (!psi_read_u64(d, "memory.swappiness", &swappiness) && !swappiness)
		return 0;
	return UINT64_MAX;
}

static int v1_readings(const struct psi_backend *b, const char *rel, struct psi_readings *out)
{
	struct etm_memcg_dir d;
	struct psi_stat st;
	int err;

	if ((err = psi_dir(&b->mem, rel, true, &d)) || (err = psi_read_u64(&d, "memory.usage_in_bytes", &out->usage)) ||
	    (err = psi_read_u64(&d, "memory.limit_in_bytes", &out->limit)) || (err = psi_read_stat(&d, &st)))
		return err;
	out->min = out->low = 0; /* v1 has no protections (soft_limit_in_bytes is a reclaim target, not one) */
	out->anon = st.anon;
	out->file = st.file;
	out->active = st.active;
	out->refaults = st.refaults;
	out->has_refaults = st.has_refaults;
	out->swap_room = v1_swap_room(&d);
	return 0;
}

/* openEuler: the cgroup of the same name in the cpuacct hierarchy, else the system. */
static int oe_pressure(const struct psi_backend *b, const char *rel, struct psi_pressure *out, enum psi_source *src)
{
	struct etm_memcg_dir d;

	if (!b->has_psi || psi_dir(&b->psi, rel, true, &d))
		return system_pressure(b, out, src, PSI_SRC_SYSTEM_NO_TWIN);
	*src = PSI_SRC_CPUACCT;
	return psi_pressure_read_cg(&d, out);
}

static int oe_reclaim(const struct psi_backend *b, const char *rel, uint64_t bytes, struct psi_reclaim_res *res)
{
	return psi_reclaim_layer(b, rel, bytes, true, res);
}

const struct psi_backend_ops psi_backend_cgroup1_reclaim = {
	.name = "cgroup1-reclaim",
	.pressure = oe_pressure,
	.readings = v1_readings,
	.reclaim = oe_reclaim,
};

/* Are all of @mem's processes in @twin (their cgroup.procs)? False when either cannot be read. */
static bool twin_covers(const struct etm_memcg_dir *mem, const struct etm_memcg_dir *twin)
{
	char *in = NULL, *tw = NULL;
	size_t il = 0, tl = 0;
	bool covered = false;

	if (!etm_memcg_read_text(mem, "cgroup.procs", &in, &il, PSI_PROCS_MAX) &&
	    !etm_memcg_read_text(twin, "cgroup.procs", &tw, &tl, PSI_PROCS_MAX) &&
	    psi_procs_covered(in, il, tw, tl, &covered))
		covered = false;
	free(in);
	free(tw);
	return covered;
}

/*
 * Plain v1: the twin's pressure counts the stalls of the processes in the
 * twin. It stands for the v1 cgroup only when every process of the v1
 * cgroup is in it; otherwise some of the cgroup's stalls would go unseen,
 * and the system-wide figure (which sees them all) is the safe one.
 */
static int twin_pressure(const struct psi_backend *b, const char *rel, struct psi_pressure *out, enum psi_source *src)
{
	struct etm_memcg_dir mem, twin;
	int err;

	if (!b->has_psi || psi_dir(&b->psi, rel, false, &twin))
		return system_pressure(b, out, src, PSI_SRC_SYSTEM_NO_TWIN);
	if ((err = psi_dir(&b->mem, rel, true, &mem)))
		return err;
	if (!twin_covers(&mem, &twin))
		return system_pressure(b, out, src, PSI_SRC_SYSTEM_TWIN_DIFF);
	*src = PSI_SRC_TWIN;
	return psi_pressure_read_cg(&twin, out);
}

/* Stepwise limit cuts, always undone, with the undo journal (memcg_reclaim.h). */
static int limit_reclaim(const struct psi_backend *b, const char *rel, uint64_t bytes, struct psi_reclaim_res *res)
{
	return psi_reclaim_layer(b, rel, bytes, false, res);
}

const struct psi_backend_ops psi_backend_cgroup1_limit = {
	.name = "cgroup1-limit",
	.pressure = twin_pressure,
	.readings = v1_readings,
	.reclaim = limit_reclaim,
};
