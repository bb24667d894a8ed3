/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The figures builder: typed fields in, the `project show` text out, byte
 * for byte what the engines printed before figures became data.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "daemon/figures.h"
#include "daemon/json_out.h"
#include "test_json_sample.h"

/* slide's figures of a per-process tracker, as slide_task_figures() adds them. */
static void test_slide_process_text(void **state)
{
	static const uint64_t pids[] = { 4242, 4243 };
	g_autoptr(etm_figures) figs = etm_figures_new();
	g_autoptr(GString) out = g_string_new(NULL);

	(void)state;
	etm_fig_text(figs, "backend", "backend", "page_idle + pageout");
	etm_fig_list(figs, "processes", "pids", pids, 2, 2);
	etm_fig_u64(figs, "cycles", ETM_FIG_COUNTER, "cycles", 3);
	etm_fig_u64(figs, "scanned_pages", ETM_FIG_GAUGE, "pages scanned", 262144);
	etm_fig_u64(figs, "hot_pages", ETM_FIG_GAUGE, "hot", 100);
	etm_fig_u64(figs, "cold_pages", ETM_FIG_GAUGE, "cold", 262044);
	etm_fig_u64(figs, "gated_processes", ETM_FIG_GAUGE, "processes gated", 0);
	etm_fig_u64(figs, "swapped_out_bytes", ETM_FIG_COUNTER, "bytes swapped out", 1073332224);
	etm_fig_u64(figs, "advised_bytes", ETM_FIG_COUNTER, "bytes advised", 1073741824);
	etm_fig_double(figs, "last_cycle_seconds", ETM_FIG_GAUGE, "last cycle", 1.23456);
	etm_fig_text(figs, "last_error", "last error", "pid 4243: gone");
	etm_figures_render_text(figs, "    ", out);
	assert_string_equal(out->str, "    backend: page_idle + pageout\n"
				      "    pids: 2 (4242,4243)\n"
				      "    cycles: 3\n"
				      "    pages scanned: 262144\n"
				      "    hot: 100\n"
				      "    cold: 262044\n"
				      "    processes gated: 0\n"
				      "    bytes swapped out: 1073332224\n"
				      "    bytes advised: 1073741824\n"
				      "    last cycle: 1.235 s\n"
				      "    last error: pid 4243: gone\n");
	assert_int_equal(etm_figures_len(figs), 11);
	assert_string_equal(etm_figures_at(figs, 7)->name, "swapped_out_bytes");
	assert_int_equal(etm_figures_at(figs, 7)->kind, ETM_FIG_COUNTER);
}

/* A memcg reclaimer's variants: unknown values, a note, no process yet. */
static void test_slide_memcg_text(void **state)
{
	g_autoptr(etm_figures) figs = etm_figures_new();
	g_autoptr(GString) out = g_string_new(NULL);
	struct etm_figure *f;

	(void)state;
	etm_fig_list(figs, "processes", "pids", NULL, 0, 0);
	etm_fig_unknown(figs, "hot_pages", ETM_FIG_GAUGE, ETM_FIG_U64, "hot", NULL);
	f = etm_fig_u64(figs, "hot_pages", ETM_FIG_GAUGE, "hot", 7);
	etm_fig_note(f, "(the LRU's active anon)");
	etm_fig_double(figs, "last_reclaim_seconds", ETM_FIG_GAUGE, "last reclaim", 0.0004);
	etm_fig_unknown(figs, "last_cycle_seconds", ETM_FIG_GAUGE, ETM_FIG_DOUBLE, "last cycle", "none yet");
	etm_figures_render_text(figs, "    ", out);
	assert_string_equal(out->str, "    pids: 0\n"
				      "    hot: n/a\n"
				      "    hot: 7 (the LRU's active anon)\n"
				      "    last reclaim: 0.000 s\n"
				      "    last cycle: none yet\n");
	assert_false(etm_figures_at(figs, 1)->known);
}

