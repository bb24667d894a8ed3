/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * slide's figures of one task for `project show`: indented "key: value"
 * lines, per-page figures of the last cycle for either path.
 */
#include <glib.h>
#include <inttypes.h>

#include "slide_rt.h"

/* The tracker path's page figures: graded here, so both hot and cold are counted. */
static void tracker_figures(const struct slide_rt *rt, GString *out)
{
	g_string_append_printf(out, "    hot: %" PRIu64 "\n", rt->hot);
	g_string_append_printf(out, "    cold: %" PRIu64 "\n", rt->cold);
}

/* The reclaimer path's: the kernel graded; hot is what its LRU holds active, when it says. */
static void reclaimer_figures(const struct slide_rt *rt, GString *out)
{
	if (rt->mstats.hot_known)
		g_string_append_printf(out, "    hot: %" PRIu64 " (the LRU's active anon)\n", rt->hot);
	else
		g_string_append(out, "    hot: n/a\n");
	g_string_append_printf(out, "    cold: %" PRIu64 "\n", rt->cold);
	g_string_append_printf(out, "    cold bytes identified (all cycles): %" PRIu64 "\n", rt->mstats.bytes_cold);
	if (rt->acc->reclaimer->windowed)
		g_string_append_printf(out, "    last reclaim: %.3f s\n", rt->mstats.last_reclaim_s);
}

void slide_task_figures(struct engine *eng, struct task *tk, GString *out)
{
	struct slide_rt *rt = tk->timer_inst;
	const char *with;

	(void)eng;
	if (!rt)
		return;
	/* the tracker path's swap-out action, or the reclaim memcg_lru does itself */
	with = rt->act ? rt->act->name : rt->acc->reclaimer && rt->acc->reclaimer->windowed ? "memcg_reclaim" : NULL;
	pthread_mutex_lock(&rt->lock);
	g_string_append_printf(out, "    backend: %s%s%s\n", rt->acc->name, with ? " + " : "", with ? with : "");
	g_string_append_printf(out, "    pids: %zu", rt->fig_npids);
	for (size_t i = 0; i < rt->fig_npids && i < FIGURE_PIDS_MAX; i++)
		g_string_append_printf(out, "%s%d", i ? "," : " (", (int)rt->fig_pids[i]);
	g_string_append_printf(out, "%s\n", rt->fig_npids > FIGURE_PIDS_MAX ? ",...)" : rt->fig_npids ? ")" : "");
	g_string_append_printf(out, "    cycles: %" PRIu64 "\n", rt->cycles);
	/* Per-page figures are the last cycle's, for every backend. */
	g_string_append_printf(out, "    pages scanned: %" PRIu64 "\n", rt->scanned);
	if (rt->acc->tracker)
		tracker_figures(rt, out);
	else
		reclaimer_figures(rt, out);
	g_string_append_printf(out, "    processes gated: %" PRIu64 "\n", rt->gated);
	g_string_append_printf(out, "    bytes swapped out: %" PRIu64 "\n", rt->swapped_bytes);
	if (rt->advised_bytes)
		g_string_append_printf(out, "    bytes advised: %" PRIu64 "\n", rt->advised_bytes);
	if (rt->cycles)
		g_string_append_printf(out, "    last cycle: %.3f s\n", rt->last_cycle_s);
	else
		g_string_append(out, "    last cycle: none yet\n");
	if (rt->last_error[0])
		g_string_append_printf(out, "    last error: %s\n", rt->last_error);
	pthread_mutex_unlock(&rt->lock);
}
