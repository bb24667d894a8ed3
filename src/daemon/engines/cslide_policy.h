/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * cslide's decisions as pure functions: pages bucketed by access count and
 * node, and the flow control that picks, per node pair and cycle, which
 * pages go to the fast (hot) node and which to the slow (cold) node.
 *
 * The flow control is the original etmem's, in bytes:
 *  1. hot pages (count >= hot_threshold) on the cold node go to the hot
 *     node, highest counts first, capped by node_mig_quota while it is
 *     below the hot node's free memory, beyond that by half of the excess
 *     (each byte moved past free displaces a cold byte, so it costs twice);
 *  2. prefetch: while the hot node has more than node_hot_reserve free,
 *     the warmest cold pages of the cold node follow, within the quota left;
 *  3. cold pages on the hot node go to the cold node, coldest first, as far
 *     as needed to bring the hot node's free memory back to the reserve,
 *     plus what the hot pass displaced (cold_replaced).
 * Every pass walks counts outermost, then tasks, then pairs, so the
 * hottest (or coldest) pages of all tasks are served first, and stops when
 * every pair's cap is used up. Within a bucket, pages are taken in address
 * order while they fit in the grant.
 */
#ifndef ETM_CSLIDE_POLICY_H
#define ETM_CSLIDE_POLICY_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scan/numa_node.h"
#include "scan/pagestate.h"

/* One unit the scan graded: a base page, a THP or a hugetlb page. */
struct cslide_page {
	uint64_t addr;
	uint16_t count; /* weighted accesses over the cycle's passes, 0..loop*3; sampled (pmu): 0..254 */
	int16_t node;	/* from the placement query; < 0: not placed (not present, gone) */
	uint8_t shift;	/* log2 of its size: 12, 21, 30 */
};

static inline uint64_t cslide_page_bytes(const struct cslide_page *p)
{
	return 1ULL << p->shift;
}

/* How a large unit's count comes from its 4 KiB pages' (cslide_policy.c says why). */
enum cslide_fold {
	CSLIDE_FOLD_LOWEST, /* scanning trackers that read folios (page_idle, idle_pages): the lowest */
	CSLIDE_FOLD_SUM,    /* sampled counts (pmu): the sum, saturating at ETM_PS_COUNT_MAX */
	CSLIDE_FOLD_MOST,   /* trackers that grade regions (DAMON): the count 3/4 of the pages reach */
};

/*
 * The count of the unit [@a, @a + @len) (a base page, THP or hugetlb page)
 * from its 4 KiB pages' in @r, the page state of its VMA, folded by @fold;
 * -1 when the tracker saw none of them.
 */
int cslide_unit_count(const struct etm_ps_range *r, uint64_t a, uint64_t len, enum cslide_fold fold);

/* One task's pages by (count, node): the original's count_page_refs[count].node_pfs[node]. */
struct cslide_buckets {
	int max_count; /* loop * 3 (254 for sampled counts); higher counts are clamped to it */
	int nr_nodes;  /* nodes 0..nr_nodes-1; pages on other nodes are left out */
	const struct cslide_page *pages;
	uint32_t *order;       /* page indices grouped by bucket, ascending address within one */
	uint32_t *start;       /* bucket b holds order[start[b] .. start[b + 1]) */
	uint64_t *bytes;       /* bytes per bucket */
	uint32_t *taken;       /* pages already taken from the front of each bucket */
	uint64_t *left;	       /* bytes not taken yet per bucket */
	uint64_t placed_bytes; /* bytes of all bucketed pages */
};

static inline size_t cslide_bucket(const struct cslide_buckets *b, int count, int node)
{
	return (size_t)count * (size_t)b->nr_nodes + (size_t)node;
}

/*
 * Bucket @n pages (kept by reference: @pages must outlive @b). Pages must
 * come in ascending address order for the within-bucket order to hold.
 * 0 or -ENOMEM, -EINVAL for max_count < 0, nr_nodes < 1 or n >= 2^32.
 */
