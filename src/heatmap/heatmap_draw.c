/* SPDX-License-Identifier: MulanPSL-2.0 */
/* The heatmap picture with cairo, PNG or SVG (see heatmap.h). */
#include <cairo-svg.h>
#include <cairo.h>
#include <errno.h>
#include <fontconfig/fontconfig.h>
#include <glib.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "heatmap.h"

#define MARGIN_LEFT 190
#define MARGIN_TOP 92
#define MARGIN_RIGHT 150
#define MARGIN_BOTTOM 56
#define CELL_W 12 /* at least; wider when there are fewer than 48 cycles */
#define CELL_H 6  /* at least; higher when there are fewer than 96 regions */
#define PLOT_W 576
#define PLOT_H 144
#define FONT 11.0

struct rgb {
	double r, g, b;
};

/* Inferno, five stops: dark is cold, bright yellow is hot, brightness rising all the way. */
static struct rgb inferno(double v)
{
	static const struct rgb stop[] = {
		{ 0.001, 0.000, 0.014 }, { 0.341, 0.062, 0.429 }, { 0.735, 0.216, 0.330 },
		{ 0.978, 0.557, 0.035 }, { 0.988, 0.998, 0.645 },
	};
	double x = CLAMP(v, 0.0, 1.0) * (G_N_ELEMENTS(stop) - 1);
	unsigned i = MIN((unsigned)x, (unsigned)G_N_ELEMENTS(stop) - 2);
	double t = x - i;

	return (struct rgb){ stop[i].r + t * (stop[i + 1].r - stop[i].r), stop[i].g + t * (stop[i + 1].g - stop[i].g),
			     stop[i].b + t * (stop[i + 1].b - stop[i].b) };
}

static const struct etm_heat_cellv *cell(const struct etm_heat_data *d, unsigned c, unsigned r)
{
	return &d->cell[(size_t)c * d->nregions + r];
}

/* Pages of region @r that came back from swap since cycle @c - 1 (the same region, by address and size). */
static double refaulted(const struct etm_heat_data *d, unsigned c, unsigned r)
{
	const struct etm_heat_cellv *now = cell(d, c, r), *before;

	if (!c || r >= d->n[c - 1])
		return 0;
	before = cell(d, c - 1, r);
	if (before->start != now->start || before->pages != now->pages || before->swapped <= now->swapped)
		return 0;
	return (double)(before->swapped - now->swapped);
}

double etm_heat_value(const struct etm_heat_data *d, unsigned c, unsigned r)
{
	const struct etm_heat_cellv *x;

	if (c >= d->ncycles || r >= d->n[c] || !(x = cell(d, c, r))->pages)
		return 0;
	/* Clamped: a recorded series may claim more accesses or resident pages than pages. */
	if (!d->residency[c])
		return d->max_count[c] ? MIN(1.0, (double)x->accesses / ((double)x->pages * (double)d->max_count[c]))
				       : 0;
	/* Residency: what came back is hot (0.5..1); resident is a dim grey's worth (..0.3); swapped dark. */
	if (refaulted(d, c, r) > 0)
		return 0.5 + 0.5 * MIN(1.0, refaulted(d, c, r) / (double)x->pages);
	return 0.05 + 0.25 * MIN(1.0, (double)x->resident / (double)x->pages);
}

void etm_heat_geometry(const struct etm_heat_data *d, struct etm_heat_geom *g)
{
	/* A few cycles or regions fill the plot rather than a corner of it. */
	g->cell_w = MAX(CELL_W, PLOT_W / MAX(d->ncycles, 1u));
	g->cell_h = MAX(CELL_H, PLOT_H / MAX(d->nregions, 1u));
	g->x0 = MARGIN_LEFT;
	g->y0 = MARGIN_TOP;
	/* Room for the title and the legend however few cycles there are. */
	g->width = MARGIN_LEFT + MAX(d->ncycles * g->cell_w, (unsigned)PLOT_W) + MARGIN_RIGHT;
	g->height = MARGIN_TOP + MAX(d->nregions * g->cell_h, (unsigned)PLOT_H) + MARGIN_BOTTOM;
}

static void cell_colour(cairo_t *cr, const struct etm_heat_data *d, unsigned c, unsigned r)
{
	double v = etm_heat_value(d, c, r);

	if (d->residency[c] && v < 0.5) {
		/* Grey, not a colour of the scale: residency is no access count. */
		cairo_set_source_rgb(cr, v, v, v * 1.1);
	} else {
		struct rgb col = inferno(d->residency[c] ? (v - 0.5) * 2 : v);

		cairo_set_source_rgb(cr, col.r, col.g, col.b);
	}
}

