/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * NUMA node figures for tiering: which nodes have memory, how much of it is
 * free per node (page allocator and hugetlb pools), the distances between
 * nodes and the memory tiers the kernel put them in. Read from sysfs and
 * /proc/zoneinfo under a root prefix ("" for the running system, a stand-in
 * tree in tests); every parser is a pure function over a buffer.
 */
#ifndef ETM_SCAN_NUMA_NODE_H
#define ETM_SCAN_NUMA_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Node ids 0..ETM_NUMA_MAX_NODES-1 (CONFIG_NODES_SHIFT 10, as libnuma's MAX_NUMNODES). */
#define ETM_NUMA_MAX_NODES 1024

/* Which free figure applies: base pages and THP come from the page allocator, hugetlb from its pools. */
enum etm_numa_backing {
	ETM_NUMA_BASE = 0, /* 4 KiB pages and THP */
	ETM_NUMA_HUGE_2M,  /* hugetlb, 2 MiB pool */
	ETM_NUMA_HUGE_1G,  /* hugetlb, 1 GiB pool */
};

struct etm_numa_node {
	int id;
	bool has_cpu;
	int tier;		/* memory_tierN's N (lower is faster), -1: no tiers known */
	uint64_t mem_total;	/* bytes, nodeN/meminfo MemTotal */
	uint64_t mem_free;	/* bytes, nodeN/meminfo MemFree */
	uint64_t wmark_high;	/* bytes, sum of the node's zones' high watermarks (/proc/zoneinfo) */
	uint64_t huge_total[2]; /* bytes in the 2 MiB and 1 GiB hugetlb pools (nr_hugepages) */
	uint64_t huge_free[2];	/* of which free (free_hugepages) */
};

struct etm_numa_topo {
	size_t n; /* nodes with memory, ascending id */
	struct etm_numa_node *node;
	int max_id;	  /* highest online node id */
	int *dist;	  /* (max_id+1)^2 distances by node id, 0 unknown */
	bool tiers_known; /* /sys/devices/virtual/memory_tiering exists */
};

/*
 * Read the topology and the figures under @root. -ENOENT with @why when
 * the kernel has no NUMA sysfs (a kernel without CONFIG_NUMA).
 */
int etm_numa_topo_read(const char *root, struct etm_numa_topo **out, char *why, size_t len);
/* Re-read only the memory figures (meminfo, watermarks, hugetlb pools): once per cycle. */
int etm_numa_topo_refresh(const char *root, struct etm_numa_topo *t);
void etm_numa_topo_free(struct etm_numa_topo *t);
const struct etm_numa_node *etm_numa_topo_node(const struct etm_numa_topo *t, int id);
int etm_numa_distance(const struct etm_numa_topo *t, int from, int to);

/*
 * Bytes a tiering engine may still fill on @n: for base pages and THP,
 * MemFree above the high watermark (filling below it wakes kswapd, and on
 * a tiered machine demotes pages the engine just placed); for hugetlb the
 * pool's free pages.
 */
uint64_t etm_numa_free_bytes(const struct etm_numa_node *n, enum etm_numa_backing b);
uint64_t etm_numa_total_bytes(const struct etm_numa_node *n, enum etm_numa_backing b);

/*
 * Tiering needs two memory nodes. -ENODEV with @why naming what is
 * missing on a machine with one.
 */
int etm_numa_need_two(const struct etm_numa_topo *t, char *why, size_t len);

struct etm_numa_pair {
	int hot_node;
	int cold_node;
};

/*
 * Node pairs from the kernel's memory tiers, as the kernel picks demotion
 * targets: each memory node of the fastest tier is paired with the nearest
 * node (distance; ties: lowest id) of the next tier down. Slower tiers
 * below that are not paired. A slow node may serve more than one fast node.
 * -ENOENT with @why when the kernel describes no tiers, or puts every node
 * in one. *pairs is malloc'd.
 */
int etm_numa_tier_pairs(const struct etm_numa_topo *t, struct etm_numa_pair **pairs, size_t *n, char *why, size_t len);

/* Parsers (pure). */
/* "0-3,5\n" into set[0..max): 0, -EINVAL, -ERANGE for an id >= max. */
int etm_parse_nodelist(const char *buf, size_t len, bool *set, int max);
/* nodeN/meminfo: "Node N MemTotal: X kB" and MemFree, in kB. */
int etm_parse_node_meminfo(const char *buf, size_t len, uint64_t *total_kb, uint64_t *free_kb);
/* /proc/zoneinfo: add each zone's high watermark (pages) to high[node] for node < max. */
int etm_parse_zoneinfo_high(const char *buf, size_t len, uint64_t *high, int max);
/* nodeN/distance: blank-separated numbers, at most @max; *n gets how many. */
int etm_parse_distances(const char *buf, size_t len, int *d, int max, int *n);

#endif
