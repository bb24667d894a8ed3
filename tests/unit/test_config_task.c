/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Configuration, [task] and engine keys: the generic task keys, slide's T,
 * swap_threshold, access_tracker, dram_percent and PMU keys, cslide's engine
 * and task keys, psi's task keys — each at and just past its bounds.
 */
#include <limits.h>
#include <stdlib.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "daemon/engines/cslide.h"
#include "daemon/engines/psi.h"
#include "test_config_util.h"

static const struct etm_engine_type *const SLIDE = &etm_slide_engine;

/* ---------------------------------------------------------- generic keys */

static void test_task_ok(void **state)
{
	struct parsed p;
	struct slide_params *sp;

	(void)state;
	parse_text(BASE_SLIDE, NULL, &p);
	assert_int_equal(p.rc, 0);
	assert_string_equal(p.tk->pub.name, "t");
	assert_string_equal(p.tk->pub.type, "pid");
	assert_string_equal(p.tk->pub.value, "34567");
	assert_int_equal(p.tk->pub.max_threads, 1);
	assert_int_equal(p.tk->pub.swap_flag, 0);
	assert_ptr_equal(p.tk->pub.eng, &p.eng->pub);
	sp = p.tk->pub.params;
	assert_non_null(sp);
	assert_int_equal(sp->t, 3);
	assert_int_equal(sp->swap_threshold, 0);
	assert_int_equal(sp->dram_percent, 0);
	assert_int_equal(sp->tracker, SLIDE_TRACKER_AUTO);
	assert_false(sp->pmu.enabled);
	parsed_clear(&p);
}

static void test_task_ids(void **state)
{
	GString *err = g_string_new(NULL);
	struct etm_conf *conf = NULL;
	struct etm_task_spec *ids = NULL;

	(void)state;
	assert_int_equal(etm_conf_load_data(TEST_CONF_NAME, BASE_SLIDE, strlen(BASE_SLIDE), &conf, err), 0);
	assert_int_equal(etm_conf_parse_task(conf, ETM_SPEC_IDS, &ids), 0);
	assert_string_equal(ids->project, "p");
	assert_string_equal(ids->engine, "slide");
	assert_string_equal(ids->name, "t");
	etm_task_spec_free(ids);
	etm_conf_free(conf);
	g_string_free(err, TRUE);

	EDIT_ERR(BASE_SLIDE, NULL, "task/project", "[task] project: missing (required)");
	EDIT_ERR(BASE_SLIDE, NULL, "task/engine", "[task] engine: missing (required)");
	EDIT_ERR(BASE_SLIDE, NULL, "task/name", "[task] name: missing (required)");
	EDIT_ERR(BASE_SLIDE, NULL, "task/project=q", "[task] project=q: does not match the engine's project p");
	EDIT_ERR(BASE_SLIDE, NULL, "task/engine=cslide", "[task] engine=cslide: does not match the engine slide");
	{
		char n[80];

		snprintf(n, sizeof(n), "task/name=%064d", 7);
		EDIT_OK(BASE_SLIDE, NULL, n);
		snprintf(n, sizeof(n), "task/name=%065d", 7);
		EDIT_ERR(BASE_SLIDE, NULL, n, "[task] name=0000", "too long (65 bytes), must be 1..64");
	}
}

static void test_task_target(void **state)
{
	(void)state;
	EDIT_OK(BASE_SLIDE, NULL, "task/value=4194304");
	EDIT_ERR(BASE_SLIDE, NULL, "task/value=4194305", "[task] value=4194305: not a valid pid, must be 1..4194304");
	EDIT_ERR(BASE_SLIDE, NULL, "task/value=0", "[task] value=0: not a valid pid");
	/* pid 1's descendants are every process: refused for every engine. */
	EDIT_ERR(BASE_SLIDE, NULL, "task/value=1", "[task] value=1: pid 1 is init");
	EDIT_ERR(BASE_CSLIDE_TASK, &etm_cslide_engine, "task/value=1", "[task] value=1: pid 1 is init");
	EDIT_OK(BASE_SLIDE, NULL, "task/value=2"); /* a kernel thread: the daemon refuses it, not the parser */
	EDIT_ERR(BASE_SLIDE, NULL, "task/value=-1", "[task] value=-1: not a valid pid");
	EDIT_ERR(BASE_SLIDE, NULL, "task/value=12a", "[task] value=12a: not a valid pid");
	EDIT_ERR(BASE_SLIDE, NULL, "task/value=", "[task] value=: empty");
	EDIT_ERR(BASE_SLIDE, NULL, "task/value", "[task] value: missing (required for engine slide)");
	EDIT_ERR(BASE_SLIDE, NULL, "task/type", "[task] type: missing (required for engine slide)");
	EDIT_ERR(BASE_SLIDE, NULL, "task/type=comm", "[task] type=comm: must be pid or name");
	{
		char *t = conf_edit(BASE_SLIDE, "task/type=name", "task/value=mysql", NULL);

		EXPECT_OK(t, NULL);
		g_free(t);
		t = conf_edit(BASE_SLIDE, "task/type=name", "task/value=abcdefghijklmno", NULL);
		EXPECT_OK(t, NULL);
		g_free(t);
		t = conf_edit(BASE_SLIDE, "task/type=name", "task/value=a.b/c%d_e-f", NULL);
		EXPECT_OK(t, NULL);
		g_free(t);
		t = conf_edit(BASE_SLIDE, "task/type=name", "task/value=abcdefghijklmnop", NULL);
		EXPECT_ERR(t, NULL,
			   "[task] value=abcdefghijklmnop: not a valid process name, must be 1..15 characters");
		g_free(t);
		t = conf_edit(BASE_SLIDE, "task/type=name", "task/value=my app", NULL);
		EXPECT_ERR(t, NULL, "[task] value=my app: not a valid process name");
		g_free(t);
		t = conf_edit(BASE_SLIDE, "task/type=name", "task/value=a;b", NULL);
		EXPECT_ERR(t, NULL, "not a valid process name");
		g_free(t);
	}
}

