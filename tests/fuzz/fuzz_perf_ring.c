/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The perf ring reader feeding the sample counter, as the sampler's
 * readers run them: any ring content, any tail and head must be consumed
 * without reading out of bounds, account for every byte, and leave counts
 * consistent, across an index rebuild and a cooling in the middle, in
 * 4 KiB and hugetlb VMAs.
 *
 * Input: byte 0 = log2 of the ring size (clamped to 6..16), bytes 1..8 the
 * tail, bytes 9..10 how far the head is ahead (may exceed the ring), then
 * the ring's bytes (zero-padded).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scan/pmu_counter.h"
#include "scan/pmu_event.h"
#include "scan/pmu_ring.h"

#define HDR 11
#define PID 7

/* 4 KiB VMAs and a hugetlb one (2 MiB pages), which the rebuild grows and which gets a 1 GiB neighbour */
static const struct etm_pmu_range r1[] = { { .start = 0x1000, .end = 0x100000 },
					   { .start = 0x40000000, .end = 0x40400000, .shift = 21 },
					   { .start = 0x7f0000000000, .end = 0x7f0000100000 } };
static const struct etm_pmu_range r2[] = { { .start = 0x80000, .end = 0x200000 },
					   { .start = 0x40000000, .end = 0x40800000, .shift = 21 },
					   { .start = 0x80000000, .end = 0xc0000000, .shift = 30 } };

static void check(struct etm_pmu_counter *c, const struct etm_perf_ring_stats *rs)
{
	struct etm_pmu_count_stats cs;

	etm_pmu_counter_stats(c, &cs);
	if (cs.counted + cs.unmapped + cs.foreign + cs.no_addr != rs->samples || rs->samples > rs->records)
		abort();
	for (uint64_t a = 0x80000; a < 0x100000; a += 4096) {
		int v = etm_pmu_counter_count(c, PID, a);

		if (v < 0 || v > (int)ETM_PMU_COUNT_MAX)
			abort();
	}
	for (uint64_t a = 0x40000000; a < 0x40800000; a += 1 << 20) {
		int v = etm_pmu_counter_count(c, PID, a);

		/* one count per 2 MiB page, whichever half of it is asked */
		if (v < 0 || v > (int)ETM_PMU_COUNT_MAX || v != etm_pmu_counter_count(c, PID, a ^ (1 << 20)))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct etm_perf_ring_stats rs = { 0 };
	struct etm_pmu_counter *c = NULL;
	struct etm_perf_layout l;
	uint64_t tail, rsize, head, end;
	uint16_t ahead;
	uint8_t *ring;
	unsigned shift;

	if (size < HDR || etm_perf_layout_init(ETM_PMU_SAMPLE_TYPE, &l))
		return 0;
	shift = data[0] < 6 ? 6 : data[0] > 16 ? 16 : data[0];
	rsize = 1ULL << shift;
	memcpy(&tail, data + 1, 8);
	memcpy(&ahead, data + 9, 2);
	ring = calloc(rsize, 1);
	if (!ring || etm_pmu_counter_new(4, 3, &c) || etm_pmu_counter_set(c, PID, r1, 3)) {
		free(ring);
		etm_pmu_counter_free(c);
		return 0;
	}
	memcpy(ring, data + HDR, size - HDR < rsize ? size - HDR : rsize);
	struct etm_perf_reader rd = { .layout = &l, .samples = etm_pmu_counter_samples, .arg = c };
	/* Two reads: half the published bytes, a rebuild, the rest. */
	head = tail + ahead;
	end = etm_perf_ring_read(ring, rsize, tail, tail + ahead / 2, &rd, &rs);
	if (end != tail + ahead / 2)
		abort();
	etm_pmu_counter_set(c, PID, r2, 3);
	etm_pmu_counter_cool(c);
	if (etm_perf_ring_read(ring, rsize, end, head, &rd, &rs) != head || rs.bytes != ahead)
		abort();
	check(c, &rs);
	etm_pmu_counter_free(c);
	free(ring);
	return 0;
}
