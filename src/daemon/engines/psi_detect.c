/* SPDX-License-Identifier: MulanPSL-2.0 */
/* psi engine: which backend this kernel offers, and the line that names it (psi_backend.h). */
#include "psi_backend.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scan/procfs.h"

static bool has_file(const char *dir, const char *name)
{
	g_autofree char *p = g_build_filename(dir, name, NULL);

	return access(p, F_OK) == 0;
}

/* Is "memory" among the controllers cgroup2 offers (not bound to v1)? */
static bool v2_has_memory(const char *unified)
{
	g_autofree char *p = g_build_filename(unified, "cgroup.controllers", NULL);
	g_auto(GStrv) words = NULL;
	char *buf;
	size_t len;
	bool found = false;

	if (etm_read_file(p, &buf, &len, 4096))
		return false;
	words = g_strsplit_set(buf, " \n", -1);
	free(buf);
	for (char **w = words; *w && !found; w++)
		found = !strcmp(*w, "memory");
	return found;
}

static struct psi_backend *backend_new(const struct psi_sys *sys, const struct psi_backend_ops *ops,
				       const char *mem_root, const char *psi_root)
{
	struct psi_backend *b = g_new0(struct psi_backend, 1);

	b->ops = ops;
	b->mem_root = g_strdup(mem_root);
	b->psi_root = psi_root && *psi_root ? g_strdup(psi_root) : NULL;
	b->proc_pressure = g_strdup(sys->proc_pressure);
	b->meminfo = g_strdup(sys->meminfo);
	b->jdir = ops == &psi_backend_cgroup1_limit && sys->jdir ? g_strdup(sys->jdir) : NULL;
	return b;
}

static struct psi_backend *detect_v2(const struct psi_sys *sys, const struct psi_mounts *m, GString *err)
{
	bool system_psi = access(sys->proc_pressure, F_OK) == 0;

	if (!system_psi) {
		psi_diagnose_sys(sys, false, false, err);
		return NULL;
	}
	if (!has_file(m->unified, "memory.pressure")) {
		g_string_append_printf(err,
				       "cgroup2 at %s has no memory.pressure: pressure accounting of cgroups is "
				       "off (drop cgroup_disable=pressure from the kernel command line)",
				       m->unified);
		return NULL;
	}
	if (!has_file(m->unified, "memory.reclaim")) {
		g_string_append_printf(err, "cgroup2 at %s has no memory.reclaim: Linux 5.19 or later is needed",
				       m->unified);
		return NULL;
	}
	return backend_new(sys, &psi_backend_cgroup2, m->unified, m->unified);
}

static struct psi_backend *detect_v1(const struct psi_sys *sys, const struct psi_mounts *m, GString *err)
{
	bool system_psi = access(sys->proc_pressure, F_OK) == 0;

	/* openEuler adds memory.reclaim to v1 and pressure files to cpuacct (psi_v1=1). */
	if (has_file(m->memory_v1, "memory.reclaim")) {
		if (!system_psi || !*m->cpuacct_v1 || !has_file(m->cpuacct_v1, "memory.pressure")) {
			psi_diagnose_sys(sys, system_psi, true, err);
			if (!*m->cpuacct_v1)
				g_string_append(err, " (and no cgroup v1 cpuacct hierarchy is mounted)");
			return NULL;
		}
		return backend_new(sys, &psi_backend_cgroup1_reclaim, m->memory_v1, m->cpuacct_v1);
	}
	if (!system_psi) {
		psi_diagnose_sys(sys, false, false, err);
		return NULL;
	}
	return backend_new(sys, &psi_backend_cgroup1_limit, m->memory_v1, m->unified);
}

struct psi_backend *psi_backend_detect(const struct psi_sys *sys, GString *err)
{
	struct psi_mounts m;
	int rc = psi_mounts_read(sys, &m);

	if (rc && rc != -ENAMETOOLONG) {
		g_string_append_printf(err, "cannot read the mount table %s: %s", sys->mounts, g_strerror(-rc));
		return NULL;
	}
	if (*m.unified && v2_has_memory(m.unified))
		return detect_v2(sys, &m, err);
	if (*m.memory_v1)
		return detect_v1(sys, &m, err);
	g_string_append(err, "no memory cgroup hierarchy is mounted (neither cgroup2 with the memory controller "
			     "nor a cgroup v1 memory hierarchy)");
	return NULL;
}

char *psi_backend_describe(const struct psi_backend *b)
{
	if (b->ops == &psi_backend_cgroup2)
		return g_strdup_printf("cgroup2 (%s): memory.pressure, memory.reclaim", b->mem_root);
	if (b->ops == &psi_backend_cgroup1_reclaim)
		return g_strdup_printf("cgroup1-reclaim (memory %s): memory.reclaim; pressure from cpuacct %s, "
				       "else %s",
				       b->mem_root, b->psi_root, b->proc_pressure);
	return g_strdup_printf("cgroup1-limit (memory %s): memory.limit_in_bytes cuts, put back after each "
			       "reclaim (undo journal %s); pressure from %s%s%s%s",
			       b->mem_root, b->jdir ? b->jdir : "none", b->psi_root ? "the cgroup2 twin in " : "",
			       b->psi_root ? b->psi_root : "", b->psi_root ? " holding the same processes, else " : "",
			       b->proc_pressure);
}
