/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The journal of cgroup v1 limit cuts in flight (memcg_reclaim.h's v1
 * reclaim): one record per memcg in @jdir, named after a hash of its
 * directory, created O_EXCL and flock'ed by its owner while it lives
 * (journal.h), so it is also the lock. It holds the owner (pid + start
 * time, for messages), the original limit and the lowest limit about to be
 * written. The owner writes "last" BEFORE each cut, so after a crash the
 * limit lies in [last, orig]; anything else was set by someone else and is
 * left alone.
 */
#ifndef ETM_SCAN_MEMCG_JOURNAL_H
#define ETM_SCAN_MEMCG_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scan/journal.h"
#include "scan/memcg.h"

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
int etm_memcg_journal_recover_at(const char *jdir, const struct etm_cgroup_root *root, unsigned *restored);

#endif
