/* SPDX-License-Identifier: MulanPSL-2.0 */
/* Per-page sample counts behind a VMA index, in sparse radix trees, one per page size (see pmu_pages.h). */
#include "scan/pmu_pages.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

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
 * The leaf holding page number @pn of @t; with @alloc the missing nodes
 * are created (readers race here under the shared lock: one CAS wins, the
 * loser frees its copy). NULL if absent (or out of memory).
 */
static uint8_t *leaf_of(struct etm_pmu_tree *t, uint64_t pn, bool alloc)
{
	void **slot = &t->root;

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
				__atomic_add_fetch(lvl == INNER ? &t->leaves : &t->nodes, 1, __ATOMIC_RELAXED);
			}
		}
		if (lvl == INNER)
			return n;
		slot = &((struct node *)n)->slot[slot_of(pn, lvl)];
	}
}

/* A leaf of tree @ti and the page number of its first count. */
typedef void leaf_fn(uint8_t *leaf, unsigned ti, uint64_t pn, void *arg);

static void walk_node(void *n, int lvl, unsigned ti, uint64_t pn, leaf_fn *fn, void *arg)
{
	if (!n)
		return;
	if (lvl == INNER) {
		fn(n, ti, pn, arg);
		return;
	}
	for (unsigned i = 0; i < FAN; i++)
		walk_node(((struct node *)n)->slot[i], lvl + 1, ti, pn | ((uint64_t)i << (FAN_BITS * (INNER - lvl))),
			  fn, arg);
}

/* Call @fn on every leaf of every tree (exclusive access). */
static void walk(const struct etm_pmu_pages *p, leaf_fn *fn, void *arg)
{
	for (unsigned ti = 0; ti < p->nt; ti++)
		walk_node(p->t[ti].root, 0, ti, 0, fn, arg);
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

/* Drop the counts of pages no longer in the index, or now in a VMA of another page size. */
static void keep_indexed(uint8_t *leaf, unsigned ti, uint64_t pn, void *arg)
{
	const struct etm_pmu_pages *p = arg;
	unsigned shift = p->t[ti].shift;
	size_t hint = 0;

	for (unsigned i = 0; i < FAN; i++) {
		if (!leaf[i])
			continue;
		hint = find(p, (pn + i) << shift, hint);
		if (hint == p->nv || p->v[hint].tree != ti) {
			leaf[i] = 0;
			hint = 0;
		}
	}
}

void etm_pmu_pages_carry(struct etm_pmu_pages *p, struct etm_pmu_pages *old)
{
	for (unsigned o = 0; o < old->nt; o++) {
		struct etm_pmu_tree *ot = &old->t[o], *nt = NULL;

		for (unsigned k = 0; k < p->nt && !nt; k++)
			if (p->t[k].shift == ot->shift)
				nt = &p->t[k];
		if (nt) {
			nt->root = ot->root;
			nt->leaves = ot->leaves;
			nt->nodes = ot->nodes;
		} else {
			tree_free(ot->root, 0); /* no VMA of that page size any more */
		}
		ot->root = NULL;
		ot->leaves = ot->nodes = 0;
	}
	walk(p, keep_indexed, p);
}

/* The tree of page size 2^@shift in @p, added if new; -EINVAL past ETM_PMU_TREES sizes. */
static int tree_for(struct etm_pmu_pages *p, unsigned shift)
{
	for (unsigned k = 0; k < p->nt; k++)
		if (p->t[k].shift == shift)
			return (int)k;
	if (p->nt == ETM_PMU_TREES)
		return -EINVAL;
	p->t[p->nt].shift = shift;
	return (int)p->nt++;
}

static unsigned range_shift(const struct etm_pmu_range *r)
{
	return r->shift ? r->shift : ETM_PAGE_SHIFT;
}

/* Ranges ascending, not empty, not overlapping once rounded out to their page sizes, below the limit. */
static int ranges_check(const struct etm_pmu_range *r, size_t n)
{
	uint64_t prev_end = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned sh = range_shift(&r[i]);
		uint64_t mask = (1ULL << sh) - 1, s = r[i].start & ~mask;

		if (sh < ETM_PAGE_SHIFT || sh > ETM_PMU_SHIFT_MAX)
			return -EINVAL;
		if (r[i].end > ETM_PMU_ADDR_LIMIT || r[i].end <= r[i].start || (i && s < prev_end))
			return -EINVAL;
		prev_end = (r[i].end + mask) & ~mask;
	}
	return 0;
}

