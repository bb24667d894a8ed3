/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Targets: value checks, the /proc/PID/stat parser against hostile comms, and
 * real resolution of a child and grandchild we start ourselves (by a unique
 * comm and by pid), which disappear from the result once reaped.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>
#include <sys/stat.h>

#include "daemon/target.h"

static void test_name_valid(void **state)
{
	static const char *const good[] = { "a",   "mysql", "abcdefghijklmno", "a.b",	 "a/b",	 "a%b",
					    "a_b", "a-b",   "0123456789",      "ABCxyz", "./%_-" };
	static const char *const bad[] = { "",	   "abcdefghijklmnop", "a b", "a;b", "a:b", "a\tb", "a\nb", "a*b",
					   "a(b)", "\xc3\xa9",	       "a+b", "a@b", "a'b", "a$b" };

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (!etm_target_name_valid(good[i]))
			fail_msg("\"%s\" should be valid", good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (etm_target_name_valid(bad[i]))
			fail_msg("\"%s\" should be invalid", bad[i]);
	}
	assert_false(etm_target_name_valid(NULL));
}

static void test_pid_valid(void **state)
{
	static const char *const good[] = { "1", "2", "12345", "4194304", "999999" };
	static const char *const bad[] = { "",	 "0",  "-1", "+1",   "4194305",	 "01",
					   "1a", " 1", "1 ", "0x10", "99999999", "18446744073709551617",
					   "1.0" };

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (!etm_target_pid_valid(good[i]))
			fail_msg("\"%s\" should be valid", good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (etm_target_pid_valid(bad[i]))
			fail_msg("\"%s\" should be invalid", bad[i]);
	}
	assert_false(etm_target_pid_valid(NULL));
}

static int parse(const char *s, pid_t *ppid, char *comm, size_t comm_len)
{
	return etm_parse_proc_stat(s, strlen(s), ppid, comm, comm_len);
}

static void test_parse_proc_stat(void **state)
{
	pid_t ppid = -1;
	char comm[64];

	(void)state;
	assert_int_equal(parse("1234 (bash) S 1200 1234 1234 34816 1234 4194304 0 0\n", &ppid, comm, sizeof(comm)), 0);
	assert_int_equal(ppid, 1200);
	assert_string_equal(comm, "bash");
	/* comm holding ") S 99 (" must not fool the parser: the last ')' ends it. */
	assert_int_equal(parse("77 (a) S 99 (b) R 5 1 1 0 -1 0 0\n", &ppid, comm, sizeof(comm)), 0);
	assert_int_equal(ppid, 5);
	assert_string_equal(comm, "a) S 99 (b");
	assert_int_equal(parse("77 ( x y ) Z 1 0 0 0 -1 0\n", &ppid, comm, sizeof(comm)), 0);
	assert_string_equal(comm, " x y ");
	assert_int_equal(ppid, 1);
	assert_int_equal(parse("77 ()) S 3 0\n", &ppid, comm, sizeof(comm)), 0);
	assert_string_equal(comm, ")");
	assert_int_equal(parse("77 () S 3", &ppid, comm, sizeof(comm)), 0);
	assert_string_equal(comm, "");
	assert_int_equal(ppid, 3);
	/* comm is cut to the caller's buffer. */
	assert_int_equal(parse("1 (abcdefgh) S 0 0\n", &ppid, comm, 4), 0);
	assert_string_equal(comm, "abc");
	assert_int_equal(ppid, 0);
	/* NULL outputs are allowed. */
	assert_int_equal(parse("1 (x) S 0 0\n", NULL, NULL, 0), 0);

	static const char *const bad[] = {
		"",
		"1234",
		"1234 bash S 1 1",
		"1234 (bash S 1 1",
		"1234 bash) S 1 1",
		"1234 (bash)",
		"1234 (bash) S",
		"1234 (bash) S ",
		"1234 (bash) S x",
		"1234 (bash) S -1 0",
		"1234 (bash) S 1x 0",
		"1234 (bash)S 1 0",
		"1234 (bash) SS 1 0",
		"1234 (bash) 1 1 0",
		"1234 (bash) S 99999999999999999999999 0",
		"1234 (bash) S 4194305 0",
		")(",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &ppid, comm, sizeof(comm)) != -EINVAL)
			fail_msg("\"%s\" should be rejected", bad[i]);
	}
	/* A NUL inside comm, and a length that cuts the line, are handled. */
	{
		static const char nul[] = "1 (a\0b) S 5 0\n";

		assert_int_equal(etm_parse_proc_stat(nul, sizeof(nul) - 1, &ppid, comm, sizeof(comm)), -EINVAL);
		assert_int_equal(etm_parse_proc_stat("1 (a) S 5 0", 6, &ppid, comm, sizeof(comm)), -EINVAL);
		assert_int_equal(etm_parse_proc_stat(NULL, 0, &ppid, comm, sizeof(comm)), -EINVAL);
	}
}

