/* SPDX-License-Identifier: MulanPSL-2.0 */
/* cslide's buckets and flow control (see cslide_policy.h). */
#include "cslide_policy.h"

#include <errno.h>
#include <string.h>

/*
 * A folio-reading tracker's unit: the lowest of its pages' counts that
 * were seen. page_idle and idle_pages give a folio's pages one count, or
 * read some too high, never too low: page_idle tracks a large folio by
 * its head (the bits of tail pages are never set, so tails always read
 * accessed).
 *
 * A region-grading tracker's unit (DAMON): the lower quartile, the count
 * three quarters of its pages reach. A region's count is how many of its
 * samples, one random address each, found the page there accessed, and
 * regions do not end on folio boundaries. A region holding the last 52 KiB
 * of a hot huge page and megabytes of cold ones samples the hot page about
 * 1 % of the time and reads idle (seen in the rig: with the lowest count a
 * hot huge page went to the slow node), while the region holding the rest
 * of it reads hot. The other way round, a region holding most of a hot
 * huge page and part of a cold one reads accessed (seen too: with the
 * median a cold huge page half in such a region went back and forth). A
 * quarter of the unit may lie in a region that misreads it either way.
 *
 * A sampled unit's count: the sum of its pages'. A sample is an access
 * that happened, on the one page its address fell in: a THP sampled on 3
 * of its 512 pages was accessed (at least) 3 times, and a fault of it
 * samples one address; the lowest count would call it cold.
 */
int cslide_unit_count(const struct etm_ps_range *r, uint64_t a, uint64_t len, enum cslide_fold fold)
{
	uint64_t s = a > r->start ? a : r->start, e = a + len < r->end ? a + len : r->end;
	uint32_t hist[ETM_PS_COUNT_MAX + 1] = { 0 }, seen = 0, below = 0;
	int acc = -1;

	for (uint64_t p = s; p < e; p += ETM_PAGE_SIZE) {
		int c = etm_ps_count(r->st[(p - r->start) >> ETM_PAGE_SHIFT]);

		if (c < 0)
			continue;
		seen++;
		if (fold == CSLIDE_FOLD_MOST)
			hist[MIN(c, (int)ETM_PS_COUNT_MAX)]++;
		else if (acc < 0)
			acc = c;
		else if (fold == CSLIDE_FOLD_SUM)
			acc = MIN(acc + c, (int)ETM_PS_COUNT_MAX);
		else
			acc = MIN(acc, c);
	}
	if (fold != CSLIDE_FOLD_MOST || !seen)
		return acc;
	/* The lowest count that 3/4 of the pages reach: the count of the page at rank seen/4 from the bottom. */
	for (acc = 0; (below += hist[acc]) <= seen / 4; acc++)
		;
	return acc;
}

/* A page's bucket: its count clamped to max_count; false for a page on no known node. */
static bool bucket_of(const struct cslide_buckets *b, const struct cslide_page *p, size_t *k)
{
	if (p->node < 0 || p->node >= b->nr_nodes)
		return false;
	*k = cslide_bucket(b, p->count < b->max_count ? p->count : b->max_count, p->node);
	return true;
}

int cslide_buckets_build(struct cslide_buckets *b, const struct cslide_page *pages, size_t n, int max_count,
			 int nr_nodes)
{
	size_t nb;

	memset(b, 0, sizeof(*b));
	if (max_count < 0 || nr_nodes < 1 || n >= UINT32_MAX || max_count > UINT16_MAX)
		return -EINVAL;
	nb = ((size_t)max_count + 1) * (size_t)nr_nodes;
	b->max_count = max_count;
	b->nr_nodes = nr_nodes;
	b->pages = pages;
	b->start = g_try_new0(uint32_t, nb + 1);
	b->bytes = g_try_new0(uint64_t, nb);
	b->left = g_try_new0(uint64_t, nb);
	b->taken = g_try_new0(uint32_t, nb);
	b->order = g_try_new(uint32_t, n ? n : 1);
	if (!b->start || !b->bytes || !b->left || !b->taken || !b->order) {
		cslide_buckets_clear(b);
		return -ENOMEM;
	}
	/* A counting sort: sizes, offsets, then the indices in address order. */
	for (size_t i = 0; i < n; i++) {
		size_t k;

		if (!bucket_of(b, &pages[i], &k))
			continue;
		b->start[k + 1]++;
		b->bytes[k] += cslide_page_bytes(&pages[i]);
		b->placed_bytes += cslide_page_bytes(&pages[i]);
	}
	for (size_t k = 0; k < nb; k++) {
		b->start[k + 1] += b->start[k];
		b->left[k] = b->bytes[k];
	}
	for (size_t i = 0; i < n; i++) {
		size_t k;

		if (bucket_of(b, &pages[i], &k))
			b->order[b->start[k] + b->taken[k]++] = (uint32_t)i;
	}
	memset(b->taken, 0, nb * sizeof(*b->taken));
	return 0;
}

