/* SPDX-License-Identifier: MulanPSL-2.0 */
/* engine heatmap -o: the picture, drawn by src/heatmap (cairo). */
#include <errno.h>
#include <glib.h>
#include <stdio.h>

#include "client.h"
#include "heatmap/heatmap.h"

int etm_client_draw_check(const char *path, char *msg, size_t msglen)
{
	if (g_str_has_suffix(path, ".png") || g_str_has_suffix(path, ".svg"))
		return 0;
	snprintf(msg, msglen, "%s: the picture's name must end in .png or .svg", path);
	return -EINVAL;
}

int etm_client_draw_heatmap(const char *json, size_t len, const char *path, char *msg, size_t msglen)
{
	struct etm_heat_geom g;
	int ret = etm_heat_render_json(json, len, path, &g, msg, msglen);

	/* etmem draws once, then exits: its caches go, for the leak checkers. */
	etm_heat_teardown();
	if (!ret)
		snprintf(msg, msglen, "wrote %s (%ux%u)", path, g.width, g.height);
	return ret;
}
