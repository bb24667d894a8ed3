/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Multi-gen LRU (CONFIG_LRU_GEN, on by default in many distribution kernels).
 * There memory.stat's active anon is the two youngest generations and a new
 * anon page enters the second youngest, so inactive_anon stays 0 until the
 * kernel ages the memcg -- which only reclaim pressure does. Without aging
 * memcg_lru would never find anything cold. So with MGLRU on, each cycle
 * first ages the memcg once through debugfs (one new generation per node:
 * the page-table walk moves the pages accessed since the previous aging to
 * it); the pages not accessed for two windows then show as inactive_anon.
 */
#ifndef ETM_SCAN_LRU_GEN_H
#define ETM_SCAN_LRU_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETM_LRU_GEN_ENABLED "/sys/kernel/mm/lru_gen/enabled"
#define ETM_LRU_GEN_DEBUGFS "/sys/kernel/debug/lru_gen"
#define ETM_LRU_GEN_MAX_NODES 64

/* One memcg's entry in ETM_LRU_GEN_DEBUGFS: its id and each node's youngest generation. */
struct etm_lru_gen_memcg {
	unsigned id;
	size_t nnodes;
	int nid[ETM_LRU_GEN_MAX_NODES];
	uint64_t max_seq[ETM_LRU_GEN_MAX_NODES];
};

/* ETM_LRU_GEN_ENABLED's text ("0x0007"): bit 0 is the main switch. 0 or -EINVAL. */
int etm_lru_gen_enabled_parse(const char *buf, size_t len, bool *on);

/*
 * Find the memcg whose path (as /proc/PID/cgroup shows it) is @path in the
 * text of ETM_LRU_GEN_DEBUGFS. 0; -ENOENT not listed (or without nodes);
 * -EINVAL malformed; -E2BIG more than ETM_LRU_GEN_MAX_NODES nodes.
 */
int etm_lru_gen_parse(const char *buf, size_t len, const char *path, struct etm_lru_gen_memcg *out);

/*
 * Age the memcg at @path once on every node (MGLRU on). 0 aged; -ENOTSUP
 * MGLRU is off (or not built): nothing to do; other -errno (e.g. -ENOENT:
 * debugfs not mounted) means the inactive list will not be refreshed.
 */
int etm_memcg_lru_gen_age(const char *path);

#endif
