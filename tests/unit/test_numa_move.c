/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * move_pages(2) batching and partial failures against a fake kernel that
 * follows do_pages_move()'s contract: per-page errors written to status and
 * the walk goes on; a run that fails to migrate stops the call with the
 * count of pages not migrated (the run's failures plus the rest of the
 * batch) and leaves their status unwritten; -ENOMEM stops it likewise.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <numaif.h>

#include "scan/numa_move.h"

#define BASE 0x7f0000000000ULL
#define PG 4096ULL
#define HUGE (2ULL << 20)
#define MAXU 64

/* One folio of the fake address space. */
struct unit {
	uint64_t addr, size;
	int node;
	int err;    /* 0 present; -ENOENT not present; -EFAULT not mapped */
	bool busy;  /* cannot be isolated: -EBUSY in its status */
	bool stuck; /* isolated, but migration fails: the call stops */
};

struct fake {
	struct unit u[MAXU];
	int n;
	int room[4]; /* units each node still takes; -1 unlimited */
	int calls, move_calls, max_count;
	int exit_after; /* calls after which the process is gone; 0 never */
	int fail_all;	/* a whole-call error for moves (e.g. -EPERM) */
};

static struct unit *find(struct fake *f, uint64_t a)
{
	for (int i = 0; i < f->n; i++)
		if (a >= f->u[i].addr && a < f->u[i].addr + f->u[i].size)
			return &f->u[i];
	return NULL;
}

static void add(struct fake *f, uint64_t addr, uint64_t size, int node)
{
	f->u[f->n++] = (struct unit){ .addr = addr, .size = size, .node = node };
}

/* Migrate the pending run [start, i); > 0 failed pages, -ENOMEM, or 0 with the status stored. */
static long flush(struct fake *f, struct unit **run, int nrun, int node, int *status, int start, int i)
{
	int failed = 0;

	if (nrun == 0)
		return 0;
	for (int k = 0; k < nrun; k++) {
		if (run[k]->stuck) {
			failed++;
			continue;
		}
		if (f->room[node] == 0)
			return -ENOMEM;
		if (f->room[node] > 0)
			f->room[node]--;
		run[k]->node = node;
	}
	if (failed)
		return failed;
	for (int k = start; k < i; k++)
		status[k] = node;
	return 0;
}

static long fake_move_pages(void *arg, pid_t pid, unsigned long count, void **pages, const int *nodes, int *status,
			    int flags)
{
	struct fake *f = arg;
	struct unit *run[MAXU];
	int nrun = 0, start = 0;
	long r;

	assert_int_equal(pid, 4242);
	f->calls++;
	if ((int)count > f->max_count)
		f->max_count = (int)count;
	if (f->exit_after && f->calls > f->exit_after)
		return -ESRCH;
	if (!nodes) {
		for (unsigned long i = 0; i < count; i++) {
			struct unit *u = find(f, (uintptr_t)pages[i]);

			status[i] = !u ? -EFAULT : u->err ? u->err : u->node;
		}
		return 0;
	}
	assert_int_equal(flags, MPOL_MF_MOVE_ALL);
	f->move_calls++;
	if (f->fail_all)
		return f->fail_all;
	for (unsigned long i = 0; i < count; i++) {
		struct unit *u = find(f, (uintptr_t)pages[i]);
		int err;

		assert_int_equal(nodes[i], nodes[0]);
		if (u && !u->err && u->node != nodes[i] && !u->busy) {
			if (!nrun)
				start = (int)i;
			run[nrun++] = u;
			continue;
		}
		err = !u ? -EFAULT : u->err ? u->err : u->node == nodes[i] ? 0 : -EBUSY;
		status[i] = err ? err : nodes[i];
		r = flush(f, run, nrun, nodes[0], status, start, (int)i);
		nrun = 0;
		if (r)
			return r > 0 ? r + (long)(count - i) - 1 : r;
	}
	r = flush(f, run, nrun, nodes[0], status, start, (int)count);
	return r;
}

