/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Compact per-page access state of one process: one byte per tracked 4 KiB
 * page, grouped in address ranges (normally the VMAs worth scanning).
 *
 * Byte value 0 means "not seen" (not present, a hole, or never reported by
 * the access tracker); v >= 1 means seen with weighted access count v - 1.
 * Counts saturate at ETM_PS_COUNT_MAX (254). slide's counts reach at most
 * 3 * loop = 360, so a saturated page is treated as hot whatever T is: a
 * page whose true count is in [254, T) is kept in memory, the conservative
 * side (see etm_ps_is_cold()).
 */
#ifndef ETM_SCAN_PAGESTATE_H
#define ETM_SCAN_PAGESTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETM_PAGE_SHIFT 12
#define ETM_PAGE_SIZE (1ULL << ETM_PAGE_SHIFT)
#define ETM_PS_COUNT_MAX 254u

/* Access weights of the original: accessed = 1, dirty/written = 3, idle = 0. */
#define ETM_WEIGHT_IDLE 0u
#define ETM_WEIGHT_ACCESSED 1u
#define ETM_WEIGHT_DIRTY 3u

struct etm_ps_range {
	uint64_t start; /* page aligned */
	uint64_t end;	/* page aligned, exclusive */
	uint8_t *st;	/* (end - start) / 4 KiB bytes */
};

struct etm_pagestate {
	struct etm_ps_range *r;
	size_t n, cap;
	size_t hint; /* last range hit: streams are mostly ascending */
};

struct etm_pagestate *etm_pagestate_new(void);
void etm_pagestate_free(struct etm_pagestate *ps);
/*
 * Track [start, end). Ranges must be added in ascending order without
 * overlap; both ends are rounded outwards to 4 KiB. 0, -EINVAL or -ENOMEM.
 */
int etm_pagestate_add_range(struct etm_pagestate *ps, uint64_t start, uint64_t end);
/* Forget every count (ranges stay). */
void etm_pagestate_reset(struct etm_pagestate *ps);
/* Number of tracked pages and the bytes the state takes (for the <= 1 B/page claim). */
uint64_t etm_pagestate_pages(const struct etm_pagestate *ps);
size_t etm_pagestate_bytes(const struct etm_pagestate *ps);

/*
 * Record one observation of the @npages 4 KiB pages from @addr: mark them
 * seen and add @weight (saturating). Pages outside the tracked ranges are
 * ignored. Cost is bounded by the tracked pages the span covers.
 */
void etm_pagestate_mark(struct etm_pagestate *ps, uint64_t addr, uint64_t npages, unsigned weight);

/* Count of a page byte, or -1 when not seen. */
static inline int etm_ps_count(uint8_t v)
{
	return v ? (int)v - 1 : -1;
}

/* slide's grading: a seen page with weighted count < T is cold. */
static inline bool etm_ps_is_cold(uint8_t v, int T)
{
	int lim = T < (int)ETM_PS_COUNT_MAX ? T : (int)ETM_PS_COUNT_MAX;

	return v != 0 && (int)v - 1 < lim;
}

struct etm_grade {
	uint64_t scanned; /* seen pages */
	uint64_t hot;
	uint64_t cold;
};

void etm_pagestate_grade(const struct etm_pagestate *ps, int T, struct etm_grade *g);

/*
 * Call @fn for every maximal run of adjacent pages @take says yes to (given
 * each page's byte, in ascending order, once). Stops and returns @fn's value
 * when it is non-zero. Both get @arg.
 */
int etm_pagestate_for_each_run(const struct etm_pagestate *ps, bool (*take)(uint8_t v, void *arg),
			       int (*fn)(uint64_t start, uint64_t len, void *arg), void *arg);

/* The same for the cold pages (etm_ps_is_cold()). */
int etm_pagestate_for_each_cold(const struct etm_pagestate *ps, int T,
				int (*fn)(uint64_t start, uint64_t len, void *arg), void *arg);

#endif
