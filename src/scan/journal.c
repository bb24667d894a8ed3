/* SPDX-License-Identifier: MulanPSL-2.0 */
#include "scan/journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "scan/parse.h"
#include "scan/proc_stat.h"

int etm_owner_self(struct etm_owner *o)
{
	struct etm_proc_stat st;
	int err;

	o->pid = getpid();
	if ((err = etm_proc_stat_read(-1, o->pid, ETM_STAT_STARTTIME, &st)))
		return err;
	o->start = st.starttime;
	return 0;
}

int etm_owner_parse(const char **p, const char *end, struct etm_owner *o)
{
	const char *q = *p;
	uint64_t a, b;

	if (end - q < 6 || memcmp(q, "owner ", 6))
		return -EINVAL;
	q += 6;
	if (etm_parse_u64(&q, end, &a) || q == end || *q++ != ' ' || etm_parse_u64(&q, end, &b) || !etm_pid_valid(a))
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

/* Only root (or we) may have written it, and nobody else may change it. */
static int check_record(const char *name, int fd, struct stat *st)
{
	const char *why = NULL;

	if (fstat(fd, st))
		return -errno;
	if (!S_ISREG(st->st_mode))
		why = "not a regular file";
	else if (st->st_uid != 0 && st->st_uid != geteuid())
		why = "not owned by root";
	else if (st->st_mode & 022)
		why = "writable by group or others";
	if (!why)
		return 0;
	etm_warn("journal record %s (owner %u, mode %04o): %s: not a record of etmemd, left alone", name,
		 (unsigned)st->st_uid, (unsigned)(st->st_mode & 07777), why);
	return -EPERM;
}

/*
 * One try of etm_journal_claim(). -EAGAIN: the name meanwhile holds another
 * file (its owner replaced the record after our open): try again.
 */
static int claim_once(int dfd, const char *name, char *buf, size_t *len)
{
	struct stat st, now;
	ssize_t n;
	int fd, err;

	/* O_NONBLOCK: a FIFO planted under a record's name must not hang the start. */
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ELOOP)
			return -errno;
		etm_warn("journal record %s: a symbolic link: not a record of etmemd, left alone", name);
		return -EPERM;
	}
	if ((err = check_record(name, fd, &st)))
		goto fail;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		goto fail;
	}
	/* Locked; but the owner may have renamed a new record over this one, or removed it, before that. */
	if (fstatat(dfd, name, &now, AT_SYMLINK_NOFOLLOW)) {
		err = -errno;
		goto fail;
	}
	if (now.st_ino != st.st_ino || now.st_dev != st.st_dev) {
		err = -EAGAIN;
		goto fail;
	}
	n = read(fd, buf, ETM_JOURNAL_REC_MAX + 1);
	err = n < 0 ? -errno : (size_t)n > ETM_JOURNAL_REC_MAX ? -EFBIG : 0;
	if (err)
		goto fail;
	*len = (size_t)n;
	return fd;
fail:
	close(fd);
	return err;
}

int etm_journal_claim(int dfd, const char *name, char *buf, size_t *len)
{
	int fd = -EAGAIN;

	for (int i = 0; i < 3 && fd == -EAGAIN; i++)
		fd = claim_once(dfd, name, buf, len);
	/* Replaced three times while we looked: someone keeps writing it, so it is alive. */
	return fd == -EAGAIN ? -EBUSY : fd;
}

int etm_journal_put(int dfd, const char *name, const char *buf, size_t len, bool excl, int *lockfd)
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
	/* Locked before it is a record: no reader ever finds our record unlocked. */
	if (flock(fd, LOCK_EX | LOCK_NB))
		err = -errno;
	else if ((w = write(fd, buf, len)) < 0)
		err = -errno;
	else if ((size_t)w != len)
		err = -EIO;
	/* link() fails with EEXIST where O_EXCL would, but never exposes a partial record. */
	if (!err && (excl ? linkat(dfd, tmp, dfd, name, 0) : renameat(dfd, tmp, dfd, name)))
		err = -errno;
	if (excl || err)
		unlinkat(dfd, tmp, 0);
	if (err) {
		close(fd);
		return err;
	}
	/* The record replaced is no longer ours to hold. */
	if (*lockfd >= 0)
		close(*lockfd);
	*lockfd = fd;
	return 0;
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

/* One record at start-up: undone and removed when its owner is dead. */
static int recover_one(int dfd, const char *jdir, const char *name, etm_journal_undo_fn undo, void *arg)
{
	char buf[ETM_JOURNAL_REC_MAX + 1];
	size_t n;
	int fd = etm_journal_claim(dfd, name, buf, &n), e;

	if (fd == -EBUSY || fd == -ENOENT)
		return 0; /* a live owner's, or gone meanwhile */
	if (fd < 0) {
		if (fd != -EPERM)
			etm_warn("journal %s/%s: unreadable (%s): left in place", jdir, name, strerror(-fd));
		return fd;
	}
	e = undo(name, buf, n, arg);
	/* Removed while still locked: nobody can take it for a dead owner's meanwhile. */
	if (!e)
		unlinkat(dfd, name, 0);
	close(fd);
	return e;
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
		int e;

		if (strncmp(de->d_name, prefix, strlen(prefix)))
			continue;
		if (etm_journal_is_tmp(de->d_name)) {
			etm_journal_sweep_tmp(dfd, de->d_name);
			continue;
		}
		if ((e = recover_one(dfd, jdir, de->d_name, undo, arg)))
			err = e;
	}
	closedir(dir);
	return err;
}
