/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * [project], [engine] and [task] into plain specs (conf_spec.h): each
 * section is a few key tables; the code here is only what spans keys.
 */
#include "conf_spec.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>

#include "engine.h"

#define NAME_ROW(group_type, member, what)                                                                             \
	{                                                                                                              \
		.name = #member, .type = ETM_KEY_STRING, .max = ETM_CONF_NAME_MAX, .required = "",                     \
		.offset = ETM_KEY_AT(group_type, member, char *), .doc = what                                          \
	}

/* ------------------------------------------------------------- [project] */

#define PS struct etm_project_spec

static const struct etm_key_enum scan_types[] = {
	{ "page", PAGE_SCAN },
	{ "psi", PSI_SCAN },
	{ "region", REGION_SCAN },
	{ NULL, 0 },
};

static const struct etm_key project_head_keys[] = {
	NAME_ROW(PS, name, "The project's name."),
	{ .name = "scan_type",
	  .type = ETM_KEY_ENUM,
	  .max = 16,
	  .values = scan_types,
	  .what = "scan type",
	  .def = "page",
	  .offset = ETM_KEY_AT(PS, scan_type, int),
	  .doc = "What the project's engines scan: slide and cslide need \\fBpage\\fP, psi needs \\fBpsi\\fP." },
};

static const struct etm_key_table project_head = {
	.group = ETM_SECTION_PROJECT,
	.title = "[project] keys",
	.keys = project_head_keys,
	.n_keys = G_N_ELEMENTS(project_head_keys),
	.params_size = sizeof(PS),
};

/* What names the project: the first row. */
static const struct etm_key_table project_ids = {
	.group = ETM_SECTION_PROJECT,
	.keys = project_head_keys,
	.n_keys = 1,
	.params_size = sizeof(PS),
};

static const struct etm_key page_keys[] = {
	{ .name = "loop",
	  .type = ETM_KEY_INT,
	  .min = 1,
	  .max = 120,
	  .required = "for scan_type page",
	  .offset = ETM_KEY_AT(PS, page.loop, int),
	  .doc = "Scans per cycle." },
	{ .name = "interval",
	  .type = ETM_KEY_INT,
	  .min = 1,
	  .max = 1200,
	  .required = "for scan_type page",
	  .offset = ETM_KEY_AT(PS, page.interval, int),
	  .doc = "Seconds between two scans of a cycle." },
	{ .name = "sleep",
	  .type = ETM_KEY_INT,
	  .min = 1,
	  .max = 1200,
	  .required = "for scan_type page",
	  .offset = ETM_KEY_AT(PS, page.sleep, int),
	  .doc = "Seconds between two cycles." },
};

static const struct etm_key_table project_page = {
	.group = ETM_SECTION_PROJECT,
	.title = "scan_type=page keys",
	.keys = page_keys,
	.n_keys = G_N_ELEMENTS(page_keys),
	.params_size = sizeof(PS),
};

/* loop and sleep mean nothing to psi: ignored, as the original ignores them (docs/compat.md). */
static const struct etm_key psi_keys[] = {
	{ .name = "interval",
	  .type = ETM_KEY_INT,
	  .min = 1,
	  .max = 1200,
	  .required = "for scan_type psi",
	  .offset = ETM_KEY_AT(PS, psi.interval, int),
	  .doc = "Seconds between two reclaim rounds." },
};

static const struct etm_key_table project_psi = {
	.group = ETM_SECTION_PROJECT,
	.title = "scan_type=psi keys",
	.intro = "loop and sleep are ignored.",
	.keys = psi_keys,
	.n_keys = G_N_ELEMENTS(psi_keys),
	.params_size = sizeof(PS),
};

#define REGION_ROW(member, lo, what)                                                                                   \
	{                                                                                                              \
		.name = #member, .type = ETM_KEY_U64, .min = lo, .max = LONG_MAX, .required = "for scan_type region",  \
		.offset = ETM_KEY_AT(PS, region.member, unsigned long), .doc = what                                    \
	}

