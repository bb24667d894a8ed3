/* SPDX-License-Identifier: MulanPSL-2.0 */
/* etmemd's command line: one option table drives getopt and the help text. */
#ifndef ETM_CMDLINE_H
#define ETM_CMDLINE_H

#include <glib.h>
#include <stdbool.h>
#include <stdio.h>

#include "common/proto.h"

#define ETMEMD_DEFAULT_LOG_LEVEL 2

struct etmemd_opts {
	int log_level;
	char socket[ETM_SOCKET_NAME_MAX + 1];
	bool systemd_mode;
	bool help;
	/* --metrics-file: an absolute path, NULL when not given (points into argv). */
	const char *metrics_file;
	unsigned metrics_interval_s; /* --metrics-interval */
};

/* 0 on success (check opts->help), -EINVAL with @err set otherwise. */
int etmemd_parse_args(int argc, char **argv, struct etmemd_opts *opts, GString *err);
void etmemd_print_help(FILE *out);

#endif
