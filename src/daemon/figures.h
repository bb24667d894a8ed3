/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Figures as data: what an engine reports about one task for `project show`,
 * as a list of typed fields rather than text. The text of `project show`,
 * its JSON (docs/json.md) and the metrics (docs/metrics.md) are all rendered
 * from the list, so an engine describes each figure once and every output
 * gets it without engine changes.
 *
 * A field carries:
 *  - name: stable, machine-readable, snake_case, its unit last (`_bytes`,
 *    `_seconds`, `_pages`; no unit for plain counts). It is the JSON key and,
 *    prefixed, the metric family name: never rename one, add a new field.
 *  - kind: gauge (a value now), counter (only grows while the task runs:
 *    a metric `NAME_total`) or info (text: a label in metrics, not a sample).
 *  - a value: u64, double, text, a list of u64 with its full count, or a map
 *    of u64 by a fixed set of keys (errors by kind: one metric sample per
 *    key, labelled); or unknown (JSON null, no metric sample, a word such
 *    as "n/a" in the text); or items: a list of objects the task acts on
 *    (psi's cgroups), each a set of figures of its own whose first field
 *    names it (a JSON array of objects; in metrics, that first field as a
 *    label of the others).
 *  - label: the human text of `project show` ("bytes swapped out"), also
 *    the metric's HELP.
 *  - note: optional text-only remark printed after the value.
 */
#ifndef ETM_FIGURES_H
#define ETM_FIGURES_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

enum etm_fig_kind {
	ETM_FIG_GAUGE,
	ETM_FIG_COUNTER,
	ETM_FIG_INFO,
};

enum etm_fig_type {
	ETM_FIG_U64,
	ETM_FIG_DOUBLE,
	ETM_FIG_TEXT,
	ETM_FIG_LIST,  /* u64 values, at most ETM_FIG_LIST_MAX shown, and the full count */
	ETM_FIG_MAP,   /* u64 values by key (at most ETM_FIG_LIST_MAX keys) */
	ETM_FIG_ITEMS, /* a struct etm_figures per item, and the full count (some may be left out) */
};

#define ETM_FIG_LIST_MAX 16

struct etm_figure {
	const char *name;  /* static: "swapped_out_bytes" */
	const char *label; /* static: "bytes swapped out" */
	enum etm_fig_kind kind;
	enum etm_fig_type type;
	gboolean known;				/* FALSE: the value is unknown (unknown_text in the text) */
	const char *unknown_text;		/* static; "n/a" unless given */
	uint64_t u64;				/* ETM_FIG_U64; ETM_FIG_LIST: the full count */
	double dbl;				/* ETM_FIG_DOUBLE */
	char *text;				/* ETM_FIG_TEXT (owned) */
	uint64_t list[ETM_FIG_LIST_MAX];	/* ETM_FIG_LIST, ETM_FIG_MAP: the values */
	size_t list_len;			/* values in list[] */
	const char *map_label;			/* ETM_FIG_MAP: static; the metric label of the keys */
	const char *map_keys[ETM_FIG_LIST_MAX]; /* ETM_FIG_MAP: static; snake_case */
	char *note;				/* owned, may be NULL */
	gboolean no_metric;			/* shown and in JSON, but no metric (free text: an error message) */
	GPtrArray *items;			/* ETM_FIG_ITEMS: struct etm_figures * (owned) */
};

/* The fields of one task, in the order the text shows them. */
struct etm_figures {
	GArray *fields; /* of struct etm_figure */
};
typedef struct etm_figures etm_figures;

struct etm_figures *etm_figures_new(void);
void etm_figures_free(struct etm_figures *figs);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(etm_figures, etm_figures_free)

/* Adders: @name and @label must be static strings. Each returns the new field (valid until the next add). */
struct etm_figure *etm_fig_u64(struct etm_figures *figs, const char *name, enum etm_fig_kind kind, const char *label,
			       uint64_t v);
/* A double; a name ending in _seconds renders as "%.3f s" in the text, others as "%g". */
struct etm_figure *etm_fig_double(struct etm_figures *figs, const char *name, enum etm_fig_kind kind, const char *label,
				  double v);
struct etm_figure *etm_fig_text(struct etm_figures *figs, const char *name, const char *label, const char *v);
/* @count values in all, the first min(@n, ETM_FIG_LIST_MAX) of them in @vals. */
struct etm_figure *etm_fig_list(struct etm_figures *figs, const char *name, const char *label, const uint64_t *vals,
				size_t n, uint64_t count);
/*
 * @n (at most ETM_FIG_LIST_MAX) values by key: @keys are static snake_case
 * words, the same set every time (a metric label @map_label, "kind").
 * Text: "TOTAL (key N, ...)" with the non-zero ones; JSON: an object.
 */
struct etm_figure *etm_fig_map(struct etm_figures *figs, const char *name, enum etm_fig_kind kind, const char *label,
			       const char *map_label, const char *const *keys, const uint64_t *vals, size_t n);
/* A field whose value is not known now: @unknown_text (static) stands in the text ("n/a" when NULL). */
struct etm_figure *etm_fig_unknown(struct etm_figures *figs, const char *name, enum etm_fig_kind kind,
				   enum etm_fig_type type, const char *label, const char *unknown_text);
/*
 * A list of items (one per cgroup, ...): @count of them in all, those the
 * engine adds with etm_fig_item() shown. Each item is a set of figures
 * whose first field names it (a text info field).
 */
struct etm_figure *etm_fig_items(struct etm_figures *figs, const char *name, const char *label, uint64_t count);
/*
 * A new, empty item at the end of the items field @list, filled with the
 * adders above; owned by @list. @list is the pointer etm_fig_items()
 * returned: valid until the next field is added to its own set (the
 * item's fields may be added meanwhile).
 */
struct etm_figures *etm_fig_item(struct etm_figure *list);
/*
 * Keep @fig out of the metrics: free text such as an error message would be
 * a label whose every new value is a new series (the errors are counted by
 * kind instead).
 */
void etm_fig_no_metric(struct etm_figure *fig);
/* A text-only remark after @fig's value, "(...)" included by the caller. */
void etm_fig_note(struct etm_figure *fig, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

size_t etm_figures_len(const struct etm_figures *figs);
const struct etm_figure *etm_figures_at(const struct etm_figures *figs, size_t i);

/*
 * `project show` text: one "@indent@label: value[ note]" line per field; an
 * items field's line ("label: count") is followed by each item's fields,
 * two more spaces in, the first of them after "- ".
 */
void etm_figures_render_text(const struct etm_figures *figs, const char *indent, GString *out);

/*
 * The fields as the members of the current JSON object (docs/json.md):
 * name: value, null when unknown; a list is {"count", "values"}, a map an
 * object of its keys. Notes are text only.
 */
struct etm_json;
void etm_figures_render_json(const struct etm_figures *figs, struct etm_json *b);

#endif
