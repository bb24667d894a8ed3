/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Reclaim of a memory cgroup's anonymous memory, stepwise, on top of the
 * memcg file layer (memcg.h): v2 writes memory.reclaim; v1 (no
 * memory.reclaim) lowers memory.limit_in_bytes in ETM_MEMCG_STEP cuts and
 * always writes the original back, with the cuts in flight journaled
 * (memcg_journal.h).
 *
 * Two ways to size the steps:
 *  - etm_memcg_reclaim(): the memcg_lru reclaimer's. The kernel's LRU
 *    grades: on the inactive list each page's accessed bits are checked
 *    through rmap (second chance), referenced anonymous pages are
 *    activated, the rest is swapped out. Each step takes only what
 *    memory.stat still shows inactive, and never goes into the hot part.
 *  - etm_memcg_reclaim_bytes(): a given amount, in plain steps, for an
 *    engine that sizes the reclaim itself (psi: from the pressure).
 *
 * The pure parts (the amounts, the next limit) are split out for unit tests.
 */
#ifndef ETM_SCAN_MEMCG_RECLAIM_H
#define ETM_SCAN_MEMCG_RECLAIM_H

#include <stdbool.h>
#include <stdint.h>

#include "scan/memcg.h"

/* v1 limit cuts: a large cut below the working set fails with EBUSY. */
#define ETM_MEMCG_STEP (64ULL << 20)
/* Below this much inactive anon, a cycle does not bother the kernel. */
#define ETM_MEMCG_MIN_RECLAIM (1ULL << 20)
/* At most this many limit cuts / memory.reclaim writes per memcg and cycle. */
#define ETM_MEMCG_MAX_STEPS 4096

/*
 * How much to ask the kernel to reclaim now: the inactive anon bytes above
 * @keep (the part the caller wants left for the LRU's second chance), page
 * aligned; 0 when that is below ETM_MEMCG_MIN_RECLAIM.
 */
uint64_t etm_memcg_cold_amount(const struct etm_memcg_lru_stat *s, uint64_t keep);

/*
 * What a reclaim leaves on the inactive list: at least @keep, and
 * active_anon / ETM_MEMCG_KEEP_DIV. Once the inactive list is short of the
 * active one, reclaim deactivates active (hot) pages with their accessed
 * bits just cleared; asking for more would take them before the workload
 * touches them again. The rest of the cold part goes in the next cycles.
 */
#define ETM_MEMCG_KEEP_DIV 8
uint64_t etm_memcg_keep(const struct etm_memcg_lru_stat *s, uint64_t keep);

/*
 * The lowest usage one reclaim may aim at, from the largest active anon it
 * has seen (@hot_max): that plus its ETM_MEMCG_KEEP_DIV share, page aligned.
 * Why not the current active anon: once the inactive list runs low, reclaim
 * deactivates every active page (active anon drops to ~0 just then) and
 * clears their accessed bits without a TLB flush, so hot pages look idle for
 * a moment; the figures of that moment would let the last cuts take them.
 */
uint64_t etm_memcg_floor(uint64_t hot_max);

/*
 * memcg_lru's reclaim stops between two steps once the memcg's
 * workingset_refault_anon has grown, since the reclaim began, by more than
 * ETM_MEMCG_REFAULT_STOP_MIN pages and by 1/ETM_MEMCG_REFAULT_STOP_DIV of
 * what the steps asked so far: pages it took are coming straight back, it
 * is into the working set. @refaulted_pages: that growth; @asked: bytes.
 */
#define ETM_MEMCG_REFAULT_STOP_DIV 16
#define ETM_MEMCG_REFAULT_STOP_MIN 32
bool etm_memcg_refault_stop(uint64_t refaulted_pages, uint64_t asked);

/*
 * The next v1 limit when stepping from @usage towards @goal by at most
 * @step: max(goal, usage - step), page aligned up; 0 when usage <= goal
 * (nothing left to cut).
 */
uint64_t etm_memcg_next_limit(uint64_t usage, uint64_t goal, uint64_t step);

struct etm_memcg_reclaim_res {
	uint64_t asked;	     /* bytes the steps asked for */
	uint64_t swapped;    /* growth of the memcg's swap usage */
	unsigned steps;	     /* limit cuts / memory.reclaim writes done */
	bool busy;	     /* the kernel refused a cut (EBUSY/EAGAIN): stopped there */
	bool restore_failed; /* v1: the original limit could not be written back */
	bool contended;	     /* v1: another reclaim of this memcg is in progress: nothing done */
	bool refaulting;     /* stopped early: what it took came back (etm_memcg_refault_stop()) */
	double seconds;
};

/*
 * memcg_lru's reclaim: up to @amount bytes of @d's memory, stepwise,
 * re-reading memory.stat before each step and stopping as soon as the
 * inactive anon falls to @keep (what is left there are the pages whose
 * second chance is still running: hot pages the LRU had not scanned yet),
 * never below etm_memcg_floor(), and stopping early when what it took
 * comes back meanwhile (etm_memcg_refault_stop()).
 *
 * v2: writes to memory.reclaim. v1: lowers memory.limit_in_bytes from the
 * current usage (each write reclaims synchronously) and writes the
 * original limit back right after each cut, so that the target never
 * charges against a lowered limit between two steps (which would reclaim
 * in its own context); stops at the first EBUSY, and ALWAYS leaves the
 * original limit in place before returning, also on errors. With @jdir (ETM_RUN_DIR in the daemon; NULL: no journal)
 * the cuts are recorded there first (memcg_journal.h), so a crash between a cut and the restore is undone by the next
 * etmemd, and a concurrent reclaim of the same memcg is skipped (res->contended) instead of restoring the wrong limit.
 *
 * 0 (even when the kernel stopped early: see res->busy), or -errno.
 */
int etm_memcg_reclaim(const struct etm_memcg_dir *d, uint64_t amount, uint64_t keep, const char *jdir,
		      struct etm_memcg_reclaim_res *res);
/*
 * etm_memcg_reclaim() that never brings the memcg's usage below
 * @min_usage (bytes; memcg_lru's floor learnt from refaults,
 * memcg_learn.h): each step is cut to stay above it, re-read before the
 * step, so memory faulted back meanwhile is not taken again.
 */
int etm_memcg_reclaim_above(const struct etm_memcg_dir *d, uint64_t amount, uint64_t keep, uint64_t min_usage,
			    const char *jdir, struct etm_memcg_reclaim_res *res);
/*
 * The same mechanics for @amount bytes in ETM_MEMCG_STEP steps, whatever
 * memory.stat says: for an engine that sized the reclaim itself.
 */
int etm_memcg_reclaim_bytes(const struct etm_memcg_dir *d, uint64_t amount, const char *jdir,
			    struct etm_memcg_reclaim_res *res);
/*
 * @amount bytes through memory.reclaim writes whatever @d's version:
 * openEuler's cgroup v1 has memory.reclaim too (no limit cuts, no journal).
 */
int etm_memcg_reclaim_file_bytes(const struct etm_memcg_dir *d, uint64_t amount, struct etm_memcg_reclaim_res *res);

#endif
