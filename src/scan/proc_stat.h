/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The one /proc/PID/stat parser: target resolution reads comm, ppid and
 * flags of every process, the journal its owner's start time.
 *
 * "PID (COMM) S PPID PGRP SESSION TTY_NR TPGID FLAGS ... STARTTIME(22) ...":
 * comm may hold spaces and ')' itself, so it runs from the first '(' to the
 * LAST ')'. Fields are single-space separated decimals; tty_nr, tpgid,
 * priority and nice may be negative (their values are not kept).
 */
#ifndef ETM_SCAN_PROC_STAT_H
#define ETM_SCAN_PROC_STAT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* comm is at most 15 bytes (TASK_COMM_LEN - 1); kernel workers' names can be longer (64). */
#define ETM_COMM_MAX 64

/* How far to parse: the number of the last field wanted (later fields are not looked at). */
enum etm_stat_upto {
	ETM_STAT_PPID = 4,
	ETM_STAT_FLAGS = 9,
	ETM_STAT_STARTTIME = 22,
};

struct etm_proc_stat {
	char comm[ETM_COMM_MAX + 1]; /* cut to ETM_COMM_MAX bytes */
	char state;
	pid_t ppid;	     /* 0..ETM_PID_MAX */
	unsigned long flags; /* with ETM_STAT_FLAGS or later (PF_*) */
	uint64_t starttime;  /* with ETM_STAT_STARTTIME: clock ticks after boot */
};

/*
 * Parse @len bytes up to field @upto. 0, or -EINVAL for anything but the
 * kernel's format (no comm, a NUL in comm, a field missing or malformed, a
 * ppid above ETM_PID_MAX).
 */
int etm_proc_stat_parse(const char *buf, size_t len, enum etm_stat_upto upto, struct etm_proc_stat *st);
/*
 * Read and parse /proc/@pid/stat, relative to @procfd (an open /proc; -1:
 * "/proc"). -errno of the open or read (the process is gone: -ENOENT or
 * -ESRCH), or of the parse.
 */
int etm_proc_stat_read(int procfd, pid_t pid, enum etm_stat_upto upto, struct etm_proc_stat *st);

#endif
