/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * cslide's buckets and flow control against worked examples. Pages are
 * 1 MiB units (shift 20) so that every figure reads in MB; the granularity
 * example uses 2 MiB pages as hugetlb and THP give them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/engines/cslide_policy.h"

#define MB (1LL << 20)
#define MAXP 4096

/* One task's pages, built group by group at ascending addresses. */
struct task {
	struct cslide_page p[MAXP];
	size_t n;
	uint64_t next;
	struct cslide_buckets b;
};

static void group(struct task *t, int count, int node, int pages, int shift)
{
	if (!t->next)
		t->next = 1ULL << 40;
	for (int i = 0; i < pages; i++) {
		assert_true(t->n < MAXP);
		t->p[t->n++] = (struct cslide_page){
			.addr = t->next, .count = (uint16_t)count, .node = (int16_t)node, .shift = (uint8_t)shift
		};
		t->next += 1ULL << shift;
	}
}

static void build(struct task *t, int max_count, int nr_nodes)
{
	assert_int_equal(cslide_buckets_build(&t->b, t->p, t->n, max_count, nr_nodes), 0);
}

static uint64_t list_bytes(const struct task *t, const GArray *a)
{
	uint64_t s = 0;

	for (guint i = 0; i < a->len; i++)
		s += cslide_page_bytes(&t->p[g_array_index(a, guint32, i)]);
	return s;
}

/* One task, one pair (hot 0, cold 2): run the three passes. */
static struct cslide_moves run1(struct task *t, struct cslide_flow_pair *p, int hot_threshold, struct cslide_plan *plan)
{
	struct cslide_buckets *tb = &t->b;

	cslide_flow_plan(p, 1, &tb, 1, hot_threshold, plan);
	return *cslide_plan_at(plan, 0, 0);
}

static void finish(struct task *t, struct cslide_plan *plan)
{
	cslide_plan_clear(plan);
	cslide_buckets_clear(&t->b);
}

/* A fresh task: the static ones are reused between tests. */
static void fresh(struct task *t)
{
	memset(t, 0, sizeof(*t));
}

static int64_t cold_on(struct task *t, int node, int hot_threshold)
{
	uint64_t hot, cold;

	cslide_buckets_node_bytes(&t->b, hot_threshold, node, &hot, &cold);
	return (int64_t)cold;
}

/* Quota below free: the hot pass moves the quota and uses it all up. */
static void test_quota_below_free(void **state)
{
	static struct task t;
	struct cslide_flow_pair p;
	struct cslide_plan plan;
	struct cslide_moves m;

	(void)state;
	fresh(&t);
	group(&t, 0, 0, 300, 20); /* cold on the hot node */
	group(&t, 5, 2, 150, 20); /* hot on the cold node */
	build(&t, 6, 3);
	cslide_flow_pair_init(&p, 0, 2, 100 * MB, 50 * MB, 1000 * MB, 2000 * MB, cold_on(&t, 0, 3));
	assert_int_equal(p.cold, 300 * MB);
	m = run1(&t, &p, 3, &plan);
	assert_int_equal(p.hot.cap, 100 * MB);
	assert_int_equal(m.promote_bytes, 100 * MB);
	assert_int_equal(list_bytes(&t, m.promote), 100 * MB);
	assert_int_equal(m.prefetch_bytes, 0);
	assert_int_equal(m.demote_bytes, 0);
	assert_int_equal(p.quota, 0);
	assert_int_equal(p.free, 900 * MB);
	assert_int_equal(p.cold_free, 2100 * MB);
	assert_int_equal(p.cold_replaced, 0);
	/* the first 100 pages of the bucket, in address order */
	assert_int_equal(g_array_index(m.promote, guint32, 0), 300);
	assert_int_equal(g_array_index(m.promote, guint32, 99), 399);
	finish(&t, &plan);
}

/*
 * Quota above free: past the 200 MB free, each promoted byte costs two, so
 * 200 + (1000 - 200) / 2 = 600 go up, and the 400 beyond free must come
 * back down as cold_replaced although the quota is spent.
 */
static void test_quota_above_free_cold_replaced(void **state)
{
	static struct task t;
	struct cslide_flow_pair p;
	struct cslide_plan plan;
	struct cslide_moves m;

	(void)state;
	fresh(&t);
	group(&t, 0, 0, 600, 20);
	group(&t, 6, 2, 2000, 20);
	build(&t, 6, 3);
	cslide_flow_pair_init(&p, 0, 2, 1000 * MB, 0, 200 * MB, 5000 * MB, cold_on(&t, 0, 3));
	m = run1(&t, &p, 3, &plan);
	assert_int_equal(p.hot.cap, 600 * MB);
	assert_int_equal(m.promote_bytes, 600 * MB);
	assert_int_equal(p.cold_replaced, 400 * MB);
	assert_int_equal(p.quota, 0);
	assert_int_equal(p.free, 0);
	assert_int_equal(p.cold_free, 5200 * MB);
	assert_int_equal(p.prefetch.cap, 0);
	assert_int_equal(p.demote.cap, 400 * MB);
	assert_int_equal(m.demote_bytes, 400 * MB);
	assert_int_equal(list_bytes(&t, m.demote), 400 * MB);
	finish(&t, &plan);
}

