/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * etmemd's undo journal (journal.h): the v1 limit-cut records of
 * memcg_journal.c (text, the lock, the start-up undo of a dead etmemd's cut,
 * on stand-in directories: regular files in /tmp play memory.limit_in_bytes
 * and memory.usage_in_bytes) and the kdamond records of damon_sysfs.c.
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "scan/damon_sysfs.h"
#include "scan/memcg_reclaim.h"
#include "test_file_util.h"

#define MiB (1ULL << 20)

struct fx {
	char root[64];	/* holds both */
	char jdir[96];	/* the journal */
	char memcg[96]; /* the stand-in memcg */
	struct etm_memcg_dir d;
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
	snprintf(f->d.dir, sizeof(f->d.dir), "%s", f->memcg);
	f->d.v1 = true;
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
	assert_int_equal(etm_proc_starttime_parse(buf, n, &st), 0);
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
	assert_int_equal(etm_proc_starttime_parse(t, strlen(t), &st), 0);
	assert_int_equal(st, 987654);
	t = "77 (a) S 1 77 77 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0";
	assert_int_equal(etm_proc_starttime_parse(t, strlen(t), &st), -EINVAL);
	t = "77 a S 1";
	assert_int_equal(etm_proc_starttime_parse(t, strlen(t), &st), -EINVAL);
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

/* What a dead etmemd leaves: a record whose owner pid no longer runs that process. */
static void plant(struct fx *f, uint64_t orig, uint64_t last, const char *limit)
{
	struct etm_memcg_journal j;
	char buf[1024];

	assert_int_equal(etm_memcg_journal_begin(f->jdir, &f->d, orig, &j), 0);
	j.rec.owner.start = my_start() + 1; /* same pid, another process: dead */
	j.rec.last = last;
	assert_true(etm_memcg_journal_format(&j.rec, buf, sizeof(buf)) > 0);
	etm_memcg_journal_abandon(&j);
	put_file(f->jdir, j.name, buf);
	put_file(f->memcg, "memory.limit_in_bytes", limit);
}

static void test_recover(void **state)
{
	struct fx *f = *state;
	unsigned restored = 9;

	/* no journal directory at all: nothing to do, nothing created */
	assert_int_equal(etm_memcg_journal_recover(f->jdir, &restored), 0);
	assert_int_equal(restored, 0);

	/* the limit is one of our cuts: back to the original */
	plant(f, 1024 * MiB, 128 * MiB, "201326592\n");
	assert_int_equal(etm_memcg_journal_recover(f->jdir, &restored), 0);
	assert_int_equal(restored, 1);
	assert_int_equal(get_u64(f->memcg, "memory.limit_in_bytes"), 1024 * MiB);
	assert_int_equal(nrecords(f->jdir), 0);

	/* someone set a lower limit since: theirs stays */
	plant(f, 1024 * MiB, 128 * MiB, "67108864\n");
	assert_int_equal(etm_memcg_journal_recover(f->jdir, &restored), 0);
	assert_int_equal(restored, 0);
	assert_int_equal(get_u64(f->memcg, "memory.limit_in_bytes"), 64 * MiB);
	assert_int_equal(nrecords(f->jdir), 0);

	/* the restore had happened already */
	plant(f, 1024 * MiB, 128 * MiB, "1073741824\n");
	assert_int_equal(etm_memcg_journal_recover(f->jdir, &restored), 0);
	assert_int_equal(restored, 0);
	assert_int_equal(nrecords(f->jdir), 0);

	/* a live owner's record (ours) is left alone */
	struct etm_memcg_journal j;

	assert_int_equal(etm_memcg_journal_begin(f->jdir, &f->d, 1024 * MiB, &j), 0);
	assert_int_equal(etm_memcg_journal_recover(f->jdir, &restored), 0);
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
	 */
	put_file(f->memcg, "memory.stat", "inactive_anon 209715200\nactive_anon 100663296\n");
	assert_int_equal(etm_memcg_reclaim(&f->d, 300 * MiB, 0, f->jdir, &r), 0);
	assert_int_equal(r.steps, 3); /* 300 -> 236 -> 172 -> 108 */
	assert_int_equal(r.asked, 300 * MiB - etm_memcg_floor(96 * MiB));
	assert_int_equal(etm_memcg_floor(96 * MiB), 108 * MiB);
	assert_int_equal(etm_memcg_floor(4097), 8192); /* page aligned up */
	assert_int_equal(etm_memcg_floor(0), 0);

	assert_int_equal(etm_memcg_journal_begin(f->jdir, &f->d, 0, &j), 0);
	assert_int_equal(etm_memcg_reclaim(&f->d, 150 * MiB, 0, f->jdir, &r), 0);
	assert_true(r.contended);
	assert_int_equal(r.steps, 0);
	etm_memcg_journal_end(&j);
}

/* Records appear whole or not at all; the exclusive put is the lock; a crash's temporary file is swept. */
static void test_put(void **state)
{
	struct fx *f = *state;
	struct timespec old[2] = { { .tv_sec = 1000000000 }, { .tv_sec = 1000000000 } };
	char path[160];
	int dfd;

	assert_true((dfd = etm_journal_dir_open(f->jdir, true)) >= 0);
	assert_int_equal(etm_journal_put(dfd, "memcg-a", "one\n", 4, true), 0);
	assert_int_equal(etm_journal_put(dfd, "memcg-a", "two\n", 4, true), -EEXIST);
	assert_int_equal(etm_journal_put(dfd, "memcg-a", "three\n", 6, false), 0); /* replaced whole */
	assert_int_equal(nrecords(f->jdir), 1);					   /* no temporary file left */
	char got[16] = "";

	get_file(f->jdir, "memcg-a", got, sizeof(got));
	assert_string_equal(got, "three\n");
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
	/* a live owner's record stays */
	r.owner.start = my_start();
	r.idx = 1001;
	assert_true(etm_kdamond_rec_format(&r, buf, sizeof(buf)) > 0);
	put_file(f->jdir, "kdamond-1001", buf);
	snprintf(path, sizeof(path), "%s/kdamond-1001", f->jdir);
	assert_int_equal(etm_kdamond_recover(f->jdir, &stopped), 0);
	assert_int_equal(stopped, 0);
	assert_int_equal(nrecords(f->jdir), 1);
	assert_int_equal(access(path, F_OK), 0);
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
		cmocka_unit_test(test_kdamond_record),
		cmocka_unit_test_setup_teardown(test_kdamond_recover_gone, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