/* More processes than the list holds: the count, the first ones, then ",...". */
static void test_list_cut(void **state)
{
	uint64_t pids[ETM_FIG_LIST_MAX + 4];
	g_autoptr(etm_figures) figs = etm_figures_new();
	g_autoptr(GString) out = g_string_new(NULL);

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(pids); i++)
		pids[i] = 100 + i;
	etm_fig_list(figs, "processes", "pids", pids, G_N_ELEMENTS(pids), 40);
	etm_figures_render_text(figs, "", out);
	assert_string_equal(out->str,
			    "pids: 40 (100,101,102,103,104,105,106,107,108,109,110,111,112,113,114,115,...)\n");
	assert_int_equal(etm_figures_at(figs, 0)->list_len, ETM_FIG_LIST_MAX);
	assert_int_equal(etm_figures_at(figs, 0)->u64, 40);
}

/* psi's per-cgroup figures: items, each its own set of fields, named by the first; some left out. */
static void test_items(void **state)
{
	g_autoptr(etm_figures) figs = etm_figures_new();
	g_autoptr(GString) out = g_string_new(NULL);
	struct etm_figure *list;
	struct etm_figures *it;

	(void)state;
	etm_fig_text(figs, "backend", "backend", "cgroup2");
	list = etm_fig_items(figs, "cgroups", "cgroups", 3);
	it = etm_fig_item(list);
	etm_fig_text(it, "cgroup", "cgroup", "pods/a");
	etm_fig_double(it, "pressure", ETM_FIG_GAUGE, "pressure", 0.05);
	etm_fig_text(it, "state", "state", "reclaiming");
	it = etm_fig_item(list);
	etm_fig_text(it, "cgroup", "cgroup", "pods/b");
	etm_fig_unknown(it, "pressure", ETM_FIG_GAUGE, ETM_FIG_DOUBLE, "pressure", "unread");
	etm_fig_u64(figs, "cycles", ETM_FIG_COUNTER, "cycles", 7);
	etm_figures_render_text(figs, "    ", out);
	assert_string_equal(out->str, "    backend: cgroup2\n"
				      "    cgroups: 3 (2 shown)\n"
				      "      - cgroup: pods/a\n"
				      "        pressure: 0.05\n"
				      "        state: reclaiming\n"
				      "      - cgroup: pods/b\n"
				      "        pressure: unread\n"
				      "    cycles: 7\n");
	assert_int_equal(etm_figures_len(figs), 3);
	assert_int_equal(etm_figures_at(figs, 1)->type, ETM_FIG_ITEMS);
	assert_int_equal(etm_figures_at(figs, 1)->items->len, 2);
	assert_string_equal(etm_figures_at(etm_figures_at(figs, 1)->items->pdata[0], 0)->text, "pods/a");
}

/* Errors by kind: the total and the kinds that happened in the text; every key in JSON. */
static void test_map(void **state)
{
	static const char *const kinds[] = { "target", "scan", "swap_out" };
	const uint64_t none[] = { 0, 0, 0 }, some[] = { 1, 0, 4 };
	g_autoptr(etm_figures) figs = etm_figures_new();
	g_autoptr(GString) out = g_string_new(NULL);

	(void)state;
	etm_fig_map(figs, "errors", ETM_FIG_COUNTER, "errors", "kind", kinds, none, 3);
	etm_fig_map(figs, "errors", ETM_FIG_COUNTER, "errors", "kind", kinds, some, 3);
	etm_figures_render_text(figs, "", out);
	assert_string_equal(out->str, "errors: 0\n"
				      "errors: 5 (target 1, swap_out 4)\n");
	assert_int_equal(etm_figures_at(figs, 1)->u64, 5);
	assert_string_equal(etm_figures_at(figs, 1)->map_label, "kind");
}

