/* SPDX-License-Identifier: MulanPSL-2.0 */
/* Internals shared by pmu_sampler.c (rings, readers) and pmu_targets.c (processes). */
#ifndef ETM_SCAN_PMU_SAMPLER_PRIV_H
#define ETM_SCAN_PMU_SAMPLER_PRIV_H

#include <linux/perf_event.h>
#include <pthread.h>

#include "scan/pmu_sampler.h"

struct pmu_ring {
	int cpu;
	int fd; /* the anchor: a CPU-wide dummy event that owns the buffer */
	struct perf_event_mmap_page *mp;
	uint8_t *data;
	uint64_t size; /* data bytes, a power of two */
	size_t map_len;
	pthread_mutex_t mu; /* one drainer at a time: its reader or a flush */
	struct etm_perf_ring_stats st;
	uint64_t wakeups;
};

struct pmu_reader {
	struct etm_pmu_sampler *s;
	pthread_t th;
	bool started;
	int epfd, stopfd;
	size_t first, n; /* its rings */
};

struct pmu_thread {
	pid_t tid;
	int *fds; /* ncpu * nev, -1 = not open */
};

struct pmu_proc {
	pid_t pid;
	int pidfd;
	struct pmu_thread *th;
	size_t nth, cap;
	unsigned cycles; /* set_targets calls since its index was built (vma_update_rate) */
};

struct etm_pmu_sampler {
	struct etm_pmu_conf c;
	char *vma_name; /* c.vma_name, owned */
	/* c.filter's copy (c.filter points here when set) */
	struct etm_vma_filter filter;
	char *filter_name;
	char **vmflags;
	struct etm_pmu_events ev;
	struct etm_perf_layout layout;
	bool inherit_thread;
	int *cpus;
	size_t ncpu;
	struct pmu_ring *rings;
	struct pmu_reader *readers;
	size_t nreaders;
	struct etm_pmu_counter *counter;
	pthread_mutex_t mu; /* the control calls, and procs */
	struct pmu_proc *procs;
	size_t nprocs, cap;
};

/* Drain one ring into the counter (pmu_sampler.c). */
void pmu_ring_drain(struct etm_pmu_sampler *s, struct pmu_ring *r);
/* Release every process (pmu_targets.c), for etm_pmu_sampler_free(). */
void pmu_procs_release_all(struct etm_pmu_sampler *s);

#endif
