/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The typed key getters and the table parser (keys.h). Every parse or range
 * error of a configuration key is written here, one line naming the file,
 * section, key, bad value and what would have been allowed.
 */
#include "keys.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------ raw values */

/*
 * The raw value of @key (escapes not processed: numbers have none), or NULL
 * when the key or its group is absent. GKeyFile strips blanks before a value
 * but keeps them after it; like g_key_file_get_integer() we ignore those
 * invisible trailing blanks rather than reject "loop=1 ".
 */
static char *raw_value(struct etm_conf *conf, const char *group, const char *key)
{
	char *v;

	if (!conf || !conf->kf)
		return NULL;
	v = g_key_file_get_value(conf->kf, group, key, NULL);
	return v ? g_strchomp(v) : NULL;
}

/* "missing (required)" or "missing (required WHY)". */
static int missing(struct etm_conf *conf, const char *group, const char *key, const char *why)
{
	if (why && *why)
		return etm_conf_error(conf, group, key, NULL, "missing (required %s)", why);
	return etm_conf_error(conf, group, key, NULL, "missing (required)");
}

/* Strict base-10 (glib's parser): optional sign, digits only, no blanks. -EINVAL or -ERANGE. */
static int parse_long(const char *s, long *out)
{
	g_autoptr(GError) gerr = NULL;
	gint64 v;

	if (!g_ascii_string_to_signed(s, 10, LONG_MIN, LONG_MAX, &v, &gerr))
		return g_error_matches(gerr, G_NUMBER_PARSER_ERROR, G_NUMBER_PARSER_ERROR_OUT_OF_BOUNDS) ? -ERANGE
													 : -EINVAL;
	*out = (long)v;
	return 0;
}

/* Strict: decimal digits, point and exponent only (no hex, inf, nan, blanks). */
static int parse_double(const char *s, double *out)
{
	bool digit = false;
	char *end;
	double d;

	for (const char *p = s; *p; p++) {
		if (g_ascii_isdigit(*p))
			digit = true;
		else if (!strchr(".eE+-", *p))
			return -EINVAL;
	}
	if (!digit)
		return -EINVAL;
	errno = 0;
	d = g_ascii_strtod(s, &end);
	if (end == s || *end)
		return -EINVAL;
	if (errno == ERANGE || !isfinite(d))
		return -ERANGE;
	*out = d;
	return 0;
}

/* ---------------------------------------------------------- typed getters */

int etm_conf_get_int(struct etm_conf *conf, const char *group, const char *key, bool required, long min, long max,
		     long *out)
{
	g_autofree char *v = raw_value(conf, group, key);
	long n = 0;
	int rc;

	if (!v)
		return required ? missing(conf, group, key, NULL) : -ENOENT;
	rc = parse_long(v, &n);
	if (rc == -EINVAL)
		return etm_conf_error(conf, group, key, v, "not an integer, must be %ld..%ld", min, max);
	if (rc == -ERANGE || n < min || n > max)
		return etm_conf_error(conf, group, key, v, "out of range, must be %ld..%ld", min, max);
	*out = n;
	return 0;
}

int etm_conf_get_double(struct etm_conf *conf, const char *group, const char *key, bool required, double min,
			double max, bool min_exclusive, double *out)
{
	g_autofree char *v = raw_value(conf, group, key);
	char range[96];
	double d = 0;
	int rc;

	if (!v)
		return required ? missing(conf, group, key, NULL) : -ENOENT;
	if (min_exclusive)
		snprintf(range, sizeof(range), "greater than %g and at most %g", min, max);
	else
		snprintf(range, sizeof(range), "%g..%g", min, max);
	rc = parse_double(v, &d);
	if (rc == -EINVAL)
		return etm_conf_error(conf, group, key, v, "not a number, must be %s", range);
	if (rc == -ERANGE || d < min || d > max || (min_exclusive && d == min))
		return etm_conf_error(conf, group, key, v, "out of range, must be %s", range);
	*out = d;
	return 0;
}

int etm_conf_get_yesno(struct etm_conf *conf, const char *group, const char *key, bool required, bool *out)
{
	g_autofree char *v = raw_value(conf, group, key);

	if (!v)
		return required ? missing(conf, group, key, NULL) : -ENOENT;
	if (strcmp(v, "yes") && strcmp(v, "no"))
		return etm_conf_error(conf, group, key, v, "must be yes or no");
	*out = strcmp(v, "yes") == 0;
	return 0;
}

/* A string value failed glib's unescaping or UTF-8 check: quote the raw text. */
static int invalid_string(struct etm_conf *conf, const char *group, const char *key, const GError *gerr)
{
	g_autofree char *raw = raw_value(conf, group, key);

	return etm_conf_error(conf, group, key, raw ? raw : "", "invalid string: %s", gerr ? gerr->message : "?");
}

