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

/* The kernel's PID_MAX_LIMIT on 64-bit: no pid is ever above it. */
#define ETM_PID_MAX 4194304
/* include/linux/sched.h: PF_KTHREAD. */
#define ETM_PF_KTHREAD 0x00200000UL
/* pid of kthreadd: it and its children are kernel threads. */
#define ETM_KTHREADD_PID 2
/*
 * /proc/PID/stat is ~300 bytes; the fields we need (up to flags) sit within
 * comm (≤ 64 bytes of escaped text on any kernel) + ~100 bytes.
 */
#define STAT_READ_MAX 1024
/* comm is at most 15 bytes (TASK_COMM_LEN - 1); kernel workers can be longer (64). */
#define COMM_MAX 64

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

/* A decimal pid 1..ETM_PID_MAX, digits only, no leading zero; -1 when invalid. */
static long pid_value(const char *value)
{
	long v = 0;
	size_t i;

	if (!value || value[0] < '1' || value[0] > '9')
		return -1;
	for (i = 0; value[i]; i++) {
		if (value[i] < '0' || value[i] > '9' || i >= 7)
			return -1;
		v = v * 10 + (value[i] - '0');
	}
	return v <= ETM_PID_MAX ? v : -1;
}

bool etm_target_pid_valid(const char *value)
{
	return pid_value(value) > 0;
}

/* Parse a decimal integer field ending at a space or the end; advances *p. */
static int stat_field(const char **p, const char *end, unsigned long long *out, bool allow_neg)
{
	const char *s = *p;
	unsigned long long v = 0;
	bool neg = false;

	if (s < end && *s == '-' && allow_neg) {
		neg = true;
		s++;
	}
	if (s >= end || *s < '0' || *s > '9')
		return -EINVAL;
	while (s < end && *s >= '0' && *s <= '9') {
		if (v > (~0ULL - 9) / 10)
			return -ERANGE;
		v = v * 10 + (unsigned long long)(*s - '0');
		s++;
	}
	if (s < end && *s != ' ' && *s != '\n')
		return -EINVAL;
	if (s < end && *s == ' ')
		s++;
	*p = s;
	*out = neg ? 0 : v; /* only tty_nr/tpgid may be negative; their value is unused */
	return 0;
}

/*
 * "PID (COMM) S PPID PGRP SESSION TTY_NR TPGID FLAGS ...": comm may hold
 * spaces and ')' itself, so it runs from the first '(' to the LAST ')'.
 */
static int parse_stat(const char *buf, size_t len, pid_t *ppid, unsigned long *flags, char *comm, size_t comm_len)
{
	const char *open, *close = NULL, *p, *end = buf + len;
	unsigned long long v;
	size_t n;

	if (!buf)
		return -EINVAL;
	open = memchr(buf, '(', len);
	if (!open)
		return -EINVAL;
	for (p = open + 1; p < end; p++) {
		if (*p == ')')
			close = p;
	}
	if (!close)
		return -EINVAL;
	n = (size_t)(close - open - 1);
	if (comm && comm_len) {
		if (n >= comm_len)
			n = comm_len - 1;
		memcpy(comm, open + 1, n);
		comm[n] = '\0';
		/* A NUL inside comm would truncate matching silently: refuse. */
		if (memchr(open + 1, '\0', (size_t)(close - open - 1)))
			return -EINVAL;
	}
	p = close + 1;
	/* " S " : one state letter between single spaces. */
	if (end - p < 3 || p[0] != ' ' || !isalpha((unsigned char)p[1]) || p[2] != ' ')
		return -EINVAL;
	p += 3;
	if (stat_field(&p, end, &v, false) || v > ETM_PID_MAX) /* ppid */
		return -EINVAL;
	if (ppid)
		*ppid = (pid_t)v;
	if (!flags)
		return 0;
	/* pgrp, session, tty_nr, tpgid (may be -1), then flags. */
	for (int i = 0; i < 4; i++) {
		if (stat_field(&p, end, &v, true))
			return -EINVAL;
	}
	if (stat_field(&p, end, &v, false))
		return -EINVAL;
	*flags = (unsigned long)v;
	return 0;
}

int etm_parse_proc_stat(const char *buf, size_t len, pid_t *ppid, char *comm, size_t comm_len)
{
	return parse_stat(buf, len, ppid, NULL, comm, comm_len);
}

struct proc_ent {
	pid_t pid;
	pid_t ppid;
	bool match;
};

/* Read /proc/PID/stat of @pid; -ENOENT/-ESRCH when it has gone. */
static int read_stat(int proc_fd, pid_t pid, pid_t *ppid, unsigned long *flags, char *comm, size_t comm_len)
{
	char path[32], buf[STAT_READ_MAX];
	ssize_t r;
	int fd;

	snprintf(path, sizeof(path), "%d/stat", (int)pid);
	fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	do {
		r = read(fd, buf, sizeof(buf));
	} while (r < 0 && errno == EINTR);
	close(fd);
	if (r < 0)
		return -errno;
	/* A line as long as the buffer is absurd: maybe cut before flags; parse fails then. */
	return parse_stat(buf, (size_t)r, ppid, flags, comm, comm_len);
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
		char comm[COMM_MAX + 1];
		unsigned long flags = 0;
		long pid = pid_value(de->d_name);

		if (pid <= 0)
			continue;
		/* Gone since readdir, or unreadable: not a target any more. */
		if (read_stat(dirfd(dir), (pid_t)pid, &e.ppid, &flags, comm, sizeof(comm)))
			continue;
		/* Kernel threads are never targets, nor are their "children". */
		if ((flags & ETM_PF_KTHREAD) || pid == ETM_KTHREADD_PID || e.ppid == ETM_KTHREADD_PID)
			continue;
		e.pid = (pid_t)pid;
		e.match = by_name ? strcmp(comm, value) == 0 : pid == want_pid;
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
