/* SPDX-License-Identifier: MulanPSL-2.0 */
/* The heatmap ring of one task (see heatmap.h). */
#include "heatmap.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "report.h"
#include "scan/pagemap.h"
#include "scan/pagestate.h"
#include "scan/procfs.h"

struct heat_row {
	uint64_t cycle;
	int64_t when; /* seconds since the epoch */
	enum etm_heat_mode mode;
	unsigned max_count;
	unsigned n; /* cells used */
	struct etm_heat_cell cell[ETM_HEAT_REGIONS];
};

/* The bound heatmap.h, docs/heatmap.md and etmemd(8) state: 194 KiB per task. */
_Static_assert(sizeof(struct etm_heat_cell) == 32, "a heatmap cell is 32 bytes");
_Static_assert(sizeof(struct heat_row) * ETM_HEAT_CYCLES <= 194 * 1024, "the heatmap ring is at most 194 KiB");

struct etm_heat_ring {
	pthread_mutex_t lock;
	struct heat_row *rows; /* ETM_HEAT_CYCLES, allocated at the first commit */
	unsigned head, count;  /* the newest row is rows[(head + count - 1) % ETM_HEAT_CYCLES] */
	char backend[64];
};

struct etm_heat_cycle {
	pthread_mutex_t lock;
	GArray *cells; /* of struct etm_heat_cell: each process's slices */
	unsigned nprocs;
};

/* One process's memory as the cycle saw it: ranges of pages, with their counts or not. */
struct span {
	uint64_t start, npages;
	const uint8_t *st; /* pagestate bytes, or NULL: residency only */
};

struct etm_heat_ring *etm_heat_ring_new(void)
{
	struct etm_heat_ring *r = g_new0(struct etm_heat_ring, 1);

	pthread_mutex_init(&r->lock, NULL);
	return r;
}

void etm_heat_ring_free(struct etm_heat_ring *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	g_free(r->rows);
	g_free(r);
}

struct etm_heat_cycle *etm_heat_cycle_new(void)
{
	struct etm_heat_cycle *c = g_new0(struct etm_heat_cycle, 1);

	pthread_mutex_init(&c->lock, NULL);
	c->cells = g_array_new(FALSE, TRUE, sizeof(struct etm_heat_cell));
	return c;
}

void etm_heat_cycle_free(struct etm_heat_cycle *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	g_array_free(c->cells, TRUE);
	g_free(c);
}

/* The address of tracked page @idx of @s (@cum: pages before each span). */
static uint64_t page_addr(const struct span *s, const uint64_t *cum, size_t n, uint64_t idx)
{
	size_t lo = 0, hi = n;

	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (cum[mid] <= idx)
			lo = mid;
		else
			hi = mid;
	}
	return s[lo].start + ((idx - cum[lo]) << ETM_PAGE_SHIFT);
}

/* Residency of slice [@lo, @hi) of the tracked pages: ETM_HEAT_SAMPLES pagemap entries, scaled. */
static void sample_slice(int fd, const struct span *s, const uint64_t *cum, size_t n, uint64_t lo, uint64_t hi,
			 struct etm_heat_cell *cell)
{
	struct etm_pagemap_counts pc = { 0 };
	uint64_t len = hi - lo, k = len < ETM_HEAT_SAMPLES ? len : ETM_HEAT_SAMPLES;

	for (uint64_t i = 0; i < k && fd >= 0; i++)
		if (etm_pagemap_sample(fd, page_addr(s, cum, n, lo + (2 * i + 1) * len / (2 * k)), 1, 1, &pc))
			break;
	if (!pc.sampled)
		return;
	cell->resident = (uint32_t)(pc.present * cell->pages / pc.sampled);
	cell->swapped = (uint32_t)(pc.swapped * cell->pages / pc.sampled);
}

/* Sum of the access counts of pages [@lo, @hi) (seen pages only). */
static uint64_t slice_accesses(const struct span *s, const uint64_t *cum, size_t n, uint64_t lo, uint64_t hi)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t a = MAX(lo, cum[i]), b = MIN(hi, cum[i] + s[i].npages);

		for (uint64_t p = a; s[i].st && p < b; p++)
			if (etm_ps_count(s[i].st[p - cum[i]]) > 0)
				sum += (uint64_t)etm_ps_count(s[i].st[p - cum[i]]);
	}
	return sum;
}

