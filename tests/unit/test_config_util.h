/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Helpers shared by the test_config*.c suites: build a configuration text from
 * a valid base with a few keys changed, run it through the same parsers
 * `etmem obj add` uses, and check the outcome and the error line.
 */
#ifndef TEST_CONFIG_UTIL_H
#define TEST_CONFIG_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "daemon/conf_spec.h"
#include "daemon/config.h"
#include "daemon/engine.h"
#include "daemon/engines/slide_params.h"
#include "daemon/keys.h"
#include "daemon/objects.h"

#define TEST_CONF_NAME "/etc/etmem/test.yaml"

static const char BASE_SLIDE[] = "[project]\nname=p\nloop=3\ninterval=5\nsleep=1\n"
				 "[engine]\nname=slide\nproject=p\n"
				 "[task]\nproject=p\nengine=slide\nname=t\ntype=pid\nvalue=34567\nT=3\n";
static const char BASE_PSI[] = "[project]\nname=p\nscan_type=psi\ninterval=6\n"
			       "[engine]\nname=psi\nproject=p\n"
			       "[task]\nproject=p\nengine=psi\nname=t\ncg_dir=isulad\n";
static const char BASE_CSLIDE_TASK[] = "[project]\nname=p\nloop=3\ninterval=5\nsleep=1\n"
				       "[task]\nproject=p\nengine=cslide\nname=t\ntype=pid\nvalue=23456\n"
				       "vm_flags=ht\n";
static const char BASE_REGION[] = "[project]\nname=p\nscan_type=region\nsample_interval=5000\n"
				  "aggr_interval=100000\nupdate_interval=1000000\nmin_nr_regions=10\n"
				  "max_nr_regions=1000\n";

/*
 * @base with edits applied, each "group/key=value" (set) or "group/key" (remove),
 * NULL-terminated. Returns a new string.
 */
static inline char *conf_edit(const char *base, ...)
{
	GKeyFile *kf = g_key_file_new();
	va_list ap;
	const char *e;
	char *out;

	assert_true(g_key_file_load_from_data(kf, base, strlen(base), G_KEY_FILE_KEEP_COMMENTS, NULL));
	va_start(ap, base);
	while ((e = va_arg(ap, const char *)) != NULL) {
		const char *slash = strchr(e, '/');
		const char *eq = strchr(e, '=');
		char *group, *key;

		assert_non_null(slash);
		group = g_strndup(e, (size_t)(slash - e));
		key = g_strndup(slash + 1, eq ? (size_t)(eq - slash - 1) : strlen(slash + 1));
		if (eq)
			g_key_file_set_value(kf, group, key, eq + 1);
		else
			g_key_file_remove_key(kf, group, key, NULL);
		g_free(group);
		g_free(key);
	}
	va_end(ap);
	out = g_key_file_to_data(kf, NULL, NULL);
	g_key_file_free(kf);
	return out;
}

struct parsed {
	struct etm_conf *conf;
	struct etm_project *proj;
	struct etm_engine *eng;
	struct etm_task *tk;
	GString *err;
	int rc;
};

/*
 * Parse every section present, in add order, into specs and then objects,
 * as `etmem obj add` does. A [task] without an [engine] section goes to a
 * bare engine of type @task_type (cslide, psi, ...).
 */
static inline void parse_text(const char *text, const struct etm_engine_type *task_type, struct parsed *p)
{
	g_autoptr(etm_project_spec) ps = NULL;
	g_autoptr(etm_engine_spec) es = NULL;
	g_autoptr(etm_task_spec) ts = NULL;

	memset(p, 0, sizeof(*p));
	p->err = g_string_new(NULL);
	p->rc = etm_conf_load_data(TEST_CONF_NAME, text, strlen(text), &p->conf, p->err);
	if (p->rc)
		return;
	if (etm_conf_has_group(p->conf, "project")) {
		p->rc = etm_conf_parse_project(p->conf, ETM_SPEC_FULL, &ps);
		if (p->rc)
			return;
		p->proj = etm_project_build(ps);
	}
	if (etm_conf_has_group(p->conf, "engine")) {
		p->rc = etm_conf_parse_engine(p->conf, ETM_SPEC_FULL, &es);
		if (!p->rc)
			p->rc = etm_engine_build(p->conf, es, p->proj, &p->eng);
		if (p->rc)
			return;
	} else if (etm_conf_has_group(p->conf, "task") && task_type) {
		p->eng = etm_engine_new(task_type, task_type->name);
		p->eng->pub.proj = p->proj ? &p->proj->pub : NULL;
	}
	if (etm_conf_has_group(p->conf, "task") && p->eng) {
		p->rc = etm_conf_parse_task(p->conf, ETM_SPEC_FULL, &ts);
		if (!p->rc)
			p->rc = etm_task_build(p->conf, ts, p->eng, &p->tk);
	}
}

static inline void parsed_clear(struct parsed *p)
{
	etm_task_free(p->tk);
	etm_engine_free(p->eng);
	etm_project_free(p->proj);
	etm_conf_free(p->conf);
	g_string_free(p->err, TRUE);
	memset(p, 0, sizeof(*p));
}

static inline void check_ok(const char *text, const struct etm_engine_type *type, const char *file, int line)
{
	struct parsed p;

	parse_text(text, type, &p);
	if (p.rc != 0) {
		print_error("expected success, got %d: %s\n--- config ---\n%s\n", p.rc, p.err->str, text);
		parsed_clear(&p);
		_fail(file, line);
	}
	parsed_clear(&p);
}

/* Fails unless parsing fails with an error line containing every given part. */
static inline void check_err(const char *text, const struct etm_engine_type *type, const char *const *parts,
			     const char *file, int line)
{
	struct parsed p;
	bool ok = true;

	parse_text(text, type, &p);
	if (p.rc == 0 || strncmp(p.err->str, "config " TEST_CONF_NAME ": ", strlen("config " TEST_CONF_NAME ": ")))
		ok = false;
	for (; ok && *parts; parts++) {
		if (!strstr(p.err->str, *parts)) {
			print_error("missing \"%s\"\n", *parts);
			ok = false;
		}
	}
	if (!ok) {
		print_error("expected failure, got %d: \"%s\"\n--- config ---\n%s\n", p.rc, p.err->str, text);
		parsed_clear(&p);
		_fail(file, line);
	}
	parsed_clear(&p);
}

#define EXPECT_OK(text, type) check_ok((text), (type), __FILE__, __LINE__)
#define EXPECT_ERR(text, type, ...)                                                                                    \
	check_err((text), (type), (const char *const[]){ __VA_ARGS__, NULL }, __FILE__, __LINE__)

/* Edit @base and expect success / an error containing the given parts; frees the text. */
#define EDIT_OK(base, type, ...)                                                                                       \
	do {                                                                                                           \
		char *t_ = conf_edit((base), __VA_ARGS__, NULL);                                                       \
		EXPECT_OK(t_, (type));                                                                                 \
		g_free(t_);                                                                                            \
	} while (0)
#define EDIT_ERR(base, type, edit, ...)                                                                                \
	do {                                                                                                           \
		char *t_ = conf_edit((base), (edit), NULL);                                                            \
		EXPECT_ERR(t_, (type), __VA_ARGS__);                                                                   \
		g_free(t_);                                                                                            \
	} while (0)

/* Parse @base edited by one key and hand the result to the caller (who clears it). */
static inline void parse_edit(const char *base, const struct etm_engine_type *type, const char *edit, struct parsed *p)
{
	char *t = conf_edit(base, edit, NULL);

	parse_text(t, type, p);
	g_free(t);
}

#endif
