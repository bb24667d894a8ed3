/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * `project show`: the projects, their tasks and each started task's figures
 * (figures.h), as the text of the original's table or as a JSON document
 * (docs/json.md). Everything is read under the registry lock, where a
 * STARTED task's runtime cannot be freed (engine.h).
 */
#include <stdbool.h>

#include "common/proto.h"
#include "engine.h"
#include "figures.h"
#include "json_out.h"
#include "registry_int.h"

const char *etm_reg_project_state_str(enum etm_proj_state st)
{
	static const char *const names[] = { "stopped", "starting", "started", "stopping" };

	return names[st];
}

const char *etm_reg_task_state_str(enum etm_task_state st)
{
	static const char *const names[] = { "stopped", "starting", "started", "stopping" };

	return names[st];
}

/* Lock held: @tk's figures when it runs and its engine has any, else NULL. */
struct etm_figures *etm_reg_task_figures(struct engine *e, struct task *tk)
{
	struct etm_engine *eng = etm_engine_of(e);
	struct etm_figures *figs;

	/* Under the registry lock: a STARTED task's runtime cannot be freed now (engine.h). */
	if (!eng->type->task_figures || etm_task_of(tk)->state != ETM_TASK_STARTED)
		return NULL;
	figs = etm_figures_new();
	eng->type->task_figures(e, tk, figs);
	return figs;
}

static void show_project_text(struct etm_project *proj, GString *out)
{
	g_string_append_printf(out, "project: %s\n", proj->pub.name);
	if (proj->state == ETM_PROJ_STARTING || proj->state == ETM_PROJ_STOPPING)
		g_string_append_printf(out, "state: %s\n", etm_reg_project_state_str(proj->state));
	if (!proj->pub.engs) {
		g_string_append(out, "no engine exists\n\n");
		return;
	}
	/* The original's columns and widths, header line included (order and figures: docs/compat.md). */
	g_string_append_printf(out, "%-8s %-8s %-16s %-16s %-16s %-8s\n", "number", "type", "value", "name", "engine",
			       "started");
	for (struct engine *e = proj->pub.engs; e; e = e->next) {
		int idx = 1;

		for (struct task *tk = e->tasks; tk; tk = tk->next, idx++) {
			bool started = etm_task_of(tk)->state == ETM_TASK_STARTED;
			g_autoptr(etm_figures) figs = etm_reg_task_figures(e, tk);

			g_string_append_printf(out, "%-8d %-8s %-16s %-16s %-16s %-8s\n", idx,
					       tk->type ? tk->type : "-", tk->value ? tk->value : "-", tk->name,
					       e->name, started ? "true" : "false");
			if (figs)
				etm_figures_render_text(figs, "    ", out);
		}
	}
	g_string_append_c(out, '\n');
}

static void show_task_json(struct engine *e, struct task *tk, int number, struct etm_json *b)
{
	g_autoptr(etm_figures) figs = etm_reg_task_figures(e, tk);

	etm_json_begin_object(b);
	etm_json_i64(b, "number", number);
	etm_json_str(b, "name", tk->name);
	etm_json_str(b, "type", tk->type);
	etm_json_str(b, "value", tk->value);
	etm_json_str(b, "state", etm_reg_task_state_str(etm_task_of(tk)->state));
	etm_json_key(b, "figures");
	if (figs) {
		etm_json_begin_object(b);
		etm_figures_render_json(figs, b);
		etm_json_end_object(b);
	} else {
		etm_json_add_null(b);
	}
	etm_json_end_object(b);
}

static void show_engine_json(struct engine *e, struct etm_json *b)
{
	struct etm_engine *eng = etm_engine_of(e);
	int number = 1;

	etm_json_begin_object(b);
	etm_json_str(b, "name", e->name);
	etm_json_str(b, "type", eng->type->name);
	etm_json_key(b, "tasks");
	etm_json_begin_array(b);
	for (struct task *tk = e->tasks; tk; tk = tk->next)
		show_task_json(e, tk, number++, b);
	etm_json_end_array(b);
	etm_json_end_object(b);
}

static void show_project_json(struct etm_project *proj, struct etm_json *b)
{
	etm_json_begin_object(b);
	etm_json_str(b, "name", proj->pub.name);
	etm_json_str(b, "state", etm_reg_project_state_str(proj->state));
	etm_json_key(b, "engines");
	etm_json_begin_array(b);
	for (struct engine *e = proj->pub.engs; e; e = e->next)
		show_engine_json(e, b);
	etm_json_end_array(b);
	etm_json_end_object(b);
}

/* Lock held: @only (or every project) as JSON. */
static void show_json(struct etm_registry *reg, struct etm_project *only, GString *out)
{
	struct etm_json j, *b = &j;

	etm_json_begin(b, out, "project_show");
	etm_json_key(b, "projects");
	etm_json_begin_array(b);
	for (struct etm_project *p = only ? only : reg->projects; p; p = only ? NULL : p->next)
		show_project_json(p, b);
	etm_json_end_array(b);
	etm_json_end(b);
}

int etm_registry_show(struct etm_registry *reg, const char *name, int format, GString *out, GString *err)
{
	struct etm_project *proj = NULL;
	int ret = ETM_OK;

	pthread_mutex_lock(&reg->lock);
	if (name && !(proj = etm_reg_find_project(reg, name))) {
		g_string_printf(err, "project %s is not exist", name);
		ret = ETM_ERR_PROJ_NOEXIST;
	} else if (format == ETM_FORMAT_JSON) {
		show_json(reg, proj, out);
	} else if (proj) {
		show_project_text(proj, out);
	} else if (!reg->projects) {
		g_string_append(out, "no project exists\n");
	} else {
		for (struct etm_project *p = reg->projects; p; p = p->next)
			show_project_text(p, out);
	}
	pthread_mutex_unlock(&reg->lock);
	return ret;
}
