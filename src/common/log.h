/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef ETM_LOG_H
#define ETM_LOG_H

#include <stdbool.h>

/* Levels as etmemd -l takes them: lower is more verbose. */
enum etm_log_level {
	ETM_LOG_DEBUG = 0,
	ETM_LOG_INFO = 1,
	ETM_LOG_WARN = 2,
	ETM_LOG_ERR = 3,
};

/*
 * Set once at start-up, before any thread exists: messages at or above
 * @level go to syslog (ident @ident), and also to stderr when @to_stderr.
 */
void etm_log_init(const char *ident, int level, bool to_stderr);
void etm_log_set_stderr(bool to_stderr);
/*
 * One message, one line: control bytes in the formatted text (a newline in a
 * name from a request) are written as \xNN, so no text can forge a line.
 */
void etm_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define etm_debug(...) etm_log(ETM_LOG_DEBUG, __VA_ARGS__)
#define etm_info(...) etm_log(ETM_LOG_INFO, __VA_ARGS__)
#define etm_warn(...) etm_log(ETM_LOG_WARN, __VA_ARGS__)
#define etm_err(...) etm_log(ETM_LOG_ERR, __VA_ARGS__)

#endif
