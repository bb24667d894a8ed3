/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * check-heatmap-picture SERIES.json PICTURE.png [--allow-flat]
 *                      [--hot START-END --cold START-END]:
 * does the picture show the series? The PNG is decoded by cairo's own reader (not by the code that
 * drew it); it must have the size the geometry gives, and in the newest
 * cycle the cells must be ordered by the data itself (not by the drawing's
 * colour function):
 *   - accesses mode: the third of regions with the most accesses per page
 *     is brighter than the third with the fewest;
 *   - residency mode: regions (nearly) all resident are brighter than
 *     regions (nearly) all swapped out, when the cycle has both.
 * With --hot and --cold (addresses, 0x... or decimal, END excluded): what
 * the workload says, not what the series says. The newest cycle must be in
 * accesses mode, and its regions that lie wholly in the hot range must
 * have more accesses per page, and be drawn brighter, than those wholly in
 * the cold range (at least one of each).
 * Prints one JSON line per check of what it measured; exit 0 when all holds.
 */
#include <cairo.h>
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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

struct range {
	uint64_t start, end;
	bool set;
};

/* Region @r of cycle @c: its first address and the next region's (its own end when it is the last of its process). */
static void region_span(const struct etm_heat_data *d, unsigned c, unsigned r, uint64_t *start, uint64_t *end)
{
	const struct etm_heat_cellv *x = &d->cell[(size_t)c * d->nregions + r];

	*start = x->start;
	if (r + 1 < d->n[c] && x[1].pid == x->pid)
		*end = x[1].start; /* past any gap the region spans: "wholly inside" stays strict */
	else
		*end = x->start + x->pages * 4096;
}

/* Accesses per page and luminance of the newest cycle's regions wholly inside @in. */
static unsigned range_means(const struct etm_heat_data *d, cairo_surface_t *s, const struct etm_heat_geom *g,
			    const struct range *in, double *acc, double *lum)
{
	unsigned c = d->ncycles - 1, n = 0;
	double a = 0, l = 0;

	for (unsigned r = 0; r < d->n[c]; r++) {
		const struct etm_heat_cellv *x = &d->cell[(size_t)c * d->nregions + r];
		uint64_t start, end;

		region_span(d, c, r, &start, &end);
		if (start < in->start || end > in->end || !x->pages)
			continue;
		a += (double)x->accesses / (double)x->pages;
		l += cell_lum(s, g, c, r);
		n++;
	}
	*acc = n ? a / n : 0;
	*lum = n ? l / n : 0;
	return n;
}

/* The workload's hot range against its cold one: 0 when it holds, 1 when not. */
static int check_ranges(const struct etm_heat_data *d, cairo_surface_t *s, const struct etm_heat_geom *g,
			const struct range *hot, const struct range *cold)
{
	unsigned c = d->ncycles - 1, nh, nc;
	double ah, lh, ac, lc;

	nh = range_means(d, s, g, hot, &ah, &lh);
	nc = range_means(d, s, g, cold, &ac, &lc);
	printf("{\"check\":\"ranges\",\"mode\":\"%s\",\"hot_range_cells\":%u,\"cold_range_cells\":%u,"
	       "\"hot_accesses_per_page\":%.3f,\"cold_accesses_per_page\":%.3f,"
	       "\"hot_luminance\":%.3f,\"cold_luminance\":%.3f}\n",
	       d->residency[c] ? "residency" : "accesses", nh, nc, ah, ac, lh, lc);
	if (d->residency[c]) {
		fprintf(stderr, "check-heatmap-picture: the newest cycle is in residency mode, not accesses\n");
		return 1;
	}
	if (!nh || !nc) {
		fprintf(stderr, "check-heatmap-picture: no region lies wholly in the %s range\n", nh ? "cold" : "hot");
		return 1;
	}
	if (ah <= ac) {
		fprintf(stderr, "check-heatmap-picture: the hot range has no more accesses per page than the cold\n");
		return 1;
	}
	if (lh <= lc + 0.1) {
		fprintf(stderr, "check-heatmap-picture: the hot range is not drawn brighter than the cold\n");
		return 1;
	}
	return 0;
}

/* START-END, each 0x... or decimal, START < END. */
static bool parse_range(const char *arg, struct range *out)
{
	char *end;

	errno = 0;
	out->start = g_ascii_strtoull(arg, &end, 0);
	if (errno || end == arg || *end != '-')
		return false;
	arg = end + 1;
	out->end = g_ascii_strtoull(arg, &end, 0);
	out->set = true;
	return !errno && end != arg && !*end && out->start < out->end;
}

static int usage(void)
{
	fprintf(stderr, "usage: check-heatmap-picture SERIES.json PICTURE.png [--allow-flat] "
			"[--hot START-END --cold START-END]\n");
	return 2;
}

int main(int argc, char **argv)
{
	g_autofree char *json = NULL;
	struct etm_heat_data *d = NULL;
	struct etm_heat_geom g;
	struct range hot = { 0 }, cold = { 0 };
	bool allow_flat = false;
	cairo_surface_t *s;
	char err[512];
	gsize len;
	int ret;

	if (argc < 3)
		return usage();
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--allow-flat"))
			allow_flat = true;
		else if (!strcmp(argv[i], "--hot") && i + 1 < argc && parse_range(argv[i + 1], &hot))
			i++;
		else if (!strcmp(argv[i], "--cold") && i + 1 < argc && parse_range(argv[i + 1], &cold))
			i++;
		else
			return usage();
	}
	if (hot.set != cold.set)
		return usage();
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
		else if (ret == 2 && allow_flat)
			ret = 0; /* the caller knows the series may have nothing to compare */
		else if (ret == 2)
			fprintf(stderr,
				"check-heatmap-picture: the series' newest cycle has no hot and cold to compare\n");
		if (hot.set && check_ranges(d, s, &g, &hot, &cold))
			ret = 1;
	}
	cairo_surface_destroy(s);
	etm_heat_data_free(d);
	etm_heat_teardown();
	return ret;
}