int cslide_buckets_build(struct cslide_buckets *b, const struct cslide_page *pages, size_t n, int max_count,
			 int nr_nodes);
void cslide_buckets_clear(struct cslide_buckets *b);

/* Bytes on @node with count >= @hot_threshold (hot) and below it (cold). */
void cslide_buckets_node_bytes(const struct cslide_buckets *b, int hot_threshold, int node, uint64_t *hot,
			       uint64_t *cold);

/* A cap of one pass for one pair: the original's ctrl_cap. */
struct cslide_cap {
	int64_t cap, used;
};

/*
 * Grant up to @want bytes from @c: all of it while it is below what is
 * left, otherwise what is left, and the cap is then used up (*exhausted;
 * also when @want equals what is left).
 */
int64_t cslide_cap_take(struct cslide_cap *c, int64_t want, bool *exhausted);

/* One node pair's ledger for one cycle, in bytes: the original's node_ctrl. */
struct cslide_flow_pair {
	int hot_node, cold_node;
	int64_t quota;	       /* left of node_mig_quota */
	int64_t reserve;       /* node_hot_reserve */
	int64_t free;	       /* free on the hot node */
	int64_t cold_free;     /* free on the cold node */
	int64_t cold;	       /* cold bytes on the hot node (all tasks) */
	int64_t cold_replaced; /* hot bytes moved beyond free: cold bytes that must leave */
	struct cslide_cap hot, prefetch, demote;
	bool done; /* the current pass's cap is used up */
};

void cslide_flow_pair_init(struct cslide_flow_pair *p, int hot_node, int cold_node, int64_t quota, int64_t reserve,
			   int64_t free_hot, int64_t free_cold, int64_t cold_on_hot);

/* The caps of the three passes and the ledger updates between them (exactly the original's sums). */
int64_t cslide_flow_hot_cap(struct cslide_flow_pair *p);
void cslide_flow_after_hot(struct cslide_flow_pair *p);
int64_t cslide_flow_prefetch_cap(struct cslide_flow_pair *p);
void cslide_flow_after_prefetch(struct cslide_flow_pair *p);
int64_t cslide_flow_demote_cap(struct cslide_flow_pair *p);

/*
 * Ledgers for @npairs pairs from per-node figures (bytes, indexed by node
 * id < nr_nodes). A node that serves k pairs (a slow node the kernel's
 * tiers give to two fast nodes) lends each of them 1/k of its free memory
 * and of its cold bytes, so that no byte is promised twice. With disjoint
 * pairs this is the original's ledger.
 */
void cslide_flow_pairs_init(struct cslide_flow_pair *p, const struct etm_numa_pair *pairs, size_t npairs, int64_t quota,
			    int64_t reserve, const uint64_t *free_by_node, const uint64_t *cold_by_node, int nr_nodes);

/* What one task moves for one pair in a cycle: indices into its pages. */
struct cslide_moves {
	GArray *promote; /* guint32: to the hot node (the hot pass, then prefetch) */
	GArray *demote;	 /* guint32: to the cold node */
	uint64_t promote_bytes, prefetch_bytes, demote_bytes;
};

struct cslide_plan {
	size_t ntasks, npairs;
	struct cslide_moves *m; /* [task * npairs + pair] */
};

static inline struct cslide_moves *cslide_plan_at(struct cslide_plan *pl, size_t task, size_t pair)
{
	return &pl->m[task * pl->npairs + pair];
}

/*
 * Run the three passes over the buckets of @ntasks tasks and the @npairs
 * ledgers (initialised; they are updated as the passes go). Fills @plan
 * (cleared with cslide_plan_clear()). Buckets' taken/left record what was
 * picked.
 */
void cslide_flow_plan(struct cslide_flow_pair *pairs, size_t npairs, struct cslide_buckets *const *tasks, size_t ntasks,
		      int hot_threshold, struct cslide_plan *plan);
void cslide_plan_clear(struct cslide_plan *plan);

#endif
