/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Reports of engine private commands (daemon/report.h) and the JSON writer
 * under them (daemon/json_out.h): the text byte for byte (cslide's tables as
 * the original printed them), the JSON byte for byte where it matters
 * (escapes, numbers, empty containers), and every document kept for the
 * schema check (json.samples).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <math.h>

#include <cmocka.h>

#include "daemon/json_out.h"
#include "daemon/report.h"
#include "test_json_sample.h"

static int utc(void **state)
{
	(void)state;
	setenv("TZ", "UTC0", 1);
	tzset();
	return 0;
}

/* showhostpages as cslide's original: bytes in the report, KB in the text. */
static const struct etm_col host_cols[] = {
	{ "node", "node", ETM_COL_INT, 5, 0, 0 },	    { "total_bytes", "total", ETM_COL_U64, 10, 1024, 0 },
	{ "used_bytes", "used", ETM_COL_U64, 10, 1024, 0 }, { "hot_bytes", "hot", ETM_COL_U64, 10, 1024, 0 },
	{ "cold_bytes", "cold", ETM_COL_U64, 10, 1024, 0 },
};

static void host_table(struct etm_report *r, time_t when)
{
	static const uint64_t kb[][4] = {
		{ 524288, 69632, 65536, 4096 },
		{ 524288, 0, 0, 0 },
		{ 17179869184ULL, 3, 1, 2 },
	};
	struct etm_table *t = etm_report_table(r, "host_pages", "host pages info (KB):", host_cols, 5);

	etm_table_set_time(t, when);
	for (size_t i = 0; i < G_N_ELEMENTS(kb); i++) {
		etm_table_row(t);
		etm_table_int(t, 0, (int64_t)(i == 2 ? 7 : i));
		for (size_t k = 0; k < 4; k++)
			etm_table_u64(t, k + 1, kb[i][k] * 1024);
	}
}

static void test_text_as_original(void **state)
{
	g_autoptr(etm_report) r = etm_report_new();
	g_autoptr(GString) out = g_string_new(NULL);

	(void)state;
	host_table(r, 1795255200);
	etm_report_render_text(r, out);
	/* A 16 TB node does not fit 10 columns: its row widens, nothing is cut. */
	assert_string_equal(out->str, "[Sat Nov 21 10:00:00 2026] host pages info (KB):\n"
				      " node      total       used        hot       cold\n"
				      "    0     524288      69632      65536       4096\n"
				      "    1     524288          0          0          0\n"
				      "    7 17179869184          3          1          2\n");
}

/* Notes first, tables apart, a cell never set, doubles, left-aligned text. */
static void test_text_mixed(void **state)
{
	static const struct etm_col cols[] = {
		{ "cgroup", "cgroup", ETM_COL_TEXT, -12, 0, 0 },
		{ "pressure_percent", "pressure", ETM_COL_DOUBLE, 9, 0, 2 },
		{ "reclaimed_bytes", "reclaimed", ETM_COL_U64, 10, 0, 0 },
	};
	g_autoptr(etm_report) r = etm_report_new();
	g_autoptr(GString) out = g_string_new(NULL);
	struct etm_table *t;

	(void)state;
	etm_report_note(r, "cgroups matched: %d", 2);
	t = etm_report_table(r, "pressure", NULL, cols, 3);
	etm_table_row(t);
	etm_table_text(t, 0, "isulad/a");
	etm_table_double(t, 1, 0.125);
	etm_table_u64(t, 2, 4096);
	etm_table_row(t);
	etm_table_text(t, 0, "b");
	etm_table_u64(t, 2, 0);
	/* A cell of the wrong type is refused (and logged), the row keeps its null. */
	etm_table_u64(t, 1, 5);
	assert_int_equal(etm_table_rows(t), 2);
	host_table(r, 0);
	etm_report_render_text(r, out);
	assert_string_equal(out->str, "cgroups matched: 2\n"
				      "cgroup        pressure  reclaimed\n"
				      "isulad/a          0.12       4096\n"
				      "b                    -          0\n"
				      "\n"
				      "host pages info (KB):\n"
				      " node      total       used        hot       cold\n"
				      "    0     524288      69632      65536       4096\n"
				      "    1     524288          0          0          0\n"
				      "    7 17179869184          3          1          2\n");
}

static char *report_json(const struct etm_report *r, const char *task)
{
	GString *out = g_string_new(NULL);
	struct etm_json j;

	etm_json_begin(&j, out, "engine_command");
	etm_json_str(&j, "project", "p");
	etm_json_str(&j, "engine", "cslide");
	etm_json_str(&j, "task", task);
	etm_json_str(&j, "command", "showhostpages");
	etm_report_render_json(r, &j);
	etm_json_end(&j);
	return g_string_free(out, FALSE);
}

