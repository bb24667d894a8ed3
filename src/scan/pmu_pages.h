/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Per-page sample counts of one process: a VMA index (ascending address
 * ranges) over one byte per 4 KiB page, as compact as the page state it is
 * folded into (scan/pagestate.h).
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

struct etm_pmu_vma {
	uint64_t start, end; /* page aligned, end exclusive */
	uint64_t base;	     /* index of the first page's count in cnt */
};

struct etm_pmu_pages {
	struct etm_pmu_vma *v;
	size_t nv;
	uint8_t *cnt;
	uint64_t npages;
};

/*
 * A new index over the @n ranges @r (ascending, not overlapping; rounded
 * outwards to 4 KiB). With @old, every page present in both keeps its count
 * (the index is rebuilt when the process maps and unmaps memory; the pages
 * that stayed keep their history). 0, -EINVAL (ranges out of order or
 * empty), -ENOMEM.
 */
int etm_pmu_pages_new(const struct etm_addr_range *r, size_t n, const struct etm_pmu_pages *old,
		      struct etm_pmu_pages **out);
void etm_pmu_pages_free(struct etm_pmu_pages *p);
/* Copy into @p the counts of the pages it shares with @old. */
void etm_pmu_pages_carry(struct etm_pmu_pages *p, const struct etm_pmu_pages *old);

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

/*
 * Fold the counts into @ps: every indexed page inside @ps's ranges is
 * marked seen with weight etm_pmu_weight(count), so a page never sampled
 * is seen with weight 0 (cold for any T > 0). Runs of equal weight are
 * marked in one call.
 */
void etm_pmu_pages_fold(const struct etm_pmu_pages *p, struct etm_pagestate *ps);

#endif
