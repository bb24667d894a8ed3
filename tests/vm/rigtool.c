/*
 * etmem-rigtool: acts on another process's memory range the way a tiering
 * engine would, so guest tests can show each kernel facility working on the
 * workload from outside. Built static for the rig guest.
 *
 *   etmem-rigtool nodes     PID ADDR LEN HOT_PAGES LAYOUT   page states per part
 *   etmem-rigtool move      PID ADDR LEN NODE               move_pages() to NODE
 *   etmem-rigtool pageout   PID ADDR LEN                    process_madvise(MADV_PAGEOUT)
 *   etmem-rigtool willneed  PID ADDR LEN                    process_madvise(MADV_WILLNEED):
 *                                                           swapped pages back into the swap cache
 *   etmem-rigtool idle-mark PID ADDR LEN                    set page_idle bits
 *   etmem-rigtool idle-read PID ADDR LEN HOT_PAGES LAYOUT   idle/accessed per part
 *   etmem-rigtool poke      PID ADDR                        flip one byte (test corruption)
 *
 * ADDR/LEN accept 0x-hex. LAYOUT is contiguous|interleaved as in etmem-workload.
 * Output: one line per part, "hot key=value ..." and "cold key=value ...",
 * or one summary line for actions. Exit status 0, 1 on failure.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "hotset.h"
#include "pagestate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef MADV_WILLNEED
#define MADV_WILLNEED 3
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#define IDLE_BITMAP "/sys/kernel/mm/page_idle/bitmap"

static long psz;

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmd_nodes(pid_t pid, uintptr_t addr, uint64_t n, uint64_t hot, enum wl_layout lay)
{
	uint8_t *st = malloc(n);
	int16_t *nd = malloc(n * sizeof(*nd));
	uint64_t c[2][3 + WL_MAX_NODES] = { { 0 } }, i;
	int nnodes = wl_nr_possible_nodes(), err, p, k;

	if (!st || !nd)
		return 1;
	if ((err = wl_page_states(pid, addr, n, st, nd))) {
		fprintf(stderr, "rigtool: page states: %s\n", strerror(-err));
		return 1;
	}
	for (i = 0; i < n; i++) {
		p = !wl_page_is_hot(i, n, hot, lay); /* 0 hot, 1 cold */
		c[p][st[i]]++;
		if (st[i] == WL_PS_RESIDENT && nd[i] >= 0 && nd[i] < nnodes)
			c[p][3 + nd[i]]++;
	}
	for (p = 0; p < 2; p++) {
		printf("%s pages=%llu resident=%llu swapped=%llu not_present=%llu nodes=", p ? "cold" : "hot",
		       (unsigned long long)(c[p][0] + c[p][1] + c[p][2]), (unsigned long long)c[p][WL_PS_RESIDENT],
		       (unsigned long long)c[p][WL_PS_SWAPPED], (unsigned long long)c[p][WL_PS_NOT_PRESENT]);
		for (k = 0; k < nnodes; k++)
			printf("%s%llu", k ? "," : "", (unsigned long long)c[p][3 + k]);
		printf("\n");
	}
	return 0;
}

static int cmd_move(pid_t pid, uintptr_t addr, uint64_t n, int node)
{
	void **pages = malloc(n * sizeof(*pages));
	int *nodes = malloc(n * sizeof(*nodes)), *status = malloc(n * sizeof(*status));
	uint64_t i, moved = 0, absent = 0, failed = 0;
	long r;

	if (!pages || !nodes || !status)
		return 1;
	for (i = 0; i < n; i++) {
		pages[i] = (void *)(addr + i * psz);
		nodes[i] = node;
	}
	r = syscall(SYS_move_pages, pid, n, pages, nodes, status, 0 /* MPOL_MF_MOVE: own pages */);
	if (r < 0) {
		fprintf(stderr, "rigtool: move_pages: %m\n");
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (status[i] == node)
			moved++;
		else if (status[i] == -ENOENT)
			absent++;
		else
			failed++;
	}
	printf("move node=%d pages=%llu on_node=%llu not_present=%llu failed=%llu ret=%ld\n", node,
	       (unsigned long long)n, (unsigned long long)moved, (unsigned long long)absent, (unsigned long long)failed,
	       r);
	return failed ? 1 : 0;
}

static int cmd_madvise(pid_t pid, uintptr_t addr, uint64_t n, int advice, const char *name)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	uint64_t len = n * psz, done = 0;

	if (pfd < 0) {
		fprintf(stderr, "rigtool: pidfd_open: %m\n");
		return 1;
	}
	while (done < len) { /* one call is capped at MAX_RW_COUNT */
		struct iovec v = { (void *)(addr + done), len - done };
		long r = syscall(SYS_process_madvise, pfd, &v, 1, advice, 0);

		if (r <= 0) {
			fprintf(stderr, "rigtool: process_madvise: %m\n");
			return 1;
		}
		done += (uint64_t)r;
	}
	printf("%s bytes=%llu\n", name, (unsigned long long)done);
	close(pfd);
	return 0;
}

/*
 * page_idle: the bitmap is an array of u64 words, bit k of word w = PFN
 * w*64+k. Writing 1 bits marks those pages idle (0 bits are ignored); a read
 * gives 1 = still idle (not accessed since marking).
 */
