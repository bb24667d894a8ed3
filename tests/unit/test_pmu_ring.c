/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The perf ring reader: layouts, every record type it decodes, records that
 * wrap around the ring's end, hostile and truncated headers, batching, and
 * a stream recorded on this kernel replayed through a small wrapping ring
 * into the counter.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../pmu/perf_records.h"
#include "../pmu/pmu_stream.h"
#include "scan/pmu_counter.h"
#include "scan/pmu_event.h"
#include "scan/pmu_ring.h"

#define PG 4096ULL

struct got {
	struct etm_perf_sample s[4096];
	size_t n, calls, max_batch;
	uint8_t raw[65536];
	size_t raw_len, raw_records;
};

static void on_samples(void *arg, const struct etm_perf_sample *s, size_t n)
{
	struct got *g = arg;

	for (size_t i = 0; i < n && g->n < 4096; i++)
		g->s[g->n++] = s[i];
	g->calls++;
	if (n > g->max_batch)
		g->max_batch = n;
}

static void on_raw(void *arg, const void *rec, size_t len)
{
	struct got *g = arg;

	if (g->raw_len + len <= sizeof(g->raw))
		memcpy(g->raw + g->raw_len, rec, len);
	g->raw_len += len;
	g->raw_records++;
}

static struct etm_perf_layout layout(void)
{
	struct etm_perf_layout l;

	assert_int_equal(etm_perf_layout_init(ETM_PMU_SAMPLE_TYPE, &l), 0);
	return l;
}

static uint64_t read_ring(const uint8_t *ring, uint64_t size, uint64_t tail, uint64_t head, struct got *g,
			  struct etm_perf_ring_stats *st)
{
	struct etm_perf_layout l = layout();
	struct etm_perf_reader rd = { .layout = &l, .samples = on_samples, .raw = on_raw, .arg = g, .raw_arg = g };

	return etm_perf_ring_read(ring, size, tail, head, &rd, st);
}

static void test_layout(void **state)
{
	struct etm_perf_layout l;

	(void)state;
	assert_int_equal(etm_perf_layout_init(ETM_PMU_SAMPLE_TYPE, &l), 0);
	assert_int_equal(l.body, 24);
	assert_int_equal(l.off_tid, 0);
	assert_int_equal(l.off_addr, 8);
	assert_int_equal(l.off_cpu, 16);
	/* IP and TIME come before ADDR, PERIOD after CPU */
	assert_int_equal(etm_perf_layout_init(ETM_PMU_SAMPLE_TYPE | PERF_SAMPLE_IP | PERF_SAMPLE_TIME |
						  PERF_SAMPLE_PERIOD | PERF_SAMPLE_IDENTIFIER,
					      &l),
			 0);
	assert_int_equal(l.body, 56);
	assert_int_equal(l.off_tid, 16);
	assert_int_equal(l.off_addr, 32);
	assert_int_equal(l.off_cpu, 40);
	/* variable-size fields and missing required ones are refused */
	assert_int_equal(etm_perf_layout_init(ETM_PMU_SAMPLE_TYPE | PERF_SAMPLE_CALLCHAIN, &l), -EINVAL);
	assert_int_equal(etm_perf_layout_init(PERF_SAMPLE_TID | PERF_SAMPLE_CPU, &l), -EINVAL);
	assert_int_equal(etm_perf_layout_init(PERF_SAMPLE_ADDR | PERF_SAMPLE_CPU, &l), -EINVAL);
}

static void test_record_types(void **state)
{
	static uint8_t ring[4096];
	struct etm_perf_ring_stats st = { 0 };
	struct got *g = calloc(1, sizeof(*g));
	size_t o = 0;

	(void)state;
	o += rec_sample(ring + o, 10, 11, 0x1000, 0);
	o += rec_lost(ring + o, 7, 42);
	o += rec_other(ring + o, PERF_RECORD_THROTTLE, 24);
	o += rec_other(ring + o, PERF_RECORD_UNTHROTTLE, 24);
	o += rec_other(ring + o, PERF_RECORD_MMAP, 64); /* not decoded: skipped by its size */
	o += rec_lost_samples(ring + o, 3);
	o += rec_sample(ring + o, 10, 12, 0x2345, 1);
	assert_int_equal(read_ring(ring, sizeof(ring), 0, o, g, &st), o);
	assert_int_equal(g->n, 2);
	assert_int_equal(g->s[0].pid, 10);
	assert_int_equal(g->s[0].tid, 11);
	assert_int_equal(g->s[0].addr, 0x1000);
	assert_int_equal(g->s[1].tid, 12);
	assert_int_equal(g->s[1].addr, 0x2345);
	assert_int_equal(g->s[1].cpu, 1);
	assert_int_equal(st.records, 7);
	assert_int_equal(st.samples, 2);
	assert_int_equal(st.lost, 45);
	assert_int_equal(st.lost_records, 2);
	assert_int_equal(st.throttled, 1);
	assert_int_equal(st.other, 2);
	assert_int_equal(st.corrupt, 0);
	assert_int_equal(st.bytes, o);
	/* the tap saw every record exactly as written */
	assert_int_equal(g->raw_records, 7);
	assert_memory_equal(g->raw, ring, o);
	free(g);
}

