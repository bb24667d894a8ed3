/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * etmem-numatool: drives the scan library's NUMA modules (numa_node,
 * numa_move, numa_units) from a guest script, so the rig shows them on a
 * real kernel before the cslide engine sits on them. Built static.
 *
 *   etmem-numatool topo                              nodes, figures, tier pairs
 *   etmem-numatool query PID ADDR LEN                bytes per node (4 KiB queries)
 *   etmem-numatool move PID ADDR LEN NODE BUDGET U   move the range's units to NODE
 *   etmem-numatool act PID ADDR LEN NODE U           the same through the move_pages action, timed
 *   etmem-numatool raw PID ADDR LEN NODE U           the same by bare move_pages(2) calls, timed
 *
 * U is the unit: 4k, 2m (hugetlb), or thp (found with etm_numa_units()).
 * BUDGET is a byte cap (0: none). ADDR/LEN accept 0x-hex. Output: one line
 * of key=value (act and raw: bytes=, secs=; the benchmark bench/cslide-in-vm.sh
 * compares them). Exit 0, 1 on failure, 2 on bad arguments.
 */
#include <errno.h>
#include <numaif.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/action.h"
#include "scan/numa_move.h"
#include "scan/numa_node.h"
#include "scan/numa_units.h"

#define PG 4096ULL

static int cmd_topo(void)
{
	struct etm_numa_topo *t;
	struct etm_numa_pair *p;
	char why[256];
	size_t n;
	int err = etm_numa_topo_read("", &t, why, sizeof(why));

	if (err) {
		fprintf(stderr, "numatool: %s\n", why);
		return 1;
	}
	printf("nodes=%zu\n", t->n);
	for (size_t i = 0; i < t->n; i++) {
		const struct etm_numa_node *nd = &t->node[i];

		printf("node=%d cpu=%d tier=%d total_mb=%llu free_mb=%llu usable_mb=%llu huge2m_total=%llu "
		       "huge2m_free=%llu\n",
		       nd->id, nd->has_cpu, nd->tier, (unsigned long long)(nd->mem_total >> 20),
		       (unsigned long long)(nd->mem_free >> 20),
		       (unsigned long long)(etm_numa_free_bytes(nd, ETM_NUMA_BASE) >> 20),
		       (unsigned long long)(nd->huge_total[0] >> 21), (unsigned long long)(nd->huge_free[0] >> 21));
	}
	err = etm_numa_need_two(t, why, sizeof(why));
	printf("need_two=%s\n", err ? why : "ok");
	err = etm_numa_tier_pairs(t, &p, &n, why, sizeof(why));
	printf("pairs=");
	for (size_t i = 0; !err && i < n; i++)
		printf("%s%d:%d", i ? "," : "", p[i].hot_node, p[i].cold_node);
	printf("%s\n", err ? why : "");
	if (!err)
		free(p);
	etm_numa_topo_free(t);
	return 0;
}