static struct fake *fake_new(int pages4k, int node)
{
	struct fake *f = calloc(1, sizeof(*f));

	for (int i = 0; i < 4; i++)
		f->room[i] = -1;
	for (int i = 0; i < pages4k; i++)
		add(f, BASE + (uint64_t)i * PG, PG, node);
	return f;
}

static struct etm_numa_sys sys_of(struct fake *f, size_t qb, size_t mb)
{
	return (struct etm_numa_sys){ .move_pages = fake_move_pages, .arg = f, .query_batch = qb, .move_batch = mb };
}

static void pages_4k(struct etm_numa_page *p, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (struct etm_numa_page){ .addr = BASE + (uint64_t)i * PG, .shift = 12 };
}

/* Every unit given ends up counted exactly once. */
static void assert_conserved(const struct etm_numa_move_stats *st, uint64_t units, uint64_t bytes)
{
	uint64_t p = st->pages_moved + st->pages_over_budget, b = st->bytes_moved + st->bytes_over_budget;

	for (int r = 0; r < ETM_ACTION_FAIL_NR; r++) {
		p += st->pages_failed[r];
		b += st->bytes_failed[r];
	}
	assert_int_equal(p, units);
	assert_int_equal(b, bytes);
}

static void test_query_batches(void **state)
{
	struct fake *f = fake_new(10, 1);
	struct etm_numa_sys sys = sys_of(f, 4, 0);
	uint64_t a[11];
	int st[11];

	(void)state;
	f->u[3].err = -ENOENT;
	for (int i = 0; i < 10; i++)
		a[i] = BASE + (uint64_t)i * PG + 123; /* any address inside the page */
	a[10] = BASE - PG;			      /* not mapped */
	assert_int_equal(etm_numa_query(&sys, 4242, a, 11, st), 0);
	assert_int_equal(f->calls, 3);
	assert_int_equal(f->max_count, 4);
	for (int i = 0; i < 10; i++)
		assert_int_equal(st[i], i == 3 ? -ENOENT : 1);
	assert_int_equal(st[10], -EFAULT);
	f->exit_after = 1;
	f->calls = 0;
	assert_int_equal(etm_numa_query(&sys, 4242, a, 11, st), -ESRCH);
	free(f);
}

static void test_move_all_batched(void **state)
{
	struct fake *f = fake_new(10, 2);
	struct etm_numa_sys sys = sys_of(f, 0, 4);
	struct etm_numa_page p[10];
	struct etm_numa_move_stats st = { 0 };

	(void)state;
	pages_4k(p, 10);
	assert_int_equal(etm_numa_move(&sys, 4242, p, 10, 0, UINT64_MAX, &st), 0);
	assert_int_equal(f->move_calls, 3);
	assert_int_equal(f->max_count, 4);
	assert_int_equal(st.pages_moved, 10);
	assert_int_equal(st.bytes_moved, 10 * PG);
	for (int i = 0; i < 10; i++)
		assert_int_equal(f->u[i].node, 0);
	assert_conserved(&st, 10, 10 * PG);
	free(f);
}

/* Busy, absent, unmapped and already-placed pages: each counted, the rest moved. */
static void test_per_page_failures(void **state)
{
	struct fake *f = fake_new(12, 2);
	struct etm_numa_sys sys = sys_of(f, 0, 5);
	struct etm_numa_page p[13];
	struct etm_numa_move_stats st = { 0 };

	(void)state;
	f->u[1].busy = true;
	f->u[4].err = -ENOENT;
	f->u[7].node = 0; /* already there: counts as placed */
	f->u[11].busy = true;
	pages_4k(p, 12);
	p[12] = (struct etm_numa_page){ .addr = BASE + 100 * PG, .shift = 12 }; /* unmapped */
	assert_int_equal(etm_numa_move(&sys, 4242, p, 13, 0, UINT64_MAX, &st), 0);
	assert_int_equal(st.pages_moved, 9);
	assert_int_equal(st.pages_failed[ETM_ACTION_FAIL_BUSY], 2);
	assert_int_equal(st.pages_failed[ETM_ACTION_FAIL_GONE], 2);
	assert_int_equal(st.bytes_failed[ETM_ACTION_FAIL_GONE], 2 * PG);
	for (int i = 0; i < 12; i++)
		if (i != 1 && i != 4 && i != 11)
			assert_int_equal(f->u[i].node, 0);
	assert_conserved(&st, 13, 13 * PG);
	free(f);
}

