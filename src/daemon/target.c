/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Task targets: which live processes a `type=pid|name` task covers. One
 * /proc scan per call gives every process's comm and parent, so matching by
 * name and following descendants to any depth cost the same single pass
 * (the original ran pgrep, took the first match, and went one level deep).
 */
#include "target.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "scan/parse.h"
#include "scan/proc_stat.h"

/* include/linux/sched.h: PF_KTHREAD. */
#define ETM_PF_KTHREAD 0x00200000UL
/* pid of kthreadd: it and its children are kernel threads. */
#define ETM_KTHREADD_PID 2

bool etm_target_name_valid(const char *name)
{
	size_t len;

	if (!name)
		return false;
	len = strlen(name);
	if (len == 0 || len > ETM_TASK_VALUE_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		/* The spec's set: letters, digits, and . / % _ - */
		if (!(isascii(c) && isalnum(c)) && !strchr("./%_-", c))
			return false;
	}
	return true;
}

/* A pid as /proc names it (scan/parse.h); -1 when invalid. */
static long pid_value(const char *value)
{
	pid_t pid;

	return etm_pid_parse(value, &pid) ? -1 : pid;
}

bool etm_target_pid_valid(const char *value)
{
	return pid_value(value) > 0;
}

int etm_parse_proc_stat(const char *buf, size_t len, pid_t *ppid, char *comm, size_t comm_len)
{
	struct etm_proc_stat st;
	int err = etm_proc_stat_parse(buf, len, ETM_STAT_PPID, &st);

	if (err)
		return err;
	if (ppid)
		*ppid = st.ppid;
	if (comm && comm_len)
		snprintf(comm, comm_len, "%s", st.comm);
	return 0;
}

struct proc_ent {
	pid_t pid;
	pid_t ppid;
	bool match;
};

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

static int cmp_ent_ppid(const void *a, const void *b)
{
	const struct proc_ent *x = a, *y = b;

	if (x->ppid != y->ppid)
		return (x->ppid > y->ppid) - (x->ppid < y->ppid);
	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Index of the first entry whose ppid is @ppid in the ppid-sorted @ents, or n. */
static size_t first_child(const struct proc_ent *ents, size_t n, pid_t ppid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ents[mid].ppid < ppid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int etm_target_resolve(const char *type, const char *value, pid_t **pids, size_t *n)
{
	GArray *ents, *out, *stack;
	struct dirent *de;
	bool by_name;
	long want_pid = 0;
	int proc_fd;
	DIR *dir;

	*pids = NULL;
	*n = 0;
	if (!type || !value)
		return -EINVAL;
	if (strcmp(type, "name") == 0) {
		if (!etm_target_name_valid(value))
			return -EINVAL;
		by_name = true;
	} else if (strcmp(type, "pid") == 0) {
		want_pid = pid_value(value);
		if (want_pid <= 0)
			return -EINVAL;
		by_name = false;
	} else {
		return -EINVAL;
	}

	proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (proc_fd < 0)
		return -errno;
	dir = fdopendir(proc_fd);
	if (!dir) {
		int rc = -errno;

		close(proc_fd);
		return rc;
	}
	ents = g_array_new(FALSE, FALSE, sizeof(struct proc_ent));
	while ((de = readdir(dir)) != NULL) {
		struct proc_ent e = { 0 };
		struct etm_proc_stat st;
		long pid = pid_value(de->d_name);

		if (pid <= 0)
			continue;
		/* Gone since readdir, or unreadable: not a target any more. */
		if (etm_proc_stat_read(dirfd(dir), (pid_t)pid, ETM_STAT_FLAGS, &st))
			continue;
		/* Kernel threads are never targets, nor are their "children". */
		if ((st.flags & ETM_PF_KTHREAD) || pid == ETM_KTHREADD_PID || st.ppid == ETM_KTHREADD_PID)
			continue;
		e.pid = (pid_t)pid;
		e.ppid = st.ppid;
		e.match = by_name ? strcmp(st.comm, value) == 0 : pid == want_pid;
		g_array_append_val(ents, e);
	}
	closedir(dir); /* closes proc_fd */

	/*
	 * Descendants: depth-first over a ppid-sorted array; @seen keeps a pid
	 * met twice (a reparenting race can look like a cycle) from being
	 * walked again.
	 */
	g_array_sort(ents, cmp_ent_ppid);
	out = g_array_new(FALSE, FALSE, sizeof(pid_t));
	stack = g_array_new(FALSE, FALSE, sizeof(pid_t));
	for (size_t i = 0; i < ents->len; i++) {
		struct proc_ent *e = &g_array_index(ents, struct proc_ent, i);

		if (e->match)
			g_array_append_val(stack, e->pid);
	}
	{
		GHashTable *seen = g_hash_table_new(g_direct_hash, g_direct_equal);

		while (stack->len) {
			pid_t p = g_array_index(stack, pid_t, stack->len - 1);
			size_t k;

			g_array_set_size(stack, stack->len - 1);
			if (g_hash_table_contains(seen, GINT_TO_POINTER(p)))
				continue;
			g_hash_table_add(seen, GINT_TO_POINTER(p));
			g_array_append_val(out, p);
			for (k = first_child((struct proc_ent *)(void *)ents->data, ents->len, p);
			     k < ents->len && g_array_index(ents, struct proc_ent, k).ppid == p; k++)
				g_array_append_val(stack, g_array_index(ents, struct proc_ent, k).pid);
		}
		g_hash_table_destroy(seen);
	}
	g_array_free(stack, TRUE);
	g_array_free(ents, TRUE);

	g_array_sort(out, cmp_pid);
	*n = out->len;
	*pids = (pid_t *)(void *)g_array_free(out, *n == 0);
	return 0;
}
