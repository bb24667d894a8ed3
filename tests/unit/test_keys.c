/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The key tables: every table the daemon has is well formed (documented
 * rows, unique names, defaults that parse within their range), the table
 * parser's generic behaviours (required by whom, defaults, aliases, enums,
 * custom rows, cross-key checks, cleanup), and the man page generator.
 */
#include <limits.h>

#include "daemon/keydoc.h"
#include "daemon/engines/cslide.h"
#include "daemon/engines/psi.h"
#include "test_config_util.h"

/* Every table: the section tables and each engine type's. */
static GPtrArray *all_tables(void)
{
	GPtrArray *a = g_ptr_array_new();

	for (size_t i = 0; etm_conf_section_tables[i]; i++)
		g_ptr_array_add(a, (gpointer)etm_conf_section_tables[i]);
	for (const struct etm_engine_type *const *t = etm_engine_types; *t; t++) {
		if ((*t)->engine_keys)
			g_ptr_array_add(a, (gpointer)(*t)->engine_keys);
		if ((*t)->task_keys)
			g_ptr_array_add(a, (gpointer)(*t)->task_keys);
	}
	return a;
}

static bool has_control(const char *s)
{
	for (; s && *s; s++) {
		if ((unsigned char)*s < 0x20)
			return true;
	}
	return false;
}

static void test_tables_well_formed(void **state)
{
	g_autoptr(GPtrArray) tables = all_tables();

	(void)state;
	assert_true(tables->len >= 11);
	for (guint i = 0; i < tables->len; i++) {
		const struct etm_key_table *t = tables->pdata[i];
		g_autofree void *params = g_malloc0(t->params_size);

		assert_non_null(t->title);
		assert_false(has_control(t->intro));
		assert_true(t->n_keys > 0 && t->n_keys <= ETM_KEY_TABLE_MAX);
		for (size_t k = 0; k < t->n_keys; k++) {
			const struct etm_key *key = &t->keys[k];

			if (!key->doc || !*key->doc)
				fail_msg("%s: %s has no doc line", t->title, key->name);
			/* roff, not C escapes: "\\fB" in the source, never a form feed. */
			if (has_control(key->doc) || has_control(key->range_doc))
				fail_msg("%s: %s's doc has a control character", t->title, key->name);
			if (etm_keys_find(t, key->name) != key)
				fail_msg("%s: %s twice", t->title, key->name);
			if (key->type == ETM_KEY_CUSTOM && !key->parse)
				fail_msg("%s: %s is custom without a parser", t->title, key->name);
			if (key->max_fn && !key->range_doc && !key->range_doc_fn)
				fail_msg("%s: %s has a computed bound the man page cannot say", t->title, key->name);
			if (key->type == ETM_KEY_ENUM && !key->values)
				fail_msg("%s: %s is an enum without values", t->title, key->name);
			/* A default is a value the row accepts. */
			if (etm_key_apply_default(key, params) != 0)
				fail_msg("%s: %s's default \"%s\" does not parse", t->title, key->name, key->def);
			if (key->offset + 1 > t->params_size && key->type != ETM_KEY_CUSTOM)
				fail_msg("%s: %s's offset is outside the params", t->title, key->name);
		}
		etm_keys_clear(t, params);
	}
}

/* ------------------------------------------------------ a table of tests */

struct demo {
	int n;
	uint64_t big;
	double ratio;
	bool on;
	char *text;
	int color;
	int custom;
};

static const struct etm_key_enum colors[] = { { "red", 1 }, { "green", 2 }, { "blue", 3 }, { NULL, 0 } };

static int custom_key(struct etm_conf *conf, const char *group, const struct etm_key *k, void *params, const void *ctx)
{
	long v = 0;
	int rc = etm_conf_get_int(conf, group, k->name, false, 0, 9, &v);

	assert_string_equal(ctx, "ctx");
	if (rc == 0)
		((struct demo *)params)->custom = (int)v * 10;
	return rc;
}

/* A range listed elsewhere, written at run time. */
static void custom_range(GString *out)
{
	g_string_append(out, "0..9, as another table says");
}

static long n_max(const void *params, const void *ctx)
{
	(void)params, (void)ctx;
	return 7;
}