static int cmd_idle(pid_t pid, uintptr_t addr, uint64_t n, int mark, uint64_t hot, enum wl_layout lay)
{
	uint64_t *pfn = malloc(n * sizeof(*pfn)), *sorted = malloc(n * sizeof(*sorted));
	uint64_t c[2][3] = { { 0 } }, i, j, np = 0, words = 0, shortio = 0;
	int fd, err, p;

	if (!pfn || !sorted)
		return 1;
	if ((err = wl_page_pfns(pid, addr, n, pfn))) {
		fprintf(stderr, "rigtool: pagemap: %s\n", strerror(-err));
		return 1;
	}
	fd = open(IDLE_BITMAP, mark ? O_WRONLY : O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "rigtool: %s: %m\n", IDLE_BITMAP);
		return 1;
	}
	if (mark) {
		for (i = 0; i < n; i++)
			if (pfn[i])
				sorted[np++] = pfn[i];
		qsort(sorted, np, sizeof(*sorted), cmp_u64);
		/* One write per bitmap word covering any of our PFNs. */
		for (i = 0; i < np; i = j) {
			uint64_t w = sorted[i] / 64, bits = 0;

			for (j = i; j < np && sorted[j] / 64 == w; j++)
				bits |= 1ULL << (sorted[j] % 64);
			/* The word covering max_pfn may give a 0-length write (kernel quirk). */
			if (pwrite(fd, &bits, 8, (off_t)(w * 8)) != 8)
				shortio++;
			words++;
		}
		printf("idle-mark pages=%llu present=%llu words=%llu short=%llu\n", (unsigned long long)n,
		       (unsigned long long)np, (unsigned long long)words, (unsigned long long)shortio);
		close(fd);
		return 0;
	}
	for (i = 0; i < n; i++) {
		uint64_t bits;
		int s; /* 0 idle, 1 accessed, 2 unknown (not present or short read) */

		p = !wl_page_is_hot(i, n, hot, lay);
		if (!pfn[i] || pread(fd, &bits, 8, (off_t)(pfn[i] / 64 * 8)) != 8)
			s = 2;
		else
			s = (bits >> (pfn[i] % 64)) & 1 ? 0 : 1;
		c[p][s]++;
	}
	for (p = 0; p < 2; p++)
		printf("%s pages=%llu idle=%llu accessed=%llu unknown=%llu\n", p ? "cold" : "hot",
		       (unsigned long long)(c[p][0] + c[p][1] + c[p][2]), (unsigned long long)c[p][0],
		       (unsigned long long)c[p][1], (unsigned long long)c[p][2]);
	close(fd);
	return 0;
}

/* process_vm_writev, unlike /proc/PID/mem, also writes into shared mappings. */
static int cmd_poke(pid_t pid, uintptr_t addr)
{
	unsigned char b;
	struct iovec l = { &b, 1 }, r = { (void *)addr, 1 };

	if (process_vm_readv(pid, &l, 1, &r, 1, 0) != 1) {
		fprintf(stderr, "rigtool: process_vm_readv: %m\n");
		return 1;
	}
	b ^= 0xff;
	if (process_vm_writev(pid, &l, 1, &r, 1, 0) != 1) {
		fprintf(stderr, "rigtool: process_vm_writev: %m\n");
		return 1;
	}
	printf("poke addr=%#llx\n", (unsigned long long)addr);
	return 0;
}

static enum wl_layout layout_arg(const char *s)
{
	return !strcmp(s, "interleaved") ? WL_LAYOUT_INTERLEAVED : WL_LAYOUT_CONTIGUOUS;
}

int main(int argc, char **argv)
{
	pid_t pid;
	uintptr_t addr;
	uint64_t n;

	psz = sysconf(_SC_PAGESIZE);
	if (argc == 4 && !strcmp(argv[1], "poke"))
		return cmd_poke((pid_t)atoi(argv[2]), (uintptr_t)strtoull(argv[3], NULL, 0));
	if (argc < 5) {
		fprintf(stderr, "usage: see the comment at the top of tests/vm/rigtool.c\n");
		return 2;
	}
	pid = (pid_t)atoi(argv[2]);
	addr = (uintptr_t)strtoull(argv[3], NULL, 0);
	n = strtoull(argv[4], NULL, 0) / psz;
	if (!strcmp(argv[1], "nodes") && argc == 7)
		return cmd_nodes(pid, addr, n, strtoull(argv[5], NULL, 0), layout_arg(argv[6]));
	if (!strcmp(argv[1], "move") && argc == 6)
		return cmd_move(pid, addr, n, atoi(argv[5]));
	if (!strcmp(argv[1], "pageout"))
		return cmd_madvise(pid, addr, n, MADV_PAGEOUT, "pageout");
	if (!strcmp(argv[1], "willneed"))
		return cmd_madvise(pid, addr, n, MADV_WILLNEED, "willneed");
	if (!strcmp(argv[1], "idle-mark"))
		return cmd_idle(pid, addr, n, 1, 0, WL_LAYOUT_CONTIGUOUS);
	if (!strcmp(argv[1], "idle-read") && argc == 7)
		return cmd_idle(pid, addr, n, 0, strtoull(argv[5], NULL, 0), layout_arg(argv[6]));
	fprintf(stderr, "rigtool: bad command or arguments\n");
	return 2;
}
