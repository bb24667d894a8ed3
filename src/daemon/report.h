/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Reports: what a built-in engine's private command answers (cslide's
 * showhostpages and showtaskpages, psi's pressure, slide's heatmap), as data
 * rather than text, like the figures of `project show` (figures.h). The
 * engine fills a report with tables; the daemon renders it as the text the
 * spec requires or as JSON (docs/json.md), whichever the client asked for,
 * so an engine describes its output once and never formats it.
 *
 * A table has:
 *  - a name: stable, snake_case, the JSON "name" ("host_pages");
 *  - a title: the text line before the header, as the command has always
 *    printed it ("host pages info (KB):"), optionally after a time stamp
 *    ("[Sat Nov 21 10:00:00 2026] ", asctime's layout: the original's);
 *  - columns (struct etm_col): a stable snake_case name with its unit last
 *    (the JSON key: "total_bytes", "pressure_percent", "node"), the text
 *    header ("total"), a type, a text width, and a text divisor, so that the
 *    JSON keeps base units (bytes) while the text keeps the spec's (KB);
 *  - rows of cells, set by column; a cell never set is JSON null, "-" in
 *    the text.
 * A report also carries notes: lines of text that say something instead
 * of (or besides) the tables ("no page figures yet: ...").
 *
 * Text: the title line, then the header and each row as the columns' cells
 * right-aligned to their width (left-aligned for a negative width) and
 * joined by one space: printf's "%5s %10s", which is how the original
 * printed its tables; a value wider than its column widens it. Tables are
 * separated by an empty line; notes come first.
 */
#ifndef ETM_REPORT_H
#define ETM_REPORT_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum etm_col_type {
	ETM_COL_INT,	/* int64_t: a node number, a pid */
	ETM_COL_U64,	/* uint64_t: counts, bytes */
	ETM_COL_DOUBLE, /* double: rates, percentages, seconds */
	ETM_COL_TEXT,	/* a string (a cgroup path, a backend name) */
};

struct etm_col {
	const char *name;   /* JSON key, snake_case, unit last: "hot_bytes" */
	const char *header; /* text header: "hot" */
	enum etm_col_type type;
	int width;	   /* text: minimum width, right-aligned; negative: left-aligned */
	unsigned text_div; /* U64 text shows value / text_div (1024: bytes as KB); 0 or 1: as is */
	int precision;	   /* DOUBLE text: digits after the point */
};

struct etm_report;
struct etm_table;
typedef struct etm_report etm_report;

struct etm_report *etm_report_new(void);
void etm_report_free(struct etm_report *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(etm_report, etm_report_free)

/*
 * A new table at the end of @r. @name and @cols are static (or outlive
 * the report); @title is copied and may be NULL (no title line). Returns
 * the table, valid as long as the report.
 */
struct etm_table *etm_report_table(struct etm_report *r, const char *name, const char *title,
				   const struct etm_col *cols, size_t ncols);
/* When the table's figures were taken: "[asctime] " before the title; JSON "time_unix_seconds". */
void etm_table_set_time(struct etm_table *t, time_t when);
/* A new row; the cell setters below fill the last row. */
void etm_table_row(struct etm_table *t);
/* Cells of the last row by column index; a type other than the column's is a bug (logged, ignored). */
void etm_table_int(struct etm_table *t, size_t col, int64_t v);
void etm_table_u64(struct etm_table *t, size_t col, uint64_t v);
void etm_table_double(struct etm_table *t, size_t col, double v);
void etm_table_text(struct etm_table *t, size_t col, const char *v);
size_t etm_table_rows(const struct etm_table *t);

/* A line of text (no newline): before the tables in the text, "notes" in JSON. */
void etm_report_note(struct etm_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The text (see above), appended to @out. */
void etm_report_render_text(const struct etm_report *r, GString *out);

/*
 * The JSON "tables" and "notes" members of the current object (the
 * command's document, docs/json.md): each table as {name, title,
 * time_unix_seconds, columns: [{name, header}], rows: [{column: value}]}.
 */
struct etm_json;
void etm_report_render_json(const struct etm_report *r, struct etm_json *b);

#endif
