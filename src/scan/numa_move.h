/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Page placement of another process through move_pages(2): where each page
 * is (status queries), and moving pages to a node (MPOL_MF_MOVE_ALL), in
 * large batches, with every partial failure counted by reason.
 *
 * The system call sits behind etm_numa_sys so that unit tests can feed a
 * fake kernel (batching, partial failures, a process that goes away).
 *
 * Units: callers give each page with its size (4 KiB, or 2 MiB / 1 GiB for
 * a THP or a hugetlb page). move_pages() moves the whole folio an address
 * falls in, so everything is accounted in bytes of those units.
 */
#ifndef ETM_SCAN_NUMA_MOVE_H
#define ETM_SCAN_NUMA_MOVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "scan/action.h"

/* The original queried 65536 pages per call; the kernel walks them in chunks of 16. */
#define ETM_NUMA_QUERY_BATCH 65536u
/*
 * Moves go in smaller batches: when one chunk fails to migrate the kernel
 * stops and reports the rest of the batch as not attempted, which is then
 * retried; a smaller batch bounds that rework and the time the kernel keeps
 * its per-CPU LRU caches disabled.
 */
#define ETM_NUMA_MOVE_BATCH 16384u
/* Retry rounds after a short (positive) return before the rest counts as busy. */
#define ETM_NUMA_MOVE_ROUNDS 4

/*
 * move_pages(2) with its contract, except that failure returns -errno
 * instead of -1: nodes == NULL queries, otherwise moves; a positive return
 * is the number of pages the kernel did not migrate.
 */
typedef long (*etm_move_pages_fn)(void *arg, pid_t pid, unsigned long count, void **pages, const int *nodes,
				  int *status, int flags);

struct etm_numa_sys {
	etm_move_pages_fn move_pages;
	void *arg;
	size_t query_batch; /* 0: ETM_NUMA_QUERY_BATCH */
	size_t move_batch;  /* 0: ETM_NUMA_MOVE_BATCH */
};

/* The real one: libnuma's numa_move_pages(). */
extern const struct etm_numa_sys etm_numa_sys_kernel;

/*
 * One unit to place: a base page, a THP or a hugetlb page, by its first
 * address (the folio head's: older kernels refuse a hugetlb tail with
 * EACCES) and its size. etm_numa_units() finds them for THP.
 */
struct etm_numa_page {
	uint64_t addr;
	uint8_t shift; /* log2 of its size: 12, 21, 30; or a large folio's order + 12 */
};

static inline uint64_t etm_numa_page_bytes(const struct etm_numa_page *p)
{
	return 1ULL << p->shift;
}

/*
 * Where are the @n pages at @addrs of @pid? status[i] is the node, or a
 * negative errno for that page: -ENOENT not present (never touched or
 * swapped out), -EFAULT not mapped or not migratable. Returns 0, -ESRCH
 * when the process is gone, or another -errno (EPERM, ENOMEM) for the call.
 */
int etm_numa_query(const struct etm_numa_sys *sys, pid_t pid, const uint64_t *addrs, size_t n, int *status);

struct etm_numa_move_stats {
	uint64_t pages_moved, bytes_moved; /* on the target node afterwards */
	/* Why the others did not get there (the actions' reasons, scan/action.h). */
	uint64_t pages_failed[ETM_ACTION_FAIL_NR];
	uint64_t bytes_failed[ETM_ACTION_FAIL_NR];
	uint64_t pages_over_budget, bytes_over_budget; /* not tried: @max_bytes reached */
	uint64_t calls;				       /* move_pages() calls, queries included */
};

/*
 * Move the @n units of @pages of @pid to @node with MPOL_MF_MOVE_ALL.
 * @pages is sorted by address in place, and units that repeat or start
 * inside a unit before them are dropped (a THP given both as a whole and as
 * 4 KiB pages is moved and counted once). At most @max_bytes are submitted
 * (UINT64_MAX: no limit); units that do not fit are skipped, smaller ones
 * after them still go.
 *
 * Per-page failures are counted in @st by reason and the rest goes on. A
 * short return (the kernel stopped at a chunk it could not migrate) is
 * resolved by querying the unresolved pages and retrying those still off
 * @node, up to ETM_NUMA_MOVE_ROUNDS rounds; what remains counts as busy.
 * -ENOMEM for a batch counts its unresolved pages as nomem and goes on with
 * the next batch.
 *
 * Returns 0 (even with failed pages), -ESRCH when the process went away
 * (the remaining units count under ETM_ACTION_FAIL_EXITED), -ENOMEM when no buffer
 * could be had, or the call's -errno for an error that concerns every page
 * (EPERM without CAP_SYS_NICE, ENODEV/EACCES for the node, EINVAL); the
 * remaining units then count under ETM_ACTION_FAIL_OTHER. @st is added to.
 */
int etm_numa_move(const struct etm_numa_sys *sys, pid_t pid, struct etm_numa_page *pages, size_t n, int node,
		  uint64_t max_bytes, struct etm_numa_move_stats *st);

/* Sort by address and drop repeats and units that start inside an earlier one; returns the new count. */
size_t etm_numa_pages_coalesce(struct etm_numa_page *pages, size_t n);

#endif
