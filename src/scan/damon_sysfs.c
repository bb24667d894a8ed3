/* SPDX-License-Identifier: MulanPSL-2.0 */
#include "scan/damon_sysfs.h"

#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "scan/parse.h"
#include "scan/procfs.h"

/*
 * nr_kdamonds is one kernel-wide counter; this lock only orders the
 * read-check-write sequences of the daemon's own threads (two tasks starting
 * at once). Cross-process races are the kernel's: its EBUSY is reported.
 */
static pthread_mutex_t kdamond_lock = PTHREAD_MUTEX_INITIALIZER;

static int read_word(const char *path, char *buf, size_t len)
{
	char *b;
	size_t n;
	int err = etm_read_file(path, &b, &n, 4096);

	if (err)
		return err;
	n = strcspn(b, " \n");
	if (n >= len)
		n = len - 1;
	memcpy(buf, b, n);
	buf[n] = '\0';
	free(b);
	return 0;
}

static int read_u64_path(const char *path, uint64_t *out)
{
	char w[32];
	const char *p = w;
	int err = read_word(path, w, sizeof(w));

	if (err)
		return err;
	/* sysfs prints these in decimal; anything else in the word is not a number */
	if (etm_parse_u64(&p, w + strlen(w), out) || *p)
		return -EINVAL;
	return 0;
}

static int write_path(const char *path, const char *s)
{
	return etm_write_str(path, s);
}

/* Is DAMON sysfs present and does it offer @ops? */
static int damon_offers(const char *ops, char *why, size_t len)
{
	char path[160], avail[256];
	uint64_t nr = 0;
	char *b;
	size_t n;

	if (access(ETM_DAMON_ADMIN "/kdamonds/nr_kdamonds", F_OK)) {
		snprintf(why, len, "%s missing (kernel built without CONFIG_DAMON_SYSFS)", ETM_DAMON_ADMIN);
		return -ENOTSUP;
	}
	/* avail_operations lives in a context directory: look at any existing one. */
	read_u64_path(ETM_DAMON_ADMIN "/kdamonds/nr_kdamonds", &nr);
	for (uint64_t i = 0; i < nr && i < 64; i++) {
		snprintf(path, sizeof(path), ETM_DAMON_ADMIN "/kdamonds/%llu/contexts/0/avail_operations",
			 (unsigned long long)i);
		if (etm_read_file(path, &b, &n, 4096))
			continue;
		snprintf(avail, sizeof(avail), " %s ", b);
		free(b);
		for (char *p = avail; *p; p++)
			if (*p == '\n')
				*p = ' ';
		snprintf(path, sizeof(path), " %s ", ops);
		if (!strstr(avail, path)) {
			snprintf(why, len,
				 "DAMON operations set '%s' not offered (avail_operations: %.*s; kernel built "
				 "without CONFIG_DAMON_%s)",
				 ops, (int)strcspn(avail + 1, "\n"), avail + 1,
				 !strcmp(ops, "vaddr") ? "VADDR" : "PADDR");
			return -ENOTSUP;
		}
		return 0;
	}
	/* No context to ask: config.gz would need zlib; the start reports EINVAL if it is missing. */
	return 0;
}

/* Can a kdamond be appended now? Reads only. Caller holds kdamond_lock (or does not care: a probe). */
static int kdamond_check_free(uint64_t *nr_out, char *why, size_t len)
{
	uint64_t nr = 0;
	char path[160], buf[32];
	int err;

	err = read_u64_path(ETM_DAMON_ADMIN "/kdamonds/nr_kdamonds", &nr);
	if (err) {
		snprintf(why, len, "cannot read %s/kdamonds/nr_kdamonds: %s", ETM_DAMON_ADMIN, strerror(-err));
		return err;
	}
	if (nr >= 1024) {
		snprintf(why, len, "DAMON has %llu kdamonds already", (unsigned long long)nr);
		return -EBUSY;
	}
	for (uint64_t i = 0; i < nr; i++) {
		uint64_t ctxs = 0;

		snprintf(path, sizeof(path), ETM_DAMON_ADMIN "/kdamonds/%llu/state", (unsigned long long)i);
		if (!read_word(path, buf, sizeof(buf)) && !strcmp(buf, "on")) {
			snprintf(why, len,
				 "DAMON kdamond %llu is running (not this task's); the kernel only adds kdamonds "
				 "while none runs (nr_kdamonds: EBUSY)",
				 (unsigned long long)i);
			return -EBUSY;
		}
		snprintf(path, sizeof(path), ETM_DAMON_ADMIN "/kdamonds/%llu/contexts/nr_contexts",
			 (unsigned long long)i);
		if (!read_u64_path(path, &ctxs) && ctxs) {
			/* Writing nr_kdamonds would wipe this stopped but configured kdamond. */
			snprintf(why, len,
				 "DAMON kdamond %llu is configured by someone else; adding one would destroy its "
				 "configuration",
				 (unsigned long long)i);
			return -EBUSY;
		}
	}
	*nr_out = nr;
	return 0;
}

