/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * What the access_tracker key names: one table of every per-page tracker
 * (tracker.h) and kernel-graded reclaimer (reclaimer.h), in the auto order,
 * with the choice among them; and the choice of the swap-out action
 * (action.h). The configuration's check of the key and every message that
 * lists the names use this table.
 */
#ifndef ETM_SCAN_BACKEND_H
#define ETM_SCAN_BACKEND_H

#include <stddef.h>

#include "scan/action.h"
#include "scan/reclaimer.h"
#include "scan/tracker.h"

/* The access_tracker value that picks the first available backend. */
#define ETM_BACKEND_AUTO "auto"

struct etm_backend {
	const char *name;			   /* as the access_tracker key spells it */
	const struct etm_tracker_ops *tracker;	   /* a per-page tracker, or */
	const struct etm_reclaimer_ops *reclaimer; /* a kernel-graded reclaimer */
};

/* Every backend in the auto order: most precise and cheapest first. */
extern const struct etm_backend etm_backends[];
extern const size_t etm_nbackends;

/* A backend by name ("auto" is none), or NULL. */
const struct etm_backend *etm_backend_find(const char *name);
/* Its tracker's or reclaimer's probe. */
int etm_backend_probe(const struct etm_backend *b, char *why, size_t len);

/*
 * Pick a backend: @want is "auto" (or NULL) for the first available in the
 * auto order, or one of their names. On failure @why says what the kernel
 * lacks (for auto: for each one); with auto, every skipped backend is
 * logged at info level. -ENOTSUP when unavailable, -EINVAL for an unknown
 * name.
 */
int etm_backend_choose(const char *want, const struct etm_backend **out, char *why, size_t len);

/*
 * The access_tracker key's values, "auto" first, separated by @sep and with
 * @last before the final one ("auto, idle_pages, ... or memcg_lru"). The
 * length it needed (as snprintf).
 */
int etm_backend_names(char *buf, size_t len, const char *sep, const char *last);

/* The swap-out action: swap_pages when present, else pageout (if process_madvise works); NULL: none. */
const struct etm_action_ops *etm_action_choose_swap(void);

#endif
