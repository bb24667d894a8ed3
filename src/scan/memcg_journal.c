/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The journal of cgroup v1 limit cuts in flight (see memcg_reclaim.h).
 *
 * Why: memcg_lru reclaims on v1 by lowering memory.limit_in_bytes and puts
 * the original back afterwards. If etmemd dies in between, the original value
 * existed only in its stack and the workload is left with a limit far below
 * its working set: an OOM kill waiting to happen. And two reclaims of one
 * memcg at once (two tasks, or two daemons) would each take the other's
 * lowered limit for the original and could restore the wrong one. One record
 * file per memcg, created O_EXCL, is both the lock and the undo log.
 */
#include "scan/memcg_reclaim.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "scan/procfs.h"

#define REC_MAGIC "etmem-memcg-limit 1\n"
#define REC_MAX 1024 /* a record is a few short lines */
#define NAME_PREFIX "memcg-"

/* Field 22 of /proc/PID/stat (start time in clock ticks since boot): a pid plus it names one process. */
int etm_proc_starttime_parse(const char *buf, size_t len, uint64_t *out)
{
	const char *p = NULL;
	int field = 2; /* the field ")" closes */

	for (size_t i = len; i > 0; i--)
		if (buf[i - 1] == ')') {
			p = buf + i;
			break;
		}
	if (!p)
		return -EINVAL;
	for (const char *end = buf + len; p < end;) {
		while (p < end && *p == ' ')
			p++;
		if (p == end)
			break;
		field++;
		if (field == 22) {
			uint64_t v = 0;
			const char *s = p;

			for (; p < end && *p >= '0' && *p <= '9'; p++) {
				if (v > (UINT64_MAX - 9) / 10)
					return -ERANGE;
				v = v * 10 + (uint64_t)(*p - '0');
			}
			if (p == s || (p < end && *p != ' ' && *p != '\n'))
				return -EINVAL;
			*out = v;
			return 0;
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

/* Is the record's owner still the process that wrote it? */
static bool owner_alive(const struct etm_memcg_journal_rec *r)
{
	uint64_t st;

	return r->owner > 0 && !proc_starttime(r->owner, &st) && st == r->owner_start;
}

int etm_memcg_journal_format(const struct etm_memcg_journal_rec *r, char *buf, size_t len)
{
	int n;

	/* The path is written last and runs to the end of its line: it may hold spaces. */
	if (strchr(r->dir, '\n'))
		return -EINVAL;
	n = snprintf(buf, len, REC_MAGIC "owner %d %" PRIu64 "\norig %" PRIu64 "\nlast %" PRIu64 "\ndir %s\n",
		     (int)r->owner, r->owner_start, r->orig, r->last, r->dir);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : n;
}

static int u64_of(const char **p, const char *end, uint64_t *v)
{
	const char *s = *p;

	*v = 0;
	for (; *p < end && **p >= '0' && **p <= '9'; (*p)++) {
		if (*v > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		*v = *v * 10 + (uint64_t)(**p - '0');
	}
	return *p == s ? -EINVAL : 0;
}

int etm_memcg_journal_parse(const char *buf, size_t len, struct etm_memcg_journal_rec *r)
{
	const char *p = buf, *end = buf + len;
	size_t ml = strlen(REC_MAGIC);
	unsigned seen = 0;

	memset(r, 0, sizeof(*r));
	if (len < ml || memcmp(buf, REC_MAGIC, ml))
		return -EINVAL;
	for (p += ml; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		uint64_t a, b;

		if (!nl)
			return -EINVAL; /* every line ends: a torn record is not trusted */
		if ((size_t)(le - p) > 6 && !memcmp(p, "owner ", 6)) {
			p += 6;
			if (u64_of(&p, le, &a) || p == le || *p++ != ' ' || u64_of(&p, le, &b) || p != le || !a ||
			    a > INT32_MAX)
				return -EINVAL;
			r->owner = (pid_t)a;
			r->owner_start = b;
			seen |= 1;
		} else if ((size_t)(le - p) > 5 && !memcmp(p, "orig ", 5)) {
			p += 5;
			if (u64_of(&p, le, &r->orig) || p != le)
				return -EINVAL;
			seen |= 2;
		} else if ((size_t)(le - p) > 5 && !memcmp(p, "last ", 5)) {
			p += 5;
			if (u64_of(&p, le, &r->last) || p != le)
				return -EINVAL;
			seen |= 4;
		} else if ((size_t)(le - p) > 4 && !memcmp(p, "dir ", 4)) {
			size_t dl = (size_t)(le - p) - 4;

			if (dl >= sizeof(r->dir) || p[4] != '/' || memchr(p + 4, '\0', dl))
				return -EINVAL;
			memcpy(r->dir, p + 4, dl);
			r->dir[dl] = '\0';
			seen |= 8;
		} else {
			return -EINVAL;
		}
		p = le + 1;
	}
	return seen == 15 && r->last <= r->orig ? 0 : -EINVAL;
}

/* The journal directory: created 0700 if missing; refused unless a root-owned (or ours) private directory. */
static int jdir_open(const char *jdir)
{
	struct stat st;
	int fd;

	if (mkdir(jdir, 0700) && errno != EEXIST)
		return -errno;
	fd = open(jdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		close(fd);
		return -errno;
	}
	if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 022)) {
		etm_warn("memcg journal %s: not a private directory of root (owner %u, mode %04o): not used", jdir,
			 (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		close(fd);
		return -EPERM;
	}
	return fd;
}

static void rec_name(const char *dir, char *name, size_t len)
{
	uint64_t h = 14695981039346656037ULL; /* FNV-1a 64 of the memcg directory */

	for (const unsigned char *p = (const unsigned char *)dir; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	snprintf(name, len, NAME_PREFIX "%016" PRIx64, h);
}

static int read_rec(int dfd, const char *name, struct etm_memcg_journal_rec *r)
{
	char buf[REC_MAX + 1];
	ssize_t n;
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0)
		return -errno;
	if ((size_t)n > REC_MAX)
		return -EFBIG;
	return etm_memcg_journal_parse(buf, (size_t)n, r);
}

static int read_limit(const char *dir, uint64_t *out)
{
	char path[400], *buf;
	size_t len;
	int err;

	snprintf(path, sizeof(path), "%s/memory.limit_in_bytes", dir);
	if ((err = etm_read_file(path, &buf, &len, 64)))
		return err;
	*out = 0;
	const char *p = buf;

	err = u64_of(&p, buf + len, out);
	free(buf);
	return err;
}

/*
 * Undo what a dead owner left: 0 when nothing is left to undo (restored now,
 * never cut, or the memcg is gone); -ESTALE when the limit is neither ours
 * nor the original (someone set another one since: theirs wins).
 */
static int undo(const struct etm_memcg_journal_rec *r)
{
	char path[400], v[32];
	uint64_t cur;
	int err;

	if ((err = read_limit(r->dir, &cur)))
		return err == -ENOENT ? 0 : err;
	if (cur >= r->orig)
		return 0;
	if (cur < r->last)
		return -ESTALE;
	snprintf(path, sizeof(path), "%s/memory.limit_in_bytes", r->dir);
	snprintf(v, sizeof(v), "%" PRIu64, r->orig);
	if ((err = etm_write_str(path, v)))
		return err;
	etm_warn("memcg_lru: %s/memory.limit_in_bytes was left at %" PRIu64 " by etmemd pid %d, which died during "
		 "a reclaim: restored to %" PRIu64,
		 r->dir, cur, (int)r->owner, r->orig);
	return 1;
}

static int write_rec(struct etm_memcg_journal *j)
{
	char buf[REC_MAX];
	int n = etm_memcg_journal_format(&j->rec, buf, sizeof(buf));

	if (n < 0)
		return n;
	/* Same length or longer each time ("last" only shrinks in digits rarely): truncate to be exact. */
	if (pwrite(j->fd, buf, (size_t)n, 0) != n || ftruncate(j->fd, n))
		return errno ? -errno : -EIO;
	return 0;
}

int etm_memcg_journal_begin(const char *jdir, const struct etm_memcg_dir *d, uint64_t orig, struct etm_memcg_journal *j)
{
	struct etm_memcg_journal_rec old;
	int dfd, err = 0;

	memset(j, 0, sizeof(*j));
	j->fd = -1;
	if (strlen(d->dir) >= sizeof(j->rec.dir))
		return -ENAMETOOLONG;
	if ((dfd = jdir_open(jdir)) < 0)
		return dfd;
	rec_name(d->dir, j->name, sizeof(j->name));
	for (int attempt = 0; attempt < 3; attempt++) {
		j->fd = openat(dfd, j->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (j->fd < 0 && errno == ENOENT) {
			/* An exiting etmemd removed the (then empty) directory under us: make it again. */
			close(dfd);
			if ((dfd = jdir_open(jdir)) < 0)
				return dfd;
			continue;
		}
		if (j->fd >= 0 || errno != EEXIST)
			break;
		/* Someone's record: a reclaim in progress, or what a dead etmemd left. */
		err = read_rec(dfd, j->name, &old);
		if (!err && owner_alive(&old)) {
			close(dfd);
			return -EBUSY;
		}
		if (!err && strcmp(old.dir, d->dir)) {
			close(dfd);
			return -EEXIST; /* a hash collision: skip rather than guess */
		}
		if (!err && undo(&old) == -ESTALE)
			etm_warn("memcg_lru: %s: a dead etmemd's record says %" PRIu64 ", but the limit was changed "
				 "since; left as it is",
				 d->dir, old.orig);
		if (err)
			etm_warn("memcg journal %s/%s: unreadable record (%s): replaced", jdir, j->name,
				 strerror(-err));
		unlinkat(dfd, j->name, 0);
		err = 0;
	}
	if (j->fd < 0) {
		err = -errno;
		close(dfd);
		return err;
	}
	j->dfd = dfd;
	j->rec.owner = getpid();
	j->rec.orig = orig;
	j->rec.last = orig;
	snprintf(j->rec.dir, sizeof(j->rec.dir), "%s", d->dir);
	if ((err = proc_starttime(j->rec.owner, &j->rec.owner_start)) || (err = write_rec(j))) {
		etm_memcg_journal_end(j);
		return err;
	}
	return 0;
}

int etm_memcg_journal_note(struct etm_memcg_journal *j, uint64_t next)
{
	if (j->fd < 0)
		return -EBADF;
	if (next < j->rec.last)
		j->rec.last = next;
	return write_rec(j);
}

void etm_memcg_journal_end(struct etm_memcg_journal *j)
{
	if (j->fd < 0)
		return;
	close(j->fd);
	unlinkat(j->dfd, j->name, 0);
	close(j->dfd);
	j->fd = j->dfd = -1;
}

int etm_memcg_journal_recover(const char *jdir, unsigned *restored)
{
	struct dirent *de;
	DIR *dir;
	int dfd, err = 0;

	*restored = 0;
	dfd = open(jdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 0 : -errno;
	close(dfd);
	if ((dfd = jdir_open(jdir)) < 0)
		return dfd;
	if (!(dir = fdopendir(dfd))) {
		err = -errno;
		close(dfd);
		return err;
	}
	while ((de = readdir(dir))) {
		struct etm_memcg_journal_rec r;
		int e;

		if (strncmp(de->d_name, NAME_PREFIX, strlen(NAME_PREFIX)))
			continue;
		if ((e = read_rec(dfd, de->d_name, &r))) {
			etm_warn("memcg journal %s/%s: unreadable record (%s): left in place", jdir, de->d_name,
				 strerror(-e));
			continue;
		}
		if (owner_alive(&r))
			continue; /* another etmemd's reclaim in progress */
		e = undo(&r);
		if (e == -ESTALE)
			etm_warn("memcg_lru: %s: a dead etmemd's record says %" PRIu64 ", but the limit was changed "
				 "since; left as it is",
				 r.dir, r.orig);
		else if (e < 0) {
			etm_warn("memcg_lru: could not restore %s/memory.limit_in_bytes to %" PRIu64 ": %s", r.dir,
				 r.orig, strerror(-e));
			err = e;
			continue; /* keep the record: the next start tries again */
		} else if (e > 0)
			(*restored)++;
		unlinkat(dfd, de->d_name, 0);
	}
	closedir(dir);
	return err;
}
