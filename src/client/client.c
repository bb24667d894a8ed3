/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Command-line parsing for etmem. The grammar is
 *     etmem OBJECT COMMAND [options]      etmem help      etmem OBJECT help
 * and every object's options come from its etm_cmd_entry.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

const struct etm_cmd_entry *const etm_cmd_table[] = {
	&etm_cmd_obj_entry, &etm_cmd_project_entry, &etm_cmd_engine_entry, &etm_cmd_metrics_entry, NULL,
};

/* Longest possible optstring: "+:" plus "x:" per option. */
#define OPTSTRING_MAX (2 + 2 * ETM_F_MAX + 1)

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool is_help_word(const char *s)
{
	return !strcmp(s, "help") || !strcmp(s, "-h") || !strcmp(s, "--help");
}

static const struct etm_cmd_entry *find_entry(const char *name)
{
	size_t i;

	for (i = 0; etm_cmd_table[i]; i++)
		if (!strcmp(etm_cmd_table[i]->name, name))
			return etm_cmd_table[i];
	return NULL;
}

/* "add, del or help" / "an engine command or help", for error messages. */
static void expected_words(const struct etm_cmd_entry *e, char *buf, size_t len)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < e->n_subcmds && off < len; i++) {
		const char *w = e->subcmds[i].name;
		int n = snprintf(buf + off, len - off, "%s%s", i ? ", " : "", w ? w : e->subcmds[i].usage_name);

		if (n < 0)
			return;
		off += (size_t)n;
	}
	if (off < len)
		snprintf(buf + off, len - off, " or help");
}

/* getopt's value of an option: its letter, or past every char for a long-only one. */
static int opt_val(const struct etm_opt_desc *o)
{
	return o->short_name ? o->short_name : 0x100 + (int)o->field;
}

static const struct etm_opt_desc *find_opt(const struct etm_cmd_entry *e, int c)
{
	size_t i;

	for (i = 0; i < e->n_opts; i++)
		if (opt_val(&e->opts[i]) == c)
			return &e->opts[i];
	return NULL;
}

/* "-n|--name" or "--json", for messages. */
static const char *opt_name(const struct etm_opt_desc *o, char *buf, size_t len)
{
	if (o->short_name)
		snprintf(buf, len, "-%c|--%s", o->short_name, o->long_name);
	else
		snprintf(buf, len, "--%s", o->long_name);
	return buf;
}

static const char *field_what(enum etm_client_field f)
{
	switch (f) {
	case ETM_F_PROJ:
		return "project name";
	case ETM_F_ENGINE:
		return "engine name";
	case ETM_F_TASK:
		return "task name";
	case ETM_F_SOCKET:
		return "socket name";
	case ETM_F_OUTPUT:
		return "output file name";
	default:
		return "configuration file";
	}
}

/* Check and store one option value. */
static int store_opt(struct etm_client_cmd *out, const struct etm_opt_desc *o, const char *val, char *err,
		     size_t errlen)
{
	size_t len = val ? strlen(val) : 0;

	switch (o->field) {
	case ETM_F_JSON:
		out->json = true;
		return 0;
	case ETM_F_OUTPUT:
		if (len < 1 || len > ETM_MAX_PATH_LEN)
			return fail(err, errlen, "output file name must be 1..%d bytes", ETM_MAX_PATH_LEN);
		out->output = val;
		return 0;
	case ETM_F_SOCKET:
		if (len < 1 || len > ETM_SOCKET_NAME_MAX)
			return fail(err, errlen, "socket name must be 1..%d bytes", ETM_SOCKET_NAME_MAX);
		out->socket = val;
		return 0;
	case ETM_F_FILE:
		if (len == 0)
			return fail(err, errlen, "configuration file name is empty");
		/*
		 * Resolve here, against the user's cwd: etmemd runs elsewhere and
		 * must only ever see absolute paths.
		 */
		if (!realpath(val, out->file))
			return fail(err, errlen, "cannot use configuration file '%s': %s", val, strerror(errno));
		out->has_file = true;
		return 0;
	default:
		break;
	}
	if (len < 1 || len > ETM_MAX_NAME_LEN)
		return fail(err, errlen, "%s must be 1..%d bytes", field_what(o->field), ETM_MAX_NAME_LEN);
	if (o->field == ETM_F_PROJ)
		out->proj = val;
	else if (o->field == ETM_F_ENGINE)
		out->eng = val;
	else
		out->task = val;
	return 0;
}

