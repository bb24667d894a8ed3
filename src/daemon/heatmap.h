/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The heatmap ring: a bounded history of one task's memory, region by
 * region, cycle by cycle, that `etmem engine heatmap` reads and the client
 * draws (docs/heatmap.md). The daemon keeps numbers only.
 *
 * Each cycle, the task's processes (at most ETM_HEAT_MAX_PROCS, in the
 * order the cycle met them) are cut into ETM_HEAT_REGIONS regions of equal
 * page counts over the memory the cycle looked at (concatenated in pid
 * order, gaps between mappings left out), and for each region the ring
 * keeps:
 *   - pages, and the address of its first page (and its process);
 *   - resident and swapped pages, sampled from /proc/PID/pagemap
 *     (ETM_HEAT_SAMPLES entries per process slice, so the cost is bounded);
 *   - accesses: the sum of the pages' access counts, for trackers that
 *     count per page (idle_pages, page_idle, damon_vaddr: mode "accesses",
 *     with the highest count a page can reach). A kernel-graded reclaimer
 *     (memcg_lru, damon_paddr) counts nothing per page: its rows are mode
 *     "residency", accesses 0, and a drawing shows what came back from swap
 *     between two cycles (refaults) as the hot part, and says so.
 *
 * Memory: ETM_HEAT_CYCLES rows of ETM_HEAT_REGIONS cells of 32 bytes
 * and a 32-byte header (64 x 3104 bytes = 194 KiB) per task, allocated at
 * its first cycle, checked at build time (heatmap.c); the
 * builder of a cycle holds at most ETM_HEAT_MAX_PROCS x ETM_HEAT_REGIONS
 * more cells (96 KiB) while the cycle runs.
 */
#ifndef ETM_HEATMAP_H
#define ETM_HEATMAP_H

#include <glib.h>
#include <stdint.h>
#include <sys/types.h>

#define ETM_HEAT_CYCLES 64
#define ETM_HEAT_REGIONS 96
#define ETM_HEAT_MAX_PROCS 32
#define ETM_HEAT_SAMPLES 32

enum etm_heat_mode {
	ETM_HEAT_ACCESSES,  /* per-page access counts */
	ETM_HEAT_RESIDENCY, /* resident and swapped only */
};

struct etm_heat_cell {
	uint64_t start; /* address of the region's first page */
	uint32_t pages, resident, swapped;
	uint32_t accesses; /* sum of the pages' access counts (saturating) */
	int32_t pid;
	uint32_t pad_;
};

struct etm_heat_ring;
struct etm_heat_cycle;
struct etm_pagestate;
struct etm_report;

struct etm_heat_ring *etm_heat_ring_new(void);
void etm_heat_ring_free(struct etm_heat_ring *r);

/* One cycle's figures as the processes are met (thread-safe: the workers add at once). */
struct etm_heat_cycle *etm_heat_cycle_new(void);
void etm_heat_cycle_free(struct etm_heat_cycle *c);
/* A process a per-page tracker scanned: its tracked pages with their counts. */
void etm_heat_cycle_add_pagestate(struct etm_heat_cycle *c, pid_t pid, const struct etm_pagestate *ps);
/* A process without per-page counts: its anonymous memory, residency only. */
void etm_heat_cycle_add_process(struct etm_heat_cycle *c, pid_t pid);

/*
 * The cycle into the ring as its newest row (the oldest goes when the ring
 * is full): @cycle its number, @max_count the highest access count a page
 * can reach (accesses mode), @backend the tracker's name. Frees @c.
 */
void etm_heat_ring_commit(struct etm_heat_ring *r, struct etm_heat_cycle *c, uint64_t cycle, enum etm_heat_mode mode,
			  unsigned max_count, const char *backend);

/*
 * The ring as a report (docs/heatmap.md): table heatmap_cycles (one row per
 * cycle kept) and table heatmap (one row per region and cycle). -EAGAIN
 * with @err set before the first cycle.
 */
int etm_heat_ring_report(struct etm_heat_ring *r, struct etm_report *out, GString *err);

#endif
