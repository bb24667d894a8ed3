/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * psi engine: the policy, pure functions over one cgroup's readings.
 *
 * Each cycle, per cgroup:
 *   - pressure (max of some avg10, avg60) at or above the target: back off
 *     (reclaim nothing) and count towards lowering the cgroup's rate;
 *   - the same when the previous cycle's reclaim came back as workingset
 *     refaults (at least 1/PSI_REFAULT_SHARE of it within one interval): it
 *     took part of the working set, whose stalls the pressure averages show
 *     only seconds later (the kernel updates them every 2 s and smooths them
 *     over 10 s and 60 s);
 *   - the same when the kernel stopped the previous cycle's reclaim short
 *     (v1 limit cut refused with EBUSY, v2 memory.reclaim with EAGAIN): it
 *     found nothing it could take without taking what is in use;
 *   - else the floor is the largest of limit_min_bytes, limit_min_ratio of
 *     the cgroup's limit, memory.min, memory.low, the part of the usage
 *     the kernel cannot reclaim now and the working set learnt from
 *     refaults (below); the reclaim amount is
 *     (usage - floor) * rate * approach (below), capped by
 *     reclaim_max_bytes and rounded down to 4 KiB; at 0 the cgroup is at
 *     its floor;
 *   - after a reclaim that worked, count towards raising the rate.
 *
 * The learnt working set: when a reclaim came back as refaults, or the
 * kernel stopped it short, the usage then (the refaulted pages back in) is
 * what the cgroup needs; it becomes a floor term, so the next cycles stop
 * at it instead of taking the working set again each time the pressure has
 * settled (reclaim, stall, back off, reclaim: the pressure then sits above
 * the target every few cycles). It decays with a half-life of
 * PSI_LEARNT_HALF_LIFE_S, so a working set that shrinks is found again, and
 * a new refault raises it back at once. Refaults after a reclaim of a
 * cgroup whose active LRU lists were empty teach nothing (but still back
 * off): the kernel activates pages only when reclaim scans them, so it had
 * never sorted that cgroup's pages and the reclaim took hot and cold alike.
 *
 * The approach (psi_approach()): the stalls come from the one reclaim that
 * reaches into the working set, and they grow with how far it reaches. So
 * the step shrinks as the usage nears the working set: within half of it
 * above, the rate is scaled by the distance left over that half, down to
 * 1/PSI_APPROACH_MIN_DIV at and below it. Where the working set is is the
 * larger of the floor and the hot hint: the kernel's active LRU lists (the
 * pages reclaim found referenced more than once) at their largest, decaying
 * like the learnt working set; the largest, because the kernel deactivates
 * half of them once the inactive lists run short, long before the usage
 * reaches the working set. The hint is no floor: the cgroup is still
 * reclaimed below it, slowly, until refaults say where the working set is.
 * Near a learnt floor the steps fall to a few pages, so the decaying floor
 * is followed (and the working set probed again) a few hundred KiB at a
 * time instead of by a tenth of the distance.
 *
 * The rate is per cgroup, between reclaim_rate_min and reclaim_rate_max,
 * moved by the original etmem's gather counter: PSI_GATHER_UP good cycles
 * in a row raise it by PSI_RATE_STEP, PSI_GATHER_DOWN pressured cycles in a
 * row lower it by as much. Unlike the original, it is this rate (not the
 * task's starting one) that sizes the next reclaim (docs/compat.md).
 */
#ifndef ETM_PSI_POLICY_H
#define ETM_PSI_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#define PSI_PAGE 4096ULL
#define PSI_RATE_STEP 0.01
#define PSI_GATHER_UP 5
#define PSI_GATHER_DOWN 2
/* Refaults of at least 1/8 of the previous cycle's reclaim: it hit the working set. */
#define PSI_REFAULT_SHARE 8
/* ... and of at least this much: a few refaults are noise. */
#define PSI_REFAULT_MIN (256ULL << 10)
/* The learnt working set (and the hot hint) halves in this long (seconds of cycles). */
#define PSI_LEARNT_HALF_LIFE_S 600.0
/* The approach slows within 1/PSI_APPROACH_ZONE_DIV of the working set above it ... */
#define PSI_APPROACH_ZONE_DIV 2
/* ... down to 1/PSI_APPROACH_MIN_DIV of the rate. */
#define PSI_APPROACH_MIN_DIV 8
/*
 * A limit at or above this is no limit: v1 reports "unlimited" as
 * PAGE_COUNTER_MAX pages (2^63 - 4096 bytes on 4 KiB pages), v2 as "max".
 */
#define PSI_LIMIT_NONE (1ULL << 62)

/* A task's keys, as the policy uses them. */
struct psi_policy {
	double pressure;	    /* target: reclaim only below it (percent, some avg10/avg60) */
	double rate_init;	    /* a new cgroup's rate */
	double rate_min, rate_max;  /* the rate stays within these */
	uint64_t reclaim_max_bytes; /* at most this per cgroup and cycle */
	uint64_t limit_min_bytes;   /* never below this usage */
	double limit_min_ratio;	    /* ... nor below this fraction of the cgroup's limit */
	double learnt_decay;	    /* the learnt working set is multiplied by it each cycle (psi_learnt_decay()) */
};

/* What one cycle read of one cgroup (bytes, except pressure). */
struct psi_readings {
	double pressure;    /* psi_pressure_level() of its pressure source */
	uint64_t usage;	    /* memory.current / memory.usage_in_bytes */
	uint64_t limit;	    /* memory.max / memory.limit_in_bytes; >= PSI_LIMIT_NONE: none */
	uint64_t min, low;  /* v2 protections (0 where the kernel has none) */
	uint64_t file;	    /* file LRU pages: active_file + inactive_file */
	uint64_t anon;	    /* anon LRU pages (shmem included): they need swap to go */
	uint64_t active;    /* active_anon + active_file: pages reclaim found referenced more than once */
	uint64_t swap_room; /* swap the cgroup can still take: its own headroom, at most the system's free swap */
	uint64_t refaults;  /* workingset refaults (pages, anon + file), a running total */
	bool has_refaults;  /* memory.stat has them (Linux 4.15+; anon and file apart since 5.9) */
};

/* What the cgroup's previous cycle leaves to this one's decision. */
struct psi_prev {
	bool known;	   /* a previous cycle read the cgroup */
	uint64_t refaults; /* its refault count */
	bool has_refaults;
	uint64_t reclaimed; /* bytes its reclaim took (0: it did not reclaim) */
	bool stopped;	    /* the kernel stopped its reclaim short (EBUSY / EAGAIN) */
	uint64_t active;    /* its readings' active LRU bytes (0: the kernel had not sorted the cgroup yet) */
	uint64_t learnt_ws; /* the working set learnt from refaults so far (bytes; 0: none) */
	uint64_t hot_hint;  /* the largest active LRU so far, decayed (bytes) */
};

/* The terms of the floor, in the order that settles a tie. */
enum psi_floor_term {
	PSI_FLOOR_NONE, /* every term is 0 */
	PSI_FLOOR_LIMIT_MIN_BYTES,
	PSI_FLOOR_LIMIT_MIN_RATIO,
	PSI_FLOOR_MEMORY_MIN,
	PSI_FLOOR_MEMORY_LOW,
	PSI_FLOOR_UNRECLAIMABLE,
	PSI_FLOOR_WORKING_SET, /* learnt from refaults */
	PSI_FLOOR_NTERMS,
};

/* "limit_min_bytes", "limit_min_ratio", "memory.min", "memory.low", "unreclaimable", "working_set", "none". */
const char *psi_floor_term_name(enum psi_floor_term t);

struct psi_floor {
	uint64_t bytes;			 /* the largest term */
	enum psi_floor_term by;		 /* which term it is */
	uint64_t term[PSI_FLOOR_NTERMS]; /* each term's value ([PSI_FLOOR_NONE] is 0) */
};

void psi_floor_compute(const struct psi_policy *p, const struct psi_readings *r, struct psi_floor *out);

/*
 * (usage - floor) * rate, capped by @max_bytes (then *@capped is set), rounded
 * down to PSI_PAGE; 0 when usage <= floor.
 */
uint64_t psi_reclaim_amount(uint64_t usage, uint64_t floor, double rate, uint64_t max_bytes, bool *capped);

/*
 * The factor on the rate as @usage nears @near (where the working set is
 * thought to be; 0: nowhere): 1 from near + near/PSI_APPROACH_ZONE_DIV up,
 * the share of that zone still above near below it, at least
 * 1/PSI_APPROACH_MIN_DIV (also at and below near).
 */
double psi_approach(uint64_t usage, uint64_t near);

/* One cgroup's adaptive rate. */
struct psi_rate {
	double rate;
	int gather; /* > 0: good cycles in a row; < 0: pressured cycles in a row */
};

void psi_rate_init(const struct psi_policy *p, struct psi_rate *r);

enum psi_state {
	PSI_STATE_RECLAIMING,  /* below the target, above the floor */
	PSI_STATE_BACKING_OFF, /* at or above the pressure target */
	PSI_STATE_AT_FLOOR,    /* nothing left above the floor (or less than a page at this rate) */
};

/* "reclaiming", "backing off", "at floor". */
const char *psi_state_name(enum psi_state s);

struct psi_decision {
	enum psi_state state;
	struct psi_floor floor; /* computed in every state, for project show */
	double rate;		/* the cgroup's rate this cycle */
	uint64_t refault_bytes; /* workingset refaults since the previous cycle (0: unknown) */
	bool refaulting;	/* backing off because the previous reclaim refaulted */
	bool stopped;		/* backing off because the kernel stopped the previous reclaim short */
	uint64_t amount;	/* bytes to reclaim now (PSI_STATE_RECLAIMING only) */
	bool capped;		/* reclaim_max_bytes cut the amount */
	uint64_t learnt_ws;	/* the learnt working set after this cycle (for the next one's psi_prev) */
	uint64_t hot_hint;	/* the hot hint after this cycle (ditto) */
	uint64_t near;		/* where the approach slows towards: the larger of the floor and the hint */
	double approach;	/* psi_approach() of this cycle: the rate is scaled by it */
};

/* The per-cycle factor of a PSI_LEARNT_HALF_LIFE_S half-life at @interval_s seconds a cycle. */
double psi_learnt_decay(double interval_s);

/* Did the previous cycle's reclaim come back as refaults? The refaulted bytes into *@bytes (0: unknown). */
bool psi_refaulting(const struct psi_prev *prev, const struct psi_readings *r, uint64_t *bytes);

/* @prev may be NULL (the cgroup's first cycle). */
void psi_decide(const struct psi_policy *p, const struct psi_rate *rate, const struct psi_readings *r,
		const struct psi_prev *prev, struct psi_decision *d);

/* How a cycle ended for the rate. */
enum psi_outcome {
	PSI_OUTCOME_PRESSURED, /* backed off */
	PSI_OUTCOME_RECLAIMED, /* a reclaim was asked for and the kernel took it */
	PSI_OUTCOME_NONE,      /* at the floor, or the reclaim failed: the rate stays */
};

void psi_rate_update(const struct psi_policy *p, struct psi_rate *r, enum psi_outcome o);

#endif
