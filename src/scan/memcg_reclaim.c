/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The memcg_lru swap-out action: make the kernel reclaim a memory cgroup's
 * anonymous memory, so that its LRU (not etmem) picks the pages. See
 * memcg_reclaim.h for the contract.
 *
 * Why a cgroup-wide action and not one of action.h's per-process ones: the
 * kernel's reference check runs inside reclaim (shrink_folio_list ->
 * folio_check_references), and reclaim can only be aimed at a memory cgroup.
 * So the tracker (access_memcg_lru.c) delegates the grading to the kernel and
 * this action only sizes and triggers the reclaim.
 */
#include "scan/memcg_reclaim.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scan/pagestate.h"
#include "scan/parse.h"
#include "scan/procfs.h"

/* memory.stat is a few dozen short lines; anything far longer is not it. */
#define STAT_MAX (64 << 10)

static bool key_is(const char *p, size_t kl, const char *key)
{
	return strlen(key) == kl && !memcmp(p, key, kl);
}

/* The number at @p (what follows it does not matter here). */
static int parse_u64(const char *p, const char *end, uint64_t *out)
{
	return etm_parse_u64(&p, end, out);
}

int etm_memcg_stat_parse(const char *buf, size_t len, struct etm_memcg_lru_stat *out)
{
	const char *p = buf, *end = buf + len;
	/* [0] own, [1] hierarchical total_* */
	uint64_t ina[2] = { 0 }, act[2] = { 0 }, swp[2] = { 0 }, pso[2] = { 0 };
	bool has_ina[2] = { false }, has_act[2] = { false }, has_swp[2] = { false }, has_pso[2] = { false };
	int h;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *sp = memchr(p, ' ', (size_t)(le - p));
		uint64_t v;

		if (sp && !parse_u64(sp + 1, le, &v)) {
			const char *k = p;
			size_t kl = (size_t)(sp - p);

			h = 0;
			if (kl > 6 && !memcmp(k, "total_", 6)) {
				h = 1;
				k += 6;
				kl -= 6;
			}
			if (key_is(k, kl, "inactive_anon")) {
				ina[h] = v;
				has_ina[h] = true;
			} else if (key_is(k, kl, "active_anon")) {
				act[h] = v;
				has_act[h] = true;
			} else if (key_is(k, kl, "swap")) {
				swp[h] = v;
				has_swp[h] = true;
			} else if (key_is(k, kl, "pswpout")) {
				pso[h] = v;
				has_pso[h] = true;
			}
		}
		p = le + 1;
	}
	h = has_ina[1] && has_act[1] ? 1 : 0;
	if (!has_ina[h] || !has_act[h])
		return -EINVAL;
	out->inactive_anon = ina[h];
	out->active_anon = act[h];
	out->has_swap = has_swp[h];
	out->swap = swp[h];
	out->has_pswpout = has_pso[h];
	out->pswpout = pso[h];
	return 0;
}

uint64_t etm_memcg_cold_amount(const struct etm_memcg_lru_stat *s, uint64_t keep)
{
	uint64_t a = s->inactive_anon > keep ? s->inactive_anon - keep : 0;

	a &= ~(ETM_PAGE_SIZE - 1);
	return a < ETM_MEMCG_MIN_RECLAIM ? 0 : a;
}

uint64_t etm_memcg_keep(const struct etm_memcg_lru_stat *s, uint64_t keep)
{
	uint64_t k = s->active_anon / ETM_MEMCG_KEEP_DIV;

	return k > keep ? k : keep;
}

uint64_t etm_memcg_next_limit(uint64_t usage, uint64_t goal, uint64_t step)
{
	uint64_t next;

	goal = (goal + ETM_PAGE_SIZE - 1) & ~(ETM_PAGE_SIZE - 1);
	if (usage <= goal || !step)
		return 0;
	next = usage - goal > step ? usage - step : goal;
	next = (next + ETM_PAGE_SIZE - 1) & ~(ETM_PAGE_SIZE - 1);
	return next < usage ? next : 0;
}

size_t etm_memcg_limit_plan(uint64_t usage, uint64_t amount, uint64_t step, uint64_t floor, uint64_t *limits,
			    size_t max)
{
	uint64_t goal = amount < usage ? usage - amount : 0;
	size_t n = 0;

	if (goal < floor)
		goal = floor;
	while (n < max) {
		uint64_t next = etm_memcg_next_limit(usage, goal, step);

		if (!next)
			break;
		limits[n++] = next;
		usage = next;
	}
	return n;
}

