/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Building perf records and rings by hand, as the kernel lays them out, for
 * the unit tests, the fuzz target's seeds and the replay benchmark.
 */
#ifndef ETM_TEST_PERF_RECORDS_H
#define ETM_TEST_PERF_RECORDS_H

#include <linux/perf_event.h>
#include <stdint.h>
#include <string.h>

#ifndef PERF_RECORD_LOST_SAMPLES
#define PERF_RECORD_LOST_SAMPLES 13
#endif

/* A sample of ETM_PMU_SAMPLE_TYPE (TID | ADDR | CPU): 32 bytes. */
#define REC_SAMPLE_LEN 32

static inline size_t rec_header(uint8_t *p, uint32_t type, uint16_t size)
{
	struct perf_event_header h = { .type = type, .misc = PERF_RECORD_MISC_USER, .size = size };

	memcpy(p, &h, sizeof(h));
	return sizeof(h);
}

static inline size_t rec_sample(uint8_t *p, uint32_t pid, uint32_t tid, uint64_t addr, uint32_t cpu)
{
	uint32_t cpu_res[2] = { cpu, 0 }, ids[2] = { pid, tid };
	size_t o = rec_header(p, PERF_RECORD_SAMPLE, REC_SAMPLE_LEN);

	memcpy(p + o, ids, 8);
	memcpy(p + o + 8, &addr, 8);
	memcpy(p + o + 16, cpu_res, 8);
	return REC_SAMPLE_LEN;
}

static inline size_t rec_lost(uint8_t *p, uint64_t id, uint64_t lost)
{
	size_t o = rec_header(p, PERF_RECORD_LOST, 24);

	memcpy(p + o, &id, 8);
	memcpy(p + o + 8, &lost, 8);
	return 24;
}

static inline size_t rec_lost_samples(uint8_t *p, uint64_t lost)
{
	size_t o = rec_header(p, PERF_RECORD_LOST_SAMPLES, 16);

	memcpy(p + o, &lost, 8);
	return 16;
}

/* THROTTLE and other fixed 24-byte records (time, id, stream_id would follow in the kernel's). */
static inline size_t rec_other(uint8_t *p, uint32_t type, uint16_t size)
{
	memset(p, 0xa5, size);
	rec_header(p, type, size);
	return size;
}

/* Write @len bytes at free-running position @head of a ring of @size bytes (a power of two). */
static inline void ring_put(uint8_t *ring, uint64_t size, uint64_t head, const void *src, size_t len)
{
	uint64_t off = head & (size - 1);
	size_t first = size - off < len ? (size_t)(size - off) : len;

	memcpy(ring + off, src, first);
	memcpy(ring, (const uint8_t *)src + first, len - first);
}

#endif
