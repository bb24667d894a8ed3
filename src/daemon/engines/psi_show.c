/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * psi: what a task shows (psi_rt.h). project show's figures (daemon/figures.h):
 * the backend, the task's totals and, per cgroup, its pressure now and where
 * it came from, its rate, what was reclaimed, the floor and the term that
 * set it, and its state. The `pressure` engine command: the last cycles of
 * each cgroup as a table.
 */
#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "daemon/figures.h"
#include "psi_rt.h"

/* project show lists at most this many cgroups per task (its count says how many there are). */
#define PSI_SHOW_MAX 64

/* The figures of one cgroup, lock held. */
static void cg_figures(const struct psi_cg *cg, struct etm_figures *it)
{
	const struct psi_cg_last *l = &cg->last;

	etm_fig_text(it, "cgroup", "cgroup", cg->rel);
	if (!l->known) {
		etm_fig_unknown(it, "pressure", ETM_FIG_GAUGE, ETM_FIG_DOUBLE, "pressure", "not read yet");
	} else {
		etm_fig_double(it, "pressure", ETM_FIG_GAUGE, "pressure", l->r.pressure);
		etm_fig_text(it, "pressure_source", "pressure from", psi_source_name(l->src));
		etm_fig_u64(it, "usage_bytes", ETM_FIG_GAUGE, "usage", l->r.usage);
		etm_fig_text(it, "state", "state", psi_state_name(l->d.state));
		etm_fig_u64(it, "floor_bytes", ETM_FIG_GAUGE, "floor", l->d.floor.bytes);
		etm_fig_text(it, "floor_term", "floor set by", psi_floor_term_name(l->d.floor.by));
	}
	etm_fig_double(it, "reclaim_rate", ETM_FIG_GAUGE, "rate", cg->rate.rate);
	etm_fig_u64(it, "reclaimed_bytes", ETM_FIG_COUNTER, "bytes reclaimed", cg->reclaimed_total);
	etm_fig_u64(it, "last_reclaimed_bytes", ETM_FIG_GAUGE, "bytes reclaimed last cycle", cg->reclaimed_last);
	if (l->err)
		etm_fig_text(it, "error", "error", g_strerror(-l->err));
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
	if (rt->last_error[0])
		etm_fig_text(figs, "last_error", "last error", rt->last_error);
	cgs = psi_cgset_list(rt->set);
	/* the items field last: etm_fig_item() needs it to stay where it is */
	list = etm_fig_items(figs, "cgroups", "cgroups", (uint64_t)cgs->len + rt->dropped);
	for (guint i = 0; i < cgs->len && i < PSI_SHOW_MAX; i++)
		cg_figures(cgs->pdata[i], etm_fig_item(list));
	pthread_mutex_unlock(&rt->lock);
}

/* One cgroup's history as a table, oldest cycle first (lock held). */
static void cg_table(const struct psi_rt *rt, const struct psi_cg *cg, GString *out)
{
	g_string_append_printf(out, "task %s, cgroup %s (pressure from %s, target below %g), last %u cycles:\n",
			       rt->name, cg->rel, cg->last.known ? psi_source_name(cg->last.src) : "-",
			       rt->policy.pressure, cg->nhist);
	g_string_append_printf(out, "%8s %8s %14s %14s %7s  %s\n", "cycle", "pressure", "usage_bytes",
			       "reclaimed_bytes", "rate", "state");
	for (unsigned i = cg->nhist; i-- > 0;) {
		const struct psi_sample *s = psi_cg_sample(cg, i);

		g_string_append_printf(out, "%8" PRIu64 " %8.2f %14" PRIu64 " %14" PRIu64 " %7.3f  %s\n", s->cycle,
				       s->pressure, s->usage, s->reclaimed, s->rate, psi_state_name(s->state));
	}
}

static void task_tables(struct psi_rt *rt, GString *out)
{
	GPtrArray *cgs;

	pthread_mutex_lock(&rt->lock);
	cgs = psi_cgset_list(rt->set);
	if (!cgs->len)
		g_string_append_printf(out, "task %s: cg_dir %s matches no cgroup below %s\n", rt->name, rt->cg_dir,
				       rt->backend->mem.mnt);
	for (guint i = 0; i < cgs->len; i++)
		cg_table(rt, cgs->pdata[i], out);
	pthread_mutex_unlock(&rt->lock);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int psi_eng_cmd(struct engine *eng, struct task *tk, char *cmd, int fd)
{
	g_autoptr(GString) out = g_string_new(NULL);

	if (strcmp(cmd, "pressure")) {
		g_string_printf(out, "psi has one command, pressure (the last %d cycles of each cgroup), not %s\n",
				PSI_HIST_MAX, cmd);
		write_all(fd, out->str, out->len);
		return -EINVAL;
	}
	/* The project is held started (engine.h): every task's runtime stays while this runs. */
	for (struct task *t = tk ? tk : eng->tasks; t; t = tk ? NULL : t->next) {
		if (t->timer_inst)
			task_tables(t->timer_inst, out);
	}
	/* Written after the lock is let go: a slow client must not hold up the cycles. */
	return write_all(fd, out->str, out->len);
}