static void test_task_max_threads_swap_flag(void **state)
{
	long n = get_nprocs();
	char ok[64], bad[64], msg[96];
	struct parsed p;

	(void)state;
	snprintf(ok, sizeof(ok), "task/max_threads=%ld", 2 * n + 1);
	snprintf(bad, sizeof(bad), "task/max_threads=%ld", 2 * n + 2);
	snprintf(msg, sizeof(msg), "[task] max_threads=%ld: out of range, must be 1..%ld", 2 * n + 2, 2 * n + 1);
	parse_edit(BASE_SLIDE, NULL, ok, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.tk->pub.max_threads, 2 * n + 1);
	parsed_clear(&p);
	EDIT_OK(BASE_SLIDE, NULL, "task/max_threads=1");
	EDIT_ERR(BASE_SLIDE, NULL, bad, msg);
	EDIT_ERR(BASE_SLIDE, NULL, "task/max_threads=0", "[task] max_threads=0: out of range, must be 1..");
	EDIT_ERR(BASE_SLIDE, NULL, "task/max_threads=two", "[task] max_threads=two: not an integer");

	parse_edit(BASE_SLIDE, NULL, "task/swap_flag=yes", &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.tk->pub.swap_flag, 1);
	parsed_clear(&p);
	parse_edit(BASE_SLIDE, NULL, "task/swap_flag=no", &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.tk->pub.swap_flag, 0);
	parsed_clear(&p);
	EDIT_ERR(BASE_SLIDE, NULL, "task/swap_flag=true", "[task] swap_flag=true: must be yes or no");
}

/* ------------------------------------------------------------ slide keys */

static struct slide_params *slide_of(struct parsed *p)
{
	assert_int_equal(p->rc, 0);
	return p->tk->pub.params;
}

static void test_slide_T(void **state)
{
	struct parsed p;

	(void)state;
	/* loop=3 in the base: T is 0..9. */
	parse_edit(BASE_SLIDE, NULL, "task/T=0", &p);
	assert_int_equal(slide_of(&p)->t, 0);
	parsed_clear(&p);
	parse_edit(BASE_SLIDE, NULL, "task/T=9", &p);
	assert_int_equal(slide_of(&p)->t, 9);
	parsed_clear(&p);
	EDIT_ERR(BASE_SLIDE, NULL, "task/T=10", "[task] T=10: out of range, must be 0..9");
	EDIT_ERR(BASE_SLIDE, NULL, "task/T=-1", "[task] T=-1: out of range, must be 0..9");
	EDIT_ERR(BASE_SLIDE, NULL, "task/T=hot", "[task] T=hot: not an integer, must be 0..9");
	EDIT_ERR(BASE_SLIDE, NULL, "task/T",
		 "config " TEST_CONF_NAME ": [task] T: missing (required for engine slide)");
	{
		char *t = conf_edit(BASE_SLIDE, "project/loop=120", "task/T=360", NULL);

		EXPECT_OK(t, NULL);
		g_free(t);
		t = conf_edit(BASE_SLIDE, "project/loop=120", "task/T=361", NULL);
		EXPECT_ERR(t, NULL, "[task] T=361: out of range, must be 0..360");
		g_free(t);
	}
}

static void test_slide_swap_threshold(void **state)
{
	static const char *const bad[] = { "0g",   "10",   "10m",      "g",	    "-1g", "1.5g", "10 g",
					   "10gg", "010g", "1048577g", "99999999g", "+1g", "G" };
	struct parsed p;

	(void)state;
	parse_edit(BASE_SLIDE, NULL, "task/swap_threshold=10g", &p);
	assert_int_equal(slide_of(&p)->swap_threshold, 10ULL << 30);
	parsed_clear(&p);
	parse_edit(BASE_SLIDE, NULL, "task/swap_threshold=1G", &p);
	assert_int_equal(slide_of(&p)->swap_threshold, 1ULL << 30);
	parsed_clear(&p);
	parse_edit(BASE_SLIDE, NULL, "task/swap_threshold=1048576g", &p);
	assert_int_equal(slide_of(&p)->swap_threshold, 1048576ULL << 30);
	parsed_clear(&p);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char e[64], m[96];

		snprintf(e, sizeof(e), "task/swap_threshold=%s", bad[i]);
		snprintf(m, sizeof(m), "[task] swap_threshold=%s: must be 1..1048576 followed by g or G", bad[i]);
		EDIT_ERR(BASE_SLIDE, NULL, e, m);
	}
}

