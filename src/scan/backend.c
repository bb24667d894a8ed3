/* SPDX-License-Identifier: MulanPSL-2.0 */
/* The table of backends and the choices among them: see backend.h. */
#include "scan/backend.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"

#define ROW(n, kind, ops) [ETM_BACKEND_ID_##n - 1] = { .name = #n, .kind = &ops },
const struct etm_backend etm_backends[] = { ETM_BACKENDS(ROW) };
#undef ROW

const size_t etm_nbackends = sizeof(etm_backends) / sizeof(etm_backends[0]);

const struct etm_backend *etm_backend_by_id(int id)
{
	return id >= 1 && (size_t)id <= etm_nbackends ? &etm_backends[id - 1] : NULL;
}

const struct etm_backend *etm_backend_find(const char *name)
{
	for (size_t i = 0; i < etm_nbackends; i++)
		if (!strcmp(etm_backends[i].name, name))
			return &etm_backends[i];
	return NULL;
}

int etm_backend_probe(const struct etm_backend *b, char *why, size_t len)
{
	return b->tracker ? b->tracker->probe(why, len) : b->reclaimer->probe(why, len);
}

int etm_backend_names(char *buf, size_t len, const char *sep, const char *last)
{
	int n = snprintf(buf, len, "%s", ETM_BACKEND_AUTO);

	for (size_t i = 0; i < etm_nbackends; i++)
		n += snprintf(buf + ((size_t)n < len ? (size_t)n : len), (size_t)n < len ? len - (size_t)n : 0, "%s%s",
			      i + 1 < etm_nbackends ? sep : last, etm_backends[i].name);
	return n;
}

/* Does @fit take @b (NULL takes every backend)? @why says why not. */
static bool fits(const struct etm_backend *b, etm_backend_fit_fn fit, void *arg, char *why, size_t len)
{
	return !fit || fit(b, arg, why, len);
}

static int choose_named(const char *want, etm_backend_fit_fn fit, void *arg, const struct etm_backend **out, char *why,
			size_t len)
{
	const struct etm_backend *b = etm_backend_find(want);
	char one[256];
	int err;

	if (!b) {
		char names[160];

		etm_backend_names(names, sizeof(names), ", ", ", ");
		snprintf(why, len, "unknown access tracker '%s' (%s)", want, names);
		return -EINVAL;
	}
	if (!fits(b, fit, arg, one, sizeof(one))) {
		snprintf(why, len, "access tracker %s cannot be used here: %s", b->name, one);
		return -EINVAL;
	}
	if ((err = etm_backend_probe(b, one, sizeof(one)))) {
		snprintf(why, len, "access tracker %s unavailable: %s", b->name, one);
		return err;
	}
	*out = b;
	return 0;
}

int etm_backend_choose_fit(const char *want, etm_backend_fit_fn fit, void *arg, const struct etm_backend **out,
			   char *why, size_t len)
{
	char one[256];
	size_t used = 0;

	if (want && strcmp(want, ETM_BACKEND_AUTO))
		return choose_named(want, fit, arg, out, why, len);
	if (len)
		why[0] = '\0';
	for (size_t i = 0; i < etm_nbackends; i++) {
		const struct etm_backend *b = &etm_backends[i];

		if (b->tracker && b->tracker->keyed)
			continue;
		if (fits(b, fit, arg, one, sizeof(one)) && !etm_backend_probe(b, one, sizeof(one))) {
			*out = b;
			return 0;
		}
		etm_info("access tracker %s skipped: %s", b->name, one);
		if (used < len)
			used += (size_t)snprintf(why + used, len - used, "%s%s: %s",
						 i ? "; " : "no access tracker: ", b->name, one);
	}
	return -ENOTSUP;
}

int etm_backend_choose(const char *want, const struct etm_backend **out, char *why, size_t len)
{
	return etm_backend_choose_fit(want, NULL, NULL, out, why, len);
}

size_t etm_memcg_targets_merge(struct etm_memcg_target *t, size_t n)
{
	size_t nd = 0;

	for (size_t i = 0; i < n; i++) {
		size_t j;

		for (j = 0; j < nd && strcmp(t[j].path, t[i].path); j++)
			;
		if (j < nd) {
			t[j].swap = t[j].swap && t[i].swap;
			continue;
		}
		if (nd != i)
			t[nd] = t[i];
		nd++;
	}
	return nd;
}

const struct etm_action_ops *etm_action_choose_swap(void)
{
	char why[256];

	if (!etm_action_swap_pages.probe(why, sizeof(why)))
		return &etm_action_swap_pages;
	if (!etm_action_pageout.probe(why, sizeof(why)))
		return &etm_action_pageout;
	return NULL;
}
