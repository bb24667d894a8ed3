/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The PMU sampler: per-page access counts of a set of processes from perf
 * samples of memory accesses (or page faults), for the slide and cslide
 * engines (the tracker wrapper folds the counts into a page state).
 *
 * Layout:
 *  - one ring buffer per CPU, owned by a CPU-wide dummy event (the anchor);
 *    every event of a target thread on that CPU writes into it
 *    (PERF_EVENT_IOC_SET_OUTPUT), so each ring has one writer, its CPU;
 *  - events are opened per (thread, CPU, event), pid-bound, with inherit
 *    and inherit_thread: threads a target creates later are followed by
 *    the kernel, processes it forks are not (the runtime's target
 *    resolution adds them, and etm_pmu_sampler_set_targets() attaches
 *    them); on kernels without inherit_thread (before 5.13) new threads
 *    are picked up by re-resolution at each set_targets/fold;
 *  - ceil(CPUs / cpu_set_size) reader threads, each owning up to
 *    cpu_set_size rings, sleep in epoll_wait() without a timeout and are
 *    woken by the kernel when a ring is a quarter full (wakeup watermark):
 *    an idle target costs no CPU at all; fold() drains every ring first,
 *    so nothing below the watermark is missed;
 *  - the counts (pmu_counter.h): one byte per indexed page (a hugetlb
 *    VMA's pages are its huge pages), halved every cooling_interval
 *    counted samples, never reset.
 *
 * The control calls (attach, detach, set_targets, fold, cool, stats) may
 * come from any thread but are serialised; the readers run concurrently.
 */
#ifndef ETM_SCAN_PMU_SAMPLER_H
#define ETM_SCAN_PMU_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "scan/pagestate.h"
#include "scan/pmu_counter.h"
#include "scan/pmu_event.h"
#include "scan/pmu_ring.h"
#include "scan/procfs.h"

#define ETM_PMU_RING_PAGES_DEFAULT 64
#define ETM_PMU_RING_PAGES_MAX 4096
/* A fault sample's default weight: still counted after four halvings. */
#define ETM_PMU_FAULT_WEIGHT 16

struct etm_pmu_conf {
	const char *event;	/* pmu_event; NULL = the architecture's memory-access events */
	uint64_t sample_period; /* events per sample, >= 1 */
	unsigned cpu_set_size;	/* CPUs per reader thread, >= 1 (need not divide the CPU count) */
	/*
	 * Rebuild a target's VMA index every this many etm_pmu_sampler_set_targets()
	 * calls, the runtime's cycles (the spec: vma_updata_rate=5 updates every
	 * 5 * loop * sleep seconds); 0 = at every fold.
	 */
	unsigned vma_update_rate;
	uint64_t cooling_interval; /* counted samples between two halvings; 0 = only etm_pmu_sampler_cool() */
	unsigned ring_pages;	   /* data pages per CPU ring, a power of two; 0 = 64 */
	/*
	 * What one sample adds to its page's count, 1..255; 0 = the default:
	 * 1 for memory-access events, ETM_PMU_FAULT_WEIGHT for page-fault
	 * events. A fault is the only signal a page gives (it is silent while
	 * resident), so it must outlast a few coolings, or the page would look
	 * cold right after the next halving and go out again.
	 */
	unsigned sample_weight;
	/* What etm_pmu_sampler_fold() marks: each page's weight (slide) or its count (cslide). */
	enum etm_pmu_fold fold;
	/* Which VMAs are indexed: the tracker's choice (anon_only, the swap_flag name). */
	bool anon_only;
	const char *vma_name;
	/*
	 * Or the engine's own VMA filter (cslide: anon_only, vm_flags), which
	 * replaces the two above (copied). With VmFlags in it (vm_flags=ht) the
	 * index is read from /proc/PID/smaps, which gives each hugetlb VMA's
	 * page size: its samples count per huge page (pmu_pages.h). Without,
	 * /proc/PID/maps, whose VMAs are all indexed in 4 KiB pages.
	 */
	const struct etm_vma_filter *filter;
	/* Tests and benchmarks: */
	const int *cpus; /* the CPUs to sample; NULL = all online CPUs */
	size_t ncpus;
	/* The ranges to index for @pid (NULL = /proc/PID/maps or smaps through the filter); *r is free()d. */
	int (*ranges)(pid_t pid, void *arg, struct etm_pmu_range **r, size_t *n);
	void *ranges_arg;
	/* Every well-formed record as read (from reader threads, concurrently: must be thread-safe). */
	void (*tap)(void *arg, const void *rec, size_t len);
	void *tap_arg;
};

struct etm_pmu_stats {
	struct etm_perf_ring_stats ring; /* all rings: samples, lost, throttled, corrupt... */
	struct etm_pmu_count_stats count;
	uint64_t wakeups;    /* reader wake-ups by the kernel */
	uint64_t threads;    /* target threads with events open */
	uint64_t fds;	     /* perf events open for targets */
	double reader_cpu_s; /* CPU time the reader threads used */
	unsigned readers, cpus;
	bool inherit_thread; /* new threads followed by the kernel (else by re-resolution) */
};

struct etm_pmu_sampler;

/*
 * Choose and check the event (pmu_event.h), open the per-CPU rings and
 * start the readers. 0, or -errno with @why naming the event or the CPU
 * and the reason (the refusal at task start).
 */
int etm_pmu_sampler_new(const struct etm_pmu_conf *c, struct etm_pmu_sampler **out, char *why, size_t len);
/* Stop the readers, close every event, free everything. NULL is fine. */
void etm_pmu_sampler_free(struct etm_pmu_sampler *s);

const struct etm_pmu_events *etm_pmu_sampler_events(const struct etm_pmu_sampler *s);
/* The chosen encoding and set-up, one line (for `project show`). */
int etm_pmu_sampler_describe(const struct etm_pmu_sampler *s, char *buf, size_t len);

/*
 * Sample @pid: index its VMAs, open its threads' events. 0, -EEXIST,
 * -ESRCH (gone), or -errno with @why (not permitted, too many open files).
 */
int etm_pmu_sampler_attach(struct etm_pmu_sampler *s, pid_t pid, char *why, size_t len);
/* Close @pid's events and forget its counts. */
void etm_pmu_sampler_detach(struct etm_pmu_sampler *s, pid_t pid);
/*
 * Make the targets exactly @pids (the runtime's resolution, once per
 * cycle): processes that exited or left the set are released, new ones
 * attached, exited threads' events closed, and the VMA indexes that
 * vma_update_rate says are due rebuilt. A pid that cannot be attached is
 * skipped with its reason in @why; -errno of the last failure, or 0.
 */
int etm_pmu_sampler_set_targets(struct etm_pmu_sampler *s, const pid_t *pids, size_t n, char *why, size_t len);

/*
 * One pass of the tracker: drain every ring, rebuild @pid's VMA index when
 * vma_update_rate is 0 (or when it has gone stale), and fold its counts
 * into @ps (pmu_pages.h: every indexed page seen, with the bit length of
 * its count or, with fold = ETM_PMU_FOLD_COUNT, the count). -ESRCH when
 * @pid is not attached or has exited.
 */
int etm_pmu_sampler_fold(struct etm_pmu_sampler *s, pid_t pid, struct etm_pagestate *ps);

/* Read every ring now (fold does it). */
void etm_pmu_sampler_flush(struct etm_pmu_sampler *s);
/* Halve every count now. */
void etm_pmu_sampler_cool(struct etm_pmu_sampler *s);
/* One page's count (tests): -1 outside the index, negative errno for an unknown pid. */
int etm_pmu_sampler_count(struct etm_pmu_sampler *s, pid_t pid, uint64_t addr);
void etm_pmu_sampler_stats(struct etm_pmu_sampler *s, struct etm_pmu_stats *st);

/* The sampler of the pmu tracker's task context (tracker_pmu.c, tracker.h's task_new()); NULL for NULL. */
struct etm_pmu_sampler *etm_tracker_pmu_sampler(void *task);

/* "0-3,8,10-11" (sysfs cpulist) into @cpus (at most @max, ascending). 0, -EINVAL, -E2BIG. */
int etm_pmu_parse_cpulist(const char *s, int *cpus, size_t max, size_t *n);

#endif
