/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The move_pages(2) action: pages of one process to a NUMA node, through
 * numa_move (batched moves with MPOL_MF_MOVE_ALL, every partial failure
 * counted by reason).
 *
 * move_pages() moves the whole folio an address falls in, so this action
 * is given units, not runs: each add() is one base page (4 KiB) or one
 * large folio (a THP or a hugetlb page) by its head address and its size,
 * and is moved and counted as one. A run of base pages must be given page
 * by page: given as one range it would be taken for a folio and only its
 * first page moved. Units queue until the destination changes or flush().
 */
#include "scan/action.h"

#include <errno.h>
#include <numa.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/numa_move.h"

struct mp_ctx {
	pid_t pid;
	const struct etm_numa_sys *sys;
	int dest; /* of the queued units */
	struct etm_numa_page *q;
	size_t n, cap;
	struct etm_numa_move_stats st;
	bool exited;
};

static int mp_probe(char *why, size_t len)
{
	if (numa_available() < 0) {
		snprintf(why, len, "the kernel has no NUMA support (get_mempolicy fails)");
		return -ENOTSUP;
	}
	return 0;
}

int etm_action_move_pages_open_with(pid_t pid, const struct etm_numa_sys *sys, void **ctx)
{
	struct mp_ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->pid = pid;
	c->sys = sys;
	c->dest = -1;
	*ctx = c;
	return 0;
}

static int mp_open(pid_t pid, void **ctx)
{
	return etm_action_move_pages_open_with(pid, &etm_numa_sys_kernel, ctx);
}

static int mp_flush(void *ctx)
{
	struct mp_ctx *c = ctx;
	int err;

	if (c->n == 0)
		return c->exited ? -ESRCH : 0;
	err = etm_numa_move(c->sys, c->pid, c->q, c->n, c->dest, UINT64_MAX, &c->st);
	c->n = 0;
	if (err == -ESRCH)
		c->exited = true;
	return err;
}

/* log2 of a unit's size: 12 for a base page, else a power of two the start is aligned to; -1 otherwise. */
static int unit_shift(uint64_t start, uint64_t len)
{
	int s = __builtin_ctzll(len);

	if (len < 4096 || (len & (len - 1)) || (start & (len - 1)) || s > 40)
		return -1;
	return s;
}

static int mp_add(void *ctx, uint64_t start, uint64_t len, int dest)
{
	struct mp_ctx *c = ctx;
	int shift = unit_shift(start, len), err;

	if (dest < 0 || shift < 0)
		return -EINVAL;
	if (c->exited) {
		/* Nothing more can move: count it where the rest went. */
		c->st.pages_failed[ETM_ACTION_FAIL_EXITED]++;
		c->st.bytes_failed[ETM_ACTION_FAIL_EXITED] += len;
		return -ESRCH;
	}
	if (c->n && dest != c->dest && (err = mp_flush(c)))
		return err;
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 1024;
		struct etm_numa_page *q = realloc(c->q, ncap * sizeof(*q));

		if (!q)
			return -ENOMEM;
		c->q = q;
		c->cap = ncap;
	}
	c->dest = dest;
	c->q[c->n++] = (struct etm_numa_page){ .addr = start, .shift = (uint8_t)shift };
	return 0;
}

static void mp_stats(void *ctx, struct etm_action_stats *st)
{
	const struct mp_ctx *c = ctx;

	memset(st, 0, sizeof(*st));
	st->bytes_done = c->st.bytes_moved;
	for (int r = 0; r < ETM_ACTION_FAIL_NR; r++)
		st->bytes_failed[r] = c->st.bytes_failed[r];
}

static void mp_close(void *ctx)
{
	struct mp_ctx *c = ctx;

	if (!c)
		return;
	free(c->q);
	free(c);
}

const struct etm_action_ops etm_action_move_pages = {
	.name = "move_pages",
	.probe = mp_probe,
	.open = mp_open,
	.add = mp_add,
	.flush = mp_flush,
	.stats = mp_stats,
	.close = mp_close,
};
