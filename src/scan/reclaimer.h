/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Kernel-graded reclaimers: backends that cannot see per-process virtual
 * pages, so the kernel itself grades and pages out the cold pages of the
 * targets' memory cgroups. The engine hands each update() the memcgs and
 * whether its gates allow paging out now; the reclaimer brings the kernel
 * side in line and reports cumulative figures.
 *
 * One file each: reclaimer_damon_paddr.c (a DAMON paddr kdamond whose
 * schemes, one per memcg, page out what stayed unaccessed; it keeps working
 * between updates) and reclaimer_memcg_lru.c (the memcg's own LRU, through
 * memcg_reclaim.h; all its work happens inside update(), at the end of each
 * observation window: windowed). Names and the auto order are in backend.c.
 */
#ifndef ETM_SCAN_RECLAIMER_H
#define ETM_SCAN_RECLAIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct etm_reclaimer_opts {
	/* Seconds between two scans (the project's sleep) and scans per cycle: the observation window. */
	unsigned sleep_s;
	unsigned loop;
};

struct etm_memcg_learnt;

/* One memory cgroup a reclaimer acts on. */
struct etm_memcg_target {
	char path[256]; /* as in /proc/PID/cgroup, e.g. /etmem-test-42 */
	bool v1;
	bool swap; /* the gates allow paging out now */
	/*
	 * memcg_lru: what earlier updates learnt of this memcg (memcg_learn.h),
	 * read and updated in place; the engine keeps it between updates and
	 * across restarts. NULL: nothing is learnt, every update starts afresh.
	 * Set after etm_memcg_targets_merge(), which does not carry it.
	 */
	struct etm_memcg_learnt *learnt;
};

/*
 * Merge the targets naming one memcg into its first entry, in place: a
 * memcg may page out only if every one of its processes may. Returns the
 * number of distinct memcgs left at the front of @t. (backend.c)
 */
size_t etm_memcg_targets_merge(struct etm_memcg_target *t, size_t n);

struct etm_reclaimer_stats {
	uint64_t bytes_tried;	/* bytes of regions the scheme looked at */
	uint64_t bytes_cold;	/* bytes that passed the memcg and young filters */
	uint64_t bytes_applied; /* bytes paged out */
	/*
	 * memcg_lru, the last update: the anon bytes the LRU keeps resident
	 * (after its reclaim, or all of them when nothing was graded cold):
	 * the hot part as the kernel graded it.
	 */
	uint64_t bytes_hot;
	bool hot_known;
	double last_reclaim_s; /* memcg_lru: duration of the last reclaim */
	/* memcg_lru with learnt states (etm_memcg_target.learnt): */
	bool learning;
	uint64_t bytes_learnt;	  /* the last update's floors, summed: the working set learnt from refaults */
	uint64_t memcgs_idle;	  /* the last update's memcgs backing off */
	uint64_t memcgs_first;	  /* the last update's memcgs still in their first pass (paced) */
	double half_life_max_s;	  /* the last update's longest floor half-life (memcg_learn.h rule 3) */
	uint64_t bytes_refaulted; /* faulted back after its reclaims, all updates */
	uint64_t cycles_skipped;  /* memcg updates skipped while backing off or pacing, all updates */
};

struct etm_reclaimer_ops {
	/*
	 * update() ends an observation window (the kernel checks the accessed
	 * bits only when it is called), so the engine waits loop * sleep
	 * seconds before each call.
	 */
	bool windowed;
	/* As etm_tracker_ops.probe. */
	int (*probe)(char *why, size_t len);
	/* @why receives the reason of a failure. */
	int (*open)(const struct etm_reclaimer_opts *o, void **ctx, char *why, size_t len);
	/*
	 * Bring the kernel side in line with @t (distinct memcgs: see
	 * etm_memcg_targets_merge()) and read the cumulative figures.
	 */
	int (*update)(void *ctx, const struct etm_memcg_target *t, size_t n, struct etm_reclaimer_stats *st, char *why,
		      size_t len);
	void (*close)(void *ctx);
};

extern const struct etm_reclaimer_ops etm_reclaimer_damon_paddr;
extern const struct etm_reclaimer_ops etm_reclaimer_memcg_lru;

#endif
