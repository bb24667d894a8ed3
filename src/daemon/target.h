/* SPDX-License-Identifier: MulanPSL-2.0 */
/* Resolving a task's target (type=pid|name) to the processes it covers. */
#ifndef ETM_TARGET_H
#define ETM_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* value checks of the spec: names ≤ 15 chars of [A-Za-z0-9./%_-]; pids decimal. */
bool etm_target_name_valid(const char *name);
bool etm_target_pid_valid(const char *value);

/*
 * Every live process the target covers: for type "pid" that pid, for "name"
 * every process whose comm equals @value; in both cases with all their
 * descendants (followed through /proc/PID/task/TID/children or a /proc scan).
 * *pids is a new ascending, duplicate-free array. 0 (possibly with *n == 0
 * when nothing matches) or a negative errno.
 */
int etm_target_resolve(const char *type, const char *value, pid_t **pids, size_t *n);

/* ppid and comm of a /proc/PID/stat line (scan/proc_stat.h; fuzzable, no I/O). */
int etm_parse_proc_stat(const char *buf, size_t len, pid_t *ppid, char *comm, size_t comm_len);

#endif
