/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * psi: what a task shows (psi_rt.h). project show's figures (daemon/figures.h):
 * the backend, the task's totals and, per cgroup, its pressure now and where
 * it came from, its rate, what was reclaimed, the floor and the term that
 * set it, and its state. The `pressure` engine command: the last cycles of
 * each cgroup as a report (daemon/report.h), text or JSON.
 */
#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <string.h>

#include "daemon/figures.h"
#include "daemon/report.h"
#include "psi_rt.h"

/* project show lists at most this many cgroups per task (its count says how many there are). */
#define PSI_SHOW_MAX 64

/* The figures of one cgroup, lock held. */
static void cg_figures(const struct psi_cg *cg, struct etm_figures *it)
{
	const struct psi_cg_last *l = &cg->last;

	etm_fig_text(it, "cgroup", "cgroup", cg->rel);
	if (!l->known) {
		etm_fig_unknown(it, "pressure_percent", ETM_FIG_GAUGE, ETM_FIG_DOUBLE, "pressure", "not read yet");
	} else {
		etm_fig_double(it, "pressure_percent", ETM_FIG_GAUGE, "pressure", l->r.pressure);
		etm_fig_text(it, "pressure_source", "pressure from", psi_source_name(l->src));
		etm_fig_u64(it, "usage_bytes", ETM_FIG_GAUGE, "usage", l->r.usage);
		etm_fig_text(it, "state", "state", psi_state_name(l->d.state));
		etm_fig_u64(it, "floor_bytes", ETM_FIG_GAUGE, "floor", l->d.floor.bytes);
		etm_fig_text(it, "floor_term", "floor set by", psi_floor_term_name(l->d.floor.by));
		etm_fig_u64(it, "hot_hint_bytes", ETM_FIG_GAUGE, "hot hint (largest active LRU)", l->d.hot_hint);
		etm_fig_double(it, "approach", ETM_FIG_GAUGE, "approach (share of the rate)", l->d.approach);
	}
	etm_fig_double(it, "reclaim_rate", ETM_FIG_GAUGE, "rate", cg->rate.rate);
	etm_fig_u64(it, "reclaimed_bytes", ETM_FIG_COUNTER, "bytes reclaimed", cg->reclaimed_total);
	etm_fig_u64(it, "last_reclaimed_bytes", ETM_FIG_GAUGE, "bytes reclaimed last cycle", cg->reclaimed_last);
	if (l->err)
		etm_fig_no_metric(etm_fig_text(it, "error", "error", g_strerror(-l->err)));
}

void psi_task_figures(struct engine *eng, struct task *tk, struct etm_figures *figs)
{
	struct psi_rt *rt = tk->timer_inst;
	struct etm_figure *list;
	GPtrArray *cgs;

	(void)eng;
	if (!rt)
		return;
	pthread_mutex_lock(&rt->lock);
	etm_fig_text(figs, "backend", "backend", rt->backend_desc);
	etm_fig_u64(figs, "cycles", ETM_FIG_COUNTER, "cycles", rt->cycles);
	etm_fig_u64(figs, "reclaimed_bytes", ETM_FIG_COUNTER, "bytes reclaimed", rt->reclaimed_total);
	if (rt->cycles)
		etm_fig_double(figs, "last_cycle_seconds", ETM_FIG_GAUGE, "last cycle", rt->last_cycle_s);
	else
		etm_fig_unknown(figs, "last_cycle_seconds", ETM_FIG_GAUGE, ETM_FIG_DOUBLE, "last cycle", "none yet");
	/* Free text: shown and in JSON, but no metric label. */
	if (rt->last_error[0])
		etm_fig_no_metric(etm_fig_text(figs, "last_error", "last error", rt->last_error));
	cgs = psi_cgset_list(rt->set);
	/* the items field last: etm_fig_item() needs it to stay where it is */
	list = etm_fig_items(figs, "cgroups", "cgroups", (uint64_t)cgs->len + rt->dropped);
	for (guint i = 0; i < cgs->len && i < PSI_SHOW_MAX; i++)
		cg_figures(cgs->pdata[i], etm_fig_item(list));
	pthread_mutex_unlock(&rt->lock);
}

