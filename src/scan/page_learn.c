/* SPDX-License-Identifier: MulanPSL-2.0 */
/* What slide learns of a process's pages from the ones that came back: see page_learn.h. */
#include "scan/page_learn.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scan/pagemap.h"
#include "scan/parse.h"

/* pagemap entry bit 63: the page is present in memory. */
#define PM_PRESENT (1ULL << 63)
/* Entries per pagemap read, and pages per presence query. */
#define PM_CHUNK 512
#define QUERY_CHUNK 4096

struct run {
	uint64_t start, end; /* page aligned, end exclusive */
	double at;	     /* out: when it went out; hot: when it was last seen coming back */
};

/* Sorted by start, no two overlapping or adjacent. */
struct runs {
	struct run *r;
	size_t n, cap;
};

struct etm_page_learnt {
	uint64_t id;
	struct runs out;   /* swapped out, not back yet */
	struct runs hot;   /* came back: held hot */
	struct runs noted; /* handed to the action this cycle, not yet checked */
};

int etm_pagemap_present(void *arg, uint64_t addr, size_t n, uint8_t *present)
{
	int fd = *(const int *)arg;
	uint64_t ent[PM_CHUNK];

	for (size_t done = 0; done < n;) {
		size_t k = n - done < PM_CHUNK ? n - done : PM_CHUNK;
		off_t off = (off_t)(((addr >> ETM_PAGE_SHIFT) + done) * sizeof(uint64_t));
		ssize_t r = pread(fd, ent, k * sizeof(uint64_t), off);

		if (r < 0)
			return -errno;
		if ((size_t)r < sizeof(uint64_t))
			return -EIO;
		k = (size_t)r / sizeof(uint64_t);
		for (size_t i = 0; i < k; i++)
			present[done + i] = (ent[i] & PM_PRESENT) != 0;
		done += k;
	}
	return 0;
}

static void runs_clear(struct runs *rs)
{
	free(rs->r);
	memset(rs, 0, sizeof(*rs));
}

/* Append [start, end) at @at, after every run already there; merged with the last one when they touch. */
static int runs_push(struct runs *rs, uint64_t start, uint64_t end, double at)
{
	struct run *last = rs->n ? &rs->r[rs->n - 1] : NULL;

	if (start >= end)
		return 0;
	if (last && start <= last->end) {
		if (end > last->end)
			last->end = end;
		if (at > last->at)
			last->at = at;
		return 0;
	}
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 16;
		struct run *r = realloc(rs->r, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		rs->r = r;
		rs->cap = cap;
	}
	rs->r[rs->n++] = (struct run){ start, end, at };
	return 0;
}

