/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * What the reclaims of one memory cgroup taught about its working set, and
 * how that shapes the next ones: memcg_lru's memory (issue 10).
 *
 * The kernel's LRU grades a page by one accessed bit over the time since
 * reclaim last looked at it. A server that packs several small hot items
 * to a page reads each page less often than a short window lasts (four
 * values read every ~27 s each: a page every ~7 s), so every cycle takes
 * part of its working set, and the server faults it straight back from
 * swap, in its request path. memory.stat's workingset_refault_anon counts
 * those refaults. Three rules on top of the LRU:
 *
 * 1. The floor. After a reclaim, the bytes that come back are working set
 *    that reclaim cut into. Once they reach 1/ETM_LEARN_HIT_DIV of what it
 *    swapped (a hit: the cold part was not what it took), the memcg is not
 *    reclaimed below its usage right after that reclaim plus everything
 *    refaulted since, and each later refault raises it by its size. The
 *    floor only rises on such evidence: growth by refaults is protected,
 *    other growth (new memory, which may go cold) is not.
 * 2. The back-off. A cycle that finds nothing to take (what is left is
 *    below the floor, or less than ETM_MEMCG_MIN_RECLAIM inactive), or
 *    whose reclaim swaps less than that, skips the next 2, 4, .. 2^
 *    ETM_LEARN_LEVEL_MAX cycles, which only read memory.stat and the usage:
 *    no aging, no reclaim. So the hot set is looked at less often, not more
 *    often, than loop and interval ask, and the next reclaim's referenced
 *    check spans the longer window. The usage growing past the larger of
 *    where it backed off and the floor, by 1/ETM_LEARN_WAKE_DIV of that (at
 *    least ETM_MEMCG_MIN_RECLAIM), wakes it; the reclaim after a wake takes
 *    at most that growth (a small step, not a fresh start's full amount).
 * 3. The decay. A working set can shrink, and a floor kept for ever would
 *    hold its memory. Over observed time in which the refaults stay at
 *    ETM_LEARN_QUIET_PAGES per reading or fewer, the floor decays, with a
 *    half-life of ETM_LEARN_HALF_LIFE_S at first. A working set that did
 *    not shrink then costs one small probe now and then: once the floor has
 *    decayed past the usage by the wake margin (rule 2's, so that the
 *    usage's own wander never sets one off) and ETM_MEMCG_MIN_RECLAIM more,
 *    a reclaim of about ETM_MEMCG_MIN_RECLAIM below the old floor, faulted back by the
 *    workload in its request path (a few hundred major faults on the
 *    server bench) and learnt again. Each such hit doubles the half-life,
 *    up to ETM_LEARN_HALF_LIFE_MAX_S, so a working set that keeps proving
 *    itself is probed ever more rarely (for a 64 MiB floor: after about
 *    11 min, then 22, 44, 88 .. min); a probe that stays out (no hit by the
 *    next reclaim: the working set did shrink) brings the half-life back
 *    to ETM_LEARN_HALF_LIFE_S (a probe: a reclaim after the pass that no
 *    growth woke; taking new memory that stays out says nothing of the
 *    working set), and a working set that shrank is given
 *    back within a few half-lives. Time in which the memcg is not observed
 *    (the task stopped) does not count.
 * 4. The first pass. Before anything is learnt, one reclaim would take the
 *    whole cold amount at once, and with it the working set: a memcg's
 *    first reclaim finds every page's accessed bit set (nothing cleared it
 *    yet), so it clears them all in one pass over the inactive list and
 *    then takes pages whose bits were cleared only that pass's duration
 *    earlier (a fraction of a second here, not slide's window), and the
 *    oldest pages, at the tail it takes first, are often the hot ones a
 *    server loaded first (bench/README.md). So a fresh memcg is reclaimed
 *    in steps, at most the pace per cycle: the first step
 *    usage/ETM_LEARN_PACE_DIV (between ETM_LEARN_PACE_MIN and
 *    ETM_MEMCG_STEP), which mostly clears the bits. After each step the
 *    next waits (cycles skipped) until the step's refaults have settled:
 *    a reading that brings back at most ETM_LEARN_QUIET_PAGES, or at most
 *    1/ETM_LEARN_SETTLE_DIV of the step per second, or
 *    ETM_LEARN_SETTLE_MAX_S after it. Waiting is what saves the working
 *    set: every page the workload touches meanwhile is activated, not
 *    taken, by the next step's check. Each step also waits at least as
 *    long as the first one's refaults took to settle (how long the working
 *    set takes to be touched, as measured; at most ETM_LEARN_SETTLE_MAX_S /
 *    2): a step that drains the inactive list makes the kernel deactivate
 *    the active one, clearing its accessed bits, and those pages need that
 *    long before the next check means anything. For the same reason no
 *    step goes below the kernel's active anon at its largest in the pass
 *    (etm_memcg_floor()), and once a step has drained the inactive list so
 *    far that the kernel deactivated the active one (active anon below
 *    half its largest), the pass is over: the idle part is out, and what
 *    is resident is the working set. A step whose refaults stayed below
 *    1/ETM_LEARN_PACE_QUIET_DIV of it doubles the pace; one whose refaults
 *    reach 1/ETM_LEARN_HIT_DIV keeps it, and learns nothing yet (its
 *    refaults are the working set the LRU put first, not a floor: usage
 *    after it is still mostly idle memory), unless the pace has already
 *    grown (the steps got past what the LRU put first and reached the
 *    working set at the end): that is rule 1's hit and ends the pass. The
 *    pass also ends when a cycle finds nothing more to take; the working
 *    set is then what is resident, the floor (a hit: later refaults raise
 *    it, rule 3 lets it decay). A kernel without workingset_refault_anon
 *    (before 5.9) gives nothing to pace by: no first pass there.
 *
 * The state is plain data, no pointers; its times are this etmemd's
 * monotonic clock. The daemon keeps it across task restarts, keyed by the
 * memcg (daemon/learnt.h). Every function here is pure: the readings and
 * the time are arguments.
 */
#ifndef ETM_SCAN_MEMCG_LEARN_H
#define ETM_SCAN_MEMCG_LEARN_H

#include <stdbool.h>
#include <stdint.h>

#define ETM_LEARN_HIT_DIV 4
#define ETM_LEARN_LEVEL_MAX 5
#define ETM_LEARN_WAKE_DIV 64
#define ETM_LEARN_QUIET_PAGES 16
/* Rule 3: the floor's first half-life (4 h), doubled by each hit up to a week. */
#define ETM_LEARN_HALF_LIFE_S 14400.0
#define ETM_LEARN_HALF_LIFE_MAX_S (7 * 24 * 3600.0)
/* The longest stretch between two readings that counts as observed (a stopped task is not observing). */
#define ETM_LEARN_OBSERVED_MAX_S 60.0
/* Rule 4: the first pass. */
#define ETM_LEARN_PACE_DIV 64
#define ETM_LEARN_PACE_MIN (4ULL << 20)
#define ETM_LEARN_PACE_QUIET_DIV 16
#define ETM_LEARN_SETTLE_DIV 64
#define ETM_LEARN_SETTLE_MAX_S 60.0

struct etm_memcg_learnt {
	uint64_t id; /* the memcg's identity (etm_memcg_id()); another one: start afresh */
	/* The last reading. */
	bool has_seen;
	double seen_s;	       /* when */
	uint64_t refault_seen; /* workingset_refault_anon (pages) */
	/* The last reclaim. */
	bool reclaimed;
	bool hit;	      /* its refaults reached 1/ETM_LEARN_HIT_DIV of what it swapped */
	uint64_t usage_after; /* the usage right after it */
	uint64_t swapped;     /* bytes it swapped */
	uint64_t back;	      /* bytes faulted back since it started */
	/* The working set learnt: no reclaim below this usage (bytes). */
	uint64_t floor;
	double half_life_s; /* rule 3's, now; 0: ETM_LEARN_HALF_LIFE_S */
	bool probe;	    /* the last reclaim came after the pass and no growth woke it */
	/* The back-off. */
	unsigned level;	     /* the current skip is 2^level cycles; 0: not backing off */
	unsigned skip;	     /* cycles still to skip */
	uint64_t idle_usage; /* the usage when it backed off */
	uint64_t wake_cap;   /* woken by growth: this cycle takes at most this much; 0: no cap */
	/* The first pass (rule 4). */
	bool passed;	     /* over (a fresh state starts in it) */
	bool settling;	     /* the last step's refaults are still coming: skip */
	bool grown;	     /* the pace has doubled at least once */
	uint64_t pace;	     /* at most this much per reclaim; 0: the first step's, from the usage */
	double step_s;	     /* when the last step was taken (the reading before it) */
	double ws_s;	     /* how long the first step's refaults took to settle; 0: not yet */
	uint64_t active_max; /* the largest active anon seen in the pass */
	/* Running totals, for the figures. */
	uint64_t refaulted_bytes; /* faulted back after a reclaim of ours */
	uint64_t skipped_cycles;
};

/* A fresh state for the memcg @id, in its first pass. */
void etm_memcg_learn_reset(struct etm_memcg_learnt *l, uint64_t id);

/* Rule 4: the first step of a pass over a memcg of @usage bytes, page aligned. */
uint64_t etm_memcg_learn_first_pace(uint64_t usage);

/* Rule 3: the floor's half-life now (seconds). */
double etm_memcg_learn_half_life(const struct etm_memcg_learnt *l);

/*
 * A reading at the start of a cycle, at monotonic time @now: the refaults
 * since the previous reading (@has_refault false: the kernel has no
 * counter, nothing can be learnt) feed the floor (rule 1), a quiet
 * interval decays it (rule 3); in the first pass they tell whether the
 * last step has settled and how the pace goes on (rule 4).
 */
void etm_memcg_learn_observe(struct etm_memcg_learnt *l, double now, bool has_refault, uint64_t refault_pages);

/*
 * Rule 4: the memcg's active anon (memory.stat) and @usage at the start of
 * a cycle: its largest, and whether the kernel deactivated it (the pass is
 * over).
 */
void etm_memcg_learn_lru(struct etm_memcg_learnt *l, uint64_t active_anon, uint64_t usage);

/* No reclaim below this usage: the floor, in the first pass also rule 4's. */
uint64_t etm_memcg_learn_min_usage(const struct etm_memcg_learnt *l);

/*
 * Is this cycle skipped (rule 2, or rule 4's wait)? @usage: the memcg's
 * usage now. Counts the skip; growth ends the back-off and sets the wake
 * cap.
 */
bool etm_memcg_learn_skip(struct etm_memcg_learnt *l, uint64_t usage);

/*
 * What to reclaim now of @amount (what the LRU holds cold,
 * etm_memcg_cold_amount()): at most down to the floor, at most a wake's
 * growth, in the first pass at most the pace; 0 when less than
 * ETM_MEMCG_MIN_RECLAIM is left.
 */
uint64_t etm_memcg_learn_amount(const struct etm_memcg_learnt *l, uint64_t usage, uint64_t amount);

/*
 * A cycle that took nothing: back off (rule 2). @usage: the usage now. In
 * the first pass, that ends it (rule 4): what is resident is the floor.
 */
void etm_memcg_learn_idle(struct etm_memcg_learnt *l, uint64_t usage);

/*
 * After a reclaim that swapped @swapped bytes: the usage and the refault
 * counter read right after it (refaults during the reclaim count for it).
 * A reclaim that swapped less than ETM_MEMCG_MIN_RECLAIM backs off, from
 * the usage before it (@usage_after + @swapped: what it took coming back is
 * no growth).
 */
void etm_memcg_learn_reclaimed(struct etm_memcg_learnt *l, uint64_t usage_after, bool has_refault,
			       uint64_t refault_pages, uint64_t swapped);

#endif
