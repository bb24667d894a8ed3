/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The heatmap series reader (src/heatmap, what etmem engine heatmap -o and
 * etmem-heatmap read from a socket or a file) on arbitrary bytes: it fails
 * cleanly or gives a consistent series (every cycle's regions within the
 * bound, every cell addressable), whose values the drawing then reads.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "heatmap/heatmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct etm_heat_data *d = NULL;
	struct etm_heat_geom g;
	char err[256];
	char *buf = malloc(size ? size : 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (!etm_heat_data_parse(buf, size, &d, err, sizeof(err))) {
		if (!d->ncycles || d->ncycles > 1024 || d->nregions > 1024)
			abort();
		for (unsigned c = 0; c < d->ncycles; c++) {
			if (d->n[c] > d->nregions)
				abort();
			for (unsigned r = 0; r < d->n[c]; r++) {
				double v = etm_heat_value(d, c, r);

				if (!(v >= 0 && v <= 1.0))
					abort();
			}
		}
		etm_heat_geometry(d, &g);
		if (g.width < g.x0 + d->ncycles * g.cell_w || g.height < g.y0 + d->nregions * g.cell_h)
			abort();
	}
	etm_heat_data_free(d);
	free(buf);
	return 0;
}
