/* SPDX-License-Identifier: MulanPSL-2.0 */
/* etm_escape() and the one-line guarantee of etm_log() (src/common). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/escape.h"
#include "common/log.h"

static void test_escape_all(void **state)
{
	char out[ETM_ESCAPED_SIZE(64)];

	(void)state;
	assert_int_equal(etm_escape(out, sizeof(out), "plain name-1", 64, true), strlen("plain name-1"));
	assert_string_equal(out, "plain name-1");
	etm_escape(out, sizeof(out), "a\nb\r\x1b\x7f\\c\xc3\xa9", 64, true);
	assert_string_equal(out, "a\\x0ab\\x0d\\x1b\\x7f\\x5cc\\xc3\\xa9");
	/* Cut at @max input bytes, marked. */
	etm_escape(out, sizeof(out), "abcdef", 4, true);
	assert_string_equal(out, "abcd...");
	etm_escape(out, sizeof(out), "", 4, true);
	assert_string_equal(out, "");
}

static void test_escape_controls_only(void **state)
{
	char out[ETM_ESCAPED_SIZE(64)];

	(void)state;
	/* Backslashes and UTF-8 stay as they are; line breaks do not. */
	etm_escape(out, sizeof(out), "x\\y \xc3\xa9\nforged", 64, false);
	assert_string_equal(out, "x\\y \xc3\xa9\\x0aforged");
}

static void test_escape_small_buffer(void **state)
{
	char out[8];

	(void)state;
	/* Never a half escape, always terminated. */
	assert_int_equal(etm_escape(out, sizeof(out), "ab\n\n\n", 64, true), 6);
	assert_string_equal(out, "ab\\x0a");
	assert_int_equal(etm_escape(out, 1, "abc", 64, true), 0);
	assert_string_equal(out, "");
}

/* etm_log() to stderr: a newline in the message never starts a line of its own. */
static void test_log_one_line(void **state)
{
	char path[] = "/tmp/etmem-test-log.XXXXXX";
	char buf[4096];
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	ssize_t n;

	(void)state;
	assert_true(fd >= 0);
	assert_true(saved >= 0);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	etm_log_init("etmem-test", ETM_LOG_DEBUG, true);
	etm_warn("project %s is not exist", "p\netmemd: error: forged line");
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	unlink(path);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "etmemd: warning: project p\\x0aetmemd: error: forged line is not exist\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_all),
		cmocka_unit_test(test_escape_controls_only),
		cmocka_unit_test(test_escape_small_buffer),
		cmocka_unit_test(test_log_one_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
