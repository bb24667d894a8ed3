/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * move_pages(2) queries and moves, batched, with partial failures counted
 * (see numa_move.h).
 *
 * What the kernel does with a move batch (mm/migrate.c do_pages_move(), 5.x
 * and 6.x): it collects runs of pages going to the same node and migrates
 * each run at once. A page that is already there, or cannot be taken (not
 * present, busy), gets its own status and the walk goes on. But when the
 * migration of a run leaves pages behind, the call stops there and returns
 * how many pages of the run and of the rest of the batch were not migrated,
 * without writing their status; -ENOMEM stops it the same way. So every
 * status slot starts as a sentinel, and slots left untouched are settled by
 * a query: on the node means moved, elsewhere means try again.
 */
#include "scan/numa_move.h"

#include <errno.h>
#include <limits.h>
#include <numa.h>
#include <numaif.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define STATUS_UNSET INT_MIN

static long kernel_move_pages(void *arg, pid_t pid, unsigned long count, void **pages, const int *nodes, int *status,
			      int flags)
{
	long r;

	(void)arg;
	r = numa_move_pages((int)pid, count, pages, nodes, status, flags);
	return r < 0 ? -errno : r;
}

const struct etm_numa_sys etm_numa_sys_kernel = {
	.move_pages = kernel_move_pages,
};

static enum etm_action_fail reason_of(int err)
{
	switch (err) {
	case EBUSY:
	case EAGAIN:
		return ETM_ACTION_FAIL_BUSY;
	case ENOMEM:
		return ETM_ACTION_FAIL_NOMEM;
	case ENOENT:
	case EFAULT:
		return ETM_ACTION_FAIL_GONE;
	case ESRCH:
		return ETM_ACTION_FAIL_EXITED;
	default:
		return ETM_ACTION_FAIL_OTHER;
	}
}

static size_t batch_of(size_t want, size_t dflt)
{
	return want ? want : dflt;
}

static void *page_ptr(const struct etm_numa_page *p)
{
	return (void *)(uintptr_t)p->addr;
}

/* Queries over an array of pointers, in batches. */
static int query_ptrs(const struct etm_numa_sys *sys, pid_t pid, void **addrs, size_t n, int *status, uint64_t *calls)
{
	size_t batch = batch_of(sys->query_batch, ETM_NUMA_QUERY_BATCH);

	for (size_t off = 0; off < n; off += batch) {
		size_t k = n - off < batch ? n - off : batch;
		long r;

		for (size_t i = 0; i < k; i++)
			status[off + i] = STATUS_UNSET;
		r = sys->move_pages(sys->arg, pid, k, addrs + off, NULL, status + off, 0);
		if (calls)
			(*calls)++;
		if (r < 0)
			return (int)r;
		/* A query writes every slot; one left untouched is a kernel we do not understand. */
		for (size_t i = 0; i < k; i++)
			if (status[off + i] == STATUS_UNSET)
				return -EIO;
	}
	return 0;
}

int etm_numa_query(const struct etm_numa_sys *sys, pid_t pid, const uint64_t *addrs, size_t n, int *status)
{
	size_t batch = batch_of(sys->query_batch, ETM_NUMA_QUERY_BATCH);
	void **ptrs;
	int err = 0;

	if (n == 0)
		return 0;
	ptrs = malloc((n < batch ? n : batch) * sizeof(*ptrs));
	if (!ptrs)
		return -ENOMEM;
	for (size_t off = 0; off < n && !err; off += batch) {
		size_t k = n - off < batch ? n - off : batch;

		for (size_t i = 0; i < k; i++)
			ptrs[i] = (void *)(uintptr_t)addrs[off + i];
		err = query_ptrs(sys, pid, ptrs, k, status + off, NULL);
	}
	free(ptrs);
	return err;
}

static int cmp_page(const void *a, const void *b)
{
	const struct etm_numa_page *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* The larger unit first, so that the smaller ones inside it are dropped. */
	return (int)y->shift - (int)x->shift;
}

