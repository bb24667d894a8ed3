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
 * descendants (one /proc scan). *pids is a new ascending, duplicate-free
 * array. 0 (possibly with *n == 0 when nothing matches) or a negative errno.
 *
 * Processes that may never be targets are left out, and so are their
 * descendants: pid 1 (its descendants are every process), kernel threads,
 * etmemd (the caller) and its ancestors. When the target matched one of
 * them, @why (when not NULL) says which and why; otherwise it is empty.
 */
int etm_target_resolve(const char *type, const char *value, pid_t **pids, size_t *n, char *why, size_t why_len);

/*
 * Refuse a target that matches, now, a process that may never be one (see
 * etm_target_resolve()): -EPERM with @why, -EINVAL for a malformed target,
 * or 0. `pid 1` is refused without looking. A pid that does not exist (yet)
 * is not refused: it is checked again at every start and every cycle.
 */
int etm_target_check(const char *type, const char *value, char *why, size_t why_len);

/*
 * Does the cgroup directory @dir, or any cgroup below it, hold a process
 * that is not the task's? The task's are @pids (ascending, from
 * etm_target_resolve()) and the processes they started since. 0 when there
 * is none; 1 with *foreign (and its printable comm in @comm) when there is;
 * -errno when it cannot be told (more than 4096 cgroups below @dir, an
 * unreadable cgroup.procs): then treat the cgroup as shared.
 */
int etm_target_memcg_foreign(const char *dir, const pid_t *pids, size_t n, pid_t *foreign, char *comm, size_t comm_len);

/* ppid and comm of a /proc/PID/stat line (scan/proc_stat.h; fuzzable, no I/O). */
int etm_parse_proc_stat(const char *buf, size_t len, pid_t *ppid, char *comm, size_t comm_len);

#endif
