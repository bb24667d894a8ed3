/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * etmemd's undo journal: small record files in a private runtime directory
 * for every kernel-side change that outlives a crash of the daemon (a
 * lowered cgroup v1 limit, a running DAMON kdamond).
 *
 * Who is alive: the owner of a record holds an flock(LOCK_EX) on its file
 * for as long as the record is its own, and the kernel drops that lock when
 * the owner dies, before its parent reaps it (a zombie holds no files). A
 * record whose lock can be taken is therefore a dead owner's, whatever its
 * pid shows now; one whose lock is held is a live owner's, be it another
 * etmemd or another task of this one (flock locks conflict between open
 * files, not processes). The record's "owner PID START" (pid and start
 * time) names the owner in messages.
 *
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
	uint64_t start; /* /proc/PID/stat field 22 (proc_stat.h) */
};

/* This process. 0 or -errno. */
int etm_owner_self(struct etm_owner *o);

/*
 * "owner PID START" at *@p, advancing it past START on success only;
 * -EINVAL unless PID is in 1..ETM_PID_MAX.
 */
int etm_owner_parse(const char **p, const char *end, struct etm_owner *o);

/*
 * Open the journal directory: with @create, made 0700 when missing. Refused
 * (-EPERM, with a warning) unless owned by root (or us) and not writable by
 * group or others; -ENOENT when missing and not @create. A directory fd.
 */
int etm_journal_dir_open(const char *jdir, bool create);
/*
 * Write record @name whole and atomically: into a temporary file first,
 * locked, then linked into place (@excl: -EEXIST when a record of that name
 * exists, which makes the record a lock) or renamed over the old one.
 * Readers never see a partial record, nor one unlocked while its owner
 * lives: on success *@lockfd (closed first if >= 0) is the new file's
 * descriptor, which the owner keeps open (the lock) until it removes the
 * record or gives it up. On failure *@lockfd is left as it was.
 */
int etm_journal_put(int dfd, const char *name, const char *buf, size_t len, bool excl, int *lockfd);
/*
 * Take record @name over from a dead owner: open it (O_NOFOLLOW), check it
 * is a regular file of root (or us) not writable by group or others (else
 * -EPERM, with a warning), take its lock without waiting (-EBUSY: the owner
 * is alive) and read it (at most ETM_JOURNAL_REC_MAX bytes) into @buf (that
 * size + 1). -ENOENT: gone meanwhile. Else the locked descriptor: the caller
 * undoes the record, removes it (unlinkat) and only then closes it.
 */
int etm_journal_claim(int dfd, const char *name, char *buf, size_t *len);
/* Temporary files of etm_journal_put() carry this in their names. */
#define ETM_JOURNAL_TMP ".tmp."
bool etm_journal_is_tmp(const char *name);
/* At start-up: remove @name, a temporary file, if a crash left it (older than a minute). */
void etm_journal_sweep_tmp(int dfd, const char *name);

/*
 * What a dead owner left, handed to its user at start-up: @buf/@len is the
 * record's text. Return 0 when it is dealt with (the record is removed), or
 * -errno to leave it for the next start (the user says why in the log).
 */
typedef int (*etm_journal_undo_fn)(const char *name, const char *buf, size_t len, void *arg);
/*
 * Hand every record named @prefix* in @jdir whose owner is dead to @undo;
 * live owners' records are left alone, temporary files a crash left are
 * swept. 0 (also without a journal directory), or the last -errno @undo or
 * a claim returned.
 */
int etm_journal_recover(const char *jdir, const char *prefix, etm_journal_undo_fn undo, void *arg);

#endif