static int cmp_at(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* At most @max runs: the oldest go first; among runs of the same age, the lowest addresses stay. */
static void runs_bound(struct runs *rs, size_t max)
{
	double *at, thr;
	size_t drop, keep_at_thr = 0, w = 0;

	if (rs->n <= max || !(at = malloc(rs->n * sizeof(*at))))
		return;
	for (size_t i = 0; i < rs->n; i++)
		at[i] = rs->r[i].at;
	qsort(at, rs->n, sizeof(*at), cmp_at);
	drop = rs->n - max;
	thr = at[drop - 1]; /* runs older than thr go, and some at thr */
	for (size_t i = drop; i < rs->n && at[i] == thr; i++)
		keep_at_thr++;
	free(at);
	for (size_t i = 0; i < rs->n; i++) {
		if (rs->r[i].at < thr)
			continue;
		if (rs->r[i].at == thr) {
			if (!keep_at_thr)
				continue;
			keep_at_thr--;
		}
		rs->r[w++] = rs->r[i];
	}
	rs->n = w;
}

/* @a and @b (both sorted) merged into a new @out, at most @max runs. */
static int runs_merge(const struct runs *a, const struct runs *b, size_t max, struct runs *out)
{
	size_t i = 0, j = 0;
	int err = 0;

	memset(out, 0, sizeof(*out));
	while (!err && (i < a->n || j < b->n)) {
		const struct run *r =
		    j >= b->n || (i < a->n && a->r[i].start <= b->r[j].start) ? &a->r[i++] : &b->r[j++];

		err = runs_push(out, r->start, r->end, r->at);
	}
	if (err)
		runs_clear(out);
	else
		runs_bound(out, max);
	return err;
}

/* Drop the runs that went out or came back before @since. */
static void runs_expire(struct runs *rs, double since)
{
	size_t w = 0;

	for (size_t i = 0; i < rs->n; i++)
		if (rs->r[i].at >= since)
			rs->r[w++] = rs->r[i];
	rs->n = w;
}

struct etm_page_learnt *etm_page_learnt_new(uint64_t id)
{
	struct etm_page_learnt *pl = calloc(1, sizeof(*pl));

	if (pl)
		pl->id = id;
	return pl;
}

void etm_page_learnt_free(struct etm_page_learnt *pl)
{
	if (!pl)
		return;
	runs_clear(&pl->out);
	runs_clear(&pl->hot);
	runs_clear(&pl->noted);
	free(pl);
}

uint64_t etm_page_learnt_id(const struct etm_page_learnt *pl)
{
	return pl->id;
}

size_t etm_page_learnt_bytes(const struct etm_page_learnt *pl)
{
	return sizeof(*pl) + (pl->out.cap + pl->hot.cap + pl->noted.cap) * sizeof(struct run);
}

/*
 * [@start, @end) split by presence into @on (present) and @off, each piece
 * keeping @at (@on_at for the present ones). 0 or -errno of @present.
 */
static int split(uint64_t start, uint64_t end, double at, double on_at, etm_present_fn present, void *arg,
		 struct runs *on, struct runs *off)
{
	uint8_t p[QUERY_CHUNK];

	while (start < end) {
		size_t n = (end - start) >> ETM_PAGE_SHIFT, i = 0;
		int err;

		if (n > QUERY_CHUNK)
			n = QUERY_CHUNK;
		if ((err = present(arg, start, n, p)))
			return err;
		while (i < n) {
			size_t j = i;

			while (j < n && p[j] == p[i])
				j++;
			err = runs_push(p[i] ? on : off, start + (i << ETM_PAGE_SHIFT), start + (j << ETM_PAGE_SHIFT),
					p[i] ? on_at : at);
			if (err)
				return err;
			i = j;
		}
		start += (uint64_t)n << ETM_PAGE_SHIFT;
	}
	return 0;
}

/* Every seen page of @ps in [@start, @end) gets at least count @lim; the pages raised. */
static uint64_t hold(struct etm_pagestate *ps, uint64_t start, uint64_t end, unsigned lim)
{
	uint64_t raised = 0;

	for (size_t i = 0; i < ps->n; i++) {
		const struct etm_ps_range *r = &ps->r[i];
		uint64_t s = start > r->start ? start : r->start, e = end < r->end ? end : r->end;

		for (uint64_t a = s; a < e; a += ETM_PAGE_SIZE) {
			uint8_t *v = &r->st[(a - r->start) >> ETM_PAGE_SHIFT];

			if (*v && *v < lim + 1) {
				*v = (uint8_t)(lim + 1);
				raised++;
			}
		}
	}
	return raised;
}

/* The out runs checked: what is present again moves to @back (held from @now), the rest stays out. */
static int check_out(struct etm_page_learnt *pl, double now, etm_present_fn present, void *arg, struct runs *back)
{
	struct runs still = { 0 };
	int err = 0;

	for (size_t i = 0; i < pl->out.n && !err; i++) {
		const struct run *r = &pl->out.r[i];

		err = split(r->start, r->end, r->at, now, present, arg, back, &still);
	}
	if (err) { /* checked or not, nothing is lost: the old runs stay */
		runs_clear(&still);
		return err;
	}
	runs_clear(&pl->out);
	pl->out = still;
	return 0;
}

int etm_page_learn_apply(struct etm_page_learnt *pl, struct etm_pagestate *ps, int T, double now, double recent_s,
			 etm_present_fn present, void *arg, struct etm_page_learn_stats *st)
{
	unsigned lim = T < 0 ? 0 : T < (int)ETM_PS_COUNT_MAX ? (unsigned)T : ETM_PS_COUNT_MAX;
	struct runs back = { 0 }, hot;
	int err;

	memset(st, 0, sizeof(*st));
	pl->noted.n = 0; /* notes of a swap-out that failed before it was recorded */
	runs_expire(&pl->out, now - recent_s);
	runs_expire(&pl->hot, now - ETM_PAGE_LEARN_HOLD_S);
	err = check_out(pl, now, present, arg, &back);
	if (!err && back.n && !(err = runs_merge(&pl->hot, &back, ETM_PAGE_LEARN_RUNS, &hot))) {
		for (size_t i = 0; i < back.n; i++)
			st->came_back += (back.r[i].end - back.r[i].start) >> ETM_PAGE_SHIFT;
		runs_clear(&pl->hot);
		pl->hot = hot;
	}
	runs_clear(&back);
	for (size_t i = 0; lim && i < pl->hot.n; i++)
		st->held += hold(ps, pl->hot.r[i].start, pl->hot.r[i].end, lim);
	return err;
}

int etm_page_learn_note(struct etm_page_learnt *pl, uint64_t start, uint64_t len)
{
	if (pl->noted.n >= ETM_PAGE_LEARN_RUNS && start > pl->noted.r[pl->noted.n - 1].end)
		return 0; /* bounded: the rest of this swap-out is not learnt from */
	return runs_push(&pl->noted, start, start + len, 0);
}

int etm_page_learn_out(struct etm_page_learnt *pl, double now, etm_present_fn present, void *arg)
{
	struct runs gone = { 0 }, stayed = { 0 }, out;
	int err = 0;

	for (size_t i = 0; i < pl->noted.n && !err; i++)
		err = split(pl->noted.r[i].start, pl->noted.r[i].end, now, now, present, arg, &stayed, &gone);
	runs_clear(&pl->noted);
	runs_clear(&stayed);
	if (!err && gone.n && !(err = runs_merge(&pl->out, &gone, ETM_PAGE_LEARN_RUNS, &out))) {
		runs_clear(&pl->out);
		pl->out = out;
	}
	runs_clear(&gone);
	return err;
}