int etm_damon_probe(const char *ops, char *why, size_t len)
{
	uint64_t nr;
	int err = damon_offers(ops, why, len);

	/* A kdamond we cannot add is as unusable as a missing one. */
	return err ? err : kdamond_check_free(&nr, why, len);
}

#define KREC_MAGIC "etmem-kdamond 1\n"
#define KREC_PREFIX "kdamond-"

int etm_kdamond_rec_format(const struct etm_kdamond_rec *r, char *buf, size_t len)
{
	int n = snprintf(buf, len, KREC_MAGIC "owner %d %" PRIu64 "\nkdamond %d %" PRIu64 "\n", (int)r->owner.pid,
			 r->owner.start, r->idx, r->kpid);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : n;
}

int etm_kdamond_rec_parse(const char *buf, size_t len, struct etm_kdamond_rec *r)
{
	const char *p = buf, *end = buf + len;
	size_t ml = strlen(KREC_MAGIC);
	uint64_t idx;

	memset(r, 0, sizeof(*r));
	if (len < ml || memcmp(buf, KREC_MAGIC, ml))
		return -EINVAL;
	p += ml;
	if (etm_owner_parse(&p, end, &r->owner) || p == end || *p++ != '\n')
		return -EINVAL;
	if (end - p < 8 || memcmp(p, "kdamond ", 8))
		return -EINVAL;
	p += 8;
	if (etm_parse_u64(&p, end, &idx) || idx > 65535 || p == end || *p++ != ' ' ||
	    etm_parse_u64(&p, end, &r->kpid) || r->kpid > ETM_PID_MAX || p == end || *p++ != '\n' || p != end)
		return -EINVAL;
	r->idx = (int)idx;
	return 0;
}

static void krec_write(struct etm_kdamond *k, uint64_t kpid)
{
	struct etm_kdamond_rec r = { .idx = k->idx, .kpid = kpid };
	char buf[ETM_JOURNAL_REC_MAX];
	int n, err;

	if (k->jdfd < 0)
		return;
	if ((err = etm_owner_self(&r.owner)) || (n = err = etm_kdamond_rec_format(&r, buf, sizeof(buf))) < 0 ||
	    (err = etm_journal_put(k->jdfd, k->jname, buf, (size_t)n, false, &k->jlfd))) {
		etm_warn("journal %s/%s: %s: a crash would leave kdamond %d on", ETM_RUN_DIR, k->jname, strerror(-err),
			 k->idx);
		return;
	}
	k->jheld = true;
}

/*
 * The slot's record; without a usable journal DAMON still works (a crash
 * then leaves the kdamond on). A record already there for this slot can
 * only be a dead owner's (the slot was free: kdamond_check_free): replaced.
 */
static void krec_open(struct etm_kdamond *k)
{
	k->jheld = false;
	k->jlfd = -1;
	snprintf(k->jname, sizeof(k->jname), KREC_PREFIX "%d", k->idx);
	if ((k->jdfd = etm_journal_dir_open(ETM_RUN_DIR, true)) < 0) {
		etm_warn("journal %s: %s: a crash would leave kdamond %d on", ETM_RUN_DIR, strerror(-k->jdfd), k->idx);
		k->jdfd = -1;
		return;
	}
	krec_write(k, 0);
}

static void krec_drop(struct etm_kdamond *k)
{
	if (k->jdfd < 0)
		return;
	/* Removed before its lock goes: never taken for a dead owner's meanwhile. */
	if (k->jheld)
		unlinkat(k->jdfd, k->jname, 0);
	if (k->jlfd >= 0)
		close(k->jlfd);
	close(k->jdfd);
	k->jdfd = k->jlfd = -1;
	k->jheld = false;
}

int etm_kdamond_on(struct etm_kdamond *k)
{
	uint64_t kpid = 0;
	int err = etm_kdamond_write(k, "state", "on");

	if (!err && !etm_kdamond_read_u64(k, "pid", &kpid))
		krec_write(k, kpid);
	return err;
}

int etm_kdamond_alloc(struct etm_kdamond *k, char *why, size_t len)
{
	uint64_t nr = 0;
	char buf[32];
	int err;

	pthread_mutex_lock(&kdamond_lock);
	if ((err = kdamond_check_free(&nr, why, len)))
		goto out;
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)nr + 1);
	err = write_path(ETM_DAMON_ADMIN "/kdamonds/nr_kdamonds", buf);
	if (err) {
		snprintf(why, len, "writing %s/kdamonds/nr_kdamonds: %s", ETM_DAMON_ADMIN, strerror(-err));
		goto out;
	}
	k->idx = (int)nr;
	snprintf(k->dir, sizeof(k->dir), ETM_DAMON_ADMIN "/kdamonds/%d", k->idx);
	krec_open(k);
