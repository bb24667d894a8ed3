/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The slide engine's task keys, and the PMU keys it shares with cslide.
 * Parsing lives apart from the slide runtime so that the configuration code
 * and its tests do not depend on the scanner.
 */
#ifndef ETM_SLIDE_PARAMS_H
#define ETM_SLIDE_PARAMS_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "etmem/etmemd_thirdparty_export.h"

struct etm_conf;

/* swap_threshold upper bound, in GiB (1 PiB: beyond any machine). */
#define SLIDE_SWAP_THRESHOLD_MAX_G 1048576L

/*
 * The access-tracking backend a task asks for (access_tracker=, our
 * extension): SLIDE_TRACKER_AUTO, or 1 + its index in the scan library's
 * table of backends (etm_backends[], scan/backend.h), which lists the names.
 */
enum slide_tracker {
	SLIDE_TRACKER_AUTO = 0, /* the first the kernel offers, in the table's order */
};

/* PMU sampling (libpfm4); all keys set or none. */
struct etm_pmu_params {
	bool enabled;	      /* the keys were given: sampling replaces the page-table scan */
	int sample_period;    /* events between two samples, 1..INT_MAX */
	int vma_updata_rate;  /* rebuild the VMA index every this many passes, 0..INT_MAX (spec's spelling) */
	int cpu_set_size;     /* CPUs per sampler thread; divides the CPU count */
	int cooling_interval; /* cslide only: sampling rounds between two count halvings, 0 when unused */
};

struct slide_params {
	int t;			    /* T: pages accessed at least T times (of loop*3 max) are hot */
	uint64_t swap_threshold;    /* bytes; swap only a process whose RSS exceeds it; 0 = unset */
	int dram_percent;	    /* keep this % of (RSS+swap) in DRAM, coldest first; 0 = off */
	enum slide_tracker tracker; /* access_tracker=, default auto */
	bool memcg_shared;	    /* memcg_shared=yes: memcg trackers may reclaim cgroups shared with others */
	struct etm_pmu_params pmu;  /* sample_period/vma_updata_rate/cpu_set_size */
};

/* engine_ops entries for slide: tk->eng->proj must be set (T depends on loop). */
int slide_fill_task_params(GKeyFile *config, struct task *tk);
void slide_clear_task_params(struct task *tk);

/* The name of @t as access_tracker= spells it. */
const char *slide_tracker_name(enum slide_tracker t);

/*
 * PMU keys of @group: sample_period, vma_updata_rate, cpu_set_size, and with
 * @with_cooling also cooling_interval — all or none. 0 with out->enabled
 * telling which, or -EINVAL with the error recorded in @conf.
 */
int etm_pmu_conf_parse(struct etm_conf *conf, const char *group, bool with_cooling, const char *engine,
		       struct etm_pmu_params *out);

#endif
