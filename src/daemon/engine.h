/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Engine types. Every engine, built in or third-party, is a struct
 * engine_ops (the plugin ABI). A built-in type adds a descriptor with what
 * the daemon must know before and besides the vtable.
 */
#ifndef ETM_ENGINE_H
#define ETM_ENGINE_H

#include <glib.h>
#include <stdbool.h>

#include "etmem/etmemd_thirdparty_export.h"

struct etm_engine;

struct etm_engine_type {
	const char *name; /* the [engine] name= value: slide, cslide, psi, thirdparty */
	enum eng_type type;
	/* The project scan_type this engine runs under. */
	enum scan_type scan_type;
	/* NULL for thirdparty: its vtable comes from the plugin. */
	const struct engine_ops *ops;
	/*
	 * Optional: extra figures of one task for `project show`, appended as
	 * indented "key: value" lines. Called without the registry lock held
	 * against start/stop of this task: the engine locks its own state.
	 */
	void (*task_figures)(struct engine *eng, struct task *tk, GString *out);
};

/* The built-in types: NULL if @name is none of them. */
const struct etm_engine_type *etm_engine_type_find(const char *name);

extern const struct etm_engine_type etm_slide_engine;
extern const struct etm_engine_type etm_cslide_engine;
extern const struct etm_engine_type etm_psi_engine;
extern const struct etm_engine_type etm_thirdparty_engine;

/*
 * Third-party: open the library file once and check it and every directory
 * on its path (plugin_check.h: root-owned, not writable by group or others;
 * the file regular, root:root, mode 0500/0700), dlopen the opened file and
 * resolve @ops_name, checked to be a struct engine_ops of that library. On
 * failure @err says why.
 */
int etm_thirdparty_load(struct etm_engine *eng, GString *err);
void etm_thirdparty_unload(struct etm_engine *eng);

#endif
