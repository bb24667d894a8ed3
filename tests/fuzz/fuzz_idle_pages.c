/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The idle_pages stream parser feeding a page state, as the daemon runs it:
 * any byte string must parse or fail cleanly, never read out of bounds, and
 * leave the page state consistent (counts bounded).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "scan/idle_stream.h"
#include "scan/pagestate.h"

static int mark(void *arg, uint64_t addr, uint64_t nr, enum page_type type, unsigned weight)
{
	uint64_t per = type == PUD_TYPE ? 262144 : type == PMD_TYPE ? 512 : 1;

	if (weight > 3)
		abort();
	etm_pagestate_mark(arg, addr, nr > UINT64_MAX / per ? UINT64_MAX : nr * per, weight);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct etm_pagestate *ps = etm_pagestate_new();
	struct etm_pip_result r;
	struct etm_grade g;

	if (!ps)
		return 0;
	/* Two small tracked ranges: one at 0, one around a 2 MiB boundary. */
	etm_pagestate_add_range(ps, 0, 64 * 4096);
	etm_pagestate_add_range(ps, 0x1ff000, 0x201000 + 64 * 4096);
	etm_pip_parse(data, size, mark, ps, &r);
	if (r.used > size)
		abort();
	etm_pagestate_grade(ps, 3, &g);
	if (g.hot + g.cold != g.scanned || g.scanned > etm_pagestate_pages(ps))
		abort();
	etm_pagestate_free(ps);
	return 0;
}
