/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Task targets: which live processes a `type=pid|name` task covers. One
 * /proc scan per call gives every process's comm and parent, so matching by
 * name and following descendants to any depth cost the same single pass
 * (the original ran pgrep, took the first match, and went one level deep).
 *
 * A target covers its processes' descendants, so some processes must never
 * be targets: pid 1 (its descendants are the whole host), kernel threads,
 * and etmemd with its ancestors (their descendants include etmemd and
 * whatever runs beside it). And a memory cgroup is reclaimed as a whole, so
 * memcg-scope trackers need to know whether a cgroup holds anything else.
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
/* etmemd's ancestry, and a new process's way up to the task, are followed this deep at most. */
#define LINEAGE_MAX 256
/* Cgroups below a memory cgroup, and their depth, checked at most (cgroup v2 allows far more). */
#define MEMCG_WALK_MAX_DIRS 4096
#define MEMCG_WALK_MAX_DEPTH 64
/* cgroup.procs of one cgroup: 4 million pids of 8 bytes, more than the kernel's pid_max. */
#define CGROUP_PROCS_MAX (32 << 20)

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

/* ppid, flags (when asked) and comm cut to @comm_len from a /proc/PID/stat text (scan/proc_stat.h). */
static int stat_fields(const struct etm_proc_stat *st, pid_t *ppid, unsigned long *flags, char *comm, size_t comm_len)
{
	if (ppid)
		*ppid = st->ppid;
	if (flags)
		*flags = st->flags;
	if (comm && comm_len)
		snprintf(comm, comm_len, "%s", st->comm);
	return 0;
}

int etm_parse_proc_stat(const char *buf, size_t len, pid_t *ppid, char *comm, size_t comm_len)
{
	struct etm_proc_stat st;
	int err = etm_proc_stat_parse(buf, len, ETM_STAT_PPID, &st);

	return err ? err : stat_fields(&st, ppid, NULL, comm, comm_len);
}

struct proc_ent {
	pid_t pid;
	pid_t ppid;
	bool match;
};

/* Copy @comm into @out printable (a comm is any bytes but NUL). */
static void printable_comm(const char *comm, char *out, size_t len)
{
	size_t i;

	for (i = 0; comm[i] && i + 1 < len; i++)
		out[i] = g_ascii_isprint(comm[i]) ? comm[i] : '?';
	out[i] = '\0';
}

/* Read /proc/PID/stat of @pid; -ENOENT/-ESRCH when it has gone. */
static int read_stat(int proc_fd, pid_t pid, pid_t *ppid, unsigned long *flags, char *comm, size_t comm_len)
{
	struct etm_proc_stat st;
	int err = etm_proc_stat_read(proc_fd, pid, flags ? ETM_STAT_FLAGS : ETM_STAT_PPID, &st);

	return err ? err : stat_fields(&st, ppid, flags, comm, comm_len);
}

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

/* etmemd (the caller) and its ancestors up to pid 1, as a set. */
static GHashTable *self_lineage(int proc_fd)
{
	GHashTable *set = g_hash_table_new(g_direct_hash, g_direct_equal);
	pid_t p = getpid();

	for (int i = 0; i < LINEAGE_MAX && p > 0; i++) {
		pid_t ppid = 0;

		g_hash_table_add(set, GINT_TO_POINTER(p));
		if (p == 1 || read_stat(proc_fd, p, &ppid, NULL, NULL, 0))
			break;
		p = ppid;
	}
	return set;
}

/* Why @pid may never be a target (see the top of the file), into @why; false when it may be. */
static bool forbidden(pid_t pid, const char *comm, bool kthread, GHashTable *lineage, char *why, size_t len)
{
	char c[ETM_COMM_MAX + 1];

	printable_comm(comm, c, sizeof(c));
	if (pid == 1)
		snprintf(why, len, "pid 1 (%s) is init: a target covers its descendants, that is every process", c);
	else if (kthread)
		snprintf(why, len, "pid %d (%s) is a kernel thread", (int)pid, c);
	else if (pid == getpid())
		snprintf(why, len, "pid %d (%s) is etmemd itself", (int)pid, c);
	else if (g_hash_table_contains(lineage, GINT_TO_POINTER(pid)))
		snprintf(why, len,
			 "pid %d (%s) is an ancestor of etmemd: a target covers its descendants, etmemd among them",
			 (int)pid, c);
	else
		return false;
	return true;
}

