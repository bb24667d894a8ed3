/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The slide engine's task keys as a key table (keys.h), the PMU keys it
 * shares with cslide among them (pmu_keys.h). Parsing lives apart from the
 * slide runtime so that the configuration code and its tests do not depend
 * on the scanner.
 */
#ifndef ETM_SLIDE_PARAMS_H
#define ETM_SLIDE_PARAMS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "daemon/keys.h"
#include "daemon/pmu_keys.h"
#include "etmem/etmemd_thirdparty_export.h"

struct etm_task_ctx;

/* swap_threshold upper bound, in GiB (1 PiB: beyond any machine). */
#define SLIDE_SWAP_THRESHOLD_MAX_G 1048576L

/*
 * The access-tracking backend a task asks for (access_tracker=, our
 * extension): SLIDE_TRACKER_AUTO, or a backend's number (enum
 * etm_backend_id, scan/backend.h, whose list names them).
 */
enum slide_tracker {
	SLIDE_TRACKER_AUTO = 0, /* the first the kernel offers, in the list's order */
};

struct slide_params {
	int t;			   /* T: pages accessed at least T times (of loop*3 max) are hot */
	uint64_t swap_threshold;   /* bytes; swap only a process whose RSS exceeds it; 0 = unset */
	int dram_percent;	   /* keep this % of (RSS+swap) in DRAM, coldest first; 0 = off */
	int tracker;		   /* enum slide_tracker: access_tracker=, default auto */
	bool memcg_shared;	   /* memcg_shared=yes: memcg trackers may reclaim cgroups shared with others */
	struct etm_pmu_params pmu; /* sample_period/vma_updata_rate/cpu_set_size/pmu_event */
};

/* slide's [task] keys, and its parse hook (the project must be scan_type=page: T's range is loop*3). */
extern const struct etm_key_table slide_task_keys;
int slide_parse_task(struct etm_conf *conf, const struct etm_task_ctx *ctx, void **params);

/* The name of @t as access_tracker= spells it. */
const char *slide_tracker_name(int t);

#endif
