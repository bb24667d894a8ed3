/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Reclaim of a memory cgroup's cold anonymous memory by the kernel's own
 * LRU (the memcg_lru backend). The kernel grades: on the inactive list each
 * page's accessed bits are checked through rmap (second chance), referenced
 * anonymous pages are activated, the rest is swapped out. etmem decides when
 * (after slide's observation window, past its gates) and how much.
 *
 * The pure parts (memory.stat parsing, the amount, the stepwise limit plan)
 * are split out for unit tests; etm_memcg_reclaim() does the I/O.
 */
#ifndef ETM_SCAN_MEMCG_RECLAIM_H
#define ETM_SCAN_MEMCG_RECLAIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "scan/journal.h"

/* Mount points of the memory controller: v1 hierarchy, or the unified one. */
#define ETM_MEMCG_V1_ROOT "/sys/fs/cgroup/memory"
#define ETM_MEMCG_V2_ROOT "/sys/fs/cgroup"

/* v1 limit cuts: a large cut below the working set fails with EBUSY. */
#define ETM_MEMCG_STEP (64ULL << 20)
/* Below this much inactive anon, a cycle does not bother the kernel. */
#define ETM_MEMCG_MIN_RECLAIM (1ULL << 20)
/* At most this many limit cuts / memory.reclaim writes per memcg and cycle. */
#define ETM_MEMCG_MAX_STEPS 4096

/* What the LRU says about one memory cgroup (bytes). */
struct etm_memcg_lru_stat {
	uint64_t inactive_anon;
	uint64_t active_anon;
	uint64_t swap; /* v1 "swap" (with memsw accounting); v2 reads memory.swap.current */
	bool has_swap;
	uint64_t pswpout; /* pages swapped out so far (v2 since 6.15), a running total */
	bool has_pswpout;
};

/*
 * Parse memory.stat text. v1 has both the cgroup's own counters and the
 * hierarchical total_* ones: the totals win (a target's memcg may have
 * children). 0, or -EINVAL when inactive_anon/active_anon are missing.
 */
int etm_memcg_stat_parse(const char *buf, size_t len, struct etm_memcg_lru_stat *out);

/*
 * How much to ask the kernel to reclaim now: the inactive anon bytes above
 * @keep (the part the caller wants left for the LRU's second chance), page
 * aligned; 0 when that is below ETM_MEMCG_MIN_RECLAIM.
 */
uint64_t etm_memcg_cold_amount(const struct etm_memcg_lru_stat *s, uint64_t keep);

/*
 * What a reclaim leaves on the inactive list: at least @keep, and
 * active_anon / ETM_MEMCG_KEEP_DIV. Once the inactive list is short of the
 * active one, reclaim deactivates active (hot) pages with their accessed
 * bits just cleared; asking for more would take them before the workload
 * touches them again. The rest of the cold part goes in the next cycles.
 */
#define ETM_MEMCG_KEEP_DIV 8
uint64_t etm_memcg_keep(const struct etm_memcg_lru_stat *s, uint64_t keep);

/*
 * The lowest usage one reclaim may aim at, from the largest active anon it
 * has seen (@hot_max): that plus its ETM_MEMCG_KEEP_DIV share, page aligned.
 * Why not the current active anon: once the inactive list runs low, reclaim
 * deactivates every active page (active anon drops to ~0 just then) and
 * clears their accessed bits without a TLB flush, so hot pages look idle for
 * a moment; the figures of that moment would let the last cuts take them.
 */
uint64_t etm_memcg_floor(uint64_t hot_max);

/*
 * The next v1 limit when stepping from @usage towards @goal by at most
 * @step: max(goal, usage - step), page aligned up; 0 when usage <= goal
 * (nothing left to cut).
 */
uint64_t etm_memcg_next_limit(uint64_t usage, uint64_t goal, uint64_t step);

/*
 * The whole plan from @usage down to usage - @amount (not below @floor),
 * into @limits (at most @max entries). Returns the number of cuts.
 */
size_t etm_memcg_limit_plan(uint64_t usage, uint64_t amount, uint64_t step, uint64_t floor, uint64_t *limits,
			    size_t max);

/* One memory cgroup directory. */
struct etm_memcg_dir {
	char dir[320]; /* e.g. /sys/fs/cgroup/memory/etmem-test-42 */
	bool v1;
};

/* @path as /proc/PID/cgroup shows it. -ENAMETOOLONG, -ENOENT (not a memcg directory). */
int etm_memcg_dir_of(const char *path, bool v1, struct etm_memcg_dir *d);

int etm_memcg_read_stat(const struct etm_memcg_dir *d, struct etm_memcg_lru_stat *s);
/* A single-number file of @d ("memory.limit_in_bytes", "memory.current", ...). */
int etm_memcg_read_u64(const struct etm_memcg_dir *d, const char *name, uint64_t *out);
/*
 * Swap the memcg uses now (bytes): v1 memsw - usage (or stat swap), v2
 * memory.swap.current. v2 without it (swap accounting off) falls back to
 * memory.stat's pswpout in bytes, a running total: callers take differences.
 */
int etm_memcg_swap_bytes(const struct etm_memcg_dir *d, uint64_t *out);
/* v1 memory.swappiness (v2: -ENOTSUP; its reclaim swaps anon whenever swap exists). */
int etm_memcg_swappiness(const struct etm_memcg_dir *d, int *out);

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

struct etm_memcg_reclaim_res {
	uint64_t asked;	     /* bytes the steps asked for */
	uint64_t swapped;    /* growth of the memcg's swap usage */
	unsigned steps;	     /* limit cuts / memory.reclaim writes done */
	bool busy;	     /* the kernel refused a cut (EBUSY/EAGAIN): stopped there */
	bool restore_failed; /* v1: the original limit could not be written back */
	bool contended;	     /* v1: another reclaim of this memcg is in progress: nothing done */
	double seconds;
};

/*
 * Reclaim up to @amount bytes of @d's memory, stepwise, re-reading
 * memory.stat before each step and stopping as soon as the inactive anon
 * falls to @keep (what is left there are the pages whose second chance is
 * still running: hot pages the LRU had not scanned yet).
 *
 * v2: writes to memory.reclaim. v1 (no memory.reclaim): lowers
 * memory.limit_in_bytes from the current usage in ETM_MEMCG_STEP cuts
 * (each write reclaims synchronously), stops at the first EBUSY, and ALWAYS
 * writes the original limit back before returning, also on errors. With
 * @jdir (ETM_RUN_DIR in the daemon; NULL: no journal) the cuts are recorded
 * there first (the journal below), so a crash between a cut and the restore
 * is undone by the next etmemd, and a concurrent reclaim of the same memcg
 * is skipped (res->contended) instead of restoring the wrong limit.
 *
 * 0 (even when the kernel stopped early: see res->busy), or -errno.
 */
int etm_memcg_reclaim(const struct etm_memcg_dir *d, uint64_t amount, uint64_t keep, const char *jdir,
		      struct etm_memcg_reclaim_res *res);

/*
 * The journal of v1 limit cuts in flight (memcg_journal.c): one record per
 * memcg in @jdir, named after a hash of its directory, created O_EXCL and
 * flock'ed by its owner while it lives (journal.h), so it is also the lock.
 * It holds the owner (pid + start time, for messages), the original limit
 * and the lowest limit about to be written. The owner writes "last" BEFORE
 * each cut, so after a crash the limit lies in [last, orig]; anything else
 * was set by someone else and is left alone.
 */
struct etm_memcg_journal_rec {
	struct etm_owner owner;
	uint64_t orig, last;
	char dir[320];
};

struct etm_memcg_journal {
	int dfd;
	int lockfd; /* our record's file, locked: valid while held */
	bool held;  /* our record is in place */
	char name[32];
	struct etm_memcg_journal_rec rec;
};

/* Pure, for tests and fuzzing: the record's text. Length, or -errno. */
int etm_memcg_journal_format(const struct etm_memcg_journal_rec *r, char *buf, size_t len);
/* 0, or -EINVAL for anything but a whole, well-formed record (a torn one is not trusted). */
int etm_memcg_journal_parse(const char *buf, size_t len, struct etm_memcg_journal_rec *r);

/*
 * Claim @d for a reclaim whose original limit is @orig. A dead owner's
 * record for @d is undone first. -EBUSY: a live reclaim holds it; -EPERM:
 * @jdir is not a private root directory, or a file that is not a record
 * holds the name. @jdir is created 0700 when missing (an exiting etmemd
 * removes it again when empty).
 */
int etm_memcg_journal_begin(const char *jdir, const struct etm_memcg_dir *d, uint64_t orig,
			    struct etm_memcg_journal *j);
/* Record that the limit is about to become @next. */
int etm_memcg_journal_note(struct etm_memcg_journal *j, uint64_t next);
/* The original limit is back: drop the record. */
void etm_memcg_journal_end(struct etm_memcg_journal *j);
/*
 * Let go without dropping the record (the restore failed): unlocked, it is
 * a dead owner's record now, which the next claim of the memcg or the next
 * etmemd start undoes.
 */
void etm_memcg_journal_abandon(struct etm_memcg_journal *j);
/*
 * At start-up: undo every record whose owner is dead; @restored counts the
 * limits written back. A record's directory is only followed below the
 * cgroup v1 memory mount found in /proc/self/mountinfo, and only to a file
 * of that cgroup filesystem (cgroup_fs.h): a record naming anything else is
 * left alone with a warning, and nothing is written. 0 (also when @jdir
 * does not exist), or the last -errno of a record that could not be undone
 * (it stays for the next start).
 */
int etm_memcg_journal_recover(const char *jdir, unsigned *restored);
/* The same with the memory hierarchy's mount given (tests: a stand-in directory and its filesystem). */
struct etm_cgroup_root;
int etm_memcg_journal_recover_at(const char *jdir, const struct etm_cgroup_root *root, unsigned *restored);

#endif