enum { C_TASK, C_CGROUP, C_CYCLE, C_PRESSURE, C_USAGE, C_RECLAIMED, C_RATE, C_STATE, C_SOURCE, C_N };
static const struct etm_col pressure_cols[C_N] = {
	[C_TASK] = { "task", "task", ETM_COL_TEXT, -8, 0, 0 },
	[C_CGROUP] = { "cgroup", "cgroup", ETM_COL_TEXT, -16, 0, 0 },
	[C_CYCLE] = { "cycle", "cycle", ETM_COL_U64, 6, 0, 0 },
	[C_PRESSURE] = { "pressure_percent", "pressure", ETM_COL_DOUBLE, 8, 0, 2 },
	[C_USAGE] = { "usage_bytes", "usage", ETM_COL_U64, 12, 0, 0 },
	[C_RECLAIMED] = { "reclaimed_bytes", "reclaimed", ETM_COL_U64, 12, 0, 0 },
	[C_RATE] = { "rate", "rate", ETM_COL_DOUBLE, 6, 0, 3 },
	[C_STATE] = { "state", "state", ETM_COL_TEXT, -11, 0, 0 },
	[C_SOURCE] = { "pressure_source", "pressure from", ETM_COL_TEXT, -1, 0, 0 },
};

/* One cgroup's history, oldest cycle first (lock held). */
static void cg_rows(const struct psi_rt *rt, const struct psi_cg *cg, struct etm_table *t)
{
	const char *src = cg->last.known ? psi_source_name(cg->last.src) : "-";

	for (unsigned i = cg->nhist; i-- > 0;) {
		const struct psi_sample *s = psi_cg_sample(cg, i);

		etm_table_row(t);
		etm_table_text(t, C_TASK, rt->name);
		etm_table_text(t, C_CGROUP, cg->rel);
		etm_table_u64(t, C_CYCLE, s->cycle);
		etm_table_double(t, C_PRESSURE, s->pressure);
		etm_table_u64(t, C_USAGE, s->usage);
		etm_table_u64(t, C_RECLAIMED, s->reclaimed);
		etm_table_double(t, C_RATE, s->rate);
		etm_table_text(t, C_STATE, psi_state_name(s->state));
		etm_table_text(t, C_SOURCE, src);
	}
}

/* One task's cgroups (lock taken here, never across the rendering). */
static void task_rows(struct psi_rt *rt, struct etm_report *out, struct etm_table *t)
{
	GPtrArray *cgs;

	pthread_mutex_lock(&rt->lock);
	cgs = psi_cgset_list(rt->set);
	etm_report_note(out, "task %s: cg_dir %s below %s, %u cgroups, target pressure below %g, %" PRIu64 " cycles",
			rt->name, rt->cg_dir, rt->backend->mem.mnt, cgs->len, rt->policy.pressure, rt->cycles);
	for (guint i = 0; i < cgs->len; i++)
		cg_rows(rt, cgs->pdata[i], t);
	pthread_mutex_unlock(&rt->lock);
}

/* etmem engine pressure [-t TASK]: the last PSI_HIST_MAX cycles of each cgroup of the task (or of every task). */
static int psi_cmd_pressure(struct engine *eng, struct task *tk, struct etm_report *out, GString *err)
{
	struct etm_table *t = etm_report_table(
	    out, "pressure", "psi: the last cycles of each cgroup (pressure: some avg10/avg60, %):", pressure_cols,
	    C_N);
	bool any = false;

	/* The project is held started (engine.h): every task's runtime stays while this runs. */
	for (struct task *k = tk ? tk : eng->tasks; k; k = tk ? NULL : k->next) {
		if (k->timer_inst) {
			task_rows(k->timer_inst, out, t);
			any = true;
		}
	}
	if (!any) {
		g_string_printf(err, "no psi task of this engine is running");
		return -EAGAIN;
	}
	return 0;
}

const struct etm_engine_cmd psi_cmds[] = {
	{ "pressure", false, psi_cmd_pressure },
	{ NULL, false, NULL },
};