/* @pid's spans cut into at most ETM_HEAT_REGIONS slices of equal page counts, added to @c. */
static void add_spans(struct etm_heat_cycle *c, pid_t pid, const struct span *s, size_t n)
{
	g_autofree uint64_t *cum = g_new0(uint64_t, n + 1);
	struct etm_heat_cell cells[ETM_HEAT_REGIONS];
	uint64_t total;
	unsigned k;
	int fd;

	for (size_t i = 0; i < n; i++)
		cum[i + 1] = cum[i] + s[i].npages;
	total = cum[n];
	if (!total)
		return;
	k = total < ETM_HEAT_REGIONS ? (unsigned)total : ETM_HEAT_REGIONS;
	fd = etm_pagemap_open(pid);
	for (unsigned b = 0; b < k; b++) {
		uint64_t lo = b * total / k, hi = (b + 1) * total / k;

		cells[b] = (struct etm_heat_cell){ .start = page_addr(s, cum, n, lo),
						   .pages = (uint32_t)(hi - lo),
						   .pid = (int32_t)pid };
		cells[b].accesses = (uint32_t)MIN(slice_accesses(s, cum, n, lo, hi), (uint64_t)UINT32_MAX);
		sample_slice(fd, s, cum, n, lo, hi, &cells[b]);
	}
	if (fd >= 0)
		close(fd);
	pthread_mutex_lock(&c->lock);
	if (c->nprocs < ETM_HEAT_MAX_PROCS) {
		c->nprocs++;
		g_array_append_vals(c->cells, cells, k);
	}
	pthread_mutex_unlock(&c->lock);
}

void etm_heat_cycle_add_pagestate(struct etm_heat_cycle *c, pid_t pid, const struct etm_pagestate *ps)
{
	g_autofree struct span *s = g_new(struct span, ps->n ? ps->n : 1);

	for (size_t i = 0; i < ps->n; i++)
		s[i] = (struct span){ ps->r[i].start, (ps->r[i].end - ps->r[i].start) >> ETM_PAGE_SHIFT, ps->r[i].st };
	add_spans(c, pid, s, ps->n);
}

void etm_heat_cycle_add_process(struct etm_heat_cycle *c, pid_t pid)
{
	const struct etm_vma_filter f = { .anon_only = true };
	struct vmas *v = NULL;
	g_autoptr(GArray) s = g_array_new(FALSE, FALSE, sizeof(struct span));

	if (etm_proc_vmas(pid, &f, &v))
		return;
	for (struct vma *m = v->vma_list; m; m = m->next) {
		struct span sp = { m->start, (m->end - m->start) >> ETM_PAGE_SHIFT, NULL };

		g_array_append_val(s, sp);
	}
	etm_vmas_free(v);
	add_spans(c, pid, (struct span *)s->data, s->len);
}

static gint by_pid(gconstpointer a, gconstpointer b)
{
	const struct etm_heat_cell *x = a, *y = b;

	return x->pid != y->pid ? (x->pid < y->pid ? -1 : 1) : (x->start < y->start ? -1 : x->start > y->start);
}

/* The slices of every process, in pid order, into ETM_HEAT_REGIONS regions of equal page counts. */
static void merge(GArray *cells, struct heat_row *row)
{
	uint64_t total = 0, off = 0;
	double acc[ETM_HEAT_REGIONS][4] = { { 0 } };

	g_array_sort(cells, by_pid);
	for (size_t i = 0; i < cells->len; i++)
		total += g_array_index(cells, struct etm_heat_cell, i).pages;
	row->n = total < ETM_HEAT_REGIONS ? (unsigned)total : ETM_HEAT_REGIONS;
	for (size_t i = 0; i < cells->len && row->n; i++) {
		const struct etm_heat_cell *f = &g_array_index(cells, struct etm_heat_cell, i);

		/* Each slice goes to the regions it overlaps, in proportion. */
		for (unsigned r = (unsigned)(off * row->n / total); r < row->n && f->pages; r++) {
			uint64_t lo = r * total / row->n, hi = (r + 1) * total / row->n;
			uint64_t a = MAX(lo, off), b = MIN(hi, off + f->pages);
			double part;

			if (a >= b) {
				if (lo >= off + f->pages)
					break;
				continue; /* rounding put the first region just before the slice */
			}
			part = (double)(b - a) / f->pages;
			if (acc[r][0] == 0) {
				row->cell[r].start = f->start + ((a - off) << ETM_PAGE_SHIFT);
				row->cell[r].pid = f->pid;
			}
			acc[r][0] += (double)(b - a);
			acc[r][1] += part * f->resident;
			acc[r][2] += part * f->swapped;
			acc[r][3] += part * f->accesses;
		}
		off += f->pages;
	}
	for (unsigned r = 0; r < row->n; r++) {
		row->cell[r].pages = (uint32_t)(acc[r][0] + 0.5);
		row->cell[r].resident = (uint32_t)(acc[r][1] + 0.5);
		row->cell[r].swapped = (uint32_t)(acc[r][2] + 0.5);
		row->cell[r].accesses = (uint32_t)MIN(acc[r][3] + 0.5, (double)UINT32_MAX);
	}
}

