/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * slide's decisions as pure functions over parsed numbers (unit-tested with
 * fake /proc text): the swap gates, the swapcache trigger, the dram_percent
 * quota.
 */
#ifndef ETM_SLIDE_POLICY_H
#define ETM_SLIDE_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "scan/procfs.h"

enum slide_gate {
	SLIDE_GATE_SWAP = 0,	   /* go ahead */
	SLIDE_GATE_SYSMEM,	   /* available memory at or above sysmem_threshold */
	SLIDE_GATE_SWAP_THRESHOLD, /* the process's RSS is at or below swap_threshold */
	SLIDE_GATE_SWAP_RATIO,	   /* sysmem_threshold% of the process is already swapped */
};

/*
 * The original's check_should_swap(), with the spec's wording:
 *  - sysmem_threshold (percent, -1 unset): swap only while MemAvailable is
 *    below that share of MemTotal ("available memory", as the spec words
 *    it; the original used MemFree).
 *  - swap_threshold (bytes, 0 unset): swap only a process whose VmRSS
 *    exceeds it. The spec states it on its own, so it applies whether or not
 *    sysmem_threshold is set (the original only looked at it when it was).
 *  - sysmem_threshold set and swap_threshold unset: as the original, swap
 *    only while (VmRSS + VmSwap) / 100 * sysmem_threshold > VmSwap.
 */
enum slide_gate slide_gate_check(int sysmem_threshold, uint64_t swap_threshold, const struct etm_meminfo *mi,
				 const struct etm_proc_status *st);
const char *slide_gate_name(enum slide_gate g);

/*
 * Swapcache reclaim is due when SwapCached reaches @high percent of
 * MemTotal (the original's integer MemTotal/SwapCached >= 100/high test,
 * done exactly).
 */
bool slide_swapcache_due(int high, const struct etm_meminfo *mi);

/*
 * dram_percent: how many pages to swap out so that dram_percent% of the
 * process (RSS + swap) stays in DRAM; 0 when nothing needs to go.
 */
uint64_t slide_dram_quota_pages(int dram_percent, const struct etm_proc_status *st);

/*
 * Coldest-first selection for dram_percent: given a histogram of the
 * counts of cold pages (hist[c], c < limit), the count @cutoff below which
 * every page is taken, and how many pages of count == cutoff are taken too
 * (*extra). With quota >= all cold pages, cutoff = limit and extra = 0.
 */
void slide_dram_cutoff(const uint64_t *hist, unsigned limit, uint64_t quota, unsigned *cutoff, uint64_t *extra);

#endif