static const struct etm_key region_keys[] = {
	REGION_ROW(sample_interval, 1, "DAMON's sampling interval, microseconds."),
	REGION_ROW(aggr_interval, 1, "DAMON's aggregation interval, microseconds."),
	REGION_ROW(update_interval, 1, "DAMON's regions update interval, microseconds."),
	REGION_ROW(min_nr_regions, 3, "The fewest regions DAMON keeps."),
	REGION_ROW(max_nr_regions, 3, "The most regions DAMON keeps; more than min_nr_regions."),
};

static int region_check(struct etm_conf *conf, const struct etm_key_table *t, void *params, const void *ctx,
			uint64_t given)
{
	const struct region_scan *rs = &((PS *)params)->region;
	char v[32];

	(void)t, (void)ctx, (void)given;
	if (rs->max_nr_regions > rs->min_nr_regions)
		return 0;
	snprintf(v, sizeof(v), "%lu", rs->max_nr_regions);
	return etm_conf_error(conf, ETM_SECTION_PROJECT, "max_nr_regions", v,
			      "must be greater than min_nr_regions (%lu)", rs->min_nr_regions);
}

static const struct etm_key_table project_region = {
	.group = ETM_SECTION_PROJECT,
	.title = "scan_type=region keys",
	.keys = region_keys,
	.n_keys = G_N_ELEMENTS(region_keys),
	.params_size = sizeof(PS),
	.check = region_check,
};

/* swapcache_low_wmark's upper bound: below the high mark (1..100 while that is unset or too low to matter). */
static long low_wmark_max(const void *params, const void *ctx)
{
	int high = ((const PS *)params)->swapcache_high_wmark;

	(void)ctx;
	return high >= 2 ? high - 1 : 100;
}

/* swapcache watermarks: both or neither, 1 <= low < high <= 100. */
static int wmarks_check(struct etm_conf *conf, const struct etm_key_table *t, void *params, const void *ctx,
			uint64_t given)
{
	bool high = etm_keys_given(t, given, "swapcache_high_wmark");
	bool low = etm_keys_given(t, given, "swapcache_low_wmark");

	(void)ctx;
	if (!high && low)
		return etm_conf_error(conf, ETM_SECTION_PROJECT, "swapcache_high_wmark", NULL,
				      "missing (required when swapcache_low_wmark is set)");
	/* No room for a low mark below it; say so rather than "1..0". */
	if (high && ((PS *)params)->swapcache_high_wmark < 2)
		return etm_conf_error(conf, ETM_SECTION_PROJECT, "swapcache_high_wmark", "1",
				      "must be 2..100 so that swapcache_low_wmark (1..high-1) fits below it");
	if (high && !low)
		return etm_conf_error(conf, ETM_SECTION_PROJECT, "swapcache_low_wmark", NULL,
				      "missing (required when swapcache_high_wmark is set)");
	return 0;
}

static const struct etm_key project_tail_keys[] = {
	{ .name = "sysmem_threshold",
	  .type = ETM_KEY_INT,
	  .min = 0,
	  .max = 100,
	  .offset = ETM_KEY_AT(PS, sysmem_threshold, int),
	  .doc = "Swap out only while free memory is below this percentage of the system's memory; unset: "
		 "always." },
	{ .name = "swapcache_high_wmark",
	  .type = ETM_KEY_INT,
	  .min = 1,
	  .max = 100,
	  .alias = "swapcache_high_vmark",
	  .offset = ETM_KEY_AT(PS, swapcache_high_wmark, int),
	  .doc = "When the swap cache exceeds this percentage of memory, reclaim it down to the low watermark." },
	{ .name = "swapcache_low_wmark",
	  .type = ETM_KEY_INT,
	  .min = 1,
	  .max_fn = low_wmark_max,
	  .alias = "swapcache_low_vmark",
	  .offset = ETM_KEY_AT(PS, swapcache_low_wmark, int),
	  .range_doc = "1..(swapcache_high_wmark\\-1)",
	  .doc = "The swap cache's low watermark; the two watermarks are given together or not at all." },
};

