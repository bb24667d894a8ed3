/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The daemon step from configuration specs (conf_spec.h) to registry
 * objects (registry.h): check what a spec says against the objects it
 * names, give the engine type's parse hooks the context they need (a task's
 * project), and load plugins and let them parse their own keys
 * (fill_*_params, the plugin ABI). Errors are recorded in the conf, one
 * line, as the key parsers record theirs. Nothing here takes the registry
 * lock or touches its lists: the registry looks objects up and publishes.
 */
#ifndef ETM_OBJECTS_H
#define ETM_OBJECTS_H

#include <glib.h>

#include "conf_spec.h"
#include "registry.h"

/* A new project as @spec describes it. */
struct etm_project *etm_project_build(const struct etm_project_spec *spec);

/*
 * A new engine of @proj (not appended; @proj may be NULL for tests): @spec
 * must name @proj, its type suit @proj's scan_type; the type's own [engine]
 * keys are parsed. thirdparty: only its identity, the plugin is loaded by
 * etm_engine_attach_plugin(). 0 or -EINVAL.
 */
int etm_engine_build(struct etm_conf *conf, const struct etm_engine_spec *spec, struct etm_project *proj,
		     struct etm_engine **out);
/*
 * thirdparty: load the plugin (checked, see engine.h) and let it parse its
 * [engine] keys. 0, or a negative errno with @err set (one line).
 */
int etm_engine_attach_plugin(struct etm_conf *conf, struct etm_engine *eng, GString *err);

/*
 * A new task of @eng (not appended): @spec must name @eng and its project,
 * the target is checked (required except for psi), and the engine parses its
 * own [task] keys with the project as context. 0 or -EINVAL.
 */
int etm_task_build(struct etm_conf *conf, const struct etm_task_spec *spec, struct etm_engine *eng,
		   struct etm_task **out);

#endif
