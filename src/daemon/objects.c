/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Registry objects: their constructors and lists, and the daemon step that
 * builds them from configuration specs (objects.h).
 */
#include "objects.h"

#include <errno.h>
#include <string.h>

#include "engine.h"
#include "keys.h"
#include "target.h"

/* ---- constructors and lists ------------------------------------------- */

/* glib allocations: out of memory aborts, as everywhere in etmemd. */
struct etm_project *etm_project_new(const char *name)
{
	struct etm_project *proj = g_new0(struct etm_project, 1);

	proj->pub.name = g_strdup(name);
	proj->pub.type = PAGE_SCAN;
	proj->pub.scan_param = &proj->page;
	proj->pub.sysmem_threshold = -1;
	proj->pub.swapcache_high_wmark = -1;
	proj->pub.swapcache_low_wmark = -1;
	return proj;
}

void etm_project_free(struct etm_project *proj)
{
	struct engine *eng, *next;

	if (!proj)
		return;
	for (eng = proj->pub.engs; eng; eng = next) {
		next = eng->next;
		etm_engine_free(etm_engine_of(eng));
	}
	g_free(proj->pub.name);
	g_free(proj);
}

struct etm_engine *etm_engine_new(const struct etm_engine_type *type, const char *name)
{
	struct etm_engine *eng = g_new0(struct etm_engine, 1);

	eng->pub.name = g_strdup(name);
	eng->type = type;
	eng->pub.engine_type = type->type;
	/* The ABI has a non-const pointer; built-in vtables are never written. */
	eng->pub.ops = (struct engine_ops *)type->ops;
	return eng;
}

void etm_engine_free(struct etm_engine *eng)
{
	struct task *tk, *next;

	if (!eng)
		return;
	for (tk = eng->pub.tasks; tk; tk = next) {
		next = tk->next;
		etm_task_free(etm_task_of(tk));
	}
	if (etm_engine_type_parses_engine(eng->type))
		etm_engine_type_free_engine(eng->type, eng->pub.params);
	else if (eng->pub.ops && eng->pub.ops->clear_eng_params)
		eng->pub.ops->clear_eng_params(&eng->pub);
	eng->pub.params = NULL;
	if (eng->type == &etm_thirdparty_engine)
		etm_thirdparty_unload(eng);
	g_free(eng->eng_name);
	g_free(eng->libname);
	g_free(eng->ops_name);
	g_free(eng->pub.name);
	g_free(eng);
}

struct etm_task *etm_task_new(const char *name, const char *type, const char *value)
{
	struct etm_task *tk = g_new0(struct etm_task, 1);

	tk->pub.name = g_strdup(name);
	tk->pub.type = g_strdup(type);
	tk->pub.value = g_strdup(value);
	tk->pub.max_threads = 1;
	return tk;
}

void etm_task_free(struct etm_task *tk)
{
	struct engine *eng;

	if (!tk)
		return;
	eng = tk->pub.eng;
	if (eng && etm_engine_type_parses_task(etm_engine_of(eng)->type))
		etm_engine_type_free_task(etm_engine_of(eng)->type, tk->pub.params);
	else if (eng && eng->ops && eng->ops->clear_task_params)
		eng->ops->clear_task_params(&tk->pub);
	tk->pub.params = NULL;
	g_free(tk->pub.name);
	g_free(tk->pub.type);
	g_free(tk->pub.value);
	g_free(tk);
}

struct etm_engine *etm_project_find_engine(struct etm_project *proj, const char *name)
{
	for (struct engine *eng = proj->pub.engs; eng; eng = eng->next) {
		if (strcmp(eng->name, name) == 0)
			return etm_engine_of(eng);
	}
	return NULL;
}

struct etm_task *etm_engine_find_task(struct etm_engine *eng, const char *name)
{
	for (struct task *tk = eng->pub.tasks; tk; tk = tk->next) {
		if (strcmp(tk->name, name) == 0)
			return etm_task_of(tk);
	}
	return NULL;
}

void etm_project_append_engine(struct etm_project *proj, struct etm_engine *eng)
{
	struct engine **pp = &proj->pub.engs;

	while (*pp)
		pp = &(*pp)->next;
	eng->pub.next = NULL;
	eng->pub.proj = &proj->pub;
	*pp = &eng->pub;
}

void etm_engine_append_task(struct etm_engine *eng, struct etm_task *tk)
{
	struct task **pp = &eng->pub.tasks;

	while (*pp)
		pp = &(*pp)->next;
	tk->pub.next = NULL;
	tk->pub.eng = &eng->pub;
	*pp = &tk->pub;
}