int etm_conf_get_str(struct etm_conf *conf, const char *group, const char *key, bool required, size_t maxlen,
		     char **out)
{
	g_autoptr(GError) gerr = NULL;
	g_autofree char *v = NULL;
	size_t len;

	if (!conf || !conf->kf || !g_key_file_has_key(conf->kf, group, key, NULL))
		return required ? missing(conf, group, key, NULL) : -ENOENT;
	v = g_key_file_get_string(conf->kf, group, key, &gerr);
	if (!v)
		return invalid_string(conf, group, key, gerr);
	len = strlen(g_strchomp(v));
	if (len == 0)
		return etm_conf_error(conf, group, key, "", "empty, must be 1..%zu bytes", maxlen);
	if (len > maxlen)
		return etm_conf_error(conf, group, key, v, "too long (%zu bytes), must be 1..%zu bytes", len, maxlen);
	/* Names end up in `project show` and in logs: no control characters. */
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return etm_conf_error(conf, group, key, v, "contains a control character");
	}
	g_free(*out);
	*out = g_steal_pointer(&v);
	return 0;
}

/* ------------------------------------------------------------ row values */

static void *field(const struct etm_key *k, void *params)
{
	return (char *)params + k->offset;
}

static long key_max(const struct etm_key *k, const void *params, const void *ctx)
{
	return k->max_fn ? k->max_fn(params, ctx) : (long)k->max;
}

/* ETM_KEY_U64 rows point at uint64_t or unsigned long fields (the ABI's region_scan): one size, 64-bit only. */
_Static_assert(sizeof(unsigned long) == sizeof(uint64_t), "ETM_KEY_U64 needs an LP64 target");

static void store_int(const struct etm_key *k, void *params, long v)
{
	if (k->type == ETM_KEY_INT) {
		int i = (int)v;

		memcpy(field(k, params), &i, sizeof(i));
	} else {
		uint64_t u = (uint64_t)v;

		memcpy(field(k, params), &u, sizeof(u));
	}
}

/*
 * An integer row, possibly with an alias (the spec writes
 * swapcache_*_vmark in its examples): either spelling works, both with
 * different values do not.
 */
static int read_int(struct etm_conf *conf, const char *group, const struct etm_key *k, void *params, const void *ctx)
{
	long min = (long)k->min, max = key_max(k, params, ctx), a = 0, b = 0;
	int ra, rb = -ENOENT;

	ra = etm_conf_get_int(conf, group, k->name, false, min, max, &a);
	if (ra && ra != -ENOENT)
		return ra;
	if (k->alias && (rb = etm_conf_get_int(conf, group, k->alias, false, min, max, &b)) && rb != -ENOENT)
		return rb;
	if (ra == 0 && rb == 0 && a != b) {
		char v[32];

		snprintf(v, sizeof(v), "%ld", b);
		return etm_conf_error(conf, group, k->alias, v, "conflicts with %s=%ld (%s is an alias of %s)", k->name,
				      a, k->alias, k->name);
	}
	if (ra && rb)
		return -ENOENT;
	store_int(k, params, ra == 0 ? a : b);
	return 0;
}

/* "a, b or c" */
static char *enum_names(const struct etm_key_enum *values)
{
	GString *s = g_string_new(NULL);

	for (const struct etm_key_enum *e = values; e->name; e++) {
		if (e != values)
			g_string_append(s, e[1].name ? ", " : " or ");
		g_string_append(s, e->name);
	}
	return g_string_free(s, FALSE);
}

static int enum_value(const struct etm_key *k, const char *v, int *out)
{
	for (const struct etm_key_enum *e = k->values; e->name; e++) {
		if (strcmp(v, e->name) == 0) {
			*out = e->value;
			return 0;
		}
	}
	return -EINVAL;
}

static int read_enum(struct etm_conf *conf, const char *group, const struct etm_key *k, void *params)
{
	g_autofree char *v = NULL, *names = NULL;
	int rc = etm_conf_get_str(conf, group, k->name, false, (size_t)k->max, &v), value;

	if (rc)
		return rc;
	if (enum_value(k, v, &value) == 0) {
		memcpy(field(k, params), &value, sizeof(value));
		return 0;
	}
	names = enum_names(k->values);
	if (k->what)
		return etm_conf_error(conf, group, k->name, v, "unknown %s, must be %s", k->what, names);
	return etm_conf_error(conf, group, k->name, v, "must be %s", names);
}

static int read_string(struct etm_conf *conf, const char *group, const struct etm_key *k, void *params)
{
	char **dst = field(k, params);
	char *v = NULL;
	int rc = etm_conf_get_str(conf, group, k->name, false, (size_t)k->max, &v);

	if (rc)
		return rc;
	g_free(*dst);
	*dst = v;
	return 0;
}