static void test_slide_tracker_dram(void **state)
{
	static const char *const names[] = { "auto",	    "idle_pages",  "page_idle",
					     "damon_vaddr", "damon_paddr", "memcg_lru" };
	struct parsed p;

	(void)state;
	for (size_t i = 0; i < 5; i++) {
		char e[64];

		snprintf(e, sizeof(e), "task/access_tracker=%s", names[i]);
		parse_edit(BASE_SLIDE, NULL, e, &p);
		assert_int_equal(slide_of(&p)->tracker, (int)i);
		assert_string_equal(slide_tracker_name(slide_of(&p)->tracker), names[i]);
		parsed_clear(&p);
	}
	EDIT_ERR(BASE_SLIDE, NULL, "task/access_tracker=damon",
		 "[task] access_tracker=damon: must be auto, idle_pages, page_idle, damon_vaddr, damon_paddr, "
		 "memcg_lru or pmu");
	/* memcg_shared: no by default. */
	parse_edit(BASE_SLIDE, NULL, "task/access_tracker=memcg_lru", &p);
	assert_false(slide_of(&p)->memcg_shared);
	parsed_clear(&p);
	parse_edit(BASE_SLIDE, NULL, "task/memcg_shared=yes", &p);
	assert_true(slide_of(&p)->memcg_shared);
	parsed_clear(&p);
	EDIT_ERR(BASE_SLIDE, NULL, "task/memcg_shared=1", "[task] memcg_shared=1: must be yes or no");

	parse_edit(BASE_SLIDE, NULL, "task/dram_percent=1", &p);
	assert_int_equal(slide_of(&p)->dram_percent, 1);
	parsed_clear(&p);
	parse_edit(BASE_SLIDE, NULL, "task/dram_percent=100", &p);
	assert_int_equal(slide_of(&p)->dram_percent, 100);
	parsed_clear(&p);
	EDIT_ERR(BASE_SLIDE, NULL, "task/dram_percent=0", "[task] dram_percent=0: out of range, must be 1..100");
	EDIT_ERR(BASE_SLIDE, NULL, "task/dram_percent=101", "[task] dram_percent=101: out of range, must be 1..100");
	EDIT_ERR(BASE_SLIDE, NULL, "task/dram_percent=50%", "[task] dram_percent=50%: not an integer");
}

/* @base with the PMU keys set (one may be replaced or dropped by @edit). */
static char *with_pmu(const char *base, const char *group, bool cooling, const char *edit)
{
	char k1[64], k2[64], k3[64], k4[64];
	char *t, *t2;

	snprintf(k1, sizeof(k1), "%s/sample_period=5000", group);
	snprintf(k2, sizeof(k2), "%s/vma_updata_rate=5", group);
	snprintf(k3, sizeof(k3), "%s/cpu_set_size=1", group);
	snprintf(k4, sizeof(k4), "%s/cooling_interval=100000", group);
	t = conf_edit(base, k1, k2, k3, cooling ? k4 : NULL, NULL);
	t2 = conf_edit(t, edit, NULL);
	g_free(t);
	return t2;
}

static void test_slide_pmu(void **state)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct parsed p;
	char e[64], m[128];
	char *t;

	(void)state;
	t = with_pmu(BASE_SLIDE, "task", false, NULL);
	parse_text(t, NULL, &p);
	assert_true(slide_of(&p)->pmu.enabled);
	assert_int_equal(slide_of(&p)->pmu.sample_period, 5000);
	assert_int_equal(slide_of(&p)->pmu.vma_updata_rate, 5);
	assert_int_equal(slide_of(&p)->pmu.cpu_set_size, 1);
	parsed_clear(&p);
	g_free(t);

	static const struct {
		const char *edit;
		const char *msg;
	} cases[] = {
		{ "task/sample_period=1", NULL },
		{ "task/sample_period=2147483647", NULL },
		{ "task/sample_period=0", "[task] sample_period=0: out of range, must be 1..2147483647" },
		{ "task/sample_period=2147483648", "[task] sample_period=2147483648: out of range" },
		{ "task/sample_period=5k", "[task] sample_period=5k: not an integer" },
		{ "task/vma_updata_rate=0", NULL },
		{ "task/vma_updata_rate=2147483647", NULL },
		{ "task/vma_updata_rate=-1", "[task] vma_updata_rate=-1: out of range, must be 0..2147483647" },
		{ "task/vma_updata_rate=2147483648", "[task] vma_updata_rate=2147483648: out of range" },
		{ "task/cpu_set_size=0", "[task] cpu_set_size=0: out of range, must be 1.." },
		{ "task/sample_period",
		  "[task] sample_period: missing (required by engine slide when vma_updata_rate" },
		{ "task/vma_updata_rate",
		  "[task] vma_updata_rate: missing (required by engine slide when sample_period" },
		{ "task/cpu_set_size", "[task] cpu_set_size: missing (required by engine slide when sample_period" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t = with_pmu(BASE_SLIDE, "task", false, cases[i].edit);
		if (cases[i].msg)
			EXPECT_ERR(t, NULL, cases[i].msg);
		else
			EXPECT_OK(t, NULL);
		g_free(t);
	}
	/*
	 * Any cpu_set_size from 1: every CPU is read whatever it divides, so the
	 * spec's example (16) loads on any machine (docs/compat.md).
	 */
	for (long v = ncpu; v <= ncpu + 1; v++) {
		snprintf(e, sizeof(e), "task/cpu_set_size=%ld", v);
		t = with_pmu(BASE_SLIDE, "task", false, e);
		EXPECT_OK(t, NULL);
		g_free(t);
	}
	t = with_pmu(BASE_SLIDE, "task", false, "task/cpu_set_size=16");
	EXPECT_OK(t, NULL);
	g_free(t);
	(void)m;
}