static void draw_cells(cairo_t *cr, const struct etm_heat_data *d, const struct etm_heat_geom *g)
{
	for (unsigned c = 0; c < d->ncycles; c++)
		for (unsigned r = 0; r < d->n[c]; r++) {
			const struct etm_heat_cellv *x = cell(d, c, r);
			double sw = x->pages ? (double)x->swapped / (double)x->pages : 0;

			cell_colour(cr, d, c, r);
			cairo_rectangle(cr, g->x0 + c * g->cell_w, g->y0 + r * g->cell_h, g->cell_w, g->cell_h);
			cairo_fill(cr);
			/* Swapped out: a cyan dot, its area the region's swapped share. */
			if (sw >= 0.05) {
				cairo_set_source_rgb(cr, 0.10, 0.85, 0.95);
				cairo_arc(cr, g->x0 + (c + 0.5) * g->cell_w, g->y0 + (r + 0.5) * g->cell_h,
					  0.5 + 2.0 * sqrt(sw), 0, 2 * G_PI);
				cairo_fill(cr);
			}
		}
}

static void text_at(cairo_t *cr, double x, double y, const char *s, bool right)
{
	cairo_text_extents_t te;

	cairo_text_extents(cr, s, &te);
	cairo_move_to(cr, right ? x - te.x_advance : x, y);
	cairo_show_text(cr, s);
}

/* Addresses down the left: a label every 12 regions, with its process. */
static void draw_y_axis(cairo_t *cr, const struct etm_heat_data *d, const struct etm_heat_geom *g)
{
	unsigned last = d->ncycles - 1;

	unsigned step = MAX(1u, 72 / g->cell_h); /* a label every 72 pixels at most */

	for (unsigned r = 0; r < d->n[last]; r += step) {
		const struct etm_heat_cellv *x = cell(d, last, r);
		g_autofree char *s =
		    g_strdup_printf("pid %" G_GINT64_FORMAT " 0x%" G_GINT64_MODIFIER "x", x->pid, (guint64)x->start);

		text_at(cr, g->x0 - 6, g->y0 + r * g->cell_h + FONT - 2, s, true);
	}
	text_at(cr, g->x0 - 6, g->y0 - 6, "address (low to high)", true);
}

/* Cycles along the bottom: the first, one every 96 pixels at most, and the last. */
static void draw_x_axis(cairo_t *cr, const struct etm_heat_data *d, const struct etm_heat_geom *g)
{
	double y = g->y0 + MAX(d->nregions * g->cell_h, (unsigned)PLOT_H) + FONT + 4;
	unsigned step = MAX(1u, 96 / g->cell_w), last = d->ncycles - 1;

	for (unsigned c = 0; c < d->ncycles; c++) {
		g_autofree char *s = NULL;

		/* Not too close to the last one, which is always labelled. */
		if (c != last && (c % step || last - c < (step + 1) / 2))
			continue;
		s = g_strdup_printf("%" G_GUINT64_FORMAT, (guint64)d->cycle[c]);
		text_at(cr, g->x0 + c * g->cell_w, y, s, false);
	}
	text_at(cr, g->x0, y + FONT + 6, "cycle (oldest left, newest right)", false);
}

static void stamp(char *buf, size_t len, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!localtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, len, "?");
}

static void draw_title(cairo_t *cr, const struct etm_heat_data *d)
{
	unsigned last = d->ncycles - 1;
	char from[32], to[32];
	g_autofree char *t1 = NULL, *t2 = NULL;

	stamp(from, sizeof(from), d->when[0]);
	stamp(to, sizeof(to), d->when[last]);
	t1 = g_strdup_printf("etmem heatmap: task %s (project %s, engine %s), backend %s", d->task, d->project,
			     d->engine, d->backend[0] ? d->backend : "?");
	t2 = g_strdup_printf("%u cycles, %s to %s; %u regions of equal size over the task's memory", d->ncycles, from,
			     to, d->nregions);
	cairo_set_font_size(cr, FONT + 2);
	text_at(cr, 10, 20, t1, false);
	cairo_set_font_size(cr, FONT);
	text_at(cr, 10, 38, t2, false);
	text_at(cr, 10, 54,
		d->residency[last] ? "residency (this backend counts no accesses per page): grey = resident, dark = "
				     "swapped out, bright = back from swap since the cycle before (refaults)"
				   : "colour: mean access count per page in the cycle, 0 (dark) to the most a page can "
				     "reach (bright); cyan dots: swapped out",
		false);
}

