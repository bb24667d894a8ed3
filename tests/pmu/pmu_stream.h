/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Recorded perf sample streams (tests/pmu/streams/NAME.stream): the records
 * the sampler's rings delivered, in order, with what is needed to replay
 * them through the reader and the counter. Written by the host test
 * (test_host_pmu --record), read by the unit tests and the replay
 * benchmark. Format: text lines, then the raw records:
 *
 *   etmem-perf-stream 1
 *   sample_type 0x...          (ETM_PMU_SAMPLE_TYPE at recording time)
 *   pid N                      (the target)
 *   range 0xSTART 0xEND        (its indexed VMAs, one line each, ascending)
 *   buffer 0xADDR PAGES HOT    (etmem-workload's buffer, interleaved hot set)
 *   data BYTES
 *   <BYTES bytes of perf records>
 */
#ifndef ETM_TEST_PMU_STREAM_H
#define ETM_TEST_PMU_STREAM_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/pmu_pages.h"

#define PMU_STREAM_MAX_RANGES 4096

struct pmu_stream {
	uint64_t sample_type;
	int pid;
	struct etm_pmu_range range[PMU_STREAM_MAX_RANGES];
	size_t nrange;
	uint64_t buf_addr, buf_pages, buf_hot;
	uint8_t *data;
	size_t len;
};

static inline void pmu_stream_free(struct pmu_stream *st)
{
	free(st->data);
	free(st);
}

/* NULL on any malformed header. */
static inline struct pmu_stream *pmu_stream_load(const char *path)
{
	struct pmu_stream *st = calloc(1, sizeof(*st));
	FILE *f = fopen(path, "rb");
	char line[256];
	unsigned long long a, b, c;
	int ok = 0;

	if (!st || !f)
		goto out;
	if (!fgets(line, sizeof(line), f) || strcmp(line, "etmem-perf-stream 1\n"))
		goto out;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "sample_type %llx", &a) == 1) {
			st->sample_type = a;
		} else if (sscanf(line, "pid %llu", &a) == 1) {
			st->pid = (int)a;
		} else if (sscanf(line, "range %llx %llx", &a, &b) == 2 && st->nrange < PMU_STREAM_MAX_RANGES) {
			st->range[st->nrange++] = (struct etm_pmu_range){ .start = a, .end = b };
		} else if (sscanf(line, "buffer %llx %llu %llu", &a, &b, &c) == 3) {
			st->buf_addr = a;
			st->buf_pages = b;
			st->buf_hot = c;
		} else if (sscanf(line, "data %llu", &a) == 1 && a < (1ULL << 30)) {
			st->len = (size_t)a;
			st->data = malloc(st->len ? st->len : 1);
			ok = st->data && fread(st->data, 1, st->len, f) == st->len;
			break;
		} else {
			break;
		}
	}
out:
	if (f)
		fclose(f);
	if (!ok && st) {
		pmu_stream_free(st);
		st = NULL;
	}
	return st;
}

static inline int pmu_stream_save(const struct pmu_stream *st, const char *path)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (!f)
		return -1;
	fprintf(f, "etmem-perf-stream 1\nsample_type %#llx\npid %d\n", (unsigned long long)st->sample_type, st->pid);
	for (size_t i = 0; i < st->nrange; i++)
		fprintf(f, "range %#llx %#llx\n", (unsigned long long)st->range[i].start,
			(unsigned long long)st->range[i].end);
	fprintf(f, "buffer %#llx %llu %llu\ndata %zu\n", (unsigned long long)st->buf_addr,
		(unsigned long long)st->buf_pages, (unsigned long long)st->buf_hot, st->len);
	ok = fwrite(st->data, 1, st->len, f) == st->len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

#endif
