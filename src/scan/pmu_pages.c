/* SPDX-License-Identifier: MulanPSL-2.0 */
/* Per-page sample counts behind a VMA index (see pmu_pages.h). */
#include "scan/pmu_pages.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_MASK (ETM_PAGE_SIZE - 1)

/* Index of the range holding @addr, or p->nv. */
static size_t find(const struct etm_pmu_pages *p, uint64_t addr, size_t hint)
{
	size_t lo = 0, hi = p->nv;

	if (hint < p->nv && p->v[hint].start <= addr && addr < p->v[hint].end)
		return hint;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->v[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < p->nv && p->v[lo].start <= addr ? lo : p->nv;
}

void etm_pmu_pages_carry(struct etm_pmu_pages *p, const struct etm_pmu_pages *old)
{
	size_t i = 0, j = 0;

	while (i < p->nv && j < old->nv) {
		const struct etm_pmu_vma *a = &p->v[i], *b = &old->v[j];
		uint64_t s = a->start > b->start ? a->start : b->start;
		uint64_t e = a->end < b->end ? a->end : b->end;

		if (s < e)
			memcpy(p->cnt + a->base + ((s - a->start) >> ETM_PAGE_SHIFT),
			       old->cnt + b->base + ((s - b->start) >> ETM_PAGE_SHIFT), (e - s) >> ETM_PAGE_SHIFT);
		if (a->end <= b->end)
			i++;
		else
			j++;
	}
}

int etm_pmu_pages_new(const struct etm_addr_range *r, size_t n, const struct etm_pmu_pages *old,
		      struct etm_pmu_pages **out)
{
	struct etm_pmu_pages *p;
	uint64_t npages = 0, prev_end = 0;

	*out = NULL;
	for (size_t i = 0; i < n; i++) {
		uint64_t s = r[i].start & ~PAGE_MASK;

		if (r[i].end > UINT64_MAX - PAGE_MASK || r[i].end <= r[i].start || (i && s < prev_end))
			return -EINVAL;
		prev_end = (r[i].end + PAGE_MASK) & ~PAGE_MASK;
		npages += (prev_end - s) >> ETM_PAGE_SHIFT;
	}
	if (npages > SIZE_MAX / 2)
		return -ENOMEM;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->v = calloc(n ? n : 1, sizeof(*p->v));
	p->cnt = calloc(npages ? npages : 1, 1);
	if (!p->v || !p->cnt) {
		etm_pmu_pages_free(p);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct etm_pmu_vma *v = &p->v[i];

		v->start = r[i].start & ~PAGE_MASK;
		v->end = (r[i].end + PAGE_MASK) & ~PAGE_MASK;
		v->base = p->npages;
		p->npages += (v->end - v->start) >> ETM_PAGE_SHIFT;
	}
	p->nv = n;
	if (old)
		etm_pmu_pages_carry(p, old);
	*out = p;
	return 0;
}

void etm_pmu_pages_free(struct etm_pmu_pages *p)
{
	if (!p)
		return;
	free(p->v);
	free(p->cnt);
	free(p);
}

bool etm_pmu_pages_hit(struct etm_pmu_pages *p, uint64_t addr, unsigned inc, size_t *hint)
{
	size_t i = find(p, addr, hint ? *hint : 0);
	uint8_t *c, v;

	if (i == p->nv)
		return false;
	if (hint)
		*hint = i;
	c = &p->cnt[p->v[i].base + ((addr - p->v[i].start) >> ETM_PAGE_SHIFT)];
	v = __atomic_load_n(c, __ATOMIC_RELAXED);
	while (v < ETM_PMU_COUNT_MAX) {
		unsigned nv = v + inc > ETM_PMU_COUNT_MAX ? ETM_PMU_COUNT_MAX : v + inc;

		/* On failure v is reloaded: another reader counted the same page meanwhile. */
		if (__atomic_compare_exchange_n(c, &v, (uint8_t)nv, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			break;
	}
	return true;
}

int etm_pmu_pages_count(const struct etm_pmu_pages *p, uint64_t addr)
{
	size_t i = find(p, addr, 0);

	if (i == p->nv)
		return -1;
	return __atomic_load_n(&p->cnt[p->v[i].base + ((addr - p->v[i].start) >> ETM_PAGE_SHIFT)], __ATOMIC_RELAXED);
}

uint64_t etm_pmu_pages_sampled(const struct etm_pmu_pages *p)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i < p->npages; i++)
		n += __atomic_load_n(&p->cnt[i], __ATOMIC_RELAXED) != 0;
	return n;
}

void etm_pmu_pages_cool(struct etm_pmu_pages *p)
{
	for (uint64_t i = 0; i < p->npages; i++)
		p->cnt[i] >>= 1;
}

void etm_pmu_pages_fold(const struct etm_pmu_pages *p, struct etm_pagestate *ps)
{
	for (size_t i = 0; i < p->nv; i++) {
		const struct etm_pmu_vma *v = &p->v[i];
		uint64_t n = (v->end - v->start) >> ETM_PAGE_SHIFT, run = 0;
		unsigned w = 0;

		for (uint64_t k = 0; k < n; k++) {
			unsigned wk = etm_pmu_weight(__atomic_load_n(&p->cnt[v->base + k], __ATOMIC_RELAXED));

			if (run && wk != w) {
				etm_pagestate_mark(ps, v->start + ((k - run) << ETM_PAGE_SHIFT), run, w);
				run = 0;
			}
			w = wk;
			run++;
		}
		if (run)
			etm_pagestate_mark(ps, v->start + ((n - run) << ETM_PAGE_SHIFT), run, w);
	}
}