static int demo_check(struct etm_conf *conf, const struct etm_key_table *t, void *params, const void *ctx,
		      uint64_t given)
{
	(void)ctx;
	assert_false(etm_keys_given(t, given, "nosuchkey"));
	if (((struct demo *)params)->on && etm_keys_given(t, given, "on") && !etm_keys_given(t, given, "text"))
		return etm_conf_error(conf, t->group, "text", NULL, "missing (required when on=yes)");
	return 0;
}

#define D struct demo
static const struct etm_key demo_keys[] = {
	{ .name = "n",
	  .type = ETM_KEY_INT,
	  .min = 1,
	  .max_fn = n_max,
	  .required = "for demo",
	  .alias = "n_alias",
	  .offset = ETM_KEY_AT(D, n, int),
	  .range_doc = "1..seven",
	  .doc = "n" },
	{ .name = "big",
	  .type = ETM_KEY_U64,
	  .min = 0,
	  .max = LONG_MAX,
	  .def = "5",
	  .offset = ETM_KEY_AT(D, big, uint64_t),
	  .doc = "big" },
	{ .name = "ratio",
	  .type = ETM_KEY_DOUBLE,
	  .dmin = 0,
	  .dmax = 1,
	  .def = "0.25",
	  .offset = ETM_KEY_AT(D, ratio, double),
	  .doc = "ratio" },
	{ .name = "on", .type = ETM_KEY_YESNO, .def = "yes", .offset = ETM_KEY_AT(D, on, bool), .doc = "on" },
	{ .name = "text", .type = ETM_KEY_STRING, .max = 4, .offset = ETM_KEY_AT(D, text, char *), .doc = "text" },
	{ .name = "color",
	  .type = ETM_KEY_ENUM,
	  .max = 8,
	  .values = colors,
	  .what = "color",
	  .def = "green",
	  .offset = ETM_KEY_AT(D, color, int),
	  .doc = "color" },
	{ .name = "custom",
	  .type = ETM_KEY_CUSTOM,
	  .parse = custom_key,
	  .range_doc_fn = custom_range,
	  .doc = "custom" },
};
#undef D

static const struct etm_key_table demo_table = {
	.group = "g",
	.title = "demo keys",
	.keys = demo_keys,
	.n_keys = G_N_ELEMENTS(demo_keys),
	.params_size = sizeof(struct demo),
	.check = demo_check,
};

/* Parse "[g]\n@body" with the demo table: the rc, the error in @err, the params in *out (NULL on error). */
static int demo_parse(const char *body, GString *err, struct demo **out)
{
	g_autofree char *text = g_strdup_printf("[g]\n%s", body);
	g_autoptr(etm_conf) conf = NULL;
	int rc;

	g_string_truncate(err, 0);
	assert_int_equal(etm_conf_load_data(TEST_CONF_NAME, text, strlen(text), &conf, err), 0);
	*out = etm_keys_parse_new(conf, &demo_table, "ctx", &rc);
	assert_true((rc == 0) == (*out != NULL));
	return rc;
}

