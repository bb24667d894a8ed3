/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * What cslide tells: each task's figures for project show (daemon/figures.h)
 * and the private commands showhostpages and showtaskpages (the original's
 * tables, cslide_show.h). Both read what the engine thread published after
 * its last cycle, under the runtime's lock.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cslide_rt.h"
#include "daemon/figures.h"
#include "daemon/report.h"

#define PAGE_BYTES 4096u

void cslide_figs_clear(struct cslide_task_figs *f)
{
	g_free(f->hot_by_node);
	g_free(f->cold_by_node);
	for (size_t i = 0; i < f->nshow; i++)
		g_free(f->show[i].nodes);
	g_free(f->show);
	f->hot_by_node = f->cold_by_node = NULL;
	f->show = NULL;
	f->nshow = f->nnodes = 0;
}

/* ------------------------------------------------- publishing (engine thread) */

/* Bytes per node of @pg[0..n) into @nodes (one per node with memory), hot and cold. */
static void sum_nodes(const struct cslide_rt *rt, const struct cslide_page *pg, size_t n,
		      struct cslide_show_node *nodes)
{
	for (size_t i = 0; i < rt->topo->n; i++)
		nodes[i] = (struct cslide_show_node){ .node = rt->topo->node[i].id };
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < rt->topo->n; k++) {
			if (nodes[k].node != pg[i].node)
				continue;
			/* whole 4 KiB pages: KB are exact */
			*(pg[i].count >= rt->hot_threshold ? &nodes[k].hot_kb : &nodes[k].cold_kb) +=
			    cslide_page_bytes(&pg[i]) / 1024;
			break;
		}
	}
}

/* Per process: where its units are now. */
static struct cslide_pid_show *pid_shows(struct cslide_task *ct, size_t *n)
{
	const struct cslide_page *pg = (const struct cslide_page *)(void *)ct->pages->data;
	GArray *a = g_array_new(FALSE, FALSE, sizeof(struct cslide_pid_show));

	for (struct task_pid *tp = ct->tk->pids; tp; tp = tp->next) {
		const struct cslide_pid *cp = tp->params;
		struct cslide_pid_show s = { .pid = cp->pid, .n = ct->rt->topo->n };

		if (cp->failed && !cp->n)
			continue;
		s.nodes = g_new(struct cslide_show_node, s.n);
		sum_nodes(ct->rt, pg + cp->first, cp->n, s.nodes);
		g_array_append_val(a, s);
	}
	*n = a->len;
	return (struct cslide_pid_show *)(void *)g_array_free(a, FALSE);
}

void cslide_figs_publish(struct cslide_task *ct, time_t now, double secs)
{
	struct cslide_rt *rt = ct->rt;
	const struct cslide_page *pg = (const struct cslide_page *)(void *)ct->pages->data;
	struct cslide_task_figs old = { 0 }, *f = &ct->figs;
	size_t nn = (size_t)rt->topo->max_id + 1, nshow;
	uint64_t *hot = g_new0(uint64_t, nn), *cold = g_new0(uint64_t, nn);
	struct cslide_pid_show *show = pid_shows(ct, &nshow);

	for (guint i = 0; i < ct->pages->len; i++)
		if (pg[i].node >= 0 && (size_t)pg[i].node < nn)
			(pg[i].count >= rt->hot_threshold ? hot : cold)[pg[i].node] += cslide_page_bytes(&pg[i]);
	pthread_mutex_lock(&rt->lock);
	old = (struct cslide_task_figs){
		.hot_by_node = f->hot_by_node, .cold_by_node = f->cold_by_node, .show = f->show, .nshow = f->nshow
	};
	f->hot_by_node = hot;
	f->cold_by_node = cold;
	f->nnodes = nn;
	f->show = show;
	f->nshow = nshow;
	f->stamp = now;
	f->cycles++;
	f->units = ct->pages->len;
	f->last_promoted_bytes = ct->cyc_promoted;
	f->last_demoted_bytes = ct->cyc_demoted;
	f->max_cycle_moved_bytes = MAX(f->max_cycle_moved_bytes, ct->cyc_promoted + ct->cyc_demoted);
	f->promoted_bytes += ct->cyc_promoted;
	f->demoted_bytes += ct->cyc_demoted;
	f->capped_bytes += ct->cyc_capped;
	for (int r = 0; r < ETM_ACTION_FAIL_NR; r++)
		f->failed_bytes[r] += ct->cyc_failed[r];
	f->last_cycle_s = secs;
	pthread_mutex_unlock(&rt->lock);
	cslide_figs_clear(&old);
}