/*
 * A page that fails migration stops the call; the kernel reports the rest
 * of the batch as not migrated without status. The mover finds out by a
 * query, retries the rest, and counts only the stuck page as busy.
 */
static void test_short_return_retried(void **state)
{
	struct fake *f = fake_new(10, 2);
	struct etm_numa_sys sys = sys_of(f, 0, 10);
	struct etm_numa_page p[10];
	struct etm_numa_move_stats st = { 0 };

	(void)state;
	f->u[2].stuck = true;
	f->u[3].busy = true; /* ends the first run: [0, 3) is flushed, and fails on page 2 */
	f->u[6].stuck = true;
	f->u[7].err = -ENOENT;
	pages_4k(p, 10);
	assert_int_equal(etm_numa_move(&sys, 4242, p, 10, 0, UINT64_MAX, &st), 0);
	for (int i = 0; i < 10; i++) {
		bool stays = i == 2 || i == 3 || i == 6 || i == 7;

		assert_int_equal(f->u[i].node, stays ? 2 : 0);
	}
	assert_int_equal(st.pages_moved, 6);
	assert_int_equal(st.pages_failed[ETM_ACTION_FAIL_BUSY], 3); /* 2 and 6 stuck, 3 busy */
	assert_int_equal(st.pages_failed[ETM_ACTION_FAIL_GONE], 1);
	assert_conserved(&st, 10, 10 * PG);
	/* bounded: no more rounds than ETM_NUMA_MOVE_ROUNDS */
	assert_true(f->move_calls <= ETM_NUMA_MOVE_ROUNDS);
	free(f);
}

/* The target fills up: what fit is moved, the rest is nomem, and the next batch still goes. */
static void test_nomem_goes_on(void **state)
{
	struct fake *f = fake_new(8, 2);
	struct etm_numa_sys sys = sys_of(f, 0, 4);
	struct etm_numa_page p[8];
	struct etm_numa_move_stats st = { 0 };

	(void)state;
	f->room[0] = 3;
	pages_4k(p, 8);
	assert_int_equal(etm_numa_move(&sys, 4242, p, 8, 0, UINT64_MAX, &st), 0);
	assert_int_equal(f->move_calls, 2);
	assert_int_equal(st.pages_moved, 3);
	assert_int_equal(st.pages_failed[ETM_ACTION_FAIL_NOMEM], 5);
	assert_conserved(&st, 8, 8 * PG);
	free(f);
}

static void test_process_exits(void **state)
{
	struct fake *f = fake_new(10, 2);
	struct etm_numa_sys sys = sys_of(f, 0, 4);
	struct etm_numa_page p[10];
	struct etm_numa_move_stats st = { 0 };

	(void)state;
	f->exit_after = 1;
	pages_4k(p, 10);
	assert_int_equal(etm_numa_move(&sys, 4242, p, 10, 0, UINT64_MAX, &st), -ESRCH);
	assert_int_equal(st.pages_moved, 4);
	assert_int_equal(st.pages_failed[ETM_ACTION_FAIL_EXITED], 6);
	assert_conserved(&st, 10, 10 * PG);
	free(f);
}

