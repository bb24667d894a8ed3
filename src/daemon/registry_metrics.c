/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The metrics text (metrics.h, docs/metrics.md): families gathered from the
 * registry under its lock, each written whole (HELP, TYPE, every sample),
 * since the text format wants a family's samples together while the figures
 * come task by task.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/log.h"
#include "engine.h"
#include "figures.h"
#include "metrics.h"
#include "registry_int.h"
#include "scan/procfs.h"

#define PREFIX "etmem_"

struct family {
	char *name;
	const char *type; /* "gauge" or "counter" */
	char *help;
	GString *samples;
};

struct metrics {
	GPtrArray *order;   /* of struct family, in first-seen order */
	GHashTable *byname; /* name -> struct family (borrowed) */
};

static void family_free(gpointer p)
{
	struct family *f = p;

	g_free(f->name);
	g_free(f->help);
	g_string_free(f->samples, TRUE);
	g_free(f);
}

/* @name's family, made on first use; NULL when the name is taken by another type (logged). */
/*
 * @name's family, made on first use (@help: its HELP; @fig: the figure it
 * shows, named in the HELP, or NULL); NULL when the name is taken by
 * another type (logged).
 */
static struct family *fig_family(struct metrics *m, const char *name, const char *type, const char *help,
				 const char *fig)
{
	struct family *f = g_hash_table_lookup(m->byname, name);

	if (f) {
		if (!strcmp(f->type, type))
			return f;
		/* Two engines gave one name two kinds: the first keeps it (a family has one type). */
		etm_debug("metric %s is a %s: a %s sample of that name is left out", name, f->type, type);
		return NULL;
	}
	f = g_new0(struct family, 1);
	f->name = g_strdup(name);
	f->type = type;
	f->help = fig ? g_strdup_printf("%s (figure %s of the task's engine)", help, fig) : g_strdup(help);
	f->samples = g_string_new(NULL);
	g_ptr_array_add(m->order, f);
	g_hash_table_insert(m->byname, f->name, f);
	return f;
}

static struct family *family(struct metrics *m, const char *name, const char *type, const char *help)
{
	return fig_family(m, name, type, help, NULL);
}

/* A label value or a HELP text as the format escapes it: \\, \n and (in labels) \". */
static void escaped(GString *out, const char *s, bool quote)
{
	g_autofree char *valid = g_utf8_make_valid(s ? s : "", -1);

	for (const char *p = valid; *p; p++) {
		if (*p == '\\')
			g_string_append(out, "\\\\");
		else if (*p == '\n')
			g_string_append(out, "\\n");
		else if (*p == '"' && quote)
			g_string_append(out, "\\\"");
		else
			g_string_append_c(out, *p);
	}
}

static void label(GString *out, const char *name, const char *value)
{
	g_string_append_printf(out, "%s%s=\"", out->len && out->str[out->len - 1] != '{' ? "," : "", name);
	escaped(out, value, true);
	g_string_append_c(out, '"');
}

/* One sample: @labels is "" or 'a="x",b="y"'. */
static void sample_u64(struct family *f, const char *labels, uint64_t v)
{
	if (f)
		g_string_append_printf(f->samples, "%s{%s} %" PRIu64 "\n", f->name, labels, v);
}

static void sample_double(struct family *f, const char *labels, double v)
{
	char buf[G_ASCII_DTOSTR_BUF_SIZE];

	if (!f)
		return;
	/* The C locale's digits whatever the daemon's; 15 when they read back as @v, else 17. */
	g_ascii_formatd(buf, sizeof(buf), "%.15g", v);
	if (g_ascii_strtod(buf, NULL) != v)
		g_ascii_formatd(buf, sizeof(buf), "%.17g", v);
	g_string_append_printf(f->samples, "%s{%s} %s\n", f->name, labels, buf);
}

/* A number figure (u64, double, list count) as a gauge or a counter; @group: "" or an items figure's "NAME_". */
static void number_figure(struct metrics *m, const struct etm_figure *fig, const char *labels, const char *group)
{
	bool counter = fig->kind == ETM_FIG_COUNTER;
	g_autofree char *name = g_strdup_printf(PREFIX "task_%s%s%s", group, fig->name, counter ? "_total" : "");
	struct family *f = fig_family(m, name, counter ? "counter" : "gauge", fig->label, fig->name);

	if (fig->type == ETM_FIG_DOUBLE)
		sample_double(f, labels, fig->dbl);
	else
		sample_u64(f, labels, fig->u64); /* a list: its full count */
}

/* A map: one sample per key, the key as the map's label. */
static void map_figure(struct metrics *m, const struct etm_figure *fig, const char *labels)
{
	bool counter = fig->kind == ETM_FIG_COUNTER;
	g_autofree char *name = g_strdup_printf(PREFIX "task_%s%s", fig->name, counter ? "_total" : "");
	struct family *f = fig_family(m, name, counter ? "counter" : "gauge", fig->label, fig->name);

	for (size_t i = 0; i < fig->list_len; i++) {
		g_autoptr(GString) l = g_string_new(labels);

		label(l, fig->map_label ? fig->map_label : "key", fig->map_keys[i]);
		sample_u64(f, l->str, fig->list[i]);
	}
}

/* The labels every task sample has: a text figure of that name cannot be one more. */
static bool reserved_label(const char *name)
{
	return !strcmp(name, "project") || !strcmp(name, "engine") || !strcmp(name, "task") ||
	       !strcmp(name, "engine_type");
}

/*
 * An items figure (psi's cgroups): its count, then each item's number
 * figures as the families "task_ITEMS_FIELD", labelled with the item's
 * first field ("cgroup"). The items' other text figures (state, ...) change
 * every cycle: as labels they would make a new series each time, so they
 * stay out, as free text does.
 */
