/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef ETMEMD_PROJECT_EXP_H
#define ETMEMD_PROJECT_EXP_H

#include <stdbool.h>
#include <sys/queue.h>

enum scan_type {
	PAGE_SCAN = 0,
	REGION_SCAN,
	PSI_SCAN,
};

struct page_scan {
	int interval;
	int loop;
	int sleep;
};

struct psi_scan {
	int interval;
};

struct region_scan {
	unsigned long sample_interval;
	unsigned long aggr_interval;
	unsigned long update_interval;
	unsigned long min_nr_regions;
	unsigned long max_nr_regions;
};

struct engine;

struct project {
	char *name;
	enum scan_type type;
	void *scan_param;	  /* struct page_scan / psi_scan / region_scan by type */
	int sysmem_threshold;	  /* -1 when unset */
	int swapcache_high_wmark; /* -1 when unset */
	int swapcache_low_wmark;  /* -1 when unset */
	bool start;
	bool wmark_set;
	struct engine *engs;
	SLIST_ENTRY(project) entry;
};

#endif
