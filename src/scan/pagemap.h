/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Where a process's pages are: resident, in swap, or neither, from
 * /proc/PID/pagemap (bit 63 present, bit 62 swapped; kernel
 * Documentation/admin-guide/mm/pagemap.rst). Sampled: a span is judged from
 * at most a given number of evenly spread pages, so that the cost stays
 * bounded whatever the process's size (the heatmap's residency figures).
 */
#ifndef ETM_SCAN_PAGEMAP_H
#define ETM_SCAN_PAGEMAP_H

#include <stdint.h>
#include <sys/types.h>

struct etm_pagemap_counts {
	uint64_t sampled, present, swapped;
};

/* /proc/PID/pagemap, opened read-only: a descriptor or -errno. */
int etm_pagemap_open(pid_t pid);
/*
 * Sample @npages pages from @start (page aligned) at most @max_samples
 * times, evenly spread, adding to @c. 0, or -errno from pread(2) (-EIO for
 * a short read).
 */
int etm_pagemap_sample(int fd, uint64_t start, uint64_t npages, unsigned max_samples, struct etm_pagemap_counts *c);
/* Decode one pagemap entry: 1 present, 2 swapped, 0 neither. */
int etm_pagemap_entry_state(uint64_t entry);

#endif
