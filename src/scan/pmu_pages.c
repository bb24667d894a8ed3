/* SPDX-License-Identifier: MulanPSL-2.0 */
/* Per-page sample counts behind a VMA index, in a sparse radix tree (see pmu_pages.h). */
#include "scan/pmu_pages.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define PAGE_MASK (ETM_PAGE_SIZE - 1)
#define FAN 512
#define FAN_BITS 9
/* Four levels of nodes over 512-count leaves: 45 bits of page number, addresses below 2^57. */
#define INNER 4

struct node {
	void *slot[FAN];
};

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

static unsigned slot_of(uint64_t pn, int lvl)
{
	return (unsigned)(pn >> (FAN_BITS * (INNER - lvl))) & (FAN - 1);
}

/*
 * The leaf holding page number @pn; with @alloc the missing nodes are
 * created (readers race here under the shared lock: one CAS wins, the
 * loser frees its copy). NULL if absent (or out of memory).
 */
static uint8_t *leaf_of(struct etm_pmu_pages *p, uint64_t pn, bool alloc)
{
	void **slot = &p->root;

	for (int lvl = 0;; lvl++) {
		void *n = __atomic_load_n(slot, __ATOMIC_ACQUIRE), *exp = NULL;

		if (!n) {
			if (!alloc)
				return NULL;
			n = calloc(1, lvl == INNER ? FAN : sizeof(struct node));
			if (!n)
				return NULL;
			if (!__atomic_compare_exchange_n(slot, &exp, n, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
				free(n);
				n = exp;
			} else {
				__atomic_add_fetch(lvl == INNER ? &p->leaves : &p->nodes, 1, __ATOMIC_RELAXED);
			}
		}
		if (lvl == INNER)
			return n;
		slot = &((struct node *)n)->slot[slot_of(pn, lvl)];
	}
}

/* Call @fn on every leaf (exclusive access), with the page number of its first count. */
static void walk(void *n, int lvl, uint64_t pn, void (*fn)(uint8_t *leaf, uint64_t pn, void *arg), void *arg)
{
	if (!n)
		return;
	if (lvl == INNER) {
		fn(n, pn, arg);
		return;
	}
	for (unsigned i = 0; i < FAN; i++)
		walk(((struct node *)n)->slot[i], lvl + 1, pn | ((uint64_t)i << (FAN_BITS * (INNER - lvl))), fn, arg);
}

static void tree_free(void *n, int lvl)
{
	if (!n)
		return;
	if (lvl < INNER)
		for (unsigned i = 0; i < FAN; i++)
			tree_free(((struct node *)n)->slot[i], lvl + 1);
	free(n);
}

/* Drop the counts of pages no longer in the index. */
static void keep_indexed(uint8_t *leaf, uint64_t pn, void *arg)
{
	const struct etm_pmu_pages *p = arg;
	size_t hint = 0;

	for (unsigned i = 0; i < FAN; i++) {
		if (leaf[i] && (hint = find(p, (pn + i) << ETM_PAGE_SHIFT, hint)) == p->nv) {
			leaf[i] = 0;
			hint = 0;
		}
	}
}

void etm_pmu_pages_carry(struct etm_pmu_pages *p, struct etm_pmu_pages *old)
{
	p->root = old->root;
	p->leaves = old->leaves;
	p->nodes = old->nodes;
	old->root = NULL;
	old->leaves = old->nodes = 0;
	walk(p->root, 0, 0, keep_indexed, p);
}

int etm_pmu_pages_new(const struct etm_addr_range *r, size_t n, struct etm_pmu_pages *old, struct etm_pmu_pages **out)
{
	struct etm_pmu_pages *p;
	uint64_t prev_end = 0;

	*out = NULL;
	for (size_t i = 0; i < n; i++) {
		uint64_t s = r[i].start & ~PAGE_MASK;

		if (r[i].end > ETM_PMU_ADDR_LIMIT || r[i].end <= r[i].start || (i && s < prev_end))
			return -EINVAL;
		prev_end = (r[i].end + PAGE_MASK) & ~PAGE_MASK;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->v = calloc(n ? n : 1, sizeof(*p->v));
	if (!p->v) {
		free(p);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		p->v[i].start = r[i].start & ~PAGE_MASK;
		p->v[i].end = (r[i].end + PAGE_MASK) & ~PAGE_MASK;
		p->npages += (p->v[i].end - p->v[i].start) >> ETM_PAGE_SHIFT;
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
	tree_free(p->root, 0);
	free(p->v);
	free(p);
}

uint64_t etm_pmu_pages_bytes(const struct etm_pmu_pages *p)
{
	return __atomic_load_n(&p->leaves, __ATOMIC_RELAXED) * FAN +
	       __atomic_load_n(&p->nodes, __ATOMIC_RELAXED) * sizeof(struct node);
}

bool etm_pmu_pages_hit(struct etm_pmu_pages *p, uint64_t addr, unsigned inc, size_t *hint)
{
	size_t i = find(p, addr, hint ? *hint : 0);
	uint8_t *leaf, *c, v;

	if (i == p->nv)
		return false;
	if (hint)
		*hint = i;
	leaf = leaf_of(p, addr >> ETM_PAGE_SHIFT, true);
	if (!leaf)
		return true; /* out of memory: the sample is lost, not misplaced */
	c = &leaf[(addr >> ETM_PAGE_SHIFT) & (FAN - 1)];
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
	uint8_t *leaf;

	if (find(p, addr, 0) == p->nv)
		return -1;
	leaf = leaf_of((struct etm_pmu_pages *)p, addr >> ETM_PAGE_SHIFT, false);
	return leaf ? __atomic_load_n(&leaf[(addr >> ETM_PAGE_SHIFT) & (FAN - 1)], __ATOMIC_RELAXED) : 0;
}

static void count_sampled(uint8_t *leaf, uint64_t pn, void *arg)
{
	(void)pn;
	for (unsigned i = 0; i < FAN; i++)
		*(uint64_t *)arg += __atomic_load_n(&leaf[i], __ATOMIC_RELAXED) != 0;
}

uint64_t etm_pmu_pages_sampled(const struct etm_pmu_pages *p)
{
	uint64_t n = 0;

	walk(p->root, 0, 0, count_sampled, &n);
	return n;
}

static void halve(uint8_t *leaf, uint64_t pn, void *arg)
{
	(void)pn;
	(void)arg;
	for (unsigned i = 0; i < FAN; i++)
		leaf[i] >>= 1;
}

void etm_pmu_pages_cool(struct etm_pmu_pages *p)
{
	walk(p->root, 0, 0, halve, NULL);
}

/* PAGEMAP_SCAN (linux/fs.h since 6.7; the build's headers may be older). */
#ifndef PAGEMAP_SCAN
struct page_region {
	uint64_t start, end, categories;
};
struct pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define PAGE_IS_PRESENT (1 << 3)
#define PAGE_IS_SWAPPED (1 << 4)
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#endif

/*
 * Mark the present or swapped pages of [a, b) seen with weight 0. 0, or
 * -errno when the kernel has no PAGEMAP_SCAN (the caller marks them all).
 */
static int mark_resident(struct etm_pagestate *ps, int fd, uint64_t a, uint64_t b)
{
	struct page_region v[64];
	struct pm_scan_arg arg;

	while (a < b) {
		long n;

		arg = (struct pm_scan_arg){
			.size = sizeof(arg),
			.start = a,
			.end = b,
			.vec = (uintptr_t)v,
			.vec_len = sizeof(v) / sizeof(v[0]),
			.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
			.return_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
		};
		if ((n = ioctl(fd, PAGEMAP_SCAN, &arg)) < 0)
			return -errno;
		for (long i = 0; i < n; i++)
			etm_pagestate_mark(ps, v[i].start, (v[i].end - v[i].start) >> ETM_PAGE_SHIFT, 0);
		/* The walk stops early when v is full; an unmapped rest ends it at b. */
		if (arg.walk_end <= a)
			return -EIO;
		a = arg.walk_end;
	}
	return 0;
}

/* A run of pages of equal weight, marked in one call. */
struct run {
	struct etm_pagestate *ps;
	int pagemap_fd; /* -1: weight-0 runs are marked whole */
	enum etm_pmu_fold how;
	uint64_t start, n;
	unsigned w;
};

static void run_flush(struct run *r)
{
	uint64_t end = r->start + (r->n << ETM_PAGE_SHIFT);

	if (r->w == 0 && r->pagemap_fd >= 0 && !mark_resident(r->ps, r->pagemap_fd, r->start, end))
		return;
	/* Weight 0 is idempotent: pages marked before a failed walk are unchanged. */
	if (r->w == 0)
		r->pagemap_fd = -1;
	etm_pagestate_mark(r->ps, r->start, r->n, r->w);
}

static void run_add(struct run *r, uint64_t addr, uint64_t n, unsigned w)
{
	if (r->n && (w != r->w || r->start + (r->n << ETM_PAGE_SHIFT) != addr)) {
		run_flush(r);
		r->n = 0;
	}
	if (!r->n) {
		r->start = addr;
		r->w = w;
	}
	r->n += n;
}

/* Fold [a, b) (inside one VMA): leaf by leaf, a missing leaf is a run of weight 0. */
static void fold_span(const struct etm_pmu_pages *p, uint64_t a, uint64_t b, struct run *r)
{
	while (a < b) {
		uint64_t pn = a >> ETM_PAGE_SHIFT, win_end = ((pn | (FAN - 1)) + 1) << ETM_PAGE_SHIFT;
		uint64_t e = win_end < b ? win_end : b;
		uint8_t *leaf = leaf_of((struct etm_pmu_pages *)p, pn, false);

		if (!leaf) {
			run_add(r, a, (e - a) >> ETM_PAGE_SHIFT, 0);
		} else {
			for (uint64_t x = a; x < e; x += ETM_PAGE_SIZE) {
				unsigned c =
				    __atomic_load_n(&leaf[(x >> ETM_PAGE_SHIFT) & (FAN - 1)], __ATOMIC_RELAXED);

				run_add(r, x, 1, r->how == ETM_PMU_FOLD_COUNT ? c : etm_pmu_weight(c));
			}
		}
		a = e;
	}
}

void etm_pmu_pages_fold(const struct etm_pmu_pages *p, struct etm_pagestate *ps, int pagemap_fd, enum etm_pmu_fold how)
{
	struct run r = { .ps = ps, .pagemap_fd = pagemap_fd, .how = how };
	size_t j = 0;

	/* Walk the page state's ranges and the index together: the cost is what @ps tracks. */
	for (size_t i = 0; i < ps->n && j < p->nv;) {
		uint64_t a = ps->r[i].start > p->v[j].start ? ps->r[i].start : p->v[j].start;
		uint64_t b = ps->r[i].end < p->v[j].end ? ps->r[i].end : p->v[j].end;

		if (a < b)
			fold_span(p, a, b, &r);
		if (ps->r[i].end <= p->v[j].end)
			i++;
		else
			j++;
	}
	if (r.n)
		run_flush(&r);
}
