/* SPDX-License-Identifier: MulanPSL-2.0 */
/* The figures builder and its text rendering (see figures.h). */
#include "figures.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "json_out.h"

static void figure_clear(gpointer p)
{
	struct etm_figure *f = p;

	g_free(f->text);
	g_free(f->note);
	if (f->items)
		g_ptr_array_unref(f->items);
}

struct etm_figures *etm_figures_new(void)
{
	struct etm_figures *figs = g_new0(struct etm_figures, 1);

	figs->fields = g_array_new(FALSE, TRUE, sizeof(struct etm_figure));
	g_array_set_clear_func(figs->fields, figure_clear);
	return figs;
}

void etm_figures_free(struct etm_figures *figs)
{
	if (!figs)
		return;
	g_array_free(figs->fields, TRUE);
	g_free(figs);
}

static struct etm_figure *add(struct etm_figures *figs, const char *name, enum etm_fig_kind kind,
			      enum etm_fig_type type, const char *label)
{
	struct etm_figure f = { .name = name, .label = label, .kind = kind, .type = type, .known = TRUE };

	g_array_append_val(figs->fields, f);
	return &g_array_index(figs->fields, struct etm_figure, figs->fields->len - 1);
}

struct etm_figure *etm_fig_u64(struct etm_figures *figs, const char *name, enum etm_fig_kind kind, const char *label,
			       uint64_t v)
{
	struct etm_figure *f = add(figs, name, kind, ETM_FIG_U64, label);

	f->u64 = v;
	return f;
}

struct etm_figure *etm_fig_double(struct etm_figures *figs, const char *name, enum etm_fig_kind kind, const char *label,
				  double v)
{
	struct etm_figure *f = add(figs, name, kind, ETM_FIG_DOUBLE, label);

	f->dbl = v;
	return f;
}

struct etm_figure *etm_fig_text(struct etm_figures *figs, const char *name, const char *label, const char *v)
{
	struct etm_figure *f = add(figs, name, ETM_FIG_INFO, ETM_FIG_TEXT, label);

	f->text = g_strdup(v ? v : "");
	return f;
}

struct etm_figure *etm_fig_list(struct etm_figures *figs, const char *name, const char *label, const uint64_t *vals,
				size_t n, uint64_t count)
{
	struct etm_figure *f = add(figs, name, ETM_FIG_GAUGE, ETM_FIG_LIST, label);

	f->list_len = MIN(n, (size_t)ETM_FIG_LIST_MAX);
	if (f->list_len)
		memcpy(f->list, vals, f->list_len * sizeof(*vals));
	f->u64 = count;
	return f;
}

struct etm_figure *etm_fig_map(struct etm_figures *figs, const char *name, enum etm_fig_kind kind, const char *label,
			       const char *map_label, const char *const *keys, const uint64_t *vals, size_t n)
{
	struct etm_figure *f = add(figs, name, kind, ETM_FIG_MAP, label);

	f->map_label = map_label;
	f->list_len = MIN(n, (size_t)ETM_FIG_LIST_MAX);
	for (size_t i = 0; i < f->list_len; i++) {
		f->map_keys[i] = keys[i];
		f->list[i] = vals[i];
		f->u64 += vals[i];
	}
	return f;
}

struct etm_figure *etm_fig_unknown(struct etm_figures *figs, const char *name, enum etm_fig_kind kind,
				   enum etm_fig_type type, const char *label, const char *unknown_text)
{
	struct etm_figure *f = add(figs, name, kind, type, label);

	f->known = FALSE;
	f->unknown_text = unknown_text;
	return f;
}

struct etm_figure *etm_fig_items(struct etm_figures *figs, const char *name, const char *label, uint64_t count)
{
	struct etm_figure *f = add(figs, name, ETM_FIG_GAUGE, ETM_FIG_ITEMS, label);

	f->items = g_ptr_array_new_with_free_func((GDestroyNotify)etm_figures_free);
	f->u64 = count;
	return f;
}

struct etm_figures *etm_fig_item(struct etm_figure *list)
{
	struct etm_figures *item = etm_figures_new();

	g_ptr_array_add(list->items, item);
	return item;
}

void etm_fig_no_metric(struct etm_figure *fig)
{
	fig->no_metric = TRUE;
}

void etm_fig_note(struct etm_figure *fig, const char *fmt, ...)
{
	va_list ap;

	g_free(fig->note);
	va_start(ap, fmt);
	fig->note = g_strdup_vprintf(fmt, ap);
	va_end(ap);
}

size_t etm_figures_len(const struct etm_figures *figs)
{
	return figs ? figs->fields->len : 0;
}

const struct etm_figure *etm_figures_at(const struct etm_figures *figs, size_t i)
{
	return &g_array_index(figs->fields, struct etm_figure, i);
}

/* "N (a,b,...)": the count, then the values shown, ",..." when some were left out. */
static void render_list(const struct etm_figure *f, GString *out)
{
	g_string_append_printf(out, "%" PRIu64, f->u64);
	for (size_t i = 0; i < f->list_len; i++)
		g_string_append_printf(out, "%s%" PRIu64, i ? "," : " (", f->list[i]);
	if (f->list_len)
		g_string_append(out, f->u64 > f->list_len ? ",...)" : ")");
}

