/* SPDX-License-Identifier: MulanPSL-2.0 */
/* psi engine: which backend this kernel offers, and the line that names it (psi_backend.h). */
#include "psi_backend.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* @name in the root of the hierarchy mounted at @root. */
static bool root_has(const struct etm_cgroup_root *root, const char *name)
{
	struct etm_memcg_dir d;

	return !psi_dir(root, "", false, &d) && psi_has_file(&d, name);
}

/* Is "memory" among the controllers cgroup2 offers (not bound to v1)? */
static bool v2_has_memory(const struct etm_cgroup_root *unified)
{
	g_auto(GStrv) words = NULL;
	struct etm_memcg_dir d;
	char *buf;
	size_t len;
	bool found = false;

	if (psi_dir(unified, "", false, &d) || etm_memcg_read_text(&d, "cgroup.controllers", &buf, &len, 4096))
		return false;
	words = g_strsplit_set(buf, " \n", -1);
	free(buf);
	for (char **w = words; *w && !found; w++)
		found = !strcmp(*w, "memory");
	return found;
}

static struct psi_backend *backend_new(const struct psi_sys *sys, const struct psi_backend_ops *ops,
				       const struct etm_cgroup_root *mem, bool v1, const struct etm_cgroup_root *psi)
{
	struct psi_backend *b = g_new0(struct psi_backend, 1);

	b->ops = ops;
	b->mem = *mem;
	b->v1 = v1;
	if (psi) {
		b->psi = *psi;
		b->has_psi = true;
	}
	b->proc_pressure = g_strdup(sys->proc_pressure);
	b->meminfo = g_strdup(sys->meminfo);
	b->jdir = ops == &psi_backend_cgroup1_limit && sys->jdir ? g_strdup(sys->jdir) : NULL;
	return b;
}

static struct psi_backend *detect_v2(const struct psi_sys *sys, const struct psi_mounts *m, GString *err)
{
	if (access(sys->proc_pressure, F_OK)) {
		psi_diagnose_sys(sys, false, false, err);
		return NULL;
	}
	if (!root_has(&m->unified, "memory.pressure")) {
		g_string_append_printf(err,
				       "cgroup2 at %s has no memory.pressure: pressure accounting of cgroups is "
				       "off (drop cgroup_disable=pressure from the kernel command line)",
				       m->unified.mnt);
		return NULL;
	}
	if (!root_has(&m->unified, "memory.reclaim")) {
		g_string_append_printf(err, "cgroup2 at %s has no memory.reclaim: Linux 5.19 or later is needed",
				       m->unified.mnt);
		return NULL;
	}
	return backend_new(sys, &psi_backend_cgroup2, &m->unified, false, &m->unified);
}

static struct psi_backend *detect_v1(const struct psi_sys *sys, const struct psi_mounts *m, GString *err)
{
	bool system_psi = access(sys->proc_pressure, F_OK) == 0;

	/* openEuler adds memory.reclaim to v1 and pressure files to cpuacct (psi_v1=1). */
	if (root_has(&m->memory_v1, "memory.reclaim")) {
		if (!system_psi || !m->has_cpuacct_v1 || !root_has(&m->cpuacct_v1, "memory.pressure")) {
			psi_diagnose_sys(sys, system_psi, true, err);
			if (!m->has_cpuacct_v1)
				g_string_append(err, " (and no cgroup v1 cpuacct hierarchy is mounted)");
			return NULL;
		}
		return backend_new(sys, &psi_backend_cgroup1_reclaim, &m->memory_v1, true, &m->cpuacct_v1);
	}
	if (!system_psi) {
		psi_diagnose_sys(sys, false, false, err);
		return NULL;
	}
	return backend_new(sys, &psi_backend_cgroup1_limit, &m->memory_v1, true, m->has_unified ? &m->unified : NULL);
}

struct psi_backend *psi_backend_detect(const struct psi_sys *sys, GString *err)
{
	struct psi_mounts m;
	int rc = psi_mounts_read(sys, &m);

	if (rc) {
		g_string_append_printf(err, "cannot read the mount table %s: %s", sys->mountinfo, g_strerror(-rc));
		return NULL;
	}
	if (m.has_unified && v2_has_memory(&m.unified))
		return detect_v2(sys, &m, err);
	if (m.has_memory_v1)
		return detect_v1(sys, &m, err);
	g_string_append(err, "no memory cgroup hierarchy is mounted (neither cgroup2 with the memory controller "
			     "nor a cgroup v1 memory hierarchy)");
	return NULL;
}

char *psi_backend_describe(const struct psi_backend *b)
{
	if (b->ops == &psi_backend_cgroup2)
		return g_strdup_printf("cgroup2 (%s): memory.pressure, memory.reclaim", b->mem.mnt);
	if (b->ops == &psi_backend_cgroup1_reclaim)
		return g_strdup_printf("cgroup1-reclaim (memory %s): memory.reclaim; pressure from cpuacct %s, "
				       "else %s",
				       b->mem.mnt, b->psi.mnt, b->proc_pressure);
	return g_strdup_printf("cgroup1-limit (memory %s): memory.limit_in_bytes cuts, put back after each "
			       "reclaim (undo journal %s); pressure from %s%s%s%s",
			       b->mem.mnt, b->jdir ? b->jdir : "none", b->has_psi ? "the cgroup2 twin in " : "",
			       b->has_psi ? b->psi.mnt : "", b->has_psi ? " holding the same processes, else " : "",
			       b->proc_pressure);
}
