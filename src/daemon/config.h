/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Configuration files: the spec's file checks, GKeyFile loading, and key
 * helpers that every built-in engine uses to parse its own keys so that each
 * rejection names the file, section, key, bad value and allowed range.
 */
#ifndef ETM_CONFIG_H
#define ETM_CONFIG_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "registry.h"

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
 * Parse @data as if it were a file called @name (tests, fuzzing). Like
 * etm_conf_load(), refuses more than ETM_CONF_MAX_SECTIONS sections,
 * ETM_CONF_MAX_KEYS keys or a line longer than ETM_CONF_MAX_LINE bytes
 * (-E2BIG) before parsing.
 */
int etm_conf_load_data(const char *name, const char *data, size_t len, struct etm_conf **out, GString *err);
void etm_conf_free(struct etm_conf *conf);

/*
 * Key helpers. @required: a missing key is an error; otherwise *out keeps
 * its value (set the default before calling). Each returns 0, -ENOENT (absent
 * and optional) or -EINVAL (with conf->err set, if it was empty).
 */
int etm_conf_get_int(struct etm_conf *conf, const char *group, const char *key, bool required, long min, long max,
		     long *out);
int etm_conf_get_double(struct etm_conf *conf, const char *group, const char *key, bool required, double min,
			double max, bool min_exclusive, double *out);
/* yes/no → true/false. */
int etm_conf_get_yesno(struct etm_conf *conf, const char *group, const char *key, bool required, bool *out);
/* Non-empty string of at most @maxlen bytes; *out is a new string. */
int etm_conf_get_str(struct etm_conf *conf, const char *group, const char *key, bool required, size_t maxlen,
		     char **out);
/* Records "FILE: [GROUP] KEY=VALUE: REASON" as the error unless one is set. Returns -EINVAL. */
int etm_conf_error(struct etm_conf *conf, const char *group, const char *key, const char *value, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Engine callbacks reach the file being parsed through these (NULL outside parsing). */
static inline struct etm_conf *etm_conf_of_task(struct task *tk)
{
	return etm_task_of(tk)->conf;
}
static inline struct etm_conf *etm_conf_of_engine(struct engine *eng)
{
	return etm_engine_of(eng)->conf;
}

/*
 * Object parsers used by obj add/del. Each reads its section's common keys,
 * builds the object and (for engines and tasks) calls the engine's
 * fill_*_params with conf->kf. @proj is the project the engine/task goes to
 * (NULL when it must be looked up by the caller: they return its name in
 * *proj_name, *eng_name).
 */
bool etm_conf_has_group(struct etm_conf *conf, const char *group);
int etm_conf_parse_project(struct etm_conf *conf, struct etm_project **out);
/* [engine]: the project name and the engine's identity (eng_name for thirdparty). */
int etm_conf_engine_ids(struct etm_conf *conf, char **proj_name, char **eng_id);
int etm_conf_parse_engine(struct etm_conf *conf, struct etm_project *proj, struct etm_engine **out);
/* [task]: the project, engine and task names. */
int etm_conf_task_ids(struct etm_conf *conf, char **proj_name, char **eng_name, char **task_name);
int etm_conf_parse_task(struct etm_conf *conf, struct etm_engine *eng, struct etm_task **out);

#endif