/* The JSON of every type, inside a project_show document kept for the schema check. */
static void test_json(void **state)
{
	static const uint64_t pids[] = { 4242, 4243 };
	static const char *const kinds[] = { "target", "scan" };
	const uint64_t errs[] = { 2, 0 };
	g_autoptr(etm_figures) figs = etm_figures_new();
	g_autoptr(GString) out = g_string_new(NULL);
	struct etm_figures *it;
	struct etm_json j;

	(void)state;
	etm_fig_text(figs, "backend", "backend", "page_idle + pageout");
	etm_fig_list(figs, "processes", "pids", pids, 2, 3);
	etm_fig_u64(figs, "cycles", ETM_FIG_COUNTER, "cycles", 3);
	etm_fig_unknown(figs, "hot_pages", ETM_FIG_GAUGE, ETM_FIG_U64, "hot", NULL);
	etm_fig_note(etm_fig_u64(figs, "cold_pages", ETM_FIG_GAUGE, "cold", 9), "(text only)");
	etm_fig_double(figs, "last_cycle_seconds", ETM_FIG_GAUGE, "last cycle", 1.5);
	etm_fig_map(figs, "errors", ETM_FIG_COUNTER, "errors", "kind", kinds, errs, 2);
	it = etm_fig_item(etm_fig_items(figs, "cgroups", "cgroups", 2));
	etm_fig_text(it, "cgroup", "cgroup", "pods/a");
	etm_fig_double(it, "pressure", ETM_FIG_GAUGE, "pressure", 0.25);
	etm_json_begin(&j, out, "project_show");
	etm_json_key(&j, "projects");
	etm_json_begin_array(&j);
	etm_json_begin_object(&j);
	etm_json_str(&j, "name", "p");
	etm_json_str(&j, "state", "started");
	etm_json_key(&j, "engines");
	etm_json_begin_array(&j);
	etm_json_begin_object(&j);
	etm_json_str(&j, "name", "slide");
	etm_json_str(&j, "type", "slide");
	etm_json_key(&j, "tasks");
	etm_json_begin_array(&j);
	etm_json_begin_object(&j);
	etm_json_i64(&j, "number", 1);
	etm_json_str(&j, "name", "t");
	etm_json_str(&j, "type", "pid");
	etm_json_str(&j, "value", "4242");
	etm_json_str(&j, "state", "started");
	etm_json_key(&j, "figures");
	etm_json_begin_object(&j);
	etm_figures_render_json(figs, &j);
	etm_json_end_object(&j);
	etm_json_end_object(&j);
	etm_json_end_array(&j);
	etm_json_end_object(&j);
	etm_json_end_array(&j);
	etm_json_end_object(&j);
	etm_json_end_array(&j);
	etm_json_end(&j);
	etm_test_save_json_sample("figures_every_type", out->str);
	assert_non_null(strstr(out->str, "\"backend\": \"page_idle + pageout\",\n"));
	assert_non_null(strstr(out->str, "\"processes\": {\n"
					 "                  \"count\": 3,\n"
					 "                  \"values\": [\n"
					 "                    4242,\n"
					 "                    4243\n"
					 "                  ]\n"
					 "                },\n"));
	assert_non_null(strstr(out->str, "\"hot_pages\": null,\n"));
	assert_non_null(strstr(out->str, "\"cold_pages\": 9,\n"));
	assert_null(strstr(out->str, "text only"));
	assert_non_null(strstr(out->str, "\"last_cycle_seconds\": 1.5,\n"));
	assert_non_null(strstr(out->str, "\"errors\": {\n"
					 "                  \"target\": 2,\n"
					 "                  \"scan\": 0\n"
					 "                },\n"));
	assert_non_null(strstr(out->str, "\"cgroups\": {\n"
					 "                  \"count\": 2,\n"
					 "                  \"items\": [\n"
					 "                    {\n"
					 "                      \"cgroup\": \"pods/a\",\n"
					 "                      \"pressure\": 0.25\n"
					 "                    }\n"
					 "                  ]\n"
					 "                }\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slide_process_text),
		cmocka_unit_test(test_slide_memcg_text),
		cmocka_unit_test(test_list_cut),
		cmocka_unit_test(test_items),
		cmocka_unit_test(test_map),
		cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
