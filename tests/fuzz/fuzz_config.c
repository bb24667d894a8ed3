/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The configuration parser on arbitrary text: load, then [project], [engine]
 * and [task] through the same calls `etmem obj add` makes. Any section may
 * be missing; a [task] without an [engine] goes to each built-in engine in
 * turn so that every engine's task keys are reached. A rejection must leave
 * one "config NAME: ..." line. The shape bounds are checked against what
 * GKeyFile built: a file the pre-scan let through never holds more sections
 * or keys than the bounds (the pre-scan must not undercount).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"
#include "daemon/engine.h"
#include "daemon/engines/slide_params.h"

/* slide's vtable as the slide engine has it (its runtime is not needed here). */
static const struct engine_ops fuzz_slide_ops = {
	.fill_task_params = slide_fill_task_params,
	.clear_task_params = slide_clear_task_params,
};

static void check_err(struct etm_conf *conf, int rc)
{
	if (rc && rc != -ENOMEM && strncmp(conf->err->str, "config /fuzz.yaml: ", 19) != 0)
		abort();
}

static void parse_task(struct etm_conf *conf, struct etm_engine *eng)
{
	struct etm_task *tk = NULL;
	int rc;

	if (eng->type == &etm_slide_engine)
		eng->pub.ops = (struct engine_ops *)&fuzz_slide_ops;
	g_string_truncate(conf->err, 0);
	rc = etm_conf_parse_task(conf, eng, &tk);
	check_err(conf, rc);
	if ((rc == 0) != (tk != NULL))
		abort();
	etm_task_free(tk);
}

/* What GKeyFile built stays within the bounds the pre-scan enforced. */
static void check_bounds(struct etm_conf *conf)
{
	gsize ngroups = 0, nkeys = 0;
	gchar **groups = g_key_file_get_groups(conf->kf, &ngroups);

	if (ngroups > ETM_CONF_MAX_SECTIONS)
		abort();
	for (gsize i = 0; i < ngroups; i++) {
		gsize n = 0;
		gchar **keys = g_key_file_get_keys(conf->kf, groups[i], &n, NULL);

		nkeys += n;
		g_strfreev(keys);
	}
	g_strfreev(groups);
	if (nkeys > ETM_CONF_MAX_KEYS)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct etm_engine_type *const types[] = { &etm_slide_engine, &etm_cslide_engine, &etm_psi_engine };
	GString *err = g_string_new(NULL);
	struct etm_conf *conf = NULL;
	struct etm_project *proj = NULL;
	struct etm_engine *eng = NULL;
	char *a = NULL, *b = NULL, *c = NULL;
	int rc;

	rc = etm_conf_load_data("/fuzz.yaml", (const char *)data, size, &conf, err);
	if (rc != 0) {
		if (strncmp(err->str, "config /fuzz.yaml: ", 19) != 0)
			abort();
		/* A bound refusal names the bound. */
		if (rc == -E2BIG && !strstr(err->str, "more than 32 sections") &&
		    !strstr(err->str, "more than 512 keys") && !strstr(err->str, "longer than 16384 bytes"))
			abort();
		g_string_free(err, TRUE);
		return 0;
	}
	check_bounds(conf);
	if (etm_conf_has_group(conf, "project")) {
		rc = etm_conf_parse_project(conf, &proj);
		check_err(conf, rc);
	}
	if (etm_conf_has_group(conf, "engine")) {
		g_string_truncate(err, 0);
		if (etm_conf_engine_ids(conf, &a, &b) == 0) {
			g_free(a);
			g_free(b);
		}
		g_string_truncate(err, 0);
		rc = etm_conf_parse_engine(conf, proj, &eng);
		check_err(conf, rc);
	}
	if (etm_conf_has_group(conf, "task")) {
		g_string_truncate(err, 0);
		if (etm_conf_task_ids(conf, &a, &b, &c) == 0) {
			g_free(a);
			g_free(b);
			g_free(c);
		}
		if (eng) {
			parse_task(conf, eng);
		} else {
			for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
				struct etm_engine *e = etm_engine_new(types[i], types[i]->name);

				e->pub.proj = proj ? &proj->pub : NULL;
				parse_task(conf, e);
				etm_engine_free(e);
			}
		}
	}
	etm_engine_free(eng);
	etm_project_free(proj);
	etm_conf_free(conf);
	g_string_free(err, TRUE);
	return 0;
}
