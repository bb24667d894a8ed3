/* SPDX-License-Identifier: MulanPSL-2.0 */
#include "slide_policy.h"

enum slide_gate slide_gate_check(int sysmem_threshold, uint64_t swap_threshold, const struct etm_meminfo *mi,
				 const struct etm_proc_status *st)
{
	if (sysmem_threshold >= 0 && mi->mem_total_kb) {
		/* 128-bit-free: kB * 100 fits easily in 64 bits. */
		if (mi->mem_available_kb * 100 >= (uint64_t)sysmem_threshold * mi->mem_total_kb)
			return SLIDE_GATE_SYSMEM;
	}
	if (swap_threshold) {
		if (st->vm_rss_kb * 1024 <= swap_threshold)
			return SLIDE_GATE_SWAP_THRESHOLD;
		return SLIDE_GATE_SWAP;
	}
	if (sysmem_threshold >= 0 &&
	    (st->vm_rss_kb + st->vm_swap_kb) / 100 * (uint64_t)sysmem_threshold <= st->vm_swap_kb)
		return SLIDE_GATE_SWAP_RATIO;
	return SLIDE_GATE_SWAP;
}

const char *slide_gate_name(enum slide_gate g)
{
	switch (g) {
	case SLIDE_GATE_SWAP:
		return "swap";
	case SLIDE_GATE_SYSMEM:
		return "sysmem_threshold";
	case SLIDE_GATE_SWAP_THRESHOLD:
		return "swap_threshold";
	case SLIDE_GATE_SWAP_RATIO:
		return "sysmem_threshold swap ratio";
	}
	return "?";
}

bool slide_swapcache_due(int high, const struct etm_meminfo *mi)
{
	if (high <= 0 || !mi->swap_cached_kb || !mi->mem_total_kb)
		return false;
	return mi->swap_cached_kb * 100 >= (uint64_t)high * mi->mem_total_kb;
}

uint64_t slide_dram_quota_pages(int dram_percent, const struct etm_proc_status *st)
{
	uint64_t keep_kb;

	if (dram_percent <= 0 || dram_percent > 100)
		return 0;
	keep_kb = (st->vm_rss_kb + st->vm_swap_kb) / 100 * (uint64_t)dram_percent;
	if (st->vm_rss_kb <= keep_kb)
		return 0;
	return (st->vm_rss_kb - keep_kb) / 4;
}

void slide_dram_cutoff(const uint64_t *hist, unsigned limit, uint64_t quota, unsigned *cutoff, uint64_t *extra)
{
	uint64_t taken = 0;

	for (unsigned c = 0; c < limit; c++) {
		if (taken + hist[c] > quota) {
			*cutoff = c;
			*extra = quota - taken;
			return;
		}
		taken += hist[c];
	}
	*cutoff = limit;
	*extra = 0;
}