static void items_figure(struct metrics *m, const struct etm_figure *fig, const char *labels)
{
	g_autofree char *group = g_strdup_printf("%s_", fig->name);

	number_figure(m, fig, labels, "");
	for (guint i = 0; i < fig->items->len; i++) {
		const struct etm_figures *it = fig->items->pdata[i];
		const struct etm_figure *id = etm_figures_len(it) ? etm_figures_at(it, 0) : NULL;
		g_autoptr(GString) l = NULL;

		if (!id || id->type != ETM_FIG_TEXT || reserved_label(id->name))
			continue;
		l = g_string_new(labels);
		label(l, id->name, id->text);
		for (size_t k = 1; k < etm_figures_len(it); k++) {
			const struct etm_figure *f = etm_figures_at(it, k);

			if (f->known && !f->no_metric && (f->type == ETM_FIG_U64 || f->type == ETM_FIG_DOUBLE))
				number_figure(m, f, l->str, group);
		}
	}
}

/* Lock held: one task's started flag, figures and info. */
static void task_metrics(struct metrics *m, struct etm_project *proj, struct engine *e, struct task *tk)
{
	g_autoptr(etm_figures) figs = etm_reg_task_figures(e, tk);
	g_autoptr(GString) labels = g_string_new(NULL);
	g_autoptr(GString) info = NULL;
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

	label(labels, "project", proj->pub.name);
	label(labels, "engine", e->name);
	label(labels, "task", tk->name);
	sample_u64(family(m, PREFIX "task_started", "gauge", "1 while the task runs, else 0"), labels->str,
		   etm_task_of(tk)->state == ETM_TASK_STARTED);
	info = g_string_new(labels->str);
	label(info, "engine_type", etm_engine_of(e)->type->name);
	for (size_t i = 0; i < etm_figures_len(figs); i++) {
		const struct etm_figure *fig = etm_figures_at(figs, i);

		/* A name given twice would be two samples of one series: the first counts. */
		if (fig->no_metric || !fig->known || !g_hash_table_add(seen, (gpointer)fig->name))
			continue;
		if (fig->type == ETM_FIG_TEXT) {
			if (!reserved_label(fig->name))
				label(info, fig->name, fig->text);
		} else if (fig->type == ETM_FIG_MAP)
			map_figure(m, fig, labels->str);
		else if (fig->type == ETM_FIG_ITEMS)
			items_figure(m, fig, labels->str);
		else
			number_figure(m, fig, labels->str, "");
	}
	sample_u64(family(m, PREFIX "task_info", "gauge", "the task's engine type and text figures (backend), value 1"),
		   info->str, 1);
}

/* etmemd's own resources. */
static void daemon_metrics(struct etm_registry *reg, struct metrics *m)
{
	struct etm_proc_status st;
	struct rusage ru;
	g_autoptr(GString) l = g_string_new(NULL);

	label(l, "version", ETMEM_VERSION);
	sample_u64(family(m, PREFIX "build_info", "gauge", "etmemd's version, value 1"), l->str, 1);
	sample_double(
	    family(m, PREFIX "daemon_start_time_seconds", "gauge", "when etmemd started, seconds since the epoch"), "",
	    reg->started_at);
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		sample_double(family(m, PREFIX "daemon_cpu_seconds_total", "counter",
				     "CPU time etmemd used, user and system, all threads"),
			      "",
			      (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
				  (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	if (etm_proc_status(getpid(), &st) == 0)
		sample_u64(
		    family(m, PREFIX "daemon_resident_memory_bytes", "gauge", "etmemd's resident memory (VmRSS)"), "",
		    st.vm_rss_kb * 1024);
}

static void render(const struct metrics *m, GString *out)
{
	for (size_t i = 0; i < m->order->len; i++) {
		const struct family *f = g_ptr_array_index(m->order, i);

		g_string_append_printf(out, "# HELP %s ", f->name);
		escaped(out, f->help, false);
		g_string_append_printf(out, "\n# TYPE %s %s\n", f->name, f->type);
		/* "name{} v": the format allows empty braces, but plain "name v" is what every reader expects. */
		for (const char *p = f->samples->str; *p;) {
			const char *nl = strchr(p, '\n');
			const char *empty = g_strstr_len(p, nl - p, "{} ");

			if (empty) {
				g_string_append_len(out, p, empty - p);
				g_string_append_len(out, empty + 2, nl - empty - 1);
			} else {
				g_string_append_len(out, p, nl - p + 1);
			}
			p = nl + 1;
		}
	}
}

void etm_registry_metrics(struct etm_registry *reg, GString *out)
{
	struct metrics m = { g_ptr_array_new_with_free_func(family_free), g_hash_table_new(g_str_hash, g_str_equal) };

	daemon_metrics(reg, &m);
	pthread_mutex_lock(&reg->lock);
	for (struct etm_project *p = reg->projects; p; p = p->next) {
		g_autoptr(GString) l = g_string_new(NULL);

		label(l, "project", p->pub.name);
		sample_u64(family(&m, PREFIX "project_started", "gauge", "1 while the project runs, else 0"), l->str,
			   p->state == ETM_PROJ_STARTED);
		/* Under the registry lock: a STARTED task's runtime cannot be freed now (engine.h). */
		for (struct engine *e = p->pub.engs; e; e = e->next)
			for (struct task *tk = e->tasks; tk; tk = tk->next)
				task_metrics(&m, p, e, tk);
	}
	pthread_mutex_unlock(&reg->lock);
	render(&m, out);
	g_hash_table_destroy(m.byname);
	g_ptr_array_free(m.order, TRUE);
}
