/* SPDX-License-Identifier: MulanPSL-2.0 */
/* psi engine: pressure files (cgroup2, /proc/pressure, openEuler cpuacct), well-formed, truncated and hostile. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>

#include "daemon/engines/psi_pressure.h"
#include "test_file_util.h"

static int parse(const char *text, struct psi_pressure *p)
{
	return psi_pressure_parse(text, strlen(text), p);
}

static void test_both_lines(void **state)
{
	struct psi_pressure p;

	(void)state;
	assert_int_equal(parse("some avg10=9.32 avg60=2.05 avg300=0.44 total=5243196\n"
			       "full avg10=1.50 avg60=0.00 avg300=0.00 total=1991842\n",
			       &p),
			 0);
	assert_true(p.has_some);
	assert_true(p.has_full);
	assert_float_equal(p.some.avg10, 9.32, 1e-9);
	assert_float_equal(p.some.avg60, 2.05, 1e-9);
	assert_float_equal(p.some.avg300, 0.44, 1e-9);
	assert_int_equal(p.some.total, 5243196);
	assert_float_equal(p.full.avg10, 1.5, 1e-9);
	assert_int_equal(p.full.total, 1991842);
	assert_float_equal(psi_pressure_level(&p), 9.32, 1e-9);
}

static void test_some_only_and_extras(void **state)
{
	struct psi_pressure p;

	(void)state;
	/* no full line, no final newline: fine */
	assert_int_equal(parse("some avg10=0.00 avg60=0.00 avg300=0.00 total=0", &p), 0);
	assert_false(p.has_full);
	/* keys in another order, a line a later kernel may add, 100.00 itself */
	assert_int_equal(parse("future x=1\nsome total=7 avg300=1 avg60=100.00 avg10=3.5\n", &p), 0);
	assert_float_equal(p.some.avg60, 100.0, 1e-9);
	assert_float_equal(psi_pressure_level(&p), 100.0, 1e-9);
	assert_int_equal(p.some.total, 7);
	/* the level is max(avg10, avg60): avg300 does not count */
	assert_int_equal(parse("some avg10=0.10 avg60=0.20 avg300=50.00 total=1\n", &p), 0);
	assert_float_equal(psi_pressure_level(&p), 0.2, 1e-9);
}

static void test_truncated(void **state)
{
	static const char *const bad[] = {
		"",
		"some",
		"some ",
		"some avg10=0.00 avg60=",
		"some avg10=0.00 avg60=0.00 avg300=0.00",
		"some avg10=0.00 avg60=0.00 avg300=0.00 tot",
		"some avg10=0.00 avg60=0.00 avg300=0.00 total=",
		"some avg10=0.",
		"full avg10=0.00 avg60=0.00 avg300=0.00 total=1\n", /* no some line */
		"some avg10=0.00 avg60=0.00 avg300=0.00 total=1\nfull avg10=0.00 avg",
	};
	struct psi_pressure p;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &p) != -EINVAL)
			fail_msg("accepted truncated \"%s\"", bad[i]);
	}
}

static void test_hostile(void **state)
{
	static const char *const bad[] = {
		"some avg10=nan avg60=0.00 avg300=0.00 total=1",
		"some avg10=inf avg60=0.00 avg300=0.00 total=1",
		"some avg10=-1.00 avg60=0.00 avg300=0.00 total=1",
		"some avg10=+1.00 avg60=0.00 avg300=0.00 total=1",
		"some avg10=1e2 avg60=0.00 avg300=0.00 total=1",
		"some avg10=0x10 avg60=0.00 avg300=0.00 total=1",
		"some avg10=100.01 avg60=0.00 avg300=0.00 total=1",
		"some avg10=1000 avg60=0.00 avg300=0.00 total=1",
		"some avg10=1.0000001 avg60=0.00 avg300=0.00 total=1",
		"some avg10=.5 avg60=0.00 avg300=0.00 total=1",
		"some avg10=1,5 avg60=0.00 avg300=0.00 total=1",
		"some avg10=0.00 avg10=0.00 avg60=0.00 avg300=0.00 total=1",
		"some avg10=0.00 avg60=0.00 avg300=0.00 total=1 extra=2",
		"some avg10=0.00  avg60=0.00 avg300=0.00 total=1",
		"some avg10=0.00 avg60=0.00 avg300=0.00 total=-1",
		"some avg10=0.00 avg60=0.00 avg300=0.00 total=99999999999999999999999",
		"some avg10=0.00 avg60=0.00 avg300=0.00 total=1x",
		"some avg10=0.00 avg60=0.00 avg300=0.00 total=1\nsome avg10=0.00 avg60=0.00 avg300=0.00 total=2",
		"some avg10=0.00 avg60=0.00 avg300=0.00 total=1\nfull avg10=200 avg60=0 avg300=0 total=1",
	};
	struct psi_pressure p;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &p) != -EINVAL)
			fail_msg("accepted hostile \"%s\"", bad[i]);
	}
	/* an embedded NUL inside the length given */
	assert_int_equal(psi_pressure_parse("some avg10=0\0 avg60=0 avg300=0 total=1", 38, &p), -EINVAL);
}

static void test_read(void **state)
{
	char dir[] = "/tmp/etm-psi-pressure-XXXXXX", path[128];
	struct psi_pressure p;
	GString *big;

	(void)state;
	assert_non_null(mkdtemp(dir));
	put_file(dir, "memory.pressure",
		 "some avg10=0.50 avg60=0.25 avg300=0.00 total=42\n"
		 "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
	snprintf(path, sizeof(path), "%s/memory.pressure", dir);
	assert_int_equal(psi_pressure_read(path, &p), 0);
	assert_int_equal(p.some.total, 42);
	assert_float_equal(psi_pressure_level(&p), 0.5, 1e-9);
	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(psi_pressure_read(path, &p), -ENOENT);
	/* a file far longer than a pressure file is refused, not read whole */
	big = g_string_new("some avg10=0.00 avg60=0.00 avg300=0.00 total=1\n");
	while (big->len <= PSI_PRESSURE_FILE_MAX)
		g_string_append(big, "future padding line\n");
	put_file(dir, "big", big->str);
	g_string_free(big, TRUE);
	snprintf(path, sizeof(path), "%s/big", dir);
	assert_int_equal(psi_pressure_read(path, &p), -EFBIG);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_both_lines), cmocka_unit_test(test_some_only_and_extras),
		cmocka_unit_test(test_truncated),  cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
