/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Unit tests that produce JSON documents keep them in the build tree
 * (json-samples/NAME.json), where the test json.samples parses every one
 * and checks it against docs/etmem-output.schema.json (tests/json/).
 */
#ifndef ETM_TEST_JSON_SAMPLE_H
#define ETM_TEST_JSON_SAMPLE_H

#include <glib.h>
#include <glib/gstdio.h>

static inline void etm_test_save_json_sample(const char *name, const char *text)
{
	g_autofree char *dir = g_build_filename(ETMEM_BUILD_DIR, "json-samples", NULL);
	g_autofree char *file = g_strdup_printf("%s.json", name);
	g_autofree char *path = g_build_filename(dir, file, NULL);

	g_mkdir_with_parents(dir, 0755);
	if (!g_file_set_contents(path, text, -1, NULL))
		g_error("cannot write %s", path);
}

#endif
