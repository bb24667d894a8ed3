/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Engine types. Every engine, built in or third-party, is a struct
 * engine_ops (the plugin ABI). A built-in type adds a descriptor with what
 * the daemon must know before and besides the vtable.
 *
 * The lifetime of a task's runtime: the contract between the registry and
 * every engine (built-in types and plugins alike).
 *
 *  - A task's runtime is whatever start_task creates: threads, memory
 *    (usually hung on tk->timer_inst), kernel state. The engine owns it.
 *    stop_task stops it: it joins (or otherwise ends) every thread that uses
 *    it, undoes the kernel state and frees it before returning. No reference
 *    counting is needed for the daemon's sake.
 *  - The registry keeps each task in one of four states (registry.h), changed
 *    only under its lock: STOPPED -> STARTING -> STARTED -> STOPPING ->
 *    STOPPED. start_task runs in STARTING, stop_task in STOPPING, exactly
 *    once for each start_task that returned 0. For one task, start_task,
 *    stop_task, eng_mgt_func and task_figures never overlap.
 *  - task_figures is called with the registry lock held, for a STARTED task
 *    only. A task leaves STARTED (under that lock) before its stop_task is
 *    called, so no task_figures call is running when stop_task starts and
 *    none begins after: stop_task may free what task_figures reads. Because
 *    it holds the registry lock, task_figures must not block on anything
 *    slow: take only the engine's own locks, and never hold those while
 *    waiting (a scan, a sleep, a kernel reclaim).
 *  - eng_mgt_func is called without the registry lock, while its project is
 *    STARTED (and the task, when one is named, STARTED) and held busy: no
 *    start, stop or delete of the project or of any of its tasks can begin
 *    before it returns, so every runtime of the project stays valid for it.
 *  - start_task and stop_task are called without the registry lock, except
 *    at shutdown and when `obj add` starts a new task in a started project
 *    (start_task with the lock held: the task is not visible yet). So
 *    neither may call into the registry, except etm_task_report_error().
 */
#ifndef ETM_ENGINE_H
#define ETM_ENGINE_H

#include <glib.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "etmem/etmemd_thirdparty_export.h"

struct etm_conf;
struct etm_engine;
struct etm_figures;
struct etm_key_table;
struct etm_report;

/*
 * A built-in engine's private command (`etmem engine NAME ...`): it fills a
 * report (report.h) and the daemon renders it as text or JSON, as the client
 * asked. Called as eng_mgt_func is (see the contract above): without the
 * registry lock, its project STARTED and held busy, @tk STARTED (or NULL
 * when the client named no task). Returns 0, or -errno with @err set to the
 * client's one-line message (-EINVAL: a bad request, such as a task of the
 * wrong kind; -EAGAIN: nothing to show yet).
 */
struct etm_engine_cmd {
	const char *name; /* the command word: "showtaskpages" */
	bool needs_task;  /* refused without -t */
	int (*run)(struct engine *eng, struct task *tk, struct etm_report *out, GString *err);
};

/* What a task's keys may depend on: its project (slide's T is 0..loop*3). */
struct etm_task_ctx {
	const struct project *proj; /* never NULL when the daemon builds a task */
};

struct etm_engine_type {
	const char *name; /* the [engine] name= value: slide, cslide, psi, thirdparty */
	enum eng_type type;
	/* The project scan_type this engine runs under. */
	enum scan_type scan_type;
	/* NULL for thirdparty: its vtable comes from the plugin. */
	const struct engine_ops *ops;
	/*
	 * The type's own keys of [engine] and [task] (keys.h), parsed into
	 * engine->params and task->params; NULL when it has none. A type
	 * described by its tables alone needs no parse or free hook: the
	 * table parser builds the params struct and frees it. etmem.conf(5)
	 * lists them. (thirdparty's engine_keys are its identity, parsed
	 * into the engine spec; its plugin reads its other keys itself.)
	 */
	const struct etm_key_table *engine_keys;
	const struct etm_key_table *task_keys;
	/*
	 * Optional hooks, for what a table cannot say (a context the rows
	 * need): build the params from @conf, 0 or -EINVAL with the error
	 * recorded in @conf. The free hooks undo them.
	 */
	int (*parse_engine)(struct etm_conf *conf, void **params);
	int (*parse_task)(struct etm_conf *conf, const struct etm_task_ctx *ctx, void **params);
	void (*free_engine)(void *params);
	void (*free_task)(void *params);
	/*
	 * Optional: the figures of one task (figures.h), added as typed fields
	 * that `project show` renders (and later JSON and metrics). Called with
	 * the registry lock held, for a STARTED task only (see the contract
	 * above): the runtime is valid, but the engine's own threads change it,
	 * so lock the engine's state.
	 */
	void (*task_figures)(struct engine *eng, struct task *tk, struct etm_figures *figs);
	/*
	 * Optional: the private commands, ended by an entry with a NULL name.
	 * A command word not in this list goes to ops->eng_mgt_func when there
	 * is one (text only: a plugin's output is its own).
	 */
	const struct etm_engine_cmd *cmds;
};

/*
 * A built-in type's engine and task params: through its hooks, else its
 * tables (NULL params when it has neither). 0 or -EINVAL with @conf's error.
 */
int etm_engine_type_parse_engine(const struct etm_engine_type *type, struct etm_conf *conf, void **params);
int etm_engine_type_parse_task(const struct etm_engine_type *type, struct etm_conf *conf,
			       const struct etm_task_ctx *ctx, void **params);
void etm_engine_type_free_engine(const struct etm_engine_type *type, void *params);
/* Does the daemon parse (and free) this type's engine/task params, or its ops' fill_*_params? */
bool etm_engine_type_parses_engine(const struct etm_engine_type *type);
bool etm_engine_type_parses_task(const struct etm_engine_type *type);
void etm_engine_type_free_task(const struct etm_engine_type *type, void *params);

/*
 * A task's processes as the plugin ABI shows them: tk->pids, one struct
 * task_pid per process the task resolved, in ascending pid order. The
 * engine's alloc_pid_params (optional) is called for each pid when it
 * appears, and may hang its own data on ->params; free_pid_params
 * (optional) when it goes, and must free that data but not the task_pid,
 * which the daemon owns.
 *
 * Who keeps the list: for a thirdparty task, the registry, from the target
 * resolved when the task starts (before start_task), cleared after
 * stop_task; it does not change while the task runs, so a plugin's threads
 * may read it without a lock. A built-in engine that uses it (cslide)
 * brings it in line with each cycle's resolution on its own thread and
 * clears it in stop_task; the registry clears whatever is left after
 * stop_task.
 */
/*
 * Make tk->pids the @n ascending @pids: entries for pids gone are freed,
 * new ones allocated. A pid whose alloc_pid_params fails is left out (and
 * logged); returns how many were.
 */
int etm_task_pids_sync(struct engine *eng, struct task *tk, const pid_t *pids, size_t n);
void etm_task_pids_clear(struct engine *eng, struct task *tk);

/*
 * A task's last error, kept for project show: format it into @last (@size
 * bytes) under @lock, and log it (at error level, after @what, the task's
 * engine and name) unless it is the one kept already: the same failure
 * every cycle is logged once. @fmt is the caller's.
 */
void etm_task_last_error(pthread_mutex_t *lock, char *last, size_t size, const char *what, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

/* Every built-in type, NULL-terminated. */
extern const struct etm_engine_type *const etm_engine_types[];

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
