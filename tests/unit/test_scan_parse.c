/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The scan library's parsing toolkit (parse.h): decimal and hex numbers, the
 * line iterator, the pid check; and the one /proc/PID/stat parser
 * (proc_stat.h) at each depth its callers read.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "scan/clock.h"
#include "scan/parse.h"
#include "scan/proc_stat.h"

static int u64(const char *s, uint64_t *v, size_t *used)
{
	const char *p = s;
	int err = etm_parse_u64(&p, s + strlen(s), v);

	*used = (size_t)(p - s);
	return err;
}

static void test_u64(void **state)
{
	uint64_t v = 7;
	size_t used;

	(void)state;
	assert_int_equal(u64("0", &v, &used), 0);
	assert_int_equal(v, 0);
	assert_int_equal(u64("18446744073709551615 kB", &v, &used), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(used, 20);
	assert_int_equal(u64("18446744073709551616", &v, &used), -ERANGE);
	assert_int_equal(used, 0); /* not advanced on failure */
	assert_int_equal(u64("", &v, &used), -EINVAL);
	assert_int_equal(u64("-1", &v, &used), -EINVAL);
	assert_int_equal(u64(" 1", &v, &used), -EINVAL);
	/* the end bounds the number, not a NUL */
	{
		const char *s = "12345", *p = s;

		assert_int_equal(etm_parse_u64(&p, s + 3, &v), 0);
		assert_int_equal(v, 123);
	}
}

static void test_hex(void **state)
{
	const char *s, *p;
	uint64_t v = 0;

	(void)state;
	s = p = "7fffc0de-";
	assert_int_equal(etm_parse_hex(&p, s + strlen(s), &v), 0);
	assert_true(v == 0x7fffc0de);
	assert_int_equal(*p, '-');
	s = p = "FFFFffffFFFFffff";
	assert_int_equal(etm_parse_hex(&p, s + strlen(s), &v), 0);
	assert_true(v == UINT64_MAX);
	s = p = "1ffffffffffffffff"; /* 17 digits */
	assert_int_equal(etm_parse_hex(&p, s + strlen(s), &v), -EINVAL);
	assert_ptr_equal(p, s);
	s = p = "x1";
	assert_int_equal(etm_parse_hex(&p, s + strlen(s), &v), -EINVAL);
}

static void test_lines(void **state)
{
	static const char text[] = "a\n\nbc\nlast";
	const char *want[] = { "a", "", "bc", "last" };
	struct etm_lines it;
	const char *ls, *le;
	size_t n = 0;

	(void)state;
	for (etm_lines_init(&it, text, strlen(text)); etm_line_next(&it, &ls, &le); n++) {
		assert_true(n < 4);
		assert_int_equal((size_t)(le - ls), strlen(want[n]));
		assert_memory_equal(ls, want[n], strlen(want[n]));
	}
	assert_int_equal(n, 4);
	assert_ptr_equal(le, text + strlen(text)); /* the last line had no newline: torn */
	/* a final newline ends the last line; nothing follows it */
	n = 0;
	for (etm_lines_init(&it, "x\n", 2); etm_line_next(&it, &ls, &le); n++)
		assert_int_equal(*le, '\n');
	assert_int_equal(n, 1);
	etm_lines_init(&it, "", 0);
	assert_false(etm_line_next(&it, &ls, &le));
}

static void test_pid(void **state)
{
	static const char *const good[] = { "1", "2", "12345", "4194304", "999999" };
	static const char *const bad[] = { "",	 "0",  "-1", "+1",   "4194305",	 "01",
					   "1a", " 1", "1 ", "0x10", "99999999", "18446744073709551617",
					   "1.0" };
	pid_t p = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(etm_pid_parse(good[i], &p), 0);
	assert_int_equal(p, 999999);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (etm_pid_parse(bad[i], &p) != -EINVAL)
			fail_msg("\"%s\" should be refused", bad[i]);
	assert_int_equal(etm_pid_parse(NULL, &p), -EINVAL);
	assert_true(etm_pid_valid(1) && etm_pid_valid(ETM_PID_MAX));
	assert_false(etm_pid_valid(0) || etm_pid_valid(ETM_PID_MAX + 1ULL));
}

/* A kernel worker (PF_KTHREAD), nice -20 and priority below 0: negative fields on the way to starttime. */
static const char kthread[] = "77 (kworker/u4:2-events_unbound) I 2 0 0 0 -1 69238880 0 0 0 0 0 27 0 0 -2 -20 1 0 "
			      "1234567 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 1 0 0 0 0 0 0 0 "
			      "0 0 0 0 0 0\n";

static void test_proc_stat(void **state)
{
	size_t cut = (size_t)(strstr(kthread, "69238880") - kthread) + 8;
	struct etm_proc_stat st;

	(void)state;
	assert_int_equal(etm_proc_stat_parse(kthread, strlen(kthread), ETM_STAT_STARTTIME, &st), 0);
	assert_string_equal(st.comm, "kworker/u4:2-events_unbound");
	assert_int_equal(st.state, 'I');
	assert_int_equal(st.ppid, 2);
	assert_int_equal(st.flags, 69238880);
	assert_int_equal(st.starttime, 1234567);
	/* only as far as asked: a line cut after flags is enough for the flags */
	assert_int_equal(etm_proc_stat_parse(kthread, cut, ETM_STAT_FLAGS, &st), 0);
	assert_int_equal(st.flags, 69238880);
	assert_int_equal(st.starttime, 0);
	assert_int_equal(etm_proc_stat_parse(kthread, cut, ETM_STAT_STARTTIME, &st), -EINVAL);
	/* the kept fields are never negative */
	{
		static const char neg_flags[] = "1 (x) S 0 0 0 0 -1 -5\n";

		assert_int_equal(etm_proc_stat_parse(neg_flags, strlen(neg_flags), ETM_STAT_FLAGS, &st), -EINVAL);
		assert_int_equal(etm_proc_stat_parse(neg_flags, strlen(neg_flags), ETM_STAT_PPID, &st), 0);
	}
	/* comm longer than ETM_COMM_MAX is cut, not refused */
	{
		char line[200];

		snprintf(line, sizeof(line), "9 (%0100d) R 1 0\n", 0);
		assert_int_equal(etm_proc_stat_parse(line, strlen(line), ETM_STAT_PPID, &st), 0);
		assert_int_equal(strlen(st.comm), ETM_COMM_MAX);
		assert_int_equal(st.ppid, 1);
	}
	/* our own, read from /proc: the start time the journal records */
	assert_int_equal(etm_proc_stat_read(-1, getpid(), ETM_STAT_STARTTIME, &st), 0);
	assert_int_equal(st.ppid, getppid());
	assert_true(st.starttime > 0);
	assert_int_equal(etm_proc_stat_read(-1, ETM_PID_MAX, ETM_STAT_PPID, &st), -ENOENT);
}

static void test_clock(void **state)
{
	struct timespec dl;
	double t0 = etm_mono_now();

	(void)state;
	etm_mono_after(1.5, &dl);
	assert_true(dl.tv_nsec >= 0 && dl.tv_nsec < 1000000000L);
	assert_true((double)dl.tv_sec + (double)dl.tv_nsec / 1e9 >= t0 + 1.5);
	assert_true(etm_mono_now() >= t0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64), cmocka_unit_test(test_hex),	      cmocka_unit_test(test_lines),
		cmocka_unit_test(test_pid), cmocka_unit_test(test_proc_stat), cmocka_unit_test(test_clock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
