/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Per-page sample counts of one process: a VMA index (ascending address
 * ranges) and one byte per 4 KiB page, kept in a radix tree of 512-page
 * leaves that exist only where samples landed. A process may reserve
 * terabytes it never touches (sanitizer shadows, managed heaps): memory,
 * cooling and rebuilds cost what was sampled, not what is mapped. Dense
 * sampling costs 1 byte per page plus 1/64 for the tree's nodes.
 *
 * Counts saturate at 255 and decay: etm_pmu_pages_cool() halves them, and
 * nothing else ever lowers them. A sample is a one-off signal (with the
 * page-faults event, a page faults once and then is silent while resident),
 * so resetting counts at each cycle would make a page brought back in look
 * cold again at the next one.
 *
 * Concurrency: etm_pmu_pages_hit() may run in several threads at once (the
 * increment is an atomic saturating add); building, cooling and freeing
 * need the caller's exclusive lock; reads (count, fold) see each byte
 * atomically.
 */
#ifndef ETM_SCAN_PMU_PAGES_H
#define ETM_SCAN_PMU_PAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scan/pagestate.h"
#include "scan/procfs.h"

#define ETM_PMU_COUNT_MAX 255u
/* Indexed addresses end below 2^57 (5-level paging's user space). */
#define ETM_PMU_ADDR_LIMIT (1ULL << 57)

struct etm_pmu_vma {
	uint64_t start, end; /* page aligned, end exclusive */
};

struct etm_pmu_pages {
	struct etm_pmu_vma *v;
	size_t nv;
	uint64_t npages;	/* indexed pages */
	void *root;		/* radix tree of page numbers; leaves of 512 counts */
	uint64_t leaves, nodes; /* allocated (atomic) */
};

/*
 * A new index over the @n ranges @r (ascending, not overlapping; rounded
 * outwards to 4 KiB). With @old, its counts move over (see carry). 0,
 * -EINVAL (ranges out of order or empty), -ENOMEM.
 */
int etm_pmu_pages_new(const struct etm_addr_range *r, size_t n, struct etm_pmu_pages *old, struct etm_pmu_pages **out);
void etm_pmu_pages_free(struct etm_pmu_pages *p);
/*
 * Move @old's counts into @p (which has none yet): pages in both indexes
 * keep their counts, the others are dropped. The index is rebuilt when the
 * process maps and unmaps memory; the pages that stayed keep their history.
 * @old is left without counts.
 */
void etm_pmu_pages_carry(struct etm_pmu_pages *p, struct etm_pmu_pages *old);
/* Bytes the counts take (the tree's nodes and leaves). */
uint64_t etm_pmu_pages_bytes(const struct etm_pmu_pages *p);

/*
 * One sample at @addr: its page's count goes up by @inc (saturating).
 * false when @addr is in no range of the index. @hint (caller-owned, may be
 * NULL) remembers the last range hit: samples of a burst are mostly close.
 */
bool etm_pmu_pages_hit(struct etm_pmu_pages *p, uint64_t addr, unsigned inc, size_t *hint);

/* The count of @addr's page, or -1 outside the index. */
int etm_pmu_pages_count(const struct etm_pmu_pages *p, uint64_t addr);
/* Pages with a count above 0. */
uint64_t etm_pmu_pages_sampled(const struct etm_pmu_pages *p);
/* Halve every count (the caller holds the exclusive lock). */
void etm_pmu_pages_cool(struct etm_pmu_pages *p);

/*
 * The page-state weight of a count: its bit length (0, 1, 2-3, 4-7, ...
 * give 0, 1, 2, 3, ...; 255 gives 8), the log scale the original used for
 * its buckets, so that a page sampled a hundred times does not outweigh
 * slide's threshold by a hundred.
 */
static inline unsigned etm_pmu_weight(unsigned count)
{
	unsigned w = 0;

	while (count) {
		w++;
		count >>= 1;
	}
	return w;
}

/* What a fold adds to each page of the page state. */
enum etm_pmu_fold {
	/* etm_pmu_weight(count), once per pass (slide: T against the passes' sum) */
	ETM_PMU_FOLD_WEIGHT,
	/*
	 * the count itself, saturating at the page state's 254 (cslide:
	 * hot_threshold against the decayed sample count; the engine folds
	 * into a page state it reset, so passes do not add up)
	 */
	ETM_PMU_FOLD_COUNT,
};

/*
 * Fold the counts into @ps: every indexed page inside @ps's ranges is
 * marked seen with weight etm_pmu_weight(count) (@how: ETM_PMU_FOLD_WEIGHT)
 * or count (ETM_PMU_FOLD_COUNT), so a page never sampled
 * is seen with weight 0 (cold for any T > 0). Runs of equal weight are
 * marked in one call. With @pagemap_fd (the target's /proc/PID/pagemap,
 * else -1) a run of weight 0 is marked only where pages are present or
 * swapped (PAGEMAP_SCAN, Linux 6.7): a never-touched reservation of
 * terabytes (a sanitizer's shadow, a managed heap) is skipped by the
 * kernel's page-table walk instead of being marked page by page. Without
 * the ioctl every indexed page is marked, as before.
 */
void etm_pmu_pages_fold(const struct etm_pmu_pages *p, struct etm_pagestate *ps, int pagemap_fd, enum etm_pmu_fold how);

#endif
