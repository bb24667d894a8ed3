/* SPDX-License-Identifier: MulanPSL-2.0 */
#include "scan/journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "scan/procfs.h"

int etm_proc_starttime_parse(const char *buf, size_t len, uint64_t *out)
{
	const char *p = NULL, *end = buf + len;
	int field = 2; /* the field ")" closes: comm may hold spaces and parentheses */

	for (size_t i = len; i > 0; i--)
		if (buf[i - 1] == ')') {
			p = buf + i;
			break;
		}
	if (!p)
		return -EINVAL;
	while (p < end) {
		while (p < end && *p == ' ')
			p++;
		if (p == end)
			break;
		if (++field == 22) {
			int err = etm_parse_u64(&p, end, out);

			if (err)
				return err;
			return p < end && *p != ' ' && *p != '\n' ? -EINVAL : 0;
		}
		while (p < end && *p != ' ')
			p++;
	}
	return -EINVAL;
}

static int proc_starttime(pid_t pid, uint64_t *out)
{
	char path[64], *buf;
	size_t len;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((err = etm_read_file(path, &buf, &len, 4096)))
		return err;
	err = etm_proc_starttime_parse(buf, len, out);
	free(buf);
	return err;
}

int etm_owner_self(struct etm_owner *o)
{
	o->pid = getpid();
	return proc_starttime(o->pid, &o->start);
}

bool etm_owner_alive(const struct etm_owner *o)
{
	uint64_t st;

	return o->pid > 0 && !proc_starttime(o->pid, &st) && st == o->start;
}

int etm_owner_parse(const char **p, const char *end, struct etm_owner *o)
{
	const char *q = *p;
	uint64_t a, b;

	if (end - q < 6 || memcmp(q, "owner ", 6))
		return -EINVAL;
	q += 6;
	if (etm_parse_u64(&q, end, &a) || q == end || *q++ != ' ' || etm_parse_u64(&q, end, &b) || !a || a > INT32_MAX)
		return -EINVAL;
	o->pid = (pid_t)a;
	o->start = b;
	*p = q;
	return 0;
}

int etm_journal_dir_open(const char *jdir, bool create)
{
	struct stat st;
	int fd;

	if (create && mkdir(jdir, 0700) && errno != EEXIST)
		return -errno;
	fd = open(jdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		int err = -errno;

		close(fd);
		return err;
	}
	if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 022)) {
		etm_warn("journal %s: not a private directory of root (owner %u, mode %04o): not used", jdir,
			 (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		close(fd);
		return -EPERM;
	}
	return fd;
}

int etm_journal_read(int dfd, const char *name, char *buf, size_t *len)
{
	ssize_t n;
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, ETM_JOURNAL_REC_MAX + 1);
	close(fd);
	if (n < 0)
		return -errno;
	if ((size_t)n > ETM_JOURNAL_REC_MAX)
		return -EFBIG;
	*len = (size_t)n;
	return 0;
}

int etm_journal_put(int dfd, const char *name, const char *buf, size_t len, bool excl)
{
	char tmp[96];
	ssize_t w;
	int fd, err = 0;

	/* A private name per writer: two threads never share a half-written file. */
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s" ETM_JOURNAL_TMP "%d.%d", name, (int)getpid(), (int)gettid()) >=
	    sizeof(tmp))
		return -ENAMETOOLONG;
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	w = write(fd, buf, len);
	if (w < 0)
		err = -errno;
	else if ((size_t)w != len)
		err = -EIO;
	close(fd);
	/* link() fails with EEXIST where O_EXCL would, but never exposes a partial record. */
	if (!err && (excl ? linkat(dfd, tmp, dfd, name, 0) : renameat(dfd, tmp, dfd, name)))
		err = -errno;
	if (excl || err)
		unlinkat(dfd, tmp, 0);
	return err;
}

bool etm_journal_is_tmp(const char *name)
{
	return strstr(name, ETM_JOURNAL_TMP) != NULL;
}

void etm_journal_sweep_tmp(int dfd, const char *name)
{
	struct stat st;

	/* A writer holds its temporary file for microseconds: an old one is a crash's leftover. */
	if (!fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) && time(NULL) - st.st_mtime > 60)
		unlinkat(dfd, name, 0);
}

int etm_journal_recover(const char *jdir, const char *prefix, etm_journal_undo_fn undo, void *arg)
{
	struct dirent *de;
	DIR *dir;
	int dfd, err = 0;

	if ((dfd = etm_journal_dir_open(jdir, false)) < 0)
		return dfd == -ENOENT ? 0 : dfd;
	if (!(dir = fdopendir(dfd))) {
		err = -errno;
		close(dfd);
		return err;
	}
	while ((de = readdir(dir))) {
		char buf[ETM_JOURNAL_REC_MAX + 1];
		size_t n;
		int e;

		if (strncmp(de->d_name, prefix, strlen(prefix)))
			continue;
		if (etm_journal_is_tmp(de->d_name)) {
			etm_journal_sweep_tmp(dfd, de->d_name);
			continue;
		}
		if ((e = etm_journal_read(dfd, de->d_name, buf, &n))) {
			etm_warn("journal %s/%s: unreadable (%s): left in place", jdir, de->d_name, strerror(-e));
			err = e;
			continue;
		}
		e = undo(de->d_name, buf, n, arg);
		if (!e)
			unlinkat(dfd, de->d_name, 0);
		else if (e < 0)
			err = e;
	}
	closedir(dir);
	return err;
}