/* The hot pass is also bounded by the room on the hot node: free + cold there. */
static void test_hot_cap_bounds(void **state)
{
	struct cslide_flow_pair p;

	(void)state;
	/* quota 1000 >= free 100: 100 + 450 = 550, but only 100 + 50 of room */
	cslide_flow_pair_init(&p, 0, 1, 1000 * MB, 0, 100 * MB, 5000 * MB, 50 * MB);
	assert_int_equal(cslide_flow_hot_cap(&p), 150 * MB);
	/* 550, but the cold node can take only 100 + 30 of displaced cold pages */
	cslide_flow_pair_init(&p, 0, 1, 1000 * MB, 0, 100 * MB, 30 * MB, 5000 * MB);
	assert_int_equal(cslide_flow_hot_cap(&p), 130 * MB);
	/* odd excess: (1001 - 100) / 2 rounds down */
	cslide_flow_pair_init(&p, 0, 1, 1001 * MB, 0, 100 * MB, 5000 * MB, 5000 * MB);
	assert_int_equal(cslide_flow_hot_cap(&p), 100 * MB + (901 * MB) / 2);
}

/* Reserve larger than free: nothing prefetched, cold pages leave to restore the reserve. */
static void test_reserve_above_free(void **state)
{
	static struct task t;
	struct cslide_flow_pair p;
	struct cslide_plan plan;
	struct cslide_moves m;

	(void)state;
	fresh(&t);
	group(&t, 0, 0, 500, 20);
	group(&t, 2, 0, 300, 20);
	group(&t, 1, 2, 50, 20); /* warm on the cold node: not prefetched, no room */
	build(&t, 6, 3);
	cslide_flow_pair_init(&p, 0, 2, 500 * MB, 1000 * MB, 300 * MB, 4000 * MB, cold_on(&t, 0, 3));
	m = run1(&t, &p, 3, &plan);
	assert_int_equal(m.promote_bytes, 0);
	assert_int_equal(p.prefetch.cap, 0);
	assert_int_equal(m.prefetch_bytes, 0);
	/* min(quota 500, reserve - free 700, cold_free 4000) */
	assert_int_equal(p.demote.cap, 500 * MB);
	assert_int_equal(m.demote_bytes, 500 * MB);
	/* coldest first: all 500 of count 0, none of count 2 */
	for (guint i = 0; i < m.demote->len; i++)
		assert_int_equal(t.p[g_array_index(m.demote, guint32, i)].count, 0);
	finish(&t, &plan);

	/* the same with a nearly full cold node: only its 200 MB free */
	fresh(&t);
	group(&t, 0, 0, 500, 20);
	build(&t, 6, 3);
	cslide_flow_pair_init(&p, 0, 2, 500 * MB, 1000 * MB, 300 * MB, 200 * MB, cold_on(&t, 0, 3));
	m = run1(&t, &p, 3, &plan);
	assert_int_equal(m.demote_bytes, 200 * MB);
	finish(&t, &plan);
}

/* Prefetch while free is above the reserve: warmest cold pages first, within the quota left. */
static void test_prefetch(void **state)
{
	static struct task t;
	struct cslide_flow_pair p;
	struct cslide_plan plan;
	struct cslide_moves m;

	(void)state;
	fresh(&t);
	group(&t, 4, 2, 50, 20);  /* hot on the cold node */
	group(&t, 0, 2, 300, 20); /* cold node, count 0 */
	group(&t, 1, 2, 200, 20); /* count 1 */
	group(&t, 2, 2, 100, 20); /* count 2 */
	build(&t, 6, 3);
	cslide_flow_pair_init(&p, 0, 2, 300 * MB, 100 * MB, 1000 * MB, 5000 * MB, cold_on(&t, 0, 3));
	m = run1(&t, &p, 3, &plan);
	assert_int_equal(m.promote_bytes, 50 * MB);
	/* free 950 - reserve 100 = 850, quota left 250 */
	assert_int_equal(p.prefetch.cap, 250 * MB);
	assert_int_equal(m.prefetch_bytes, 250 * MB);
	assert_int_equal(m.promote->len, 300);
	/* after the 50 hot pages: all 100 of count 2, then the first 150 of count 1 */
	assert_int_equal(t.p[g_array_index(m.promote, guint32, 50)].count, 2);
	assert_int_equal(t.p[g_array_index(m.promote, guint32, 149)].count, 2);
	assert_int_equal(t.p[g_array_index(m.promote, guint32, 150)].count, 1);
	assert_int_equal(g_array_index(m.promote, guint32, 150), 350);
	assert_int_equal(g_array_index(m.promote, guint32, 299), 499);
	assert_int_equal(p.free, 700 * MB);
	assert_int_equal(p.quota, 0);
	assert_int_equal(m.demote_bytes, 0);
	finish(&t, &plan);
}

