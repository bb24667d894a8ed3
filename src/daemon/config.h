/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Configuration files: the spec's file checks, the shape bounds, GKeyFile
 * loading and the one-line error. Keys are read through keys.h, sections
 * into plain specs by conf_spec.h; nothing here knows the registry.
 */
#ifndef ETM_CONFIG_H
#define ETM_CONFIG_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define ETM_CONF_MAX_SIZE (10 * 1024 * 1024)
/*
 * Bounds on a file's shape, checked on its bytes before GKeyFile builds
 * anything: GKeyFile spends ~160 bytes per section and per key, so 10 MiB
 * of tiny sections cost ~420 MB per request. The spec puts one project, one
 * engine and one task in a file (a handful of sections, a few dozen keys):
 * these are generous. A line holds one key (cslide's node_pair text, 8 KiB,
 * is the longest value).
 */
#define ETM_CONF_MAX_SECTIONS 32
#define ETM_CONF_MAX_KEYS 512
#define ETM_CONF_MAX_LINE 16384
#define ETM_CONF_NAME_MAX 64
/* The three sections a file may hold (GKeyFile groups). */
#define ETM_SECTION_PROJECT "project"
#define ETM_SECTION_ENGINE "engine"
#define ETM_SECTION_TASK "task"
#define ETM_TASK_VALUE_MAX 15

struct etm_conf {
	char *path;
	GKeyFile *kf;
	/*
	 * The first error met, one line. It is the GString passed to
	 * etm_conf_load()/etm_conf_load_data() (borrowed: errors land directly
	 * in the caller's string); when NULL was passed, the conf owns one.
	 */
	GString *err;
	bool own_err;
};

/*
 * Check @path as the spec requires (absolute, regular file, owner uid 0 and
 * gid 0, mode exactly 0600 or 0400, at most 10 MiB) and load it. 0 or a
 * negative errno; on failure @err names the file and the reason.
 */
int etm_conf_load(const char *path, struct etm_conf **out, GString *err);
/*
 * The owner check of etm_conf_load(): 0, or a negative errno with the reason
 * in @why. etm_conf_owner_root() is the spec's (root:root); tests that run
 * without root, who cannot chown, pass another to etm_conf_load_with().
 */
typedef int (*etm_conf_owner_fn)(const struct stat *st, GString *why);
int etm_conf_owner_root(const struct stat *st, GString *why);
int etm_conf_load_with(const char *path, etm_conf_owner_fn owner_ok, struct etm_conf **out, GString *err);
/*
 * Parse @data as if it were a file called @name (tests, fuzzing). Like
 * etm_conf_load(), refuses more than ETM_CONF_MAX_SECTIONS sections,
 * ETM_CONF_MAX_KEYS keys or a line longer than ETM_CONF_MAX_LINE bytes
 * (-E2BIG) before parsing.
 */
int etm_conf_load_data(const char *name, const char *data, size_t len, struct etm_conf **out, GString *err);
void etm_conf_free(struct etm_conf *conf);
typedef struct etm_conf etm_conf;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(etm_conf, etm_conf_free)

/* Records "FILE: [GROUP] KEY=VALUE: REASON" as the error unless one is set. Returns -EINVAL. */
int etm_conf_error(struct etm_conf *conf, const char *group, const char *key, const char *value, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

bool etm_conf_has_group(struct etm_conf *conf, const char *group);

#endif
