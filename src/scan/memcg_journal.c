/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The journal of cgroup v1 limit cuts in flight (see memcg_journal.h).
 *
 * Why: memcg_lru reclaims on v1 by lowering memory.limit_in_bytes and puts
 * the original back afterwards. If etmemd dies in between, the original value
 * existed only in its stack and the workload is left with a limit far below
 * its working set: an OOM kill waiting to happen. And two reclaims of one
 * memcg at once (two tasks, or two daemons) would each take the other's
 * lowered limit for the original and could restore the wrong one. One record
 * file per memcg, created O_EXCL and flock'ed by its owner for as long as it
 * lives (journal.h), is both the lock and the undo log.
 *
 * A record is a root-only file, but what it says is still not trusted to
 * point anywhere: at start-up its directory must lie below the cgroup v1
 * memory mount and is reached through the memcg layer's confined opens
 * (memcg.h, cgroup_fs.h), so a forged or stale record cannot make etmemd
 * write any other file.
 */
#include "scan/memcg_journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "scan/parse.h"

#define REC_MAGIC "etmem-memcg-limit 1\n"
#define NAME_PREFIX "memcg-"

int etm_memcg_journal_format(const struct etm_memcg_journal_rec *r, char *buf, size_t len)
{
	int n;

	/* The path is written last and runs to the end of its line: it may hold spaces. */
	if (strchr(r->dir, '\n'))
		return -EINVAL;
	n = snprintf(buf, len, REC_MAGIC "owner %d %" PRIu64 "\norig %" PRIu64 "\nlast %" PRIu64 "\ndir %s\n",
		     (int)r->owner.pid, r->owner.start, r->orig, r->last, r->dir);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : n;
}

/* A line's key: 0 owner (parsed into @r), 1 orig, 2 last, 3 dir, -1 none; *@pp past it. */
static int rec_key(const char **pp, const char *le, struct etm_memcg_journal_rec *r)
{
	static const char *const keys[] = { "owner ", "orig ", "last ", "dir " };

	if (!etm_owner_parse(pp, le, &r->owner))
		return 0;
	for (int k = 1; k < 4; k++) {
		size_t kl = strlen(keys[k]);

		if ((size_t)(le - *pp) > kl && !memcmp(*pp, keys[k], kl)) {
			*pp += kl;
			return k;
		}
	}
	return -1;
}

/* One line into @r; @seen has a bit per key: each key once (a record written twice over itself is not trusted). */
static int rec_line(const char *p, const char *le, struct etm_memcg_journal_rec *r, unsigned *seen)
{
	int k = rec_key(&p, le, r);
	size_t dl;

	if (k < 0 || (*seen & (1u << k)))
		return -EINVAL;
	*seen |= 1u << k;
	switch (k) {
	case 0:
		return p == le ? 0 : -EINVAL;
	case 1:
		return etm_parse_u64(&p, le, &r->orig) || p != le ? -EINVAL : 0;
	case 2:
		return etm_parse_u64(&p, le, &r->last) || p != le ? -EINVAL : 0;
	default: /* the directory runs to the end of the line: it may hold spaces */
		dl = (size_t)(le - p);
		if (dl >= sizeof(r->dir) || p[0] != '/' || memchr(p, '\0', dl))
			return -EINVAL;
		memcpy(r->dir, p, dl);
		r->dir[dl] = '\0';
		return 0;
	}
}

int etm_memcg_journal_parse(const char *buf, size_t len, struct etm_memcg_journal_rec *r)
{
	size_t ml = strlen(REC_MAGIC);
	struct etm_lines it;
	const char *p, *le;
	unsigned seen = 0;

	memset(r, 0, sizeof(*r));
	if (len < ml || memcmp(buf, REC_MAGIC, ml))
		return -EINVAL;
	for (etm_lines_init(&it, buf + ml, len - ml); etm_line_next(&it, &p, &le);) {
		/* every line ends: a torn record is not trusted */
		if (le == buf + len || rec_line(p, le, r, &seen))
			return -EINVAL;
	}
	return seen == 15 && r->last <= r->orig ? 0 : -EINVAL;
}