void etm_project_unlink_engine(struct etm_project *proj, struct etm_engine *eng)
{
	for (struct engine **pp = &proj->pub.engs; *pp; pp = &(*pp)->next) {
		if (*pp == &eng->pub) {
			*pp = eng->pub.next;
			eng->pub.next = NULL;
			return;
		}
	}
}

void etm_engine_unlink_task(struct etm_engine *eng, struct etm_task *tk)
{
	for (struct task **pp = &eng->pub.tasks; *pp; pp = &(*pp)->next) {
		if (*pp == &tk->pub) {
			*pp = tk->pub.next;
			tk->pub.next = NULL;
			return;
		}
	}
}

/* ---- projects --------------------------------------------------------- */

struct etm_project *etm_project_build(const struct etm_project_spec *spec)
{
	struct etm_project *proj = etm_project_new(spec->name);

	proj->page = spec->page;
	proj->psi = spec->psi;
	proj->region = spec->region;
	proj->pub.type = (enum scan_type)spec->scan_type;
	proj->pub.scan_param = proj->pub.type == PAGE_SCAN  ? (void *)&proj->page
			       : proj->pub.type == PSI_SCAN ? (void *)&proj->psi
							    : (void *)&proj->region;
	proj->pub.sysmem_threshold = spec->sysmem_threshold;
	proj->pub.swapcache_high_wmark = spec->swapcache_high_wmark;
	proj->pub.swapcache_low_wmark = spec->swapcache_low_wmark;
	proj->pub.wmark_set = spec->swapcache_high_wmark != -1;
	return proj;
}

/* ---- engines ---------------------------------------------------------- */

static const char *scan_type_name(enum scan_type t)
{
	switch (t) {
	case PAGE_SCAN:
		return "page";
	case PSI_SCAN:
		return "psi";
	case REGION_SCAN:
		return "region";
	}
	return "?";
}

/* The engine belongs to @proj, of a scan_type its type runs under. */
static int engine_fits(struct etm_conf *conf, const struct etm_engine_spec *spec, const struct etm_project *proj)
{
	const struct etm_engine_type *type = spec->type;

	if (!proj)
		return 0;
	if (strcmp(spec->project, proj->pub.name) != 0)
		return etm_conf_error(conf, ETM_SECTION_ENGINE, "project", spec->project,
				      "does not match the project %s", proj->pub.name);
	if (type->type != THIRDPARTY_ENGINE && proj->pub.type != type->scan_type)
		return etm_conf_error(conf, ETM_SECTION_ENGINE, "name", type->name,
				      "engine %s needs a project with scan_type=%s, project %s has scan_type=%s",
				      type->name, scan_type_name(type->scan_type), proj->pub.name,
				      scan_type_name(proj->pub.type));
	return 0;
}

/* The engine's own [engine] keys: by its type, or by a vtable's fill_eng_params. */
static int engine_params(struct etm_conf *conf, struct etm_engine *eng)
{
	const struct engine_ops *ops = eng->pub.ops;
	int rc;

	if (etm_engine_type_parses_engine(eng->type))
		rc = etm_engine_type_parse_engine(eng->type, conf, &eng->pub.params);
	else if (ops && ops->fill_eng_params)
		rc = ops->fill_eng_params(conf->kf, &eng->pub);
	else
		return 0;
	if (rc)
		return etm_conf_error(conf, ETM_SECTION_ENGINE, NULL, NULL, "rejected by engine %s", eng->type->name);
	return 0;
}

int etm_engine_build(struct etm_conf *conf, const struct etm_engine_spec *spec, struct etm_project *proj,
		     struct etm_engine **out)
{
	g_autoptr(etm_engine) eng = NULL;
	int rc;

	*out = NULL;
	if ((rc = engine_fits(conf, spec, proj)))
		return rc;
	eng = etm_engine_new(spec->type, spec->id);
	eng->pub.proj = proj ? &proj->pub : NULL;
	if (spec->type->type == THIRDPARTY_ENGINE) {
		eng->eng_name = g_strdup(spec->id);
		eng->libname = g_strdup(spec->libname);
		eng->ops_name = g_strdup(spec->ops_name);
	} else if ((rc = engine_params(conf, eng))) {
		return rc;
	}
	*out = g_steal_pointer(&eng);
	return 0;
}

