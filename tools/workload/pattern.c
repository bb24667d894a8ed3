#include "pattern.h"

#include <errno.h>

/* splitmix64 finaliser: cheap, and neighbouring indices give unrelated words. */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t page_base(uint64_t seed, uint64_t idx, uint32_t gen)
{
	return mix(seed ^ mix(idx) ^ ((uint64_t)gen << 40));
}

/*
 * Word j holds base + j*odd constant: consecutive words always differ, so a
 * zero-filled (lost) page or a page from another index can never match.
 */
#define STEP 0xd6e8feb86659fd93ULL

void wl_pattern_fill(void *page, size_t psz, uint64_t seed, uint64_t idx, uint32_t gen)
{
	uint64_t *w = page, v = page_base(seed, idx, gen);
	size_t j, n = psz / sizeof(*w);

	for (j = 0; j < n; j++)
		w[j] = v + j * STEP;
}

int wl_pattern_check(const void *page, size_t psz, uint64_t seed, uint64_t idx, uint32_t gen)
{
	const uint64_t *w = page;
	uint64_t v = page_base(seed, idx, gen);
	size_t j, n = psz / sizeof(*w);

	for (j = 0; j < n; j++)
		if (w[j] != v + j * STEP)
			return -EILSEQ;
	return 0;
}