static int parse_opts(const struct etm_cmd_entry *e, int argc, char **argv, struct etm_client_cmd *out, char *err,
		      size_t errlen)
{
	const struct etm_subcmd_desc *s = out->sub;
	/* "project show", "engine showtaskpages", or "metrics" (an object without a command word). */
	const char *word = s->name ? s->name : e->no_word ? NULL : argv[0];
	char what[ETM_MAX_NAME_LEN + 32];
	struct option longopts[ETM_F_MAX + 1];
	char optstring[OPTSTRING_MAX];
	char name[64];
	unsigned seen = 0;
	size_t i, k = 0;
	int c, ret;

	snprintf(what, sizeof(what), "%s%s%s", e->name, word ? " " : "", word ? word : "");
	memset(longopts, 0, sizeof(longopts));
	/* '+': stop at the first word that is not an option, so stray words are caught. ':': report missing arguments.
	 */
	optstring[k++] = '+';
	optstring[k++] = ':';
	for (i = 0; i < e->n_opts && i < ETM_F_MAX; i++) {
		const struct etm_opt_desc *o = &e->opts[i];

		longopts[i].name = o->long_name;
		longopts[i].has_arg = o->arg_name ? required_argument : no_argument;
		longopts[i].val = opt_val(o);
		if (!o->short_name)
			continue;
		optstring[k++] = o->short_name;
		if (o->arg_name)
			optstring[k++] = ':';
	}
	optstring[k] = '\0';

	optind = 0; /* 0, not 1: makes glibc reinitialise its state between parses */
	opterr = 0;
	while ((c = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		const struct etm_opt_desc *o;

		if (c == '?') {
			if (optopt)
				return fail(err, errlen, "unrecognized option '-%c' for '%s'", optopt, what);
			return fail(err, errlen, "unrecognized option '%s' for '%s'", argv[optind - 1], what);
		}
		if (c == ':') {
			o = find_opt(e, optopt);
			if (o)
				return fail(err, errlen, "option %s requires an argument <%s>",
					    opt_name(o, name, sizeof(name)), o->arg_name);
			return fail(err, errlen, "option '%s' requires an argument", argv[optind - 1]);
		}
		o = find_opt(e, c);
		if (!o)
			return fail(err, errlen, "unrecognized option '-%c'", c);
		if (!((s->required | s->optional) & ETM_F_BIT(o->field)))
			return fail(err, errlen, "'%s' does not take option %s", what, opt_name(o, name, sizeof(name)));
		if (seen & ETM_F_BIT(o->field))
			return fail(err, errlen, "option %s given more than once", opt_name(o, name, sizeof(name)));
		seen |= ETM_F_BIT(o->field);
		ret = store_opt(out, o, optarg, err, errlen);
		if (ret)
			return ret;
	}
	if (optind < argc)
		return fail(err, errlen, "unexpected argument '%s' for '%s'", argv[optind], what);
	for (i = 0; i < e->n_opts; i++) {
		const struct etm_opt_desc *o = &e->opts[i];

		if ((s->required & ETM_F_BIT(o->field)) && !(seen & ETM_F_BIT(o->field)))
			return fail(err, errlen, "'%s' needs option %s <%s>", what, opt_name(o, name, sizeof(name)),
				    o->arg_name);
	}
	return 0;
}

int etm_client_parse(int argc, char **argv, struct etm_client_cmd *out, char *err, size_t errlen)
{
	const struct etm_cmd_entry *e;
	const char *word;
	char expect[128];
	size_t i;
	int ret;

	memset(out, 0, sizeof(*out));
	out->send_timeout_ms = ETM_CLIENT_SEND_TIMEOUT_MS;
	out->recv_timeout_ms = ETM_CLIENT_RECV_TIMEOUT_MS;
	if (err && errlen)
		err[0] = '\0';

	if (argc < 2)
		return fail(err, errlen, "missing object (obj, project, engine or metrics); see 'etmem help'");
	if (is_help_word(argv[1])) {
		if (argc > 2)
			return fail(err, errlen, "unexpected argument '%s' after 'help'", argv[2]);
		return 1;
	}
	e = find_entry(argv[1]);
	if (!e)
		return fail(err, errlen, "unknown object '%s'; see 'etmem help'", argv[1]);
	out->entry = e;
	if (e->no_word) {
		/* Options right after the object: "etmem metrics -s SOCK". */
		if (argc > 2 && is_help_word(argv[2])) {
			if (argc > 3)
				return fail(err, errlen, "unexpected argument '%s' after '%s help'", argv[3], e->name);
			return 1;
		}
		out->sub = &e->subcmds[0];
		out->cmd = out->sub->cmd;
		return parse_opts(e, argc - 1, argv + 1, out, err, errlen);
	}
	expected_words(e, expect, sizeof(expect));
	if (argc < 3 || (argv[2][0] == '-' && !is_help_word(argv[2])))
		return fail(err, errlen, "missing command after '%s' (expected %s)", e->name, expect);
	word = argv[2];
	if (is_help_word(word)) {
		if (argc > 3)
			return fail(err, errlen, "unexpected argument '%s' after '%s help'", argv[3], e->name);
		return 1;
	}
	for (i = 0; i < e->n_subcmds; i++)
		if (e->subcmds[i].name && !strcmp(e->subcmds[i].name, word))
			break;
	if (i == e->n_subcmds) {
		/* Not a fixed word: an object whose command is free-form (engine) takes it as is. */
		for (i = 0; i < e->n_subcmds; i++)
			if (!e->subcmds[i].name)
				break;
		if (i == e->n_subcmds)
			return fail(err, errlen, "unknown command '%s %s' (expected %s)", e->name, word, expect);
		if (strlen(word) > ETM_MAX_NAME_LEN || !word[0])
			return fail(err, errlen, "%s command must be 1..%d bytes", e->name, ETM_MAX_NAME_LEN);
		out->eng_cmd = word;
	}
	out->sub = &e->subcmds[i];
	out->cmd = out->sub->cmd;
	if ((ret = parse_opts(e, argc - 2, argv + 2, out, err, errlen)))
		return ret;
	/* -o draws a picture: of the heatmap, the one command whose output is one. */
	if (out->output && (!out->eng_cmd || strcmp(out->eng_cmd, "heatmap")))
		return fail(err, errlen, "option -o|--output is for 'engine heatmap' only");
	if (out->output && out->json)
		return fail(err, errlen, "options -o|--output and --json exclude each other");
	return 0;
}