/* Already in order, none inside another? (cslide and the action give units by ascending address.) */
static bool pages_ordered(const struct etm_numa_page *pages, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (pages[i].addr < pages[i - 1].addr + etm_numa_page_bytes(&pages[i - 1]))
			return false;
	return true;
}

size_t etm_numa_pages_coalesce(struct etm_numa_page *pages, size_t n)
{
	uint64_t covered_end = 0;
	size_t out = 0;

	/* The sort was most of the action's own time per unit (bench/move_overhead.c): skipped when not needed. */
	if (pages_ordered(pages, n))
		return n;
	qsort(pages, n, sizeof(*pages), cmp_page);
	for (size_t i = 0; i < n; i++) {
		if (out && pages[i].addr < covered_end)
			continue;
		pages[out++] = pages[i];
		covered_end = pages[i].addr + etm_numa_page_bytes(&pages[i]);
	}
	return out;
}

/* One batch in flight: @k units of @pages, indices in @idx. */
struct mv {
	const struct etm_numa_sys *sys;
	pid_t pid;
	int node;
	const struct etm_numa_page *pages;
	struct etm_numa_move_stats *st;
	void **addrs;
	int *nodes, *status;
	size_t *idx;
};

static void count_moved(struct mv *m, size_t i)
{
	m->st->pages_moved++;
	m->st->bytes_moved += etm_numa_page_bytes(&m->pages[m->idx[i]]);
}

static void count_failed(struct mv *m, size_t i, enum etm_action_fail r)
{
	m->st->pages_failed[r]++;
	m->st->bytes_failed[r] += etm_numa_page_bytes(&m->pages[m->idx[i]]);
}

/*
 * Account a status the move call wrote. A node other than the target counts
 * as busy: the kernel writes the target or an error there.
 */
static void settle(struct mv *m, size_t i, int status)
{
	if (status == m->node)
		count_moved(m, i);
	else if (status < 0)
		count_failed(m, i, reason_of(-status));
	else
		count_failed(m, i, ETM_ACTION_FAIL_BUSY);
}

/* Keep slots [0, k) whose status is unset, packed to the front; returns how many. */
static size_t keep_unset(struct mv *m, size_t k)
{
	size_t left = 0;

	for (size_t i = 0; i < k; i++) {
		if (m->status[i] != STATUS_UNSET) {
			settle(m, i, m->status[i]);
			continue;
		}
		m->idx[left] = m->idx[i];
		m->addrs[left] = m->addrs[i];
		left++;
	}
	return left;
}

/*
 * The kernel left @k slots unset: ask where they are. Those on the node are
 * moved; gone ones fail; the rest stay (packed) for another try, or, with
 * @final, fail with @reason. Returns how many stay, or -errno of the query.
 */
static long resolve_by_query(struct mv *m, size_t k, bool final, enum etm_action_fail reason)
{
	size_t left = 0;
	int err = query_ptrs(m->sys, m->pid, m->addrs, k, m->status, &m->st->calls);

	if (err)
		return err;
	for (size_t i = 0; i < k; i++) {
		int s = m->status[i];

		if (s == m->node)
			count_moved(m, i);
		else if (s < 0)
			count_failed(m, i, reason_of(-s));
		else if (final)
			count_failed(m, i, reason);
		else {
			m->idx[left] = m->idx[i];
			m->addrs[left] = m->addrs[i];
			left++;
		}
	}
	return (long)left;
}

static void fail_all(struct mv *m, size_t k, enum etm_action_fail r)
{
	for (size_t i = 0; i < k; i++)
		count_failed(m, i, r);
}

/* A call failed as a whole (@r < 0): settle what it wrote, then the rest. */
static int batch_error(struct mv *m, size_t k, long r)
{
	size_t left = keep_unset(m, k);
	long q;

	if (r == -ESRCH) {
		fail_all(m, left, ETM_ACTION_FAIL_EXITED);
		return -ESRCH;
	}
	if (r != -ENOMEM) {
		fail_all(m, left, ETM_ACTION_FAIL_OTHER);
		return (int)r;
	}
	/* Out of room on the node: what did get there counts, the rest is nomem; next batch. */
	q = left ? resolve_by_query(m, left, true, ETM_ACTION_FAIL_NOMEM) : 0;
	if (q < 0) {
		fail_all(m, left, q == -ESRCH ? ETM_ACTION_FAIL_EXITED : ETM_ACTION_FAIL_OTHER);
		return q == -ESRCH ? -ESRCH : 0;
	}
	return 0;
}