static bool contains(const pid_t *pids, size_t n, pid_t p)
{
	for (size_t i = 0; i < n; i++) {
		if (pids[i] == p)
			return true;
	}
	return false;
}

static void check_sorted_unique(const pid_t *pids, size_t n)
{
	for (size_t i = 1; i < n; i++)
		assert_true(pids[i - 1] < pids[i]);
}

/* Child and grandchild started by this test: both killed and reaped in teardown. */
struct family {
	pid_t child;
	pid_t grandchild;
	char comm[16];
};

static int family_setup(void **state)
{
	struct family *f = calloc(1, sizeof(*f));
	int to_parent[2];

	if (!f || pipe(to_parent))
		return -1;
	/* Unique per run: pid-derived, 15 chars at most, from the allowed set. */
	snprintf(f->comm, sizeof(f->comm), "etmtgt%d", (int)getpid() % 100000000);
	f->child = fork();
	if (f->child < 0)
		return -1;
	if (f->child == 0) {
		int ready[2];
		pid_t gc;
		char g;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		prctl(PR_SET_NAME, f->comm);
		close(to_parent[0]);
		if (pipe(ready))
			_exit(1);
		/* The grandchild keeps another name: found only as a descendant. */
		gc = fork();
		if (gc == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			prctl(PR_SET_NAME, "etmgrandchild");
			if (write(ready[1], "g", 1) != 1)
				_exit(1);
			for (;;)
				pause();
		}
		/* Report the grandchild's pid once it has set its name. */
		if (gc < 0 || read(ready[0], &g, 1) != 1 || write(to_parent[1], &gc, sizeof(gc)) != sizeof(gc))
			_exit(1);
		for (;;)
			pause();
	}
	close(to_parent[1]);
	if (read(to_parent[0], &f->grandchild, sizeof(f->grandchild)) != sizeof(f->grandchild))
		f->grandchild = 0;
	close(to_parent[0]);
	*state = f;
	return 0;
}

/* Kill the child and grandchild (ours, by their pids) and reap the child. */
static void family_kill(struct family *f)
{
	if (f->grandchild > 0)
		kill(f->grandchild, SIGKILL);
	if (f->child > 0) {
		kill(f->child, SIGKILL);
		waitpid(f->child, NULL, 0);
	}
	f->child = f->grandchild = 0;
}

static int family_teardown(void **state)
{
	struct family *f = *state;

	family_kill(f);
	free(f);
	return 0;
}