static void test_whole_call_error(void **state)
{
	struct fake *f = fake_new(6, 2);
	struct etm_numa_sys sys = sys_of(f, 0, 4);
	struct etm_numa_page p[6];
	struct etm_numa_move_stats st = { 0 };

	(void)state;
	f->fail_all = -EPERM; /* no CAP_SYS_NICE */
	pages_4k(p, 6);
	assert_int_equal(etm_numa_move(&sys, 4242, p, 6, 0, UINT64_MAX, &st), -EPERM);
	assert_int_equal(f->move_calls, 1);
	assert_int_equal(st.pages_failed[ETM_ACTION_FAIL_OTHER], 6);
	assert_conserved(&st, 6, 6 * PG);
	free(f);
}

/* THP and hugetlb units: bytes, not pages; a unit given twice or inside a larger one moves once. */
static void test_huge_units_and_budget(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct etm_numa_sys sys = sys_of(f, 0, 8);
	struct etm_numa_page p[7];
	struct etm_numa_move_stats st = { 0 };

	(void)state;
	for (int i = 0; i < 4; i++)
		f->room[i] = -1;
	add(f, BASE, HUGE, 2);		     /* THP */
	add(f, BASE + HUGE, HUGE, 2);	     /* another */
	add(f, BASE + 2 * HUGE, PG, 2);	     /* 4K */
	add(f, BASE + 2 * HUGE + PG, PG, 2); /* 4K */
	p[0] = (struct etm_numa_page){ .addr = BASE + 2 * HUGE + PG, .shift = 12 };
	p[1] = (struct etm_numa_page){ .addr = BASE + 5 * PG, .shift = 12 }; /* inside the first THP */
	p[2] = (struct etm_numa_page){ .addr = BASE + 77, .shift = 21 };     /* starts inside the first */
	p[3] = (struct etm_numa_page){ .addr = BASE, .shift = 21 };	     /* the first THP */
	p[4] = (struct etm_numa_page){ .addr = BASE + HUGE, .shift = 21 };
	p[5] = (struct etm_numa_page){ .addr = BASE + 2 * HUGE, .shift = 12 };
	p[6] = (struct etm_numa_page){ .addr = BASE + HUGE + 3 * PG, .shift = 12 }; /* inside the second */
	/* budget 2 MiB + 4 KiB: the first THP and the first 4K page fit, the second THP not, the last 4K not */
	assert_int_equal(etm_numa_move(&sys, 4242, p, 7, 0, HUGE + PG, &st), 0);
	assert_int_equal(st.pages_moved, 2);
	assert_int_equal(st.bytes_moved, HUGE + PG);
	assert_int_equal(st.pages_over_budget, 2);
	assert_int_equal(st.bytes_over_budget, HUGE + PG);
	assert_int_equal(f->u[0].node, 0);
	assert_int_equal(f->u[1].node, 2);
	assert_int_equal(f->u[2].node, 0);
	assert_int_equal(f->u[3].node, 2);
	assert_conserved(&st, 4, 2 * HUGE + 2 * PG);
	free(f);
}

static void test_coalesce(void **state)
{
	struct etm_numa_page p[] = {
		{ .addr = 3 * HUGE, .shift = 12 },	{ .addr = HUGE + PG, .shift = 12 },
		{ .addr = HUGE, .shift = 21 },		{ .addr = 3 * HUGE, .shift = 12 },
		{ .addr = 2 * HUGE - PG, .shift = 12 },
	};

	(void)state;
	assert_int_equal(etm_numa_pages_coalesce(p, 5), 2);
	assert_int_equal(p[0].addr, HUGE);
	assert_int_equal(p[0].shift, 21);
	assert_int_equal(p[1].addr, 3 * HUGE);
	assert_string_equal(etm_action_fail_name(ETM_ACTION_FAIL_NOMEM), "nomem");
}

