/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The NUMA figure parsers (nodelist, node meminfo, zoneinfo, distances) and
 * the folio-unit walk and cslide's smaps reader on arbitrary bytes: nothing read outside the input,
 * nothing written outside the outputs, results within their bounds.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scan/numa_node.h"
#include "scan/numa_units.h"
#include "scan/procfs.h"

#define MAXN 16

static const uint8_t *g_flags;
static size_t g_nflags;

/* Frame flags taken from the input; frames past it are plain pages. */
static int kpf(void *arg, uint64_t pfn, size_t n, uint64_t *flags)
{
	(void)arg;
	for (size_t i = 0; i < n; i++)
		flags[i] = pfn + i < g_nflags ? (uint64_t)g_flags[pfn + i] << 15 : 0;
	return 0;
}

static void units(const uint8_t *data, size_t size)
{
	size_t n = size / 8, nout = 0;
	uint64_t *pm = malloc((n ? n : 1) * sizeof(*pm));
	struct etm_numa_page *out = malloc((n ? n : 1) * sizeof(*out));

	if (pm && out) {
		memcpy(pm, data, n * 8);
		for (size_t i = 0; i < n; i++)
			pm[i] &= (1ULL << 63) | 0xffff; /* small frame numbers, so folios meet */
		g_flags = data;
		g_nflags = size;
		if (etm_numa_units_parse(0x10000000, pm, n, kpf, NULL, out, &nout) == 0 && nout > n)
			abort();
	}
	free(pm);
	free(out);
}

/* The VMAs cslide places: sizes in whole KB, and with the ht filter only hugetlb VMAs. */
static void smaps(const char *buf, size_t size)
{
	char *const ht[] = { "ht" };
	struct etm_vma_filter f = { .anon_only = size & 1, .vmflags = ht, .nvmflags = (size >> 1) & 1 };
	struct etm_smaps_vma *v = NULL;
	size_t n = 0;

	if (etm_parse_smaps(buf, size, &f, &v, &n) == 0) {
		for (size_t i = 0; i < n; i++)
			if (v[i].page_size % 1024 || v[i].anon_huge % 1024 || (f.nvmflags && !v[i].hugetlb))
				abort();
		free(v);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf;
	bool set[MAXN];
	uint64_t a, b, high[MAXN] = { 0 };
	int d[MAXN], n;

	if (size < 1)
		return 0;
	buf = malloc(size - 1 ? size - 1 : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	switch (data[0] % 6) {
	case 0:
		(void)etm_parse_nodelist(buf, size - 1, set, MAXN);
		break;
	case 1:
		(void)etm_parse_node_meminfo(buf, size - 1, &a, &b);
		break;
	case 2:
		(void)etm_parse_zoneinfo_high(buf, size - 1, high, MAXN);
		break;
	case 3:
		if (etm_parse_distances(buf, size - 1, d, MAXN, &n) == 0 && (n < 1 || n > MAXN))
			abort();
		break;
	case 4:
		units(data + 1, size - 1);
		break;
	default:
		smaps(buf, size - 1);
	}
	free(buf);
	return 0;
}
