/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef ETMEMD_ENGINE_EXP_H
#define ETMEMD_ENGINE_EXP_H

#include <glib.h>
#include <stdint.h>

#include "etmemd_exp.h"

/*
 * Version of the plugin ABI these headers describe (docs/plugins.md): the
 * layouts of struct engine, task, task_pid, project and engine_ops, and the
 * numbering of enum eng_type. Version 1 is the original etmem's ABI as of
 * 2023 (PSI_FB_ENGINE inserted, THIRDPARTY_ENGINE = 7).
 */
#define ETMEM_ENGINE_ABI_VERSION 1

struct project;
struct task;
struct task_pid;

/* Numbering kept from the original (PSI_FB inserted in 2023: THIRDPARTY=7). */
enum eng_type {
	SLIDE_ENGINE = 0,
	CSLIDE_ENGINE,
	MEMDCD_ENGINE,
	DAMON_ENGINE,
	PSI_FB_ENGINE,
	DYNAMIC_FB_ENGINE,
	HISTORICAL_FB_ENGINE,
	THIRDPARTY_ENGINE,
	NOT_SUPPORT_ENGINE,
};

struct engine_ops;

struct engine {
	int engine_type;
	char *name;
	void *params; /* engine-private */
	struct project *proj;
	struct page_refs *page_ref;
	struct engine_ops *ops;
	struct task *tasks;
	uint64_t page_cnt;
	struct engine *next;
	void *handler; /* dlopen handle of a third-party engine */
};

/*
 * The engine vtable: built-in engines and third-party plugins implement the
 * same nine entries, in this order. Any may be NULL; starting needs start_task.
 * Every int-returning entry returns 0 on success and non-zero on failure.
 */
struct engine_ops {
	int (*fill_eng_params)(GKeyFile *config, struct engine *eng);
	void (*clear_eng_params)(struct engine *eng);
	int (*fill_task_params)(GKeyFile *config, struct task *task);
	void (*clear_task_params)(struct task *tk);
	int (*start_task)(struct engine *eng, struct task *tk);
	void (*stop_task)(struct engine *eng, struct task *tk);
	int (*alloc_pid_params)(struct engine *eng, struct task_pid **tk_pid);
	void (*free_pid_params)(struct engine *eng, struct task_pid **tk_pid);
	/*
	 * Private command @cmd; output is written to @fd. Any bytes are allowed:
	 * etmemd frames them before they reach the client.
	 */
	int (*eng_mgt_func)(struct engine *eng, struct task *tk, char *cmd, int fd);
};

#endif
