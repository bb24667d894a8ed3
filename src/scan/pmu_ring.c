/* SPDX-License-Identifier: MulanPSL-2.0 */
/* perf ring-buffer records to samples (see pmu_ring.h). */
#include "scan/pmu_ring.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <string.h>

#ifndef PERF_RECORD_LOST_SAMPLES
#define PERF_RECORD_LOST_SAMPLES 13
#endif

/* The fixed-size sample fields, in the order the kernel writes them. */
static const uint64_t fixed_fields[] = { PERF_SAMPLE_IDENTIFIER, PERF_SAMPLE_IP,   PERF_SAMPLE_TID,
					 PERF_SAMPLE_TIME,	 PERF_SAMPLE_ADDR, PERF_SAMPLE_ID,
					 PERF_SAMPLE_STREAM_ID,	 PERF_SAMPLE_CPU,  PERF_SAMPLE_PERIOD };

int etm_perf_layout_init(uint64_t sample_type, struct etm_perf_layout *l)
{
	uint64_t known = 0;
	uint16_t off = 0;

	memset(l, 0, sizeof(*l));
	for (size_t i = 0; i < sizeof(fixed_fields) / sizeof(fixed_fields[0]); i++) {
		known |= fixed_fields[i];
		if (!(sample_type & fixed_fields[i]))
			continue;
		if (fixed_fields[i] == PERF_SAMPLE_TID)
			l->off_tid = off;
		else if (fixed_fields[i] == PERF_SAMPLE_ADDR)
			l->off_addr = off;
		else if (fixed_fields[i] == PERF_SAMPLE_CPU)
			l->off_cpu = off;
		off += 8;
	}
	if (sample_type & ~known)
		return -EINVAL;
	if (!(sample_type & PERF_SAMPLE_TID) || !(sample_type & PERF_SAMPLE_ADDR) || !(sample_type & PERF_SAMPLE_CPU))
		return -EINVAL;
	l->body = off;
	return 0;
}

/* Copy @len bytes at ring position @pos, wrapping at @size (a power of two). */
static void ring_copy(void *dst, const uint8_t *data, uint64_t size, uint64_t pos, size_t len)
{
	uint64_t off = pos & (size - 1);
	size_t first = size - off < len ? (size_t)(size - off) : len;

	memcpy(dst, data + off, first);
	if (first < len)
		memcpy((uint8_t *)dst + first, data, len - first);
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t get_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

struct batch {
	const struct etm_perf_reader *rd;
	struct etm_perf_sample s[ETM_PERF_BATCH];
	size_t n;
};

static void batch_flush(struct batch *b)
{
	if (b->n && b->rd->samples)
		b->rd->samples(b->rd->arg, b->s, b->n);
	b->n = 0;
}

/* Hand the whole record to the tap, reassembling it if it wraps. */
static void tap_record(const struct etm_perf_reader *rd, const uint8_t *data, uint64_t size, uint64_t pos, size_t len)
{
	uint64_t off = pos & (size - 1);
	uint8_t bounce[65536]; /* header.size is 16 bits */

	if (off + len <= size) {
		rd->raw(rd->raw_arg, data + off, len);
		return;
	}
	ring_copy(bounce, data, size, pos, len);
	rd->raw(rd->raw_arg, bounce, len);
}

/* Decode one well-formed record of @len bytes at @pos. */
static void decode(struct batch *b, const uint8_t *data, uint64_t size, uint64_t pos, const struct perf_event_header *h,
		   struct etm_perf_ring_stats *st)
{
	const struct etm_perf_layout *l = b->rd->layout;
	uint8_t body[96]; /* the longest fixed layout is 72 bytes; LOST is 16 */
	struct etm_perf_sample *s;

	switch (h->type) {
	case PERF_RECORD_SAMPLE:
		if (h->size < sizeof(*h) + l->body || l->body > sizeof(body)) {
			st->short_records++;
			return;
		}
		ring_copy(body, data, size, pos + sizeof(*h), l->body);
		s = &b->s[b->n];
		s->pid = get_u32(body + l->off_tid);
		s->tid = get_u32(body + l->off_tid + 4);
		s->addr = get_u64(body + l->off_addr);
		s->cpu = get_u32(body + l->off_cpu);
		st->samples++;
		if (++b->n == ETM_PERF_BATCH)
			batch_flush(b);
		return;
	case PERF_RECORD_LOST:
		/* u64 id; u64 lost */
		if (h->size < sizeof(*h) + 16) {
			st->short_records++;
			return;
		}
		ring_copy(body, data, size, pos + sizeof(*h), 16);
		st->lost += get_u64(body + 8);
		st->lost_records++;
		return;
	case PERF_RECORD_LOST_SAMPLES:
		/* u64 lost */
		if (h->size < sizeof(*h) + 8) {
			st->short_records++;
			return;
		}
		ring_copy(body, data, size, pos + sizeof(*h), 8);
		st->lost += get_u64(body);
		st->lost_records++;
		return;
	case PERF_RECORD_THROTTLE:
		st->throttled++;
		return;
	default:
		st->other++;
		return;
	}
}

uint64_t etm_perf_ring_read(const uint8_t *data, uint64_t size, uint64_t tail, uint64_t head,
			    const struct etm_perf_reader *rd, struct etm_perf_ring_stats *st)
{
	struct batch b = { .rd = rd };
	uint64_t pos = tail;

	if (size < 8 || (size & (size - 1)) || head == tail)
		return head;
	if (head - tail > size) {
		/* The head ran past our tail: the bytes in between are not records we can delimit. */
		st->corrupt++;
		st->corrupt_bytes += head - tail;
		st->bytes += head - tail;
		return head;
	}
	while (pos != head) {
		struct perf_event_header h;
		uint64_t avail = head - pos;

		if (avail < sizeof(h))
			goto corrupt;
		ring_copy(&h, data, size, pos, sizeof(h));
		if (h.size < sizeof(h) || (h.size & 7) || h.size > avail)
			goto corrupt;
		st->records++;
		decode(&b, data, size, pos, &h, st);
		if (rd->raw)
			tap_record(rd, data, size, pos, h.size);
		pos += h.size;
	}
	batch_flush(&b);
	st->bytes += head - tail;
	return head;
corrupt:
	batch_flush(&b);
	st->corrupt++;
	st->corrupt_bytes += head - pos;
	st->bytes += head - tail;
	return head;
}

void etm_perf_ring_stats_add(struct etm_perf_ring_stats *a, const struct etm_perf_ring_stats *b)
{
	a->records += b->records;
	a->samples += b->samples;
	a->lost += b->lost;
	a->lost_records += b->lost_records;
	a->throttled += b->throttled;
	a->other += b->other;
	a->short_records += b->short_records;
	a->corrupt += b->corrupt;
	a->corrupt_bytes += b->corrupt_bytes;
	a->bytes += b->bytes;
}