/* Move the @k units in m->idx, retrying what a short return left unsettled. */
static int move_batch(struct mv *m, size_t k)
{
	for (size_t i = 0; i < k; i++) {
		m->addrs[i] = page_ptr(&m->pages[m->idx[i]]);
		m->nodes[i] = m->node;
	}
	for (int round = 0; k > 0; round++) {
		bool final = round + 1 >= ETM_NUMA_MOVE_ROUNDS;
		size_t before = k;
		long r;

		for (size_t i = 0; i < k; i++)
			m->status[i] = STATUS_UNSET;
		r = m->sys->move_pages(m->sys->arg, m->pid, k, m->addrs, m->nodes, m->status, MPOL_MF_MOVE_ALL);
		m->st->calls++;
		if (r < 0)
			return batch_error(m, k, r);
		k = keep_unset(m, k);
		if (k == 0)
			break;
		r = resolve_by_query(m, k, final, ETM_ACTION_FAIL_BUSY);
		if (r < 0) {
			fail_all(m, k, r == -ESRCH ? ETM_ACTION_FAIL_EXITED : ETM_ACTION_FAIL_OTHER);
			return r == -ESRCH ? -ESRCH : 0;
		}
		k = (size_t)r;
		/* A round that settled nothing would only repeat itself. */
		if (k == before) {
			fail_all(m, k, ETM_ACTION_FAIL_BUSY);
			break;
		}
	}
	return 0;
}

static void count_rest(struct etm_numa_move_stats *st, const struct etm_numa_page *pages, size_t from, size_t n,
		       enum etm_action_fail r)
{
	for (size_t i = from; i < n; i++) {
		st->pages_failed[r]++;
		st->bytes_failed[r] += etm_numa_page_bytes(&pages[i]);
	}
}

static int mv_alloc(struct mv *m, size_t batch)
{
	m->addrs = malloc(batch * sizeof(*m->addrs));
	m->nodes = malloc(batch * sizeof(*m->nodes));
	m->status = malloc(batch * sizeof(*m->status));
	m->idx = malloc(batch * sizeof(*m->idx));
	return m->addrs && m->nodes && m->status && m->idx ? 0 : -ENOMEM;
}

static void mv_free(struct mv *m)
{
	free(m->addrs);
	free(m->nodes);
	free(m->status);
	free(m->idx);
}

int etm_numa_move(const struct etm_numa_sys *sys, pid_t pid, struct etm_numa_page *pages, size_t n, int node,
		  uint64_t max_bytes, struct etm_numa_move_stats *st)
{
	size_t batch = batch_of(sys->move_batch, ETM_NUMA_MOVE_BATCH), i = 0;
	struct mv m = { .sys = sys, .pid = pid, .node = node, .pages = pages, .st = st };
	int err = 0;

	n = etm_numa_pages_coalesce(pages, n);
	if (n == 0)
		return 0;
	if (batch > n)
		batch = n;
	if (mv_alloc(&m, batch)) {
		mv_free(&m);
		return -ENOMEM;
	}
	while (i < n && !err) {
		size_t k = 0;

		for (; i < n && k < batch; i++) {
			uint64_t b = etm_numa_page_bytes(&pages[i]);

			if (b > max_bytes) {
				st->pages_over_budget++;
				st->bytes_over_budget += b;
				continue;
			}
			max_bytes -= b;
			m.idx[k++] = i;
		}
		if (k)
			err = move_batch(&m, k);
	}
	if (err)
		count_rest(st, pages, i, n, err == -ESRCH ? ETM_ACTION_FAIL_EXITED : ETM_ACTION_FAIL_OTHER);
	mv_free(&m);
	return err;
}