void cslide_buckets_clear(struct cslide_buckets *b)
{
	g_free(b->order);
	g_free(b->start);
	g_free(b->bytes);
	g_free(b->taken);
	g_free(b->left);
	memset(b, 0, sizeof(*b));
}

void cslide_buckets_node_bytes(const struct cslide_buckets *b, int hot_threshold, int node, uint64_t *hot,
			       uint64_t *cold)
{
	*hot = *cold = 0;
	if (node < 0 || node >= b->nr_nodes || !b->bytes)
		return;
	for (int c = 0; c <= b->max_count; c++) {
		uint64_t v = b->bytes[cslide_bucket(b, c, node)];

		if (c >= hot_threshold)
			*hot += v;
		else
			*cold += v;
	}
}

int64_t cslide_cap_take(struct cslide_cap *c, int64_t want, bool *exhausted)
{
	if (want < c->cap - c->used) {
		c->used += want;
		*exhausted = false;
		return want;
	}
	want = c->cap - c->used;
	c->used = c->cap;
	*exhausted = true;
	return want;
}

void cslide_flow_pair_init(struct cslide_flow_pair *p, int hot_node, int cold_node, int64_t quota, int64_t reserve,
			   int64_t free_hot, int64_t free_cold, int64_t cold_on_hot)
{
	*p = (struct cslide_flow_pair){ .hot_node = hot_node,
					.cold_node = cold_node,
					.quota = quota,
					.reserve = reserve,
					.free = free_hot,
					.cold_free = free_cold,
					.cold = cold_on_hot };
}

int64_t cslide_flow_hot_cap(struct cslide_flow_pair *p)
{
	int64_t can;

	if (p->quota < p->free) {
		can = p->quota;
	} else {
		/* Past the free memory each byte promoted displaces a cold one: half the rest. */
		can = p->free + (p->quota - p->free) / 2;
		if (can > p->free + p->cold_free)
			can = p->free + p->cold_free;
	}
	/* Room on the hot node is what is free plus what cold pages hold. */
	if (can > p->cold + p->free)
		can = p->cold + p->free;
	p->hot = (struct cslide_cap){ .cap = can };
	return can;
}

void cslide_flow_after_hot(struct cslide_flow_pair *p)
{
	int64_t moved = p->hot.used;

	if (moved > p->free) {
		p->cold_replaced += moved - p->free;
		p->quota -= p->free + (moved - p->free) * 2;
		p->cold_free += p->free;
		p->free = 0;
	} else {
		p->free -= moved;
		p->quota -= moved;
		p->cold_free += moved;
	}
}

int64_t cslide_flow_prefetch_cap(struct cslide_flow_pair *p)
{
	int64_t can = 0;

	if (p->free > p->reserve) {
		can = p->free - p->reserve;
		if (can > p->quota)
			can = p->quota;
	}
	p->prefetch = (struct cslide_cap){ .cap = can };
	return can;
}

void cslide_flow_after_prefetch(struct cslide_flow_pair *p)
{
	p->free -= p->prefetch.used;
	p->quota -= p->prefetch.used;
	p->cold_free += p->prefetch.used;
}

int64_t cslide_flow_demote_cap(struct cslide_flow_pair *p)
{
	int64_t can = p->quota < p->reserve - p->free ? p->quota : p->reserve - p->free;

	if (can > p->cold_free)
		can = p->cold_free;
	if (can < 0)
		can = 0;
	p->demote = (struct cslide_cap){ .cap = can + p->cold_replaced };
	return p->demote.cap;
}

void cslide_flow_pairs_init(struct cslide_flow_pair *p, const struct etm_numa_pair *pairs, size_t npairs, int64_t quota,
			    int64_t reserve, const uint64_t *free_by_node, const uint64_t *cold_by_node, int nr_nodes)
{
	g_autofree unsigned *uses = g_new0(unsigned, nr_nodes > 0 ? nr_nodes : 1);

	for (size_t i = 0; i < npairs; i++) {
		if (pairs[i].hot_node >= 0 && pairs[i].hot_node < nr_nodes)
			uses[pairs[i].hot_node]++;
		if (pairs[i].cold_node >= 0 && pairs[i].cold_node < nr_nodes)
			uses[pairs[i].cold_node]++;
	}
	for (size_t i = 0; i < npairs; i++) {
		int h = pairs[i].hot_node, c = pairs[i].cold_node;
		bool hv = h >= 0 && h < nr_nodes, cv = c >= 0 && c < nr_nodes;
		int64_t fh = hv ? (int64_t)(free_by_node[h] / uses[h]) : 0;
		int64_t fc = cv ? (int64_t)(free_by_node[c] / uses[c]) : 0;
		int64_t cold = hv ? (int64_t)(cold_by_node[h] / uses[h]) : 0;

		cslide_flow_pair_init(&p[i], h, c, quota, reserve, fh, fc, cold);
	}
}

enum pass { PASS_HOT, PASS_PREFETCH, PASS_DEMOTE };

