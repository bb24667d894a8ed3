/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * What the access_tracker key names: one table of every per-page tracker
 * (tracker.h) and kernel-graded reclaimer (reclaimer.h), in the auto order,
 * with the choice among them; and the choice of the swap-out action
 * (action.h). The configuration's check of the key and every message that
 * lists the names use this table.
 *
 * The table names the PMU tracker, which lives in library etmemd_pmu (it
 * may link libpfm4): backend.c is therefore built into its own static
 * library, etmemd_backend, which the daemon links, and not into
 * libetmemd_scan.so (whose six functions pick their tracker themselves).
 */
#ifndef ETM_SCAN_BACKEND_H
#define ETM_SCAN_BACKEND_H

#include <stddef.h>

#include "scan/action.h"
#include "scan/reclaimer.h"
#include "scan/tracker.h"

/* The access_tracker value that picks the first available backend. */
#define ETM_BACKEND_AUTO "auto"

/*
 * The one list of backends, in the auto order: most precise and cheapest
 * first. A row is X(name, kind, ops): kind is tracker or reclaimer, ops its
 * vtable. etm_backends[] is built from it, and so are the access_tracker
 * key's values (an X-macro, so that a constant table of the configuration
 * can use it too).
 */
#define ETM_BACKENDS(X)                                                                                                \
	X(idle_pages, tracker, etm_tracker_idle_pages)                                                                 \
	X(page_idle, tracker, etm_tracker_page_idle)                                                                   \
	X(damon_vaddr, tracker, etm_tracker_damon_vaddr)                                                               \
	X(damon_paddr, reclaimer, etm_reclaimer_damon_paddr)                                                           \
	/* last: coarser (whole-memcg, T = 1) but needs only a memory controller */                                    \
	X(memcg_lru, reclaimer, etm_reclaimer_memcg_lru)                                                               \
	/* never chosen by auto: the PMU keys choose it (keyed, daemon/task_tracker.h) */                              \
	X(pmu, tracker, etm_tracker_pmu)

/* Each backend's number: 0 is auto, then 1 + its index in etm_backends[]. */
#define ETM_BACKEND_ID_ROW(name, kind, ops) ETM_BACKEND_ID_##name,
enum etm_backend_id {
	ETM_BACKEND_ID_AUTO = 0,
	ETM_BACKENDS(ETM_BACKEND_ID_ROW) ETM_BACKEND_ID_END,
};

struct etm_backend {
	const char *name;			   /* as the access_tracker key spells it */
	const struct etm_tracker_ops *tracker;	   /* a per-page tracker, or */
	const struct etm_reclaimer_ops *reclaimer; /* a kernel-graded reclaimer */
};

/* Every backend in the auto order (ETM_BACKENDS). */
extern const struct etm_backend etm_backends[];
extern const size_t etm_nbackends;
/* A backend by number (enum etm_backend_id); NULL for auto or out of range. */
const struct etm_backend *etm_backend_by_id(int id);

/* A backend by name ("auto" is none), or NULL. */
const struct etm_backend *etm_backend_find(const char *name);
/* Its tracker's or reclaimer's probe. */
int etm_backend_probe(const struct etm_backend *b, char *why, size_t len);

/*
 * Pick a backend: @want is "auto" (or NULL) for the first available in the
 * auto order (keyed trackers left out), or one of their names. On failure @why says what the kernel
 * lacks (for auto: for each one); with auto, every skipped backend is
 * logged at info level. -ENOTSUP when unavailable, -EINVAL for an unknown
 * name.
 */
int etm_backend_choose(const char *want, const struct etm_backend **out, char *why, size_t len);

/*
 * May an engine use @b? true, or false with @why (size @len) saying why
 * not (cslide: per-page trackers only, and one that sees hugetlb pages
 * for vm_flags=ht).
 */
typedef bool (*etm_backend_fit_fn)(const struct etm_backend *b, void *arg, char *why, size_t len);
/*
 * etm_backend_choose() among the backends @fit accepts (NULL: all): auto
 * skips the others (saying why), a name @fit refuses is -EINVAL.
 */
int etm_backend_choose_fit(const char *want, etm_backend_fit_fn fit, void *arg, const struct etm_backend **out,
			   char *why, size_t len);

/*
 * The access_tracker key's values, "auto" first, separated by @sep and with
 * @last before the final one ("auto, idle_pages, ... or memcg_lru"). The
 * length it needed (as snprintf).
 */
int etm_backend_names(char *buf, size_t len, const char *sep, const char *last);

/* The swap-out action: swap_pages when present, else pageout (if process_madvise works); NULL: none. */
const struct etm_action_ops *etm_action_choose_swap(void);

#endif
