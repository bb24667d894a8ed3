/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The slide engine's task keys, and the PMU keys it shares with cslide, as
 * key tables (keys.h). Parsing lives apart from the slide runtime so that
 * the configuration code and its tests do not depend on the scanner.
 */
#ifndef ETM_SLIDE_PARAMS_H
#define ETM_SLIDE_PARAMS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "daemon/keys.h"
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

/* PMU sampling (libpfm4); all keys set or none. */
struct etm_pmu_params {
	bool enabled;	      /* the keys were given: sampling replaces the page-table scan */
	int sample_period;    /* events between two samples, 1..INT_MAX */
	int vma_updata_rate;  /* rebuild the VMA index every this many passes, 0..INT_MAX (spec's spelling) */
	int cpu_set_size;     /* CPUs per sampler thread; divides the CPU count */
	int cooling_interval; /* cslide only: sampling rounds between two count halvings, 0 when unused */
};

struct slide_params {
	int t;			   /* T: pages accessed at least T times (of loop*3 max) are hot */
	uint64_t swap_threshold;   /* bytes; swap only a process whose RSS exceeds it; 0 = unset */
	int dram_percent;	   /* keep this % of (RSS+swap) in DRAM, coldest first; 0 = off */
	int tracker;		   /* enum slide_tracker: access_tracker=, default auto */
	bool memcg_shared;	   /* memcg_shared=yes: memcg trackers may reclaim cgroups shared with others */
	struct etm_pmu_params pmu; /* sample_period/vma_updata_rate/cpu_set_size */
};

/* slide's [task] keys, and its parse hook (the project must be scan_type=page: T's range is loop*3). */
extern const struct etm_key_table slide_task_keys;
int slide_parse_task(struct etm_conf *conf, const struct etm_task_ctx *ctx, void **params);

/* The name of @t as access_tracker= spells it. */
const char *slide_tracker_name(int t);

/* ------------------------------------------------------------- PMU keys */

/* The online CPU count: cpu_set_size's upper bound. */
long etm_pmu_cpu_count(const void *params, const void *ctx);

/* The PMU rows of a table whose params struct @params_type has a struct etm_pmu_params @member. */
#define ETM_PMU_KEYS(params_type, member)                                                                              \
	{ .name = "sample_period",                                                                                     \
	  .type = ETM_KEY_INT,                                                                                         \
	  .min = 1,                                                                                                    \
	  .max = INT_MAX,                                                                                              \
	  .offset = ETM_KEY_AT(params_type, member.sample_period, int),                                                \
	  .doc = "PMU sampling: events between two samples (1000..10000 recommended)." },                              \
	    { .name = "vma_updata_rate",                                                                               \
	      .type = ETM_KEY_INT,                                                                                     \
	      .min = 0,                                                                                                \
	      .max = INT_MAX,                                                                                          \
	      .offset = ETM_KEY_AT(params_type, member.vma_updata_rate, int),                                          \
	      .doc = "PMU sampling: scans between two updates of the VMA list (0..50 recommended)." },                 \
	{                                                                                                              \
		.name = "cpu_set_size", .type = ETM_KEY_INT, .min = 1, .max_fn = etm_pmu_cpu_count,                    \
		.offset = ETM_KEY_AT(params_type, member.cpu_set_size, int),                                           \
		.range_doc = "a divisor of the number of CPUs", .doc = "PMU sampling: CPUs per sampling thread."       \
	}
#define ETM_PMU_COOLING_KEY(params_type, member)                                                                       \
	{                                                                                                              \
		.name = "cooling_interval", .type = ETM_KEY_INT, .min = 1, .max = INT_MAX,                             \
		.offset = ETM_KEY_AT(params_type, member.cooling_interval, int),                                       \
		.doc = "PMU sampling: samples between two halvings of the counts (10000..1000000 recommended)."        \
	}

/*
 * The PMU keys of table @t are given all or none (cooling_interval too when
 * @t has it), and cpu_set_size divides the CPU count: 0 with pmu->enabled
 * telling which, or -EINVAL with the error recorded in @conf.
 */
int etm_pmu_check(struct etm_conf *conf, const struct etm_key_table *t, uint64_t given, const char *engine,
		  struct etm_pmu_params *pmu);

#endif