/* Take pages from the front of bucket @k while they fit in @grant (all of them if the bucket does). */
static uint64_t take(struct cslide_buckets *b, size_t k, int64_t grant, GArray *to)
{
	uint32_t end = b->start[k + 1];
	uint64_t got = 0;

	while (b->start[k] + b->taken[k] < end) {
		uint32_t i = b->order[b->start[k] + b->taken[k]];
		uint64_t sz = cslide_page_bytes(&b->pages[i]);

		if ((int64_t)(got + sz) > grant)
			break;
		g_array_append_val(to, i);
		got += sz;
		b->taken[k]++;
	}
	b->left[k] -= got;
	return got;
}

static struct cslide_cap *pass_cap(struct cslide_flow_pair *p, enum pass ps)
{
	return ps == PASS_HOT ? &p->hot : ps == PASS_PREFETCH ? &p->prefetch : &p->demote;
}

/* One pair and one bucket of one task: the original's filter_policy. */
static void serve(struct cslide_flow_pair *p, struct cslide_buckets *b, int c, enum pass ps, struct cslide_moves *m)
{
	int node = ps == PASS_DEMOTE ? p->hot_node : p->cold_node;
	size_t k;
	bool used_up;
	int64_t grant;
	uint64_t got;

	if (node < 0 || node >= b->nr_nodes || c > b->max_count)
		return;
	k = cslide_bucket(b, c, node);
	grant = cslide_cap_take(pass_cap(p, ps), (int64_t)b->left[k], &used_up);
	p->done = used_up;
	got = take(b, k, grant, ps == PASS_DEMOTE ? m->demote : m->promote);
	if (ps == PASS_HOT)
		m->promote_bytes += got;
	else if (ps == PASS_PREFETCH)
		m->prefetch_bytes += got;
	else
		m->demote_bytes += got;
}

static bool all_done(const struct cslide_flow_pair *pairs, size_t npairs)
{
	for (size_t i = 0; i < npairs; i++)
		if (!pairs[i].done)
			return false;
	return true;
}

/*
 * Counts @from to @to inclusive by @step (nothing when the range is empty
 * that way), then tasks, then pairs, until every cap is used up.
 */
static void run_pass(struct cslide_flow_pair *pairs, size_t npairs, struct cslide_buckets *const *tasks, size_t ntasks,
		     struct cslide_plan *plan, enum pass ps, int from, int to, int step)
{
	for (size_t j = 0; j < npairs; j++)
		pairs[j].done = pass_cap(&pairs[j], ps)->cap <= 0;
	if (from < 0 || to < 0 || (step < 0 ? from < to : from > to) || all_done(pairs, npairs))
		return;
	for (int c = from;; c += step) {
		for (size_t t = 0; t < ntasks; t++) {
			for (size_t j = 0; j < npairs; j++) {
				if (pairs[j].done)
					continue;
				serve(&pairs[j], tasks[t], c, ps, cslide_plan_at(plan, t, j));
				if (all_done(pairs, npairs))
					return;
			}
		}
		if (c == to)
			break;
	}
}

void cslide_flow_plan(struct cslide_flow_pair *pairs, size_t npairs, struct cslide_buckets *const *tasks, size_t ntasks,
		      int hot_threshold, struct cslide_plan *plan)
{
	size_t cells = ntasks * npairs;
	int top = 0, below;

	plan->ntasks = ntasks;
	plan->npairs = npairs;
	plan->m = g_new0(struct cslide_moves, cells > 0 ? cells : 1);
	for (size_t i = 0; i < cells; i++) {
		plan->m[i].promote = g_array_new(FALSE, FALSE, sizeof(guint32));
		plan->m[i].demote = g_array_new(FALSE, FALSE, sizeof(guint32));
	}
	for (size_t t = 0; t < ntasks; t++)
		top = tasks[t]->max_count > top ? tasks[t]->max_count : top;
	/* Cold counts are 0 .. hot_threshold - 1, bounded by the highest count there is. */
	below = hot_threshold - 1 < top ? hot_threshold - 1 : top;

	for (size_t j = 0; j < npairs; j++)
		cslide_flow_hot_cap(&pairs[j]);
	run_pass(pairs, npairs, tasks, ntasks, plan, PASS_HOT, top, hot_threshold > 0 ? hot_threshold : 0, -1);
	for (size_t j = 0; j < npairs; j++) {
		cslide_flow_after_hot(&pairs[j]);
		cslide_flow_prefetch_cap(&pairs[j]);
	}
	run_pass(pairs, npairs, tasks, ntasks, plan, PASS_PREFETCH, below, 0, -1);
	for (size_t j = 0; j < npairs; j++) {
		cslide_flow_after_prefetch(&pairs[j]);
		cslide_flow_demote_cap(&pairs[j]);
	}
	run_pass(pairs, npairs, tasks, ntasks, plan, PASS_DEMOTE, 0, below, 1);
}

void cslide_plan_clear(struct cslide_plan *plan)
{
	for (size_t i = 0; plan->m && i < plan->ntasks * plan->npairs; i++) {
		g_array_free(plan->m[i].promote, TRUE);
		g_array_free(plan->m[i].demote, TRUE);
	}
	g_free(plan->m);
	memset(plan, 0, sizeof(*plan));
}
