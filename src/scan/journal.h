/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * etmemd's undo journal: small record files in a private runtime directory
 * for every kernel-side change that outlives a crash of the daemon (a
 * lowered cgroup v1 limit, a running DAMON kdamond). Each record names its
 * owner by pid AND start time (a pid alone may be reused), so the next
 * etmemd can tell a dead owner's leftovers from a live daemon's work.
 * The record formats belong to their users (memcg_journal.c,
 * damon_sysfs.c); this file only holds what they share.
 */
#ifndef ETM_SCAN_JOURNAL_H
#define ETM_SCAN_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The daemon's journal directory (tmpfs: a reboot undoes everything anyway). */
#define ETM_RUN_DIR "/run/etmemd"
/* A record is a few short lines; anything longer is not one of ours. */
#define ETM_JOURNAL_REC_MAX 1024

struct etm_owner {
	pid_t pid;
	uint64_t start; /* /proc/PID/stat field 22 */
};

/* Field 22 (starttime) of a /proc/PID/stat text; pure, for tests and fuzzing. */
int etm_proc_starttime_parse(const char *buf, size_t len, uint64_t *out);
/* This process. 0 or -errno. */
int etm_owner_self(struct etm_owner *o);
/* Is @o still the process that wrote the record? */
bool etm_owner_alive(const struct etm_owner *o);

/*
 * "owner PID START" at *@p, advancing it past START on success only;
 * -EINVAL unless PID is in 1..INT32_MAX.
 */
int etm_owner_parse(const char **p, const char *end, struct etm_owner *o);

/*
 * Open the journal directory: with @create, made 0700 when missing. Refused
 * (-EPERM, with a warning) unless owned by root (or us) and not writable by
 * group or others; -ENOENT when missing and not @create. A directory fd.
 */
int etm_journal_dir_open(const char *jdir, bool create);
/* Read record @name (O_NOFOLLOW, at most ETM_JOURNAL_REC_MAX bytes) into @buf (that size + 1). */
int etm_journal_read(int dfd, const char *name, char *buf, size_t *len);
/*
 * Write record @name whole and atomically: into a temporary file first, then
 * linked into place (@excl: -EEXIST when a record of that name exists, which
 * makes the record a lock) or renamed over the old one. Readers never see a
 * partial record.
 */
int etm_journal_put(int dfd, const char *name, const char *buf, size_t len, bool excl);
/* Temporary files of etm_journal_put() carry this in their names. */
#define ETM_JOURNAL_TMP ".tmp."
bool etm_journal_is_tmp(const char *name);
/* At start-up: remove @name, a temporary file, if a crash left it (older than a minute). */
void etm_journal_sweep_tmp(int dfd, const char *name);

/*
 * What a record's owner left, handed to its user at start-up: @buf/@len is
 * the record's text. Return 0 when it is dealt with (the record is removed),
 * ETM_JOURNAL_KEEP to leave it (a live owner's), or -errno to leave it for
 * the next start (the user says why in the log).
 */
#define ETM_JOURNAL_KEEP 1
typedef int (*etm_journal_undo_fn)(const char *name, const char *buf, size_t len, void *arg);
/*
 * Hand every record named @prefix* in @jdir to @undo; temporary files a
 * crash left are swept. 0 (also without a journal directory), or the last
 * -errno @undo or a read returned.
 */
int etm_journal_recover(const char *jdir, const char *prefix, etm_journal_undo_fn undo, void *arg);

#endif
