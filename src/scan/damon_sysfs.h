/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The DAMON sysfs admin interface (/sys/kernel/mm/damon/admin), shared by
 * the damon_vaddr and damon_paddr trackers.
 *
 * Ownership: kdamonds are numbered slots and the kernel rebuilds *all* of
 * them whenever nr_kdamonds is written, which it refuses (EBUSY) while any
 * kdamond runs. etmemd therefore only appends a slot when every existing
 * one is off and empty (never destroying someone else's configuration),
 * turns its own off on release, and shrinks nr_kdamonds only when its slots
 * are the last ones.
 */
#ifndef ETM_SCAN_DAMON_SYSFS_H
#define ETM_SCAN_DAMON_SYSFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scan/journal.h"

#define ETM_DAMON_ADMIN "/sys/kernel/mm/damon/admin"

/*
 * Can a tracker or reclaimer use DAMON now: is DAMON sysfs present, does it
 * offer @ops ("vaddr", "paddr"), and could etm_kdamond_alloc() append a
 * kdamond (reads only: "auto" must skip DAMON while someone else's kdamond
 * runs)? 0, or -ENOTSUP / -EBUSY with @why.
 */
int etm_damon_probe(const char *ops, char *why, size_t len);

struct etm_kdamond {
	int idx;
	char dir[96]; /* ETM_DAMON_ADMIN/kdamonds/IDX */
	/*
	 * Its journal record (journal.h), valid while idx >= 0; jdfd -1 when
	 * the journal is unusable. jlfd: the record's file, locked while jheld.
	 */
	int jdfd, jlfd;
	bool jheld;
	char jname[32];
};

/*
 * The journal record of a kdamond slot (ETM_RUN_DIR/kdamond-IDX): written at
 * alloc, updated with the kernel thread's pid at each etm_kdamond_on(),
 * removed at release, and locked by its owner all along (journal.h). kpid 0:
 * allocated, never turned on.
 */
struct etm_kdamond_rec {
	struct etm_owner owner;
	int idx;
	uint64_t kpid;
};
int etm_kdamond_rec_format(const struct etm_kdamond_rec *r, char *buf, size_t len);
/* 0, or -EINVAL for anything but a whole, well-formed record. */
int etm_kdamond_rec_parse(const char *buf, size_t len, struct etm_kdamond_rec *r);

/* Append a kdamond slot for us. -EBUSY (with @why naming the holder) when the kernel won't allow it. */
int etm_kdamond_alloc(struct etm_kdamond *k, char *why, size_t len);
/* Turn it off, empty it, and shrink nr_kdamonds if it is the last slot; drop its record. */
void etm_kdamond_release(struct etm_kdamond *k);
/*
 * close() of a tracker or reclaimer whose context is malloc'd with its
 * struct etm_kdamond as first member: release the kdamond, free the context.
 */
void etm_kdamond_ctx_close(void *ctx);
/* state=on, then record the kdamond's pid, so a crash of ours can be told from someone else's kdamond. */
int etm_kdamond_on(struct etm_kdamond *k);
/*
 * At start-up: release the slots whose records a dead etmemd left (their
 * lock is free, journal.h), when the slot still is what it left (on with the
 * recorded kdamond pid, or off);
 * a slot running another kdamond is left alone. @stopped counts releases.
 * 0 (also without a journal or DAMON), or -errno of the journal directory.
 */
int etm_kdamond_recover(const char *jdir, unsigned *stopped);

/* Write printf-formatted text to @k->dir/@rel. 0 or -errno. */
int etm_kdamond_write(const struct etm_kdamond *k, const char *rel, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int etm_kdamond_read_u64(const struct etm_kdamond *k, const char *rel, uint64_t *out);
/* Read the first word of @rel into @buf. */
int etm_kdamond_read_str(const struct etm_kdamond *k, const char *rel, char *buf, size_t len);

#endif