/*
 * 2 MiB pages: a grant is filled with whole pages only, and the cap counts
 * as used up whatever was left over (the original's accounting). Hot cap
 * 3 + (10 - 3) / 2 = 6.5 MB takes 3 pages but counts 6.5 as moved, so 3.5
 * is cold_replaced; that demote cap fits one page.
 */
static void test_huge_granularity(void **state)
{
	static struct task t;
	struct cslide_flow_pair p;
	struct cslide_plan plan;
	struct cslide_moves m;

	(void)state;
	fresh(&t);
	group(&t, 6, 2, 5, 21);
	group(&t, 0, 0, 6, 21);
	build(&t, 6, 3);
	cslide_flow_pair_init(&p, 0, 2, 10 * MB, 0, 3 * MB, 100 * MB, cold_on(&t, 0, 3));
	m = run1(&t, &p, 3, &plan);
	assert_int_equal(p.hot.cap, 13 * MB / 2);
	assert_int_equal(m.promote_bytes, 6 * MB);
	assert_int_equal(m.promote->len, 3);
	assert_int_equal(p.cold_replaced, 7 * MB / 2);
	assert_int_equal(p.quota, 0);
	assert_int_equal(p.demote.cap, 7 * MB / 2);
	assert_int_equal(m.demote_bytes, 2 * MB);
	assert_int_equal(m.demote->len, 1);
	assert_int_equal(p.demote.used, 7 * MB / 2);
	finish(&t, &plan);
}

static void test_threshold_edges(void **state)
{
	static struct task t;
	uint64_t hot, cold;

	(void)state;
	fresh(&t);
	group(&t, 0, 1, 1, 20);
	group(&t, 2, 1, 2, 20);
	group(&t, 3, 1, 4, 20);
	group(&t, 6, 1, 8, 20);
	group(&t, 9, 1, 16, 20);  /* above loop*3 = 6: clamped into 6 */
	group(&t, 3, 5, 32, 20);  /* a node past nr_nodes: left out */
	group(&t, 3, -2, 64, 20); /* not placed (-ENOENT): left out */
	build(&t, 6, 3);
	assert_int_equal(t.b.placed_bytes, 31 * MB);
	cslide_buckets_node_bytes(&t.b, 3, 1, &hot, &cold);
	assert_int_equal(hot, 28 * MB); /* count 3 is hot */
	assert_int_equal(cold, 3 * MB); /* count 2 is cold */
	cslide_buckets_node_bytes(&t.b, 4, 1, &hot, &cold);
	assert_int_equal(hot, 24 * MB);
	cslide_buckets_node_bytes(&t.b, 0, 1, &hot, &cold);
	assert_int_equal(hot, 31 * MB);
	assert_int_equal(cold, 0);
	cslide_buckets_node_bytes(&t.b, 6, 1, &hot, &cold);
	assert_int_equal(hot, 24 * MB);
	cslide_buckets_node_bytes(&t.b, 7, 1, &hot, &cold);
	assert_int_equal(hot, 0);
	assert_int_equal(cold, 31 * MB);
	cslide_buckets_node_bytes(&t.b, 3, 0, &hot, &cold);
	assert_int_equal(hot + cold, 0);
	cslide_buckets_node_bytes(&t.b, 3, 7, &hot, &cold);
	assert_int_equal(hot + cold, 0);
	assert_int_equal(t.b.bytes[cslide_bucket(&t.b, 6, 1)], 24 * MB);
	cslide_buckets_clear(&t.b);
	assert_int_equal(cslide_buckets_build(&t.b, t.p, t.n, -1, 3), -EINVAL);
	assert_int_equal(cslide_buckets_build(&t.b, t.p, t.n, 6, 0), -EINVAL);
}