int etm_target_check(const char *type, const char *value, char *why, size_t why_len)
{
	pid_t *pids = NULL;
	size_t n = 0;
	int rc;

	if (type && value && strcmp(type, "pid") == 0 && pid_value(value) == 1) {
		snprintf(why, why_len, "pid 1 is init: a target covers its descendants, that is every process");
		return -EPERM;
	}
	rc = etm_target_resolve(type, value, &pids, &n, why, why_len);
	g_free(pids);
	if (rc)
		return rc;
	return why[0] ? -EPERM : 0;
}

/* What one resolution looks for, and what it found refused. */
struct match {
	bool by_name;
	const char *name;
	long pid;
	GHashTable *lineage;
	char *why;
	size_t why_len;
};

/*
 * Every user process in /proc, each with its parent and whether it matches;
 * a forbidden match is left unmatched (the first one said in m->why).
 */
static int scan_proc(struct match *m, GArray *ents)
{
	int proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	DIR *dir;

	if (proc_fd < 0)
		return -errno;
	dir = fdopendir(proc_fd);
	if (!dir) {
		int rc = -errno;

		close(proc_fd);
		return rc;
	}
	m->lineage = self_lineage(dirfd(dir));
	while ((de = readdir(dir)) != NULL) {
		struct proc_ent e = { 0 };
		char comm[ETM_COMM_MAX + 1], refusal[256];
		unsigned long flags = 0;
		long pid = pid_value(de->d_name);
		bool kthread;

		if (pid <= 0)
			continue;
		/* Gone since readdir, or unreadable: not a target any more. */
		if (read_stat(dirfd(dir), (pid_t)pid, &e.ppid, &flags, comm, sizeof(comm)))
			continue;
		kthread = (flags & ETM_PF_KTHREAD) || pid == ETM_KTHREADD_PID || e.ppid == ETM_KTHREADD_PID;
		e.pid = (pid_t)pid;
		e.match = m->by_name ? strcmp(comm, m->name) == 0 : pid == m->pid;
		if (e.match && forbidden(e.pid, comm, kthread, m->lineage, refusal, sizeof(refusal))) {
			e.match = false;
			if (m->why && m->why_len && !m->why[0])
				snprintf(m->why, m->why_len, "%s", refusal);
		}
		/* Kernel threads are never targets, nor are their "children". */
		if (!kthread)
			g_array_append_val(ents, e);
	}
	closedir(dir); /* closes proc_fd */
	return 0;
}

/*
 * The matches and all their descendants: depth-first over the ppid-sorted
 * @ents; @seen keeps a pid met twice (a reparenting race can look like a
 * cycle) from being walked again, and etmemd's lineage is never entered.
 */
static GArray *descendants(GArray *ents, GHashTable *lineage)
{
	GArray *out = g_array_new(FALSE, FALSE, sizeof(pid_t)), *stack = g_array_new(FALSE, FALSE, sizeof(pid_t));
	GHashTable *seen = g_hash_table_new(g_direct_hash, g_direct_equal);

	g_array_sort(ents, cmp_ent_ppid);
	for (size_t i = 0; i < ents->len; i++) {
		struct proc_ent *e = &g_array_index(ents, struct proc_ent, i);

		if (e->match)
			g_array_append_val(stack, e->pid);
	}
	while (stack->len) {
		pid_t p = g_array_index(stack, pid_t, stack->len - 1);

		g_array_set_size(stack, stack->len - 1);
		if (g_hash_table_contains(seen, GINT_TO_POINTER(p)) ||
		    g_hash_table_contains(lineage, GINT_TO_POINTER(p)))
			continue;
		g_hash_table_add(seen, GINT_TO_POINTER(p));
		g_array_append_val(out, p);
		for (size_t k = first_child((struct proc_ent *)(void *)ents->data, ents->len, p);
		     k < ents->len && g_array_index(ents, struct proc_ent, k).ppid == p; k++)
			g_array_append_val(stack, g_array_index(ents, struct proc_ent, k).pid);
	}
	g_hash_table_destroy(seen);
	g_array_free(stack, TRUE);
	g_array_sort(out, cmp_pid);
	return out;
}

