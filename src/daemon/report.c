/* SPDX-License-Identifier: MulanPSL-2.0 */
/* Reports of engine private commands and their renderings (see report.h). */
#include "report.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>

#include "common/log.h"
#include "json_out.h"

struct cell {
	bool set;
	union {
		int64_t i;
		uint64_t u;
		double d;
		char *s; /* owned */
	};
};

struct etm_table {
	const char *name;
	char *title; /* a copy: titles may carry a pid ("task 42 pages info (KB):") */
	const struct etm_col *cols;
	size_t ncols;
	time_t when;   /* 0: no time stamp */
	GArray *cells; /* of struct cell, ncols per row */
};

struct etm_report {
	GPtrArray *tables; /* of struct etm_table */
	GPtrArray *notes;  /* of char * */
};

static void table_free(gpointer p)
{
	struct etm_table *t = p;

	for (size_t i = 0; i < t->cells->len; i++) {
		struct cell *c = &g_array_index(t->cells, struct cell, i);

		if (c->set && t->cols[i % t->ncols].type == ETM_COL_TEXT)
			g_free(c->s);
	}
	g_array_free(t->cells, TRUE);
	g_free(t->title);
	g_free(t);
}

struct etm_report *etm_report_new(void)
{
	struct etm_report *r = g_new0(struct etm_report, 1);

	r->tables = g_ptr_array_new_with_free_func(table_free);
	r->notes = g_ptr_array_new_with_free_func(g_free);
	return r;
}

void etm_report_free(struct etm_report *r)
{
	if (!r)
		return;
	g_ptr_array_free(r->tables, TRUE);
	g_ptr_array_free(r->notes, TRUE);
	g_free(r);
}

struct etm_table *etm_report_table(struct etm_report *r, const char *name, const char *title,
				   const struct etm_col *cols, size_t ncols)
{
	struct etm_table *t = g_new0(struct etm_table, 1);

	t->name = name;
	t->title = g_strdup(title);
	t->cols = cols;
	t->ncols = ncols;
	t->cells = g_array_new(FALSE, TRUE, sizeof(struct cell));
	g_ptr_array_add(r->tables, t);
	return t;
}

void etm_table_set_time(struct etm_table *t, time_t when)
{
	t->when = when;
}

void etm_table_row(struct etm_table *t)
{
	g_array_set_size(t->cells, t->cells->len + t->ncols);
}

size_t etm_table_rows(const struct etm_table *t)
{
	return t->ncols ? t->cells->len / t->ncols : 0;
}

/* The cell @col of the last row, when it exists and has @type; else NULL (a bug in the engine: logged). */
static struct cell *last_cell(struct etm_table *t, size_t col, enum etm_col_type type)
{
	struct cell *c;

	if (col >= t->ncols || !etm_table_rows(t) || t->cols[col].type != type) {
		etm_err("report %s: cell %zu of type %d does not match the table", t->name, col, (int)type);
		return NULL;
	}
	c = &g_array_index(t->cells, struct cell, t->cells->len - t->ncols + col);
	if (c->set && type == ETM_COL_TEXT)
		g_free(c->s);
	c->set = true;
	return c;
}

void etm_table_int(struct etm_table *t, size_t col, int64_t v)
{
	struct cell *c = last_cell(t, col, ETM_COL_INT);

	if (c)
		c->i = v;
}

void etm_table_u64(struct etm_table *t, size_t col, uint64_t v)
{
	struct cell *c = last_cell(t, col, ETM_COL_U64);

	if (c)
		c->u = v;
}

void etm_table_double(struct etm_table *t, size_t col, double v)
{
	struct cell *c = last_cell(t, col, ETM_COL_DOUBLE);

	if (c)
		c->d = v;
}

void etm_table_text(struct etm_table *t, size_t col, const char *v)
{
	struct cell *c = last_cell(t, col, ETM_COL_TEXT);

	if (c)
		c->s = g_strdup(v ? v : "");
}

void etm_report_note(struct etm_report *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_ptr_array_add(r->notes, g_strdup_vprintf(fmt, ap));
	va_end(ap);
}

/* ---- text --------------------------------------------------------------- */

/* "[Sat Nov 21 10:00:00 2026] ": asctime()'s layout in local time, as the original printed it. */
static void render_stamp(GString *out, time_t t)
{
	struct tm tm;
	char buf[64];

	if (localtime_r(&t, &tm) && strftime(buf, sizeof(buf), "%a %b %e %H:%M:%S %Y", &tm))
		g_string_append_printf(out, "[%s] ", buf);
}

