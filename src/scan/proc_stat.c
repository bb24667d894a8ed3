/* SPDX-License-Identifier: MulanPSL-2.0 */
#include "scan/proc_stat.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "scan/parse.h"

/*
 * /proc/PID/stat is ~300 bytes; the fields read here (up to starttime) sit
 * within comm (at most 64 bytes) + 20 fields of at most 21 bytes each.
 */
#define STAT_READ_MAX 1024

/* One decimal field (with a leading '-' when @sign) ending at a space, a newline or the end; past one space. */
static int field(const char **pp, const char *end, bool sign, uint64_t *out)
{
	const char *p = *pp;
	bool neg = sign && p < end && *p == '-';

	if (neg)
		p++;
	if (etm_parse_u64(&p, end, out) || (p < end && *p != ' ' && *p != '\n'))
		return -EINVAL;
	if (p < end && *p == ' ')
		p++;
	if (neg)
		*out = 0; /* a negative field's value is never used */
	*pp = p;
	return 0;
}

/* "(COMM) S ": comm into @st, *@pp past the state's space. */
static int comm_state(const char *buf, size_t len, const char **pp, struct etm_proc_stat *st)
{
	const char *open = memchr(buf, '(', len), *close = NULL, *p, *end = buf + len;
	size_t n;

	if (!open)
		return -EINVAL;
	for (p = open + 1; p < end; p++)
		if (*p == ')')
			close = p;
	if (!close)
		return -EINVAL;
	n = (size_t)(close - open - 1);
	/* A NUL inside comm would truncate matching silently: refuse. */
	if (memchr(open + 1, '\0', n))
		return -EINVAL;
	memcpy(st->comm, open + 1, n < ETM_COMM_MAX ? n : ETM_COMM_MAX);
	st->comm[n < ETM_COMM_MAX ? n : ETM_COMM_MAX] = '\0';
	p = close + 1;
	/* " S " : one state letter between single spaces. */
	if (end - p < 3 || p[0] != ' ' || !isalpha((unsigned char)p[1]) || p[2] != ' ')
		return -EINVAL;
	st->state = p[1];
	*pp = p + 3;
	return 0;
}

int etm_proc_stat_parse(const char *buf, size_t len, enum etm_stat_upto upto, struct etm_proc_stat *st)
{
	const char *p, *end;
	uint64_t v;

	memset(st, 0, sizeof(*st));
	if (!buf || comm_state(buf, len, &p, st))
		return -EINVAL;
	end = buf + len;
	for (unsigned f = ETM_STAT_PPID; f <= (unsigned)upto; f++) {
		bool keep = f == ETM_STAT_PPID || f == ETM_STAT_FLAGS || f == ETM_STAT_STARTTIME;

		if (field(&p, end, !keep, &v))
			return -EINVAL;
		if (f == ETM_STAT_PPID && v > ETM_PID_MAX)
			return -EINVAL;
		if (f == ETM_STAT_PPID)
			st->ppid = (pid_t)v;
		else if (f == ETM_STAT_FLAGS)
			st->flags = (unsigned long)v;
		else if (f == ETM_STAT_STARTTIME)
			st->starttime = v;
	}
	return 0;
}

int etm_proc_stat_read(int procfd, pid_t pid, enum etm_stat_upto upto, struct etm_proc_stat *st)
{
	char path[32], buf[STAT_READ_MAX];
	ssize_t r;
	int fd;

	if (procfd < 0)
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	else
		snprintf(path, sizeof(path), "%d/stat", (int)pid);
	fd = openat(procfd < 0 ? AT_FDCWD : procfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	do {
		r = read(fd, buf, sizeof(buf));
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		r = -errno;
	close(fd);
	/* A line as long as the buffer is absurd: maybe cut before the field wanted; the parse fails then. */
	return r < 0 ? (int)r : etm_proc_stat_parse(buf, (size_t)r, upto, st);
}
