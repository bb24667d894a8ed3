/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * cslide's private commands' output, as pure functions over the figures of
 * the last cycle: showhostpages (node, total, used, hot, cold) and
 * showtaskpages (node, used, hot, cold) as report tables (daemon/report.h),
 * which the daemon renders as the original etmem's text (its title lines,
 * %5/%10 columns, KB) or as JSON (bytes). A value too wide for a column
 * (past 9.3 TB) widens it instead of wrapping.
 *
 * JSON (docs/json.md): showhostpages is one table "host_pages" with the
 * columns node, total_bytes, used_bytes, hot_bytes, cold_bytes;
 * showtaskpages one table "task_pages" per process, titled "task PID pages
 * info (KB):", with node, used_bytes, hot_bytes, cold_bytes.
 */
#ifndef ETM_CSLIDE_SHOW_H
#define ETM_CSLIDE_SHOW_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct etm_report;

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

/* The message before the first cycle (no table of zeros). */
#define CSLIDE_NO_FIGURES                                                                                              \
	"no page figures yet: cslide has not finished a cycle since the task started (a cycle scans loop x sleep "     \
	"seconds, then places the pages)"

/*
 * Add the table to @r. Before the first cycle (stamp 0) nothing is added,
 * @err says why (CSLIDE_NO_FIGURES) and -EAGAIN is returned.
 */
int cslide_show_host(struct etm_report *r, const struct cslide_show *s, GString *err);
int cslide_show_task(struct etm_report *r, int pid, const struct cslide_show *s, GString *err);

#endif
