/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Memory the daemon spends per tracked page, for bench/run.sh.
 *
 * What is measured: slide's per-process state is one etm_pagestate per job,
 * sized by the length of the VMAs etm_tracker_ranges() selects -- not by
 * what is resident. So a target is simulated by a MAP_NORESERVE anonymous
 * mapping of SIZE GiB in this process that is never touched (no RAM, no
 * swap reservation), and the state is built exactly as slide_job() builds
 * it: etm_tracker_ranges(getpid()) (which also picks up this program's own
 * small VMAs: they count as tracked pages), one full "scan" marking every
 * tracked page (so every byte of the state is touched and resident), the
 * grading and the cold-run walk the swap-out uses. Three figures:
 *   - state_bytes: etm_pagestate_bytes(), what the structure claims;
 *   - heap_bytes: the malloc arena growth (mallinfo2 uordblks + hblkhd);
 *   - rss_bytes: VmRSS growth of the process, i.e. the RAM really used.
 * bytes_per_page = rss_bytes / tracked_pages. Several sizes give the slope
 * (per page) and intercept (the constant) of a least-squares line.
 *
 * Usage: pagestate_mem [SIZE_GIB...]   (default 1 4 16)
 */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "scan/tracker.h"
#include "scan/pagestate.h"

#define MAX_SIZES 8
/* Allowed constant part: the range table, malloc headers, RSS page rounding. */
#define CONST_LIMIT (64 * 1024)

static long long rss_bytes(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	long long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb * 1024;
}

static long long heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();

	return (long long)(mi.uordblks + mi.hblkhd);
}

static int count_run(uint64_t start, uint64_t len, void *arg)
{
	(void)start;
	*(uint64_t *)arg += len;
	return 0;
}

struct point {
	double pages, rss;
};

static int measure(unsigned gib, struct point *pt, bool print)
{
	size_t len = (size_t)gib << 30;
	struct etm_tracker_opts o = { .loop = 1, .sleep_s = 1 };
	struct etm_pagestate *ps;
	struct etm_grade g;
	uint64_t cold_bytes = 0;
	long long rss0, heap0, rss1, heap1;
	void *map;
	int err;

	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (map == MAP_FAILED) {
		fprintf(stderr, "mmap %u GiB: %s\n", gib, strerror(errno));
		return 1;
	}
	malloc_trim(0);
	rss0 = rss_bytes();
	heap0 = heap_bytes();
	ps = etm_pagestate_new();
	if (!ps || (err = etm_tracker_ranges(getpid(), &o, ps))) {
		fprintf(stderr, "etm_tracker_ranges: %s\n", ps ? strerror(-err) : "ENOMEM");
		etm_pagestate_free(ps);
		munmap(map, len);
		return 1;
	}
	/* One scan pass that saw every page: half accessed, half idle, so both grades occur. */
	for (size_t i = 0; i < ps->n; i++) {
		uint64_t pages = (ps->r[i].end - ps->r[i].start) >> ETM_PAGE_SHIFT;

		etm_pagestate_mark(ps, ps->r[i].start, pages / 2, ETM_WEIGHT_ACCESSED);
		etm_pagestate_mark(ps, ps->r[i].start + (pages / 2) * ETM_PAGE_SIZE, pages - pages / 2,
				   ETM_WEIGHT_IDLE);
	}
	etm_pagestate_grade(ps, 1, &g);
	etm_pagestate_for_each_cold(ps, 1, count_run, &cold_bytes);
	rss1 = rss_bytes();
	heap1 = heap_bytes();

	uint64_t pages = etm_pagestate_pages(ps);
	long long drss = rss1 - rss0, dheap = heap1 - heap0;

	if (print)
		printf("{\"bench\":\"memory_per_page_point\",\"target_gib\":%u,\"tracked_pages\":%" PRIu64
		       ",\"ranges\":%zu,\"state_bytes\":%zu,\"heap_bytes\":%lld,\"rss_bytes\":%lld,\"bytes_per_page\":%"
		       ".6f,"
		       "\"over_1_byte_per_page\":%lld,\"graded_cold\":%" PRIu64 "}\n",
		       gib, pages, ps->n, etm_pagestate_bytes(ps), dheap, drss,
		       pages ? (double)drss / (double)pages : 0.0, drss - (long long)pages, g.cold);
	pt->pages = (double)pages;
	pt->rss = (double)drss;
	etm_pagestate_free(ps);
	munmap(map, len);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned sizes[MAX_SIZES] = { 1, 4, 16 };
	struct point pt[MAX_SIZES];
	size_t n = 3;

	if (argc > 1) {
		n = 0;
		for (int i = 1; i < argc && n < MAX_SIZES; i++) {
			char *end;
			unsigned long v = strtoul(argv[i], &end, 10);

			if (*end || !v || v > 1024) {
				fprintf(stderr, "usage: %s [SIZE_GIB...] (1..1024, at most %d)\n", argv[0], MAX_SIZES);
				return 2;
			}
			sizes[n++] = (unsigned)v;
		}
	}
	/* A first, unreported pass: one-time costs (stdio buffers, malloc arenas) are not the state's. */
	if (measure(1, &pt[0], false))
		return 1;
	for (size_t i = 0; i < n; i++)
		if (measure(sizes[i], &pt[i], true))
			return 1;

	/*
	 * "At most 1 byte per page plus a constant": the constant is the largest
	 * excess over 1 B/page at any size; it must stay below CONST_LIMIT (RSS
	 * moves in 4 KiB steps, so a least-squares slope alone is noisy; it is
	 * printed for information).
	 */
	double sx = 0, sy = 0, sxx = 0, sxy = 0, slope = 0, icpt = 0, excess = -1e18;
	size_t big = 0;

	for (size_t i = 0; i < n; i++) {
		sx += pt[i].pages;
		sy += pt[i].rss;
		sxx += pt[i].pages * pt[i].pages;
		sxy += pt[i].pages * pt[i].rss;
		if (pt[i].rss - pt[i].pages > excess)
			excess = pt[i].rss - pt[i].pages;
		if (pt[i].pages > pt[big].pages)
			big = i;
	}
	if (n > 1 && n * sxx - sx * sx != 0) {
		slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
		icpt = (sy - slope * sx) / n;
	}
	printf("{\"bench\":\"memory_per_page\",\"target_gib\":%u,\"tracked_pages\":%.0f,\"rss_bytes\":%.0f,"
	       "\"bytes_per_page\":%.6f,\"constant_bytes\":%.0f,\"constant_limit\":%d,\"fit_bytes_per_page\":%.6f,"
	       "\"fit_constant_bytes\":%.0f,\"target\":\"<=1+const\",\"pass\":%s}\n",
	       sizes[big], pt[big].pages, pt[big].rss, pt[big].pages ? pt[big].rss / pt[big].pages : 0.0, excess,
	       CONST_LIMIT, slope, icpt, excess <= CONST_LIMIT ? "true" : "false");
	return 0;
}
