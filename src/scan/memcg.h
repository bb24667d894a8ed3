/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The memory cgroup file layer: find a memcg's directory, read memory.stat
 * and single-number files, write limits and memory.reclaim, on cgroup v1
 * and v2. Used by the memcg_lru reclaimer, the v1 limit-cut journal and any
 * engine that reclaims whole memory cgroups (psi).
 *
 * The hierarchy's mount comes from /proc/self/mountinfo, and every file is
 * opened through cgroup_fs.h's confined walk from that mount: a cgroup path
 * (from /proc/PID/cgroup, a configuration or a journal record) can only name
 * a regular file of the cgroup filesystem below it, never anything else.
 */
#ifndef ETM_SCAN_MEMCG_H
#define ETM_SCAN_MEMCG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scan/cgroup_fs.h"

/* Where the hierarchies usually are; messages name them when nothing is mounted. */
#define ETM_MEMCG_V1_ROOT "/sys/fs/cgroup/memory"
#define ETM_MEMCG_V2_ROOT "/sys/fs/cgroup"

/* What memory.stat says about one memory cgroup (bytes). */
struct etm_memcg_lru_stat {
	uint64_t inactive_anon;
	uint64_t active_anon;
	uint64_t swap; /* v1 "swap" (with memsw accounting); v2 reads memory.swap.current */
	bool has_swap;
	uint64_t pswpout; /* pages swapped out so far (v2 since 6.15), a running total */
	bool has_pswpout;
	/*
	 * workingset_refault_anon: anonymous pages faulted back in soon after
	 * their eviction (the kernel's shadow entries judge "soon"), a running
	 * total in pages; workingset_refault (anon and file) before 5.9.
	 */
	uint64_t refault_anon;
	bool has_refault;
};

/*
 * Parse memory.stat text. v1 has both the cgroup's own counters and the
 * hierarchical total_* ones: the totals win (a target's memcg may have
 * children). 0, or -EINVAL when inactive_anon/active_anon are missing.
 */
int etm_memcg_stat_parse(const char *buf, size_t len, struct etm_memcg_lru_stat *out);

/* One memory cgroup directory: a value, nothing to release. */
struct etm_memcg_dir {
	char dir[320]; /* e.g. /sys/fs/cgroup/memory/etmem-test-42 */
	bool v1;
	struct etm_cgroup_root root; /* the hierarchy's mount, which every open starts from */
};

/*
 * @path as /proc/PID/cgroup shows it. -EINVAL (not absolute, or a "." or
 * ".." component), -ENAMETOOLONG, -ENOENT (not a memcg directory, or the
 * hierarchy is not mounted: d->dir then names its usual place), or the
 * confined walk's -errno (cgroup_fs.h).
 */
int etm_memcg_dir_of(const char *path, bool v1, struct etm_memcg_dir *d);
/* The directory @dir (absolute) below the mount @root (tests: a stand-in directory and its filesystem). */
int etm_memcg_dir_at(const struct etm_cgroup_root *root, const char *dir, bool v1, struct etm_memcg_dir *d);

/* @name of @d opened with @flags through the confined walk: a descriptor, or -errno. */
int etm_memcg_open_file(const struct etm_memcg_dir *d, const char *name, int flags);
/* The whole of @name (at most @max bytes) into a new NUL-terminated buffer (memory.pressure, ...). */
int etm_memcg_read_text(const struct etm_memcg_dir *d, const char *name, char **buf, size_t *len, size_t max);
/* A single-number file of @d ("memory.limit_in_bytes", "memory.current", ...). */
int etm_memcg_read_u64(const struct etm_memcg_dir *d, const char *name, uint64_t *out);
/*
 * Write @v in decimal to @name (a limit, memory.reclaim). 0, or -errno of
 * the write (EBUSY from a limit below what can be reclaimed, EAGAIN from
 * memory.reclaim when less was reclaimed than asked).
 */
int etm_memcg_write_u64(const struct etm_memcg_dir *d, const char *name, uint64_t v);
int etm_memcg_read_stat(const struct etm_memcg_dir *d, struct etm_memcg_lru_stat *s);
/* What the memcg charges now (bytes): v1 memory.usage_in_bytes, v2 memory.current. */
int etm_memcg_usage(const struct etm_memcg_dir *d, uint64_t *out);
/*
 * The memcg's identity: its directory's inode number (the cgroup id on
 * cgroup v2). A memcg removed and made again under the same path has
 * another, so what was learnt of the old one is not applied to the new.
 */
int etm_memcg_id(const struct etm_memcg_dir *d, uint64_t *out);
/*
 * Swap the memcg uses now (bytes): v1 memsw - usage (or stat swap), v2
 * memory.swap.current. v2 without it (swap accounting off) falls back to
 * memory.stat's pswpout in bytes, a running total: callers take differences.
 */
int etm_memcg_swap_bytes(const struct etm_memcg_dir *d, uint64_t *out);
/* v1 memory.swappiness (v2: -ENOTSUP; its reclaim swaps anon whenever swap exists). */
int etm_memcg_swappiness(const struct etm_memcg_dir *d, int *out);

#endif