/* A ring of 64 bytes: the second sample starts at 48 and wraps; the tap gets it whole. */
static void test_wrapped(void **state)
{
	uint8_t ring[64] = { 0 }, rec[REC_SAMPLE_LEN];
	struct etm_perf_ring_stats st = { 0 };
	struct got *g = calloc(1, sizeof(*g));
	uint64_t head = 48;

	(void)state;
	/* first a sample that sits in [16, 48) with tail at 16 */
	rec_sample(rec, 1, 1, 0xaaa000, 0);
	ring_put(ring, sizeof(ring), 16, rec, sizeof(rec));
	rec_sample(rec, 1, 2, 0xbbb000, 0);
	ring_put(ring, sizeof(ring), head, rec, sizeof(rec));
	head += sizeof(rec);
	/* free-running counters far past the size: only the offsets matter */
	assert_int_equal(read_ring(ring, sizeof(ring), 16 + (1ULL << 40), head + (1ULL << 40), g, &st),
			 head + (1ULL << 40));
	assert_int_equal(g->n, 2);
	assert_int_equal(g->s[1].addr, 0xbbb000);
	assert_int_equal(g->s[1].tid, 2);
	assert_int_equal(g->raw_records, 2);
	assert_memory_equal(g->raw + REC_SAMPLE_LEN, rec, sizeof(rec));
	assert_int_equal(st.corrupt, 0);
	free(g);
}

static void test_batches(void **state)
{
	static uint8_t ring[65536];
	struct etm_perf_ring_stats st = { 0 };
	struct got *g = calloc(1, sizeof(*g));
	size_t o = 0;

	(void)state;
	for (int i = 0; i < 1000; i++)
		o += rec_sample(ring + o, 5, 5, 0x100000 + (uint64_t)i * PG, 0);
	read_ring(ring, sizeof(ring), 0, o, g, &st);
	assert_int_equal(g->n, 1000);
	assert_int_equal(g->max_batch, ETM_PERF_BATCH);
	assert_int_equal(g->calls, (1000 + ETM_PERF_BATCH - 1) / ETM_PERF_BATCH);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(g->s[i].addr, 0x100000 + (uint64_t)i * PG);
	free(g);
}

/* Headers that cannot be trusted end the read; what came before them counts. */
static void test_hostile_headers(void **state)
{
	static const struct {
		uint16_t size;
		const char *what;
	} bad[] = { { 0, "size 0" }, { 4, "below a header" }, { 12, "not 8-aligned" }, { 4096, "beyond the head" } };
	static uint8_t ring[4096];
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct etm_perf_ring_stats st = { 0 };
		struct got *g = calloc(1, sizeof(*g));
		size_t o = 0;

		memset(ring, 0, sizeof(ring));
		o += rec_sample(ring + o, 1, 1, 0x5000, 0);
		o += rec_header(ring + o, PERF_RECORD_SAMPLE, bad[i].size);
		o += 24;
		rec_sample(ring + o, 1, 1, 0x6000, 0); /* after the bad header: never trusted */
		o += REC_SAMPLE_LEN;
		assert_int_equal(read_ring(ring, sizeof(ring), 0, o, g, &st), o);
		if (g->n != 1 || st.corrupt != 1 || st.corrupt_bytes != o - REC_SAMPLE_LEN)
			fail_msg("%s: %zu samples, %llu corrupt, %llu bytes", bad[i].what, g->n,
				 (unsigned long long)st.corrupt, (unsigned long long)st.corrupt_bytes);
		assert_int_equal(st.bytes, o);
		free(g);
	}
}

