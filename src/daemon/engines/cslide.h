/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * cslide: NUMA tiering between a hot (DRAM) and a cold (e.g. PMEM) node of
 * each pair. This header holds its keys and parsed parameters; the runtime
 * is a later addition.
 */
#ifndef ETM_CSLIDE_H
#define ETM_CSLIDE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "slide_params.h"

/* libnuma's MAX_NUMNODES on x86_64/arm64 distro kernels (CONFIG_NODES_SHIFT 10). */
#define CSLIDE_MAX_NUMNODES 1024
#define CSLIDE_MAX_PAIRS (CSLIDE_MAX_NUMNODES / 2)
/* vm_flags: up to 256 characters (the spec). */
#define CSLIDE_VM_FLAGS_MAX 256

struct cslide_node_pair {
	int hot_node;
	int cold_node;
};

struct cslide_eng_params {
	struct cslide_node_pair *pairs; /* node_pair=hot,cold;hot,cold */
	size_t n_pairs;
	int hot_threshold;	   /* pages accessed fewer times are cold, 0..INT_MAX */
	int node_mig_quota;	   /* MB moved each way per pair and cycle, 0..INT_MAX */
	int node_hot_reserve;	   /* MB of the hot node kept for hot pages, 0..INT_MAX */
	struct etm_pmu_params pmu; /* sample_period, vma_updata_rate, cpu_set_size, cooling_interval */
};

struct cslide_task_params {
	char **vm_flags; /* NULL-terminated two-letter VmFlags (only "ht" today), NULL if unset */
	int n_vm_flags;
	bool anon_only; /* scan anonymous VMAs only */
	bool ign_host;	/* SCAN_IGN_HOST: ignore the host's own page-table accesses */
};

/*
 * Syntax of node_pair (pure, no system access): pairs "hot,cold" separated
 * by ';', blanks allowed around every item; each node 0..CSLIDE_MAX_NUMNODES-1,
 * used at most once, hot != cold. On success *pairs is a new array (g_free).
 * On failure returns -EINVAL and writes the reason to @why.
 */
int cslide_parse_node_pairs(const char *s, struct cslide_node_pair **pairs, size_t *n, char *why, size_t why_len);

/* Is NUMA node @node present (has a /sys/devices/system/node/nodeN)? */
typedef bool (*cslide_node_present_fn)(int node, void *arg);
bool cslide_numa_node_present(int node, void *arg);

/* cslide's key tables (keys.h): [engine] and [task]. */
extern const struct etm_key_table cslide_engine_keys;
extern const struct etm_key_table cslide_task_keys;

/* cslide's [engine] parse hook with the node presence test injectable (tests). */
int cslide_parse_engine_with(struct etm_conf *conf, cslide_node_present_fn present, void *arg, void **params);

#endif
