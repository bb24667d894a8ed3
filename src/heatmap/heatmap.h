/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Drawing a task's heatmap (docs/heatmap.md): the JSON document of
 * `etmem engine heatmap --json` (tables heatmap_cycles and heatmap, from
 * the daemon's ring, daemon/heatmap.h) read with json-glib, and drawn with
 * cairo as PNG or SVG: address ranges top to bottom (the task's memory cut
 * into regions, low addresses first), cycles left to right (oldest first),
 * colour by access count (inferno: dark is cold, bright yellow is hot),
 * swapped-out pages marked with cyan dots (their size by the region's
 * swapped share). A backend without per-page counts (memcg_lru) is drawn
 * as residency: grey resident, dark swapped, bright what came back from
 * swap since the cycle before (refaults); the picture says which.
 */
#ifndef ETM_HEATMAP_DRAW_H
#define ETM_HEATMAP_DRAW_H

#include <stddef.h>
#include <stdint.h>

struct etm_heat_cellv {
	uint64_t start;
	int64_t pid;
	uint64_t pages, resident, swapped, accesses;
};

struct etm_heat_data {
	char *project, *engine, *task, *backend;
	unsigned ncycles, nregions;  /* nregions: the most any cycle has */
	uint64_t *cycle;	     /* [ncycles] */
	int64_t *when;		     /* [ncycles] seconds since the epoch */
	int *residency;		     /* [ncycles] 1: residency mode */
	uint64_t *max_count;	     /* [ncycles] */
	unsigned *n;		     /* [ncycles] regions of that cycle */
	struct etm_heat_cellv *cell; /* [ncycles * nregions], cycle-major */
};

/* Parse the document: 0, or -EINVAL with @err (a line) saying what is wrong with it. */
int etm_heat_data_parse(const char *json, size_t len, struct etm_heat_data **out, char *err, size_t errlen);
void etm_heat_data_free(struct etm_heat_data *d);

/* Where the cells are in the picture. */
struct etm_heat_geom {
	unsigned width, height;	 /* the picture, pixels (SVG: points) */
	unsigned x0, y0;	 /* the top left cell's corner */
	unsigned cell_w, cell_h; /* one cycle wide, one region high */
};
void etm_heat_geometry(const struct etm_heat_data *d, struct etm_heat_geom *g);

/* 0..1: how bright region @r of cycle @c is drawn (what the colour stands for). */
double etm_heat_value(const struct etm_heat_data *d, unsigned c, unsigned r);

/*
 * Draw @d to @path, PNG or SVG by its extension (.png, .svg); *@g says the
 * picture's size. 0, or -errno / -EINVAL with @err set.
 */
int etm_heat_render(const struct etm_heat_data *d, const char *path, struct etm_heat_geom *g, char *err, size_t errlen);

/* Parse and draw in one step (etmem engine heatmap -o, etmem-heatmap). */
int etm_heat_render_json(const char *json, size_t len, const char *path, struct etm_heat_geom *g, char *err,
			 size_t errlen);

/*
 * Before a program that drew exits: cairo's and fontconfig's process-wide
 * caches freed, so that a leak checker sees only real leaks. Nothing may be
 * drawn after it.
 */
void etm_heat_teardown(void);

#endif
