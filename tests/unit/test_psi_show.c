/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * What the psi engine shows, from a runtime filled by hand (no kernel, no
 * thread): project show's figures (per cgroup the pressure and its source,
 * the state, the floor and the term that set it, the rate, the bytes
 * reclaimed), and `etmem engine pressure` as text and JSON (kept for the
 * schema check), with the history ring wrapped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/engine.h"
#include "daemon/engines/psi_rt.h"
#include "daemon/figures.h"
#include "daemon/json_out.h"
#include "daemon/report.h"
#include "test_json_sample.h"

#define MiB (1024ULL * 1024)

struct fixture {
	struct psi_rt rt;
	struct psi_backend backend;
	struct engine eng;
	struct task tk;
};

static struct psi_match *match_new(uint64_t ino, const char *rel)
{
	struct psi_match *m = g_new0(struct psi_match, 1);

	m->ino = ino;
	m->rel = g_strdup(rel);
	return m;
}

static void match_free(gpointer p)
{
	struct psi_match *m = p;

	g_free(m->rel);
	g_free(m);
}

/* Two cgroups: pods/a with 70 cycles (the ring of 64 wrapped), pods/b never read. */
static void fixture_fill(struct fixture *f)
{
	g_autoptr(GPtrArray) matches = g_ptr_array_new_with_free_func(match_free);
	GPtrArray *list;
	struct psi_cg *a;

	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->rt.lock, NULL);
	f->rt.name = "t";
	f->rt.cg_dir = "pods/*";
	f->rt.policy = (struct psi_policy){
		.pressure = 0.5, .rate_init = 0.05, .rate_min = 0.01, .rate_max = 0.5, .reclaim_max_bytes = 1ULL << 30
	};
	snprintf(f->backend.mem.mnt, sizeof(f->backend.mem.mnt), "/sys/fs/cgroup/memory");
	f->rt.backend = &f->backend;
	f->rt.backend_desc = "cgroup1-limit (memory /sys/fs/cgroup/memory)";
	f->rt.set = psi_cgset_new(&f->rt.policy);
	g_ptr_array_add(matches, match_new(11, "pods/a"));
	g_ptr_array_add(matches, match_new(12, "pods/b"));
	psi_cgset_update(f->rt.set, matches, NULL, NULL);
	list = psi_cgset_list(f->rt.set);
	assert_int_equal(list->len, 2);
	a = list->pdata[0];
	assert_string_equal(a->rel, "pods/a");
	for (uint64_t n = 1; n <= 70; n++) {
		struct psi_sample s = { .cycle = n,
					.pressure = n == 70 ? 0.25 : 0,
					.usage = 1024 * MiB - n * MiB,
					.reclaimed = n % 2 ? MiB : 0,
					.rate = 0.05,
					.state = n % 2 ? PSI_STATE_RECLAIMING : PSI_STATE_BACKING_OFF };

		psi_cg_record(a, &s);
		f->rt.reclaimed_total += s.reclaimed;
	}
	a->last.known = true;
	a->last.src = PSI_SRC_TWIN;
	a->last.r.pressure = 0.25;
	a->last.r.usage = 954 * MiB;
	a->last.d.state = PSI_STATE_BACKING_OFF;
	a->last.d.floor.bytes = 200 * MiB;
	a->last.d.floor.by = PSI_FLOOR_LIMIT_MIN_BYTES;
	a->last.d.hot_hint = 180 * MiB;
	a->last.d.approach = 0.5;
	f->rt.cycles = 70;
	f->rt.last_cycle_s = 0.5;
	f->tk.name = "t";
	f->tk.timer_inst = &f->rt;
	f->eng.tasks = &f->tk;
}

static void fixture_clear(struct fixture *f)
{
	psi_cgset_free(f->rt.set);
	pthread_mutex_destroy(&f->rt.lock);
}

