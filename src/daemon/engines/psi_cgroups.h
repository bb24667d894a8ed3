/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * psi engine: the cgroups a task tracks. cg_dir is a glob (braces allowed,
 * directories only) relative to the mount point of the hierarchy in use;
 * it is expanded again every cycle, and the set of tracked cgroups, keyed
 * by inode, picks up the ones that appeared and drops the ones that
 * vanished. Keyed by inode, not by name: a cgroup removed and created again
 * under the same name is a new cgroup and starts again from the task's rate.
 */
#ifndef ETM_PSI_CGROUPS_H
#define ETM_PSI_CGROUPS_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "psi_policy.h"
#include "psi_pressure.h"

/* At most this many cgroups per task: a glob gone wide must not cost unbounded memory and time. */
#define PSI_CG_MAX 1024
/* Cycles of history per cgroup (etmem engine pressure). */
#define PSI_HIST_MAX 64

/* One cycle of one cgroup, for the history (etmem engine pressure). */
struct psi_sample {
	uint64_t cycle; /* the task's cycle number, from 1 */
	double pressure;
	uint64_t usage;
	uint64_t reclaimed;
	double rate; /* the rate the cycle used */
	enum psi_state state;
};

/* What the last cycle saw of one cgroup (project show). */
struct psi_cg_last {
	bool known; /* readings were taken at least once */
	int err;    /* the last cycle's -errno (reading or reclaiming), 0 */
	enum psi_source src;
	struct psi_readings r;
	struct psi_decision d;
	/*
	 * What its reclaim took: what it asked of the kernel, or the usage it
	 * brought down when the kernel stopped short (0: none, or it failed);
	 * the next cycle judges its refaults against this.
	 */
	uint64_t asked;
	bool stopped; /* the kernel stopped its reclaim short (EBUSY / EAGAIN) */
};

/* One tracked cgroup. */
struct psi_cg {
	uint64_t ino;
	char *rel; /* relative to the hierarchy's mount: "isulad/abc" */
	struct psi_rate rate;
	uint64_t reclaimed_total, reclaimed_last;
	struct psi_sample hist[PSI_HIST_MAX]; /* a ring: the last nhist cycles end at hist[(head-1) % MAX] */
	unsigned head, nhist;
	unsigned seen; /* the update that last matched it */
	struct psi_cg_last last;
};

void psi_cg_free(struct psi_cg *cg);
/* g_autoptr(psi_cg) needs a type name. */
typedef struct psi_cg psi_cg;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(psi_cg, psi_cg_free)

/* Record one cycle (also adds to the reclaimed totals). */
void psi_cg_record(struct psi_cg *cg, const struct psi_sample *s);
/* The @i-th most recent sample (0: the last one), or NULL past the history. */
const struct psi_sample *psi_cg_sample(const struct psi_cg *cg, unsigned i);

/* One directory the glob matched. */
struct psi_match {
	uint64_t ino;
	char *rel;
};

/*
 * Expand @pattern (cg_dir) below @mnt into a new array of struct psi_match
 * (sorted by rel, freed by g_ptr_array_unref). glob(3) with GLOB_BRACE and
 * GLOB_ONLYDIR; each match is then checked, since GLOB_ONLYDIR is only a
 * hint and "{.,x}." or ".*" spell ".." without writing it: kept are real
 * directories (not symlinks) on @mnt's own filesystem, none of whose
 * components is "." or "..", and not @mnt itself. At most PSI_CG_MAX are
 * kept; *@dropped (may be NULL) counts the matches left out for that.
 * 0 (also for no match), -ENOENT (@mnt is missing), -ENAMETOOLONG, -ENOMEM.
 */
int psi_cg_expand(const char *mnt, const char *pattern, GPtrArray **out, unsigned *dropped);

struct psi_cgset;

struct psi_cgset *psi_cgset_new(const struct psi_policy *policy);
void psi_cgset_free(struct psi_cgset *s);
/* g_autoptr(psi_cgset) needs a type name. */
typedef struct psi_cgset psi_cgset;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(psi_cgset, psi_cgset_free)

/*
 * Make the set what @matches (from psi_cg_expand) says: new inodes are
 * added (appended to @added, borrowed; their rate from the policy), a known
 * inode under a new name is renamed, cgroups not matched are removed
 * (appended to @removed, which then owns them: make it with psi_cg_free as
 * its free function). @added and @removed may be NULL.
 */
void psi_cgset_update(struct psi_cgset *s, GPtrArray *matches, GPtrArray *added, GPtrArray *removed);

/* The tracked cgroups sorted by rel, borrowed (valid until the next update). */
GPtrArray *psi_cgset_list(struct psi_cgset *s);
unsigned psi_cgset_size(const struct psi_cgset *s);

#endif