static const struct etm_key_table project_tail = {
	.group = ETM_SECTION_PROJECT,
	.title = "[project] keys",
	.keys = project_tail_keys,
	.n_keys = G_N_ELEMENTS(project_tail_keys),
	.params_size = sizeof(PS),
	.check = wmarks_check,
};

static const struct etm_key_table *scan_table(int type)
{
	return type == PSI_SCAN ? &project_psi : type == REGION_SCAN ? &project_region : &project_page;
}

void etm_project_spec_free(struct etm_project_spec *spec)
{
	if (!spec)
		return;
	g_free(spec->name);
	g_free(spec);
}

int etm_conf_parse_project(struct etm_conf *conf, enum etm_spec_depth depth, struct etm_project_spec **out)
{
	g_autoptr(etm_project_spec) spec = g_new0(struct etm_project_spec, 1);
	int rc;

	*out = NULL;
	if (!etm_conf_has_group(conf, ETM_SECTION_PROJECT))
		return etm_conf_error(conf, ETM_SECTION_PROJECT, NULL, NULL, "section missing");
	spec->sysmem_threshold = spec->swapcache_high_wmark = spec->swapcache_low_wmark = -1;
	if (depth == ETM_SPEC_IDS) {
		if ((rc = etm_keys_parse(conf, &project_ids, spec, NULL)))
			return rc;
	} else if ((rc = etm_keys_parse(conf, &project_head, spec, NULL)) ||
		   (rc = etm_keys_parse(conf, scan_table(spec->scan_type), spec, NULL)) ||
		   (rc = etm_keys_parse(conf, &project_tail, spec, NULL)))
		return rc;
	*out = g_steal_pointer(&spec);
	return 0;
}

#undef PS

/* -------------------------------------------------------------- [engine] */

#define ES struct etm_engine_spec

/* name=: one of the engine types. */
static int engine_type_key(struct etm_conf *conf, const char *group, const struct etm_key *k, void *params,
			   const void *ctx)
{
	ES *spec = params;
	int rc = etm_conf_get_str(conf, group, k->name, false, ETM_CONF_NAME_MAX, &spec->name);

	(void)ctx;
	if (rc)
		return rc;
	spec->type = etm_engine_type_find(spec->name);
	if (!spec->type)
		return etm_conf_error(conf, group, k->name, spec->name,
				      "unknown engine, must be one of slide, cslide, psi, thirdparty");
	return 0;
}

static void engine_type_free(const struct etm_key *k, void *params)
{
	(void)k;
	g_clear_pointer(&((ES *)params)->name, g_free);
}

static const struct etm_key engine_keys[] = {
	NAME_ROW(ES, project, "The project the engine belongs to."),
	{ .name = "name",
	  .type = ETM_KEY_CUSTOM,
	  .required = "",
	  .parse = engine_type_key,
	  .free = engine_type_free,
	  .doc =
	      "The engine type: \\fBslide\\fP, \\fBcslide\\fP, \\fBpsi\\fP or \\fBthirdparty\\fP. A project holds at "
	      "most one engine of each built-in type; tasks name the engine by its type (by eng_name for "
	      "thirdparty)." },
};

static const struct etm_key_table engine_table = {
	.group = ETM_SECTION_ENGINE,
	.title = "[engine] keys",
	.keys = engine_keys,
	.n_keys = G_N_ELEMENTS(engine_keys),
	.params_size = sizeof(ES),
};

/* A third-party engine's identity: any name but a built-in type's. */
static int eng_name_key(struct etm_conf *conf, const char *group, const struct etm_key *k, void *params,
			const void *ctx)
{
	ES *spec = params;
	int rc = etm_conf_get_str(conf, group, k->name, false, ETM_CONF_NAME_MAX, &spec->eng_name);

	(void)ctx;
	if (rc)
		return rc;
	if (etm_engine_type_find(spec->eng_name))
		return etm_conf_error(conf, group, k->name, spec->eng_name,
				      "clashes with a built-in engine name (slide, cslide, psi, thirdparty)");
	return 0;
}

