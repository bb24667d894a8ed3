/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The PMU keys (docs/pmu.md): slide's in [task], cslide's in [engine] with
 * cooling_interval. Given all or none (pmu_event is optional); with them the
 * task's access tracker is the PMU sampler (task_tracker.h).
 */
#ifndef ETM_PMU_KEYS_H
#define ETM_PMU_KEYS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "daemon/keys.h"

/* pmu_event's longest value: two libpfm4 event strings joined by a comma. */
#define ETM_PMU_EVENT_MAX 255

struct etm_pmu_params {
	bool enabled;	      /* the keys were given: sampling replaces the page-table scan */
	int sample_period;    /* events between two samples, 1..INT_MAX */
	int vma_updata_rate;  /* rebuild the VMA index every this many cycles, 0 = every scan (spec's spelling) */
	int cpu_set_size;     /* CPUs per reader thread, >= 1 (need not divide the CPU count) */
	int cooling_interval; /* cslide only: counted samples between two halvings; 0: slide, once per cycle */
	char *event;	      /* pmu_event, NULL: the CPU's memory-access events */
};

/* The PMU rows of a table whose params struct @params_type has a struct etm_pmu_params @member. */
#define ETM_PMU_KEYS(params_type, member)                                                                              \
	{ .name = "sample_period",                                                                                     \
	  .type = ETM_KEY_INT,                                                                                         \
	  .min = 1,                                                                                                    \
	  .max = INT_MAX,                                                                                              \
	  .offset = ETM_KEY_AT(params_type, member.sample_period, int),                                                \
	  .doc = "PMU sampling: events between two samples (1000..10000 recommended for memory-access events, 1 "      \
		 "for page-faults)." },                                                                                \
	    { .name = "vma_updata_rate",                                                                               \
	      .type = ETM_KEY_INT,                                                                                     \
	      .min = 0,                                                                                                \
	      .max = INT_MAX,                                                                                          \
	      .offset = ETM_KEY_AT(params_type, member.vma_updata_rate, int),                                          \
	      .doc =                                                                                                   \
		  "PMU sampling: cycles between two rebuilds of the sampler's VMA index (every "                       \
		  "vma_updata_rate\\(muloop\\(musleep seconds of sampling; 0: at every scan; 0..50 recommended)." },   \
	    { .name = "cpu_set_size",                                                                                  \
	      .type = ETM_KEY_INT,                                                                                     \
	      .min = 1,                                                                                                \
	      .max = INT_MAX,                                                                                          \
	      .offset = ETM_KEY_AT(params_type, member.cpu_set_size, int),                                             \
	      .doc = "PMU sampling: CPUs read by one sampler thread; every CPU is read whether or not it divides the " \
		     "CPU count (one thread for all when it is larger)." },                                            \
	{                                                                                                              \
		.name = "pmu_event", .type = ETM_KEY_STRING, .max = ETM_PMU_EVENT_MAX,                                 \
		.offset = ETM_KEY_AT(params_type, member.event, char *),                                               \
		.doc =                                                                                                 \
		    "PMU sampling: what is sampled, a libpfm4 event (two joined by a comma) or \\fBpage-faults\\fP "   \
		    "(see PMU SAMPLING); unset: the CPU's memory-access events."                                       \
	}
#define ETM_PMU_COOLING_KEY(params_type, member)                                                                       \
	{                                                                                                              \
		.name = "cooling_interval", .type = ETM_KEY_INT, .min = 1, .max = INT_MAX,                             \
		.offset = ETM_KEY_AT(params_type, member.cooling_interval, int),                                       \
		.doc = "PMU sampling: counted samples between two halvings of the counts (10000..1000000 "             \
		       "recommended)."                                                                                 \
	}

/*
 * The PMU keys of table @t are given all or none (cooling_interval too when
 * @t has it; pmu_event only with them), and pmu_event is well formed: 0
 * with pmu->enabled telling which, or -EINVAL with the error recorded in
 * @conf. Whether the event exists and works on this machine is checked
 * when the task starts (task_tracker.h).
 */
int etm_pmu_check(struct etm_conf *conf, const struct etm_key_table *t, uint64_t given, const char *engine,
		  struct etm_pmu_params *pmu);

#endif