int etm_engine_attach_plugin(struct etm_conf *conf, struct etm_engine *eng, GString *err)
{
	int rc = etm_thirdparty_load(eng, err);

	if (rc)
		return rc;
	if (eng->pub.ops->fill_eng_params && (rc = eng->pub.ops->fill_eng_params(conf->kf, &eng->pub))) {
		g_string_printf(err, "config %s: [engine]: rejected by engine %s (error %d)", conf->path, eng->pub.name,
				rc);
		return -EINVAL;
	}
	return 0;
}

/* ---- tasks ------------------------------------------------------------ */

/* The task names @eng and its project. */
static int task_fits(struct etm_conf *conf, const struct etm_task_spec *spec, const struct etm_engine *eng)
{
	const struct project *proj = eng->pub.proj;

	if (proj && proj->name && strcmp(spec->project, proj->name) != 0)
		return etm_conf_error(conf, ETM_SECTION_TASK, "project", spec->project,
				      "does not match the engine's project %s", proj->name);
	if (eng->pub.name && strcmp(spec->engine, eng->pub.name) != 0)
		return etm_conf_error(conf, ETM_SECTION_TASK, "engine", spec->engine, "does not match the engine %s",
				      eng->pub.name);
	return 0;
}

/* type=pid|name and value; psi targets cgroups (cg_dir), so there both are optional. */
static int task_target(struct etm_conf *conf, const struct etm_task_spec *spec, const struct etm_engine *eng)
{
	const char *eng_type = eng->type ? eng->type->name : "thirdparty";
	bool required = eng->pub.engine_type != PSI_FB_ENGINE;
	const char *v = spec->value;

	if (!spec->target && required)
		return etm_conf_error(conf, ETM_SECTION_TASK, "type", NULL, "missing (required for engine %s)",
				      eng_type);
	if (!v && (required || spec->target))
		return etm_conf_error(conf, ETM_SECTION_TASK, "value", NULL, "missing (required for engine %s)",
				      eng_type);
	if (v && !spec->target)
		return etm_conf_error(conf, ETM_SECTION_TASK, "type", NULL, "missing (required when value is set)");
	if (spec->target == ETM_TARGET_PID && !etm_target_pid_valid(v))
		return etm_conf_error(conf, ETM_SECTION_TASK, "value", v, "not a valid pid, must be 1..4194304");
	/* Decided here, for every engine: etmemd checks the rest when it adds and starts the task. */
	if (spec->target == ETM_TARGET_PID && strcmp(v, "1") == 0)
		return etm_conf_error(conf, ETM_SECTION_TASK, "value", v,
				      "pid 1 is init: a target covers its descendants, that is every process; "
				      "give the pid of the workload");
	if (spec->target == ETM_TARGET_NAME && !etm_target_name_valid(v))
		return etm_conf_error(conf, ETM_SECTION_TASK, "value", v,
				      "not a valid process name, must be 1..%d characters of A-Z a-z 0-9 . / %% _ -",
				      ETM_TASK_VALUE_MAX);
	return 0;
}

/* The task's own keys: by its engine's type (with the project as context), or by the vtable's fill_task_params. */
static int task_params(struct etm_conf *conf, struct etm_task *tk, struct etm_engine *eng)
{
	const struct etm_task_ctx ctx = { .proj = eng->pub.proj };
	const struct engine_ops *ops = eng->pub.ops;
	int rc;

	if (etm_engine_type_parses_task(eng->type))
		rc = etm_engine_type_parse_task(eng->type, conf, &ctx, &tk->pub.params);
	else if (ops && ops->fill_task_params)
		rc = ops->fill_task_params(conf->kf, &tk->pub);
	else
		return 0;
	if (rc)
		return etm_conf_error(conf, ETM_SECTION_TASK, NULL, NULL, "rejected by engine %s",
				      eng->pub.name ? eng->pub.name : eng->type->name);
	return 0;
}

int etm_task_build(struct etm_conf *conf, const struct etm_task_spec *spec, struct etm_engine *eng,
		   struct etm_task **out)
{
	g_autoptr(etm_task) tk = NULL;
	int rc;

	*out = NULL;
	if (!eng)
		return -EINVAL;
	if ((rc = task_fits(conf, spec, eng)) || (rc = task_target(conf, spec, eng)))
		return rc;
	tk = etm_task_new(spec->name, etm_target_kind_name(spec->target), spec->value);
	tk->pub.max_threads = spec->max_threads;
	tk->pub.swap_flag = spec->swap_flag;
	tk->pub.eng = &eng->pub;
	if ((rc = task_params(conf, tk, eng)))
		return rc;
	*out = g_steal_pointer(&tk);
	return 0;
}
