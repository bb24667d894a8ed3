/* SPDX-License-Identifier: MulanPSL-2.0 */
/* etmemd's command line: every option, bound and error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/cmdline.h"

static int parse(struct etmemd_opts *opts, GString *err, int argc, ...)
{
	char *argv[16];
	va_list ap;

	argv[0] = "etmemd";
	va_start(ap, argc);
	for (int i = 1; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	argv[argc] = NULL;
	g_string_truncate(err, 0);
	return etmemd_parse_args(argc, argv, opts, err);
}

static void test_valid(void **state)
{
	struct etmemd_opts o;
	GString *err = g_string_new(NULL);

	(void)state;
	assert_int_equal(parse(&o, err, 3, "-s", "sock"), 0);
	assert_string_equal(o.socket, "sock");
	assert_int_equal(o.log_level, ETMEMD_DEFAULT_LOG_LEVEL);
	assert_false(o.systemd_mode);
	assert_int_equal(parse(&o, err, 6, "--log-level", "0", "--socket", "s2", "--mode-systemctl"), 0);
	assert_int_equal(o.log_level, 0);
	assert_string_equal(o.socket, "s2");
	assert_true(o.systemd_mode);
	assert_int_equal(parse(&o, err, 5, "-l", "3", "-s", "x", "-m"), 0);
	assert_int_equal(o.log_level, 3);
	assert_int_equal(parse(&o, err, 2, "-h"), 0);
	assert_true(o.help);
	assert_int_equal(parse(&o, err, 2, "--help"), 0);
	assert_true(o.help);
	g_string_free(err, TRUE);
}

static void test_log_level_bounds(void **state)
{
	struct etmemd_opts o;
	GString *err = g_string_new(NULL);
	const char *bad[] = { "-1", "4", "", "1x", "99999999999999999999", " 1" };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(&o, err, 5, "-l", bad[i], "-s", "x"), -EINVAL);
		assert_non_null(strstr(err->str, "0..3"));
	}
	assert_int_equal(parse(&o, err, 5, "-l", "1", "-s", "x"), 0);
	assert_int_equal(parse(&o, err, 7, "-l", "1", "-l", "2", "-s", "x"), -EINVAL);
	assert_non_null(strstr(err->str, "twice"));
	g_string_free(err, TRUE);
}

static void test_socket_bounds(void **state)
{
	struct etmemd_opts o;
	GString *err = g_string_new(NULL);
	char name[ETM_SOCKET_NAME_MAX + 2];

	(void)state;
	memset(name, 'a', sizeof(name));
	name[ETM_SOCKET_NAME_MAX] = '\0'; /* 106: the longest that fits */
	assert_int_equal(parse(&o, err, 3, "-s", name), 0);
	assert_string_equal(o.socket, name);
	name[ETM_SOCKET_NAME_MAX] = 'a';
	name[ETM_SOCKET_NAME_MAX + 1] = '\0'; /* 107 */
	assert_int_equal(parse(&o, err, 3, "-s", name), -EINVAL);
	assert_non_null(strstr(err->str, "1..106"));
	assert_int_equal(parse(&o, err, 3, "-s", ""), -EINVAL);
	assert_int_equal(parse(&o, err, 1), -EINVAL);
	assert_non_null(strstr(err->str, "required"));
	assert_int_equal(parse(&o, err, 5, "-s", "a", "-s", "b"), -EINVAL);
	assert_int_equal(parse(&o, err, 2, "-s"), -EINVAL);
	assert_non_null(strstr(err->str, "needs an argument"));
	g_string_free(err, TRUE);
}

static void test_extra_and_unknown(void **state)
{
	struct etmemd_opts o;
	GString *err = g_string_new(NULL);

	(void)state;
	assert_int_equal(parse(&o, err, 4, "-s", "a", "extra"), -EINVAL);
	assert_non_null(strstr(err->str, "extra"));
	assert_int_equal(parse(&o, err, 4, "-s", "a", "-x"), -EINVAL);
	assert_non_null(strstr(err->str, "unknown"));
	assert_int_equal(parse(&o, err, 4, "-s", "a", "--bogus"), -EINVAL);
	g_string_free(err, TRUE);
}

static void test_help_text(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	etmemd_print_help(f);
	fclose(f);
	/* The spec's lines, byte for byte. */
	assert_non_null(strstr(buf, "-l|--log-level <log-level>  Log level\n"));
	assert_non_null(strstr(buf, "-s|--socket <sockect name>  Socket name to listen to\n"));
	assert_non_null(strstr(buf, "-h|--help  Show this message\n"));
	assert_non_null(strstr(buf, "-m|--mode-systemctl mode used to start(systemctl)\n"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),	      cmocka_unit_test(test_log_level_bounds),
		cmocka_unit_test(test_socket_bounds), cmocka_unit_test(test_extra_and_unknown),
		cmocka_unit_test(test_help_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