static void test_figures(void **state)
{
	struct fixture f;
	g_autoptr(etm_figures) figs = etm_figures_new();
	g_autoptr(GString) out = g_string_new(NULL);

	(void)state;
	fixture_fill(&f);
	psi_task_figures(&f.eng, &f.tk, figs);
	etm_figures_render_text(figs, "    ", out);
	assert_string_equal(out->str, "    backend: cgroup1-limit (memory /sys/fs/cgroup/memory)\n"
				      "    cycles: 70\n"
				      "    bytes reclaimed: 36700160\n"
				      "    last cycle: 0.500 s\n"
				      "    cgroups: 2\n"
				      "      - cgroup: pods/a\n"
				      "        pressure: 0.25\n"
				      "        pressure from: cgroup2 twin\n"
				      "        usage: 1000341504\n"
				      "        state: backing off\n"
				      "        floor: 209715200\n"
				      "        floor set by: limit_min_bytes\n"
				      "        hot hint (largest active LRU): 188743680\n"
				      "        approach (share of the rate): 0.5\n"
				      "        rate: 0.05\n"
				      "        bytes reclaimed: 36700160\n"
				      "        bytes reclaimed last cycle: 0\n"
				      "      - cgroup: pods/b\n"
				      "        pressure: not read yet\n"
				      "        rate: 0.05\n"
				      "        bytes reclaimed: 0\n"
				      "        bytes reclaimed last cycle: 0\n");
	/* JSON: the cgroups as items, kept for the schema check */
	{
		g_autoptr(GString) doc = g_string_new(NULL);
		struct etm_json j;

		etm_json_begin(&j, doc, "project_show");
		etm_json_key(&j, "projects");
		etm_json_begin_array(&j);
		etm_json_begin_object(&j);
		etm_json_str(&j, "name", "p");
		etm_json_str(&j, "state", "started");
		etm_json_key(&j, "engines");
		etm_json_begin_array(&j);
		etm_json_begin_object(&j);
		etm_json_str(&j, "name", "psi");
		etm_json_str(&j, "type", "psi");
		etm_json_key(&j, "tasks");
		etm_json_begin_array(&j);
		etm_json_begin_object(&j);
		etm_json_i64(&j, "number", 1);
		etm_json_str(&j, "name", "t");
		etm_json_str(&j, "type", NULL);
		etm_json_str(&j, "value", NULL);
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
		etm_test_save_json_sample("psi_project_show", doc->str);
		assert_non_null(strstr(doc->str, "\"pressure_percent\": 0.25,"));
		assert_non_null(strstr(doc->str, "\"pressure_percent\": null,"));
		assert_non_null(strstr(doc->str, "\"floor_term\": \"limit_min_bytes\","));
		assert_non_null(strstr(doc->str, "\"hot_hint_bytes\": 188743680,"));
		assert_non_null(strstr(doc->str, "\"approach\": 0.5,"));
	}
	/* A task not running shows nothing. */
	f.tk.timer_inst = NULL;
	{
		g_autoptr(etm_figures) none = etm_figures_new();

		psi_task_figures(&f.eng, &f.tk, none);
		assert_int_equal(etm_figures_len(none), 0);
	}
	fixture_clear(&f);
}

static const struct etm_engine_cmd *pressure_cmd(void)
{
	for (const struct etm_engine_cmd *c = psi_cmds; c->name; c++)
		if (!strcmp(c->name, "pressure"))
			return c;
	fail_msg("psi has no pressure command");
	return NULL;
}

static void test_pressure_text(void **state)
{
	struct fixture f;
	g_autoptr(etm_report) rep = etm_report_new();
	g_autoptr(GString) out = g_string_new(NULL), err = g_string_new(NULL);
	const struct etm_engine_cmd *c = pressure_cmd();
	gchar **lines;

	(void)state;
	fixture_fill(&f);
	assert_false(c->needs_task);
	assert_int_equal(c->run(&f.eng, NULL, rep, err), 0);
	etm_report_render_text(rep, out);
	lines = g_strsplit(out->str, "\n", -1);
	assert_string_equal(lines[0], "task t: cg_dir pods/* below /sys/fs/cgroup/memory, 2 cgroups, target pressure "
				      "below 0.5, 70 cycles");
	assert_string_equal(lines[1], "psi: the last cycles of each cgroup (pressure: some avg10/avg60, %):");
	assert_string_equal(lines[2],
			    "task     cgroup            cycle pressure        usage    reclaimed   rate state       "
			    "pressure from");
	/* The ring kept the last 64 of 70: cycle 7 first, 70 last; pods/b has none. */
	assert_non_null(strstr(out->str, "t        pods/a                7     0.00"));
	assert_null(strstr(out->str, "pods/a                6 "));
	assert_non_null(strstr(
	    out->str,
	    "t        pods/a               70     0.25   1000341504            0  0.050 backing off cgroup2 twin\n"));
	assert_null(strstr(out->str, "pods/b"));
	g_strfreev(lines);
	/* -t of a task that is not running: nothing to show yet */
	f.tk.timer_inst = NULL;
	g_string_truncate(err, 0);
	{
		g_autoptr(etm_report) none = etm_report_new();

		assert_int_equal(c->run(&f.eng, &f.tk, none, err), -EAGAIN);
		assert_string_equal(err->str, "no psi task of this engine is running");
	}
	fixture_clear(&f);
}

static void test_pressure_json(void **state)
{
	struct fixture f;
	g_autoptr(etm_report) rep = etm_report_new();
	g_autoptr(GString) out = g_string_new(NULL), err = g_string_new(NULL);
	struct etm_json j;

	(void)state;
	fixture_fill(&f);
	assert_int_equal(pressure_cmd()->run(&f.eng, &f.tk, rep, err), 0);
	etm_json_begin(&j, out, "engine_command");
	etm_json_str(&j, "project", "p");
	etm_json_str(&j, "engine", "psi");
	etm_json_str(&j, "task", "t");
	etm_json_str(&j, "command", "pressure");
	etm_report_render_json(rep, &j);
	etm_json_end(&j);
	etm_test_save_json_sample("psi_pressure", out->str);
	assert_non_null(strstr(out->str, "\"name\": \"pressure\""));
	assert_non_null(strstr(out->str, "\"cycle\": 70,\n"
					 "          \"pressure_percent\": 0.25,\n"
					 "          \"usage_bytes\": 1000341504,\n"
					 "          \"reclaimed_bytes\": 0,\n"
					 "          \"rate\": 0.05,\n"
					 "          \"state\": \"backing off\",\n"
					 "          \"pressure_source\": \"cgroup2 twin\"\n"));
	fixture_clear(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_figures),
		cmocka_unit_test(test_pressure_text),
		cmocka_unit_test(test_pressure_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