void cslide_host_publish(struct cslide_rt *rt, GPtrArray *cycle, time_t now)
{
	struct cslide_show_node *host = g_new0(struct cslide_show_node, rt->topo->n), *old;
	bool all_huge = true;

	(void)cycle;
	pthread_mutex_lock(&rt->lock);
	for (guint t = 0; t < rt->tasks->len; t++)
		all_huge &= ((struct cslide_task *)g_ptr_array_index(rt->tasks, t))->hugetlb;
	for (size_t i = 0; i < rt->topo->n; i++) {
		const struct etm_numa_node *nd = &rt->topo->node[i];

		host[i].node = nd->id;
		/* The memory of the kind cslide places: the 2 MiB pool (the original's), or all of it. */
		host[i].total_kb = (all_huge ? nd->huge_total[0] : nd->mem_total) / 1024;
		for (guint t = 0; t < rt->tasks->len; t++) {
			const struct cslide_task_figs *f =
			    &((struct cslide_task *)g_ptr_array_index(rt->tasks, t))->figs;

			if ((size_t)nd->id < f->nnodes) {
				host[i].hot_kb += f->hot_by_node[nd->id] / 1024;
				host[i].cold_kb += f->cold_by_node[nd->id] / 1024;
			}
		}
	}
	old = rt->host;
	rt->host = host;
	rt->nhost = rt->topo->n;
	rt->stamp = now;
	pthread_mutex_unlock(&rt->lock);
	g_free(old);
}

/* ------------------------------------------------------------ project show */

static const char *const failed_names[ETM_ACTION_FAIL_NR] = {
	"migrate_failed_busy_bytes",   "migrate_failed_nomem_bytes", "migrate_failed_gone_bytes",
	"migrate_failed_exited_bytes", "migrate_failed_other_bytes",
};
static const char *const failed_labels[ETM_ACTION_FAIL_NR] = {
	"bytes not moved: busy (pinned, under I/O)",
	"bytes not moved: no room on the node",
	"bytes not moved: unmapped since the scan",
	"bytes not moved: process exited",
	"bytes not moved: other errors",
};

static void moves_figures(const struct cslide_task_figs *f, struct etm_figures *figs)
{
	etm_fig_u64(figs, "promoted_pages", ETM_FIG_COUNTER, "pages promoted (4 KiB)", f->promoted_bytes / PAGE_BYTES);
	etm_fig_u64(figs, "demoted_pages", ETM_FIG_COUNTER, "pages demoted (4 KiB)", f->demoted_bytes / PAGE_BYTES);
	etm_fig_u64(figs, "last_promoted_pages", ETM_FIG_GAUGE, "pages promoted last cycle (4 KiB)",
		    f->last_promoted_bytes / PAGE_BYTES);
	etm_fig_u64(figs, "last_demoted_pages", ETM_FIG_GAUGE, "pages demoted last cycle (4 KiB)",
		    f->last_demoted_bytes / PAGE_BYTES);
	etm_fig_u64(figs, "promoted_bytes", ETM_FIG_COUNTER, "bytes promoted", f->promoted_bytes);
	etm_fig_u64(figs, "demoted_bytes", ETM_FIG_COUNTER, "bytes demoted", f->demoted_bytes);
	etm_fig_u64(figs, "max_cycle_moved_bytes", ETM_FIG_GAUGE, "most bytes moved in one cycle",
		    f->max_cycle_moved_bytes);
	for (int r = 0; r < ETM_ACTION_FAIL_NR; r++)
		etm_fig_u64(figs, failed_names[r], ETM_FIG_COUNTER, failed_labels[r], f->failed_bytes[r]);
	if (f->capped_bytes)
		etm_fig_u64(figs, "quota_capped_bytes", ETM_FIG_COUNTER, "bytes left for the quota cap",
			    f->capped_bytes);
}

