/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * etmemd's undo journal (journal.h): the v1 limit-cut records of
 * memcg_journal.c (text, the lock, the start-up undo of a dead etmemd's cut,
 * on stand-in directories: regular files in /tmp play memory.limit_in_bytes
 * and memory.usage_in_bytes, and the temporary directory plays the memory
 * cgroup mount), the kdamond records of damon_sysfs.c, and the confinement
 * of what a record names (cgroup_fs.h).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "scan/cgroup_fs.h"
#include "scan/damon_sysfs.h"
#include "scan/memcg_journal.h"
#include "scan/memcg_reclaim.h"
#include "scan/proc_stat.h"
#include "test_file_util.h"

#define MiB (1ULL << 20)

struct fx {
	char root[64];	/* holds both */
	char jdir[96];	/* the journal */
	char memcg[96]; /* the stand-in memcg */
	struct etm_memcg_dir d;
	struct etm_cgroup_root cg; /* the stand-in memory cgroup mount: root, on its own filesystem */
};

static uint64_t get_u64(const char *dir, const char *name)
{
	char b[64];
	unsigned long long v = 0;

	get_file(dir, name, b, sizeof(b));
	assert_int_equal(sscanf(b, "%llu", &v), 1);
	return v;
}

/* Records in the journal directory now. */
static int nrecords(const char *jdir)
{
	char cmd[160];
	int n = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ls -A %s 2>/dev/null | wc -l", jdir);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	snprintf(f->root, sizeof(f->root), "/tmp/etm-journal-XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	snprintf(f->jdir, sizeof(f->jdir), "%s/run", f->root);
	snprintf(f->memcg, sizeof(f->memcg), "%s/memcg a", f->root); /* a space, as cgroup names may have */
	if (mkdir(f->memcg, 0700))
		return -1;
	{
		struct statfs sf;
		struct stat st;

		if (statfs(f->root, &sf) || stat(f->root, &st))
			return -1;
		snprintf(f->cg.mnt, sizeof(f->cg.mnt), "%s", f->root);
		f->cg.dev = st.st_dev;
		f->cg.magic = (long)sf.f_type;
	}
	/* the memcg the reclaims cut, reached from the stand-in mount like a real one */
	if (etm_memcg_dir_at(&f->cg, f->memcg, true, &f->d))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	if (system(cmd))
		return -1;
	free(f);
	return 0;
}

/* Field 22 of a /proc/PID/stat text (proc_stat.h). */
static int starttime_parse(const char *buf, size_t len, uint64_t *out)
{
	struct etm_proc_stat st;
	int err = etm_proc_stat_parse(buf, len, ETM_STAT_STARTTIME, &st);

	*out = st.starttime;
	return err;
}

static uint64_t my_start(void)
{
	char path[64], buf[1024];
	uint64_t st = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)getpid());
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_int_equal(starttime_parse(buf, n, &st), 0);
	return st;
}

