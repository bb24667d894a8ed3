/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * check-heatmap-picture SERIES.json PICTURE.png: does the picture show the
 * series? The PNG is decoded by cairo's own reader (not by the code that
 * drew it); it must have the size the geometry gives, and in the newest
 * cycle the cells must be ordered by the data itself (not by the drawing's
 * colour function):
 *   - accesses mode: the third of regions with the most accesses per page
 *     is brighter than the third with the fewest;
 *   - residency mode: regions (nearly) all resident are brighter than
 *     regions (nearly) all swapped out, when the cycle has both.
 * Prints one JSON line of what it measured; exit 0 when all holds.
 */
#include <cairo.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

#include "heatmap/heatmap.h"

struct ranked {
	double key, lum;
};

/* Mean luminance (0..1) of a cell's left edge, away from the swapped dot in its middle. */
static double cell_lum(cairo_surface_t *s, const struct etm_heat_geom *g, unsigned c, unsigned r)
{
	const unsigned char *data = cairo_image_surface_get_data(s);
	int stride = cairo_image_surface_get_stride(s);
	double sum = 0;
	unsigned n = 0;

	for (unsigned y = 1; y + 1 < g->cell_h; y++)
		for (unsigned x = 1; x <= 2; x++) {
			unsigned px = g->x0 + c * g->cell_w + x, py = g->y0 + r * g->cell_h + y;
			uint32_t p = *(const uint32_t *)(data + (size_t)py * stride + px * 4);

			sum += (0.2126 * ((p >> 16) & 255) + 0.7152 * ((p >> 8) & 255) + 0.0722 * (p & 255)) / 255.0;
			n++;
		}
	return sum / n;
}

static int by_key(const void *a, const void *b)
{
	double x = ((const struct ranked *)a)->key, y = ((const struct ranked *)b)->key;

	return (x > y) - (x < y);
}

static double mean_lum(const struct ranked *v, unsigned from, unsigned to)
{
	double s = 0;

	for (unsigned i = from; i < to; i++)
		s += v[i].lum;
	return to > from ? s / (to - from) : 0;
}

/* The newest cycle's order: 0 when it holds, 1 when not, 2 when the data has nothing to compare. */
static int check_order(const struct etm_heat_data *d, cairo_surface_t *s, const struct etm_heat_geom *g)
{
	unsigned c = d->ncycles - 1, n = d->n[c], lo = 0, hi = 0;
	g_autofree struct ranked *v = g_new0(struct ranked, n ? n : 1);
	double cold, hot;

	for (unsigned r = 0; r < n; r++) {
		const struct etm_heat_cellv *x = &d->cell[(size_t)c * d->nregions + r];
		double pages = x->pages ? (double)x->pages : 1;

		v[r].key = d->residency[c] ? (double)x->resident / pages : (double)x->accesses / pages;
		v[r].lum = cell_lum(s, g, c, r);
	}
	qsort(v, n, sizeof(*v), by_key);
	if (d->residency[c]) {
		while (lo < n && v[lo].key <= 0.1)
			lo++;
		while (hi < n && v[n - 1 - hi].key >= 0.9)
			hi++;
	} else {
		lo = hi = n / 3;
	}
	cold = mean_lum(v, 0, lo);
	hot = mean_lum(v, n - hi, n);
	printf("{\"mode\":\"%s\",\"cycles\":%u,\"regions\":%u,\"cold_cells\":%u,\"hot_cells\":%u,"
	       "\"cold_luminance\":%.3f,\"hot_luminance\":%.3f}\n",
	       d->residency[c] ? "residency" : "accesses", d->ncycles, n, lo, hi, cold, hot);
	if (!lo || !hi || v[0].key == v[n - 1].key)
		return 2;
	return hot > cold + 0.1 ? 0 : 1;
}

int main(int argc, char **argv)
{
	g_autofree char *json = NULL;
	struct etm_heat_data *d = NULL;
	struct etm_heat_geom g;
	cairo_surface_t *s;
	char err[512];
	gsize len;
	int ret;

	if (argc != 3 && !(argc == 4 && !g_strcmp0(argv[3], "--allow-flat"))) {
		fprintf(stderr, "usage: check-heatmap-picture SERIES.json PICTURE.png [--allow-flat]\n");
		return 2;
	}
	if (!g_file_get_contents(argv[1], &json, &len, NULL) || etm_heat_data_parse(json, len, &d, err, sizeof(err))) {
		fprintf(stderr, "check-heatmap-picture: %s: not a heatmap series\n", argv[1]);
		return 1;
	}
	etm_heat_geometry(d, &g);
	s = cairo_image_surface_create_from_png(argv[2]);
	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
		fprintf(stderr, "check-heatmap-picture: %s does not decode as PNG: %s\n", argv[2],
			cairo_status_to_string(cairo_surface_status(s)));
		ret = 1;
	} else if ((unsigned)cairo_image_surface_get_width(s) != g.width ||
		   (unsigned)cairo_image_surface_get_height(s) != g.height) {
		fprintf(stderr, "check-heatmap-picture: %s is %dx%d, the series needs %ux%u\n", argv[2],
			cairo_image_surface_get_width(s), cairo_image_surface_get_height(s), g.width, g.height);
		ret = 1;
	} else {
		cairo_surface_flush(s);
		ret = check_order(d, s, &g);
		if (ret == 1)
			fprintf(stderr, "check-heatmap-picture: hot cells are not brighter than cold ones\n");
		else if (ret == 2 && argc == 4)
			ret = 0; /* the caller knows the series may have nothing to compare */
		else if (ret == 2)
			fprintf(stderr,
				"check-heatmap-picture: the series' newest cycle has no hot and cold to compare\n");
	}
	cairo_surface_destroy(s);
	etm_heat_data_free(d);
	etm_heat_teardown();
	return ret;
}