/* The colour bar on the right, and the swapped marker's key. */
static void draw_legend(cairo_t *cr, const struct etm_heat_data *d, const struct etm_heat_geom *g)
{
	unsigned last = d->ncycles - 1, h = MAX(d->nregions * g->cell_h, (unsigned)PLOT_H);
	double x = g->x0 + MAX(d->ncycles * g->cell_w, (unsigned)PLOT_W) + 24;
	g_autofree char *top = NULL;

	for (unsigned i = 0; i < h; i++) {
		struct rgb col = inferno(1.0 - (double)i / (h - 1));

		cairo_set_source_rgb(cr, col.r, col.g, col.b);
		cairo_rectangle(cr, x, g->y0 + i, 14, 1);
		cairo_fill(cr);
	}
	cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
	top = d->residency[last] ? g_strdup("all back")
				 : g_strdup_printf("%" G_GUINT64_FORMAT " / page", (guint64)d->max_count[last]);
	text_at(cr, x + 20, g->y0 + FONT, top, false);
	text_at(cr, x + 20, g->y0 + h, d->residency[last] ? "none back" : "0", false);
	cairo_set_source_rgb(cr, 0.10, 0.85, 0.95);
	cairo_arc(cr, x + 7, g->y0 - 22, 2.5, 0, 2 * G_PI);
	cairo_fill(cr);
	cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
	text_at(cr, x + 16, g->y0 - 18, "swapped out", false);
}

static void draw(cairo_t *cr, const struct etm_heat_data *d, const struct etm_heat_geom *g)
{
	cairo_set_source_rgb(cr, 0.12, 0.12, 0.14);
	cairo_paint(cr);
	draw_cells(cr, d, g);
	cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
	draw_title(cr, d);
	cairo_set_font_size(cr, FONT);
	draw_y_axis(cr, d, g);
	draw_x_axis(cr, d, g);
	draw_legend(cr, d, g);
}

/* Draw to @tmp; the status of the write. */
static cairo_status_t render_to(const struct etm_heat_data *d, const char *tmp, bool svg, const struct etm_heat_geom *g)
{
	cairo_surface_t *s = svg ? cairo_svg_surface_create(tmp, g->width, g->height)
				 : cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)g->width, (int)g->height);
	cairo_status_t st;
	cairo_t *cr = cairo_create(s);

	draw(cr, d, g);
	cairo_destroy(cr);
	st = svg ? CAIRO_STATUS_SUCCESS : cairo_surface_write_to_png(s, tmp);
	cairo_surface_finish(s); /* the SVG is written out here */
	if (st == CAIRO_STATUS_SUCCESS)
		st = cairo_surface_status(s);
	cairo_surface_destroy(s);
	return st;
}

int etm_heat_render(const struct etm_heat_data *d, const char *path, struct etm_heat_geom *g, char *err, size_t errlen)
{
	bool svg = g_str_has_suffix(path, ".svg"), png = g_str_has_suffix(path, ".png");
	/* Beside @path, then renamed over it: a failed write leaves no half picture. */
	g_autofree char *tmp = g_strdup_printf("%s.tmp-%d", path, (int)getpid());
	cairo_status_t st;

	if (!svg && !png) {
		snprintf(err, errlen, "%s: the picture's name must end in .png or .svg", path);
		return -EINVAL;
	}
	etm_heat_geometry(d, g);
	st = render_to(d, tmp, svg, g);
	if (st != CAIRO_STATUS_SUCCESS) {
		unlink(tmp);
		snprintf(err, errlen, "cannot write %s: %s", path, cairo_status_to_string(st));
		return -EIO;
	}
	if (rename(tmp, path)) {
		int e = errno;

		unlink(tmp);
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
		return -e;
	}
	return 0;
}

int etm_heat_render_json(const char *json, size_t len, const char *path, struct etm_heat_geom *g, char *err,
			 size_t errlen)
{
	struct etm_heat_data *d = NULL;
	int ret = etm_heat_data_parse(json, len, &d, err, errlen);

	if (!ret)
		ret = etm_heat_render(d, path, g, err, errlen);
	etm_heat_data_free(d);
	return ret;
}

void etm_heat_teardown(void)
{
	cairo_debug_reset_static_data();
	FcFini();
}