static void test_table_parser(void **state)
{
	g_autoptr(GString) err = g_string_new(NULL);
	struct demo *d;

	(void)state;
	/* Defaults, and a string row owned by the params. */
	if (demo_parse("n=7\ntext=abcd\ncustom=3\n", err, &d))
		fail_msg("%s", err->str);
	assert_int_equal(d->n, 7);
	assert_int_equal(d->big, 5);
	assert_true(d->ratio == 0.25);
	assert_true(d->on);
	assert_string_equal(d->text, "abcd");
	assert_int_equal(d->color, 2);
	assert_int_equal(d->custom, 30);
	etm_keys_free(&demo_table, d);
	/* The alias, the enum, a u64 past 32 bits. */
	assert_int_equal(demo_parse("n_alias=2\ncolor=blue\nbig=9223372036854775807\non=no\n", err, &d), 0);
	assert_int_equal(d->n, 2);
	assert_int_equal(d->color, 3);
	assert_int_equal(d->big, (uint64_t)LONG_MAX);
	assert_false(d->on);
	etm_keys_free(&demo_table, d);
	/* Every error names the file, the section, the key, the value and the range. */
	assert_int_equal(demo_parse("on=no\n", err, &d), -EINVAL);
	assert_string_equal(err->str, "config " TEST_CONF_NAME ": [g] n: missing (required for demo)");
	assert_int_equal(demo_parse("n=8\n", err, &d), -EINVAL);
	assert_string_equal(err->str, "config " TEST_CONF_NAME ": [g] n=8: out of range, must be 1..7");
	assert_int_equal(demo_parse("n=2\nn_alias=3\n", err, &d), -EINVAL);
	assert_string_equal(err->str,
			    "config " TEST_CONF_NAME ": [g] n_alias=3: conflicts with n=2 (n_alias is an alias of n)");
	assert_int_equal(demo_parse("n=1\ncolor=pink\n", err, &d), -EINVAL);
	assert_string_equal(err->str,
			    "config " TEST_CONF_NAME ": [g] color=pink: unknown color, must be red, green or blue");
	assert_int_equal(demo_parse("n=1\ntext=abcde\n", err, &d), -EINVAL);
	assert_non_null(strstr(err->str, "[g] text=abcde: too long (5 bytes), must be 1..4 bytes"));
	assert_int_equal(demo_parse("n=1\ncustom=10\n", err, &d), -EINVAL);
	assert_non_null(strstr(err->str, "[g] custom=10: out of range, must be 0..9"));
	assert_int_equal(demo_parse("n=1\nratio=2\n", err, &d), -EINVAL);
	assert_non_null(strstr(err->str, "[g] ratio=2: out of range, must be 0..1"));
	/* The first error wins, in row order. */
	assert_int_equal(demo_parse("n=1\nbig=-1\ncolor=x\n", err, &d), -EINVAL);
	assert_non_null(strstr(err->str, "[g] big=-1: out of range"));
	/* The check runs after the rows: on given without text. */
	assert_int_equal(demo_parse("n=1\non=yes\n", err, &d), -EINVAL);
	assert_string_equal(err->str, "config " TEST_CONF_NAME ": [g] text: missing (required when on=yes)");
	/* An error after a string row frees it (ASan would see the leak). */
	assert_int_equal(demo_parse("n=1\ntext=ab\ncolor=x\n", err, &d), -EINVAL);
}

/* ---------------------------------------------------------------- keydoc */

static void test_keydoc(void **state)
{
	g_autoptr(GString) out = g_string_new(NULL), why = g_string_new(NULL);
	g_autofree char *name = etm_keydoc_block_name(&demo_table), *page = NULL, *updated = NULL;

	(void)state;
	assert_string_equal(name, "demo");
	etm_keydoc_key(&demo_keys[0], out);
	assert_string_equal(out->str, ".TP\n.BR n \" (required for demo) (alias n_alias)\"\n1..seven.\nn\n");
	g_string_truncate(out, 0);
	etm_keydoc_key(&demo_keys[5], out);
	assert_string_equal(
	    out->str, ".TP\n.B color\n\\fBred\\fP, \\fBgreen\\fP or \\fBblue\\fP, default \\fBgreen\\fP.\ncolor\n");
	g_string_truncate(out, 0);
	etm_keydoc_key(&demo_keys[6], out);
	assert_string_equal(out->str, ".TP\n.B custom\n0..9, as another table says.\ncustom\n");
	/* A page with every block, emptied, is filled back; one without a block is refused. */
	g_string_truncate(out, 0);
	etm_keydoc_all(out);
	assert_non_null(strstr(out->str, ".\\\" keys slide task: generated by etmemd-keydoc"));
	assert_non_null(strstr(out->str, ".\\\" keys psi task: "));
	assert_non_null(strstr(out->str, ".BR T \" (required for engine slide)\"\n0..loop\\(mu3.\n"));
	page = g_strdup(out->str);
	updated = etm_keydoc_update(page, why);
	assert_string_equal(updated, page);
	g_free(updated);
	updated = etm_keydoc_update(".TH X 5\n", why);
	assert_null(updated);
	assert_non_null(strstr(why->str, "no block \"keys project\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables_well_formed),
		cmocka_unit_test(test_table_parser),
		cmocka_unit_test(test_keydoc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