static void test_record_text(void **state)
{
	struct etm_memcg_journal_rec r = { .owner = { .pid = 42, .start = 7 }, .orig = 1000 * MiB, .last = 64 * MiB },
				     r2;
	char buf[1024];
	int n;

	(void)state;
	snprintf(r.dir, sizeof(r.dir), "/sys/fs/cgroup/memory/a b");
	n = etm_memcg_journal_format(&r, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(etm_memcg_journal_parse(buf, (size_t)n, &r2), 0);
	assert_int_equal(r2.owner.pid, 42);
	assert_int_equal(r2.owner.start, 7);
	assert_int_equal(r2.orig, 1000 * MiB);
	assert_int_equal(r2.last, 64 * MiB);
	assert_string_equal(r2.dir, "/sys/fs/cgroup/memory/a b");
	/* torn (no final newline), a missing field, last above orig, junk, wrong magic: all refused */
	assert_int_equal(etm_memcg_journal_parse(buf, (size_t)n - 1, &r2), -EINVAL);
	const char *bad[] = {
		"etmem-memcg-limit 1\nowner 1 2\norig 5\nlast 4\n",
		"etmem-memcg-limit 1\nowner 1 2\norig 5\nlast 6\ndir /x\n",
		"etmem-memcg-limit 1\nowner 1 2\norig 5\nlast 4\ndir /x\nmore 1\n",
		"etmem-memcg-limit 1\nowner 1 2\norig 5\nlast 4\ndir /xyz\ndir /x\n", /* a key twice */
		"etmem-memcg-limit 2\nowner 1 2\norig 5\nlast 4\ndir /x\n",
		"etmem-memcg-limit 1\nowner 0 2\norig 5\nlast 4\ndir /x\n",
		"etmem-memcg-limit 1\nowner 1 2\norig 5x\nlast 4\ndir /x\n",
		"etmem-memcg-limit 1\nowner 1 2\norig 5\nlast 4\ndir relative\n",
		"etmem-memcg-limit 1\nowner 1 2\norig 99999999999999999999999\nlast 4\ndir /x\n",
		"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(etm_memcg_journal_parse(bad[i], strlen(bad[i]), &r2), -EINVAL);
	/* a path with a newline cannot be written (it would end the record's last line) */
	snprintf(r.dir, sizeof(r.dir), "/a\nb");
	assert_int_equal(etm_memcg_journal_format(&r, buf, sizeof(buf)), -EINVAL);
}

static void test_starttime(void **state)
{
	/* comm may hold spaces and parentheses: fields count from the LAST ')' */
	const char *t = "77 (a) b (c)) S 1 77 77 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 987654 100 10\n";
	uint64_t st = 0;

	(void)state;
	assert_int_equal(starttime_parse(t, strlen(t), &st), 0);
	assert_int_equal(st, 987654);
	t = "77 (a) S 1 77 77 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0";
	assert_int_equal(starttime_parse(t, strlen(t), &st), -EINVAL);
	t = "77 a S 1";
	assert_int_equal(starttime_parse(t, strlen(t), &st), -EINVAL);
	assert_true(my_start() > 0);
}

/* A live owner holds the memcg: a second claim is refused; the end drops the record. */
static void test_lock(void **state)
{
	struct fx *f = *state;
	struct etm_memcg_journal a, b;

	assert_int_equal(etm_memcg_journal_begin(f->jdir, &f->d, 300 * MiB, &a), 0);
	assert_int_equal(nrecords(f->jdir), 1);
	assert_int_equal(etm_memcg_journal_begin(f->jdir, &f->d, 300 * MiB, &b), -EBUSY);
	assert_int_equal(etm_memcg_journal_note(&a, 200 * MiB), 0);
	assert_int_equal(etm_memcg_journal_note(&a, 250 * MiB), 0); /* "last" only goes down */
	assert_int_equal(a.rec.last, 200 * MiB);
	etm_memcg_journal_end(&a);
	assert_int_equal(nrecords(f->jdir), 0);
	assert_int_equal(etm_memcg_journal_begin(f->jdir, &f->d, 300 * MiB, &b), 0);
	etm_memcg_journal_end(&b);
	/* the journal directory must be private */
	assert_int_equal(chmod(f->jdir, 0777), 0);
	assert_int_equal(etm_memcg_journal_begin(f->jdir, &f->d, 300 * MiB, &b), -EPERM);
	assert_int_equal(chmod(f->jdir, 0700), 0);
}

/* What a dead etmemd leaves: a record nobody holds locked (its owner field says nothing about that). */
static void plant(struct fx *f, uint64_t orig, uint64_t last, const char *limit)
{
	struct etm_memcg_journal j;
	char buf[1024], path[160];

	assert_int_equal(etm_memcg_journal_begin(f->jdir, &f->d, orig, &j), 0);
	j.rec.last = last;
	assert_true(etm_memcg_journal_format(&j.rec, buf, sizeof(buf)) > 0);
	etm_memcg_journal_abandon(&j);
	put_file(f->jdir, j.name, buf);
	snprintf(path, sizeof(path), "%s/%s", f->jdir, j.name);
	assert_int_equal(chmod(path, 0600), 0);
	put_file(f->memcg, "memory.limit_in_bytes", limit);
}

static void test_recover(void **state)
{
	struct fx *f = *state;
	unsigned restored = 9;

	/* no journal directory at all: nothing to do, nothing created */
	assert_int_equal(etm_memcg_journal_recover_at(f->jdir, &f->cg, &restored), 0);
	assert_int_equal(restored, 0);

	/* the limit is one of our cuts: back to the original */
	plant(f, 1024 * MiB, 128 * MiB, "201326592\n");
	assert_int_equal(etm_memcg_journal_recover_at(f->jdir, &f->cg, &restored), 0);
	assert_int_equal(restored, 1);
	assert_int_equal(get_u64(f->memcg, "memory.limit_in_bytes"), 1024 * MiB);
	assert_int_equal(nrecords(f->jdir), 0);

	/* someone set a lower limit since: theirs stays */
	plant(f, 1024 * MiB, 128 * MiB, "67108864\n");
	assert_int_equal(etm_memcg_journal_recover_at(f->jdir, &f->cg, &restored), 0);
	assert_int_equal(restored, 0);
	assert_int_equal(get_u64(f->memcg, "memory.limit_in_bytes"), 64 * MiB);
	assert_int_equal(nrecords(f->jdir), 0);

	/* the restore had happened already */
	plant(f, 1024 * MiB, 128 * MiB, "1073741824\n");
	assert_int_equal(etm_memcg_journal_recover_at(f->jdir, &f->cg, &restored), 0);
	assert_int_equal(restored, 0);
	assert_int_equal(nrecords(f->jdir), 0);

	/* a live owner's record (ours) is left alone */
	struct etm_memcg_journal j;

	assert_int_equal(etm_memcg_journal_begin(f->jdir, &f->d, 1024 * MiB, &j), 0);
	assert_int_equal(etm_memcg_journal_recover_at(f->jdir, &f->cg, &restored), 0);
	assert_int_equal(nrecords(f->jdir), 1);
	etm_memcg_journal_end(&j);

	/* a dead owner's record found by the next reclaim's claim: undone first */
	plant(f, 1024 * MiB, 128 * MiB, "134217728\n");
	assert_int_equal(etm_memcg_journal_begin(f->jdir, &f->d, 0, &j), 0);
	assert_int_equal(get_u64(f->memcg, "memory.limit_in_bytes"), 1024 * MiB);
	etm_memcg_journal_end(&j);
}

/* The whole v1 reclaim with a journal: cuts, restore, no record left; contended when claimed. */
static void test_reclaim_v1_journal(void **state)
{
	struct fx *f = *state;
	struct etm_memcg_reclaim_res r;
	struct etm_memcg_journal j;

	put_file(f->memcg, "memory.stat", "inactive_anon 209715200\nactive_anon 0\n");
	put_file(f->memcg, "memory.limit_in_bytes", "9223372036854771712\n");
	put_file(f->memcg, "memory.usage_in_bytes", "314572800\n");
	assert_int_equal(etm_memcg_reclaim(&f->d, 150 * MiB, 0, f->jdir, &r), 0);
	assert_false(r.contended);
	assert_int_equal(r.steps, 3);
	assert_false(r.restore_failed);
	assert_int_equal(get_u64(f->memcg, "memory.limit_in_bytes"), 9223372036854771712ULL);
	assert_int_equal(nrecords(f->jdir), 0);

	/*
	 * The floor: with 96 MiB active seen, no cut goes below 96 + 12 MiB,
	 * however much is asked (reclaim deactivates the hot pages at the end).
	 * The stand-in's usage stays at 150 MiB (a kernel that reclaimed
	 * nothing, or a target that faulted it all back between the steps):
	 * each step cuts from there, at most down to the floor, and the steps
	 * ask for the amount in all, never more.
	 */
	put_file(f->memcg, "memory.usage_in_bytes", "157286400\n");
	put_file(f->memcg, "memory.stat", "inactive_anon 209715200\nactive_anon 100663296\n");
	assert_int_equal(etm_memcg_floor(96 * MiB), 108 * MiB);
	assert_int_equal(etm_memcg_reclaim(&f->d, 42 * MiB, 0, f->jdir, &r), 0);
	assert_int_equal(r.steps, 1); /* 150 -> 108 */
	assert_int_equal(r.asked, 42 * MiB);
	assert_int_equal(etm_memcg_reclaim(&f->d, 100 * MiB, 0, f->jdir, &r), 0);
	assert_int_equal(r.steps, 3); /* 150 -> 108 three times (42 + 42 + 16), never 150 -> 86 */
	assert_int_equal(r.asked, 100 * MiB);
	assert_int_equal(get_u64(f->memcg, "memory.limit_in_bytes"), 9223372036854771712ULL);
	/* A floor of the caller's above the LRU's: 150 -> 130 at most. */
	assert_int_equal(etm_memcg_reclaim_above(&f->d, 100 * MiB, 0, 130 * MiB, f->jdir, &r), 0);
	assert_int_equal(r.steps, 5); /* 20 MiB a step */
	assert_int_equal(r.asked, 100 * MiB);
	put_file(f->memcg, "memory.usage_in_bytes", "314572800\n");
	assert_int_equal(etm_memcg_floor(4097), 8192); /* page aligned up */
	assert_int_equal(etm_memcg_floor(0), 0);

	assert_int_equal(etm_memcg_journal_begin(f->jdir, &f->d, 0, &j), 0);
	assert_int_equal(etm_memcg_reclaim(&f->d, 150 * MiB, 0, f->jdir, &r), 0);
	assert_true(r.contended);
	assert_int_equal(r.steps, 0);
	etm_memcg_journal_end(&j);
}

/* Records appear whole or not at all, locked; the exclusive put is the lock; a crash's temporary file is swept. */
static void test_put(void **state)
{
	struct fx *f = *state;
	struct timespec old[2] = { { .tv_sec = 1000000000 }, { .tv_sec = 1000000000 } };
	char path[160], buf[ETM_JOURNAL_REC_MAX + 1];
	int dfd, lfd = -1, lfd2 = -1, cfd;
	size_t n;

	assert_true((dfd = etm_journal_dir_open(f->jdir, true)) >= 0);
	assert_int_equal(etm_journal_put(dfd, "memcg-a", "one\n", 4, true, &lfd), 0);
	assert_true(lfd >= 0);
	assert_int_equal(etm_journal_put(dfd, "memcg-a", "two\n", 4, true, &lfd2), -EEXIST);
	assert_int_equal(lfd2, -1);
	/* the owner's lock: another open file (this very process) cannot claim it */
	assert_int_equal(etm_journal_claim(dfd, "memcg-a", buf, &n), -EBUSY);
	assert_int_equal(etm_journal_put(dfd, "memcg-a", "three\n", 6, false, &lfd), 0); /* replaced whole */
	assert_int_equal(nrecords(f->jdir), 1);						 /* no temporary file left */
	char got[16] = "";

	get_file(f->jdir, "memcg-a", got, sizeof(got));
	assert_string_equal(got, "three\n");
	/* the replacement is locked too, and the replaced file's lock went with it */
	assert_int_equal(etm_journal_claim(dfd, "memcg-a", buf, &n), -EBUSY);
	close(lfd);
	cfd = etm_journal_claim(dfd, "memcg-a", buf, &n);
	assert_true(cfd >= 0);
	assert_int_equal(n, 6);
	assert_memory_equal(buf, "three\n", 6);
	assert_int_equal(etm_journal_claim(dfd, "memcg-a", buf, &n), -EBUSY); /* one claimer at a time */
	close(cfd);
	/* a fresh temporary file stays (a writer may hold it), an old one goes */
	put_file(f->jdir, "memcg-b" ETM_JOURNAL_TMP "1.1", "x");
	put_file(f->jdir, "memcg-c" ETM_JOURNAL_TMP "1.1", "x");
	snprintf(path, sizeof(path), "%s/memcg-c" ETM_JOURNAL_TMP "1.1", f->jdir);
	assert_int_equal(utimensat(AT_FDCWD, path, old, 0), 0);
	assert_true(etm_journal_is_tmp("memcg-c" ETM_JOURNAL_TMP "1.1"));
	assert_false(etm_journal_is_tmp("memcg-c"));
	etm_journal_sweep_tmp(dfd, "memcg-b" ETM_JOURNAL_TMP "1.1");
	etm_journal_sweep_tmp(dfd, "memcg-c" ETM_JOURNAL_TMP "1.1");
	assert_int_equal(nrecords(f->jdir), 2);
	assert_int_equal(access(path, F_OK), -1);
	close(dfd);
}

/* Files under a record's name that etmemd did not write are not records: left alone, nothing read from them. */
static void test_claim_refusals(void **state)
{
	struct fx *f = *state;
	char buf[ETM_JOURNAL_REC_MAX + 1], path[160];
	size_t n;
	int dfd;

	assert_true((dfd = etm_journal_dir_open(f->jdir, true)) >= 0);
	put_file(f->jdir, "memcg-open", "x");
	snprintf(path, sizeof(path), "%s/memcg-open", f->jdir);
	assert_int_equal(chmod(path, 0622), 0);
	assert_int_equal(etm_journal_claim(dfd, "memcg-open", buf, &n), -EPERM);
	assert_int_equal(symlinkat("memcg-open", dfd, "memcg-link"), 0);
	assert_int_equal(etm_journal_claim(dfd, "memcg-link", buf, &n), -EPERM);
	assert_int_equal(mkfifoat(dfd, "memcg-fifo", 0600), 0);
	assert_int_equal(etm_journal_claim(dfd, "memcg-fifo", buf, &n), -EPERM); /* and does not block */
	assert_int_equal(etm_journal_claim(dfd, "memcg-none", buf, &n), -ENOENT);
	{
		char big[ETM_JOURNAL_REC_MAX + 2];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		put_file(f->jdir, "memcg-big", big);
		assert_int_equal(etm_journal_claim(dfd, "memcg-big", buf, &n), -EFBIG);
	}
	close(dfd);
}

/*
 * Defect 5 of issue 8: an etmemd killed mid-reclaim whose parent has not
 * reaped it yet (a zombie: its pid and start time still show in /proc) is
 * dead. The kernel dropped its record's lock when it died: the cut is undone.
 */
static void test_zombie_owner(void **state)
{
	struct fx *f = *state;
	unsigned restored = 9;
	int go[2], status;
	pid_t pid;
	char st;

	put_file(f->memcg, "memory.limit_in_bytes", "1073741824\n");
	assert_int_equal(pipe(go), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		struct etm_memcg_journal j;

		close(go[0]);
		if (etm_memcg_journal_begin(f->jdir, &f->d, 1024 * MiB, &j) || etm_memcg_journal_note(&j, 128 * MiB))
			_exit(1);
		put_file(f->memcg, "memory.limit_in_bytes", "268435456\n");
		if (write(go[1], "k", 1) != 1)
			_exit(1);
		pause(); /* SIGKILLed mid-reclaim */
		_exit(1);
	}
	close(go[1]);
	assert_int_equal(read(go[0], &st, 1), 1);
	close(go[0]);
	/* while it lives its record is a lock, for this process as for any other */
	assert_int_equal(etm_memcg_journal_recover_at(f->jdir, &f->cg, &restored), 0);
	assert_int_equal(restored, 0);
	assert_int_equal(nrecords(f->jdir), 1);
	assert_int_equal(get_u64(f->memcg, "memory.limit_in_bytes"), 256 * MiB);
	assert_int_equal(kill(pid, SIGKILL), 0);
	{
		char path[64], stat[512] = "";
		FILE *s;

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		for (int i = 0; i < 500 && !strstr(stat, ") Z "); i++) { /* not reaped: a zombie */
			usleep(10000);
			s = fopen(path, "r");
			assert_non_null(s);
			assert_non_null(fgets(stat, sizeof(stat), s));
			fclose(s);
		}
		assert_non_null(strstr(stat, ") Z "));
	}
	assert_int_equal(etm_memcg_journal_recover_at(f->jdir, &f->cg, &restored), 0);
	assert_int_equal(restored, 1);
	assert_int_equal(get_u64(f->memcg, "memory.limit_in_bytes"), 1024 * MiB);
	assert_int_equal(nrecords(f->jdir), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
}

/* A record's owner field does not make it live or dead: its lock does. */
static void test_lock_not_owner_field(void **state)
{
	struct fx *f = *state;
	struct etm_memcg_journal a, b;
	unsigned restored;
	char buf[1024];

	assert_int_equal(etm_memcg_journal_begin(f->jdir, &f->d, 300 * MiB, &a), 0);
	/* a live record that names a long dead owner is still locked */
	a.rec.owner.pid = 1;
	a.rec.owner.start = 1;
	assert_int_equal(etm_memcg_journal_note(&a, 200 * MiB), 0);
	assert_int_equal(etm_memcg_journal_begin(f->jdir, &f->d, 300 * MiB, &b), -EBUSY);
	put_file(f->memcg, "memory.limit_in_bytes", "209715200\n");
	assert_int_equal(etm_memcg_journal_recover_at(f->jdir, &f->cg, &restored), 0);
	assert_int_equal(restored, 0);
	assert_int_equal(nrecords(f->jdir), 1);
	/* the restore failed: the record stays, unlocked, and the next claim (same process) undoes it */
	etm_memcg_journal_abandon(&a);
	assert_int_equal(etm_memcg_journal_begin(f->jdir, &f->d, 0, &b), 0);
	assert_int_equal(get_u64(f->memcg, "memory.limit_in_bytes"), 300 * MiB);
	assert_true(etm_memcg_journal_format(&b.rec, buf, sizeof(buf)) > 0);
	etm_memcg_journal_end(&b);
	assert_int_equal(nrecords(f->jdir), 0);
}

/* Write a dead owner's record naming @dir, as a forger would. */
static void forge(struct fx *f, const char *name, const char *dir)
{
	char buf[1024], path[160];
	struct etm_memcg_journal_rec r = { .owner = { .pid = 1, .start = 1 }, .orig = 1024 * MiB, .last = 0 };

	snprintf(r.dir, sizeof(r.dir), "%s", dir);
	assert_true(etm_memcg_journal_format(&r, buf, sizeof(buf)) > 0);
	put_file(f->jdir, name, buf);
	snprintf(path, sizeof(path), "%s/%s", f->jdir, name);
	assert_int_equal(chmod(path, 0600), 0);
}

/*
 * Defect 8 of issue 8: a record's directory is followed only below the
 * memory cgroup mount, one component at a time, to a file of its
 * filesystem. Forged records are left alone and nothing is written.
 */
static void test_forged_records(void **state)
{
	struct fx *f = *state;
	char outside[96], dots[160], target[160], got[64];
	unsigned restored = 9;

	assert_int_equal(mkdir(f->jdir, 0700), 0);
	snprintf(outside, sizeof(outside), "%s-outside", f->root);
	assert_int_equal(mkdir(outside, 0700), 0);
	put_file(outside, "memory.limit_in_bytes", "4096\n");
	put_file(outside, "victim", "4096\n");
	/* outside the mount */
	forge(f, "memcg-out", outside);
	/* '..' back out of it */
	snprintf(dots, sizeof(dots), "%s/memcg a/../../%s", f->root, strrchr(outside, '/') + 1);
	forge(f, "memcg-dots", dots);
	/* the limit file a symlink to a file elsewhere */
	snprintf(target, sizeof(target), "%s/victim", outside);
	assert_int_equal(mkdir(f->memcg, 0700) == 0 || errno == EEXIST, 1);
	{
		char lk[160];

		snprintf(lk, sizeof(lk), "%s/memory.limit_in_bytes", f->memcg);
		assert_int_equal(symlink(target, lk), 0);
	}
	forge(f, "memcg-link", f->memcg);
	/* a directory on the way a symlink out of the mount */
	{
		char lk[160];

		snprintf(lk, sizeof(lk), "%s/jump", f->root);
		assert_int_equal(symlink(outside, lk), 0);
		snprintf(lk, sizeof(lk), "%s/jump", f->root);
		forge(f, "memcg-jump", lk);
	}
	assert_int_not_equal(etm_memcg_journal_recover_at(f->jdir, &f->cg, &restored), 0);
	assert_int_equal(restored, 0);
	assert_int_equal(nrecords(f->jdir), 4); /* left for the operator to see */
	get_file(outside, "memory.limit_in_bytes", got, sizeof(got));
	assert_string_equal(got, "4096\n");
	get_file(outside, "victim", got, sizeof(got));
	assert_string_equal(got, "4096\n");
	/* with the real mount table: /tmp is below no memory cgroup mount, nothing is written */
	assert_int_not_equal(etm_memcg_journal_recover(f->jdir, &restored), 0);
	assert_int_equal(restored, 0);
	get_file(outside, "memory.limit_in_bytes", got, sizeof(got));
	assert_string_equal(got, "4096\n");
	{
		char cmd[160];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", outside);
		assert_int_equal(system(cmd), 0);
	}
}

/* The mount table: the v1 memory hierarchy or cgroup2, the deepest mount holding the path, escapes undone. */
static void test_mountinfo(void **state)
{
	const char *mi = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
			 "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
			 "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory\n"
			 "36 31 0:33 / /mnt/mem\\040two rw - cgroup cgroup rw,nosuid,memory,cpu\n"
			 "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
			 "42 35 0:40 / /sys/fs/cgroup/memory/deep rw - cgroup cgroup rw,memory\n"
			 "bad line\n"
			 "43 31 0:41 / /sys/fs/cgroup/memoryx rw - cgroup cgroup rw,memoryx";
	struct etm_cgroup_root r;

	(void)state;
	assert_int_equal(etm_cgroup_mount_parse(mi, strlen(mi), true, "/sys/fs/cgroup/memory/a b", &r), 0);
	assert_string_equal(r.mnt, "/sys/fs/cgroup/memory");
	assert_int_equal(r.dev, makedev(0, 32));
	assert_int_equal(r.magic, 0x27e0eb);
	assert_int_equal(etm_cgroup_mount_parse(mi, strlen(mi), true, "/sys/fs/cgroup/memory", &r), 0);
	assert_int_equal(etm_cgroup_mount_parse(mi, strlen(mi), true, "/sys/fs/cgroup/memory/deep/x", &r), 0);
	assert_string_equal(r.mnt, "/sys/fs/cgroup/memory/deep");
	assert_int_equal(etm_cgroup_mount_parse(mi, strlen(mi), true, "/mnt/mem two/x", &r), 0);
	assert_string_equal(r.mnt, "/mnt/mem two");
	assert_int_equal(etm_cgroup_mount_parse(mi, strlen(mi), true, "/sys/fs/cgroup/memoryx/a", &r), -ENOENT);
	assert_int_equal(etm_cgroup_mount_parse(mi, strlen(mi), true, "/sys/fs/cgroup/cpu/a", &r), -ENOENT);
	assert_int_equal(etm_cgroup_mount_parse(mi, strlen(mi), true, "/tmp/x", &r), -ENOENT);
	assert_int_equal(etm_cgroup_mount_parse(mi, strlen(mi), false, "/sys/fs/cgroup/unified/a", &r), 0);
	assert_int_equal(r.magic, 0x63677270);
	assert_int_equal(etm_cgroup_mount_parse(mi, strlen(mi), false, "/sys/fs/cgroup/memory/a", &r), -ENOENT);
}

/* Walking below a mount: no '.', '..', empty components, symlinks, or other filesystems. */
static void test_cgroup_dir_open(void **state)
{
	struct fx *f = *state;
	struct etm_cgroup_root other = f->cg;
	char p[192];
	int fd;

	fd = etm_cgroup_dir_open(&f->cg, f->memcg);
	assert_true(fd >= 0);
	put_file(f->memcg, "memory.limit_in_bytes", "1\n");
	{
		int ffd = etm_cgroup_file_open(&f->cg, fd, "memory.limit_in_bytes", O_RDONLY);

		assert_true(ffd >= 0);
		close(ffd);
		assert_int_equal(etm_cgroup_file_open(&f->cg, fd, "missing", O_RDONLY), -ENOENT);
	}
	close(fd);
	fd = etm_cgroup_dir_open(&f->cg, f->root); /* the mount itself */
	assert_true(fd >= 0);
	assert_int_equal(etm_cgroup_file_open(&f->cg, fd, "memcg a", O_RDONLY), -EXDEV); /* not a regular file */
	close(fd);
	snprintf(p, sizeof(p), "%s/./memcg a", f->root);
	assert_int_equal(etm_cgroup_dir_open(&f->cg, p), -EINVAL);
	snprintf(p, sizeof(p), "%s/memcg a/..", f->root);
	assert_int_equal(etm_cgroup_dir_open(&f->cg, p), -EINVAL);
	snprintf(p, sizeof(p), "%s//memcg a", f->root);
	assert_int_equal(etm_cgroup_dir_open(&f->cg, p), -EINVAL);
	snprintf(p, sizeof(p), "%s/memcg a/", f->root);
	assert_int_equal(etm_cgroup_dir_open(&f->cg, p), -EINVAL);
	snprintf(p, sizeof(p), "%sx/memcg a", f->root);
	assert_int_equal(etm_cgroup_dir_open(&f->cg, p), -EXDEV);
	assert_int_equal(etm_cgroup_dir_open(&f->cg, "relative"), -EINVAL);
	snprintf(p, sizeof(p), "%s/lnk", f->root);
	assert_int_equal(symlink(f->memcg, p), 0);
	assert_int_equal(etm_cgroup_dir_open(&f->cg, p), -ENOTDIR);
	/* another filesystem (here: a root that says so) */
	other.magic = 0x27e0eb;
	assert_int_equal(etm_cgroup_dir_open(&other, f->memcg), -EXDEV);
	other = f->cg;
	other.dev = f->cg.dev + 1;
	assert_int_equal(etm_cgroup_dir_open(&other, f->memcg), -EXDEV);
}

static void test_kdamond_record(void **state)
{
	struct etm_kdamond_rec r = { .owner = { .pid = 77, .start = 123 }, .idx = 2, .kpid = 4242 }, r2;
	char buf[256];
	int n;

	(void)state;
	n = etm_kdamond_rec_format(&r, buf, sizeof(buf));
	assert_true(n > 0);
	assert_string_equal(buf, "etmem-kdamond 1\nowner 77 123\nkdamond 2 4242\n");
	assert_int_equal(etm_kdamond_rec_parse(buf, (size_t)n, &r2), 0);
	assert_int_equal(r2.owner.pid, 77);
	assert_int_equal(r2.owner.start, 123);
	assert_int_equal(r2.idx, 2);
	assert_int_equal(r2.kpid, 4242);
	assert_int_equal(etm_kdamond_rec_parse(buf, (size_t)n - 1, &r2), -EINVAL); /* torn */
	const char *bad[] = {
		"etmem-kdamond 1\nowner 77 123\n",
		"etmem-kdamond 1\nowner 77 123\nkdamond 2\n",
		"etmem-kdamond 1\nowner 77 123\nkdamond 70000 1\n",
		"etmem-kdamond 1\nowner 77 123\nkdamond 2 1\nx\n",
		"etmem-kdamond 1\nowner -1 123\nkdamond 2 1\n",
		"etmem-memcg-limit 1\nowner 77 123\nkdamond 2 1\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(etm_kdamond_rec_parse(bad[i], strlen(bad[i]), &r2), -EINVAL);
}

/* Records of a dead owner for a slot that does not exist (no DAMON here, or a slot gone): dropped. */
static void test_kdamond_recover_gone(void **state)
{
	struct fx *f = *state;
	struct etm_kdamond_rec r = { .owner = { .pid = getpid(), .start = my_start() + 1 }, .idx = 1000, .kpid = 1 };
	char buf[256], path[160];
	unsigned stopped = 9;

	assert_int_equal(etm_kdamond_recover(f->jdir, &stopped), 0); /* no journal yet */
	assert_int_equal(stopped, 0);
	assert_int_equal(mkdir(f->jdir, 0700), 0);
	assert_true(etm_kdamond_rec_format(&r, buf, sizeof(buf)) > 0);
	put_file(f->jdir, "kdamond-1000", buf);
	/* a live owner's record (it holds the lock) stays */
	r.owner.start = my_start();
	r.idx = 1001;
	assert_true(etm_kdamond_rec_format(&r, buf, sizeof(buf)) > 0);
	put_file(f->jdir, "kdamond-1001", buf);
	snprintf(path, sizeof(path), "%s/kdamond-1001", f->jdir);
	int lfd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(lfd >= 0);
	assert_int_equal(flock(lfd, LOCK_EX), 0);
	assert_int_equal(etm_kdamond_recover(f->jdir, &stopped), 0);
	assert_int_equal(stopped, 0);
	assert_int_equal(nrecords(f->jdir), 1);
	assert_int_equal(access(path, F_OK), 0);
	/* once its owner is gone, the record goes too (the slot does not exist) */
	close(lfd);
	assert_int_equal(etm_kdamond_recover(f->jdir, &stopped), 0);
	assert_int_equal(nrecords(f->jdir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_text),
		cmocka_unit_test(test_starttime),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reclaim_v1_journal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zombie_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_not_owner_field, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_records, setup, teardown),
		cmocka_unit_test(test_mountinfo),
		cmocka_unit_test_setup_teardown(test_cgroup_dir_open, setup, teardown),
		cmocka_unit_test(test_kdamond_record),
		cmocka_unit_test_setup_teardown(test_kdamond_recover_gone, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
