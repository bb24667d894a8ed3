/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The daemon's registry of projects, engines and tasks: the only mutable
 * global state of etmemd. Each public ABI struct (struct project/engine/task,
 * what plugins see) is embedded first in a daemon-side container that adds
 * what only the daemon needs; convert with the etm_*_of() helpers.
 */
#ifndef ETM_REGISTRY_H
#define ETM_REGISTRY_H

#include <glib.h>
#include <pthread.h>
#include <stdbool.h>

#include "etmem/etmemd_thirdparty_export.h"

struct etm_engine_type;

enum etm_proj_state {
	ETM_PROJ_STOPPED = 0,
	ETM_PROJ_STARTING,
	ETM_PROJ_STARTED,
	ETM_PROJ_STOPPING,
};

struct etm_project {
	struct project pub;
	struct page_scan page;	   /* scan_param when pub.type == PAGE_SCAN */
	struct psi_scan psi;	   /* scan_param when pub.type == PSI_SCAN */
	struct region_scan region; /* scan_param when pub.type == REGION_SCAN */
	enum etm_proj_state state; /* guarded by the registry lock */
	int busy;		   /* operations in flight without the registry lock */
	struct etm_project *next;
};

struct etm_engine {
	struct engine pub;
	const struct etm_engine_type *type;
	/* Third-party only: the plugin's identity and where it came from. */
	char *eng_name;
	char *libname;
	char *ops_name;
};

/*
 * A task's runtime state, guarded by the registry lock. STARTING and
 * STOPPING mark an engine start_task/stop_task call in flight (made without
 * the lock); only a STARTED task's runtime may be read (see engine.h).
 */
enum etm_task_state {
	ETM_TASK_STOPPED = 0,
	ETM_TASK_STARTING,
	ETM_TASK_STARTED,
	ETM_TASK_STOPPING,
};

struct etm_learnt;
struct etm_cycle_hook;

struct etm_task {
	struct task pub;
	enum etm_task_state state;
	/* Set only while the engine's start_task runs: see etm_task_report_error(). */
	GString *start_err;
	/* The registry's store of what engines learnt (learnt.h), set before start_task; NULL outside a registry. */
	struct etm_learnt *learnt;
	/* The registry's cycle-done hook (cycle_hook.h), set before start_task; NULL outside a registry. */
	struct etm_cycle_hook *cycle_hook;
};

static inline struct etm_project *etm_project_of(struct project *p)
{
	return (struct etm_project *)p;
}
static inline struct etm_engine *etm_engine_of(struct engine *e)
{
	return (struct etm_engine *)e;
}
static inline struct etm_task *etm_task_of(struct task *t)
{
	return (struct etm_task *)t;
}

/*
 * Constructors take copies of the strings (glib allocations: out of memory
 * aborts). Freeing an engine or task frees its params first (the type's
 * free hook, or a plugin's clear_*_params); freeing a project frees its
 * engines and tasks. None of these touches the registry lists. objects.h
 * builds them from configuration specs.
 */
struct etm_project *etm_project_new(const char *name);
void etm_project_free(struct etm_project *proj);
struct etm_engine *etm_engine_new(const struct etm_engine_type *type, const char *name);
void etm_engine_free(struct etm_engine *eng);
struct etm_task *etm_task_new(const char *name, const char *type, const char *value);
void etm_task_free(struct etm_task *tk);
typedef struct etm_project etm_project;
typedef struct etm_engine etm_engine;
typedef struct etm_task etm_task;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(etm_project, etm_project_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(etm_engine, etm_engine_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(etm_task, etm_task_free)

struct etm_engine *etm_project_find_engine(struct etm_project *proj, const char *name);
struct etm_task *etm_engine_find_task(struct etm_engine *eng, const char *name);
/* Append to / remove from the object lists (the caller holds the registry lock once they are published). */
void etm_project_append_engine(struct etm_project *proj, struct etm_engine *eng);
void etm_engine_append_task(struct etm_engine *eng, struct etm_task *tk);
void etm_project_unlink_engine(struct etm_project *proj, struct etm_engine *eng);
void etm_engine_unlink_task(struct etm_engine *eng, struct etm_task *tk);

struct etm_registry;

struct etm_registry *etm_registry_new(void);
/*
 * Tests that run without root (who cannot chown a file to root) replace the
 * configuration files' owner check (config.h, etm_conf_load_with()); NULL
 * restores the spec's root:root.
 */
struct stat;
void etm_registry_set_conf_owner_check(struct etm_registry *reg, int (*owner_ok)(const struct stat *st, GString *why));
/* Stops every running task and frees everything. Only once no request runs any more. */
void etm_registry_free(struct etm_registry *reg);

/*
 * Registry operations used by the request dispatcher. @out receives command
 * output; @err receives the one-line error message on failure. Both return
 * an enum etm_status.
 *
 * At most ETM_REGISTRY_MAX_LOADS obj add/del run at once (each holds its
 * file, up to 10 MiB, while it runs); another waits for a slot up to
 * ETM_REGISTRY_LOAD_WAIT_MS and then fails with ETM_ERR_BUSY.
 */
#define ETM_REGISTRY_MAX_LOADS 4
#define ETM_REGISTRY_LOAD_WAIT_MS 5000
int etm_registry_obj_add(struct etm_registry *reg, const char *path, GString *err);
int etm_registry_obj_del(struct etm_registry *reg, const char *path, GString *err);
int etm_registry_start(struct etm_registry *reg, const char *proj, GString *err);
int etm_registry_stop(struct etm_registry *reg, const char *proj, GString *err);
/* @format: enum etm_format (proto.h): the original's text, or JSON (docs/json.md). */
int etm_registry_show(struct etm_registry *reg, const char *proj, int format, GString *out, GString *err);
/*
 * Runs an engine private command; its output goes to @out_fd. A built-in
 * engine's command renders its report in @format (enum etm_format); a
 * plugin's eng_mgt_func writes text only (JSON: ETM_ERR_NOT_SUPPORTED).
 */
int etm_registry_eng_cmd(struct etm_registry *reg, const char *proj, const char *eng, const char *task, const char *cmd,
			 int format, int out_fd, GString *err);
/*
 * For built-in engines: explain why start_task fails, so that the client
 * sees the reason and not just an error number. Outside start_task it only
 * logs.
 */
void etm_task_report_error(struct task *tk, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * For built-in engines: the registry's store of what they learnt about
 * their targets (learnt.h), which outlives the task's runtime; valid while
 * the task runs. NULL for a task started outside a registry.
 */
struct etm_learnt *etm_task_learnt(struct task *tk);

/*
 * Listen to every task's finished cycles (cycle_hook.h): @fn(@data) runs on
 * the engine's thread, briefly, after each cycle of a built-in engine's
 * task. NULL removes it; once that returns, @fn runs no more.
 */
void etm_registry_on_cycle(struct etm_registry *reg, void (*fn)(void *data), void *data);

/*
 * Stops every started project (SIGTERM path). Requests in flight are waited
 * for (up to ETM_REGISTRY_SETTLE_MS): a project still busy after that is
 * left alone rather than stopped under another request's feet. Afterwards no
 * project can be started again.
 */
#define ETM_REGISTRY_SETTLE_MS 10000
void etm_registry_stop_all(struct etm_registry *reg);

#endif
