/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * What a per-page tracker's cycles taught about one process's pages: the
 * runs slide swapped out, and the pages that came back from them (issue 10).
 *
 * A tracker grades a page by its accesses within `loop` windows of `sleep`
 * seconds. A page touched less often than that (several small hot items
 * packed on it, each read now and then) looks idle in one window, goes out,
 * and is faulted straight back by its process. The tracker's own view sees
 * that: a page slide swapped out that is present again at the next cycle
 * came back. Such a page is held hot, whatever the windows say, for
 * ETM_PAGE_LEARN_HOLD_S after it was last seen coming back; then the
 * windows grade it again (if it goes out and comes back once more, it is
 * held again: a stable hot page costs one refault an hour).
 *
 * "Came back" is judged by /proc/PID/pagemap's present bit, not by the
 * tracker's marks (DAMON's regions cover pages that are not present): the
 * runs are recorded only for pages pagemap shows out right after the
 * swap-out (a page the action could not move is not "out"), and a run
 * counts only for a while (@recent_s: "straight back"), after which its
 * pages are forgotten.
 *
 * Bounded: at most ETM_PAGE_LEARN_RUNS runs of each kind per process
 * (runs of one swap-out past that are not recorded; the oldest held runs
 * make room for new ones).
 */
#ifndef ETM_SCAN_PAGE_LEARN_H
#define ETM_SCAN_PAGE_LEARN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "scan/pagestate.h"

#define ETM_PAGE_LEARN_RUNS 1024
#define ETM_PAGE_LEARN_HOLD_S 3600.0

struct etm_page_learnt;

/*
 * Presence of @n pages from @addr: @present[i] = 1 when page i is present
 * (in memory), else 0. 0 or -errno. etm_pagemap_present() reads pagemap.
 */
typedef int (*etm_present_fn)(void *arg, uint64_t addr, size_t n, uint8_t *present);

/* @fd: a pointer to the int of /proc/PID/pagemap opened with etm_pagemap_open() (scan/pagemap.h). */
int etm_pagemap_present(void *fd, uint64_t addr, size_t n, uint8_t *present);

/* A fresh state for the process @id (its start time: a reused pid is another process). */
struct etm_page_learnt *etm_page_learnt_new(uint64_t id);
void etm_page_learnt_free(struct etm_page_learnt *pl);
uint64_t etm_page_learnt_id(const struct etm_page_learnt *pl);
/* The bytes it takes (the store's bound counts them). */
size_t etm_page_learnt_bytes(const struct etm_page_learnt *pl);

struct etm_page_learn_stats {
	uint64_t came_back; /* pages found present again in the runs swapped out */
	uint64_t held;	    /* pages of @ps graded hot because they came back */
};

/*
 * Before grading @ps with @T at monotonic time @now: the recorded runs
 * younger than @recent_s are checked through @present (what came back is
 * held hot from now), expired runs are forgotten, and every seen page of
 * @ps inside a held run gets count @T (not cold). 0 or the -errno of
 * @present (what could not be checked stays recorded).
 */
int etm_page_learn_apply(struct etm_page_learnt *pl, struct etm_pagestate *ps, int T, double now, double recent_s,
			 etm_present_fn present, void *arg, struct etm_page_learn_stats *st);

/* The run [@start, @start + @len) was handed to the swap-out action (recorded by etm_page_learn_out()). */
int etm_page_learn_note(struct etm_page_learnt *pl, uint64_t start, uint64_t len);
/*
 * After the action flushed: of the noted runs, the pages @present shows
 * out are recorded as swapped out at @now; the notes are cleared. 0 or
 * -errno (nothing recorded).
 */
int etm_page_learn_out(struct etm_page_learnt *pl, double now, etm_present_fn present, void *arg);

#endif