/* pmu_event: optional with the PMU keys, well formed; whether it works here is the start's business. */
static void test_slide_pmu_event(void **state)
{
	struct parsed p;
	char *t;

	(void)state;
	t = with_pmu(BASE_SLIDE, "task", false, "task/pmu_event=page-faults");
	parse_text(t, NULL, &p);
	assert_true(slide_of(&p)->pmu.enabled);
	assert_string_equal(slide_of(&p)->pmu.event, "page-faults");
	parsed_clear(&p);
	g_free(t);
	static const struct {
		const char *edit;
		const char *msg;
	} cases[] = {
		{ "task/pmu_event=MEM_INST_RETIRED.ALL_LOADS,MEM_INST_RETIRED.ALL_STORES", NULL },
		{ "task/pmu_event=NO_SUCH_EVENT", NULL }, /* refused at start, naming it */
		{ "task/pmu_event=a,b,c", "[task] pmu_event=a,b,c: must be one event, or two joined by a comma" },
		{ "task/pmu_event=,a", "[task] pmu_event=,a: must be one event" },
		{ "task/pmu_event=a,", "[task] pmu_event=a,: must be one event" },
		{ "task/pmu_event=", "[task] pmu_event" },
		{ "task/access_tracker=pmu", NULL },
		{ "task/access_tracker=auto", NULL },
		{ "task/access_tracker=page_idle",
		  "[task] access_tracker=page_idle: must be auto or pmu with the PMU keys" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t = with_pmu(BASE_SLIDE, "task", false, cases[i].edit);
		if (cases[i].msg)
			EXPECT_ERR(t, NULL, cases[i].msg);
		else
			EXPECT_OK(t, NULL);
		g_free(t);
	}
	/* Without the other PMU keys: pmu_event alone, or the pmu tracker, are refused. */
	EDIT_ERR(BASE_SLIDE, NULL, "task/pmu_event=page-faults",
		 "[task] sample_period: missing (required by engine slide when pmu_event is set");
	EDIT_ERR(BASE_SLIDE, NULL, "task/access_tracker=pmu",
		 "[task] access_tracker=pmu: needs the PMU keys sample_period, vma_updata_rate and cpu_set_size");
}

/* ----------------------------------------------------------------- cslide */

static void test_cslide_node_pair_syntax(void **state)
{
	static const struct {
		const char *s;
		size_t n;
		const char *why;
	} cases[] = {
		{ "2,0;3,1", 2, NULL },
		{ " 2 , 0 ; 3 , 1 ", 2, NULL },
		{ "1,0", 1, NULL },
		{ "1023,0", 1, NULL },
		{ "1024,0", 0, "node 1024 out of range, must be 0..1023" },
		{ "0,0", 0, "pair 0,0: hot and cold node must differ" },
		{ "1,0;0,2", 0, "node 0 used in more than one pair" },
		{ "1,0;2,1", 0, "node 1 used in more than one pair" },
		{ "1,0;", 0, "pair \"\" is not hot,cold" },
		{ ";1,0", 0, "is not hot,cold" },
		{ "1", 0, "pair \"1\" is not hot,cold" },
		{ "1,", 0, "\"\" is not a node number" },
		{ ",1", 0, "is not a node number" },
		{ "1,2,3", 0, "\"2,3\" is not a node number" },
		{ "-1,0", 0, "\"-1\" is not a node number" },
		{ "a,b", 0, "\"a\" is not a node number" },
		{ "1 2,0", 0, "is not a node number" },
		{ "", 0, "empty" },
		{ "00001,0", 0, "not a node number" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cslide_node_pair *pairs = NULL;
		size_t n = 99;
		char why[160] = "";
		int rc = cslide_parse_node_pairs(cases[i].s, &pairs, &n, why, sizeof(why));

		if (cases[i].why) {
			if (rc != -EINVAL || !strstr(why, cases[i].why) || pairs || n)
				fail_msg("\"%s\": rc %d why \"%s\"", cases[i].s, rc, why);
		} else if (rc || n != cases[i].n) {
			fail_msg("\"%s\": rc %d n %zu why \"%s\"", cases[i].s, rc, n, why);
		}
		g_free(pairs);
	}
	{
		struct cslide_node_pair *pairs = NULL;
		size_t n;
		char why[64];

		assert_int_equal(cslide_parse_node_pairs("2,0;3,1", &pairs, &n, why, sizeof(why)), 0);
		assert_int_equal(pairs[0].hot_node, 2);
		assert_int_equal(pairs[0].cold_node, 0);
		assert_int_equal(pairs[1].hot_node, 3);
		assert_int_equal(pairs[1].cold_node, 1);
		g_free(pairs);
	}
}

/* Pretend machines: nodes 0..3 with memory, 0-1 DRAM and 2-3 a slower tier; and one with node 0 only. */
static struct etm_numa_node four_nodes_n[4] = {
	{ .id = 0, .has_cpu = true, .tier = 4 },
	{ .id = 1, .has_cpu = true, .tier = 4 },
	{ .id = 2, .tier = 168 },
	{ .id = 3, .tier = 168 },
};
static struct etm_numa_topo four_nodes = { .n = 4, .node = four_nodes_n, .max_id = 3, .tiers_known = true };
static struct etm_numa_topo one_node = { .n = 1, .node = four_nodes_n, .max_id = 0, .tiers_known = true };
static const struct etm_numa_topo *machine = &four_nodes;

static const char BASE_CSLIDE_ENG[] = "[project]\nname=p\nloop=3\ninterval=5\nsleep=1\n"
				      "[engine]\nname=cslide\nproject=p\nnode_pair=2,0;3,1\nhot_threshold=1\n"
				      "node_mig_quota=1024\nnode_hot_reserve=1024\n";

/* Run cslide's engine parser on @text against the pretend machine. */
static int cslide_eng(const char *text, GString *err, struct cslide_eng_params *out)
{
	struct etm_conf *conf = NULL;
	void *params = NULL;
	int rc;

	assert_int_equal(etm_conf_load_data(TEST_CONF_NAME, text, strlen(text), &conf, err), 0);
	rc = cslide_parse_engine_with(conf, machine, &params);
	assert_true((rc == 0) == (params != NULL));
	if (rc == 0 && out) {
		struct cslide_eng_params *ep = params;

		*out = *ep;
		out->pairs = g_memdup2(ep->pairs, ep->n_pairs * sizeof(*ep->pairs));
	}
	etm_keys_free(&cslide_engine_keys, params);
	etm_conf_free(conf);
	return rc;
}

static void cslide_eng_expect(const char *edit, const char *msg, int line)
{
	char *t = conf_edit(BASE_CSLIDE_ENG, edit, NULL);
	GString *err = g_string_new(NULL);
	int rc = cslide_eng(t, err, NULL);

	if (msg ? (rc == 0 || !strstr(err->str, msg)) : rc != 0) {
		print_error("%s: rc %d \"%s\" (want \"%s\")\n", edit, rc, err->str, msg ? msg : "ok");
		g_free(t);
		g_string_free(err, TRUE);
		_fail(__FILE__, line);
	}
	g_free(t);
	g_string_free(err, TRUE);
}

static void test_cslide_engine_keys(void **state)
{
	GString *err = g_string_new(NULL);
	struct cslide_eng_params ep;

	(void)state;
	assert_int_equal(cslide_eng(BASE_CSLIDE_ENG, err, &ep), 0);
	assert_int_equal(ep.n_pairs, 2);
	assert_int_equal(ep.pairs[1].hot_node, 3);
	assert_int_equal(ep.hot_threshold, 1);
	assert_int_equal(ep.node_mig_quota, 1024);
	assert_int_equal(ep.node_hot_reserve, 1024);
	assert_false(ep.pmu.enabled);
	g_free(ep.pairs);
	g_string_free(err, TRUE);

	static const char *const ints[] = { "hot_threshold", "node_mig_quota", "node_hot_reserve" };
	for (size_t i = 0; i < 3; i++) {
		char e[64], m[128];

		snprintf(e, sizeof(e), "engine/%s=0", ints[i]);
		cslide_eng_expect(e, NULL, __LINE__);
		snprintf(e, sizeof(e), "engine/%s=2147483647", ints[i]);
		cslide_eng_expect(e, NULL, __LINE__);
		snprintf(e, sizeof(e), "engine/%s=-1", ints[i]);
		snprintf(m, sizeof(m), "[engine] %s=-1: out of range, must be 0..2147483647", ints[i]);
		cslide_eng_expect(e, m, __LINE__);
		snprintf(e, sizeof(e), "engine/%s=2147483648", ints[i]);
		snprintf(m, sizeof(m), "[engine] %s=2147483648: out of range, must be 0..2147483647", ints[i]);
		cslide_eng_expect(e, m, __LINE__);
		snprintf(e, sizeof(e), "engine/%s=1M", ints[i]);
		snprintf(m, sizeof(m), "[engine] %s=1M: not an integer", ints[i]);
		cslide_eng_expect(e, m, __LINE__);
		snprintf(e, sizeof(e), "engine/%s", ints[i]);
		snprintf(m, sizeof(m), "[engine] %s: missing (required for engine cslide)", ints[i]);
		cslide_eng_expect(e, m, __LINE__);
	}
	/* Without node_pair, the kernel's tiers pair the nodes: 0 and 1 with the nearest slow node. */
	cslide_eng_expect("engine/node_pair", NULL, __LINE__);
	cslide_eng_expect("engine/node_pair=2,0;3,0", "[engine] node_pair=2,0;3,0: node 0 used in more than one pair",
			  __LINE__);
	cslide_eng_expect("engine/node_pair=4,0", "[engine] node_pair=4,0: NUMA node 4 is not present on this machine",
			  __LINE__);
	cslide_eng_expect("engine/node_pair=1,0", NULL, __LINE__);
	cslide_eng_expect("engine/node_pair=2,4", "(nodes with memory: 0,1,2,3)", __LINE__);

	/* No tiers: node_pair is needed. */
	four_nodes.tiers_known = false;
	cslide_eng_expect("engine/node_pair", "[engine] node_pair: missing, and the kernel describes no memory tiers",
			  __LINE__);
	cslide_eng_expect("engine/node_pair=2,0", NULL, __LINE__);
	/* Every node in one tier: nothing to pair by. */
	four_nodes.tiers_known = true;
	for (int i = 0; i < 4; i++)
		four_nodes_n[i].tier = 4;
	cslide_eng_expect("engine/node_pair", "every memory node is in one memory tier", __LINE__);
	four_nodes_n[2].tier = four_nodes_n[3].tier = 168;

	/* One node: the error names what is missing, with or without node_pair. */
	machine = &one_node;
	cslide_eng_expect(
	    "engine/node_pair",
	    "[engine] node_pair: cslide needs a second NUMA node with memory (a slow tier such as PMEM or "
	    "CXL): this machine has only node 0",
	    __LINE__);
	cslide_eng_expect("engine/node_pair=1,0", "[engine] node_pair=1,0: cslide needs a second NUMA node", __LINE__);
	cslide_eng_expect("engine/node_pair=0,0", "hot and cold node must differ", __LINE__);
	machine = &four_nodes;
}

static void test_cslide_engine_pmu(void **state)
{
	GString *err = g_string_new(NULL);
	struct cslide_eng_params ep;
	char *t;

	(void)state;
	t = with_pmu(BASE_CSLIDE_ENG, "engine", true, NULL);
	assert_int_equal(cslide_eng(t, err, &ep), 0);
	assert_true(ep.pmu.enabled);
	assert_int_equal(ep.pmu.cooling_interval, 100000);
	g_free(ep.pairs);
	g_free(t);
	t = with_pmu(BASE_CSLIDE_ENG, "engine", true, "engine/cooling_interval");
	assert_int_equal(cslide_eng(t, err, NULL), -EINVAL);
	assert_non_null(strstr(err->str, "[engine] cooling_interval: missing (required by engine cslide when "
					 "sample_period is set"));
	g_free(t);
	g_string_truncate(err, 0);
	t = with_pmu(BASE_CSLIDE_ENG, "engine", true, "engine/cooling_interval=0");
	assert_int_equal(cslide_eng(t, err, NULL), -EINVAL);
	assert_non_null(strstr(err->str, "[engine] cooling_interval=0: out of range, must be 1..2147483647"));
	g_free(t);
	g_string_truncate(err, 0);
	t = with_pmu(BASE_CSLIDE_ENG, "engine", true, "engine/cooling_interval=2147483647");
	assert_int_equal(cslide_eng(t, err, NULL), 0);
	g_free(t);
	t = with_pmu(BASE_CSLIDE_ENG, "engine", true, "engine/sample_period");
	assert_int_equal(cslide_eng(t, err, NULL), -EINVAL);
	assert_non_null(strstr(err->str, "[engine] sample_period: missing (required by engine cslide"));
	g_free(t);
	/* pmu_event in [engine] too, with the other four */
	t = with_pmu(BASE_CSLIDE_ENG, "engine", true, "engine/pmu_event=page-faults");
	assert_int_equal(cslide_eng(t, err, NULL), 0);
	g_free(t);
	g_string_truncate(err, 0);
	t = conf_edit(BASE_CSLIDE_ENG, "engine/pmu_event=page-faults", NULL);
	assert_int_equal(cslide_eng(t, err, NULL), -EINVAL);
	assert_non_null(strstr(err->str, "[engine] sample_period: missing (required by engine cslide when pmu_event"));
	g_free(t);
	g_string_free(err, TRUE);
}

/* Through the real parser (etm_conf_parse_engine) on this machine: a node it does not have is refused. */
static void test_cslide_engine_real_numa(void **state)
{
	g_autoptr(etm_numa_topo) t = NULL;
	char e[64], m[96], why[256];

	(void)state;
	assert_int_equal(etm_numa_topo_read("", &t, why, sizeof(why)), 0);
	if (t->n < 2) {
		EDIT_ERR(BASE_CSLIDE_ENG, NULL, "engine/node_pair=1,0",
			 "[engine] node_pair=1,0: cslide needs a second NUMA node with memory");
		return;
	}
	snprintf(e, sizeof(e), "engine/node_pair=%d,0", t->max_id + 1);
	snprintf(m, sizeof(m), "[engine] node_pair=%d,0: NUMA node %d is not present on this machine", t->max_id + 1,
		 t->max_id + 1);
	EDIT_ERR(BASE_CSLIDE_ENG, NULL, e, m);
}

static void test_cslide_task_keys(void **state)
{
	const struct etm_engine_type *C = &etm_cslide_engine;
	struct cslide_task_params *tp;
	struct parsed p;
	char big[300];

	(void)state;
	parse_text(BASE_CSLIDE_TASK, C, &p);
	assert_int_equal(p.rc, 0);
	tp = p.tk->pub.params;
	assert_int_equal(tp->n_vm_flags, 1);
	assert_string_equal(tp->vm_flags[0], "ht");
	assert_null(tp->vm_flags[1]);
	assert_false(tp->anon_only);
	assert_false(tp->ign_host);
	parsed_clear(&p);
	{
		char *t = conf_edit(BASE_CSLIDE_TASK, "task/anon_only=yes", "task/ign_host=yes", "task/vm_flags", NULL);

		parse_text(t, C, &p);
		assert_int_equal(p.rc, 0);
		tp = p.tk->pub.params;
		assert_true(tp->anon_only);
		assert_true(tp->ign_host);
		assert_null(tp->vm_flags);
		parsed_clear(&p);
		g_free(t);
	}
	EDIT_OK(BASE_CSLIDE_TASK, C, "task/vm_flags= ht ");
	EDIT_ERR(BASE_CSLIDE_TASK, C, "task/vm_flags=ht rd",
		 "[task] vm_flags=ht rd: flag \"rd\" not supported, only ht is supported");
	EDIT_ERR(BASE_CSLIDE_TASK, C, "task/vm_flags=HT", "only ht is supported");
	EDIT_ERR(BASE_CSLIDE_TASK, C, "task/vm_flags=", "[task] vm_flags=: empty");
	/* 256 characters: "ht" and blanks; 257 is too long. */
	memset(big, ' ', sizeof(big));
	memcpy(big, "task/vm_flags=ht", 16);
	big[14 + 256] = 0;
	big[14 + 255] = 't';
	big[14 + 254] = 'h';
	EDIT_OK(BASE_CSLIDE_TASK, C, big);
	big[14 + 256] = 'x';
	big[14 + 257] = 0;
	EDIT_ERR(BASE_CSLIDE_TASK, C, big, "[task] vm_flags=ht", "too long (257 bytes), must be 1..256");
	EDIT_ERR(BASE_CSLIDE_TASK, C, "task/anon_only=1", "[task] anon_only=1: must be yes or no");
	EDIT_ERR(BASE_CSLIDE_TASK, C, "task/ign_host=No", "[task] ign_host=No: must be yes or no");
	EDIT_ERR(BASE_CSLIDE_TASK, C, "task/value", "[task] value: missing (required for engine cslide)");
}

/* -------------------------------------------------------------------- psi */

static struct psi_task_params *psi_of(struct parsed *p)
{
	if (p->rc)
		fail_msg("%s", p->err->str);
	return p->tk->pub.params;
}

static void test_psi_defaults(void **state)
{
	struct parsed p;
	struct psi_task_params *pp;

	(void)state;
	parse_text(BASE_PSI, NULL, &p);
	pp = psi_of(&p);
	assert_string_equal(pp->cg_dir, "isulad");
	assert_true(pp->pressure == 0.1);
	assert_true(pp->reclaim_rate == 0.05);
	assert_true(pp->reclaim_rate_max == 0.5);
	assert_true(pp->reclaim_rate_min == 0.01);
	assert_int_equal(pp->reclaim_max_bytes, 1ULL << 30);
	assert_int_equal(pp->limit_min_bytes, 0);
	assert_true(pp->limit_min_ratio == 0.1);
	/* psi targets cgroups: type and value are optional. */
	assert_null(p.tk->pub.type);
	assert_null(p.tk->pub.value);
	parsed_clear(&p);
	{
		char *t = conf_edit(BASE_PSI, "task/type=name", "task/value=cgroup_v1", NULL);

		EXPECT_OK(t, NULL);
		g_free(t);
	}
	EDIT_ERR(BASE_PSI, NULL, "task/type=name", "[task] value: missing (required for engine psi)");
	EDIT_ERR(BASE_PSI, NULL, "task/value=x", "[task] type: missing (required when value is set)");
}

static void test_psi_cg_dir(void **state)
{
	char e[128];

	(void)state;
	EDIT_OK(BASE_PSI, NULL, "task/cg_dir=isulad/*");
	EDIT_OK(BASE_PSI, NULL, "task/cg_dir=a/{b,c}/d[0-9]?");
	EDIT_OK(BASE_PSI, NULL, "task/cg_dir=a..b/.x");
	snprintf(e, sizeof(e), "task/cg_dir=%064d", 0);
	EDIT_OK(BASE_PSI, NULL, e);
	snprintf(e, sizeof(e), "task/cg_dir=%065d", 0);
	EDIT_ERR(BASE_PSI, NULL, e, "[task] cg_dir=", "too long (65 bytes), must be 1..64");
	EDIT_ERR(BASE_PSI, NULL, "task/cg_dir", "[task] cg_dir: missing (required for engine psi)");
	EDIT_ERR(BASE_PSI, NULL, "task/cg_dir=/sys/fs/cgroup/x",
		 "[task] cg_dir=/sys/fs/cgroup/x: must be relative to the cgroup mount");
	EDIT_ERR(BASE_PSI, NULL, "task/cg_dir=..", "[task] cg_dir=..: must not contain a \"..\" component");
	EDIT_ERR(BASE_PSI, NULL, "task/cg_dir=a/../../etc", "must not contain a \"..\" component");
	EDIT_ERR(BASE_PSI, NULL, "task/cg_dir=a/..", "must not contain a \"..\" component");
	EDIT_ERR(BASE_PSI, NULL, "task/cg_dir=a b", "[task] cg_dir=a b: allowed characters are");
	EDIT_ERR(BASE_PSI, NULL, "task/cg_dir=a;b", "allowed characters are");
	assert_null(psi_cg_dir_invalid("x"));
	assert_non_null(psi_cg_dir_invalid(""));
	assert_non_null(psi_cg_dir_invalid(NULL));
}

static void test_psi_numbers(void **state)
{
	static const struct {
		const char *edit;
		const char *msg;
	} cases[] = {
		{ "task/pressure=0.0001", NULL },
		{ "task/pressure=100", NULL },
		{ "task/pressure=0", "[task] pressure=0: out of range, must be greater than 0 and at most 100" },
		{ "task/pressure=100.1", "[task] pressure=100.1: out of range" },
		{ "task/pressure=-1", "[task] pressure=-1: out of range" },
		{ "task/pressure=high", "[task] pressure=high: not a number, must be greater than 0 and at most 100" },
		{ "task/pressure=nan", "[task] pressure=nan: not a number" },
		{ "task/pressure=inf", "[task] pressure=inf: not a number" },
		{ "task/reclaim_rate=0.5", NULL },
		{ "task/reclaim_rate=0.01", NULL },
		{ "task/reclaim_rate=0", "[task] reclaim_rate=0: out of range, must be greater than 0 and at most 1" },
		{ "task/reclaim_rate=1.01", "[task] reclaim_rate=1.01: out of range" },
		{ "task/reclaim_rate=0.6", "[task] reclaim_rate=0.6: must lie between reclaim_rate_min (0.01) and "
					   "reclaim_rate_max (0.5)" },
		{ "task/reclaim_rate=0.001", "[task] reclaim_rate=0.001: must lie between" },
		{ "task/reclaim_rate_max=1", NULL },
		{ "task/reclaim_rate_max=0", "[task] reclaim_rate_max=0: out of range" },
		{ "task/reclaim_rate_max=1.5", "[task] reclaim_rate_max=1.5: out of range" },
		{ "task/reclaim_rate_max=0.04", "[task] reclaim_rate=0.05: must lie between" },
		{ "task/reclaim_rate_min=0.05", NULL },
		{ "task/reclaim_rate_min=0", "[task] reclaim_rate_min=0: out of range" },
		{ "task/reclaim_rate_min=0.6", "[task] reclaim_rate_min=0.6: must not exceed reclaim_rate_max (0.5)" },
		{ "task/reclaim_max_bytes=1", NULL },
		{ "task/reclaim_max_bytes=1125899906842624", NULL },
		{ "task/reclaim_max_bytes=0", "[task] reclaim_max_bytes=0: out of range, must be 1..1125899906842624" },
		{ "task/reclaim_max_bytes=1125899906842625",
		  "[task] reclaim_max_bytes=1125899906842625: out of range" },
		{ "task/reclaim_max_bytes=1G", "[task] reclaim_max_bytes=1G: not an integer" },
		{ "task/limit_min_bytes=0", NULL },
		{ "task/limit_min_bytes=209715200", NULL },
		{ "task/limit_min_bytes=-1", "[task] limit_min_bytes=-1: out of range, must be 0..1125899906842624" },
		{ "task/limit_min_bytes=1125899906842625", "[task] limit_min_bytes=1125899906842625: out of range" },
		{ "task/limit_min_ratio=0", NULL },
		{ "task/limit_min_ratio=1", NULL },
		{ "task/limit_min_ratio=-0.1", "[task] limit_min_ratio=-0.1: out of range, must be 0..1" },
		{ "task/limit_min_ratio=1.1", "[task] limit_min_ratio=1.1: out of range, must be 0..1" },
		{ "task/limit_min_ratio=20%", "[task] limit_min_ratio=20%: not a number" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].msg)
			EDIT_ERR(BASE_PSI, NULL, cases[i].edit, cases[i].msg);
		else
			EDIT_OK(BASE_PSI, NULL, cases[i].edit);
	}
	{
		struct parsed p;
		char *t = conf_edit(BASE_PSI, "task/pressure=0.2", "task/reclaim_rate=0.3", "task/reclaim_rate_max=0.4",
				    "task/reclaim_rate_min=0.2", "task/reclaim_max_bytes=209715200",
				    "task/limit_min_bytes=1048576", "task/limit_min_ratio=0.25", NULL);

		parse_text(t, NULL, &p);
		assert_true(psi_of(&p)->pressure == 0.2);
		assert_true(psi_of(&p)->reclaim_rate == 0.3);
		assert_true(psi_of(&p)->reclaim_rate_max == 0.4);
		assert_true(psi_of(&p)->reclaim_rate_min == 0.2);
		assert_int_equal(psi_of(&p)->reclaim_max_bytes, 209715200);
		assert_int_equal(psi_of(&p)->limit_min_bytes, 1048576);
		assert_true(psi_of(&p)->limit_min_ratio == 0.25);
		parsed_clear(&p);
		g_free(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_task_ok),
		cmocka_unit_test(test_task_ids),
		cmocka_unit_test(test_task_target),
		cmocka_unit_test(test_task_max_threads_swap_flag),
		cmocka_unit_test(test_slide_T),
		cmocka_unit_test(test_slide_swap_threshold),
		cmocka_unit_test(test_slide_tracker_dram),
		cmocka_unit_test(test_slide_pmu),
		cmocka_unit_test(test_slide_pmu_event),
		cmocka_unit_test(test_cslide_node_pair_syntax),
		cmocka_unit_test(test_cslide_engine_keys),
		cmocka_unit_test(test_cslide_engine_pmu),
		cmocka_unit_test(test_cslide_engine_real_numa),
		cmocka_unit_test(test_cslide_task_keys),
		cmocka_unit_test(test_psi_defaults),
		cmocka_unit_test(test_psi_cg_dir),
		cmocka_unit_test(test_psi_numbers),
	};
	(void)SLIDE;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