static void rec_name(const char *dir, char *name, size_t len)
{
	uint64_t h = 14695981039346656037ULL; /* FNV-1a 64 of the memcg directory */

	for (const unsigned char *p = (const unsigned char *)dir; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	snprintf(name, len, NAME_PREFIX "%016" PRIx64, h);
}

/*
 * Undo what a dead owner left, below the mount @root: 0 when nothing is left
 * to undo (never cut, restored already, or the memcg is gone), 1 restored
 * now; -ESTALE when the limit is neither ours nor the original (someone set
 * another one since: theirs wins); or the confined walk's -errno.
 */
static int undo(const struct etm_memcg_journal_rec *r, const struct etm_cgroup_root *root)
{
	struct etm_memcg_dir d;
	uint64_t cur;
	int err;

	if ((err = etm_memcg_dir_at(root, r->dir, true, &d)) ||
	    (err = etm_memcg_read_u64(&d, "memory.limit_in_bytes", &cur)))
		return err == -ENOENT ? 0 : err;
	if (cur >= r->orig)
		return 0;
	if (cur < r->last)
		return -ESTALE;
	if ((err = etm_memcg_write_u64(&d, "memory.limit_in_bytes", r->orig)))
		return err;
	etm_warn("memcg_lru: %s/memory.limit_in_bytes was left at %" PRIu64 " by etmemd pid %d, which died during "
		 "a reclaim: restored to %" PRIu64,
		 r->dir, cur, (int)r->owner.pid, r->orig);
	return 1;
}

static int write_rec(struct etm_memcg_journal *j, bool excl)
{
	char buf[ETM_JOURNAL_REC_MAX];
	int n = etm_memcg_journal_format(&j->rec, buf, sizeof(buf));

	return n < 0 ? n : etm_journal_put(j->dfd, j->name, buf, (size_t)n, excl, &j->lockfd);
}

/*
 * Someone's record under our name: -EBUSY while its owner lives. A dead
 * owner's is undone and removed: 0, try again. Its directory must be ours
 * (else -EEXIST: a hash collision, skipped rather than guessed at), so the
 * undo writes only where this reclaim is about to write anyway (through
 * @d's mount).
 */
static int take_over(struct etm_memcg_journal *j, const char *jdir, const struct etm_memcg_dir *d)
{
	char buf[ETM_JOURNAL_REC_MAX + 1];
	struct etm_memcg_journal_rec old;
	size_t n;
	int fd = etm_journal_claim(j->dfd, j->name, buf, &n);

	if (fd == -ENOENT)
		return 0; /* ended meanwhile */
	if (fd < 0)
		return fd;
	if (etm_memcg_journal_parse(buf, n, &old)) {
		etm_warn("memcg journal %s/%s: unreadable record: replaced", jdir, j->name);
	} else if (strcmp(old.dir, d->dir)) {
		close(fd);
		return -EEXIST;
	} else if (undo(&old, &d->root) == -ESTALE) {
		etm_warn("memcg_lru: %s: a dead etmemd's record says %" PRIu64 ", but the limit was changed since; "
			 "left as it is",
			 d->dir, old.orig);
	}
	unlinkat(j->dfd, j->name, 0);
	close(fd);
	return 0;
}

int etm_memcg_journal_begin(const char *jdir, const struct etm_memcg_dir *d, uint64_t orig, struct etm_memcg_journal *j)
{
	int err;

	memset(j, 0, sizeof(*j));
	j->dfd = j->lockfd = -1;
	if (strlen(d->dir) >= sizeof(j->rec.dir))
		return -ENAMETOOLONG;
	if ((err = etm_owner_self(&j->rec.owner)))
		return err;
	j->rec.orig = orig;
	j->rec.last = orig;
	snprintf(j->rec.dir, sizeof(j->rec.dir), "%s", d->dir);
	rec_name(d->dir, j->name, sizeof(j->name));
	if ((j->dfd = etm_journal_dir_open(jdir, true)) < 0)
		return j->dfd;
	for (int attempt = 0; attempt < 3; attempt++) {
		err = write_rec(j, true);
		if (err == -ENOENT) {
			/* An exiting etmemd removed the (then empty) directory under us: make it again. */
			close(j->dfd);
			if ((j->dfd = etm_journal_dir_open(jdir, true)) < 0)
				return j->dfd;
			continue;
		}
		if (err != -EEXIST)
			break;
		/* Someone's record: a reclaim in progress, or what a dead etmemd left. */
		if ((err = take_over(j, jdir, d)))
			break;
		err = -EAGAIN;
	}
	if (err) {
		close(j->dfd);
		j->dfd = -1;
		return err == -EAGAIN ? -EBUSY : err;
	}
	j->held = true;
	return 0;
}

int etm_memcg_journal_note(struct etm_memcg_journal *j, uint64_t next)
{
	if (!j->held)
		return -EBADF;
	if (next < j->rec.last)
		j->rec.last = next;
	return write_rec(j, false);
}

void etm_memcg_journal_end(struct etm_memcg_journal *j)
{
	/* Removed before its lock goes: nobody finds it unlocked and undoes what is already undone. */
	if (j->held)
		unlinkat(j->dfd, j->name, 0);
	etm_memcg_journal_abandon(j);
}

void etm_memcg_journal_abandon(struct etm_memcg_journal *j)
{
	if (j->held && j->lockfd >= 0)
		close(j->lockfd);
	j->lockfd = -1;
	if (j->dfd >= 0)
		close(j->dfd);
	j->dfd = -1;
	j->held = false;
}

struct recover_arg {
	const char *jdir;
	const struct etm_cgroup_root *root; /* NULL: from /proc/self/mountinfo, per record */
	unsigned restored;
};

/* Where a record's directory may be: below the v1 memory mount. 0, or -EXDEV with a warning. */
static int record_root(const struct recover_arg *ra, const char *name, const char *dir, struct etm_cgroup_root *out)
{
	if (ra->root) {
		*out = *ra->root;
		return 0;
	}
	if (!etm_cgroup_mount_find(true, dir, out))
		return 0;
	etm_warn("memcg journal %s/%s: %s is not below a mount of the cgroup v1 memory hierarchy: not a record of "
		 "etmemd, left alone",
		 ra->jdir, name, dir);
	return -EXDEV;
}

static int recover_one(const char *name, const char *buf, size_t len, void *arg)
{
	struct recover_arg *ra = arg;
	struct etm_memcg_journal_rec r;
	struct etm_cgroup_root root;
	int e = etm_memcg_journal_parse(buf, len, &r);

	if (e) {
		etm_warn("memcg journal %s/%s: not a well-formed record: left in place", ra->jdir, name);
		return e;
	}
	if ((e = record_root(ra, name, r.dir, &root)))
		return e;
	e = undo(&r, &root);
	if (e == -ESTALE) {
		etm_warn("memcg_lru: %s: a dead etmemd's record says %" PRIu64 ", but the limit was changed since; "
			 "left as it is",
			 r.dir, r.orig);
		return 0;
	}
	if (e == -EXDEV || e == -EINVAL || e == -ELOOP || e == -ENOTDIR) {
		etm_warn("memcg journal %s/%s: %s/memory.limit_in_bytes is not a file of the memory cgroup filesystem "
			 "under %s (%s): not a record of etmemd, left alone",
			 ra->jdir, name, r.dir, root.mnt,
			 e == -EXDEV	? "another filesystem on the way, or not a regular file"
			 : e == -EINVAL ? "an empty, '.' or '..' component"
					: "a symbolic link on the way");
		return e;
	}
	if (e < 0) {
		etm_warn("memcg_lru: could not restore %s/memory.limit_in_bytes to %" PRIu64 ": %s", r.dir, r.orig,
			 strerror(-e));
		return e; /* keep the record: the next start tries again */
	}
	ra->restored += e > 0;
	return 0;
}

int etm_memcg_journal_recover_at(const char *jdir, const struct etm_cgroup_root *root, unsigned *restored)
{
	struct recover_arg ra = { .jdir = jdir, .root = root };
	int err = etm_journal_recover(jdir, NAME_PREFIX, recover_one, &ra);

	*restored = ra.restored;
	return err;
}

int etm_memcg_journal_recover(const char *jdir, unsigned *restored)
{
	return etm_memcg_journal_recover_at(jdir, NULL, restored);
}
