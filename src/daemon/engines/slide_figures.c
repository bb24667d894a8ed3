/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * slide's figures of one task (daemon/figures.h): per-page figures of the
 * last cycle for either path, then the task's totals.
 */
#include <errno.h>
#include <glib.h>
#include <inttypes.h>

#include "daemon/figures.h"
#include "daemon/heatmap.h"
#include "slide_rt.h"

/* The tracker path's page figures: graded here, so both hot and cold are counted. */
static void tracker_figures(const struct slide_rt *rt, struct etm_figures *figs)
{
	etm_fig_u64(figs, "hot_pages", ETM_FIG_GAUGE, "hot", rt->hot);
	etm_fig_u64(figs, "cold_pages", ETM_FIG_GAUGE, "cold", rt->cold);
	/* What the refaults taught (scan/page_learn.h): hot pages the windows alone would have sent out. */
	etm_fig_u64(figs, "held_hot_pages", ETM_FIG_GAUGE, "held hot (came back after a swap-out)", rt->held);
	etm_fig_u64(figs, "came_back_pages", ETM_FIG_COUNTER, "pages back after a swap-out", rt->came_back_pages);
	etm_task_tracker_figures(&rt->trk, figs); /* the pmu sampler's */
}

/* memcg_lru's memory (scan/memcg_learn.h): the working set its refaults taught, and its back-off. */
static void learning_figures(const struct slide_rt *rt, struct etm_figures *figs)
{
	etm_fig_u64(figs, "learnt_working_set_bytes", ETM_FIG_GAUGE, "working set learnt from refaults",
		    rt->mstats.bytes_learnt);
	etm_fig_u64(figs, "refaulted_bytes", ETM_FIG_COUNTER, "bytes back after reclaim", rt->mstats.bytes_refaulted);
	etm_fig_u64(figs, "backing_off_memcgs", ETM_FIG_GAUGE, "memory cgroups backing off", rt->mstats.memcgs_idle);
	etm_fig_u64(figs, "first_pass_memcgs", ETM_FIG_GAUGE, "memory cgroups in their first pass (paced)",
		    rt->mstats.memcgs_first);
	etm_fig_u64(figs, "skipped_cycles", ETM_FIG_COUNTER, "cycles skipped (backing off)", rt->mstats.cycles_skipped);
	etm_fig_double(figs, "floor_half_life_seconds", ETM_FIG_GAUGE, "learnt floor's half-life (longest)",
		       rt->mstats.half_life_max_s);
}

/*
 * The reclaimer path's: the kernel graded. Hot is the anon its LRU kept
 * resident (after the cycle's reclaim), cold what the cycle graded cold:
 * pages the reclaim deactivated still count as hot until one goes.
 */
static void reclaimer_figures(const struct slide_rt *rt, struct etm_figures *figs)
{
	if (rt->mstats.hot_known)
		etm_fig_note(etm_fig_u64(figs, "hot_pages", ETM_FIG_GAUGE, "hot", rt->hot),
			     "(resident anon the LRU kept)");
	else
		etm_fig_unknown(figs, "hot_pages", ETM_FIG_GAUGE, ETM_FIG_U64, "hot", NULL);
	etm_fig_u64(figs, "cold_pages", ETM_FIG_GAUGE, "cold", rt->cold);
	etm_fig_u64(figs, "cold_identified_bytes", ETM_FIG_COUNTER, "cold bytes identified (all cycles)",
		    rt->mstats.bytes_cold);
	if (rt->acc->reclaimer->windowed)
		etm_fig_double(figs, "last_reclaim_seconds", ETM_FIG_GAUGE, "last reclaim", rt->mstats.last_reclaim_s);
	if (rt->mstats.learning)
		learning_figures(rt, figs);
}

