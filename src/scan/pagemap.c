/* SPDX-License-Identifier: MulanPSL-2.0 */
/* Sampled residency from /proc/PID/pagemap (see pagemap.h). */
#include "pagemap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "pagestate.h"

#define PM_PRESENT (1ULL << 63)
#define PM_SWAPPED (1ULL << 62)

int etm_pagemap_open(pid_t pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int etm_pagemap_entry_state(uint64_t entry)
{
	return entry & PM_PRESENT ? 1 : entry & PM_SWAPPED ? 2 : 0;
}

int etm_pagemap_sample(int fd, uint64_t start, uint64_t npages, unsigned max_samples, struct etm_pagemap_counts *c)
{
	uint64_t n = npages < max_samples ? npages : max_samples;

	for (uint64_t i = 0; i < n; i++) {
		/* The middle of each of n equal parts: evenly spread, never all at one end. */
		uint64_t page = (start >> ETM_PAGE_SHIFT) + (2 * i + 1) * npages / (2 * n);
		uint64_t e;
		ssize_t r = pread(fd, &e, sizeof(e), (off_t)(page * sizeof(e)));

		if (r < 0)
			return -errno;
		if (r != (ssize_t)sizeof(e))
			return -EIO;
		c->sampled++;
		switch (etm_pagemap_entry_state(e)) {
		case 1:
			c->present++;
			break;
		case 2:
			c->swapped++;
			break;
		}
	}
	return 0;
}
