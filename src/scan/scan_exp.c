/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * libetmemd_scan: the six exported functions of the original scan library,
 * implemented over the same core the daemon uses. Only idle_pages (openEuler)
 * and page_idle (mainline) give per-page results in one pass; on kernels
 * with neither, etmemd_get_page_refs() fails and logs why.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "etmem/etmemd_scan_exp.h"
#include "scan/tracker.h"
#include "scan/idle_pages.h"
#include "scan/parse.h"
#include "scan/procfs.h"

#define EXPORT __attribute__((visibility("default")))

/* The ABI's init/exit pair is process-wide by definition (init twice fails). */
static atomic_int scan_inited;

EXPORT int etmemd_scan_init(void)
{
	int expected = 0;

	if (sysconf(_SC_PAGESIZE) != (long)ETM_PAGE_SIZE) {
		etm_err("scan: page size %ld unsupported (4 KiB only)", sysconf(_SC_PAGESIZE));
		return -1;
	}
	if (!atomic_compare_exchange_strong(&scan_inited, &expected, 1))
		return -1;
	return 0;
}

EXPORT void etmemd_scan_exit(void)
{
	atomic_store(&scan_inited, 0);
}

EXPORT struct vmas *etmemd_get_vmas(const char *pid, char **vmflags_array, int vmflags_num, bool is_anon_only)
{
	struct etm_vma_filter f = { .anon_only = is_anon_only, .vmflags = vmflags_array, .nvmflags = 0 };
	struct vmas *v = NULL;
	pid_t p;

	if (etm_pid_parse(pid, &p))
		return NULL;
	if (vmflags_num < 0 || vmflags_num > 64 || (vmflags_num && !vmflags_array))
		return NULL;
	for (int i = 0; i < vmflags_num; i++)
		if (!vmflags_array[i] || strlen(vmflags_array[i]) != 2 || strchr(vmflags_array[i], ' '))
			return NULL;
	f.nvmflags = vmflags_num;
	if (etm_proc_vmas(p, &f, &v))
		return NULL;
	return v;
}

EXPORT void etmemd_free_vmas(struct vmas *vmas)
{
	etm_vmas_free(vmas);
}

struct ref_entry {
	uint64_t addr;
	int weight;
	enum page_type type;
};

struct ref_vec {
	struct ref_entry *e;
	size_t n, cap;
	int err;
};

static int vec_push(struct ref_vec *v, uint64_t addr, enum page_type type, int weight)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 1024;
		struct ref_entry *e = realloc(v->e, cap * sizeof(*e));

		if (!e)
			return -ENOMEM;
		v->e = e;
		v->cap = cap;
	}
	v->e[v->n++] = (struct ref_entry){ addr, weight, type };
	return 0;
}

/* idle_pages items become one entry per page of their own size, as the original lists them. */
static int vec_emit(void *arg, uint64_t addr, uint64_t nr, enum page_type type, unsigned weight)
{
	uint64_t size = type == PUD_TYPE ? (1ULL << 30) : type == PMD_TYPE ? (1ULL << 21) : ETM_PAGE_SIZE;
	struct ref_vec *v = arg;

	for (uint64_t i = 0; i < nr; i++)
		if ((v->err = vec_push(v, addr + i * size, type, (int)weight)))
			return v->err;
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct ref_entry *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Merge the (sorted) pass into the address-sorted list, adding weights of repeated addresses. */
static int merge(struct page_refs **list, struct ref_vec *v)
{
	struct page_refs **pp = list;

	qsort(v->e, v->n, sizeof(v->e[0]), cmp_entry);
	for (size_t i = 0; i < v->n; i++) {
		struct page_refs *n;

		while (*pp && (*pp)->addr < v->e[i].addr)
			pp = &(*pp)->next;
		if (*pp && (*pp)->addr == v->e[i].addr) {
			(*pp)->count += v->e[i].weight;
			continue;
		}
		n = malloc(sizeof(*n));
		if (!n)
			return -ENOMEM;
		n->addr = v->e[i].addr;
		n->count = v->e[i].weight;
		n->type = v->e[i].type;
		n->next = *pp;
		*pp = n;
		pp = &n->next;
	}
	return 0;
}

static int pass_idle_pages(const struct vmas *vmas, pid_t pid, int flags, struct ref_vec *v)
{
	uint8_t *buf = malloc(64 * 1024);
	int fd, err = 0;

	if (!buf)
		return -ENOMEM;
	fd = etm_idle_pages_open_fd(pid, (unsigned)flags, false);
	if (fd < 0) {
		free(buf);
		return fd;
	}
	for (const struct vma *x = vmas->vma_list; x && !err; x = x->next)
		err = etm_idle_pages_read_span(fd, x->start, x->end, buf, 64 * 1024, vec_emit, v);
	close(fd);
	free(buf);
	return err ? err : v->err;
}

static int pass_page_idle(const struct vmas *vmas, pid_t pid, struct ref_vec *v)
{
	struct etm_tracker_opts o = { .no_baseline = true };
	struct etm_pagestate *ps = etm_pagestate_new();
	void *ctx = NULL;
	int err = 0;

	if (!ps)
		return -ENOMEM;
	for (const struct vma *x = vmas->vma_list; x && !err; x = x->next)
		err = etm_pagestate_add_range(ps, x->start, x->end);
	if (!err)
		err = etm_tracker_page_idle.open(pid, &o, &ctx);
	if (!err) {
		err = etm_tracker_page_idle.scan(ctx, ps);
		etm_tracker_page_idle.close(ctx);
	}
	for (size_t i = 0; !err && i < ps->n; i++) {
		uint64_t np = (ps->r[i].end - ps->r[i].start) >> ETM_PAGE_SHIFT;

		for (uint64_t k = 0; k < np && !err; k++)
			if (ps->r[i].st[k])
				err = vec_push(v, ps->r[i].start + (k << ETM_PAGE_SHIFT), PTE_TYPE,
					       etm_ps_count(ps->r[i].st[k]));
	}
	etm_pagestate_free(ps);
	return err;
}

EXPORT int etmemd_get_page_refs(const struct vmas *vmas, const char *pid, struct page_refs **page_refs, int flags)
{
	struct ref_vec v = { 0 };
	char why[256];
	pid_t p;
	int err;

	if (!atomic_load(&scan_inited) || !vmas || !page_refs || etm_pid_parse(pid, &p))
		return -1;
	flags &= ALL_SCAN_FLAGS;
	if (!etm_tracker_idle_pages.probe(why, sizeof(why)))
		err = pass_idle_pages(vmas, p, flags, &v);
	else if (!etm_tracker_page_idle.probe(why, sizeof(why)))
		err = pass_page_idle(vmas, p, &v);
	else {
		etm_err("scan: no per-page access tracking on this kernel: %s", why);
		err = -ENOTSUP;
	}
	if (!err)
		err = merge(page_refs, &v);
	free(v.e);
	return err ? -1 : 0;
}

EXPORT void etmemd_free_page_refs(struct page_refs *page_refs)
{
	while (page_refs) {
		struct page_refs *n = page_refs->next;

		free(page_refs);
		page_refs = n;
	}
}
