/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Which perf event the sampler counts, and why not when none is usable.
 *
 * With no pmu_event the architecture's memory-access events are tried in
 * order through libpfm4: x86 (Intel) MEM_INST_RETIRED.ALL_LOADS/ALL_STORES,
 * then MEM_UOPS_RETIRED.ALL_LOADS/ALL_STORES, both precise (PEBS: without
 * it the samples carry no data address), then AMD's IBS op PMU (sysfs
 * ibs_op); arm64 MEM_ACCESS_RD/WR; powerpc PM_MEM_READ/PM_MEM_RWITM.
 * pmu_event may name any libpfm4 event string or one of perf's page-fault
 * software events (page-faults, minor-faults, major-faults), which carry
 * the faulting address on every kernel and need no libpfm4.
 *
 * Each candidate is checked by opening it on the calling thread with the
 * real sampling attributes; precise_ip is tried from 3 downwards. A refusal
 * names the event and the reason: no PMU, perf_event_paranoid, no precise
 * sampling, no data address, or a build without libpfm4.
 */
#ifndef ETM_SCAN_PMU_EVENT_H
#define ETM_SCAN_PMU_EVENT_H

#include <linux/perf_event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Loads and stores at most. */
#define ETM_PMU_MAX_EVENTS 2

/* What the sampler asks of every event: the fields pmu_ring.h decodes. */
#define ETM_PMU_SAMPLE_TYPE (PERF_SAMPLE_TID | PERF_SAMPLE_ADDR | PERF_SAMPLE_CPU)

struct etm_pmu_event {
	char name[64];	    /* as configured or chosen */
	char encoding[256]; /* libpfm4's fully qualified event, or the software event's name */
	struct perf_event_attr attr;
	unsigned precise_min;	/* the lowest precise_ip whose samples carry a data address */
	bool software;		/* a page-fault software event */
	bool kernel_by_address; /* exclude_kernel was refused: kernel samples fall outside every VMA */
};

struct etm_pmu_events {
	struct etm_pmu_event ev[ETM_PMU_MAX_EVENTS];
	size_t n;
};

/* Was the scan library built with libpfm4 (cmake -DENABLE_PMU)? */
bool etm_pmu_have_libpfm(void);

/*
 * Turn @want (a pmu_event value) into events, without opening anything:
 * 0, -ENOENT (unknown event), -ENOTSUP (built without libpfm4, or an event
 * that carries no data address), with @why naming the event and the reason.
 */
int etm_pmu_events_resolve(const char *want, struct etm_pmu_events *out, char *why, size_t len);

/*
 * Check that @e can sample with @period on this kernel (opening each event
 * on the calling thread, precise_ip from 3 down to the event's minimum) and
 * fix the attributes that work. 0, or -errno with @why.
 */
int etm_pmu_events_check(struct etm_pmu_events *e, uint64_t period, char *why, size_t len);

/*
 * resolve + check. @want NULL or "" = the architecture's default events, the
 * first candidate that works; the refusal then lists why each one failed.
 */
int etm_pmu_events_choose(const char *want, uint64_t period, struct etm_pmu_events *out, char *why, size_t len);

/* One line for `project show`: names, encodings, type/config, precise_ip. */
int etm_pmu_events_describe(const struct etm_pmu_events *e, char *buf, size_t len);

/* The full attributes for sampling one event with @period (shared by the check and the sampler). */
void etm_pmu_event_attr(const struct etm_pmu_event *ev, uint64_t period, struct perf_event_attr *out);

/* perf_event_open(2) (glibc has no wrapper). */
int etm_perf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd, unsigned long flags);

#endif
