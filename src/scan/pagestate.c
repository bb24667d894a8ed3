/* SPDX-License-Identifier: MulanPSL-2.0 */
#include "scan/pagestate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct etm_pagestate *etm_pagestate_new(void)
{
	return calloc(1, sizeof(struct etm_pagestate));
}

void etm_pagestate_free(struct etm_pagestate *ps)
{
	if (!ps)
		return;
	for (size_t i = 0; i < ps->n; i++)
		free(ps->r[i].st);
	free(ps->r);
	free(ps);
}

int etm_pagestate_add_range(struct etm_pagestate *ps, uint64_t start, uint64_t end)
{
	struct etm_ps_range *r;
	uint64_t npages;

	start &= ~(ETM_PAGE_SIZE - 1);
	if (end > UINT64_MAX - (ETM_PAGE_SIZE - 1))
		return -EINVAL;
	end = (end + ETM_PAGE_SIZE - 1) & ~(ETM_PAGE_SIZE - 1);
	if (end <= start)
		return -EINVAL;
	if (ps->n && start < ps->r[ps->n - 1].end)
		return -EINVAL;
	npages = (end - start) >> ETM_PAGE_SHIFT;
	if (npages > SIZE_MAX / 2)
		return -ENOMEM;
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 16;

		r = realloc(ps->r, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		ps->r = r;
		ps->cap = cap;
	}
	r = &ps->r[ps->n];
	r->st = calloc(npages, 1);
	if (!r->st)
		return -ENOMEM;
	r->start = start;
	r->end = end;
	ps->n++;
	return 0;
}

void etm_pagestate_reset(struct etm_pagestate *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		memset(ps->r[i].st, 0, (ps->r[i].end - ps->r[i].start) >> ETM_PAGE_SHIFT);
}

uint64_t etm_pagestate_pages(const struct etm_pagestate *ps)
{
	uint64_t n = 0;

	for (size_t i = 0; i < ps->n; i++)
		n += (ps->r[i].end - ps->r[i].start) >> ETM_PAGE_SHIFT;
	return n;
}

size_t etm_pagestate_bytes(const struct etm_pagestate *ps)
{
	return sizeof(*ps) + ps->cap * sizeof(*ps->r) + (size_t)etm_pagestate_pages(ps);
}

/* First range whose end is above @addr, or ps->n. */
static size_t find_range(struct etm_pagestate *ps, uint64_t addr)
{
	size_t lo = 0, hi = ps->n;

	if (ps->hint < ps->n && ps->r[ps->hint].start <= addr && addr < ps->r[ps->hint].end)
		return ps->hint;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ps->r[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void etm_pagestate_mark(struct etm_pagestate *ps, uint64_t addr, uint64_t npages, unsigned weight)
{
	uint64_t end;

	if (!npages || !ps->n)
		return;
	addr &= ~(ETM_PAGE_SIZE - 1);
	/* Clip a span that would wrap: streams are untrusted. */
	if (npages > (UINT64_MAX - addr) >> ETM_PAGE_SHIFT)
		end = UINT64_MAX & ~(ETM_PAGE_SIZE - 1);
	else
		end = addr + (npages << ETM_PAGE_SHIFT);
	if (weight > ETM_PS_COUNT_MAX)
		weight = ETM_PS_COUNT_MAX;
	for (size_t i = find_range(ps, addr); i < ps->n && ps->r[i].start < end; i++) {
		struct etm_ps_range *r = &ps->r[i];
		uint64_t a = addr > r->start ? addr : r->start;
		uint64_t b = end < r->end ? end : r->end;
		uint8_t *p = r->st + ((a - r->start) >> ETM_PAGE_SHIFT);
		uint8_t *q = r->st + ((b - r->start) >> ETM_PAGE_SHIFT);

		ps->hint = i;
		for (; p < q; p++) {
			unsigned v = *p ? *p : 1; /* first sighting: count 0 */

			v += weight;
			*p = (uint8_t)(v > ETM_PS_COUNT_MAX + 1 ? ETM_PS_COUNT_MAX + 1 : v);
		}
	}
}

void etm_pagestate_grade(const struct etm_pagestate *ps, int T, struct etm_grade *g)
{
	memset(g, 0, sizeof(*g));
	for (size_t i = 0; i < ps->n; i++) {
		const struct etm_ps_range *r = &ps->r[i];
		uint64_t np = (r->end - r->start) >> ETM_PAGE_SHIFT;

		for (uint64_t k = 0; k < np; k++) {
			uint8_t v = r->st[k];

			if (!v)
				continue;
			g->scanned++;
			if (etm_ps_is_cold(v, T))
				g->cold++;
			else
				g->hot++;
		}
	}
}

int etm_pagestate_for_each_run(const struct etm_pagestate *ps, bool (*take)(uint8_t v, void *arg),
			       int (*fn)(uint64_t start, uint64_t len, void *arg), void *arg)
{
	uint64_t run_start = 0, run_len = 0;
	int ret;

	for (size_t i = 0; i < ps->n; i++) {
		const struct etm_ps_range *r = &ps->r[i];
		uint64_t np = (r->end - r->start) >> ETM_PAGE_SHIFT;

		for (uint64_t k = 0; k < np; k++) {
			uint64_t a = r->start + (k << ETM_PAGE_SHIFT);

			if (!take(r->st[k], arg))
				continue;
			if (run_len && run_start + run_len == a) {
				run_len += ETM_PAGE_SIZE;
				continue;
			}
			if (run_len && (ret = fn(run_start, run_len, arg)))
				return ret;
			run_start = a;
			run_len = ETM_PAGE_SIZE;
		}
	}
	return run_len ? fn(run_start, run_len, arg) : 0;
}

struct cold_arg {
	int T;
	int (*fn)(uint64_t start, uint64_t len, void *arg);
	void *arg;
};

static bool take_cold(uint8_t v, void *arg)
{
	return etm_ps_is_cold(v, ((struct cold_arg *)arg)->T);
}

static int cold_run(uint64_t start, uint64_t len, void *arg)
{
	struct cold_arg *c = arg;

	return c->fn(start, len, c->arg);
}

int etm_pagestate_for_each_cold(const struct etm_pagestate *ps, int T,
				int (*fn)(uint64_t start, uint64_t len, void *arg), void *arg)
{
	struct cold_arg c = { .T = T, .fn = fn, .arg = arg };

	return etm_pagestate_for_each_run(ps, take_cold, cold_run, &c);
}