/* One row: 0, -ENOENT (absent) or -EINVAL. */
static int read_row(struct etm_conf *conf, const char *group, const struct etm_key *k, void *params, const void *ctx)
{
	switch (k->type) {
	case ETM_KEY_INT:
	case ETM_KEY_U64:
		return read_int(conf, group, k, params, ctx);
	case ETM_KEY_DOUBLE:
		return etm_conf_get_double(conf, group, k->name, false, k->dmin, k->dmax, k->dmin_excl,
					   field(k, params));
	case ETM_KEY_YESNO:
		return etm_conf_get_yesno(conf, group, k->name, false, field(k, params));
	case ETM_KEY_STRING:
		return read_string(conf, group, k, params);
	case ETM_KEY_ENUM:
		return read_enum(conf, group, k, params);
	case ETM_KEY_CUSTOM:
		return k->parse(conf, group, k, params, ctx);
	}
	return -EINVAL;
}

int etm_key_apply_default(const struct etm_key *k, void *params)
{
	long n;
	int e;

	if (!k->def)
		return 0;
	switch (k->type) {
	case ETM_KEY_INT:
	case ETM_KEY_U64:
		if (parse_long(k->def, &n) || n < k->min || (!k->max_fn && n > k->max))
			return -EINVAL;
		store_int(k, params, n);
		return 0;
	case ETM_KEY_DOUBLE:
		return parse_double(k->def, field(k, params));
	case ETM_KEY_YESNO:
		if (strcmp(k->def, "yes") && strcmp(k->def, "no"))
			return -EINVAL;
		*(bool *)field(k, params) = strcmp(k->def, "yes") == 0;
		return 0;
	case ETM_KEY_STRING:
		g_free(*(char **)field(k, params));
		*(char **)field(k, params) = g_strdup(k->def);
		return 0;
	case ETM_KEY_ENUM:
		if (enum_value(k, k->def, &e))
			return -EINVAL;
		memcpy(field(k, params), &e, sizeof(e));
		return 0;
	case ETM_KEY_CUSTOM:
		break;
	}
	return -EINVAL;
}

/* ----------------------------------------------------------------- tables */

int etm_keys_parse(struct etm_conf *conf, const struct etm_key_table *t, void *params, const void *ctx)
{
	uint64_t given = 0;
	int rc;

	g_return_val_if_fail(t->n_keys <= ETM_KEY_TABLE_MAX, -EINVAL);
	for (size_t i = 0; i < t->n_keys; i++) {
		if (etm_key_apply_default(&t->keys[i], params))
			return etm_conf_error(conf, t->group, t->keys[i].name, t->keys[i].def, "bad default (a bug)");
	}
	for (size_t i = 0; i < t->n_keys; i++) {
		const struct etm_key *k = &t->keys[i];

		rc = read_row(conf, t->group, k, params, ctx);
		if (rc == -ENOENT && k->required)
			return missing(conf, t->group, k->name, k->required);
		if (rc && rc != -ENOENT)
			return rc;
		if (rc == 0)
			given |= UINT64_C(1) << i;
	}
	return t->check ? t->check(conf, t, params, ctx, given) : 0;
}

void *etm_keys_parse_new(struct etm_conf *conf, const struct etm_key_table *t, const void *ctx, int *rc)
{
	void *params = g_malloc0(t->params_size);

	*rc = etm_keys_parse(conf, t, params, ctx);
	if (*rc == 0)
		return params;
	etm_keys_free(t, params);
	return NULL;
}

void etm_keys_clear(const struct etm_key_table *t, void *params)
{
	if (!t || !params)
		return;
	for (size_t i = 0; i < t->n_keys; i++) {
		const struct etm_key *k = &t->keys[i];

		if (k->type == ETM_KEY_STRING)
			g_clear_pointer((char **)field(k, params), g_free);
		else if (k->type == ETM_KEY_CUSTOM && k->free)
			k->free(k, params);
	}
}

void etm_keys_free(const struct etm_key_table *t, void *params)
{
	etm_keys_clear(t, params);
	g_free(params);
}

const struct etm_key *etm_keys_find(const struct etm_key_table *t, const char *name)
{
	for (size_t i = 0; i < t->n_keys; i++) {
		if (strcmp(t->keys[i].name, name) == 0)
			return &t->keys[i];
	}
	return NULL;
}

bool etm_keys_given(const struct etm_key_table *t, uint64_t given, const char *name)
{
	const struct etm_key *k = etm_keys_find(t, name);

	return k && (given >> (size_t)(k - t->keys)) & 1;
}
