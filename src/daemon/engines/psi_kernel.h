/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * psi engine: what the kernel offers. Where the cgroup hierarchies are
 * mounted (mountinfo, through the memcg layer's parser), whether PSI is on, and when it is not, which
 * boot option or kernel config is missing (the command line and the kernel
 * config, where one can be found). Every file is named in a struct psi_sys,
 * so the unit tests run all of it on a stand-in tree.
 */
#ifndef ETM_PSI_KERNEL_H
#define ETM_PSI_KERNEL_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "scan/cgroup_fs.h"

/* Where the kernel's files are. */
struct psi_sys {
	const char *mountinfo; /* "/proc/self/mountinfo" */
	/*
	 * Tests: the mounts the table names are directories of a stand-in
	 * tree, so each is taken to be on the filesystem it is really on
	 * (not cgroupfs), for the memcg layer's confined opens.
	 */
	bool standin;
	const char *proc_pressure; /* "/proc/pressure/memory" */
	const char *meminfo;	   /* "/proc/meminfo" */
	const char *cmdline;	   /* "/proc/cmdline" */
	const char *kconfig;	   /* the kernel config as text; NULL: /boot/config-$(uname -r) */
	const char *jdir;	   /* undo journal of v1 limit cuts (ETM_RUN_DIR); NULL: none */
};

/* This machine's files. */
extern const struct psi_sys psi_sys_host;

/* The hierarchies the engine may use, through the memcg layer's mount parser (scan/cgroup_fs.h). */
struct psi_mounts {
	struct etm_cgroup_root memory_v1;  /* cgroup v1 with the memory controller */
	struct etm_cgroup_root cpuacct_v1; /* cgroup v1 with cpuacct (openEuler's psi_v1 pressure files) */
	struct etm_cgroup_root unified;	   /* cgroup2 */
	bool has_memory_v1, has_cpuacct_v1, has_unified;
};

/* From mountinfo text (pure): each hierarchy's mount that shows the most of it. */
void psi_mounts_parse(const char *buf, size_t len, struct psi_mounts *out);
/* From @sys->mountinfo. 0, or -errno when it cannot be read. */
int psi_mounts_read(const struct psi_sys *sys, struct psi_mounts *out);

/*
 * A boolean kernel parameter on a command line (the last occurrence wins,
 * as the kernel's __setup handlers run for each; nothing after " -- ", which
 * is init's): 1 on (1 y Y on), 0 off (0 n N off), -1 absent or not a
 * boolean.
 */
int psi_cmdline_bool(const char *cmdline, size_t len, const char *param);

/* CONFIG_@name in kernel config text: 'y', 'm', 'n' (set to n or "is not set"), or 0 unknown (absent). */
char psi_kconfig_value(const char *buf, size_t len, const char *name);

/*
 * Why the kernel has no memory PSI where the engine needs it, appended to
 * @out as one sentence naming what to change. @v1_cpuacct: the openEuler
 * cgroup v1 case (cpuacct memory.pressure missing, psi_v1=1 and
 * CONFIG_PSI_CGROUP_V1 needed); @system_psi: /proc/pressure/memory exists.
 * @kconfig may be NULL (no config found).
 */
void psi_diagnose(const char *cmdline, size_t cmdline_len, const char *kconfig, size_t kconfig_len, bool system_psi,
		  bool v1_cpuacct, GString *out);

/* psi_diagnose() on @sys's files. */
void psi_diagnose_sys(const struct psi_sys *sys, bool system_psi, bool v1_cpuacct, GString *out);

#endif