/* Units already in order are kept as they are (the sort is skipped); in order but one inside another is not. */
static void test_coalesce_ordered(void **state)
{
	struct etm_numa_page in_order[] = {
		{ .addr = PG, .shift = 12 },
		{ .addr = HUGE, .shift = 21 },
		{ .addr = 2 * HUGE, .shift = 12 },
		{ .addr = 2 * HUGE + PG, .shift = 12 },
	};
	struct etm_numa_page nested[] = {
		{ .addr = HUGE, .shift = 21 },
		{ .addr = HUGE + PG, .shift = 12 },
		{ .addr = 2 * HUGE, .shift = 12 },
		{ .addr = 2 * HUGE, .shift = 12 },
	};

	(void)state;
	assert_int_equal(etm_numa_pages_coalesce(in_order, 4), 4);
	assert_int_equal(in_order[0].addr, PG);
	assert_int_equal(in_order[1].shift, 21);
	assert_int_equal(in_order[3].addr, 2 * HUGE + PG);
	assert_int_equal(etm_numa_pages_coalesce(nested, 4), 2);
	assert_int_equal(nested[0].addr, HUGE);
	assert_int_equal(nested[0].shift, 21);
	assert_int_equal(nested[1].addr, 2 * HUGE);
}

/* The move_pages action: units queued per destination, batched, failures counted, exit reported. */
static void test_action_move_pages(void **state)
{
	struct fake *f = fake_new(8, 2);
	struct etm_numa_sys sys = sys_of(f, 4, 3);
	const struct etm_action_ops *a = &etm_action_move_pages;
	struct etm_action_stats st;
	void *ctx;

	(void)state;
	add(f, HUGE, HUGE, 0);
	f->u[2].busy = true;
	f->u[5].err = -ENOENT;
	assert_int_equal(etm_action_move_pages_open_with(4242, &sys, &ctx), 0);
	/* a unit must be a power of two (a folio: 4 KiB, 2 MiB, an mTHP) aligned to its size */
	assert_int_equal(a->add(ctx, BASE, 3 * PG, 0), -EINVAL);
	assert_int_equal(a->add(ctx, BASE + PG / 2, PG, 0), -EINVAL);
	assert_int_equal(a->add(ctx, BASE, PG, -1), -EINVAL);
	for (int i = 0; i < 6; i++)
		assert_int_equal(a->add(ctx, BASE + (uint64_t)i * PG, PG, 0), 0);
	assert_int_equal(f->move_calls, 0); /* queued until the destination changes */
	assert_int_equal(a->add(ctx, HUGE, HUGE, 3), 0);
	assert_true(f->move_calls >= 2); /* 6 units in batches of 3 */
	assert_int_equal(a->flush(ctx), 0);
	a->stats(ctx, &st);
	assert_int_equal(st.bytes_done, 4 * PG + HUGE);
	assert_int_equal(st.bytes_failed[ETM_ACTION_FAIL_BUSY], PG);
	assert_int_equal(st.bytes_failed[ETM_ACTION_FAIL_GONE], PG);
	assert_int_equal(f->u[0].node, 0);
	assert_int_equal(f->u[2].node, 2);
	assert_int_equal(f->u[8].node, 3);
	a->close(ctx);

	/* the process exits: the rest counts as exited, the caller learns -ESRCH */
	f->exit_after = f->calls;
	assert_int_equal(etm_action_move_pages_open_with(4242, &sys, &ctx), 0);
	assert_int_equal(a->add(ctx, BASE + 6 * PG, PG, 0), 0);
	assert_int_equal(a->flush(ctx), -ESRCH);
	assert_int_equal(a->add(ctx, BASE + 7 * PG, PG, 0), -ESRCH);
	a->stats(ctx, &st);
	assert_int_equal(st.bytes_done, 0);
	assert_int_equal(st.bytes_failed[ETM_ACTION_FAIL_EXITED], 2 * PG);
	a->close(ctx);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_batches),	  cmocka_unit_test(test_move_all_batched),
		cmocka_unit_test(test_per_page_failures), cmocka_unit_test(test_short_return_retried),
		cmocka_unit_test(test_nomem_goes_on),	  cmocka_unit_test(test_process_exits),
		cmocka_unit_test(test_whole_call_error),  cmocka_unit_test(test_huge_units_and_budget),
		cmocka_unit_test(test_coalesce),	  cmocka_unit_test(test_coalesce_ordered),
		cmocka_unit_test(test_action_move_pages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