/* libname: an absolute path (the plugin checks do the rest when it is loaded). */
static int libname_key(struct etm_conf *conf, const char *group, const struct etm_key *k, void *params, const void *ctx)
{
	ES *spec = params;
	int rc = etm_conf_get_str(conf, group, k->name, false, 256, &spec->libname);

	(void)ctx;
	if (rc)
		return rc;
	if (spec->libname[0] != '/')
		return etm_conf_error(conf, group, k->name, spec->libname, "must be an absolute path");
	return 0;
}

/* ops_name goes to dlsym: a C identifier. */
static int ops_name_key(struct etm_conf *conf, const char *group, const struct etm_key *k, void *params,
			const void *ctx)
{
	ES *spec = params;
	int rc = etm_conf_get_str(conf, group, k->name, false, 256, &spec->ops_name);
	const char *v = spec->ops_name;
	bool ok;

	(void)ctx;
	if (rc)
		return rc;
	ok = g_ascii_isalpha(v[0]) || v[0] == '_';
	for (const char *p = v; ok && *p; p++)
		ok = g_ascii_isalnum(*p) || *p == '_';
	if (!ok)
		return etm_conf_error(conf, group, k->name, v, "must be a C identifier ([A-Za-z_][A-Za-z0-9_]*)");
	return 0;
}

static void thirdparty_free(const struct etm_key *k, void *params)
{
	ES *spec = params;

	if (strcmp(k->name, "eng_name") == 0)
		g_clear_pointer(&spec->eng_name, g_free);
	else if (strcmp(k->name, "libname") == 0)
		g_clear_pointer(&spec->libname, g_free);
	else
		g_clear_pointer(&spec->ops_name, g_free);
}

static const struct etm_key thirdparty_keys[] = {
	{ .name = "eng_name",
	  .type = ETM_KEY_CUSTOM,
	  .required = "for engine thirdparty",
	  .max = ETM_CONF_NAME_MAX,
	  .parse = eng_name_key,
	  .free = thirdparty_free,
	  .doc = "The engine's name in the project, not a built-in type's; several thirdparty engines may "
		 "coexist under different names." },
	{ .name = "libname",
	  .type = ETM_KEY_CUSTOM,
	  .required = "for engine thirdparty",
	  .max = 256,
	  .parse = libname_key,
	  .free = thirdparty_free,
	  .doc = "Absolute path of the plugin's shared library (owned by root, mode 0500 or 0700)." },
	{ .name = "ops_name",
	  .type = ETM_KEY_CUSTOM,
	  .required = "for engine thirdparty",
	  .max = 256,
	  .parse = ops_name_key,
	  .free = thirdparty_free,
	  .doc = "The symbol of its struct engine_ops in the library, a C identifier." },
};

const struct etm_key_table etm_thirdparty_keys = {
	.group = ETM_SECTION_ENGINE,
	.title = "thirdparty engine keys",
	.intro = "Other keys are left to the plugin, which reads them itself.",
	.keys = thirdparty_keys,
	.n_keys = G_N_ELEMENTS(thirdparty_keys),
	.params_size = sizeof(ES),
};

/* What names a thirdparty engine: eng_name, the first row. */
static const struct etm_key_table thirdparty_ids = {
	.group = ETM_SECTION_ENGINE,
	.keys = thirdparty_keys,
	.n_keys = 1,
	.params_size = sizeof(ES),
};

void etm_engine_spec_free(struct etm_engine_spec *spec)
{
	if (!spec)
		return;
	etm_keys_clear(&engine_table, spec);
	etm_keys_clear(&etm_thirdparty_keys, spec);
	g_free(spec->id);
	g_free(spec);
}

int etm_conf_parse_engine(struct etm_conf *conf, enum etm_spec_depth depth, struct etm_engine_spec **out)
{
	const struct etm_key_table *tp = depth == ETM_SPEC_IDS ? &thirdparty_ids : &etm_thirdparty_keys;
	g_autoptr(etm_engine_spec) spec = g_new0(struct etm_engine_spec, 1);
	int rc;

	*out = NULL;
	if (!etm_conf_has_group(conf, ETM_SECTION_ENGINE))
		return etm_conf_error(conf, ETM_SECTION_ENGINE, NULL, NULL, "section missing");
	if ((rc = etm_keys_parse(conf, &engine_table, spec, NULL)))
		return rc;
	if (spec->type->type == THIRDPARTY_ENGINE && (rc = etm_keys_parse(conf, tp, spec, NULL)))
		return rc;
	spec->id = g_strdup(spec->eng_name ? spec->eng_name : spec->type->name);
	*out = g_steal_pointer(&spec);
	return 0;
}

