/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * cslide: NUMA tiering between a hot (DRAM) and a cold (e.g. PMEM, CXL)
 * node of each pair. This header holds its keys and parsed parameters;
 * cslide_rt.h its runtime (which file does what is said there).
 */
#ifndef ETM_CSLIDE_H
#define ETM_CSLIDE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "scan/numa_node.h"
#include "slide_params.h"

typedef struct etm_numa_topo etm_numa_topo;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(etm_numa_topo, etm_numa_topo_free)

/* libnuma's MAX_NUMNODES on x86_64/arm64 distro kernels (CONFIG_NODES_SHIFT 10). */
#define CSLIDE_MAX_NUMNODES 1024
#define CSLIDE_MAX_PAIRS (CSLIDE_MAX_NUMNODES / 2)
/* vm_flags: up to 256 characters (the spec). */
#define CSLIDE_VM_FLAGS_MAX 256

struct cslide_node_pair {
	int hot_node;
	int cold_node;
};

struct cslide_rt;

struct cslide_eng_params {
	struct cslide_node_pair *pairs; /* node_pair=hot,cold;hot,cold; NULL: from the kernel's memory tiers */
	size_t n_pairs;
	int hot_threshold;	   /* pages accessed fewer times are cold, 0..INT_MAX */
	int node_mig_quota;	   /* MB moved each way per pair and cycle, 0..INT_MAX */
	int node_hot_reserve;	   /* MB of the hot node kept for hot pages, 0..INT_MAX */
	struct etm_pmu_params pmu; /* sample_period, vma_updata_rate, cpu_set_size, cooling_interval */
	/*
	 * Not a key: the engine's runtime, shared by its tasks, from the first
	 * start_task to the last stop_task (cslide_rt.h).
	 */
	struct cslide_rt *rt;
};

struct cslide_task_params {
	char **vm_flags; /* NULL-terminated two-letter VmFlags (only "ht" today), NULL if unset */
	int n_vm_flags;
	bool anon_only; /* scan anonymous VMAs only */
	bool ign_host;	/* SCAN_IGN_HOST: ignore the host's own page-table accesses */
	int tracker;	/* access_tracker=: 0 auto, else a per-page tracker's backend id */
};

/*
 * Syntax of node_pair (pure, no system access): pairs "hot,cold" separated
 * by ';', blanks allowed around every item; each node 0..CSLIDE_MAX_NUMNODES-1,
 * used at most once, hot != cold. On success *pairs is a new array (g_free).
 * On failure returns -EINVAL and writes the reason to @why.
 */
int cslide_parse_node_pairs(const char *s, struct cslide_node_pair **pairs, size_t *n, char *why, size_t why_len);

/* cslide's key tables (keys.h): [engine] and [task]. */
extern const struct etm_key_table cslide_engine_keys;
extern const struct etm_key_table cslide_task_keys;

/*
 * cslide's [engine] parse hook against the machine @topo (the daemon reads
 * the running one; tests give their own): node_pair's nodes must have
 * memory there, and without node_pair the kernel's memory tiers must pair
 * them. Either way the machine needs two memory nodes.
 */
int cslide_parse_engine_with(struct etm_conf *conf, const struct etm_numa_topo *topo, void **params);

#endif
