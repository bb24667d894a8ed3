/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * etmemd-keydoc: etmem.conf(5)'s key lists from the daemon's key tables.
 *   etmemd-keydoc                print every generated block (roff)
 *   etmemd-keydoc --check FILE   exit 1, naming the block, when FILE's blocks differ
 *   etmemd-keydoc --update FILE  rewrite FILE's blocks from the tables
 */
#include <stdio.h>
#include <string.h>

#include "daemon/keydoc.h"

/* The first line where @a and @b differ, for the message. */
static int first_diff_line(const char *a, const char *b)
{
	int line = 1;

	for (; *a && *a == *b; a++, b++)
		line += *a == '\n';
	return line;
}

int main(int argc, char **argv)
{
	g_autoptr(GString) why = g_string_new(NULL);
	g_autoptr(GError) gerr = NULL;
	g_autofree char *text = NULL, *updated = NULL;

	if (argc == 1) {
		g_autoptr(GString) out = g_string_new(NULL);

		etm_keydoc_all(out);
		fputs(out->str, stdout);
		return 0;
	}
	if (argc != 3 || (strcmp(argv[1], "--check") && strcmp(argv[1], "--update"))) {
		fprintf(stderr, "usage: %s [--check|--update MAN_PAGE]\n", argv[0]);
		return 2;
	}
	if (!g_file_get_contents(argv[2], &text, NULL, &gerr)) {
		fprintf(stderr, "%s: %s\n", argv[0], gerr->message);
		return 2;
	}
	updated = etm_keydoc_update(text, why);
	if (!updated) {
		fprintf(stderr, "%s: %s: %s\n", argv[0], argv[2], why->str);
		return 1;
	}
	if (strcmp(argv[1], "--update") == 0) {
		if (strcmp(text, updated) && !g_file_set_contents(argv[2], updated, -1, &gerr)) {
			fprintf(stderr, "%s: %s\n", argv[0], gerr->message);
			return 2;
		}
		return 0;
	}
	if (strcmp(text, updated) != 0) {
		fprintf(stderr,
			"%s: %s line %d: the key lists differ from the daemon's key tables; "
			"regenerate them with `cmake --build BUILD --target man-keys`\n",
			argv[0], argv[2], first_diff_line(text, updated));
		return 1;
	}
	printf("%s: the key lists match the key tables\n", argv[2]);
	return 0;
}
