/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Configuration: the key helpers' strictness, every [project] and [engine]
 * key at and just past its bounds, missing mandatory keys, and the error
 * line naming file, section, key, value and range.
 */
#include <limits.h>
#include <stdlib.h>

#include "test_config_util.h"

/* ------------------------------------------------------------ key helpers */

static struct etm_conf *load(const char *text, GString *err)
{
	struct etm_conf *conf = NULL;

	assert_int_equal(etm_conf_load_data(TEST_CONF_NAME, text, strlen(text), &conf, err), 0);
	return conf;
}

static void test_get_int_strict(void **state)
{
	static const struct {
		const char *v;
		int rc;
		long out;
		const char *msg;
	} cases[] = {
		{ "5", 0, 5, NULL },
		{ "+5", 0, 5, NULL },
		{ "-5", 0, -5, NULL },
		{ "10", 0, 10, NULL },
		/* Blanks around the value are not part of it (GKeyFile keeps trailing ones). */
		{ " 7 \t", 0, 7, NULL },
		{ "3 # comment", -EINVAL, 0, "[g] k=3 # comment: not an integer" },
		{ "11", -EINVAL, 0, "[g] k=11: out of range, must be -10..10" },
		{ "-11", -EINVAL, 0, "[g] k=-11: out of range, must be -10..10" },
		{ "10g", -EINVAL, 0, "[g] k=10g: not an integer, must be -10..10" },
		{ "1.5", -EINVAL, 0, "not an integer" },
		{ "0x5", -EINVAL, 0, "not an integer" },
		{ "1e1", -EINVAL, 0, "not an integer" },
		{ "--1", -EINVAL, 0, "not an integer" },
		{ "+", -EINVAL, 0, "not an integer" },
		{ "", -EINVAL, 0, "[g] k=: not an integer" },
		{ "5 5", -EINVAL, 0, "not an integer" },
		{ "99999999999999999999999", -EINVAL, 0, "out of range" },
		{ "-99999999999999999999999", -EINVAL, 0, "out of range" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		GString *err = g_string_new(NULL);
		char *text = g_strdup_printf("[g]\nk=%s\n", cases[i].v);
		struct etm_conf *conf = load(text, err);
		long out = 77;
		int rc = etm_conf_get_int(conf, "g", "k", true, -10, 10, &out);

		if (rc != cases[i].rc || (rc == 0 && out != cases[i].out) ||
		    (cases[i].msg && !strstr(err->str, cases[i].msg)))
			fail_msg("k=%s: rc %d out %ld err \"%s\"", cases[i].v, rc, out, err->str);
		if (rc)
			assert_int_equal(out, 77); /* untouched on error */
		etm_conf_free(conf);
		g_string_free(err, TRUE);
		g_free(text);
	}
}

static void test_get_missing_and_first_error(void **state)
{
	GString *err = g_string_new(NULL);
	struct etm_conf *conf = load("[g]\na=x\nb=y\n", err);
	long v = 42;
	char *s = NULL;
	bool yn = true;
	double d = 1.5;

	(void)state;
	/* Optional and absent: -ENOENT, value kept, no error. */
	assert_int_equal(etm_conf_get_int(conf, "g", "zz", false, 0, 1, &v), -ENOENT);
	assert_int_equal(etm_conf_get_int(conf, "nogroup", "zz", false, 0, 1, &v), -ENOENT);
	assert_int_equal(etm_conf_get_str(conf, "g", "zz", false, 8, &s), -ENOENT);
	assert_int_equal(etm_conf_get_yesno(conf, "g", "zz", false, &yn), -ENOENT);
	assert_int_equal(etm_conf_get_double(conf, "g", "zz", false, 0, 1, false, &d), -ENOENT);
	assert_int_equal(v, 42);
	assert_null(s);
	assert_true(yn);
	assert_true(d == 1.5);
	assert_int_equal(err->len, 0);
	/* Required and absent. */
	assert_int_equal(etm_conf_get_int(conf, "g", "zz", true, 0, 1, &v), -EINVAL);
	assert_string_equal(err->str, "config " TEST_CONF_NAME ": [g] zz: missing (required)");
	/* Only the first error is kept. */
	assert_int_equal(etm_conf_get_int(conf, "g", "a", true, 0, 1, &v), -EINVAL);
	assert_string_equal(err->str, "config " TEST_CONF_NAME ": [g] zz: missing (required)");
	etm_conf_free(conf);
	g_string_free(err, TRUE);
}

static void test_get_double_strict(void **state)
{
	static const struct {
		const char *v;
		bool excl;
		int rc;
	} cases[] = {
		{ "0.5", true, 0 },	     { "1", true, 0 },
		{ "1e-3", true, 0 },	     { "0", true, -EINVAL },
		{ "0", false, 0 },	     { "1.0001", true, -EINVAL },
		{ "-0.1", false, -EINVAL },  { "nan", false, -EINVAL },
		{ "inf", false, -EINVAL },   { "0x1p-1", false, -EINVAL },
		{ "1e999", false, -EINVAL }, { ".", false, -EINVAL },
		{ "0.5x", false, -EINVAL },  { "", false, -EINVAL },
		{ "1,5", false, -EINVAL },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		GString *err = g_string_new(NULL);
		char *text = g_strdup_printf("[g]\nk=%s\n", cases[i].v);
		struct etm_conf *conf = load(text, err);
		double d = 0;
		int rc = etm_conf_get_double(conf, "g", "k", true, 0, 1, cases[i].excl, &d);

		if (rc != cases[i].rc)
			fail_msg("k=%s: rc %d err \"%s\"", cases[i].v, rc, err->str);
		if (rc)
			assert_non_null(strstr(err->str, "[g] k="));
		etm_conf_free(conf);
		g_string_free(err, TRUE);
		g_free(text);
	}
}

static void test_get_str_yesno(void **state)
{
	GString *err = g_string_new(NULL);
	struct etm_conf *conf = load(
	    "[g]\nempty=  \nok=abcd  \nlong=abcde\nctl=a\\tb\nyes=yes\nno=no\nbad=YES\nutf=\xc3\xa9t\xc3\xa9\n", err);
	char *s = NULL;
	bool b = false;

	(void)state;
	assert_int_equal(etm_conf_get_str(conf, "g", "ok", true, 4, &s), 0);
	assert_string_equal(s, "abcd");
	assert_int_equal(etm_conf_get_str(conf, "g", "utf", true, 8, &s), 0);
	assert_string_equal(s, "\xc3\xa9t\xc3\xa9");
	g_free(s);
	s = NULL;
	assert_int_equal(etm_conf_get_str(conf, "g", "long", true, 4, &s), -EINVAL);
	assert_non_null(strstr(err->str, "[g] long=abcde: too long (5 bytes), must be 1..4 bytes"));
	assert_null(s);
	g_string_truncate(err, 0);
	assert_int_equal(etm_conf_get_str(conf, "g", "empty", true, 4, &s), -EINVAL);
	assert_non_null(strstr(err->str, "[g] empty=: empty"));
	g_string_truncate(err, 0);
	assert_int_equal(etm_conf_get_str(conf, "g", "ctl", true, 8, &s), -EINVAL);
	assert_non_null(strstr(err->str, "[g] ctl=a\\x09b: contains a control character"));
	assert_int_equal(etm_conf_get_yesno(conf, "g", "yes", true, &b), 0);
	assert_true(b);
	assert_int_equal(etm_conf_get_yesno(conf, "g", "no", true, &b), 0);
	assert_false(b);
	g_string_truncate(err, 0);
	assert_int_equal(etm_conf_get_yesno(conf, "g", "bad", true, &b), -EINVAL);
	assert_non_null(strstr(err->str, "[g] bad=YES: must be yes or no"));
	etm_conf_free(conf);
	g_string_free(err, TRUE);
}

static void test_error_value_quoted(void **state)
{
	GString *err = g_string_new(NULL);
	GString *big = g_string_new("[g]\nk=");
	struct etm_conf *conf;
	long v;

	(void)state;
	for (int i = 0; i < 500; i++)
		g_string_append_c(big, '7');
	g_string_append(big, "x\n");
	conf = load(big->str, err);
	assert_int_equal(etm_conf_get_int(conf, "g", "k", true, 0, 1, &v), -EINVAL);
	/* Long values are cut: the line stays short. */
	assert_true(err->len < 200);
	assert_non_null(strstr(err->str, "...: not an integer"));
	etm_conf_free(conf);
	g_string_free(err, TRUE);
	g_string_free(big, TRUE);
}

static void test_load_data_errors(void **state)
{
	GString *err = g_string_new(NULL);
	struct etm_conf *conf = NULL;
	static const char nul[] = "[g]\nk=a\0b\n";

	(void)state;
	assert_int_equal(etm_conf_load_data("/x.yaml", "not a key file\n", 15, &conf, err), -EINVAL);
	assert_null(conf);
	assert_non_null(strstr(err->str, "config /x.yaml: cannot parse"));
	g_string_truncate(err, 0);
	assert_int_equal(etm_conf_load_data("/x.yaml", nul, sizeof(nul) - 1, &conf, err), -EINVAL);
	assert_non_null(strstr(err->str, "NUL"));
	/* Empty file: loads; it simply has no section. */
	assert_int_equal(etm_conf_load_data("/x.yaml", "", 0, &conf, NULL), 0);
	assert_false(etm_conf_has_group(conf, "project"));
	etm_conf_free(conf);
	g_string_free(err, TRUE);
}

/* Load @text; 0 or the error, whose line is left in @err. */
static int load_text(const char *text, GString *err)
{
	struct etm_conf *conf = NULL;
	int rc;

	g_string_truncate(err, 0);
	rc = etm_conf_load_data("/x.yaml", text, strlen(text), &conf, err);
	assert_true((rc == 0) == (conf != NULL));
	etm_conf_free(conf);
	return rc;
}

/* A valid [project] and then @n more sections ("[sN]") or keys ("kN=v"). */
static char *padded(bool sections, int n)
{
	GString *s = g_string_new("[project]\nname=p\nloop=1\ninterval=1\nsleep=1\n");

	if (!sections)
		g_string_append(s, "[pad]\n");
	for (int i = 0; i < n; i++)
		g_string_append_printf(s, sections ? "  [s%d]\n" : "\tk%d=v\n", i);
	return g_string_free(s, FALSE);
}

/* The shape bounds: counted before GKeyFile parses, with the bound named. */
static void test_load_data_bounds(void **state)
{
	GString *err = g_string_new(NULL), *line = g_string_new("[project]\nname=");
	char *t;

	(void)state;
	/* [project] is one section; indented headers count too. */
	t = padded(true, ETM_CONF_MAX_SECTIONS - 1);
	assert_int_equal(load_text(t, err), 0);
	g_free(t);
	t = padded(true, ETM_CONF_MAX_SECTIONS);
	assert_int_equal(load_text(t, err), -E2BIG);
	assert_string_equal(err->str, "config /x.yaml: more than 32 sections (line 37): a file holds one [project], "
				      "[engine] and [task]");
	g_free(t);
	/* [project] has 4 keys. */
	t = padded(false, ETM_CONF_MAX_KEYS - 4);
	assert_int_equal(load_text(t, err), 0);
	g_free(t);
	t = padded(false, ETM_CONF_MAX_KEYS - 3);
	assert_int_equal(load_text(t, err), -E2BIG);
	assert_string_equal(err->str, "config /x.yaml: more than 512 keys (line 515)");
	g_free(t);
	/* Comments and blank lines cost GKeyFile nothing: they do not count. */
	t = padded(false, 10);
	{
		GString *s = g_string_new(t);

		for (int i = 0; i < 2 * ETM_CONF_MAX_KEYS; i++)
			g_string_append(s, i % 2 ? "# comment\n" : " \r\n");
		assert_int_equal(load_text(s->str, err), 0);
		g_string_free(s, TRUE);
	}
	g_free(t);
	/* A line of exactly the bound, \n excluded, loads; one byte more does not. */
	while (line->len < strlen("[project]\n") + ETM_CONF_MAX_LINE)
		g_string_append_c(line, 'x');
	g_string_append(line, "\n#");
	assert_int_equal(load_text(line->str, err), 0);
	g_string_insert_c(line, 20, 'x');
	assert_int_equal(load_text(line->str, err), -E2BIG);
	assert_string_equal(err->str, "config /x.yaml: line 2 is longer than 16384 bytes (the longest line allowed)");
	/* The last line needs no \n to be measured. */
	g_string_truncate(line, 0);
	g_string_append(line, "[g]\n#");
	while (line->len < ETM_CONF_MAX_LINE + 5)
		g_string_append_c(line, 'x');
	assert_int_equal(load_text(line->str, err), -E2BIG);
	assert_non_null(strstr(err->str, "line 2 is longer"));
	g_string_free(line, TRUE);
	g_string_free(err, TRUE);
}

/* -------------------------------------------------------------- [project] */

static void test_project_ok(void **state)
{
	struct parsed p;
	struct page_scan *ps;

	(void)state;
	parse_text(BASE_SLIDE, NULL, &p);
	assert_int_equal(p.rc, 0);
	assert_string_equal(p.proj->pub.name, "p");
	assert_int_equal(p.proj->pub.type, PAGE_SCAN);
	ps = p.proj->pub.scan_param;
	assert_ptr_equal(ps, &p.proj->page);
	assert_int_equal(ps->loop, 3);
	assert_int_equal(ps->interval, 5);
	assert_int_equal(ps->sleep, 1);
	assert_int_equal(p.proj->pub.sysmem_threshold, -1);
	assert_int_equal(p.proj->pub.swapcache_high_wmark, -1);
	assert_int_equal(p.proj->pub.swapcache_low_wmark, -1);
	assert_false(p.proj->pub.wmark_set);
	parsed_clear(&p);
}

static void test_project_name(void **state)
{
	char n64[65], n65[66], e64[80], e65[80];

	(void)state;
	memset(n64, 'a', 64);
	n64[64] = 0;
	memset(n65, 'b', 65);
	n65[65] = 0;
	snprintf(e64, sizeof(e64), "project/name=%s", n64);
	snprintf(e65, sizeof(e65), "project/name=%s", n65);
	/* The engine/task sections name project p: check the project alone. */
	EDIT_OK(BASE_REGION, NULL, e64);
	EDIT_ERR(BASE_REGION, NULL, e65, "[project] name=bbbb", "too long (65 bytes), must be 1..64");
	EDIT_ERR(BASE_REGION, NULL, "project/name", "[project] name: missing (required)");
	EDIT_ERR(BASE_REGION, NULL, "project/name=", "[project] name=: empty");
}

static void test_project_page_keys(void **state)
{
	(void)state;
	EDIT_OK(BASE_SLIDE, NULL, "project/loop=1");
	EDIT_OK(BASE_SLIDE, NULL, "project/loop=120");
	EDIT_ERR(BASE_SLIDE, NULL, "project/loop=0",
		 "config " TEST_CONF_NAME ": [project] loop=0: out of range, must be 1..120");
	EDIT_ERR(BASE_SLIDE, NULL, "project/loop=121", "[project] loop=121: out of range, must be 1..120");
	EDIT_ERR(BASE_SLIDE, NULL, "project/loop=three", "[project] loop=three: not an integer, must be 1..120");
	EDIT_ERR(BASE_SLIDE, NULL, "project/loop", "[project] loop: missing (required for scan_type page)");

	EDIT_OK(BASE_SLIDE, NULL, "project/interval=1");
	EDIT_OK(BASE_SLIDE, NULL, "project/interval=1200");
	EDIT_ERR(BASE_SLIDE, NULL, "project/interval=0", "[project] interval=0: out of range, must be 1..1200");
	EDIT_ERR(BASE_SLIDE, NULL, "project/interval=1201", "[project] interval=1201: out of range, must be 1..1200");
	EDIT_ERR(BASE_SLIDE, NULL, "project/interval=5s", "[project] interval=5s: not an integer");
	EDIT_ERR(BASE_SLIDE, NULL, "project/interval", "[project] interval: missing (required for scan_type page)");

	EDIT_OK(BASE_SLIDE, NULL, "project/sleep=1");
	EDIT_OK(BASE_SLIDE, NULL, "project/sleep=1200");
	EDIT_ERR(BASE_SLIDE, NULL, "project/sleep=0", "[project] sleep=0: out of range, must be 1..1200");
	EDIT_ERR(BASE_SLIDE, NULL, "project/sleep=1201", "[project] sleep=1201: out of range, must be 1..1200");
	EDIT_ERR(BASE_SLIDE, NULL, "project/sleep=1.5", "[project] sleep=1.5: not an integer");
	EDIT_ERR(BASE_SLIDE, NULL, "project/sleep", "[project] sleep: missing (required for scan_type page)");
}

static void test_project_scan_type(void **state)
{
	struct parsed p;

	(void)state;
	EDIT_OK(BASE_SLIDE, NULL, "project/scan_type=page");
	EDIT_ERR(BASE_SLIDE, NULL, "project/scan_type=PAGE",
		 "[project] scan_type=PAGE: unknown scan type, must be page, psi or region");
	EDIT_ERR(BASE_SLIDE, NULL, "project/scan_type=", "[project] scan_type=: empty");

	/* psi: interval only; loop and sleep are ignored even if bad. */
	parse_text(BASE_PSI, &etm_psi_engine, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.proj->pub.type, PSI_SCAN);
	assert_ptr_equal(p.proj->pub.scan_param, &p.proj->psi);
	assert_int_equal(p.proj->psi.interval, 6);
	parsed_clear(&p);
	EDIT_OK(BASE_PSI, NULL, "project/loop=999");
	EDIT_OK(BASE_PSI, NULL, "project/interval=1");
	EDIT_OK(BASE_PSI, NULL, "project/interval=1200");
	EDIT_ERR(BASE_PSI, NULL, "project/interval=0", "[project] interval=0: out of range, must be 1..1200");
	EDIT_ERR(BASE_PSI, NULL, "project/interval=1201", "[project] interval=1201: out of range");
	EDIT_ERR(BASE_PSI, NULL, "project/interval", "[project] interval: missing (required for scan_type psi)");
}

static void test_project_region(void **state)
{
	struct parsed p;

	(void)state;
	parse_text(BASE_REGION, NULL, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.proj->pub.type, REGION_SCAN);
	assert_ptr_equal(p.proj->pub.scan_param, &p.proj->region);
	assert_int_equal(p.proj->region.sample_interval, 5000);
	assert_int_equal(p.proj->region.aggr_interval, 100000);
	assert_int_equal(p.proj->region.update_interval, 1000000);
	assert_int_equal(p.proj->region.min_nr_regions, 10);
	assert_int_equal(p.proj->region.max_nr_regions, 1000);
	parsed_clear(&p);

	static const char *const keys[] = { "sample_interval", "aggr_interval", "update_interval" };
	for (size_t i = 0; i < 3; i++) {
		char *e1 = g_strdup_printf("project/%s=1", keys[i]);
		char *e0 = g_strdup_printf("project/%s=0", keys[i]);
		char *ex = g_strdup_printf("project/%s=x", keys[i]);
		char *em = g_strdup_printf("project/%s", keys[i]);
		char *m0 = g_strdup_printf("[project] %s=0: out of range, must be 1..%ld", keys[i], LONG_MAX);
		char *mm = g_strdup_printf("[project] %s: missing (required for scan_type region)", keys[i]);

		EDIT_OK(BASE_REGION, NULL, e1);
		EDIT_ERR(BASE_REGION, NULL, e0, m0);
		EDIT_ERR(BASE_REGION, NULL, ex, "not an integer");
		EDIT_ERR(BASE_REGION, NULL, em, mm);
		g_free(e1), g_free(e0), g_free(ex), g_free(em), g_free(m0), g_free(mm);
	}
	EDIT_OK(BASE_REGION, NULL, "project/min_nr_regions=3");
	EDIT_ERR(BASE_REGION, NULL, "project/min_nr_regions=2",
		 "[project] min_nr_regions=2: out of range, must be 3..");
	EDIT_ERR(BASE_REGION, NULL, "project/max_nr_regions=2",
		 "[project] max_nr_regions=2: out of range, must be 3..");
	EDIT_ERR(BASE_REGION, NULL, "project/min_nr_regions", "[project] min_nr_regions: missing");
	EDIT_ERR(BASE_REGION, NULL, "project/max_nr_regions", "[project] max_nr_regions: missing");
	EDIT_OK(BASE_REGION, NULL, "project/min_nr_regions=999");
	EDIT_ERR(BASE_REGION, NULL, "project/min_nr_regions=1000",
		 "[project] max_nr_regions=1000: must be greater than min_nr_regions (1000)");
}

static void test_project_sysmem(void **state)
{
	struct parsed p;

	(void)state;
	parse_edit(BASE_SLIDE, NULL, "project/sysmem_threshold=0", &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.proj->pub.sysmem_threshold, 0);
	parsed_clear(&p);
	parse_edit(BASE_SLIDE, NULL, "project/sysmem_threshold=100", &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.proj->pub.sysmem_threshold, 100);
	parsed_clear(&p);
	EDIT_ERR(BASE_SLIDE, NULL, "project/sysmem_threshold=-1",
		 "[project] sysmem_threshold=-1: out of range, must be 0..100");
	EDIT_ERR(BASE_SLIDE, NULL, "project/sysmem_threshold=101",
		 "[project] sysmem_threshold=101: out of range, must be 0..100");
	EDIT_ERR(BASE_SLIDE, NULL, "project/sysmem_threshold=50%", "[project] sysmem_threshold=50%: not an integer");
}

static void expect_wmarks(const char *high_edit, const char *low_edit, int high, int low)
{
	char *t = conf_edit(BASE_SLIDE, high_edit, low_edit, NULL);
	struct parsed p;

	parse_text(t, NULL, &p);
	if (p.rc)
		fail_msg("%s %s: %s", high_edit, low_edit, p.err->str);
	assert_int_equal(p.proj->pub.swapcache_high_wmark, high);
	assert_int_equal(p.proj->pub.swapcache_low_wmark, low);
	assert_true(p.proj->pub.wmark_set);
	parsed_clear(&p);
	g_free(t);
}

static void expect_wmarks_err(const char *e1, const char *e2, const char *msg)
{
	char *t = conf_edit(BASE_SLIDE, e1, e2, NULL);

	EXPECT_ERR(t, NULL, msg);
	g_free(t);
}

static void test_project_wmarks(void **state)
{
	(void)state;
	expect_wmarks("project/swapcache_high_wmark=10", "project/swapcache_low_wmark=6", 10, 6);
	expect_wmarks("project/swapcache_high_wmark=100", "project/swapcache_low_wmark=99", 100, 99);
	expect_wmarks("project/swapcache_high_wmark=2", "project/swapcache_low_wmark=1", 2, 1);
	/* The spec's misspelling, alone or with an equal twin. */
	expect_wmarks("project/swapcache_high_vmark=10", "project/swapcache_low_vmark=6", 10, 6);
	expect_wmarks("project/swapcache_high_wmark=5", "project/swapcache_low_vmark=3", 5, 3);
	{
		char *t = conf_edit(BASE_SLIDE, "project/swapcache_high_wmark=5", "project/swapcache_high_vmark=5",
				    "project/swapcache_low_wmark=3", NULL);
		EXPECT_OK(t, NULL);
		g_free(t);
		t = conf_edit(BASE_SLIDE, "project/swapcache_high_wmark=5", "project/swapcache_high_vmark=6",
			      "project/swapcache_low_wmark=3", NULL);
		EXPECT_ERR(t, NULL, "[project] swapcache_high_vmark=6: conflicts with swapcache_high_wmark=5");
		g_free(t);
		t = conf_edit(BASE_SLIDE, "project/swapcache_high_wmark=5", "project/swapcache_low_vmark=2",
			      "project/swapcache_low_wmark=3", NULL);
		EXPECT_ERR(t, NULL, "[project] swapcache_low_vmark=2: conflicts with swapcache_low_wmark=3");
		g_free(t);
	}
	expect_wmarks_err("project/swapcache_high_wmark=101", "project/swapcache_low_wmark=6",
			  "[project] swapcache_high_wmark=101: out of range, must be 1..100");
	expect_wmarks_err("project/swapcache_high_wmark=0", "project/swapcache_low_wmark=6",
			  "[project] swapcache_high_wmark=0: out of range, must be 1..100");
	expect_wmarks_err("project/swapcache_high_vmark=101", "project/swapcache_low_wmark=6",
			  "[project] swapcache_high_vmark=101: out of range, must be 1..100");
	expect_wmarks_err("project/swapcache_high_wmark=10", "project/swapcache_low_wmark=10",
			  "[project] swapcache_low_wmark=10: out of range, must be 1..9");
	expect_wmarks_err("project/swapcache_high_wmark=10", "project/swapcache_low_wmark=0",
			  "[project] swapcache_low_wmark=0: out of range, must be 1..9");
	expect_wmarks_err("project/swapcache_high_wmark=1", "project/swapcache_low_wmark=1",
			  "[project] swapcache_high_wmark=1: must be 2..100");
	expect_wmarks_err("project/swapcache_high_wmark=10", "project/swapcache_low_wmark=x",
			  "[project] swapcache_low_wmark=x: not an integer");
	/* Both or neither. */
	expect_wmarks_err("project/swapcache_high_wmark=10", NULL,
			  "[project] swapcache_low_wmark: missing (required when swapcache_high_wmark is set)");
	expect_wmarks_err("project/swapcache_low_wmark=5", NULL,
			  "[project] swapcache_high_wmark: missing (required when swapcache_low_wmark is set)");
	expect_wmarks_err("project/swapcache_low_vmark=5", NULL, "[project] swapcache_high_wmark: missing");
}

/* --------------------------------------------------------------- [engine] */

static void test_engine_name(void **state)
{
	struct parsed p;

	(void)state;
	parse_text(BASE_SLIDE, NULL, &p);
	assert_int_equal(p.rc, 0);
	assert_ptr_equal(p.eng->type, &etm_slide_engine);
	assert_string_equal(p.eng->pub.name, "slide");
	assert_int_equal(p.eng->pub.engine_type, SLIDE_ENGINE);
	assert_ptr_equal(p.eng->pub.proj, &p.proj->pub);
	parsed_clear(&p);
	EDIT_ERR(BASE_SLIDE, NULL, "engine/name=foo",
		 "[engine] name=foo: unknown engine, must be one of slide, cslide, psi, thirdparty");
	EDIT_ERR(BASE_SLIDE, NULL, "engine/name", "[engine] name: missing (required)");
	EDIT_ERR(BASE_SLIDE, NULL, "engine/project", "[engine] project: missing (required)");
	EDIT_ERR(BASE_SLIDE, NULL, "engine/project=q", "[engine] project=q: does not match the project p");
}

static void test_engine_scan_type_mismatch(void **state)
{
	(void)state;
	EDIT_ERR(BASE_SLIDE, NULL, "engine/name=psi",
		 "[engine] name=psi: engine psi needs a project with scan_type=psi, project p has scan_type=page");
	EDIT_ERR(BASE_PSI, NULL, "engine/name=slide",
		 "[engine] name=slide: engine slide needs a project with scan_type=page, project p has scan_type=psi");
	EDIT_ERR(BASE_PSI, NULL, "engine/name=cslide", "engine cslide needs a project with scan_type=page");
	{
		char *t = g_strdup_printf("%s[engine]\nname=slide\nproject=p\n", BASE_REGION);

		EXPECT_ERR(t, NULL, "engine slide needs a project with scan_type=page, project p has scan_type=region");
		g_free(t);
	}
}

static const char BASE_THIRD[] = "[project]\nname=p\nloop=1\ninterval=1\nsleep=1\n"
				 "[engine]\nname=thirdparty\nproject=p\neng_name=my_engine\n"
				 "libname=/usr/lib/etmem_fetch/my_engine.so\nops_name=my_engine_ops\n"
				 "engine_private_key=engine_private_value\n";

static void test_engine_thirdparty(void **state)
{
	struct parsed p;
	struct etm_engine_spec *ids = NULL;
	GString *err = g_string_new(NULL);
	struct etm_conf *conf;
	char name64[65], path256[257], big[300];

	(void)state;
	parse_text(BASE_THIRD, NULL, &p);
	assert_int_equal(p.rc, 0);
	assert_ptr_equal(p.eng->type, &etm_thirdparty_engine);
	assert_string_equal(p.eng->pub.name, "my_engine");
	assert_string_equal(p.eng->eng_name, "my_engine");
	assert_string_equal(p.eng->libname, "/usr/lib/etmem_fetch/my_engine.so");
	assert_string_equal(p.eng->ops_name, "my_engine_ops");
	assert_int_equal(p.eng->pub.engine_type, THIRDPARTY_ENGINE);
	assert_null(p.eng->pub.ops); /* the registry loads the plugin */
	parsed_clear(&p);

	/* The identity alone (obj del): project and eng_name, the type's name for built-ins. */
	conf = load(BASE_THIRD, err);
	assert_int_equal(etm_conf_parse_engine(conf, ETM_SPEC_IDS, &ids), 0);
	assert_string_equal(ids->project, "p");
	assert_string_equal(ids->id, "my_engine");
	assert_null(ids->libname);
	etm_engine_spec_free(ids);
	etm_conf_free(conf);
	conf = load(BASE_SLIDE, err);
	assert_int_equal(etm_conf_parse_engine(conf, ETM_SPEC_IDS, &ids), 0);
	assert_string_equal(ids->id, "slide");
	etm_engine_spec_free(ids);
	etm_conf_free(conf);
	g_string_free(err, TRUE);

	EDIT_ERR(BASE_THIRD, NULL, "engine/eng_name", "[engine] eng_name: missing (required for engine thirdparty)");
	EDIT_ERR(BASE_THIRD, NULL, "engine/eng_name=slide",
		 "[engine] eng_name=slide: clashes with a built-in engine name");
	EDIT_ERR(BASE_THIRD, NULL, "engine/eng_name=thirdparty", "clashes with a built-in engine name");
	EDIT_ERR(BASE_THIRD, NULL, "engine/libname", "[engine] libname: missing (required for engine thirdparty)");
	EDIT_ERR(BASE_THIRD, NULL, "engine/libname=my_engine.so",
		 "[engine] libname=my_engine.so: must be an absolute path");
	EDIT_ERR(BASE_THIRD, NULL, "engine/ops_name", "[engine] ops_name: missing (required for engine thirdparty)");
	EDIT_ERR(BASE_THIRD, NULL, "engine/ops_name=my-ops", "[engine] ops_name=my-ops: must be a C identifier");
	EDIT_ERR(BASE_THIRD, NULL, "engine/ops_name=1ops", "must be a C identifier");

	memset(name64, 'e', 64);
	name64[64] = 0;
	snprintf(big, sizeof(big), "engine/eng_name=%s", name64);
	EDIT_OK(BASE_THIRD, NULL, big);
	snprintf(big, sizeof(big), "engine/eng_name=%se", name64);
	EDIT_ERR(BASE_THIRD, NULL, big, "[engine] eng_name=", "too long (65 bytes), must be 1..64");
	path256[0] = '/';
	memset(path256 + 1, 'l', 255);
	path256[256] = 0;
	snprintf(big, sizeof(big), "engine/libname=%s", path256);
	EDIT_OK(BASE_THIRD, NULL, big);
	snprintf(big, sizeof(big), "engine/libname=%sl", path256);
	EDIT_ERR(BASE_THIRD, NULL, big, "[engine] libname=", "too long (257 bytes), must be 1..256");
	memset(path256, 'o', 256);
	snprintf(big, sizeof(big), "engine/ops_name=%s", path256);
	EDIT_OK(BASE_THIRD, NULL, big);
	snprintf(big, sizeof(big), "engine/ops_name=%so", path256);
	EDIT_ERR(BASE_THIRD, NULL, big, "[engine] ops_name=", "too long (257 bytes), must be 1..256");
}

/* An engine whose parser fails without saying why. */
static int fail_fill_eng(GKeyFile *kf, struct engine *eng)
{
	(void)kf;
	(void)eng;
	return -1;
}

static int fail_fill_task(GKeyFile *kf, struct task *tk)
{
	(void)kf;
	(void)tk;
	return 1;
}

static void test_engine_rejects_silently(void **state)
{
	static const struct engine_ops ops = { .fill_eng_params = fail_fill_eng, .fill_task_params = fail_fill_task };
	static const struct etm_engine_type type = {
		.name = "slide", .type = SLIDE_ENGINE, .scan_type = PAGE_SCAN, .ops = &ops
	};
	GString *err = g_string_new(NULL);
	struct etm_conf *conf = load(BASE_SLIDE, err);
	struct etm_project_spec *ps = NULL;
	struct etm_task_spec *ts = NULL;
	struct etm_project *proj;
	struct etm_engine *eng;
	struct etm_task *tk = NULL;

	(void)state;
	assert_int_equal(etm_conf_parse_project(conf, ETM_SPEC_FULL, &ps), 0);
	proj = etm_project_build(ps);
	eng = etm_engine_new(&type, "slide");
	eng->pub.proj = &proj->pub;
	assert_int_equal(etm_conf_parse_task(conf, ETM_SPEC_FULL, &ts), 0);
	assert_int_equal(etm_task_build(conf, ts, eng, &tk), -EINVAL);
	assert_null(tk);
	etm_project_spec_free(ps);
	etm_task_spec_free(ts);
	assert_string_equal(err->str, "config " TEST_CONF_NAME ": [task]: rejected by engine slide");
	etm_engine_free(eng);
	etm_project_free(proj);
	etm_conf_free(conf);
	g_string_free(err, TRUE);
}

static void test_missing_sections(void **state)
{
	GString *err = g_string_new(NULL);
	struct etm_conf *conf = load("[other]\nk=v\n", err);
	struct etm_project_spec *proj = NULL;
	struct etm_engine_spec *eng = NULL;
	struct etm_task_spec *tk = NULL;

	(void)state;
	assert_int_equal(etm_conf_parse_project(conf, ETM_SPEC_FULL, &proj), -EINVAL);
	assert_non_null(strstr(err->str, "[project]: section missing"));
	g_string_truncate(err, 0);
	assert_int_equal(etm_conf_parse_engine(conf, ETM_SPEC_IDS, &eng), -EINVAL);
	assert_non_null(strstr(err->str, "[engine]: section missing"));
	g_string_truncate(err, 0);
	assert_int_equal(etm_conf_parse_task(conf, ETM_SPEC_IDS, &tk), -EINVAL);
	assert_non_null(strstr(err->str, "[task]: section missing"));
	assert_null(proj);
	assert_null(eng);
	assert_null(tk);
	etm_conf_free(conf);
	g_string_free(err, TRUE);
}

#ifndef ETMEM_SOURCE_DIR
#define ETMEM_SOURCE_DIR "/work/main"
#endif

/* The shipped examples parse (cslide needs its nodes 0..3 to exist). */
static void test_examples(void **state)
{
	static const char *const files[] = { "slide_conf.yaml", "psi_conf.yaml", "thirdparty_conf.yaml",
					     "cslide_conf.yaml" };

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *path = g_strdup_printf("%s/conf/%s", ETMEM_SOURCE_DIR, files[i]);
		char *text = NULL;
		size_t len = 0;
		struct parsed p;

		assert_true(g_file_get_contents(path, &text, &len, NULL));
		parse_text(text, NULL, &p);
		if (strcmp(files[i], "cslide_conf.yaml") == 0 && p.rc) {
			/* A machine without nodes 2 and 3 (or with one node): only that may be wrong. */
			if (!strstr(p.err->str, "[engine] node_pair=2,0;3,1: ") ||
			    (!strstr(p.err->str, "is not present on this machine") &&
			     !strstr(p.err->str, "cslide needs a second NUMA node")))
				fail_msg("%s: %s", files[i], p.err->str);
		} else if (p.rc) {
			fail_msg("%s: %s", files[i], p.err->str);
		} else {
			assert_non_null(p.proj);
			assert_non_null(p.eng);
			assert_non_null(p.tk);
		}
		if (strcmp(files[i], "slide_conf.yaml") == 0) {
			assert_true(p.proj->pub.wmark_set);
			assert_int_equal(((struct slide_params *)p.tk->pub.params)->swap_threshold, 10ULL << 30);
		}
		parsed_clear(&p);
		g_free(text);
		g_free(path);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_int_strict),	   cmocka_unit_test(test_get_missing_and_first_error),
		cmocka_unit_test(test_get_double_strict),  cmocka_unit_test(test_get_str_yesno),
		cmocka_unit_test(test_error_value_quoted), cmocka_unit_test(test_load_data_errors),
		cmocka_unit_test(test_load_data_bounds),   cmocka_unit_test(test_project_ok),
		cmocka_unit_test(test_project_name),	   cmocka_unit_test(test_project_page_keys),
		cmocka_unit_test(test_project_scan_type),  cmocka_unit_test(test_project_region),
		cmocka_unit_test(test_project_sysmem),	   cmocka_unit_test(test_project_wmarks),
		cmocka_unit_test(test_engine_name),	   cmocka_unit_test(test_engine_scan_type_mismatch),
		cmocka_unit_test(test_engine_thirdparty),  cmocka_unit_test(test_engine_rejects_silently),
		cmocka_unit_test(test_missing_sections),   cmocka_unit_test(test_examples),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
