/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Mainline idle page tracking: /proc/PID/pagemap gives each present page's
 * PFN, /sys/kernel/mm/page_idle/bitmap one bit per PFN. A pass reads the
 * bits of the target's pages (a cleared bit = accessed since it was set)
 * and sets them again for the next pass; open() sets them once as the
 * baseline.
 *
 * Rig gotchas handled: a short read of the bitmap's last word means "beyond
 * max_pfn": those pages are unknown (not seen), not an error. Pages still in
 * a per-CPU LRU batch cannot be marked idle and read as accessed, which
 * errs on the hot side.
 */
#include "scan/tracker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BITMAP "/sys/kernel/mm/page_idle/bitmap"
#define PM_PRESENT (1ULL << 63)
#define PM_PFN_MASK ((1ULL << 55) - 1)
/* 64 Ki entries = 512 KiB pagemap reads: big reads are 2.5x faster than 4 KiB ones. */
#define PM_BATCH 65536

struct pi_ctx {
	pid_t pid;
	int pagemap, bitmap;
	struct etm_tracker_opts o;
	struct etm_pagestate *ranges; /* the baseline's ranges */
	uint64_t ent[PM_BATCH];
};

static int pi_probe(char *why, size_t len)
{
	if (access(BITMAP, F_OK)) {
		snprintf(why, len, "%s missing (kernel built without CONFIG_IDLE_PAGE_TRACKING)", BITMAP);
		return -ENOTSUP;
	}
	return 0;
}

/* Read the bitmap word holding @pfn. 1 = read, 0 = beyond the end (unknown), -errno. */
static int word_read(int fd, uint64_t pfn, uint64_t *w)
{
	ssize_t r = pread(fd, w, sizeof(*w), (off_t)((pfn / 64) * sizeof(*w)));

	if (r == (ssize_t)sizeof(*w))
		return 1;
	if (r >= 0 || errno == ENXIO)
		return 0;
	return -errno;
}

static void word_set_idle(int fd, uint64_t pfn, uint64_t mask)
{
	/* Errors only mean some pages could not be marked: they read as accessed next time. */
	if (pwrite(fd, &mask, sizeof(mask), (off_t)((pfn / 64) * sizeof(mask))) < 0)
		return;
}

/* One pass over [start, end): @ps NULL = only set the idle bits (baseline). */
static int pass_range(struct pi_ctx *c, uint64_t start, uint64_t end, struct etm_pagestate *ps)
{
	for (uint64_t a = start; a < end;) {
		uint64_t n = (end - a) >> ETM_PAGE_SHIFT;
		uint64_t cur_word = UINT64_MAX, word = 0, set_mask = 0;
		int known = 0;
		ssize_t r;

		if (n > PM_BATCH)
			n = PM_BATCH;
		r = pread(c->pagemap, c->ent, n * sizeof(uint64_t), (off_t)((a >> ETM_PAGE_SHIFT) * sizeof(uint64_t)));
		if (r < 0)
			return errno == ESRCH || errno == ENOENT ? -ESRCH : -errno;
		if (r == 0)
			break;
		n = (uint64_t)r / sizeof(uint64_t);
		for (uint64_t i = 0; i < n; i++) {
			uint64_t e = c->ent[i], pfn = e & PM_PFN_MASK, bit;

			if (!(e & PM_PRESENT) || !pfn)
				continue;
			if (pfn / 64 != cur_word) {
				if (set_mask)
					word_set_idle(c->bitmap, cur_word * 64, set_mask);
				set_mask = 0;
				cur_word = pfn / 64;
				known = ps ? word_read(c->bitmap, pfn, &word) : 1;
				if (known < 0)
					return known;
			}
			bit = 1ULL << (pfn % 64);
			if (!known)
				continue;
			if (ps)
				etm_pagestate_mark(ps, a + (i << ETM_PAGE_SHIFT), 1, (word & bit) ? 0 : 1);
			set_mask |= bit;
		}
		if (set_mask)
			word_set_idle(c->bitmap, cur_word * 64, set_mask);
		a += n << ETM_PAGE_SHIFT;
	}
	return 0;
}

static int pass(struct pi_ctx *c, const struct etm_pagestate *ranges, struct etm_pagestate *ps)
{
	for (size_t i = 0; i < ranges->n; i++) {
		int err = pass_range(c, ranges->r[i].start, ranges->r[i].end, ps);

		if (err)
			return err;
	}
	return 0;
}

static void pi_close(void *ctx)
{
	struct pi_ctx *c = ctx;

	if (!c)
		return;
	if (c->pagemap >= 0)
		close(c->pagemap);
	if (c->bitmap >= 0)
		close(c->bitmap);
	etm_pagestate_free(c->ranges);
	free(c);
}

static int pi_open(pid_t pid, const struct etm_tracker_opts *o, void **out)
{
	struct pi_ctx *c = malloc(sizeof(*c));
	char path[64];
	int err;

	if (!c)
		return -ENOMEM;
	c->pid = pid;
	c->o = *o;
	c->bitmap = -1;
	c->ranges = NULL;
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	c->pagemap = open(path, O_RDONLY | O_CLOEXEC);
	if (c->pagemap < 0) {
		err = errno == ENOENT ? -ESRCH : -errno;
		goto fail;
	}
	c->bitmap = open(BITMAP, O_RDWR | O_CLOEXEC);
	if (c->bitmap < 0) {
		err = -errno;
		goto fail;
	}
	c->ranges = etm_pagestate_new();
	if (!c->ranges) {
		err = -ENOMEM;
		goto fail;
	}
	if (!o->no_baseline && ((err = etm_tracker_ranges(pid, o, c->ranges)) || (err = pass(c, c->ranges, NULL))))
		goto fail;
	*out = c;
	return 0;
fail:
	pi_close(c);
	return err;
}

static int pi_scan(void *ctx, struct etm_pagestate *ps)
{
	struct pi_ctx *c = ctx;

	return pass(c, ps, ps);
}

const struct etm_tracker_ops etm_tracker_page_idle = {
	.probe = pi_probe,
	.open = pi_open,
	.scan = pi_scan,
	.close = pi_close,
};
