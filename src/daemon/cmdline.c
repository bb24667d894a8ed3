/* SPDX-License-Identifier: MulanPSL-2.0 */
#include "cmdline.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

struct etmemd_option {
	char short_name;
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
};

#define N_OPTIONS G_N_ELEMENTS(options)

void etmemd_print_help(FILE *out)
{
	fprintf(out, "Usage: etmemd -s|--socket <socket name> [-l|--log-level <0..3>] [-m|--mode-systemctl]\n\n");
	fprintf(out, "options:\n");
	for (size_t i = 0; i < N_OPTIONS; i++)
		fprintf(out, "-%c|--%s%s%s%s\n", options[i].short_name, options[i].long_name, options[i].arg ? " " : "",
			options[i].arg ? options[i].arg : "", options[i].help);
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
	shortopts[n++] = ':'; /* report a missing argument as ':' */
	for (size_t i = 0; i < N_OPTIONS; i++) {
		longopts[i] = (struct option){ options[i].long_name, options[i].arg ? required_argument : no_argument,
					       NULL, options[i].short_name };
		shortopts[n++] = options[i].short_name;
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
