/* SPDX-License-Identifier: MulanPSL-2.0 */
/* psi engine: cgroup-granular proactive reclaim driven by memory pressure (PSI). */
#ifndef ETM_PSI_H
#define ETM_PSI_H

#include <stdint.h>

#include "daemon/keys.h"

/* cg_dir: a glob relative to the cgroup mount, at most 64 characters (the spec). */
#define PSI_CG_DIR_MAX 64
#define PSI_RECLAIM_MAX_BYTES_LIMIT (1ULL << 50)

struct psi_task_params {
	char *cg_dir;		    /* glob of cgroups, relative to the cgroup mount; no ".." */
	double pressure;	    /* some avg10/avg60 must stay below this to reclaim, (0, 100] */
	double reclaim_rate;	    /* starting fraction of the reclaimable memory per cycle, (0, 1] */
	double reclaim_rate_max;    /* the adaptive rate never rises above this */
	double reclaim_rate_min;    /* ... nor falls below this */
	uint64_t reclaim_max_bytes; /* at most this many bytes per cgroup and cycle, 1..2^50 */
	uint64_t limit_min_bytes;   /* never reclaim a cgroup below this usage (bytes) */
	double limit_min_ratio;	    /* ... nor below this fraction of its limit, [0, 1] */
};

/* psi's [task] keys (keys.h). */
extern const struct etm_key_table psi_task_keys;

/* cg_dir checks (pure): NULL when @v is fine, else the reason. */
const char *psi_cg_dir_invalid(const char *v);

#endif