/* "N (a 1, b 2)": the total, then the keys that are not zero. */
static void render_map(const struct etm_figure *f, GString *out)
{
	bool open = false;

	g_string_append_printf(out, "%" PRIu64, f->u64);
	for (size_t i = 0; i < f->list_len; i++) {
		if (!f->list[i])
			continue;
		g_string_append_printf(out, "%s%s %" PRIu64, open ? ", " : " (", f->map_keys[i], f->list[i]);
		open = true;
	}
	if (open)
		g_string_append_c(out, ')');
}

static void render_value(const struct etm_figure *f, GString *out)
{
	if (!f->known) {
		g_string_append(out, f->unknown_text ? f->unknown_text : "n/a");
		return;
	}
	switch (f->type) {
	case ETM_FIG_U64:
		g_string_append_printf(out, "%" PRIu64, f->u64);
		break;
	case ETM_FIG_DOUBLE:
		if (g_str_has_suffix(f->name, "_seconds"))
			g_string_append_printf(out, "%.3f s", f->dbl);
		else
			g_string_append_printf(out, "%g", f->dbl);
		break;
	case ETM_FIG_TEXT:
		g_string_append(out, f->text);
		break;
	case ETM_FIG_LIST:
		render_list(f, out);
		break;
	case ETM_FIG_MAP:
		render_map(f, out);
		break;
	case ETM_FIG_ITEMS:
		g_string_append_printf(out, "%" PRIu64, f->u64);
		if (f->u64 > f->items->len)
			g_string_append_printf(out, " (%u shown)", f->items->len);
		break;
	}
}

static void render_fields(const struct etm_figures *figs, const char *indent, const char *first, GString *out);

/* Each item: its first field after "- ", the others below it. */
static void render_items(const struct etm_figure *f, const char *indent, GString *out)
{
	g_autofree char *in = g_strconcat(indent, "    ", NULL), *first = g_strconcat(indent, "  - ", NULL);

	for (guint i = 0; i < f->items->len; i++)
		render_fields(f->items->pdata[i], in, first, out);
}

static void render_fields(const struct etm_figures *figs, const char *indent, const char *first, GString *out)
{
	for (size_t i = 0; i < etm_figures_len(figs); i++) {
		const struct etm_figure *f = etm_figures_at(figs, i);

		g_string_append_printf(out, "%s%s: ", i ? indent : first, f->label);
		render_value(f, out);
		if (f->note)
			g_string_append_printf(out, " %s", f->note);
		g_string_append_c(out, '\n');
		if (f->type == ETM_FIG_ITEMS)
			render_items(f, indent, out);
	}
}

void etm_figures_render_text(const struct etm_figures *figs, const char *indent, GString *out)
{
	render_fields(figs, indent, indent, out);
}

static void json_value(const struct etm_figure *f, struct etm_json *b);

/* {"count": N, "items": [{fields}, ...]}: the count in all, the items shown. */
static void json_items(const struct etm_figure *f, struct etm_json *b)
{
	etm_json_begin_object(b);
	etm_json_u64(b, "count", f->u64);
	etm_json_key(b, "items");
	etm_json_begin_array(b);
	for (guint i = 0; i < f->items->len; i++) {
		etm_json_begin_object(b);
		etm_figures_render_json(f->items->pdata[i], b);
		etm_json_end_object(b);
	}
	etm_json_end_array(b);
	etm_json_end_object(b);
}

static void json_value(const struct etm_figure *f, struct etm_json *b)
{
	if (!f->known) {
		etm_json_add_null(b);
		return;
	}
	switch (f->type) {
	case ETM_FIG_U64:
		etm_json_add_u64(b, f->u64);
		break;
	case ETM_FIG_DOUBLE:
		etm_json_add_double(b, f->dbl);
		break;
	case ETM_FIG_TEXT:
		etm_json_add_str(b, f->text);
		break;
	case ETM_FIG_LIST:
		etm_json_begin_object(b);
		etm_json_u64(b, "count", f->u64);
		etm_json_key(b, "values");
		etm_json_begin_array(b);
		for (size_t i = 0; i < f->list_len; i++)
			etm_json_add_u64(b, f->list[i]);
		etm_json_end_array(b);
		etm_json_end_object(b);
		break;
	case ETM_FIG_MAP:
		etm_json_begin_object(b);
		for (size_t i = 0; i < f->list_len; i++)
			etm_json_u64(b, f->map_keys[i], f->list[i]);
		etm_json_end_object(b);
		break;
	case ETM_FIG_ITEMS:
		json_items(f, b);
		break;
	}
}

void etm_figures_render_json(const struct etm_figures *figs, struct etm_json *b)
{
	for (size_t i = 0; i < etm_figures_len(figs); i++) {
		const struct etm_figure *f = etm_figures_at(figs, i);

		etm_json_key(b, f->name);
		json_value(f, b);
	}
}
