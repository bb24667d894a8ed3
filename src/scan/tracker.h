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
 * (DAMON vaddr regions). Their names and the auto order are in backend.c.
 */
#ifndef ETM_SCAN_TRACKER_H
#define ETM_SCAN_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "scan/pagestate.h"

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
	 * Accesses to hugetlb pages are seen. page_idle's are not: the kernel
	 * tracks idle pages on the LRU only, and hugetlb pages are never on it,
	 * so they always read as accessed.
	 */
	bool sees_hugetlb;
	/*
	 * Does the running kernel offer this tracker? 0, or a negative errno
	 * with @why (size @len) saying what is missing.
	 */
	int (*probe)(char *why, size_t len);
	int (*open)(pid_t pid, const struct etm_tracker_opts *o, void **ctx);
	/* One pass: add each page's weight since the previous pass (or open). */
	int (*scan)(void *ctx, struct etm_pagestate *ps);
	void (*close)(void *ctx);
};

extern const struct etm_tracker_ops etm_tracker_idle_pages;
extern const struct etm_tracker_ops etm_tracker_page_idle;
extern const struct etm_tracker_ops etm_tracker_damon_vaddr;

/*
 * Fill @ps with the ranges worth tracking for @pid (anonymous/private
 * writable VMAs; with o->vma_name only the VMAs of that name; with
 * o->filter the VMAs it selects). -ESRCH if gone.
 */
int etm_tracker_ranges(pid_t pid, const struct etm_tracker_opts *o, struct etm_pagestate *ps);

#endif
