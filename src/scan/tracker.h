/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Per-page access trackers, behind one small interface in the spirit of
 * mm/damon's operations sets: the engine does not know how accesses are
 * observed. A tracker watches one process: open() sets a baseline, each
 * scan() adds one pass of per-page weights to a pagestate, close() releases
 * everything. The engine grades the pages itself (slide: count < T).
 *
 * One file each: tracker_idle_pages.c (openEuler /proc/PID/idle_pages),
 * tracker_page_idle.c (mainline idle page tracking), tracker_damon_vaddr.c
 * (DAMON vaddr regions), tracker_pmu.c (perf samples of memory accesses or
 * page faults; library etmemd_pmu, see docs/pmu.md). Their names and the
 * auto order are in backend.h.
 */
#ifndef ETM_SCAN_TRACKER_H
#define ETM_SCAN_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "scan/pagestate.h"

struct etm_pmu_conf;
struct etm_vma_filter;

struct etm_tracker_opts {
	/* openEuler file flags for idle_pages (SCAN_AS_HUGE, SCAN_IGN_HOST, VMA_SCAN_FLAG). */
	unsigned scan_flags;
	/*
	 * swap_flag=yes: track only the ranges the process marked. A tracker
	 * with kernel_marks asks the kernel (idle_pages: VMA_SCAN_FLAG, set by
	 * madvise(MADV_SWAPFLAG)); the others keep only anonymous VMAs named
	 * @vma_name with prctl(PR_SET_VMA_ANON_NAME) (ETM_SWAP_VMA_NAME).
	 */
	bool flagged_only;
	const char *vma_name;
	/* Seconds between two scans (the project's sleep); DAMON sizes its intervals from it. */
	unsigned sleep_s;
	unsigned loop;
	/* page_idle: skip open()'s baseline pass (the scan library's one-pass semantics). */
	bool no_baseline;
	/*
	 * task_new() of the pmu tracker: scan() marks each page with its
	 * sampled count (decayed by cooling, 0..254) instead of adding one
	 * pass's weight, into a page state the engine resets before each pass
	 * (cslide: hot_threshold against sampled counts). The other trackers
	 * ignore it.
	 */
	bool sample_counts;
	/* A task-wide tracker's context (task_new() below) for open(); NULL for the others. */
	void *task;
	/*
	 * Which VMAs are tracked (procfs.h; with vmflags read from smaps):
	 * NULL for anonymous VMAs (named vma_name, when set). cslide passes
	 * its vm_flags and anon_only keys here.
	 */
	const struct etm_vma_filter *filter;
};

struct etm_tracker_ops {
	/* flagged_only is honoured by the kernel itself (no vma_name needed). */
	bool kernel_marks;
	/*
	 * Chosen by keys of its own, never by access_tracker=auto: the PMU
	 * sampler, which is configured by sample_period and friends.
	 */
	bool keyed;
	/*
	 * Accesses to hugetlb pages are seen. page_idle's are not: the kernel
	 * tracks idle pages on the LRU only, and hugetlb pages are never on it,
	 * so they always read as accessed.
	 */
	bool sees_hugetlb;
	/*
	 * Grades regions, not pages (DAMON): a region's count is what its
	 * random samples found, and regions do not end on folio boundaries.
	 */
	bool grades_regions;
	/*
	 * Does the running kernel offer this tracker? 0, or a negative errno
	 * with @why (size @len) saying what is missing.
	 */
	int (*probe)(char *why, size_t len);
	/*
	 * Optional, for a tracker that watches all of a task's processes at
	 * once (the PMU sampler: one ring and reader per CPU set, shared by
	 * every process; damon_vaddr: one kdamond kept across the cycles, a
	 * target per process): one context per task. task_new() at task start, with
	 * the task's options (the VMA filter) and @pmu, the PMU keys (0, or
	 * -errno with @why: the task's refusal); task_cycle() at the start of
	 * every cycle with its processes (those that left are released, new
	 * ones followed); task_free() at stop. open() gets it as o->task.
	 */
	int (*task_new)(const struct etm_tracker_opts *o, const struct etm_pmu_conf *pmu, void **task, char *why,
			size_t len);
	int (*task_cycle)(void *task, const pid_t *pids, size_t n, char *why, size_t len);
	void (*task_free)(void *task);
	int (*open)(pid_t pid, const struct etm_tracker_opts *o, void **ctx);
	/* One pass: add each page's weight since the previous pass (or open). */
	int (*scan)(void *ctx, struct etm_pagestate *ps);
	void (*close)(void *ctx);
};

extern const struct etm_tracker_ops etm_tracker_idle_pages;
extern const struct etm_tracker_ops etm_tracker_page_idle;
extern const struct etm_tracker_ops etm_tracker_damon_vaddr;
/* In library etmemd_pmu (libetmemd_scan.so does not carry it: libpfm4). */
extern const struct etm_tracker_ops etm_tracker_pmu;

/*
 * Fill @ps with the ranges worth tracking for @pid (anonymous/private
 * writable VMAs; with o->vma_name only the VMAs of that name; with
 * o->filter the VMAs it selects). -ESRCH if gone.
 */
int etm_tracker_ranges(pid_t pid, const struct etm_tracker_opts *o, struct etm_pagestate *ps);

#endif