static void test_resolve_real(void **state)
{
	struct family *f = *state;
	char pidstr[16], why[256];
	pid_t *pids = NULL;
	size_t n = 0;

	assert_true(f->grandchild > 0);
	/* By name: the child matches, the grandchild comes as its descendant. */
	assert_int_equal(etm_target_resolve("name", f->comm, &pids, &n, NULL, 0), 0);
	if (n != 2 || !contains(pids, n, f->child) || !contains(pids, n, f->grandchild))
		fail_msg("by name %s: %zu pids, want %d and %d", f->comm, n, (int)f->child, (int)f->grandchild);
	check_sorted_unique(pids, n);
	free(pids);

	/* By pid of the child: the same two. */
	snprintf(pidstr, sizeof(pidstr), "%d", (int)f->child);
	assert_int_equal(etm_target_resolve("pid", pidstr, &pids, &n, NULL, 0), 0);
	assert_int_equal(n, 2);
	assert_true(contains(pids, n, f->child));
	assert_true(contains(pids, n, f->grandchild));
	free(pids);

	/* By pid of the grandchild: itself only. */
	snprintf(pidstr, sizeof(pidstr), "%d", (int)f->grandchild);
	assert_int_equal(etm_target_resolve("pid", pidstr, &pids, &n, NULL, 0), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pids[0], f->grandchild);
	free(pids);

	/* Our own pid (we stand for etmemd here) would cover the family: refused, nothing resolved. */
	snprintf(pidstr, sizeof(pidstr), "%d", (int)getpid());
	assert_int_equal(etm_target_resolve("pid", pidstr, &pids, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 0);
	assert_non_null(strstr(why, "is etmemd itself"));

	/* Gone: killed and reaped, nothing left to find. */
	{
		pid_t child = f->child, gc = f->grandchild;

		family_kill(f);
		/* The grandchild is reaped by init: wait until its /proc entry is gone. */
		for (int i = 0; i < 500 && kill(gc, 0) == 0; i++)
			usleep(10000);
		assert_int_equal(etm_target_resolve("name", f->comm, &pids, &n, NULL, 0), 0);
		assert_int_equal(n, 0);
		assert_null(pids);
		snprintf(pidstr, sizeof(pidstr), "%d", (int)child);
		assert_int_equal(etm_target_resolve("pid", pidstr, &pids, &n, NULL, 0), 0);
		assert_false(contains(pids, n, child));
		free(pids);
	}
}

static void test_resolve_special(void **state)
{
	pid_t *pids = (pid_t *)1;
	size_t n = 9;

	(void)state;
	/* Bad input. */
	assert_int_equal(etm_target_resolve("comm", "x", &pids, &n, NULL, 0), -EINVAL);
	assert_null(pids);
	assert_int_equal(n, 0);
	assert_int_equal(etm_target_resolve("name", "abcdefghijklmnop", &pids, &n, NULL, 0), -EINVAL);
	assert_int_equal(etm_target_resolve("pid", "0", &pids, &n, NULL, 0), -EINVAL);
	assert_int_equal(etm_target_resolve(NULL, "1", &pids, &n, NULL, 0), -EINVAL);
	/* Kernel threads are never targets: kthreadd (pid 2) and its children. */
	assert_int_equal(etm_target_resolve("pid", "2", &pids, &n, NULL, 0), 0);
	assert_int_equal(n, 0);
	assert_int_equal(etm_target_resolve("name", "kthreadd", &pids, &n, NULL, 0), 0);
	assert_int_equal(n, 0);
	/* Nor is pid 1, whose descendants are every process. */
	assert_int_equal(etm_target_resolve("pid", "1", &pids, &n, NULL, 0), 0);
	assert_int_equal(n, 0);
	/* A pid that cannot exist. */
	assert_int_equal(etm_target_resolve("pid", "4194304", &pids, &n, NULL, 0), 0);
	assert_int_equal(n, 0);
}

/* etm_target_check(): every process that may never be a target, refused with the reason. */
static void test_check_refusals(void **state)
{
	char why[256], pidstr[16], comm[32];
	FILE *f;

	(void)state;
	assert_int_equal(etm_target_check("pid", "1", why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "pid 1 is init"));
	assert_int_equal(etm_target_check("pid", "2", why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "pid 2 (kthreadd) is a kernel thread"));
	assert_int_equal(etm_target_check("name", "kthreadd", why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "is a kernel thread"));
	/* We stand for etmemd: ourselves, by pid and by name, and our parent. */
	snprintf(pidstr, sizeof(pidstr), "%d", (int)getpid());
	assert_int_equal(etm_target_check("pid", pidstr, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "is etmemd itself"));
	f = fopen("/proc/self/comm", "re");
	assert_non_null(f);
	assert_non_null(fgets(comm, sizeof(comm), f));
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	assert_int_equal(etm_target_check("name", comm, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "is etmemd itself"));
	if (getppid() > 1) {
		snprintf(pidstr, sizeof(pidstr), "%d", (int)getppid());
		assert_int_equal(etm_target_check("pid", pidstr, why, sizeof(why)), -EPERM);
		assert_non_null(strstr(why, "is an ancestor of etmemd"));
	}
	/* Absent targets are checked again at start: not refused now. */
	assert_int_equal(etm_target_check("pid", "4194304", why, sizeof(why)), 0);
	assert_string_equal(why, "");
	assert_int_equal(etm_target_check("name", "etm-nosuch-xyz", why, sizeof(why)), 0);
	assert_int_equal(etm_target_check("comm", "x", why, sizeof(why)), -EINVAL);
}

static void test_check_family(void **state)
{
	struct family *f = *state;
	char pidstr[16], why[256] = "x";

	snprintf(pidstr, sizeof(pidstr), "%d", (int)f->child);
	assert_int_equal(etm_target_check("pid", pidstr, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	assert_int_equal(etm_target_check("name", f->comm, why, sizeof(why)), 0);
}

/* Write @text to DIR/NAME. */
static void put(const char *dir, const char *name, const char *text)
{
	char *path = g_strdup_printf("%s/%s", dir, name);

	assert_true(g_file_set_contents(path, text, -1, NULL));
	g_free(path);
}

/*
 * etm_target_memcg_foreign() on stand-in cgroup directories (cgroup.procs
 * files): the family's child is the task; its grandchild, which the task
 * started, is the task's too; we are not.
 */
static void test_memcg_foreign(void **state)
{
	struct family *f = *state;
	char tmpl[] = "/tmp/etm-test-memcg-XXXXXX", comm[32], *dir = mkdtemp(tmpl), *sub, *text;
	pid_t task[1] = { f->child }, other = 0;

	assert_non_null(dir);
	sub = g_strdup_printf("%s/child", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	text = g_strdup_printf("%d\n", (int)f->child);
	put(dir, "cgroup.procs", text);
	g_free(text);
	put(sub, "cgroup.procs", "");
	assert_int_equal(etm_target_memcg_foreign(dir, task, 1, &other, comm, sizeof(comm)), 0);
	/* A process the task started since it was resolved, and one that has gone. */
	text = g_strdup_printf("%d\n4194304\n", (int)f->grandchild);
	put(sub, "cgroup.procs", text);
	g_free(text);
	assert_int_equal(etm_target_memcg_foreign(dir, task, 1, &other, comm, sizeof(comm)), 0);
	/* Someone else, one level down. */
	text = g_strdup_printf("%d\n%d\n", (int)f->grandchild, (int)getpid());
	put(sub, "cgroup.procs", text);
	g_free(text);
	assert_int_equal(etm_target_memcg_foreign(dir, task, 1, &other, comm, sizeof(comm)), 1);
	assert_int_equal(other, getpid());
	assert_true(comm[0] != '\0');
	/* Not a pid list: cannot tell. */
	put(sub, "cgroup.procs", "12x\n");
	assert_int_equal(etm_target_memcg_foreign(dir, task, 1, &other, comm, sizeof(comm)), -EINVAL);
	assert_int_equal(etm_target_memcg_foreign("/nonexistent-etm", task, 1, &other, NULL, 0), -ENOENT);
	text = g_strdup_printf("rm -rf '%s'", dir);
	assert_int_equal(system(text), 0);
	g_free(text);
	g_free(sub);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_valid),
		cmocka_unit_test(test_pid_valid),
		cmocka_unit_test(test_parse_proc_stat),
		cmocka_unit_test_setup_teardown(test_resolve_real, family_setup, family_teardown),
		cmocka_unit_test(test_resolve_special),
		cmocka_unit_test(test_check_refusals),
		cmocka_unit_test_setup_teardown(test_check_family, family_setup, family_teardown),
		cmocka_unit_test_setup_teardown(test_memcg_foreign, family_setup, family_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
