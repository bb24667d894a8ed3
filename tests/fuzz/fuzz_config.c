/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The configuration parser on arbitrary text: load, then [project], [engine]
 * and [task] into specs and objects through the same calls `etmem obj add`
 * makes (and the identity parse `obj del` makes, which must agree). Any
 * section may be missing; a [task] without an [engine] goes to each built-in
 * engine in turn so that every engine's task keys are reached. A rejection
 * must leave one "config NAME: ..." line. The shape bounds are checked against what
 * GKeyFile built: a file the pre-scan let through never holds more sections
 * or keys than the bounds (the pre-scan must not undercount).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/conf_spec.h"
#include "daemon/config.h"
#include "daemon/engine.h"
#include "daemon/objects.h"

static void check_err(struct etm_conf *conf, int rc)
{
	if (rc && rc != -ENOMEM && strncmp(conf->err->str, "config /fuzz.yaml: ", 19) != 0)
		abort();
}

static void parse_task(struct etm_conf *conf, const struct etm_task_spec *spec, struct etm_engine *eng)
{
	struct etm_task *tk = NULL;
	int rc;

	g_string_truncate(conf->err, 0);
	rc = etm_task_build(conf, spec, eng, &tk);
	check_err(conf, rc);
	if ((rc == 0) != (tk != NULL))
		abort();
	etm_task_free(tk);
}

/* What GKeyFile built stays within the bounds the pre-scan enforced. */
static void check_bounds(struct etm_conf *conf)
{
	gsize ngroups = 0, nkeys = 0;
	g_auto(GStrv) groups = g_key_file_get_groups(conf->kf, &ngroups);

	if (ngroups > ETM_CONF_MAX_SECTIONS)
		abort();
	for (gsize i = 0; i < ngroups; i++) {
		gsize n = 0;

		g_strfreev(g_key_file_get_keys(conf->kf, groups[i], &n, NULL));
		nkeys += n;
	}
	if (nkeys > ETM_CONF_MAX_KEYS)
		abort();
}

static struct etm_project *fuzz_project(struct etm_conf *conf)
{
	g_autoptr(etm_project_spec) spec = NULL;
	g_autoptr(etm_project_spec) ids = NULL;
	int rc;

	g_string_truncate(conf->err, 0);
	rc = etm_conf_parse_project(conf, ETM_SPEC_FULL, &spec);
	check_err(conf, rc);
	g_string_truncate(conf->err, 0);
	if (etm_conf_parse_project(conf, ETM_SPEC_IDS, &ids) != 0 && rc == 0)
		abort(); /* the whole section parsed but its name did not */
	return spec ? etm_project_build(spec) : NULL;
}

static struct etm_engine *fuzz_engine(struct etm_conf *conf, struct etm_project *proj)
{
	g_autoptr(etm_engine_spec) spec = NULL;
	g_autoptr(etm_engine_spec) ids = NULL;
	struct etm_engine *eng = NULL;
	int rc;

	g_string_truncate(conf->err, 0);
	if (etm_conf_parse_engine(conf, ETM_SPEC_IDS, &ids) == 0 && !ids->id)
		abort();
	g_string_truncate(conf->err, 0);
	rc = etm_conf_parse_engine(conf, ETM_SPEC_FULL, &spec);
	if (rc == 0 && (!ids || strcmp(ids->id, spec->id) != 0))
		abort(); /* one identity for add and del */
	if (rc == 0)
		rc = etm_engine_build(conf, spec, proj, &eng);
	check_err(conf, rc);
	return eng;
}

static void fuzz_tasks(struct etm_conf *conf, struct etm_project *proj, struct etm_engine *eng)
{
	static const struct etm_engine_type *const types[] = { &etm_slide_engine, &etm_cslide_engine, &etm_psi_engine };
	g_autoptr(etm_task_spec) spec = NULL;
	int rc;

	g_string_truncate(conf->err, 0);
	rc = etm_conf_parse_task(conf, ETM_SPEC_FULL, &spec);
	check_err(conf, rc);
	if (rc)
		return;
	if (eng) {
		parse_task(conf, spec, eng);
		return;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(types); i++) {
		struct etm_engine *e = etm_engine_new(types[i], types[i]->name);

		e->pub.proj = proj ? &proj->pub : NULL;
		parse_task(conf, spec, e);
		etm_engine_free(e);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GString) err = g_string_new(NULL);
	struct etm_conf *conf = NULL;
	struct etm_project *proj = NULL;
	struct etm_engine *eng = NULL;
	int rc;

	rc = etm_conf_load_data("/fuzz.yaml", (const char *)data, size, &conf, err);
	if (rc != 0) {
		if (strncmp(err->str, "config /fuzz.yaml: ", 19) != 0)
			abort();
		/* A bound refusal names the bound. */
		if (rc == -E2BIG && !strstr(err->str, "more than 32 sections") &&
		    !strstr(err->str, "more than 512 keys") && !strstr(err->str, "longer than 16384 bytes"))
			abort();
		return 0;
	}
	check_bounds(conf);
	if (etm_conf_has_group(conf, "project"))
		proj = fuzz_project(conf);
	if (etm_conf_has_group(conf, "engine"))
		eng = fuzz_engine(conf, proj);
	if (etm_conf_has_group(conf, "task"))
		fuzz_tasks(conf, proj, eng);
	etm_engine_free(eng);
	etm_project_free(proj);
	etm_conf_free(conf);
	return 0;
}
