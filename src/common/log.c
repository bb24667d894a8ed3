/* SPDX-License-Identifier: MulanPSL-2.0 */
#include "log.h"

#include "escape.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

/*
 * Logging configuration is process-wide by nature (syslog itself is): it is
 * written once in main() before threads start and only read afterwards.
 */
static int log_level = ETM_LOG_ERR;
static bool log_stderr;

static const int syslog_prio[] = { LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR };
static const char *const level_name[] = { "debug", "info", "warning", "error" };

void etm_log_init(const char *ident, int level, bool to_stderr)
{
	log_level = level;
	log_stderr = to_stderr;
	openlog(ident, LOG_PID, LOG_DAEMON);
}

void etm_log_set_stderr(bool to_stderr)
{
	log_stderr = to_stderr;
}

void etm_log(int level, const char *fmt, ...)
{
	char msg[1024], line[ETM_ESCAPED_SIZE(sizeof(msg))];
	va_list ap;

	if (level < ETM_LOG_DEBUG)
		level = ETM_LOG_DEBUG;
	if (level > ETM_LOG_ERR)
		level = ETM_LOG_ERR;
	if (level < log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/*
	 * One call, one line: a name from a request or a file may hold a
	 * newline, which would otherwise let it forge a log line of its own.
	 */
	etm_escape(line, sizeof(line), msg, sizeof(msg), false);
	syslog(syslog_prio[level], "%s", line);
	if (log_stderr) {
		/* One fprintf so that lines of concurrent threads do not interleave. */
		fprintf(stderr, "etmemd: %s: %s\n", level_name[level], line);
	}
}
