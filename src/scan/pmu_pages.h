/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Per-page sample counts of one process: a VMA index (ascending address
 * ranges) and one byte per page, kept in radix trees of 512-count leaves
 * that exist only where samples landed. A process may reserve terabytes it
 * never touches (sanitizer shadows, managed heaps): memory, cooling and
 * rebuilds cost what was sampled, not what is mapped. Dense sampling costs
 * 1 byte per page plus 1/64 for the trees' nodes.
 *
 * A page is the VMA's: 4 KiB, or for a hugetlb VMA its huge page (2 MiB,
 * 1 GiB, ...), which the kernel maps, faults and migrates whole. A sample
 * anywhere in a huge page raises that page's one count (a 2 MiB page costs
 * one byte, not 512), and each page size has a tree of its own, keyed by
 * address >> its shift.
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

/* Largest page shift indexed (16 GiB, powerpc's largest hugetlb page). */
#define ETM_PMU_SHIFT_MAX 34
/* Page sizes one index holds: 4 KiB and up to five hugetlb sizes (arm64 has 64K, 2M, 32M and 1G). */
#define ETM_PMU_TREES 6

/* One range to index. */
struct etm_pmu_range {
	uint64_t start, end;
	/* log2 of its page size: 0 (or ETM_PAGE_SHIFT) for 4 KiB pages, a hugetlb VMA's (21: 2 MiB) */
	unsigned shift;
};

struct etm_pmu_vma {
	uint64_t start, end; /* aligned to its page size, end exclusive */
	unsigned tree;	     /* its page size's tree */
};

/* The counts of one page size: a radix tree of page numbers (address >> shift). */
struct etm_pmu_tree {
	unsigned shift;
	void *root;		/* leaves of 512 counts */
	uint64_t leaves, nodes; /* allocated (atomic) */
};

struct etm_pmu_pages {
	struct etm_pmu_vma *v;
	size_t nv;
	uint64_t npages; /* indexed pages, each of its VMA's size */
	struct etm_pmu_tree t[ETM_PMU_TREES];
	unsigned nt;
};

/*
 * The ranges of @n smaps VMAs (procfs.h), each in its page size: a hugetlb
 * VMA's KernelPageSize (4 KiB where it is not a power of two up to
 * 2^ETM_PMU_SHIFT_MAX), 4 KiB for the others. A new array (free()); 0 or
 * -ENOMEM.
 */
int etm_pmu_ranges_of_smaps(const struct etm_smaps_vma *v, size_t n, struct etm_pmu_range **out);

/*
 * A new index over the @n ranges @r (ascending, not overlapping; rounded
 * outwards to their page size). With @old, its counts move over (see
 * carry). 0, -EINVAL (ranges out of order or empty, a shift out of
 * [12, ETM_PMU_SHIFT_MAX], more than ETM_PMU_TREES sizes), -ENOMEM.
 */
int etm_pmu_pages_new(const struct etm_pmu_range *r, size_t n, struct etm_pmu_pages *old, struct etm_pmu_pages **out);
void etm_pmu_pages_free(struct etm_pmu_pages *p);
/*
 * Move @old's counts into @p (which has none yet): pages in both indexes,
 * of the same size, keep their counts, the others are dropped. The index
 * is rebuilt when the process maps and unmaps memory; the pages that
 * stayed keep their history. @old is left without counts.
 */
void etm_pmu_pages_carry(struct etm_pmu_pages *p, struct etm_pmu_pages *old);
/* Bytes the counts take (the tree's nodes and leaves). */
uint64_t etm_pmu_pages_bytes(const struct etm_pmu_pages *p);

/*
 * One sample at @addr: its page's count (of a hugetlb VMA: its huge page's) goes up by @inc (saturating).
 * false when @addr is in no range of the index. @hint (caller-owned, may be
 * NULL) remembers the last range hit: samples of a burst are mostly close.
 */
bool etm_pmu_pages_hit(struct etm_pmu_pages *p, uint64_t addr, unsigned inc, size_t *hint);

/* The count of @addr's page (its huge page's in a hugetlb VMA), or -1 outside the index. */
int etm_pmu_pages_count(const struct etm_pmu_pages *p, uint64_t addr);
/* Pages (of any size) with a count above 0. */
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
 * is seen with weight 0 (cold for any T > 0). @ps has 4 KiB pages; a huge
 * page's count goes to them as the engine reads a large unit: with
 * ETM_PMU_FOLD_WEIGHT every 4 KiB page of it gets its weight, with
 * ETM_PMU_FOLD_COUNT its first 4 KiB page (in @ps) gets the count and the
 * others 0, so that the sum over the huge page (cslide_unit_count()) is its
 * count. Runs of equal weight are marked in one call. With @pagemap_fd (the target's /proc/PID/pagemap,
 * else -1) a run of weight 0 is marked only where pages are present or
 * swapped (PAGEMAP_SCAN, Linux 6.7): a never-touched reservation of
 * terabytes (a sanitizer's shadow, a managed heap) is skipped by the
 * kernel's page-table walk instead of being marked page by page. Without
 * the ioctl every indexed page is marked, as before.
 */
void etm_pmu_pages_fold(const struct etm_pmu_pages *p, struct etm_pagestate *ps, int pagemap_fd, enum etm_pmu_fold how);

#endif
