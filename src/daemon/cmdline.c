/* SPDX-License-Identifier: MulanPSL-2.0 */
#include "cmdline.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

/* getopt values of the long-only options. */
enum { OPT_METRICS_FILE = 0x100, OPT_METRICS_INTERVAL };

struct etmemd_option {
	int short_name; /* a letter, or an OPT_ value: a long option only */
	const char *long_name;
	const char *arg; /* NULL: takes no argument */
	const char *help;
};

/* Texts as the spec prints them (its "sockect" typo included). */
static const struct etmemd_option options[] = {
	{ 'l', "log-level", "<log-level>", "  Log level" },
	{ 's', "socket", "<sockect name>", "  Socket name to listen to" },
	{ 'h', "help", NULL, "  Show this message" },
	{ 'm', "mode-systemctl", NULL, " mode used to start(systemctl)" },
	{ OPT_METRICS_FILE, "metrics-file", "<path>",
	  "  Write the metrics (Prometheus text) to this file, atomically, after cycles and every interval" },
	{ OPT_METRICS_INTERVAL, "metrics-interval", "<seconds>",
	  "  Longest time between metrics file writes, in seconds (1..3600, 10)" },
};

#define N_OPTIONS G_N_ELEMENTS(options)

void etmemd_print_help(FILE *out)
{
	fprintf(out, "Usage: etmemd -s|--socket <socket name> [-l|--log-level <0..3>] [-m|--mode-systemctl]\n\n");
	fprintf(out, "options:\n");
	for (size_t i = 0; i < N_OPTIONS; i++) {
		if (options[i].short_name < 0x100)
			fprintf(out, "-%c|", options[i].short_name);
		fprintf(out, "--%s%s%s%s\n", options[i].long_name, options[i].arg ? " " : "",
			options[i].arg ? options[i].arg : "", options[i].help);
	}
}

/* --metrics-file (an absolute path, once) and --metrics-interval (1..3600, once). */
static int metrics_opt(int c, const char *arg, struct etmemd_opts *opts, GString *err)
{
	static const char *const names[] = { "--metrics-file", "--metrics-interval" };
	guint64 v;

	if (c == OPT_METRICS_FILE) {
		if (opts->metrics_file) {
			g_string_printf(err, "option %s given twice", names[0]);
			return -EINVAL;
		}
		/* etmemd runs with / as its directory (-m): a relative path would not mean what it says. */
		if (arg[0] != '/' || strlen(arg) > ETM_MAX_PATH_LEN || g_str_has_suffix(arg, "/")) {
			g_string_printf(
			    err, "invalid metrics file '%s': must be an absolute path of a file (at most %d bytes)",
			    arg, ETM_MAX_PATH_LEN);
			return -EINVAL;
		}
		opts->metrics_file = arg;
		return 0;
	}
	if (!g_ascii_string_to_unsigned(arg, 10, 1, ETM_METRICS_INTERVAL_MAX_S, &v, NULL)) {
		g_string_printf(err, "invalid metrics interval '%s': must be 1..%d seconds", arg,
				ETM_METRICS_INTERVAL_MAX_S);
		return -EINVAL;
	}
	opts->metrics_interval_s = (unsigned)v;
	return 0;
}

int etmemd_parse_args(int argc, char **argv, struct etmemd_opts *opts, GString *err)
{
	struct option longopts[N_OPTIONS + 1];
	char shortopts[2 * N_OPTIONS + 2];
	bool have_socket = false, have_level = false;
	size_t n = 0;
	int c;

	memset(opts, 0, sizeof(*opts));
	opts->log_level = ETMEMD_DEFAULT_LOG_LEVEL;
	opts->metrics_interval_s = ETM_METRICS_INTERVAL_DEFAULT_S;
	shortopts[n++] = ':'; /* report a missing argument as ':' */
	for (size_t i = 0; i < N_OPTIONS; i++) {
		longopts[i] = (struct option){ options[i].long_name, options[i].arg ? required_argument : no_argument,
					       NULL, options[i].short_name };
		if (options[i].short_name >= 0x100)
			continue;
		shortopts[n++] = (char)options[i].short_name;
		if (options[i].arg)
			shortopts[n++] = ':';
	}
	shortopts[n] = '\0';
	longopts[N_OPTIONS] = (struct option){ 0 };

	optind = 0; /* full re-initialisation: the parser is called repeatedly in tests */
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'l': {
			guint64 v;

			if (have_level) {
				g_string_assign(err, "option -l|--log-level given twice");
				return -EINVAL;
			}
			have_level = true;
			/* Digits only (glib's parser refuses a sign, blanks and 0x). */
			if (!g_ascii_string_to_unsigned(optarg, 10, 0, 3, &v, NULL)) {
				g_string_printf(err, "invalid log level '%s': must be 0..3", optarg);
				return -EINVAL;
			}
			opts->log_level = (int)v;
			break;
		}
		case 's':
			if (have_socket) {
				g_string_assign(err, "option -s|--socket given twice");
				return -EINVAL;
			}
			have_socket = true;
			if (optarg[0] == '\0' || strlen(optarg) > ETM_SOCKET_NAME_MAX) {
				g_string_printf(err, "socket name must be 1..%d bytes", ETM_SOCKET_NAME_MAX);
				return -EINVAL;
			}
			strcpy(opts->socket, optarg);
			break;
		case 'm':
			opts->systemd_mode = true;
			break;
		case OPT_METRICS_FILE:
		case OPT_METRICS_INTERVAL:
			if (metrics_opt(c, optarg, opts, err))
				return -EINVAL;
			break;
		case 'h':
			opts->help = true;
			break;
		case ':':
			g_string_printf(err, "option %s needs an argument", argv[optind - 1]);
			return -EINVAL;
		default:
			g_string_printf(err, "unknown option %s", argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (opts->help)
		return 0;
	if (optind < argc) {
		g_string_printf(err, "unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (!have_socket) {
		g_string_assign(err, "option -s|--socket <socket name> is required");
		return -EINVAL;
	}
	return 0;
}
