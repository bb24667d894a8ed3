/* SPDX-License-Identifier: MulanPSL-2.0 */
/* showhostpages and showtaskpages: the original's titles and columns, exactly. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "daemon/engines/cslide_show.h"
#include "daemon/json_out.h"
#include "daemon/report.h"

static const struct cslide_show_node nodes[] = {
	{ .node = 0, .total_kb = 524288, .hot_kb = 65536, .cold_kb = 4096 },
	{ .node = 1, .total_kb = 524288, .hot_kb = 0, .cold_kb = 0 },
	{ .node = 2, .total_kb = 1048576, .hot_kb = 2048, .cold_kb = 57344 },
};

static int utc(void **state)
{
	(void)state;
	setenv("TZ", "UTC0", 1);
	tzset();
	return 0;
}

/* The report as the daemon's text. */
static char *text_of(const struct etm_report *r)
{
	GString *out = g_string_new(NULL);

	etm_report_render_text(r, out);
	return g_string_free(out, FALSE);
}

static void test_host(void **state)
{
	struct cslide_show s = { .stamp = 1795255200, .n = 3, .nodes = nodes };
	g_autoptr(etm_report) r = etm_report_new();
	g_autoptr(GString) err = g_string_new(NULL);
	g_autofree char *text = NULL;

	(void)state;
	assert_int_equal(cslide_show_host(r, &s, err), 0);
	text = text_of(r);
	assert_string_equal(text, "[Sat Nov 21 10:00:00 2026] host pages info (KB):\n"
				  " node      total       used        hot       cold\n"
				  "    0     524288      69632      65536       4096\n"
				  "    1     524288          0          0          0\n"
				  "    2    1048576      59392       2048      57344\n");
}

static void test_task(void **state)
{
	/* asctime pads a one-digit day with a blank */
	struct cslide_show s = { .stamp = 1793577600, .n = 3, .nodes = nodes };
	g_autoptr(etm_report) r = etm_report_new();
	g_autoptr(GString) err = g_string_new(NULL);
	g_autofree char *text = NULL;

	(void)state;
	assert_int_equal(cslide_show_task(r, 4242, &s, err), 0);
	text = text_of(r);
	assert_string_equal(text, "[Mon Nov  2 00:00:00 2026] task 4242 pages info (KB):\n"
				  " node       used        hot       cold\n"
				  "    0      69632      65536       4096\n"
				  "    1          0          0          0\n"
				  "    2      59392       2048      57344\n");
}

/* JSON: the same figures in bytes, the pid in the title. */
static void test_json(void **state)
{
	struct cslide_show s = { .stamp = 1793577600, .n = 1, .nodes = nodes };
	g_autoptr(etm_report) r = etm_report_new();
	g_autoptr(GString) err = g_string_new(NULL), out = g_string_new(NULL);
	struct etm_json j;

	(void)state;
	assert_int_equal(cslide_show_task(r, 4242, &s, err), 0);
	etm_json_begin(&j, out, "engine_command");
	etm_report_render_json(r, &j);
	etm_json_end(&j);
	assert_non_null(strstr(out->str, "\"name\": \"task_pages\""));
	assert_non_null(strstr(out->str, "\"title\": \"task 4242 pages info (KB):\""));
	assert_non_null(strstr(out->str, "\"time_unix_seconds\": 1793577600"));
	assert_non_null(strstr(out->str, "\"used_bytes\": 71303168"));
	assert_non_null(strstr(out->str, "\"hot_bytes\": 67108864"));
}

/* A 16 TB node does not fit 10 columns: the row widens, nothing is cut. */
static void test_wide_values(void **state)
{
	const struct cslide_show_node big = { .node = 7, .total_kb = 17179869184ULL, .hot_kb = 1, .cold_kb = 2 };
	struct cslide_show s = { .stamp = 1795255200, .n = 1, .nodes = &big };
	g_autoptr(etm_report) r = etm_report_new();
	g_autoptr(GString) err = g_string_new(NULL);
	g_autofree char *text = NULL;

	(void)state;
	assert_int_equal(cslide_show_host(r, &s, err), 0);
	text = text_of(r);
	assert_non_null(strstr(text, "    7 17179869184          3          1          2\n"));
}

/* Before the first cycle: a message, not a table of zeros. */
static void test_before_first_cycle(void **state)
{
	struct cslide_show s = { .stamp = 0, .n = 3, .nodes = nodes };
	g_autoptr(etm_report) r = etm_report_new();
	g_autoptr(GString) err = g_string_new(NULL);
	g_autofree char *text = NULL;

	(void)state;
	assert_int_equal(cslide_show_host(r, &s, err), -EAGAIN);
	assert_non_null(strstr(err->str, "no page figures yet"));
	g_string_truncate(err, 0);
	assert_int_equal(cslide_show_task(r, 1, &s, err), -EAGAIN);
	assert_non_null(strstr(err->str, "has not finished a cycle"));
	text = text_of(r);
	assert_null(strstr(text, "node"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host),
		cmocka_unit_test(test_task),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_wide_values),
		cmocka_unit_test(test_before_first_cycle),
	};

	return cmocka_run_group_tests(tests, utc, NULL);
}
