/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * psi engine: the kernel backends, behind one small vtable (read pressure,
 * read usage/stat/limit/protections, reclaim N bytes), detected once per
 * task and named in project show:
 *
 *   cgroup2          memory.pressure and memory.reclaim of the cgroup v2
 *                    hierarchy (mainline 5.19+, the rig).
 *   cgroup1-reclaim  openEuler's cgroup v1: memory.reclaim in the v1 memory
 *                    hierarchy, pressure from the cgroup of the same name in
 *                    the cpuacct hierarchy (psi=1 psi_v1=1,
 *                    CONFIG_PSI_CGROUP_V1).
 *   cgroup1-limit    plain cgroup v1 (this kind of host): reclaim by stepwise
 *                    memory.limit_in_bytes cuts that are always undone
 *                    (etm_memcg_reclaim_bytes() with the undo journal), pressure
 *                    from the cgroup's twin in a cgroup2 hierarchy mounted
 *                    beside v1 when the twin holds the same processes, else
 *                    the system's /proc/pressure/memory; each reading says
 *                    which (enum psi_source).
 *
 * In every case cg_dir is relative to the mount point of the memory
 * hierarchy in use.
 */
#ifndef ETM_PSI_BACKEND_H
#define ETM_PSI_BACKEND_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "psi_kernel.h"
#include "psi_policy.h"
#include "psi_pressure.h"
#include "scan/memcg.h"

/* memory.stat of a cgroup: a few dozen lines. */
#define PSI_STAT_MAX (64 << 10)
/* cgroup.procs compared for twins: bounded like every read. */
#define PSI_PROCS_MAX (1 << 20)

struct psi_reclaim_res {
	uint64_t asked;	     /* bytes asked of the kernel */
	uint64_t reclaimed;  /* usage before - usage after (0 if it grew meanwhile) */
	unsigned steps;	     /* memory.reclaim writes / limit cuts */
	bool busy;	     /* the kernel took less than asked (EAGAIN / EBUSY): stopped there */
	bool contended;	     /* cgroup1-limit: another reclaim of this memcg runs: nothing done */
	bool restore_failed; /* cgroup1-limit: the limit could not be put back (the journal keeps it) */
	double seconds;
};

struct psi_backend;

struct psi_backend_ops {
	const char *name;
	/* Pressure of cgroup @rel, and where it came from. 0 or -errno. */
	int (*pressure)(const struct psi_backend *b, const char *rel, struct psi_pressure *out, enum psi_source *src);
	/* Usage, limit, min, low, LRU sizes, the cgroup's own swap room (not the system's). 0 or -errno. */
	int (*readings)(const struct psi_backend *b, const char *rel, struct psi_readings *out);
	/* Reclaim @bytes from @rel. 0 (also when the kernel stopped early: res->busy) or -errno. */
	int (*reclaim)(const struct psi_backend *b, const char *rel, uint64_t bytes, struct psi_reclaim_res *res);
};

extern const struct psi_backend_ops psi_backend_cgroup2;
extern const struct psi_backend_ops psi_backend_cgroup1_reclaim;
extern const struct psi_backend_ops psi_backend_cgroup1_limit;

/*
 * Every cgroup file is opened through the memcg layer (scan/memcg.h): the
 * confined walk from the hierarchy's mount, which a cg_dir match or a
 * twin's name cannot leave.
 */
struct psi_backend {
	const struct psi_backend_ops *ops;
	struct etm_cgroup_root mem; /* the memory hierarchy's mount: cg_dir is relative to it */
	bool v1;		    /* mem is the cgroup v1 memory hierarchy */
	struct etm_cgroup_root psi; /* per-cgroup pressure files: cgroup2 (= mem), cpuacct, the twins' cgroup2 */
	bool has_psi;		    /* cgroup1-limit without cgroup2 mounted: none, the system's file only */
	char *proc_pressure;	    /* the system-wide file */
	char *meminfo;		    /* SwapFree, the system's part of the swap room */
	char *jdir;		    /* cgroup1-limit: the undo journal (NULL: none) */
};

void psi_backend_free(struct psi_backend *b);
/* g_autoptr(psi_backend) needs a type name. */
typedef struct psi_backend psi_backend;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(psi_backend, psi_backend_free)

/*
 * Find the backend this kernel offers: cgroup2 when the unified hierarchy
 * has the memory controller, else cgroup1-reclaim when the v1 memory root
 * has memory.reclaim, else cgroup1-limit. A new backend, or NULL with one
 * sentence in @err: no memory cgroup hierarchy, no memory.reclaim on v2,
 * or no PSI (naming the boot option or kernel config that is missing).
 */
struct psi_backend *psi_backend_detect(const struct psi_sys *sys, GString *err);

/* One line for project show: the backend, its hierarchies and where pressure comes from. */
char *psi_backend_describe(const struct psi_backend *b);

/*
 * A cycle's readings of @rel: ops->pressure (its level into r->pressure),
 * ops->readings, and the swap room cut to the system's free swap.
 */
int psi_backend_read(const struct psi_backend *b, const char *rel, struct psi_readings *r, enum psi_source *src);

/* --- shared by the backends (psi_backend.c) --- */

/* LRU sizes from memory.stat (bytes). v1: the hierarchical total_* win over the cgroup's own. */
struct psi_stat {
	uint64_t anon, file, unevictable;
	uint64_t active;   /* active_anon + active_file: the pages reclaim found referenced more than once */
	uint64_t refaults; /* workingset refaults, anon + file (pages, a running total) */
	bool has_refaults;
};
/* 0, or -EINVAL when an LRU line is missing or malformed. Pure. */
int psi_stat_parse(const char *buf, size_t len, struct psi_stat *out);

/*
 * Does the pid list @inner (cgroup.procs text) hold only pids that @outer
 * lists too? Pure; -EINVAL on a line that is no pid.
 */
int psi_procs_covered(const char *inner, size_t ilen, const char *outer, size_t olen, bool *covered);

/* @rel below @root ("": the root itself) as a directory of the memcg layer. 0, or -errno (-ENOENT: gone). */
int psi_dir(const struct etm_cgroup_root *root, const char *rel, bool v1, struct etm_memcg_dir *d);
/* Does @d have the file @name? */
bool psi_has_file(const struct etm_memcg_dir *d, const char *name);
/* A single-number file; "max" reads as UINT64_MAX. 0 or -errno (-EINVAL: not a number). */
int psi_read_u64(const struct etm_memcg_dir *d, const char *name, uint64_t *out);
int psi_read_stat(const struct etm_memcg_dir *d, struct psi_stat *out);
/*
 * Reclaim @bytes of @rel through the memcg layer (scan/memcg_reclaim.h):
 * memory.reclaim writes when @file or on cgroup2, else v1 limit cuts with
 * b->jdir's undo journal; res->reclaimed is how far the usage fell.
 */
int psi_reclaim_layer(const struct psi_backend *b, const char *rel, uint64_t bytes, bool file,
		      struct psi_reclaim_res *res);

#endif
