/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * slide's reclaimer path acts on whole memory cgroups (the kernel grades and
 * pages out their cold pages): which of the task's cgroups it may act on.
 * Not the root cgroup, not etmemd's own, and (unless memcg_shared=yes) none
 * that holds a process that is not the task's.
 */
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "daemon/registry.h"
#include "daemon/target.h"
#include "scan/memcg.h"
#include "scan/procfs.h"
#include "slide_policy.h"
#include "slide_rt.h"

/* The memory cgroup of @pid if it is one slide may act on; else -errno with @why. */
static int usable_memcg(struct slide_rt *rt, pid_t pid, struct etm_memcg_target *t, char *why, size_t len)
{
	int err = etm_proc_memcg(pid, t->path, sizeof(t->path), &t->v1);

	if (err) {
		snprintf(why, len, "pid %d: no memory cgroup found in /proc/%d/cgroup", (int)pid, (int)pid);
		return err;
	}
	if (!strcmp(t->path, "/")) {
		if (rt->skipped[0])
			snprintf(why, len,
				 "pid %d is in the root memory cgroup: with %s the target must run in its own memory "
				 "cgroup (no per-process access tracking usable on this kernel: %.300s)",
				 (int)pid, rt->acc->name, rt->skipped);
		else
			snprintf(why, len,
				 "pid %d is in the root memory cgroup: %s (access_tracker) acts on whole memory "
				 "cgroups, the target must run in its own",
				 (int)pid, rt->acc->name);
		return -EINVAL;
	}
	if (rt->self_memcg[0] && !strcmp(t->path, rt->self_memcg)) {
		/* (the return value is used: a long reason is cut, and that is fine) */
		if (snprintf(why, len,
			     "pid %d shares etmemd's memory cgroup %s: with %s the target needs its own%s%.300s%s",
			     (int)pid, t->path, rt->acc->name,
			     rt->skipped[0] ? " (no per-process access tracking usable on this kernel: " : "",
			     rt->skipped, rt->skipped[0] ? ")" : "") >= (int)len)
			etm_debug("slide task %s: reason cut to %zu bytes", rt->name, len);
		return -EINVAL;
	}
	return 0;
}

/* Why @t may not be reclaimed ("" when it is the task's alone): a new string. */
static char *memcg_verdict(struct slide_rt *rt, const struct etm_memcg_target *t, const pid_t *pids, size_t n)
{
	struct etm_memcg_dir d;
	char comm[32];
	pid_t other = 0;
	int err = etm_memcg_dir_of(t->path, t->v1, &d);

	if (!err)
		err = etm_target_memcg_foreign(d.dir, pids, n, &other, comm, sizeof(comm));
	if (err == 1)
		return g_strdup_printf("memory cgroup %s holds pid %d (%s), which is not the task's: %s would "
				       "reclaim its memory too (memcg_shared=yes allows it)",
				       t->path, (int)other, comm, rt->acc->name);
	if (err)
		return g_strdup_printf("memory cgroup %s: cannot tell whether it holds processes other than the "
				       "task's (%s)",
				       t->path, strerror(-err));
	return g_strdup("");
}

/*
 * A reclaimer reclaims the whole memory cgroup @t: unless memcg_shared=yes,
 * it must hold nothing but the task's processes (@pids and what they
 * started), in it and in every cgroup below it. 0, or -EPERM with @why.
 * @verdicts caches the answer per cgroup path for one pass over @pids.
 */
static int exclusive_memcg(struct slide_rt *rt, const struct etm_memcg_target *t, const pid_t *pids, size_t n,
			   GHashTable *verdicts, char *why, size_t len)
{
	const char *cached;

	if (rt->memcg_shared)
		return 0;
	cached = g_hash_table_lookup(verdicts, t->path);
	if (!cached) {
		cached = memcg_verdict(rt, t, pids, n);
		g_hash_table_insert(verdicts, g_strdup(t->path), (gpointer)cached);
	}
	if (!cached[0])
		return 0;
	snprintf(why, len, "%s", cached);
	return -EPERM;
}

/* Per cgroup path: "" when exclusive to the task, else why not. */
static GHashTable *verdicts_new(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

size_t slide_memcg_targets(struct slide_rt *rt, const struct etm_meminfo *mi, const pid_t *pids, size_t n,
			   struct etm_memcg_target *t)
{
	g_autoptr(GHashTable) verdicts = verdicts_new();
	size_t nt = 0;
	char why[512];

	for (size_t i = 0; i < n; i++) {
		struct etm_proc_status st;

		if (etm_proc_status(pids[i], &st))
			continue;
		if (usable_memcg(rt, pids[i], &t[nt], why, sizeof(why))) {
			slide_rt_error(rt, SLIDE_ERR_MEMCG, "%s", why);
			continue;
		}
		/* A cgroup that gained a process of someone else's is skipped, not reclaimed. */
		if (exclusive_memcg(rt, &t[nt], pids, n, verdicts, why, sizeof(why))) {
			slide_rt_error(rt, SLIDE_ERR_MEMCG, "%s; not reclaimed", why);
			continue;
		}
		t[nt].swap = slide_gate_check(rt->sysmem, rt->swap_threshold, mi, &st) == SLIDE_GATE_SWAP;
		if (!t[nt].swap) {
			pthread_mutex_lock(&rt->lock);
			rt->cyc_gated++;
			pthread_mutex_unlock(&rt->lock);
		}
		nt++;
	}
	return nt;
}

int slide_memcg_precheck(struct slide_rt *rt, struct task *tk)
{
	g_autoptr(GHashTable) verdicts = verdicts_new();
	struct etm_memcg_target t;
	pid_t *pids = NULL;
	size_t n = 0, ok = 0;
	char why[512] = "";
	int err = etm_target_resolve(rt->type, rt->value, &pids, &n, NULL, 0);

	if (err)
		return 0; /* resolved again every cycle */
	for (size_t i = 0; i < n && !err; i++) {
		if (usable_memcg(rt, pids[i], &t, why, sizeof(why)))
			continue;
		err = exclusive_memcg(rt, &t, pids, n, verdicts, why, sizeof(why));
		ok++;
	}
	g_free(pids);
	if (err || (n && !ok)) {
		etm_task_report_error(tk, "%s", why);
		return err ? err : -EINVAL;
	}
	return 0;
}
