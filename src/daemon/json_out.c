/* SPDX-License-Identifier: MulanPSL-2.0 */
/* The daemon's JSON writer (see json_out.h). */
#include "json_out.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "common/log.h"

/* Before a value or a member name: the comma after a sibling, and the indent. */
static void prefix(struct etm_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth == 0)
		return;
	if (j->need_comma[j->depth])
		g_string_append_c(j->out, ',');
	g_string_append_c(j->out, '\n');
	for (int i = 0; i < j->depth; i++)
		g_string_append(j->out, "  ");
	j->need_comma[j->depth] = true;
}

static void open_container(struct etm_json *j, char c)
{
	prefix(j);
	g_string_append_c(j->out, c);
	if (j->depth == ETM_JSON_MAX_DEPTH) {
		etm_err("JSON output nested deeper than %d levels", ETM_JSON_MAX_DEPTH);
		return;
	}
	j->need_comma[++j->depth] = false;
}

static void close_container(struct etm_json *j, char c)
{
	bool empty = !j->need_comma[j->depth];

	if (j->depth > 0)
		j->depth--;
	if (!empty) {
		g_string_append_c(j->out, '\n');
		for (int i = 0; i < j->depth; i++)
			g_string_append(j->out, "  ");
	}
	g_string_append_c(j->out, c);
}

void etm_json_begin_object(struct etm_json *j)
{
	open_container(j, '{');
}

void etm_json_end_object(struct etm_json *j)
{
	close_container(j, '}');
}

void etm_json_begin_array(struct etm_json *j)
{
	open_container(j, '[');
}

void etm_json_end_array(struct etm_json *j)
{
	close_container(j, ']');
}

void etm_json_begin(struct etm_json *j, GString *out, const char *kind)
{
	*j = (struct etm_json){ .out = out };
	etm_json_begin_object(j);
	etm_json_u64(j, "schema_version", ETM_JSON_SCHEMA_VERSION);
	etm_json_str(j, "kind", kind);
}

void etm_json_end(struct etm_json *j)
{
	etm_json_end_object(j);
	g_string_append_c(j->out, '\n');
}

/* A JSON string of @s: valid UTF-8, with '"', '\\' and control characters escaped. */
static void quoted(GString *out, const char *s)
{
	g_autofree char *valid = g_utf8_make_valid(s, -1);

	g_string_append_c(out, '"');
	for (const unsigned char *p = (const unsigned char *)valid; *p; p++) {
		switch (*p) {
		case '"':
			g_string_append(out, "\\\"");
			break;
		case '\\':
			g_string_append(out, "\\\\");
			break;
		case '\n':
			g_string_append(out, "\\n");
			break;
		case '\t':
			g_string_append(out, "\\t");
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				g_string_append_printf(out, "\\u%04x", *p);
			else
				g_string_append_c(out, (char)*p);
		}
	}
	g_string_append_c(out, '"');
}

void etm_json_key(struct etm_json *j, const char *key)
{
	prefix(j);
	quoted(j->out, key);
	g_string_append(j->out, ": ");
	j->after_key = true;
}

void etm_json_add_str(struct etm_json *j, const char *s)
{
	if (!s) {
		etm_json_add_null(j);
		return;
	}
	prefix(j);
	quoted(j->out, s);
}

void etm_json_add_u64(struct etm_json *j, uint64_t v)
{
	prefix(j);
	g_string_append_printf(j->out, "%" PRIu64, v);
}

void etm_json_add_i64(struct etm_json *j, int64_t v)
{
	prefix(j);
	g_string_append_printf(j->out, "%" PRId64, v);
}

void etm_json_add_double(struct etm_json *j, double v)
{
	char buf[G_ASCII_DTOSTR_BUF_SIZE];

	if (!isfinite(v)) {
		etm_json_add_null(j);
		return;
	}
	prefix(j);
	/* Text that reads back as @v, in the C locale whatever the daemon's: 15 digits when they do, else 17. */
	g_ascii_formatd(buf, sizeof(buf), "%.15g", v);
	if (g_ascii_strtod(buf, NULL) != v)
		g_ascii_formatd(buf, sizeof(buf), "%.17g", v);
	g_string_append(j->out, buf);
	/* "1" would be read back as an integer: a double stays a number with a point or exponent. */
	if (!strpbrk(buf, ".eE"))
		g_string_append(j->out, ".0");
}

void etm_json_add_bool(struct etm_json *j, bool v)
{
	prefix(j);
	g_string_append(j->out, v ? "true" : "false");
}

void etm_json_add_null(struct etm_json *j)
{
	prefix(j);
	g_string_append(j->out, "null");
}

void etm_json_str(struct etm_json *j, const char *key, const char *s)
{
	etm_json_key(j, key);
	etm_json_add_str(j, s);
}

void etm_json_u64(struct etm_json *j, const char *key, uint64_t v)
{
	etm_json_key(j, key);
	etm_json_add_u64(j, v);
}

void etm_json_i64(struct etm_json *j, const char *key, int64_t v)
{
	etm_json_key(j, key);
	etm_json_add_i64(j, v);
}

void etm_json_double(struct etm_json *j, const char *key, double v)
{
	etm_json_key(j, key);
	etm_json_add_double(j, v);
}

void etm_json_bool(struct etm_json *j, const char *key, bool v)
{
	etm_json_key(j, key);
	etm_json_add_bool(j, v);
}

void etm_json_null(struct etm_json *j, const char *key)
{
	etm_json_key(j, key);
	etm_json_add_null(j);
}
