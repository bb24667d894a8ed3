/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Access tracking behind one small interface, in the spirit of mm/damon's
 * operations sets: the slide core does not know how accesses are observed.
 *
 * Two scopes exist:
 *  - ETM_ACCESS_PROCESS backends (idle_pages, page_idle, damon_vaddr) observe
 *    one process: open() sets a baseline, each scan() adds one pass of
 *    per-page weights to a pagestate, close() releases everything.
 *  - ETM_ACCESS_MEMCG backends (damon_paddr, memcg_lru) cannot see
 *    per-process virtual pages; the kernel itself grades and pages out the
 *    cold pages of the targets' memory cgroups. The core drives them with
 *    group_*(). damon_paddr keeps a kernel-side scheme running between
 *    updates; memcg_lru (group_windowed) does all its work inside
 *    group_update(), at the end of each observation window.
 */
#ifndef ETM_SCAN_ACCESS_H
#define ETM_SCAN_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "scan/pagestate.h"

enum etm_access_scope {
	ETM_ACCESS_PROCESS = 0,
	ETM_ACCESS_MEMCG,
};

struct etm_access_opts {
	/* openEuler file flags for idle_pages (SCAN_AS_HUGE, SCAN_IGN_HOST, VMA_SCAN_FLAG). */
	unsigned scan_flags;
	/*
	 * swap_flag=yes: track only the ranges the process marked. idle_pages
	 * asks the kernel (VMA_SCAN_FLAG, set by madvise(MADV_SWAPFLAG)); the
	 * other trackers keep only anonymous VMAs named @vma_name with
	 * prctl(PR_SET_VMA_ANON_NAME) (ETM_SWAP_VMA_NAME).
	 */
	bool flagged_only;
	const char *vma_name;
	/* Seconds between two scans (the project's sleep); DAMON sizes its intervals from it. */
	unsigned sleep_s;
	unsigned loop;
	/* page_idle: skip open()'s baseline pass (the scan library's one-pass semantics). */
	bool no_baseline;
};

/* One memory cgroup a memcg-scope backend acts on. */
struct etm_memcg_target {
	char path[256]; /* as in /proc/PID/cgroup, e.g. /etmem-test-42 */
	bool v1;
	bool swap; /* the gates allow paging out now */
};

struct etm_memcg_stats {
	uint64_t bytes_tried;	/* bytes of regions the scheme looked at */
	uint64_t bytes_cold;	/* bytes that passed the memcg and young filters */
	uint64_t bytes_applied; /* bytes paged out */
	/* memcg_lru: the LRU's active anon bytes at the last update (the hot part). */
	uint64_t bytes_hot;
	bool hot_known;
	double last_reclaim_s; /* memcg_lru: duration of the last reclaim */
};

struct etm_access_ops {
	const char *name;
	enum etm_access_scope scope;
	/*
	 * ETM_ACCESS_MEMCG: group_update() ends an observation window (the
	 * kernel checks the accessed bits only when it is called), so the core
	 * waits loop * sleep seconds before each call.
	 */
	bool group_windowed;
	/*
	 * Does the running kernel offer this tracker? 0, or a negative errno
	 * with @why (size @len) saying what is missing.
	 */
	int (*probe)(char *why, size_t len);

	/* ETM_ACCESS_PROCESS */
	int (*open)(pid_t pid, const struct etm_access_opts *o, void **ctx);
	/* One pass: add each page's weight since the previous pass (or open). */
	int (*scan)(void *ctx, struct etm_pagestate *ps);
	void (*close)(void *ctx);

	/* ETM_ACCESS_MEMCG: @why receives the reason of a failure. */
	int (*group_open)(const struct etm_access_opts *o, void **ctx, char *why, size_t len);
	/* Bring the kernel side in line with @t (targets, swap on/off) and read cumulative stats. */
	int (*group_update)(void *ctx, const struct etm_memcg_target *t, size_t n, struct etm_memcg_stats *st,
			    char *why, size_t len);
	void (*group_close)(void *ctx);
};

extern const struct etm_access_ops etm_access_idle_pages;
extern const struct etm_access_ops etm_access_page_idle;
extern const struct etm_access_ops etm_access_damon_vaddr;
extern const struct etm_access_ops etm_access_damon_paddr;
extern const struct etm_access_ops etm_access_memcg_lru;

/* Names accepted by the access_tracker key. */
#define ETM_ACCESS_AUTO "auto"

/*
 * Pick a tracker: @want is "auto" (or NULL) for the first available of
 * idle_pages, page_idle, damon_vaddr, damon_paddr, memcg_lru, or one of
 * their names. On failure @why says what the kernel lacks (for auto: for
 * each one); with auto, every skipped tracker is logged at info level.
 * -ENOTSUP when unavailable, -EINVAL for an unknown name.
 */
int etm_access_choose(const char *want, const struct etm_access_ops **out, char *why, size_t len);
const struct etm_access_ops *etm_access_find(const char *name);

/*
 * Fill @ps with the ranges worth tracking for @pid (anonymous/private
 * writable VMAs; with o->flagged_only the marked ones). -ESRCH if gone.
 */
int etm_access_ranges(pid_t pid, const struct etm_access_opts *o, struct etm_pagestate *ps);

#endif
