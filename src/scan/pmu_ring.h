/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Reader of perf_event ring buffers: pure functions over the bytes of a
 * ring's data area, so that every record the kernel (or an attacker with a
 * forged stream) can put there is unit-tested and fuzzed without a PMU.
 *
 * A ring's data area is a power-of-two number of bytes; the kernel appends
 * records at data_head and we consume from data_tail, both free-running
 * 64-bit byte counters taken modulo the size. A record may wrap around the
 * end of the area: it is reassembled in a bounce buffer.
 *
 * Only the record types the sampler asks for are decoded (PERF_RECORD_SAMPLE
 * with fixed-size fields, PERF_RECORD_LOST, PERF_RECORD_LOST_SAMPLES,
 * PERF_RECORD_THROTTLE/UNTHROTTLE); any other type is skipped by its size.
 * A header that cannot be trusted (size below 8, beyond the published data,
 * or a ring whose head runs ahead of the tail by more than its size) ends
 * the read: everything up to the head is dropped and counted as corrupt,
 * because no later boundary in that stretch can be trusted either.
 */
#ifndef ETM_SCAN_PMU_RING_H
#define ETM_SCAN_PMU_RING_H

#include <stddef.h>
#include <stdint.h>

/* One decoded sample: what the counter needs. */
struct etm_perf_sample {
	uint32_t pid, tid;
	uint32_t cpu;
	uint64_t addr; /* data address; 0 when the PMU gave none */
};

/*
 * Where the fields of a PERF_RECORD_SAMPLE body sit for one sample_type.
 * Only fixed-size u64 fields are supported (IDENTIFIER, IP, TID, TIME,
 * ADDR, ID, STREAM_ID, CPU, PERIOD); TID, ADDR and CPU are required.
 */
struct etm_perf_layout {
	uint16_t body; /* bytes of the fields after the 8-byte header */
	uint16_t off_tid, off_addr, off_cpu;
};

/* 0, or -EINVAL when @sample_type has a variable or unsupported field or lacks TID/ADDR/CPU. */
int etm_perf_layout_init(uint64_t sample_type, struct etm_perf_layout *l);

struct etm_perf_ring_stats {
	uint64_t records;	/* well-formed records read */
	uint64_t samples;	/* PERF_RECORD_SAMPLE decoded */
	uint64_t lost;		/* samples the kernel dropped (PERF_RECORD_LOST[_SAMPLES] sums) */
	uint64_t lost_records;	/* PERF_RECORD_LOST* records */
	uint64_t throttled;	/* PERF_RECORD_THROTTLE: the kernel slowed sampling down */
	uint64_t other;		/* records of other types, skipped */
	uint64_t short_records; /* sample/lost records too short for their layout, skipped */
	uint64_t corrupt;	/* untrusted stretches dropped (see above) */
	uint64_t corrupt_bytes;
	uint64_t bytes; /* bytes consumed, corrupt ones included */
};

/* Samples are handed over in batches of at most this many. */
#define ETM_PERF_BATCH 256

struct etm_perf_reader {
	const struct etm_perf_layout *layout;
	/* Called with up to ETM_PERF_BATCH decoded samples; may be NULL. */
	void (*samples)(void *arg, const struct etm_perf_sample *s, size_t n);
	/* Called with each well-formed record as the kernel wrote it (a tap for recording); may be NULL. */
	void (*raw)(void *raw_arg, const void *rec, size_t len);
	void *arg, *raw_arg;
};

/*
 * Read the records in [tail, head) of a ring whose data area @data has
 * @size bytes (a power of two, at least 8). Returns the new tail, always
 * @head: the caller publishes it as data_tail. Statistics are added to @st.
 */
uint64_t etm_perf_ring_read(const uint8_t *data, uint64_t size, uint64_t tail, uint64_t head,
			    const struct etm_perf_reader *rd, struct etm_perf_ring_stats *st);

/* @a += @b, field by field. */
void etm_perf_ring_stats_add(struct etm_perf_ring_stats *a, const struct etm_perf_ring_stats *b);

#endif
