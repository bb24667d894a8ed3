/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Help texts, generated from the command table so that what `help` shows is
 * by construction what the parser accepts.
 */
#include <stdlib.h>
#include <string.h>

#include "client.h"

#define INDENT "    "

static void help_top(FILE *fp)
{
	size_t i, width = 0;

	for (i = 0; etm_cmd_table[i]; i++) {
		size_t l = strlen(etm_cmd_table[i]->name);

		if (l > width)
			width = l;
	}
	fprintf(fp, "Usage:\n");
	fprintf(fp, INDENT "etmem OBJECT COMMAND [options]\n");
	fprintf(fp, INDENT "etmem help\n\n");
	fprintf(fp, "Objects:\n");
	for (i = 0; etm_cmd_table[i]; i++)
		fprintf(fp, INDENT "%-*s  %s\n", (int)width, etm_cmd_table[i]->name, etm_cmd_table[i]->summary);
	fprintf(fp, "\nRun 'etmem <obj> help' for the commands and options of an object.\n");
}

void etm_client_help(FILE *fp, const struct etm_cmd_entry *e)
{
	size_t i;

	if (!e) {
		help_top(fp);
		return;
	}
	fprintf(fp, "Usage:\n");
	for (i = 0; i < e->n_subcmds; i++) {
		const struct etm_subcmd_desc *s = &e->subcmds[i];

		if (e->no_word)
			fprintf(fp, INDENT "etmem %s [options]\n", e->name);
		else
			fprintf(fp, INDENT "etmem %s %s [options]\n", e->name, s->name ? s->name : s->usage_name);
	}
	fprintf(fp, INDENT "etmem %s help\n", e->name);
	if (e->n_opts) {
		fprintf(fp, "\nOptions:\n");
		for (i = 0; i < e->n_opts; i++) {
			const struct etm_opt_desc *o = &e->opts[i];

			if (o->short_name)
				fprintf(fp, INDENT "-%c|", o->short_name);
			else
				fprintf(fp, INDENT);
			fprintf(fp, "--%s", o->long_name);
			if (o->arg_name)
				fprintf(fp, " <%s>", o->arg_name);
			fprintf(fp, " %s\n", o->help);
		}
	}
	if (e->n_notes) {
		fprintf(fp, "\nNotes:\n");
		for (i = 0; i < e->n_notes; i++)
			fprintf(fp, INDENT "%zu. %s\n", i + 1, e->notes[i]);
	}
}

char *etm_client_help_new(const struct etm_cmd_entry *e)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	if (!fp)
		return NULL;
	etm_client_help(fp, e);
	if (fclose(fp) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