/* "backend + action": the tracker path's swap-out action, or the reclaim memcg_lru does itself. */
static void backend_figure(const struct slide_rt *rt, struct etm_figures *figs)
{
	const char *with = rt->act						? rt->act->name
			   : rt->acc->reclaimer && rt->acc->reclaimer->windowed ? "memcg_reclaim"
										: NULL;
	g_autofree char *backend = g_strdup_printf("%s%s%s", rt->acc->name, with ? " + " : "", with ? with : "");

	etm_fig_text(figs, "backend", "backend", backend);
}

/* The keys of the errors figure (metric label kind), by enum slide_err_kind. */
static const char *const error_kinds[SLIDE_ERR_KINDS] = {
	[SLIDE_ERR_TARGET] = "target",	   [SLIDE_ERR_PROC] = "proc",	    [SLIDE_ERR_SCAN] = "scan",
	[SLIDE_ERR_SWAP_OUT] = "swap_out", [SLIDE_ERR_RECLAIM] = "reclaim", [SLIDE_ERR_MEMCG] = "memcg",
};

void slide_task_figures(struct engine *eng, struct task *tk, struct etm_figures *figs)
{
	struct slide_rt *rt = tk->timer_inst;
	uint64_t pids[FIGURE_PIDS_MAX];

	(void)eng;
	if (!rt)
		return;
	pthread_mutex_lock(&rt->lock);
	backend_figure(rt, figs);
	for (size_t i = 0; i < rt->fig_npids && i < FIGURE_PIDS_MAX; i++)
		pids[i] = (uint64_t)rt->fig_pids[i];
	etm_fig_list(figs, "processes", "pids", pids, MIN(rt->fig_npids, (size_t)FIGURE_PIDS_MAX), rt->fig_npids);
	etm_fig_u64(figs, "cycles", ETM_FIG_COUNTER, "cycles", rt->cycles);
	/* Per-page figures are the last cycle's, for every backend. */
	etm_fig_u64(figs, "scanned_pages", ETM_FIG_GAUGE, "pages scanned", rt->scanned);
	if (rt->acc->tracker)
		tracker_figures(rt, figs);
	else
		reclaimer_figures(rt, figs);
	etm_fig_u64(figs, "gated_processes", ETM_FIG_GAUGE, "processes gated", rt->gated);
	etm_fig_u64(figs, "swapped_out_bytes", ETM_FIG_COUNTER, "bytes swapped out", rt->swapped_bytes);
	if (rt->advised_bytes)
		etm_fig_u64(figs, "advised_bytes", ETM_FIG_COUNTER, "bytes advised", rt->advised_bytes);
	if (rt->cycles)
		etm_fig_double(figs, "last_cycle_seconds", ETM_FIG_GAUGE, "last cycle", rt->last_cycle_s);
	else
		etm_fig_unknown(figs, "last_cycle_seconds", ETM_FIG_GAUGE, ETM_FIG_DOUBLE, "last cycle", "none yet");
	etm_fig_map(figs, "errors", ETM_FIG_COUNTER, "errors", "kind", error_kinds, rt->errors, SLIDE_ERR_KINDS);
	/* Free text: shown and in JSON, but no metric label (the errors are counted by kind). */
	if (rt->last_error[0])
		etm_fig_no_metric(etm_fig_text(figs, "last_error", "last error", rt->last_error));
	pthread_mutex_unlock(&rt->lock);
}

/* etmem engine heatmap -t TASK: the task's heatmap ring (daemon/heatmap.h, docs/heatmap.md). */
static int slide_cmd_heatmap(struct engine *eng, struct task *tk, struct etm_report *out, GString *err)
{
	struct slide_rt *rt = tk->timer_inst;

	(void)eng;
	if (!rt) {
		g_string_printf(err, "task %s is not running", tk->name);
		return -EAGAIN;
	}
	return etm_heat_ring_report(rt->heat, out, err);
}

const struct etm_engine_cmd slide_cmds[] = {
	{ "heatmap", true, slide_cmd_heatmap },
	{ NULL, false, NULL },
};
