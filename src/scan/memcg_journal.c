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

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "scan/journal.h"
#include "scan/procfs.h"

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

		if (!nl)
			return -EINVAL; /* every line ends: a torn record is not trusted */
		/* Each key once: a record written twice over itself is not trusted either. */
		if (!etm_owner_parse(&p, le, &r->owner)) {
			if (p != le || (seen & 1))
				return -EINVAL;
			seen |= 1;
		} else if ((size_t)(le - p) > 5 && !memcmp(p, "orig ", 5)) {
			p += 5;
			if (etm_parse_u64(&p, le, &r->orig) || p != le || (seen & 2))
				return -EINVAL;
			seen |= 2;
		} else if ((size_t)(le - p) > 5 && !memcmp(p, "last ", 5)) {
			p += 5;
			if (etm_parse_u64(&p, le, &r->last) || p != le || (seen & 4))
				return -EINVAL;
			seen |= 4;
		} else if ((size_t)(le - p) > 4 && !memcmp(p, "dir ", 4)) {
			size_t dl = (size_t)(le - p) - 4;

			if (dl >= sizeof(r->dir) || p[4] != '/' || memchr(p + 4, '\0', dl) || (seen & 8))
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

static void rec_name(const char *dir, char *name, size_t len)
{
	uint64_t h = 14695981039346656037ULL; /* FNV-1a 64 of the memcg directory */

	for (const unsigned char *p = (const unsigned char *)dir; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	snprintf(name, len, NAME_PREFIX "%016" PRIx64, h);
}

static int read_rec(int dfd, const char *name, struct etm_memcg_journal_rec *r)
{
	char buf[ETM_JOURNAL_REC_MAX + 1];
	size_t n;
	int err = etm_journal_read(dfd, name, buf, &n);

	return err ? err : etm_memcg_journal_parse(buf, n, r);
}

/*
 * Undo what a dead owner left: 0 when nothing is left to undo (restored now,
 * never cut, or the memcg is gone); -ESTALE when the limit is neither ours
 * nor the original (someone set another one since: theirs wins).
 */
static int undo(const struct etm_memcg_journal_rec *r)
{
	struct etm_memcg_dir d = { .v1 = true };
	char path[400], v[32];
	uint64_t cur;
	int err;

	snprintf(d.dir, sizeof(d.dir), "%s", r->dir);
	if ((err = etm_memcg_read_u64(&d, "memory.limit_in_bytes", &cur)))
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
		 r->dir, cur, (int)r->owner.pid, r->orig);
	return 1;
}

static int write_rec(struct etm_memcg_journal *j, bool excl)
{
	char buf[ETM_JOURNAL_REC_MAX];
	int n = etm_memcg_journal_format(&j->rec, buf, sizeof(buf));

	return n < 0 ? n : etm_journal_put(j->dfd, j->name, buf, (size_t)n, excl);
}

int etm_memcg_journal_begin(const char *jdir, const struct etm_memcg_dir *d, uint64_t orig, struct etm_memcg_journal *j)
{
	struct etm_memcg_journal_rec old;
	int err;

	memset(j, 0, sizeof(*j));
	j->dfd = -1;
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
		err = read_rec(j->dfd, j->name, &old);
		if (err == -ENOENT)
			continue; /* ended meanwhile */
		if (!err && etm_owner_alive(&old.owner)) {
			err = -EBUSY;
			break;
		}
		if (!err && strcmp(old.dir, d->dir)) {
			err = -EEXIST; /* a hash collision: skip rather than guess */
			break;
		}
		if (!err && undo(&old) == -ESTALE)
			etm_warn("memcg_lru: %s: a dead etmemd's record says %" PRIu64 ", but the limit was changed "
				 "since; left as it is",
				 d->dir, old.orig);
		if (err)
			etm_warn("memcg journal %s/%s: unreadable record (%s): replaced", jdir, j->name,
				 strerror(-err));
		unlinkat(j->dfd, j->name, 0);
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
	if (j->held)
		unlinkat(j->dfd, j->name, 0);
	etm_memcg_journal_abandon(j);
}

void etm_memcg_journal_abandon(struct etm_memcg_journal *j)
{
	if (j->dfd >= 0)
		close(j->dfd);
	j->dfd = -1;
	j->held = false;
}

struct recover_arg {
	const char *jdir;
	unsigned restored;
};

static int recover_one(const char *name, const char *buf, size_t len, void *arg)
{
	struct recover_arg *ra = arg;
	struct etm_memcg_journal_rec r;
	int e = etm_memcg_journal_parse(buf, len, &r);

	if (e) {
		etm_warn("memcg journal %s/%s: not a well-formed record: left in place", ra->jdir, name);
		return e;
	}
	if (etm_owner_alive(&r.owner))
		return ETM_JOURNAL_KEEP; /* another etmemd's reclaim in progress */
	e = undo(&r);
	if (e == -ESTALE) {
		etm_warn("memcg_lru: %s: a dead etmemd's record says %" PRIu64 ", but the limit was changed since; "
			 "left as it is",
			 r.dir, r.orig);
		return 0;
	}
	if (e < 0) {
		etm_warn("memcg_lru: could not restore %s/memory.limit_in_bytes to %" PRIu64 ": %s", r.dir, r.orig,
			 strerror(-e));
		return e; /* keep the record: the next start tries again */
	}
	ra->restored += e > 0;
	return 0;
}

int etm_memcg_journal_recover(const char *jdir, unsigned *restored)
{
	struct recover_arg ra = { .jdir = jdir };
	int err = etm_journal_recover(jdir, NAME_PREFIX, recover_one, &ra);

	*restored = ra.restored;
	return err;
}