int etm_memcg_dir_of(const char *path, bool v1, struct etm_memcg_dir *d)
{
	int n;

	if (path[0] != '/' || strstr(path, "/../") || strstr(path, "/./"))
		return -EINVAL;
	n = snprintf(d->dir, sizeof(d->dir), "%s%s", v1 ? ETM_MEMCG_V1_ROOT : ETM_MEMCG_V2_ROOT,
		     strcmp(path, "/") ? path : "");
	if (n < 0 || (size_t)n >= sizeof(d->dir))
		return -ENAMETOOLONG;
	d->v1 = v1;
	if (access(d->dir, F_OK))
		return -ENOENT;
	return 0;
}

static int file_of(const struct etm_memcg_dir *d, const char *name, char *path, size_t len)
{
	int n = snprintf(path, len, "%s/%s", d->dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int etm_memcg_read_u64(const struct etm_memcg_dir *d, const char *name, uint64_t *out)
{
	char path[384], *buf;
	size_t len;
	int err = file_of(d, name, path, sizeof(path));

	if (err || (err = etm_read_file(path, &buf, &len, 256)))
		return err;
	err = parse_u64(buf, buf + len, out);
	free(buf);
	return err;
}

int etm_memcg_read_stat(const struct etm_memcg_dir *d, struct etm_memcg_lru_stat *s)
{
	char path[384], *buf;
	size_t len;
	int err = file_of(d, "memory.stat", path, sizeof(path));

	if (err || (err = etm_read_file(path, &buf, &len, STAT_MAX)))
		return err;
	err = etm_memcg_stat_parse(buf, len, s);
	free(buf);
	return err;
}

int etm_memcg_swap_bytes(const struct etm_memcg_dir *d, uint64_t *out)
{
	struct etm_memcg_lru_stat s;
	uint64_t memsw, usage;
	int err;

	if (!d->v1) {
		err = etm_memcg_read_u64(d, "memory.swap.current", out);
		if (err != -ENOENT)
			return err;
		/* swapaccount=0 / cgroup.memory=noswap: no swap counter, but the event count (6.15+) */
		if ((err = etm_memcg_read_stat(d, &s)))
			return err;
		if (!s.has_pswpout || s.pswpout > UINT64_MAX / ETM_PAGE_SIZE)
			return -ENOTSUP;
		*out = s.pswpout * ETM_PAGE_SIZE;
		return 0;
	}
	if (!etm_memcg_read_u64(d, "memory.memsw.usage_in_bytes", &memsw) &&
	    !etm_memcg_read_u64(d, "memory.usage_in_bytes", &usage)) {
		*out = memsw > usage ? memsw - usage : 0;
		return 0;
	}
	/* No memsw accounting (swapaccount=0): memory.stat's swap, if any. */
	if ((err = etm_memcg_read_stat(d, &s)))
		return err;
	if (!s.has_swap)
		return -ENOTSUP;
	*out = s.swap;
	return 0;
}

int etm_memcg_swappiness(const struct etm_memcg_dir *d, int *out)
{
	uint64_t v;
	int err;

	if (!d->v1)
		return -ENOTSUP;
	if ((err = etm_memcg_read_u64(d, "memory.swappiness", &v)))
		return err;
	*out = v > 200 ? 200 : (int)v;
	return 0;
}

int etm_lru_gen_enabled_parse(const char *buf, size_t len, bool *on)
{
	uint64_t v = 0;
	const char *p = buf, *end = buf + len;

	if (len >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	const char *s = p;

	for (; p < end; p++) {
		int d = *p >= '0' && *p <= '9'	 ? *p - '0'
			: *p >= 'a' && *p <= 'f' ? *p - 'a' + 10
			: *p >= 'A' && *p <= 'F' ? *p - 'A' + 10
						 : -1;

		if (d < 0 || v >> 60)
			break;
		v = v << 4 | (uint64_t)d;
	}
	if (p == s || (p < end && *p != '\n'))
		return -EINVAL;
	*on = v & 1;
	return 0;
}

/* Skip spaces; then a decimal number (at least one digit). */
static int field_u64(const char **p, const char *end, uint64_t *v)
{
	while (*p < end && **p == ' ')
		(*p)++;
	return etm_parse_u64(p, end, v) ? -EINVAL : 0;
}

int etm_lru_gen_parse(const char *buf, size_t len, const char *path, struct etm_lru_gen_memcg *out)
{
	const char *p = buf, *end = buf + len;
	size_t pl = strlen(path);
	bool in = false, found = false;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *q = p;
		uint64_t v;

		if ((size_t)(le - p) > 6 && !memcmp(p, "memcg ", 6)) {
			/* "memcg %5hu %s": the path is the rest of the line */
			if (found)
				break;
			q += 6;
			if (field_u64(&q, le, &v) || v > UINT16_MAX || q == le || *q != ' ')
				return -EINVAL;
			q++;
			in = (size_t)(le - q) == pl && !memcmp(q, path, pl);
			if (in) {
				found = true;
				out->id = (unsigned)v;
			}
		} else if (in && (size_t)(le - p) > 6 && !memcmp(p, " node ", 6)) {
			q += 6;
			if (field_u64(&q, le, &v) || v > INT32_MAX)
				return -EINVAL;
			if (out->nnodes == ETM_LRU_GEN_MAX_NODES)
				return -E2BIG;
			out->nid[out->nnodes] = (int)v;
			out->max_seq[out->nnodes++] = 0;
		} else if (in && out->nnodes && !field_u64(&q, le, &v)) {
			/* " %10lu %10u ...": generations in increasing order; the last is the youngest */
			out->max_seq[out->nnodes - 1] = v;
		}
		p = le + 1;
	}
	return found && out->nnodes ? 0 : -ENOENT;
}

/* Big enough for thousands of memcgs; the read is bounded like every other. */
#define LRU_GEN_MAX (8 << 20)

int etm_memcg_lru_gen_age(const char *path)
{
	struct etm_lru_gen_memcg m;
	char *buf;
	size_t len;
	bool on = false;
	int err;

	if (etm_read_file(ETM_LRU_GEN_ENABLED, &buf, &len, 64))
		return -ENOTSUP;
	err = etm_lru_gen_enabled_parse(buf, len, &on);
	free(buf);
	if (err || !on)
		return -ENOTSUP;
	if ((err = etm_read_file(ETM_LRU_GEN_DEBUGFS, &buf, &len, LRU_GEN_MAX)))
		return err;
	err = etm_lru_gen_parse(buf, len, path, &m);
	free(buf);
	if (err)
		return err;
	for (size_t i = 0; i < m.nnodes; i++) {
		char cmd[96];
		int n = snprintf(cmd, sizeof(cmd), "+ %u %d %" PRIu64 "\n", m.id, m.nid[i], m.max_seq[i]);
		int fd = open(ETM_LRU_GEN_DEBUGFS, O_WRONLY | O_CLOEXEC);

		if (fd < 0)
			return -errno;
		/*
		 * Default swappiness and force_scan (walk every page table of the
		 * memcg's processes). A node that aged meanwhile answers 0 (seq is
		 * no longer the youngest): that is the aging we wanted.
		 */
		if (write(fd, cmd, (size_t)n) != n)
			err = errno ? -errno : -EIO;
		close(fd);
		if (err)
			return err;
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* write(2) of a decimal number; -errno of the write (EBUSY: the kernel could not reclaim enough). */
static int write_u64(const char *path, uint64_t v)
{
	char b[32];
	int n = snprintf(b, sizeof(b), "%" PRIu64, v);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, b, (size_t)n) != n)
		err = errno ? -errno : -EIO;
	close(fd);
	return err;
}

/*
 * How much is still worth reclaiming, at most one step. Re-read before every
 * step: the first scan activates the hot pages that sat unscanned on the
 * inactive list, which shrinks what is left to take. @hot_max keeps the
 * largest active anon seen in this reclaim (see etm_memcg_floor()).
 */
static uint64_t next_step(const struct etm_memcg_dir *d, uint64_t keep, uint64_t *hot_max)
{
	struct etm_memcg_lru_stat s;
	uint64_t a;

	if (etm_memcg_read_stat(d, &s))
		return 0;
	if (s.active_anon > *hot_max)
		*hot_max = s.active_anon;
	a = etm_memcg_cold_amount(&s, etm_memcg_keep(&s, keep));
	return a < ETM_MEMCG_STEP ? a : ETM_MEMCG_STEP;
}

uint64_t etm_memcg_floor(uint64_t hot_max)
{
	uint64_t f = hot_max + hot_max / ETM_MEMCG_KEEP_DIV;

	return (f + ETM_PAGE_SIZE - 1) & ~(ETM_PAGE_SIZE - 1);
}

static int reclaim_v2(const struct etm_memcg_dir *d, uint64_t amount, uint64_t keep, struct etm_memcg_reclaim_res *res)
{
	char path[384];
	int err = file_of(d, "memory.reclaim", path, sizeof(path));

	if (err)
		return err;
	uint64_t s, hot_max = 0, usage;

	while (amount && res->steps < ETM_MEMCG_MAX_STEPS && (s = next_step(d, keep, &hot_max))) {
		s = amount < s ? amount : s;
		/* Not into the hot part (etm_memcg_floor); without memory.current, the stat's figures alone. */
		if (!etm_memcg_read_u64(d, "memory.current", &usage)) {
			uint64_t floor = etm_memcg_floor(hot_max);

			if (usage <= floor)
				break;
			if (usage - s < floor)
				s = (usage - floor) & ~(ETM_PAGE_SIZE - 1);
			if (!s)
				break;
		}
		err = write_u64(path, s);
		res->steps++;
		res->asked += s;
		amount -= s;
		if (err == -EAGAIN || err == -EBUSY) { /* reclaimed less than asked: the cold part is gone */
			res->busy = true;
			return 0;
		}
		if (err)
			return err;
	}
	return 0;
}

static int reclaim_v1(const struct etm_memcg_dir *d, uint64_t amount, uint64_t keep, const char *jdir,
		      struct etm_memcg_reclaim_res *res)
{
	struct etm_memcg_journal j = { .dfd = -1 };
	char lpath[384];
	uint64_t orig, usage, goal, hot_max = 0;
	int err, rerr;

	if ((err = file_of(d, "memory.limit_in_bytes", lpath, sizeof(lpath))))
		return err;
	/*
	 * Claim the memcg before reading the limit: a concurrent reclaim's
	 * lowered limit must never be taken for the original. A dead owner's
	 * cut is undone inside begin(), so the limit read next is the real one.
	 */
	if (jdir && (err = etm_memcg_journal_begin(jdir, d, 0, &j))) {
		if (err == -EBUSY) {
			res->contended = true;
			return 0;
		}
		return err;
	}
	if ((err = etm_memcg_read_u64(d, "memory.limit_in_bytes", &orig)) ||
	    (err = etm_memcg_read_u64(d, "memory.usage_in_bytes", &usage))) {
		etm_memcg_journal_end(&j);
		return err;
	}
	if (jdir) {
		j.rec.orig = j.rec.last = orig;
		if ((err = etm_memcg_journal_note(&j, orig))) {
			etm_memcg_journal_end(&j);
			return err;
		}
	}
	/* Start from the usage (or a lower limit someone set): the cuts must bite at once. */
	if (orig < usage)
		usage = orig;
	goal = amount < usage ? usage - amount : 0;
	while (res->steps < ETM_MEMCG_MAX_STEPS) {
		uint64_t step = next_step(d, keep, &hot_max), next, floor = etm_memcg_floor(hot_max);

		if (!step || !(next = etm_memcg_next_limit(usage, goal > floor ? goal : floor, step)))
			break;
		/* Journal first: after a crash the limit is then always within [last, orig]. */
		if (jdir && (err = etm_memcg_journal_note(&j, next)))
			break;
		err = write_u64(lpath, next);
		res->steps++;
		if (err == -EBUSY) { /* the kernel found too little to reclaim: stop lowering */
			res->busy = true;
			err = 0;
			break;
		}
		if (err)
			break;
		res->asked += usage - next;
		/* The usage may already be below the new limit (pages freed meanwhile). */
		if (etm_memcg_read_u64(d, "memory.usage_in_bytes", &usage) || usage > next)
			usage = next;
	}
	/* ALWAYS put the original limit back, whatever happened above. */
	rerr = write_u64(lpath, orig);
	if (rerr) {
		/* The record stays (fd closed, file kept): the next etmemd start retries the restore. */
		etm_memcg_journal_abandon(&j);
		res->restore_failed = true;
		return rerr;
	}
	etm_memcg_journal_end(&j);
	return err;
}

int etm_memcg_reclaim(const struct etm_memcg_dir *d, uint64_t amount, uint64_t keep, const char *jdir,
		      struct etm_memcg_reclaim_res *res)
{
	uint64_t swap0 = 0, swap1 = 0;
	bool has_swap;
	double t0 = now_s();
	int err;

	memset(res, 0, sizeof(*res));
	if (!amount)
		return 0;
	has_swap = !etm_memcg_swap_bytes(d, &swap0);
	err = d->v1 ? reclaim_v1(d, amount, keep, jdir, res) : reclaim_v2(d, amount, keep, res);
	if (has_swap && !etm_memcg_swap_bytes(d, &swap1) && swap1 > swap0)
		res->swapped = swap1 - swap0;
	res->seconds = now_s() - t0;
	return err;
}