static void cell_text(const struct etm_col *col, const struct cell *c, GString *out)
{
	unsigned div = col->text_div > 1 ? col->text_div : 1;

	if (!c->set) {
		g_string_append_printf(out, "%*s", col->width, "-");
		return;
	}
	switch (col->type) {
	case ETM_COL_INT:
		g_string_append_printf(out, "%*" PRId64, col->width, c->i);
		break;
	case ETM_COL_U64:
		g_string_append_printf(out, "%*" PRIu64, col->width, c->u / div);
		break;
	case ETM_COL_DOUBLE:
		g_string_append_printf(out, "%*.*f", col->width, col->precision, c->d);
		break;
	case ETM_COL_TEXT:
		g_string_append_printf(out, "%*s", col->width, c->s);
		break;
	}
}

static void table_text(const struct etm_table *t, GString *out)
{
	if (t->when)
		render_stamp(out, t->when);
	if (t->title || t->when)
		g_string_append_printf(out, "%s\n", t->title ? t->title : "");
	for (size_t k = 0; k < t->ncols; k++)
		g_string_append_printf(out, "%s%*s", k ? " " : "", t->cols[k].width, t->cols[k].header);
	g_string_append_c(out, '\n');
	for (size_t row = 0; row < etm_table_rows(t); row++) {
		for (size_t k = 0; k < t->ncols; k++) {
			if (k)
				g_string_append_c(out, ' ');
			cell_text(&t->cols[k], &g_array_index(t->cells, struct cell, row * t->ncols + k), out);
		}
		g_string_append_c(out, '\n');
	}
}

void etm_report_render_text(const struct etm_report *r, GString *out)
{
	for (size_t i = 0; i < r->notes->len; i++)
		g_string_append_printf(out, "%s\n", (const char *)g_ptr_array_index(r->notes, i));
	for (size_t i = 0; i < r->tables->len; i++) {
		if (i)
			g_string_append_c(out, '\n');
		table_text(g_ptr_array_index(r->tables, i), out);
	}
}

/* ---- JSON --------------------------------------------------------------- */

static void cell_json(const struct etm_col *col, const struct cell *c, struct etm_json *b)
{
	etm_json_key(b, col->name);
	if (!c->set) {
		etm_json_add_null(b);
		return;
	}
	switch (col->type) {
	case ETM_COL_INT:
		etm_json_add_i64(b, c->i);
		break;
	case ETM_COL_U64:
		etm_json_add_u64(b, c->u);
		break;
	case ETM_COL_DOUBLE:
		etm_json_add_double(b, c->d);
		break;
	case ETM_COL_TEXT:
		etm_json_add_str(b, c->s);
		break;
	}
}

static void table_json(const struct etm_table *t, struct etm_json *b)
{
	etm_json_begin_object(b);
	etm_json_str(b, "name", t->name);
	etm_json_str(b, "title", t->title);
	if (t->when)
		etm_json_i64(b, "time_unix_seconds", (int64_t)t->when);
	else
		etm_json_null(b, "time_unix_seconds");
	etm_json_key(b, "columns");
	etm_json_begin_array(b);
	for (size_t k = 0; k < t->ncols; k++) {
		etm_json_begin_object(b);
		etm_json_str(b, "name", t->cols[k].name);
		etm_json_str(b, "header", t->cols[k].header);
		etm_json_end_object(b);
	}
	etm_json_end_array(b);
	etm_json_key(b, "rows");
	etm_json_begin_array(b);
	for (size_t row = 0; row < etm_table_rows(t); row++) {
		etm_json_begin_object(b);
		for (size_t k = 0; k < t->ncols; k++)
			cell_json(&t->cols[k], &g_array_index(t->cells, struct cell, row * t->ncols + k), b);
		etm_json_end_object(b);
	}
	etm_json_end_array(b);
	etm_json_end_object(b);
}

void etm_report_render_json(const struct etm_report *r, struct etm_json *b)
{
	etm_json_key(b, "notes");
	etm_json_begin_array(b);
	for (size_t i = 0; i < r->notes->len; i++)
		etm_json_add_str(b, g_ptr_array_index(r->notes, i));
	etm_json_end_array(b);
	etm_json_key(b, "tables");
	etm_json_begin_array(b);
	for (size_t i = 0; i < r->tables->len; i++)
		table_json(g_ptr_array_index(r->tables, i), b);
	etm_json_end_array(b);
}