static void test_json_document(void **state)
{
	g_autoptr(etm_report) r = etm_report_new();
	g_autofree char *doc = NULL;

	(void)state;
	host_table(r, 1795255200);
	doc = report_json(r, NULL);
	etm_test_save_json_sample("report_host_pages", doc);
	/* Bytes, not the text's KB; the time as a number; columns in order. */
	assert_non_null(strstr(doc, "\"schema_version\": 1,\n  \"kind\": \"engine_command\",\n"));
	assert_non_null(strstr(doc, "\"task\": null"));
	assert_non_null(strstr(doc, "\"time_unix_seconds\": 1795255200"));
	assert_non_null(strstr(doc, "\"total_bytes\": 536870912,"));
	assert_non_null(strstr(doc, "\"total_bytes\": 17592186044416,"));
	assert_non_null(strstr(doc, "{\n          \"name\": \"node\",\n          \"header\": \"node\"\n        }"));
	assert_non_null(strstr(doc, "\"notes\": [],"));
	assert_int_equal(doc[strlen(doc) - 1], '\n');
}

/* The writer: nesting, commas, escapes, empty containers, numbers. */
static void test_json_writer(void **state)
{
	g_autoptr(GString) out = g_string_new(NULL);
	struct etm_json j;

	(void)state;
	etm_json_begin(&j, out, "project_show");
	etm_json_key(&j, "a");
	etm_json_begin_array(&j);
	etm_json_end_array(&j);
	etm_json_key(&j, "o");
	etm_json_begin_object(&j);
	etm_json_end_object(&j);
	/* Bytes of a name: a quote, a backslash, controls, invalid UTF-8, DEL. */
	etm_json_str(&j, "s", "q\"b\\n\n\t\x01\xff\x7f\xc3\xa9");
	etm_json_double(&j, "d1", 1.0);
	etm_json_double(&j, "d2", 0.1);
	etm_json_double(&j, "d3", 1e300 * 1e300);
	etm_json_double(&j, "d4", NAN);
	etm_json_double(&j, "d5", 1.0 / 3.0);
	etm_json_i64(&j, "i", -5);
	etm_json_u64(&j, "u", UINT64_MAX);
	etm_json_bool(&j, "t", true);
	etm_json_null(&j, "n");
	etm_json_key(&j, "nested");
	etm_json_begin_array(&j);
	etm_json_add_u64(&j, 1);
	etm_json_begin_object(&j);
	etm_json_str(&j, "k", NULL);
	etm_json_end_object(&j);
	etm_json_end_array(&j);
	etm_json_end(&j);
	assert_string_equal(out->str, "{\n"
				      "  \"schema_version\": 1,\n"
				      "  \"kind\": \"project_show\",\n"
				      "  \"a\": [],\n"
				      "  \"o\": {},\n"
				      "  \"s\": \"q\\\"b\\\\n\\n\\t\\u0001\xef\xbf\xbd\\u007f\xc3\xa9\",\n"
				      "  \"d1\": 1.0,\n"
				      "  \"d2\": 0.1,\n"
				      "  \"d3\": null,\n"
				      "  \"d4\": null,\n"
				      "  \"d5\": 0.33333333333333331,\n"
				      "  \"i\": -5,\n"
				      "  \"u\": 18446744073709551615,\n"
				      "  \"t\": true,\n"
				      "  \"n\": null,\n"
				      "  \"nested\": [\n"
				      "    1,\n"
				      "    {\n"
				      "      \"k\": null\n"
				      "    }\n"
				      "  ]\n"
				      "}\n");
	/* Not a schema-conforming document (made-up members): not kept as a sample. */
}

/* Names are bytes: the JSON stays valid UTF-8 and the document stays valid for the schema. */
static void test_json_odd_names(void **state)
{
	static const struct etm_col cols[] = { { "name", "name", ETM_COL_TEXT, 4, 0, 0 } };
	g_autoptr(etm_report) r = etm_report_new();
	g_autofree char *doc = NULL;
	struct etm_table *t;

	(void)state;
	etm_report_note(r, "a note with \"quotes\" and a \x1b escape");
	t = etm_report_table(r, "odd", NULL, cols, 1);
	etm_table_row(t);
	etm_table_text(t, 0, "\xfe\xff-dash name\n");
	etm_table_row(t);
	doc = report_json(r, "t\xc0");
	etm_test_save_json_sample("report_odd_names", doc);
	assert_true(g_utf8_validate(doc, -1, NULL));
	assert_non_null(strstr(doc, "\"name\": null"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_as_original), cmocka_unit_test(test_text_mixed),
		cmocka_unit_test(test_json_document),	 cmocka_unit_test(test_json_writer),
		cmocka_unit_test(test_json_odd_names),
	};

	return cmocka_run_group_tests(tests, utc, NULL);
}