#undef ES

/* ---------------------------------------------------------------- [task] */

#define TS struct etm_task_spec

static const struct etm_key_enum target_kinds[] = {
	{ "pid", ETM_TARGET_PID },
	{ "name", ETM_TARGET_NAME },
	{ NULL, 0 },
};

const char *etm_target_kind_name(int kind)
{
	return kind == ETM_TARGET_PID ? "pid" : kind == ETM_TARGET_NAME ? "name" : NULL;
}

static long max_threads_max(const void *params, const void *ctx)
{
	long n = get_nprocs();

	(void)params, (void)ctx;
	return 2 * (n < 1 ? 1 : n) + 1;
}

static const struct etm_key task_keys[] = {
	NAME_ROW(TS, project, "The project of the task's engine."),
	NAME_ROW(TS, engine, "The engine: its type, or eng_name for thirdparty."),
	NAME_ROW(TS, name, "The task's name."),
	{ .name = "type",
	  .type = ETM_KEY_ENUM,
	  .max = 8,
	  .values = target_kinds,
	  .offset = ETM_KEY_AT(TS, target, int),
	  .doc = "Required except for psi: the target is a process id (\\fBpid\\fP) or a process name "
		 "(\\fBname\\fP)." },
	{ .name = "value",
	  .type = ETM_KEY_STRING,
	  .max = 64,
	  .offset = ETM_KEY_AT(TS, value, char *),
	  .doc = "Required with type: a pid 1..4194304, or a process name of at most 15 characters of A\\-Z a\\-z "
		 "0\\-9 . / % _ \\-." },
	{ .name = "max_threads",
	  .type = ETM_KEY_INT,
	  .min = 1,
	  .max_fn = max_threads_max,
	  .def = "1",
	  .offset = ETM_KEY_AT(TS, max_threads, int),
	  .range_doc = "1..2\\(mu(number of CPUs)+1",
	  .doc = "Worker threads of the task." },
	{ .name = "swap_flag",
	  .type = ETM_KEY_YESNO,
	  .def = "no",
	  .offset = ETM_KEY_AT(TS, swap_flag, bool),
	  .doc = "Swap out only memory the process marked for it." },
};

static const struct etm_key_table task_table = {
	.group = ETM_SECTION_TASK,
	.title = "[task] keys",
	.keys = task_keys,
	.n_keys = G_N_ELEMENTS(task_keys),
	.params_size = sizeof(TS),
};

/* What names the task: project, engine and name, the first three rows. */
static const struct etm_key_table task_ids = {
	.group = ETM_SECTION_TASK,
	.keys = task_keys,
	.n_keys = 3,
	.params_size = sizeof(TS),
};

void etm_task_spec_free(struct etm_task_spec *spec)
{
	if (!spec)
		return;
	etm_keys_clear(&task_table, spec);
	g_free(spec);
}

int etm_conf_parse_task(struct etm_conf *conf, enum etm_spec_depth depth, struct etm_task_spec **out)
{
	g_autoptr(etm_task_spec) spec = g_new0(struct etm_task_spec, 1);
	int rc;

	*out = NULL;
	if (!etm_conf_has_group(conf, ETM_SECTION_TASK))
		return etm_conf_error(conf, ETM_SECTION_TASK, NULL, NULL, "section missing");
	if ((rc = etm_keys_parse(conf, depth == ETM_SPEC_IDS ? &task_ids : &task_table, spec, NULL)))
		return rc;
	*out = g_steal_pointer(&spec);
	return 0;
}

#undef TS

const struct etm_key_table *const etm_conf_section_tables[] = {
	&project_head, &project_tail, &project_page, &project_psi, &project_region, &engine_table, &task_table, NULL,
};
