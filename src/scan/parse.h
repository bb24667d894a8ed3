/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The scan library's parsing toolkit: every text the kernel hands us
 * (procfs, sysfs, cgroupfs, debugfs) and every record of ours is read with
 * these, so that a number, a line and a pid follow one rule everywhere.
 * Pure functions over a buffer with an explicit end (no NUL needed), for
 * unit tests and fuzzing.
 */
#ifndef ETM_SCAN_PARSE_H
#define ETM_SCAN_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The kernel's PID_MAX_LIMIT on 64-bit: no pid (nor kernel thread) is ever above it. */
#define ETM_PID_MAX 4194304

/*
 * A decimal number at *@pp (at least one digit, no sign, no spaces), the
 * whole uint64_t range; *@pp advances past it on success only. -EINVAL
 * without a digit, -ERANGE past UINT64_MAX.
 */
int etm_parse_u64(const char **pp, const char *end, uint64_t *out);
/* The same in hex (0-9, a-f, A-F; no "0x"), at most 16 digits (else -EINVAL). */
int etm_parse_hex(const char **pp, const char *end, uint64_t *out);

/* Lines of a buffer: for (etm_lines_init(&it, buf, len); etm_line_next(&it, &ls, &le);) */
struct etm_lines {
	const char *p, *end;
};

void etm_lines_init(struct etm_lines *it, const char *buf, size_t len);
/*
 * The next line as [*@ls, *@le), without its '\n'; false after the last. A
 * last line without a final newline ends at the buffer's end (*@le == end),
 * which is how a reader tells a torn record.
 */
bool etm_line_next(struct etm_lines *it, const char **ls, const char **le);

/* 1..ETM_PID_MAX */
bool etm_pid_valid(uint64_t v);
/*
 * A pid as text: decimal digits only, no sign, no leading zero, no spaces
 * (the way /proc names its directories), 1..ETM_PID_MAX. 0 or -EINVAL.
 */
int etm_pid_parse(const char *s, pid_t *out);

#endif