/* The page size a VMA's samples count in: a hugetlb VMA's huge page, else 4 KiB. */
static unsigned smaps_shift(const struct etm_smaps_vma *v)
{
	unsigned sh;

	if (!v->hugetlb || v->page_size < ETM_PAGE_SIZE || (v->page_size & (v->page_size - 1)))
		return ETM_PAGE_SHIFT;
	sh = (unsigned)__builtin_ctzll(v->page_size);
	return sh <= ETM_PMU_SHIFT_MAX ? sh : ETM_PAGE_SHIFT;
}

int etm_pmu_ranges_of_smaps(const struct etm_smaps_vma *v, size_t n, struct etm_pmu_range **out)
{
	*out = calloc(n ? n : 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		(*out)[i] = (struct etm_pmu_range){ .start = v[i].start, .end = v[i].end, .shift = smaps_shift(&v[i]) };
	return 0;
}

int etm_pmu_pages_new(const struct etm_pmu_range *r, size_t n, struct etm_pmu_pages *old, struct etm_pmu_pages **out)
{
	struct etm_pmu_pages *p;
	int rc;

	*out = NULL;
	if ((rc = ranges_check(r, n)))
		return rc;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->v = calloc(n ? n : 1, sizeof(*p->v));
	if (!p->v) {
		free(p);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned sh = range_shift(&r[i]);
		uint64_t mask = (1ULL << sh) - 1;
		int ti = tree_for(p, sh);

		if (ti < 0) {
			etm_pmu_pages_free(p);
			return ti;
		}
		p->v[i].start = r[i].start & ~mask;
		p->v[i].end = (r[i].end + mask) & ~mask;
		p->v[i].tree = (unsigned)ti;
		p->npages += (p->v[i].end - p->v[i].start) >> sh;
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
	for (unsigned k = 0; k < p->nt; k++)
		tree_free(p->t[k].root, 0);
	free(p->v);
	free(p);
}

uint64_t etm_pmu_pages_bytes(const struct etm_pmu_pages *p)
{
	uint64_t b = 0;

	for (unsigned k = 0; k < p->nt; k++)
		b += __atomic_load_n(&p->t[k].leaves, __ATOMIC_RELAXED) * FAN +
		     __atomic_load_n(&p->t[k].nodes, __ATOMIC_RELAXED) * sizeof(struct node);
	return b;
}

/* The count byte of @addr's page in VMA @i; NULL when its leaf is absent (or cannot be made). */
static uint8_t *count_of(const struct etm_pmu_pages *p, size_t i, uint64_t addr, bool alloc)
{
	struct etm_pmu_tree *t = (struct etm_pmu_tree *)&p->t[p->v[i].tree];
	uint64_t pn = addr >> t->shift;
	uint8_t *leaf = leaf_of(t, pn, alloc);

	return leaf ? &leaf[pn & (FAN - 1)] : NULL;
}

bool etm_pmu_pages_hit(struct etm_pmu_pages *p, uint64_t addr, unsigned inc, size_t *hint)
{
	size_t i = find(p, addr, hint ? *hint : 0);
	uint8_t *c, v;

	if (i == p->nv)
		return false;
	if (hint)
		*hint = i;
	c = count_of(p, i, addr, true);
	if (!c)
		return true; /* out of memory: the sample is lost, not misplaced */
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
	uint8_t *c;

	if (i == p->nv)
		return -1;
	c = count_of(p, i, addr, false);
	return c ? __atomic_load_n(c, __ATOMIC_RELAXED) : 0;
}

static void count_sampled(uint8_t *leaf, unsigned ti, uint64_t pn, void *arg)
{
	(void)ti;
	(void)pn;
	for (unsigned i = 0; i < FAN; i++)
		*(uint64_t *)arg += __atomic_load_n(&leaf[i], __ATOMIC_RELAXED) != 0;
}

uint64_t etm_pmu_pages_sampled(const struct etm_pmu_pages *p)
{
	uint64_t n = 0;

	walk(p, count_sampled, &n);
	return n;
}

static void halve(uint8_t *leaf, unsigned ti, uint64_t pn, void *arg)
{
	(void)ti;
	(void)pn;
	(void)arg;
	for (unsigned i = 0; i < FAN; i++)
		leaf[i] >>= 1;
}

void etm_pmu_pages_cool(struct etm_pmu_pages *p)
{
	walk(p, halve, NULL);
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
	bool present; /* pages of a sampled huge page: mapped, no need to ask pagemap */
};

static void run_flush(struct run *r)
{
	uint64_t end = r->start + (r->n << ETM_PAGE_SHIFT);

	if (r->w == 0 && !r->present && r->pagemap_fd >= 0 && !mark_resident(r->ps, r->pagemap_fd, r->start, end))
		return;
	/* Weight 0 is idempotent: pages marked before a failed walk are unchanged. */
	if (r->w == 0 && !r->present)
		r->pagemap_fd = -1;
	etm_pagestate_mark(r->ps, r->start, r->n, r->w);
}

static void run_add(struct run *r, uint64_t addr, uint64_t n, unsigned w, bool present)
{
	if (r->n && (w != r->w || present != r->present || r->start + (r->n << ETM_PAGE_SHIFT) != addr)) {
		run_flush(r);
		r->n = 0;
	}
	if (!r->n) {
		r->start = addr;
		r->w = w;
		r->present = present;
	}
	r->n += n;
}

static unsigned fold_value(const struct run *r, unsigned c)
{
	return r->how == ETM_PMU_FOLD_COUNT ? c : etm_pmu_weight(c);
}

/* Fold [a, b) of 4 KiB VMA @j: leaf by leaf, a missing leaf is a run of weight 0. */
static void fold_span(const struct etm_pmu_pages *p, size_t j, uint64_t a, uint64_t b, struct run *r)
{
	struct etm_pmu_tree *t = (struct etm_pmu_tree *)&p->t[p->v[j].tree];

	while (a < b) {
		uint64_t pn = a >> ETM_PAGE_SHIFT, win_end = ((pn | (FAN - 1)) + 1) << ETM_PAGE_SHIFT;
		uint64_t e = win_end < b ? win_end : b;
		uint8_t *leaf = leaf_of(t, pn, false);

		if (!leaf) {
			run_add(r, a, (e - a) >> ETM_PAGE_SHIFT, 0, false);
		} else {
			for (uint64_t x = a; x < e; x += ETM_PAGE_SIZE) {
				unsigned c =
				    __atomic_load_n(&leaf[(x >> ETM_PAGE_SHIFT) & (FAN - 1)], __ATOMIC_RELAXED);

				run_add(r, x, 1, fold_value(r, c), false);
			}
		}
		a = e;
	}
}

/*
 * Fold [a, b) of huge-page VMA @j, huge page by huge page (pmu_pages.h):
 * the weight on each of its 4 KiB pages, or the count on its first one.
 * A page never sampled is a run of weight 0, marked where pagemap finds
 * it present (a hugetlb page not faulted in yet is no unit to place).
 */
static void fold_huge(const struct etm_pmu_pages *p, size_t j, uint64_t a, uint64_t b, struct run *r)
{
	uint64_t size = 1ULL << p->t[p->v[j].tree].shift;

	for (uint64_t u = a & ~(size - 1); u < b; u += size) {
		uint64_t s = u > a ? u : a, e = u + size < b ? u + size : b, n = (e - s) >> ETM_PAGE_SHIFT;
		uint8_t *c = count_of(p, j, u, false);
		unsigned v = c ? __atomic_load_n(c, __ATOMIC_RELAXED) : 0;

		if (!v) {
			run_add(r, s, n, 0, false);
		} else if (r->how == ETM_PMU_FOLD_WEIGHT) {
			run_add(r, s, n, etm_pmu_weight(v), true);
		} else {
			run_add(r, s, 1, v, true);
			if (n > 1)
				run_add(r, s + ETM_PAGE_SIZE, n - 1, 0, true);
		}
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

		if (a < b && p->t[p->v[j].tree].shift > ETM_PAGE_SHIFT)
			fold_huge(p, j, a, b, &r);
		else if (a < b)
			fold_span(p, j, a, b, &r);
		if (ps->r[i].end <= p->v[j].end)
			i++;
		else
			j++;
	}
	if (r.n)
		run_flush(&r);
}