out:
	pthread_mutex_unlock(&kdamond_lock);
	return err;
}

void etm_kdamond_release(struct etm_kdamond *k)
{
	uint64_t nr = 0;
	char path[160], buf[32];
	int last;

	if (k->idx < 0)
		return;
	pthread_mutex_lock(&kdamond_lock);
	etm_kdamond_write(k, "state", "off");
	etm_kdamond_write(k, "contexts/nr_contexts", "0");
	/* Shrink over trailing slots that are off and empty (ours, released). */
	if (!read_u64_path(ETM_DAMON_ADMIN "/kdamonds/nr_kdamonds", &nr) && (uint64_t)k->idx == nr - 1) {
		bool any_on = false;

		for (uint64_t i = 0; i < nr; i++) {
			snprintf(path, sizeof(path), ETM_DAMON_ADMIN "/kdamonds/%llu/state", (unsigned long long)i);
			if (!read_word(path, buf, sizeof(buf)) && !strcmp(buf, "on"))
				any_on = true;
		}
		last = k->idx;
		while (!any_on && last > 0) {
			uint64_t ctxs = 1;

			snprintf(path, sizeof(path), ETM_DAMON_ADMIN "/kdamonds/%d/contexts/nr_contexts", last - 1);
			if (read_u64_path(path, &ctxs) || ctxs)
				break;
			last--;
		}
		if (!any_on) {
			snprintf(buf, sizeof(buf), "%d", last);
			write_path(ETM_DAMON_ADMIN "/kdamonds/nr_kdamonds", buf);
		}
	}
	pthread_mutex_unlock(&kdamond_lock);
	krec_drop(k);
	k->idx = -1;
}

static int krec_recover_one(const char *name, const char *buf, size_t len, void *arg)
{
	unsigned *stopped = arg;
	struct etm_kdamond_rec r;
	struct etm_kdamond k = { .jdfd = -1, .jlfd = -1 };
	char state[16] = "";
	uint64_t kpid = 0;

	if (etm_kdamond_rec_parse(buf, len, &r)) {
		etm_warn("journal %s/%s: not a well-formed kdamond record: left in place", ETM_RUN_DIR, name);
		return -EINVAL;
	}
	k.idx = r.idx;
	snprintf(k.dir, sizeof(k.dir), ETM_DAMON_ADMIN "/kdamonds/%d", k.idx);
	if (etm_kdamond_read_str(&k, "state", state, sizeof(state)))
		return 0; /* the slot is gone (nr_kdamonds rewritten since) */
	etm_kdamond_read_u64(&k, "pid", &kpid);
	if (!strcmp(state, "on") && (!r.kpid || kpid != r.kpid)) {
		etm_info("DAMON kdamond %d runs pid %" PRIu64
			 ", not the one a dead etmemd (pid %d) started: left alone",
			 k.idx, kpid, (int)r.owner.pid);
		return 0;
	}
	bool was_on = !strcmp(state, "on");

	etm_kdamond_release(&k);
	etm_warn("DAMON kdamond %d was left %s by etmemd pid %d, which died: %s", r.idx,
		 was_on ? "running" : "configured", (int)r.owner.pid, was_on ? "turned off and emptied" : "emptied");
	(*stopped)++;
	return 0;
}

void etm_kdamond_ctx_close(void *ctx)
{
	if (!ctx)
		return;
	etm_kdamond_release(ctx); /* the context's first member */
	free(ctx);
}

int etm_kdamond_recover(const char *jdir, unsigned *stopped)
{
	*stopped = 0;
	return etm_journal_recover(jdir, KREC_PREFIX, krec_recover_one, stopped);
}

int etm_kdamond_write(const struct etm_kdamond *k, const char *rel, const char *fmt, ...)
{
	char path[256], val[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", k->dir, rel) >= sizeof(path))
		return -ENAMETOOLONG;
	return write_path(path, val);
}

int etm_kdamond_read_u64(const struct etm_kdamond *k, const char *rel, uint64_t *out)
{
	char path[512];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", k->dir, rel) >= sizeof(path))
		return -ENAMETOOLONG;
	return read_u64_path(path, out);
}

int etm_kdamond_read_str(const struct etm_kdamond *k, const char *rel, char *buf, size_t len)
{
	char path[512];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", k->dir, rel) >= sizeof(path))
		return -ENAMETOOLONG;
	return read_word(path, buf, len);
}