void etm_heat_ring_commit(struct etm_heat_ring *r, struct etm_heat_cycle *c, uint64_t cycle, enum etm_heat_mode mode,
			  unsigned max_count, const char *backend)
{
	struct heat_row *row;

	pthread_mutex_lock(&r->lock);
	if (!r->rows)
		r->rows = g_new0(struct heat_row, ETM_HEAT_CYCLES);
	if (r->count == ETM_HEAT_CYCLES) {
		r->head = (r->head + 1) % ETM_HEAT_CYCLES;
		r->count--;
	}
	row = &r->rows[(r->head + r->count) % ETM_HEAT_CYCLES];
	memset(row, 0, sizeof(*row));
	row->cycle = cycle;
	row->when = g_get_real_time() / G_USEC_PER_SEC;
	row->mode = mode;
	row->max_count = max_count;
	merge(c->cells, row);
	r->count++;
	g_strlcpy(r->backend, backend ? backend : "", sizeof(r->backend));
	pthread_mutex_unlock(&r->lock);
	etm_heat_cycle_free(c);
}

static const struct etm_col cycle_cols[] = {
	{ "cycle", "cycle", ETM_COL_U64, 6, 0, 0 },	{ "time_unix_seconds", "time", ETM_COL_INT, 11, 0, 0 },
	{ "mode", "mode", ETM_COL_TEXT, 10, 0, 0 },	{ "max_count", "max_count", ETM_COL_U64, 9, 0, 0 },
	{ "regions", "regions", ETM_COL_U64, 7, 0, 0 },
};

static const struct etm_col region_cols[] = {
	{ "cycle", "cycle", ETM_COL_U64, 6, 0, 0 },
	{ "region", "region", ETM_COL_U64, 6, 0, 0 },
	{ "pid", "pid", ETM_COL_INT, 7, 0, 0 },
	{ "start_address", "start", ETM_COL_U64, 15, 0, 0 },
	{ "pages", "pages", ETM_COL_U64, 8, 0, 0 },
	{ "resident_pages", "resident", ETM_COL_U64, 8, 0, 0 },
	{ "swapped_pages", "swapped", ETM_COL_U64, 8, 0, 0 },
	{ "accesses", "accesses", ETM_COL_U64, 9, 0, 0 },
};

static void report_row(const struct heat_row *row, struct etm_table *cycles, struct etm_table *regions)
{
	etm_table_row(cycles);
	etm_table_u64(cycles, 0, row->cycle);
	etm_table_int(cycles, 1, row->when);
	etm_table_text(cycles, 2, row->mode == ETM_HEAT_ACCESSES ? "accesses" : "residency");
	etm_table_u64(cycles, 3, row->max_count);
	etm_table_u64(cycles, 4, row->n);
	for (unsigned i = 0; i < row->n; i++) {
		const struct etm_heat_cell *c = &row->cell[i];

		etm_table_row(regions);
		etm_table_u64(regions, 0, row->cycle);
		etm_table_u64(regions, 1, i);
		etm_table_int(regions, 2, c->pid);
		etm_table_u64(regions, 3, c->start);
		etm_table_u64(regions, 4, c->pages);
		etm_table_u64(regions, 5, c->resident);
		etm_table_u64(regions, 6, c->swapped);
		etm_table_u64(regions, 7, c->accesses);
	}
}

int etm_heat_ring_report(struct etm_heat_ring *r, struct etm_report *out, GString *err)
{
	struct etm_table *cycles, *regions;

	pthread_mutex_lock(&r->lock);
	if (!r->count) {
		pthread_mutex_unlock(&r->lock);
		g_string_assign(err, "no heatmap yet: the task has not finished a cycle");
		return -EAGAIN;
	}
	etm_report_note(out, "backend: %s", r->backend);
	etm_report_note(out, "%s",
			r->rows[r->head].mode == ETM_HEAT_ACCESSES
			    ? "accesses: the sum of the region's per-page access counts in the cycle"
			    : "residency: this backend counts no accesses per page; resident and swapped pages "
			      "only (sampled from pagemap)");
	cycles = etm_report_table(out, "heatmap_cycles", "cycles kept:", cycle_cols, G_N_ELEMENTS(cycle_cols));
	regions = etm_report_table(out, "heatmap", "regions by cycle:", region_cols, G_N_ELEMENTS(region_cols));
	for (unsigned i = 0; i < r->count; i++)
		report_row(&r->rows[(r->head + i) % ETM_HEAT_CYCLES], cycles, regions);
	pthread_mutex_unlock(&r->lock);
	return 0;
}