static void test_truncated(void **state)
{
	static uint8_t ring[4096];
	struct etm_perf_ring_stats st = { 0 };
	struct got *g = calloc(1, sizeof(*g));
	size_t o = 0;

	(void)state;
	/* a sample too short for the layout is skipped by its (valid) size; reading goes on */
	o += rec_header(ring + o, PERF_RECORD_SAMPLE, 16);
	o += 8;
	o += rec_header(ring + o, PERF_RECORD_LOST, 16); /* LOST without its counter */
	o += 8;
	o += rec_header(ring + o, PERF_RECORD_LOST_SAMPLES, 8);
	o += rec_sample(ring + o, 2, 2, 0x7000, 0);
	/* the head published mid-record: the last 8 bytes of a sample are missing */
	o += rec_sample(ring + o, 2, 2, 0x8000, 0) - 8;
	assert_int_equal(read_ring(ring, sizeof(ring), 0, o, g, &st), o);
	assert_int_equal(st.short_records, 3);
	assert_int_equal(g->n, 1);
	assert_int_equal(g->s[0].addr, 0x7000);
	assert_int_equal(st.corrupt, 1);
	assert_int_equal(st.corrupt_bytes, 24);
	assert_int_equal(st.lost, 0);
	/* fewer than 8 bytes left: not even a header */
	memset(&st, 0, sizeof(st));
	assert_int_equal(read_ring(ring, sizeof(ring), 0, 4, g, &st), 4);
	assert_int_equal(st.corrupt, 1);
	free(g);
}

static void test_head_overrun(void **state)
{
	static uint8_t ring[256];
	struct etm_perf_ring_stats st = { 0 };
	struct got *g = calloc(1, sizeof(*g));

	(void)state;
	/* more published than the ring holds: nothing in it can be delimited */
	assert_int_equal(read_ring(ring, sizeof(ring), 100, 100 + 257, g, &st), 357);
	assert_int_equal(st.corrupt, 1);
	assert_int_equal(g->n, 0);
	/* an empty read and a size that is not a power of two do nothing */
	memset(&st, 0, sizeof(st));
	assert_int_equal(read_ring(ring, sizeof(ring), 50, 50, g, &st), 50);
	assert_int_equal(read_ring(ring, 100, 0, 32, g, &st), 32);
	assert_int_equal(st.records + st.corrupt, 0);
	free(g);
}

#ifndef ETMEM_SOURCE_DIR
#define ETMEM_SOURCE_DIR "."
#endif

/*
 * The stream recorded by the host test (etmem-workload paged out, its hot
 * pages faulting back in) replayed through a 4 KiB ring as the kernel
 * would fill it, starting off-alignment so that records wrap, into the
 * counter with the ranges indexed at recording time.
 */
static void test_replay_recorded(void **state)
{
	struct pmu_stream *st = pmu_stream_load(ETMEM_SOURCE_DIR "/tests/pmu/streams/workload_64m_pagefaults.stream");
	struct etm_perf_layout l = layout();
	struct etm_perf_ring_stats rs = { 0 };
	struct etm_pmu_count_stats cs;
	struct etm_pmu_counter *c;
	static uint8_t ring[4096];
	uint64_t head = 8, tail = 8, hot = 0, idle = 0;
	struct etm_perf_reader rd = { .layout = &l, .samples = etm_pmu_counter_samples };

	(void)state;
	assert_non_null(st);
	assert_int_equal(st->sample_type, ETM_PMU_SAMPLE_TYPE);
	assert_int_equal(etm_pmu_counter_new(0, 16, &c), 0);
	assert_int_equal(etm_pmu_counter_set(c, st->pid, st->range, st->nrange), 0);
	rd.arg = c;
	for (size_t o = 0; o < st->len;) {
		struct perf_event_header h;

		memcpy(&h, st->data + o, sizeof(h));
		assert_true(h.size >= sizeof(h) && o + h.size <= st->len);
		if (head + h.size - tail > sizeof(ring))
			tail = etm_perf_ring_read(ring, sizeof(ring), tail, head, &rd, &rs);
		ring_put(ring, sizeof(ring), head, st->data + o, h.size);
		head += h.size;
		o += h.size;
	}
	etm_perf_ring_read(ring, sizeof(ring), tail, head, &rd, &rs);
	assert_int_equal(rs.corrupt, 0);
	assert_int_equal(rs.bytes, st->len);
	for (uint64_t i = 0; i < st->buf_pages; i++) {
		bool is_hot = (i + 1) * st->buf_hot / st->buf_pages > i * st->buf_hot / st->buf_pages;
		int v = etm_pmu_counter_count(c, st->pid, st->buf_addr + i * PG);

		hot += is_hot && v > 0;
		idle += !is_hot && v > 0;
	}
	etm_pmu_counter_stats(c, &cs);
	assert_int_equal(cs.counted + cs.unmapped + cs.foreign + cs.no_addr, rs.samples);
	assert_int_equal(cs.foreign, 0);
	assert_true(hot * 100 >= st->buf_hot * 95);
	assert_int_equal(idle, 0);
	etm_pmu_counter_free(c);
	pmu_stream_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),		cmocka_unit_test(test_record_types),
		cmocka_unit_test(test_wrapped),		cmocka_unit_test(test_batches),
		cmocka_unit_test(test_hostile_headers), cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_head_overrun),	cmocka_unit_test(test_replay_recorded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
