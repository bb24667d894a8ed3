/* SPDX-License-Identifier: MulanPSL-2.0 */
/* The access tracker of a slide or cslide task (see task_tracker.h). */
#include "daemon/task_tracker.h"

#include <errno.h>
#include <stdio.h>

#include "daemon/figures.h"
#include "scan/pmu_sampler.h"

static void pmu_conf_of(const struct etm_pmu_params *p, struct etm_pmu_conf *c)
{
	*c = (struct etm_pmu_conf){
		.event = p->event,
		.sample_period = (uint64_t)p->sample_period,
		.cpu_set_size = (unsigned)p->cpu_set_size,
		.vma_update_rate = (unsigned)p->vma_updata_rate,
		.cooling_interval = (uint64_t)p->cooling_interval,
	};
}

int etm_task_tracker_choose(const struct etm_tracker_req *req, const struct etm_tracker_opts *o,
			    struct etm_task_tracker *t, char *why, size_t len)
{
	bool sampled = req->pmu && req->pmu->enabled;
	struct etm_pmu_conf c = { 0 };
	char one[1024];
	int err;

	*t = (struct etm_task_tracker){ 0 };
	if (len)
		why[0] = '\0';
	if ((err = etm_tracker_choose(req, &t->b, why, len))) {
		t->b = NULL;
		return err;
	}
	if (!t->b->tracker || !t->b->tracker->task_new)
		return 0;
	if (sampled)
		pmu_conf_of(req->pmu, &c);
	if ((err = t->b->tracker->task_new(o, sampled ? &c : NULL, &t->task, one, sizeof(one)))) {
		snprintf(why, len, "access tracker %s: %s", t->b->name, one);
		t->b = NULL;
		t->task = NULL;
	}
	return err;
}

int etm_task_tracker_cycle(struct etm_task_tracker *t, const pid_t *pids, size_t n, char *why, size_t len)
{
	if (len)
		why[0] = '\0';
	if (!t->task || !t->b->tracker->task_cycle)
		return 0;
	return t->b->tracker->task_cycle(t->task, pids, n, why, len);
}

/* The pmu tracker's sampler, or NULL for any other tracker. */
static struct etm_pmu_sampler *sampler_of(const struct etm_task_tracker *t)
{
	return t->b && t->b->tracker == &etm_tracker_pmu ? etm_tracker_pmu_sampler(t->task) : NULL;
}

void etm_task_tracker_describe(const struct etm_task_tracker *t, char *buf, size_t len)
{
	struct etm_pmu_sampler *s = sampler_of(t);

	if (len)
		buf[0] = '\0';
	if (s && etm_pmu_sampler_describe(s, buf, len) && len)
		buf[0] = '\0';
}

void etm_task_tracker_figures(const struct etm_task_tracker *t, struct etm_figures *figs)
{
	struct etm_pmu_sampler *s = sampler_of(t);
	struct etm_pmu_stats st;
	char d[1024];

	if (!s)
		return;
	etm_pmu_sampler_stats(s, &st);
	etm_task_tracker_describe(t, d, sizeof(d));
	etm_fig_text(figs, "pmu_sampling", "PMU sampling", d);
	etm_fig_u64(figs, "pmu_samples", ETM_FIG_COUNTER, "PMU samples", st.ring.samples);
	etm_fig_u64(figs, "pmu_lost_samples", ETM_FIG_COUNTER, "PMU samples lost", st.ring.lost);
	etm_fig_u64(figs, "pmu_throttles", ETM_FIG_COUNTER, "PMU throttling records", st.ring.throttled);
	etm_fig_u64(figs, "pmu_counted_samples", ETM_FIG_COUNTER, "PMU samples counted on a page", st.count.counted);
	etm_fig_u64(figs, "pmu_unmapped_samples", ETM_FIG_COUNTER, "PMU samples outside the VMA index",
		    st.count.unmapped);
	etm_fig_u64(figs, "pmu_coolings", ETM_FIG_COUNTER, "PMU count halvings", st.count.coolings);
	etm_fig_u64(figs, "pmu_index_rebuilds", ETM_FIG_COUNTER, "PMU VMA index rebuilds", st.count.rebuilds);
	etm_fig_u64(figs, "pmu_indexed_pages", ETM_FIG_GAUGE, "PMU pages indexed", st.count.pages);
	etm_fig_u64(figs, "pmu_count_bytes", ETM_FIG_GAUGE, "PMU count bytes", st.count.bytes);
	etm_fig_u64(figs, "pmu_event_fds", ETM_FIG_GAUGE, "perf events open", st.fds);
	etm_fig_double(figs, "pmu_reader_cpu_seconds", ETM_FIG_COUNTER, "PMU readers' CPU", st.reader_cpu_s);
}

void etm_task_tracker_release(struct etm_task_tracker *t)
{
	if (t->task && t->b && t->b->tracker && t->b->tracker->task_free)
		t->b->tracker->task_free(t->task);
	t->task = NULL;
}