static int cmd_query(pid_t pid, uint64_t addr, uint64_t len)
{
	size_t n = len / PG;
	uint64_t *a, by[ETM_NUMA_MAX_NODES] = { 0 }, absent = 0;
	int *st, err, max = -1;

	if (n == 0)
		return 2;
	a = calloc(n, sizeof(*a));
	st = calloc(n, sizeof(*st));
	if (!a || !st) {
		free(a);
		free(st);
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		a[i] = addr + i * PG;
	err = etm_numa_query(&etm_numa_sys_kernel, pid, a, n, st);
	if (err) {
		fprintf(stderr, "numatool: query: %s\n", strerror(-err));
		free(a);
		free(st);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (st[i] >= 0 && st[i] < ETM_NUMA_MAX_NODES) {
			by[st[i]] += PG;
			max = st[i] > max ? st[i] : max;
		} else {
			absent += PG;
		}
	}
	for (int k = 0; k <= max; k++)
		printf("node%d=%llu ", k, (unsigned long long)by[k]);
	printf("absent=%llu\n", (unsigned long long)absent);
	free(a);
	free(st);
	return 0;
}

/* The range's units: fixed-size ones, or the kernel's folios. */
static int units_of(pid_t pid, uint64_t addr, uint64_t len, const char *u, struct etm_numa_page **out, size_t *n)
{
	size_t pages = len / PG;
	int shift = !strcmp(u, "4k") ? 12 : !strcmp(u, "2m") ? 21 : 0;

	*out = calloc(pages ? pages : 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	if (!strcmp(u, "thp"))
		return etm_numa_units(pid, addr, pages, *out, n);
	if (!shift)
		return -EINVAL;
	*n = len >> shift;
	for (size_t i = 0; i < *n; i++)
		(*out)[i] = (struct etm_numa_page){ .addr = addr + ((uint64_t)i << shift), .shift = (uint8_t)shift };
	return 0;
}

static int cmd_move(pid_t pid, uint64_t addr, uint64_t len, int node, uint64_t budget, const char *u)
{
	struct etm_numa_move_stats st = { 0 };
	struct etm_numa_page *p;
	size_t n = 0;
	int err = units_of(pid, addr, len, u, &p, &n);

	if (err) {
		fprintf(stderr, "numatool: units (%s): %s\n", u, strerror(-err));
		free(p);
		return err == -EINVAL ? 2 : 1;
	}
	err = etm_numa_move(&etm_numa_sys_kernel, pid, p, n, node, budget ? budget : UINT64_MAX, &st);
	printf("units=%zu moved_units=%llu moved_bytes=%llu over_budget_bytes=%llu calls=%llu", n,
	       (unsigned long long)st.pages_moved, (unsigned long long)st.bytes_moved,
	       (unsigned long long)st.bytes_over_budget, (unsigned long long)st.calls);
	for (int r = 0; r < ETM_ACTION_FAIL_NR; r++)
		printf(" %s=%llu", etm_action_fail_name(r), (unsigned long long)st.bytes_failed[r]);
	printf(" rc=%d\n", err);
	free(p);
	return err ? 1 : 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The units through the action cslide migrates with (add per unit, flush), timed. */
static int cmd_act(pid_t pid, uint64_t addr, uint64_t len, int node, const char *u)
{
	const struct etm_action_ops *a = &etm_action_move_pages;
	struct etm_action_stats st;
	struct etm_numa_page *p;
	size_t n = 0;
	double t0;
	void *ctx;
	int err = units_of(pid, addr, len, u, &p, &n);

	if (err || (err = a->open(pid, &ctx))) {
		free(p);
		return 1;
	}
	t0 = now_s();
	for (size_t i = 0; i < n && !err; i++)
		err = a->add(ctx, p[i].addr, etm_numa_page_bytes(&p[i]), node);
	if (!err)
		err = a->flush(ctx);
	a->stats(ctx, &st);
	printf("bytes=%llu secs=%.6f rc=%d\n", (unsigned long long)st.bytes_done, now_s() - t0, err);
	a->close(ctx);
	free(p);
	return err ? 1 : 0;
}

/* The same units by bare move_pages(2) calls of 65536 pages (MPOL_MF_MOVE_ALL), timed. */
static int cmd_raw(pid_t pid, uint64_t addr, uint64_t len, int node, const char *u)
{
	struct etm_numa_page *p;
	size_t n = 0, batch = 65536;
	void **pages;
	int *nodes, *status, err = units_of(pid, addr, len, u, &p, &n);
	uint64_t bytes = 0;
	double t0;

	pages = calloc(batch, sizeof(*pages));
	nodes = calloc(batch, sizeof(*nodes));
	status = calloc(batch, sizeof(*status));
	if (err || !pages || !nodes || !status) {
		err = 1;
		goto out;
	}
	t0 = now_s();
	for (size_t off = 0; off < n; off += batch) {
		size_t k = n - off < batch ? n - off : batch;

		for (size_t i = 0; i < k; i++) {
			pages[i] = (void *)(uintptr_t)p[off + i].addr;
			nodes[i] = node;
		}
		if (syscall(SYS_move_pages, pid, k, pages, nodes, status, MPOL_MF_MOVE_ALL) < 0) {
			err = 1;
			break;
		}
		for (size_t i = 0; i < k; i++)
			if (status[i] == node)
				bytes += etm_numa_page_bytes(&p[off + i]);
	}
	printf("bytes=%llu secs=%.6f rc=%d\n", (unsigned long long)bytes, now_s() - t0, err);
out:
	free(pages);
	free(nodes);
	free(status);
	free(p);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	pid_t pid;
	uint64_t addr, len;

	if (argc == 2 && !strcmp(argv[1], "topo"))
		return cmd_topo();
	if (argc < 5) {
		fprintf(stderr, "usage: see the comment at the top of tests/vm/numatool.c\n");
		return 2;
	}
	pid = (pid_t)atoi(argv[2]);
	addr = strtoull(argv[3], NULL, 0);
	len = strtoull(argv[4], NULL, 0) / PG * PG;
	if (!strcmp(argv[1], "query") && argc == 5)
		return cmd_query(pid, addr, len);
	if (!strcmp(argv[1], "move") && argc == 8)
		return cmd_move(pid, addr, len, atoi(argv[5]), strtoull(argv[6], NULL, 0), argv[7]);
	if (!strcmp(argv[1], "act") && argc == 7)
		return cmd_act(pid, addr, len, atoi(argv[5]), argv[6]);
	if (!strcmp(argv[1], "raw") && argc == 7)
		return cmd_raw(pid, addr, len, atoi(argv[5]), argv[6]);
	fprintf(stderr, "numatool: bad command or arguments\n");
	return 2;
}
