/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The move_pages action's own cost per unit, for bench/README.md (issue 11:
 * migration at least 0.9 of raw move_pages(2)). The kernel is replaced by a
 * fake move_pages that only writes each status (the node asked for), so
 * what is left is userspace work: the action's add() per unit, its queue,
 * etm_numa_move()'s coalescing, batching and status accounting; against a
 * bare loop that fills the same arrays and makes the same fake call (what
 * the rig's `etmem-numatool raw` does around the real system call). Their
 * difference per unit, next to the kernel's own time per migrated page
 * (about 20 us for 4 KiB in the TCG rig, 1-3 us on hardware), bounds what
 * the action can cost: overhead / (overhead + kernel) of the throughput.
 *
 * Usage: move_overhead [UNITS [REPEATS]]   (default 262144 units = 1 GiB of 4 KiB, 20)
 * Prints one JSON line per path and one with the overhead.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "scan/action.h"
#include "scan/numa_move.h"

static long fake_move_pages(void *arg, pid_t pid, unsigned long count, void **pages, const int *nodes, int *status,
			    int flags)
{
	(void)arg;
	(void)pid;
	(void)pages;
	(void)flags;
	for (unsigned long i = 0; i < count; i++)
		status[i] = nodes ? nodes[i] : 0;
	return 0;
}

static const struct etm_numa_sys fake = { .move_pages = fake_move_pages };

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The action as cslide drives it: open, add per unit, flush, stats, close. */
static double run_action(uint64_t base, size_t n, uint64_t *moved)
{
	struct etm_action_stats st;
	double t0 = now_s();
	void *ctx;

	if (etm_action_move_pages_open_with(getpid(), &fake, &ctx))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (etm_action_move_pages.add(ctx, base + i * 4096, 4096, 1))
			break;
	etm_action_move_pages.flush(ctx);
	etm_action_move_pages.stats(ctx, &st);
	etm_action_move_pages.close(ctx);
	*moved = st.bytes_done;
	return now_s() - t0;
}

/* The bare loop: arrays of 65536 filled and passed, statuses counted. */
static double run_raw(uint64_t base, size_t n, uint64_t *moved)
{
	size_t batch = 65536;
	void **pages = malloc(batch * sizeof(*pages));
	int *nodes = malloc(batch * sizeof(*nodes)), *status = malloc(batch * sizeof(*status));
	double t0 = now_s();

	*moved = 0;
	for (size_t off = 0; pages && nodes && status && off < n; off += batch) {
		size_t k = n - off < batch ? n - off : batch;

		for (size_t i = 0; i < k; i++) {
			pages[i] = (void *)(uintptr_t)(base + (off + i) * 4096);
			nodes[i] = 1;
		}
		fake_move_pages(NULL, getpid(), k, pages, nodes, status, 0);
		for (size_t i = 0; i < k; i++)
			if (status[i] == 1)
				*moved += 4096;
	}
	free(pages);
	free(nodes);
	free(status);
	return now_s() - t0;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 0) : 262144, reps = argc > 2 ? strtoul(argv[2], NULL, 0) : 20;
	double *ta = calloc(reps ? reps : 1, sizeof(double)), *tr = calloc(reps ? reps : 1, sizeof(double));
	uint64_t base = 0x7f0000000000ULL, ma = 0, mr = 0;

	if (!n || !reps || !ta || !tr)
		return 2;
	/* Interleaved, medians: the machine may be busy. */
	for (size_t r = 0; r < reps; r++) {
		ta[r] = run_action(base, n, &ma);
		tr[r] = run_raw(base, n, &mr);
	}
	qsort(ta, reps, sizeof(double), cmp_d);
	qsort(tr, reps, sizeof(double), cmp_d);
	double a = ta[reps / 2] / (double)n * 1e9, w = tr[reps / 2] / (double)n * 1e9;

	printf("{\"bench\":\"move_overhead\",\"path\":\"action\",\"units\":%zu,\"bytes_moved\":%" PRIu64
	       ",\"ns_per_unit_median\":%.1f}\n",
	       n, ma, a);
	printf("{\"bench\":\"move_overhead\",\"path\":\"raw\",\"units\":%zu,\"bytes_moved\":%" PRIu64
	       ",\"ns_per_unit_median\":%.1f}\n",
	       n, mr, w);
	/* What the overhead would leave of raw throughput at a kernel cost of 2 us and 20 us per page. */
	printf("{\"bench\":\"move_overhead\",\"overhead_ns_per_unit\":%.1f,\"ratio_bound_kernel_2us\":%.4f,"
	       "\"ratio_bound_kernel_20us\":%.4f}\n",
	       a - w, (2000.0 + w) / (2000.0 + a), (20000.0 + w) / (20000.0 + a));
	free(ta);
	free(tr);
	return ma == mr ? 0 : 1;
}
