/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Samples to per-page counts for a set of processes: the part of the PMU
 * sampler that needs no perf file descriptor, so that recorded or forged
 * sample streams (tests, fuzzing, the replay benchmark) go through exactly
 * the code the reader threads run.
 *
 * Each target process has a VMA index with its counts (pmu_pages.h). A
 * sample is matched to its process by pid, then to its page; samples of
 * other processes, without a data address or outside every indexed range
 * are counted and dropped. Every @cooling_interval counted samples, all
 * counts are halved.
 *
 * Locking: one rwlock. etm_pmu_counter_samples() (the reader threads) and
 * the read-only calls take it shared; changing the targets, rebuilding an
 * index and cooling take it exclusive, between two batches of samples.
 */
#ifndef ETM_SCAN_PMU_COUNTER_H
#define ETM_SCAN_PMU_COUNTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "scan/pagestate.h"
#include "scan/pmu_pages.h"
#include "scan/pmu_ring.h"
#include "scan/procfs.h"

struct etm_pmu_counter;

struct etm_pmu_count_stats {
	uint64_t counted;  /* samples that raised a page's count */
	uint64_t unmapped; /* samples of a target outside its indexed ranges */
	uint64_t foreign;  /* samples of a pid that is not a target */
	uint64_t no_addr;  /* samples without a data address */
	uint64_t coolings; /* halvings of all counts */
	uint64_t rebuilds; /* index rebuilds (etm_pmu_counter_set on a known pid) */
	uint64_t targets;
	uint64_t pages; /* indexed pages, all targets */
	uint64_t bytes; /* memory the counts take, all targets */
};

/*
 * @cooling_interval: counted samples between two halvings, 0 = only
 * etm_pmu_counter_cool(). @weight: what one sample adds to its page's
 * count, 1..255.
 */
int etm_pmu_counter_new(uint64_t cooling_interval, unsigned weight, struct etm_pmu_counter **out);
void etm_pmu_counter_free(struct etm_pmu_counter *c);

/*
 * Index @pid over the @n ranges @r; a known pid keeps the counts of the
 * pages its old and new index share. 0, -EINVAL, -ENOMEM.
 */
int etm_pmu_counter_set(struct etm_pmu_counter *c, pid_t pid, const struct etm_pmu_range *r, size_t n);
void etm_pmu_counter_remove(struct etm_pmu_counter *c, pid_t pid);

/* A batch of decoded samples (the signature of etm_perf_reader.samples; @arg is the counter). */
void etm_pmu_counter_samples(void *arg, const struct etm_perf_sample *s, size_t n);

void etm_pmu_counter_cool(struct etm_pmu_counter *c);

/*
 * Fold @pid's counts into @ps as @how says (pmu_pages.h; @pagemap_fd its
 * pagemap or -1). -ESRCH when @pid is not a target.
 */
int etm_pmu_counter_fold(struct etm_pmu_counter *c, pid_t pid, struct etm_pagestate *ps, int pagemap_fd,
			 enum etm_pmu_fold how);

/* A page's count, -1 outside the index, -ESRCH (negative) for an unknown pid. */
int etm_pmu_counter_count(struct etm_pmu_counter *c, pid_t pid, uint64_t addr);
/* Pages of @pid with a count above 0, or 0 for an unknown pid. */
uint64_t etm_pmu_counter_sampled(struct etm_pmu_counter *c, pid_t pid);

/*
 * Has @pid's index gone stale? More than 1/8 of its samples since the last
 * set fell outside it (and at least 64): the process mapped new memory.
 */
bool etm_pmu_counter_stale(struct etm_pmu_counter *c, pid_t pid);

void etm_pmu_counter_stats(struct etm_pmu_counter *c, struct etm_pmu_count_stats *st);

#endif