int etm_target_resolve(const char *type, const char *value, pid_t **pids, size_t *n, char *why, size_t why_len)
{
	struct match m = { .name = value, .why = why, .why_len = why_len };
	GArray *ents, *out;
	int rc;

	*pids = NULL;
	*n = 0;
	if (why && why_len)
		why[0] = '\0';
	if (!type || !value)
		return -EINVAL;
	if (strcmp(type, "name") == 0) {
		if (!etm_target_name_valid(value))
			return -EINVAL;
		m.by_name = true;
	} else if (strcmp(type, "pid") == 0) {
		m.pid = pid_value(value);
		if (m.pid <= 0)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	ents = g_array_new(FALSE, FALSE, sizeof(struct proc_ent));
	rc = scan_proc(&m, ents);
	if (rc) {
		g_array_free(ents, TRUE);
		return rc;
	}
	out = descendants(ents, m.lineage);
	g_array_free(ents, TRUE);
	g_hash_table_destroy(m.lineage);
	*n = out->len;
	*pids = (pid_t *)(void *)g_array_free(out, *n == 0);
	return 0;
}

/* Is @p one of the task's processes (@pids, ascending), or a process one of them started since? */
static bool task_member(int proc_fd, pid_t p, const pid_t *pids, size_t n)
{
	for (int depth = 0; depth < LINEAGE_MAX && p > 1; depth++) {
		pid_t ppid = 0;

		if (bsearch(&p, pids, n, sizeof(*pids), cmp_pid))
			return true;
		/* Gone since the cgroup was read: nothing of it is left to reclaim. */
		if (read_stat(proc_fd, p, &ppid, NULL, NULL, 0))
			return true;
		p = ppid;
	}
	return false;
}

/* cgroup.procs of the cgroup open at @dfd into a new buffer; an empty one when it is not readable here. */
static int read_procs(int dfd, GString *buf)
{
	char chunk[65536];
	ssize_t r;
	int fd = openat(dfd, "cgroup.procs", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	g_string_truncate(buf, 0);
	if (fd < 0)
		return -errno;
	while ((r = read(fd, chunk, sizeof(chunk))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int rc = -errno;

			close(fd);
			/* v2 threaded cgroups: their threaded domain lists the processes. */
			return rc == -EOPNOTSUPP ? 0 : rc;
		}
		if (buf->len + (size_t)r > CGROUP_PROCS_MAX) {
			close(fd);
			return -E2BIG;
		}
		g_string_append_len(buf, chunk, r);
	}
	close(fd);
	return 0;
}

struct memcg_walk {
	int proc_fd;
	const pid_t *pids;
	size_t n;
	unsigned dirs;
	GString *buf;
	pid_t *foreign;
};

/* The cgroup open at @dfd (closed here) and every cgroup below it. 0, 1 (foreign) or -errno. */
static int walk_memcg(struct memcg_walk *w, int dfd, int depth)
{
	struct dirent *de;
	DIR *dir;
	int rc;

	if (++w->dirs > MEMCG_WALK_MAX_DIRS || depth > MEMCG_WALK_MAX_DEPTH) {
		close(dfd);
		return -E2BIG;
	}
	rc = read_procs(dfd, w->buf);
	for (const char *p = w->buf->str; rc == 0 && *p;) {
		const char *end = p, *le = p + strcspn(p, "\n");
		uint64_t v;

		if (etm_parse_u64(&end, le, &v) || end != le || !etm_pid_valid(v)) {
			rc = -EINVAL;
			break;
		}
		if (!task_member(w->proc_fd, (pid_t)v, w->pids, w->n)) {
			*w->foreign = (pid_t)v;
			rc = 1;
		}
		p = *end ? end + 1 : end;
	}
	dir = rc == 0 ? fdopendir(dfd) : NULL;
	if (!dir) {
		rc = rc ? rc : -errno;
		close(dfd);
		return rc;
	}
	while (rc == 0 && (de = readdir(dir)) != NULL) {
		int sub;

		if (de->d_name[0] == '.' || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
			continue;
		sub = openat(dirfd(dir), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			/* DT_UNKNOWN that is no directory, or a child removed meanwhile. */
			if (errno != ENOTDIR && errno != ENOENT)
				rc = -errno;
			continue;
		}
		rc = walk_memcg(w, sub, depth + 1);
	}
	closedir(dir);
	return rc;
}

int etm_target_memcg_foreign(const char *dir, const pid_t *pids, size_t n, pid_t *foreign, char *comm, size_t comm_len)
{
	struct memcg_walk w = { .pids = pids, .n = n, .foreign = foreign };
	char raw[ETM_COMM_MAX + 1] = "?";
	pid_t ppid;
	int dfd, rc;

	*foreign = 0;
	if (comm && comm_len)
		comm[0] = '\0';
	w.proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w.proc_fd < 0)
		return -errno;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		rc = -errno;
		close(w.proc_fd);
		return rc;
	}
	w.buf = g_string_new(NULL);
	rc = walk_memcg(&w, dfd, 0);
	if (rc == 1 && comm && comm_len) {
		if (read_stat(w.proc_fd, *foreign, &ppid, NULL, raw, sizeof(raw)))
			snprintf(raw, sizeof(raw), "?");
		printable_comm(raw, comm, comm_len);
	}
	g_string_free(w.buf, TRUE);
	close(w.proc_fd);
	return rc;
}