void cslide_task_figures(struct engine *eng, struct task *tk, struct etm_figures *figs)
{
	struct cslide_task *ct = tk->timer_inst;
	const struct cslide_task_figs *f;
	uint64_t pids[CSLIDE_FIGURE_PIDS_MAX];
	g_autofree char *backend = NULL;

	(void)eng;
	if (!ct)
		return;
	f = &ct->figs;
	backend = g_strdup_printf("%s + %s", ct->acc->name, etm_action_move_pages.name);
	pthread_mutex_lock(&ct->rt->lock);
	etm_fig_text(figs, "backend", "backend", backend);
	etm_fig_text(figs, "node_pairs", "node pairs (fast->slow)", ct->rt->pairs_text);
	for (size_t i = 0; i < f->npids && i < CSLIDE_FIGURE_PIDS_MAX; i++)
		pids[i] = (uint64_t)f->pids[i];
	etm_fig_list(figs, "processes", "pids", pids, MIN(f->npids, (size_t)CSLIDE_FIGURE_PIDS_MAX), f->npids);
	etm_fig_u64(figs, "cycles", ETM_FIG_COUNTER, "cycles", f->cycles);
	etm_fig_u64(figs, "placed_units", ETM_FIG_GAUGE, "units placed (pages, THPs, hugetlb pages)", f->units);
	etm_fig_note(etm_fig_list(figs, "hot_bytes_by_node", "hot bytes by node", f->hot_by_node, f->nnodes, f->nnodes),
		     "(node count, then node 0, 1, ...)");
	etm_fig_note(
	    etm_fig_list(figs, "cold_bytes_by_node", "cold bytes by node", f->cold_by_node, f->nnodes, f->nnodes),
	    "(node count, then node 0, 1, ...)");
	moves_figures(f, figs);
	if (f->cycles)
		etm_fig_double(figs, "last_cycle_seconds", ETM_FIG_GAUGE, "last cycle", f->last_cycle_s);
	else
		etm_fig_unknown(figs, "last_cycle_seconds", ETM_FIG_GAUGE, ETM_FIG_DOUBLE, "last cycle", "none yet");
	if (f->last_error[0])
		etm_fig_text(figs, "last_error", "last error", f->last_error);
	pthread_mutex_unlock(&ct->rt->lock);
	etm_task_tracker_figures(&ct->trk, figs); /* the pmu sampler's (its own lock) */
}

/* -------------------------------------------------------- private commands */

/* The engine's runtime, or NULL with @err set (a project whose tasks all failed to start). */
static struct cslide_rt *rt_of(struct engine *eng, GString *err)
{
	const struct cslide_eng_params *ep = eng->params;

	if (!ep || !ep->rt)
		g_string_printf(err, "engine %s has no task running", eng->name);
	return ep ? ep->rt : NULL;
}

/* showhostpages: per node, the memory of the engine's tasks. */
static int cmd_host(struct engine *eng, struct task *tk, struct etm_report *out, GString *err)
{
	struct cslide_rt *rt = rt_of(eng, err);
	struct cslide_show s;
	int rc;

	(void)tk;
	if (!rt)
		return -EINVAL;
	pthread_mutex_lock(&rt->lock);
	s = (struct cslide_show){ .stamp = rt->stamp, .n = rt->nhost, .nodes = rt->host };
	rc = cslide_show_host(out, &s, err);
	pthread_mutex_unlock(&rt->lock);
	return rc;
}

/* showtaskpages -t TASK: per process of the task (the original: its first process only). */
static int cmd_task(struct engine *eng, struct task *tk, struct etm_report *out, GString *err)
{
	struct cslide_task *ct = tk->timer_inst;
	const struct cslide_task_figs *f;
	int rc = 0;

	if (!rt_of(eng, err))
		return -EINVAL;
	if (!ct) {
		g_string_printf(err, "task %s is not running", tk->name);
		return -EINVAL;
	}
	f = &ct->figs;
	pthread_mutex_lock(&ct->rt->lock);
	if (!f->stamp) {
		struct cslide_show none = { 0 };

		rc = cslide_show_task(out, 0, &none, err);
	} else if (!f->nshow) {
		etm_report_note(out, "task %s: no process of %s %s in the last cycle", ct->name, ct->type, ct->value);
	}
	for (size_t i = 0; f->stamp && i < f->nshow; i++) {
		struct cslide_show s = { .stamp = f->stamp, .n = f->show[i].n, .nodes = f->show[i].nodes };

		rc = cslide_show_task(out, f->show[i].pid, &s, err);
	}
	pthread_mutex_unlock(&ct->rt->lock);
	return rc;
}

const struct etm_engine_cmd cslide_cmds[] = {
	{ "showhostpages", false, cmd_host },
	{ "showtaskpages", true, cmd_task },
	{ NULL, false, NULL },
};
