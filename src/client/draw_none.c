/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * engine heatmap -o in a client built without the drawing: a build without
 * cairo and json-glib (CMake option ETMEM_HEATMAP_DRAW, or the libraries
 * missing), and the static rig client. It says so before asking the daemon.
 */
#include <errno.h>
#include <stdio.h>

#include "client.h"

int etm_client_draw_check(const char *path, char *msg, size_t msglen)
{
	snprintf(msg, msglen,
		 "cannot draw %s: this etmem was built without cairo (the heatmap drawing); rebuild with "
		 "libcairo2-dev and libjson-glib-dev, or take the series with --json and draw it elsewhere with "
		 "etmem-heatmap SERIES.json PICTURE.png",
		 path);
	return -ENOTSUP;
}

int etm_client_draw_heatmap(const char *json, size_t len, const char *path, char *msg, size_t msglen)
{
	(void)json, (void)len;
	return etm_client_draw_check(path, msg, msglen);
}
