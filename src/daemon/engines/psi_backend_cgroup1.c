/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * psi engine: the two cgroup v1 backends (psi_backend.h). Both read the v1
 * memory hierarchy alike; they differ in where pressure comes from and how
 * memory is reclaimed.
 */
#include "psi_backend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "scan/memcg_reclaim.h"
#include "scan/procfs.h"

static bool is_dir(const char *root, const char *rel)
{
	g_autofree char *p = g_build_filename(root, rel, NULL);
	struct stat st;

	return !lstat(p, &st) && S_ISDIR(st.st_mode);
}

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
static uint64_t v1_swap_room(const struct psi_backend *b, const char *rel)
{
	uint64_t swappiness;

	if (!psi_read_u64(b->mem_root, rel, "memory.swappiness", &swappiness) && !swappiness)
		return 0;
	return UINT64_MAX;
}

static int v1_readings(const struct psi_backend *b, const char *rel, struct psi_readings *out)
{
	struct psi_stat st;
	int err;

	if ((err = psi_read_u64(b->mem_root, rel, "memory.usage_in_bytes", &out->usage)) ||
	    (err = psi_read_u64(b->mem_root, rel, "memory.limit_in_bytes", &out->limit)) ||
	    (err = psi_read_stat(b->mem_root, rel, &st)))
		return err;
	out->min = out->low = 0; /* v1 has no protections (soft_limit_in_bytes is a reclaim target, not one) */
	out->anon = st.anon;
	out->file = st.file;
	out->swap_room = v1_swap_room(b, rel);
	return 0;
}

/* openEuler: the cgroup of the same name in the cpuacct hierarchy, else the system. */
static int oe_pressure(const struct psi_backend *b, const char *rel, struct psi_pressure *out, enum psi_source *src)
{
	g_autofree char *path = NULL;

	if (!b->psi_root || !is_dir(b->psi_root, rel))
		return system_pressure(b, out, src, PSI_SRC_SYSTEM_NO_TWIN);
	path = psi_path(b->psi_root, rel, "memory.pressure");
	*src = PSI_SRC_CPUACCT;
	return psi_pressure_read(path, out);
}

static int oe_reclaim(const struct psi_backend *b, const char *rel, uint64_t bytes, struct psi_reclaim_res *res)
{
	return psi_reclaim_file(b->mem_root, rel, "memory.usage_in_bytes", bytes, res);
}

const struct psi_backend_ops psi_backend_cgroup1_reclaim = {
	.name = "cgroup1-reclaim",
	.pressure = oe_pressure,
	.readings = v1_readings,
	.reclaim = oe_reclaim,
};

static char *read_text(const char *root, const char *rel, const char *name, size_t *len)
{
	g_autofree char *path = psi_path(root, rel, name);
	char *buf = NULL;

	return etm_read_file(path, &buf, len, PSI_PROCS_MAX) ? NULL : buf;
}

/*
 * Plain v1: the twin's pressure counts the stalls of the processes in the
 * twin. It stands for the v1 cgroup only when every process of the v1
 * cgroup is in it; otherwise some of the cgroup's stalls would go unseen,
 * and the system-wide figure (which sees them all) is the safe one.
 */
static int twin_pressure(const struct psi_backend *b, const char *rel, struct psi_pressure *out, enum psi_source *src)
{
	g_autofree char *path = NULL;
	size_t il = 0, ol = 0;
	char *in, *tw;
	bool covered = false;

	if (!b->psi_root || !is_dir(b->psi_root, rel))
		return system_pressure(b, out, src, PSI_SRC_SYSTEM_NO_TWIN);
	in = read_text(b->mem_root, rel, "cgroup.procs", &il);
	tw = read_text(b->psi_root, rel, "cgroup.procs", &ol);
	if (!in || !tw || psi_procs_covered(in, il, tw, ol, &covered))
		covered = false;
	free(in);
	free(tw);
	if (!covered)
		return system_pressure(b, out, src, PSI_SRC_SYSTEM_TWIN_DIFF);
	path = psi_path(b->psi_root, rel, "memory.pressure");
	*src = PSI_SRC_TWIN;
	return psi_pressure_read(path, out);
}

/* Stepwise limit cuts, always undone, through the scan library's memcg layer (memcg_reclaim.h). */
static int limit_reclaim(const struct psi_backend *b, const char *rel, uint64_t bytes, struct psi_reclaim_res *res)
{
	struct etm_memcg_reclaim_res r;
	struct etm_memcg_dir d = { .v1 = true };
	uint64_t u0 = 0, u1 = 0;
	bool has_u0 = !psi_read_u64(b->mem_root, rel, "memory.usage_in_bytes", &u0);
	int n = snprintf(d.dir, sizeof(d.dir), "%s/%s", b->mem_root, rel), err;

	memset(res, 0, sizeof(*res));
	if (n < 0 || (size_t)n >= sizeof(d.dir))
		return -ENAMETOOLONG;
	/* keep 0: the policy sized the amount; the layer still stops at the LRU's hot part. */
	err = etm_memcg_reclaim(&d, bytes, 0, b->jdir, &r);
	res->asked = r.asked;
	res->steps = r.steps;
	res->busy = r.busy;
	res->contended = r.contended;
	res->restore_failed = r.restore_failed;
	res->seconds = r.seconds;
	if (has_u0 && !psi_read_u64(b->mem_root, rel, "memory.usage_in_bytes", &u1) && u0 > u1)
		res->reclaimed = u0 - u1;
	return err;
}

const struct psi_backend_ops psi_backend_cgroup1_limit = {
	.name = "cgroup1-limit",
	.pressure = twin_pressure,
	.readings = v1_readings,
	.reclaim = limit_reclaim,
};
