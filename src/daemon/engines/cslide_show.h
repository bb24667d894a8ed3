/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * cslide's private commands' output, as pure formatters over the figures of
 * the last cycle: showhostpages (node, total, used, hot, cold) and
 * showtaskpages (node, used, hot, cold), in KB, with the original etmem's
 * title lines and columns. Columns are %10 wide as the original's; a value
 * too wide for them (past 9.3 TB) widens its column instead of wrapping.
 */
#ifndef ETM_CSLIDE_SHOW_H
#define ETM_CSLIDE_SHOW_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct cslide_show_node {
	int node;
	uint64_t total_kb; /* the node's memory of the kind cslide places (hugetlb pool, or MemTotal) */
	uint64_t hot_kb, cold_kb;
};

struct cslide_show {
	time_t stamp; /* when the figures were taken; 0: no cycle has finished yet */
	size_t n;
	const struct cslide_show_node *nodes;
};

/*
 * Append the table to @out. Before the first cycle (stamp 0) a one-line
 * message says why there are no figures instead of a table of zeros, and
 * -EAGAIN is returned.
 */
int cslide_show_host(GString *out, const struct cslide_show *s);
int cslide_show_task(GString *out, int pid, const struct cslide_show *s);

#endif