/* hot_threshold above every count: nothing is hot; prefetch starts at the highest count. */
static void test_threshold_above_counts(void **state)
{
	static struct task t;
	struct cslide_flow_pair p;
	struct cslide_plan plan;
	struct cslide_moves m;

	(void)state;
	fresh(&t);
	group(&t, 6, 2, 10, 20);
	group(&t, 1, 2, 10, 20);
	build(&t, 6, 3);
	cslide_flow_pair_init(&p, 0, 2, 15 * MB, 0, 100 * MB, 100 * MB, 0);
	m = run1(&t, &p, 7, &plan);
	assert_int_equal(m.promote_bytes, 0);
	assert_int_equal(p.hot.used, 0);
	assert_int_equal(m.prefetch_bytes, 15 * MB);
	assert_int_equal(t.p[g_array_index(m.promote, guint32, 9)].count, 6);
	assert_int_equal(t.p[g_array_index(m.promote, guint32, 10)].count, 1);
	finish(&t, &plan);
}

/* Counts outermost: the hotter task is served first, then the next count of either. */
static void test_tasks_by_count(void **state)
{
	static struct task a, b;
	struct cslide_buckets *tb[2] = { &a.b, &b.b };
	struct cslide_flow_pair p[2];
	struct cslide_plan plan;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	group(&a, 4, 2, 30, 20);
	group(&b, 6, 2, 20, 20);
	group(&b, 5, 3, 40, 20);
	build(&a, 6, 4);
	build(&b, 6, 4);
	cslide_flow_pair_init(&p[0], 0, 2, 30 * MB, 0, 1000 * MB, 1000 * MB, 0);
	cslide_flow_pair_init(&p[1], 1, 3, 25 * MB, 0, 1000 * MB, 1000 * MB, 0);
	cslide_flow_plan(p, 2, tb, 2, 3, &plan);
	/* pair 0: b's 20 at count 6, then 10 of a's count 4 */
	assert_int_equal(cslide_plan_at(&plan, 1, 0)->promote_bytes, 20 * MB);
	assert_int_equal(cslide_plan_at(&plan, 0, 0)->promote_bytes, 10 * MB);
	/* pair 1: b's count-5 pages on node 3, up to its own quota */
	assert_int_equal(cslide_plan_at(&plan, 1, 1)->promote_bytes, 25 * MB);
	assert_int_equal(cslide_plan_at(&plan, 0, 1)->promote_bytes, 0);
	assert_int_equal(p[0].quota, 0);
	cslide_plan_clear(&plan);
	cslide_buckets_clear(&a.b);
	cslide_buckets_clear(&b.b);
}

/* A slow node shared by two pairs (the kernel's tiers on the 3-node rig) lends each half. */
static void test_pairs_share_a_node(void **state)
{
	const struct etm_numa_pair pairs[2] = { { 0, 2 }, { 1, 2 } };
	uint64_t free_by_node[3] = { 100 * MB, 300 * MB, 1000 * MB }, cold_by_node[3] = { 40 * MB, 0, 7 * MB };
	struct cslide_flow_pair p[2];

	(void)state;
	cslide_flow_pairs_init(p, pairs, 2, 64 * MB, 8 * MB, free_by_node, cold_by_node, 3);
	assert_int_equal(p[0].free, 100 * MB);
	assert_int_equal(p[0].cold_free, 500 * MB);
	assert_int_equal(p[1].free, 300 * MB);
	assert_int_equal(p[1].cold_free, 500 * MB);
	assert_int_equal(p[0].cold, 40 * MB);
	assert_int_equal(p[1].quota, 64 * MB);
	assert_int_equal(p[1].reserve, 8 * MB);
}

static void test_cap_take(void **state)
{
	struct cslide_cap c = { .cap = 10 };
	bool ex;

	(void)state;
	assert_int_equal(cslide_cap_take(&c, 4, &ex), 4);
	assert_false(ex);
	assert_int_equal(cslide_cap_take(&c, 0, &ex), 0);
	assert_false(ex);
	assert_int_equal(cslide_cap_take(&c, 6, &ex), 6); /* exactly what is left: used up */
	assert_true(ex);
	c = (struct cslide_cap){ .cap = 10 };
	assert_int_equal(cslide_cap_take(&c, 25, &ex), 10);
	assert_true(ex);
	assert_int_equal(c.used, 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quota_below_free), cmocka_unit_test(test_quota_above_free_cold_replaced),
		cmocka_unit_test(test_hot_cap_bounds),	 cmocka_unit_test(test_reserve_above_free),
		cmocka_unit_test(test_prefetch),	 cmocka_unit_test(test_huge_granularity),
		cmocka_unit_test(test_threshold_edges),	 cmocka_unit_test(test_threshold_above_counts),
		cmocka_unit_test(test_tasks_by_count),	 cmocka_unit_test(test_pairs_share_a_node),
		cmocka_unit_test(test_cap_take),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
