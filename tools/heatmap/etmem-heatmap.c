/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * etmem-heatmap: draw a heatmap from a recorded document
 *     etmem engine heatmap -n P -e slide -t T -s SOCK --json > series.json
 *     etmem-heatmap series.json picture.png      (or .svg; - reads stdin)
 * the same drawing as `etmem engine heatmap ... -o FILE`, for a series taken
 * on one machine and drawn on another, and for the tests.
 */
#include <glib.h>
#include <stdio.h>

#include "heatmap/heatmap.h"

int main(int argc, char **argv)
{
	g_autofree char *json = NULL;
	g_autoptr(GError) gerr = NULL;
	struct etm_heat_geom g;
	char err[512];
	gsize len = 0;
	int ret;

	if (argc != 3) {
		fprintf(stderr, "usage: etmem-heatmap SERIES.json|- PICTURE.png|PICTURE.svg\n");
		return 2;
	}
	if (!g_strcmp0(argv[1], "-")) {
		GString *in = g_string_new(NULL);
		char buf[65536];
		size_t n;

		while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
			g_string_append_len(in, buf, (gssize)n);
		len = in->len;
		json = g_string_free(in, FALSE);
	} else if (!g_file_get_contents(argv[1], &json, &len, &gerr)) {
		fprintf(stderr, "etmem-heatmap: %s\n", gerr->message);
		return 1;
	}
	ret = etm_heat_render_json(json, len, argv[2], &g, err, sizeof(err));
	etm_heat_teardown();
	if (ret) {
		fprintf(stderr, "etmem-heatmap: %s\n", err);
		return 1;
	}
	printf("wrote %s (%ux%u)\n", argv[2], g.width, g.height);
	return 0;
}
