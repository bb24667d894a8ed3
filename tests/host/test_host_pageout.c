/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Host test of the swap-out action on a real child process: cold runs from
 * a page state go out through process_madvise(MADV_PAGEOUT), an unmapped
 * hole inside the ranges is skipped, hot pages stay, every page's content
 * survives, and a gone process is reported as ESRCH. Needs swap (run under
 * with_swap.sh). Exit 0 pass, 1 fail, 77 skip.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scan/action.h"
#include "scan/pagestate.h"

#define NPAGES 16384 /* 64 MiB */
#define PG 4096UL
#define HOLE_FIRST 8192
#define HOLE_PAGES 256

static int child(int rd, int wr)
{
	char *buf = mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t addr = (uint64_t)(uintptr_t)buf;
	char c;

	if (buf == MAP_FAILED)
		return 3;
	madvise(buf, NPAGES * PG, MADV_NOHUGEPAGE);
	for (size_t i = 0; i < NPAGES; i++)
		memset(buf + i * PG, (int)(i * 7 + 1), PG);
	munmap(buf + HOLE_FIRST * PG, HOLE_PAGES * PG);
	if (write(wr, &addr, sizeof(addr)) != sizeof(addr) || read(rd, &c, 1) != 1)
		return 3;
	for (size_t i = 0; i < NPAGES; i++) {
		if (i >= HOLE_FIRST && i < HOLE_FIRST + HOLE_PAGES)
			continue;
		for (size_t k = 0; k < PG; k++)
			if (buf[i * PG + k] != (char)(i * 7 + 1))
				return 1;
	}
	return 0;
}

static int add_run(uint64_t start, uint64_t len, void *arg)
{
	return etm_action_pageout.add(arg, start, len, ETM_ACTION_SWAP);
}

static int count_swapped(pid_t pid, uint64_t base, uint64_t *cold_sw, uint64_t *hot_sw)
{
	char path[64];
	uint64_t *ent = malloc(NPAGES * sizeof(*ent));
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0 || !ent ||
	    pread(fd, ent, NPAGES * sizeof(*ent), (off_t)(base / PG * 8)) != (ssize_t)(NPAGES * sizeof(*ent))) {
		perror("pagemap");
		return -1;
	}
	close(fd);
	*cold_sw = *hot_sw = 0;
	for (size_t i = 0; i < NPAGES; i++) {
		bool sw = ent[i] & (1ULL << 62);

		if (i % 10 == 0)
			*hot_sw += sw;
		else
			*cold_sw += sw;
	}
	free(ent);
	return 0;
}

int main(void)
{
	int to_child[2], from_child[2], status, err;
	const struct etm_action_ops *act = &etm_action_pageout;
	struct etm_action_stats st;
	struct etm_pagestate *ps;
	uint64_t base, cold_sw, hot_sw, cold_total = 0;
	char why[256];
	void *ctx;
	pid_t pid;

	if (act->probe(why, sizeof(why))) {
		printf("SKIP: %s\n", why);
		return 77;
	}
	if (pipe(to_child) || pipe(from_child))
		return 1;
	pid = fork();
	if (pid == 0)
		_exit(child(to_child[0], from_child[1]));
	if (read(from_child[0], &base, sizeof(base)) != sizeof(base)) {
		printf("FAIL: child setup\n");
		return 1;
	}
	/* Every 10th page hot, the rest (hole included) idle. */
	ps = etm_pagestate_new();
	if (!ps || etm_pagestate_add_range(ps, base, base + NPAGES * PG))
		return 1;
	for (size_t i = 0; i < NPAGES; i++) {
		etm_pagestate_mark(ps, base + i * PG, 1, i % 10 == 0 ? ETM_WEIGHT_ACCESSED : ETM_WEIGHT_IDLE);
		if (i % 10 && !(i >= HOLE_FIRST && i < HOLE_FIRST + HOLE_PAGES))
			cold_total++;
	}
	if ((err = act->open(pid, &ctx))) {
		printf("FAIL: open: %s\n", strerror(-err));
		return 1;
	}
	err = etm_pagestate_for_each_cold(ps, 1, add_run, ctx);
	if (!err)
		err = act->flush(ctx);
	if (err) {
		printf("FAIL: pageout: %s\n", strerror(-err));
		return 1;
	}
	act->stats(ctx, &st);
	printf("kernel advised %llu bytes of %llu cold bytes outside the hole\n", (unsigned long long)st.bytes_done,
	       (unsigned long long)(cold_total * PG));
	act->close(ctx);
	if (count_swapped(pid, base, &cold_sw, &hot_sw))
		return 1;
	printf("cold pages swapped %llu/%llu, hot pages swapped %llu/%d\n", (unsigned long long)cold_sw,
	       (unsigned long long)cold_total, (unsigned long long)hot_sw, NPAGES / 10 + 1);
	if (cold_sw * 100 < cold_total * 95 || hot_sw) {
		printf("FAIL: swap-out not as asked\n");
		return 1;
	}
	/* content check in the child, then a gone process */
	if (write(to_child[1], "v", 1) != 1 || waitpid(pid, &status, 0) != pid) {
		printf("FAIL: child\n");
		return 1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		printf("FAIL: child content check: status %d\n", status);
		return 1;
	}
	err = act->open(pid, &ctx);
	if (err != -ESRCH) {
		printf("FAIL: open of a reaped pid gave %d, not -ESRCH\n", err);
		return 1;
	}
	etm_pagestate_free(ps);
	printf("PASS\n");
	return 0;
}
