/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * A configuration file's sections as plain specs: what [project], [engine]
 * and [task] say, checked key by key against the tables of keys.h, with no
 * registry object built and nothing looked up. The daemon step (objects.h)
 * turns specs into registry objects; what depends on other objects (the
 * project a task's T range comes from, an engine type's own keys, a plugin)
 * is checked there.
 */
#ifndef ETM_CONF_SPEC_H
#define ETM_CONF_SPEC_H

#include <glib.h>
#include <stdbool.h>

#include "config.h"
#include "etmem/etmemd_thirdparty_export.h"
#include "keys.h"

struct etm_engine_type;

struct etm_project_spec {
	char *name;
	int scan_type; /* enum scan_type */
	struct page_scan page;
	struct psi_scan psi;
	struct region_scan region;
	int sysmem_threshold;	  /* -1 when unset */
	int swapcache_high_wmark; /* -1 when unset */
	int swapcache_low_wmark;  /* -1 when unset */
};

struct etm_engine_spec {
	char *project;
	char *name; /* the name= value: the engine type */
	const struct etm_engine_type *type;
	char *id; /* the engine's name in its project: eng_name for thirdparty, else the type's name */
	/* thirdparty only */
	char *eng_name;
	char *libname;
	char *ops_name;
};

enum etm_target_kind {
	ETM_TARGET_NONE = 0, /* psi: the task targets cgroups (cg_dir) */
	ETM_TARGET_PID,
	ETM_TARGET_NAME,
};

struct etm_task_spec {
	char *project;
	char *engine;
	char *name;
	int target; /* enum etm_target_kind: the type= value */
	char *value;
	int max_threads;
	bool swap_flag;
};

/*
 * How much of a section to read: the whole section (obj add), or only the
 * keys that name the object (obj del): [project] name; [engine] project,
 * name and a thirdparty's eng_name; [task] project, engine and name.
 */
enum etm_spec_depth {
	ETM_SPEC_FULL,
	ETM_SPEC_IDS,
};

/*
 * Parse one section into a new spec. Each returns 0, or -EINVAL with the
 * error recorded in @conf ("section missing" when the file has none).
 */
int etm_conf_parse_project(struct etm_conf *conf, enum etm_spec_depth depth, struct etm_project_spec **out);
int etm_conf_parse_engine(struct etm_conf *conf, enum etm_spec_depth depth, struct etm_engine_spec **out);
int etm_conf_parse_task(struct etm_conf *conf, enum etm_spec_depth depth, struct etm_task_spec **out);

void etm_project_spec_free(struct etm_project_spec *spec);
void etm_engine_spec_free(struct etm_engine_spec *spec);
void etm_task_spec_free(struct etm_task_spec *spec);
typedef struct etm_project_spec etm_project_spec;
typedef struct etm_engine_spec etm_engine_spec;
typedef struct etm_task_spec etm_task_spec;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(etm_project_spec, etm_project_spec_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(etm_engine_spec, etm_engine_spec_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(etm_task_spec, etm_task_spec_free)

/* "pid" or "name" (NULL for none), as struct task spells the target type. */
const char *etm_target_kind_name(int kind);

/* The identity keys of a thirdparty [engine]: the thirdparty engine type's key table. */
extern const struct etm_key_table etm_thirdparty_keys;

/* Every section table, in the order etmem.conf(5) lists them (NULL-terminated). */
extern const struct etm_key_table *const etm_conf_section_tables[];

#endif
