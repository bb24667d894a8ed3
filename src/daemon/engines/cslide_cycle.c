/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * One cslide cycle over every task of the engine (cslide_rt.h):
 *  1. scan: each task's processes resolved and their trackers opened, then
 *     `loop` passes `sleep` seconds apart;
 *  2. units: each process's units with their counts and nodes;
 *  3. per kind of memory (2 MiB hugetlb pages, whose free figures are the
 *     pools'; base pages and THP, whose are the nodes' MemFree above the
 *     high watermark): buckets by count and node, the original's three-pass
 *     flow control (cslide_policy.h) against each pair's quota left;
 *  4. migrate, pair by pair, on the CPUs of the pair's fast node: cold
 *     units to the slow node first (room on the fast node), then hot ones
 *     up, through the move_pages action, never more than the pair's
 *     node_mig_quota in a cycle (a cap under the plan, in case the units
 *     changed since the scan); what failed is counted by reason;
 *  5. figures: the nodes of the units moved are asked again, so that
 *     showtaskpages and showhostpages say where the pages are now.
 */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <numa.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "daemon/cycle_hook.h"
#include "cslide_rt.h"
#include "scan/clock.h"
#include "scan/numa_move.h"

/* The tasks not stopping, now held by the cycle. */
static GPtrArray *cycle_take(struct cslide_rt *rt)
{
	GPtrArray *cycle = g_ptr_array_new();

	pthread_mutex_lock(&rt->lock);
	for (guint i = 0; i < rt->tasks->len; i++) {
		struct cslide_task *ct = g_ptr_array_index(rt->tasks, i);

		if (ct->stop)
			continue;
		ct->in_cycle = true;
		ct->cyc_promoted = ct->cyc_demoted = ct->cyc_capped = 0;
		memset(ct->cyc_failed, 0, sizeof(ct->cyc_failed));
		g_ptr_array_add(cycle, ct);
	}
	pthread_mutex_unlock(&rt->lock);
	return cycle;
}

/* 1. and 2.: -ECANCELED when the engine stops meanwhile. */
static int cycle_scan(struct cslide_rt *rt, GPtrArray *cycle)
{
	for (guint i = 0; i < cycle->len; i++) {
		cslide_checkpoint(rt, cycle);
		if (cslide_task_live(rt, g_ptr_array_index(cycle, i)))
			cslide_scan_prepare(g_ptr_array_index(cycle, i));
	}
	for (int pass = 0; pass < rt->loop; pass++) {
		if (cslide_wait(rt, cycle, rt->sleep_s))
			return -ECANCELED;
		for (guint i = 0; i < cycle->len; i++)
			if (cslide_task_live(rt, g_ptr_array_index(cycle, i)))
				cslide_scan_pass(g_ptr_array_index(cycle, i));
	}
	for (guint i = 0; i < cycle->len; i++) {
		cslide_checkpoint(rt, cycle);
		if (cslide_task_live(rt, g_ptr_array_index(cycle, i)))
			cslide_scan_units(g_ptr_array_index(cycle, i));
	}
	return 0;
}

/* ------------------------------------------------------------- migrate */

/* Run on the CPUs of @node the thread may use (*old: its mask before); false when it has none. */
static bool pin_near(int node, cpu_set_t *old)
{
	struct bitmask *cpus = numa_allocate_cpumask();
	cpu_set_t want;
	bool ok = false;

	if (cpus && !sched_getaffinity(0, sizeof(*old), old) && !numa_node_to_cpus(node, cpus)) {
		CPU_ZERO(&want);
		for (unsigned i = 0; i < cpus->size && i < CPU_SETSIZE; i++)
			if (numa_bitmask_isbitset(cpus, i) && CPU_ISSET(i, old))
				CPU_SET(i, &want);
		ok = CPU_COUNT(&want) > 0 && !sched_setaffinity(0, sizeof(want), &want);
	}
	if (cpus)
		numa_free_cpumask(cpus);
	return ok;
}

/* One move of a process's units: where it goes, what it may still move. */
struct move {
	struct cslide_task *ct;
	struct cslide_pid *cp;
	const guint32 *idx; /* into ct->pages, ascending, all of this process */
	size_t n;
	int dest;
	bool promote;
	int64_t *cap; /* the pair's bytes left this cycle */
};

/* Where the units given to move_pages are now, for the figures. */
static void requery(struct move *mv, const uint64_t *addrs, const guint32 *given, size_t k)
{
	g_autofree int *status = g_try_new(int, k ? k : 1);

	if (!status || etm_numa_query(&etm_numa_sys_kernel, mv->cp->pid, addrs, k, status))
		return;
	for (size_t i = 0; i < k; i++)
		g_array_index(mv->ct->pages, struct cslide_page, given[i]).node =
		    (int16_t)(status[i] >= 0 && status[i] < ETM_NUMA_MAX_NODES ? status[i] : -1);
}

static void move_account(struct move *mv, const struct etm_action_stats *st)
{
	struct cslide_task *ct = mv->ct;

	*(mv->promote ? &ct->cyc_promoted : &ct->cyc_demoted) += st->bytes_done;
	for (int r = 0; r < ETM_ACTION_FAIL_NR; r++)
		ct->cyc_failed[r] += st->bytes_failed[r];
}

/* The units of one process to mv->dest within the cap; 0, -ESRCH (gone) or -errno. */
static int move_pid(struct move *mv)
{
	g_autofree uint64_t *addrs = g_try_new(uint64_t, mv->n);
	g_autofree guint32 *given = g_try_new(guint32, mv->n);
	const struct etm_action_ops *act = &etm_action_move_pages;
	struct etm_action_stats st;
	uint64_t given_bytes = 0;
	size_t k = 0;
	void *ctx;
	int err;

	if (!addrs || !given || (err = act->open(mv->cp->pid, &ctx)))
		return -ENOMEM;
	for (size_t i = 0; i < mv->n; i++) {
		const struct cslide_page *pg = &g_array_index(mv->ct->pages, struct cslide_page, mv->idx[i]);
		int64_t b = (int64_t)cslide_page_bytes(pg);

		if (b > *mv->cap) {
			mv->ct->cyc_capped += (uint64_t)b;
			continue;
		}
		if ((err = act->add(ctx, pg->addr, (uint64_t)b, mv->dest)))
			break;
		*mv->cap -= b;
		given_bytes += (uint64_t)b;
		addrs[k] = pg->addr;
		given[k++] = mv->idx[i];
	}
	if (!err)
		err = act->flush(ctx);
	act->stats(ctx, &st);
	act->close(ctx);
	move_account(mv, &st);
	/* All moved: they are on dest. Else ask where each is (a second pass over the pages, only then). */
	if (!err && st.bytes_done == given_bytes)
		for (size_t i = 0; i < k; i++)
			g_array_index(mv->ct->pages, struct cslide_page, given[i]).node = (int16_t)mv->dest;
	else if (k && err != -ESRCH)
		requery(mv, addrs, given, k);
	return err;
}

static int cmp_u32(const void *a, const void *b)
{
	guint32 x = *(const guint32 *)a, y = *(const guint32 *)b;

	return x < y ? -1 : x > y;
}

/* The units @idx of one task (any order) to @dest, process by process. */
static void move_task(struct cslide_task *ct, GArray *idx, int dest, bool promote, int64_t *cap)
{
	size_t i = 0;

	g_array_sort(idx, cmp_u32);
	for (struct task_pid *tp = ct->tk->pids; tp && i < idx->len; tp = tp->next) {
		struct cslide_pid *cp = tp->params;
		struct move mv = { .ct = ct, .cp = cp, .dest = dest, .promote = promote, .cap = cap };
		int err;

		mv.idx = &g_array_index(idx, guint32, i);
		while (i < idx->len && g_array_index(idx, guint32, i) < cp->first + cp->n)
			i++, mv.n++;
		if (!mv.n || cp->failed)
			continue;
		if ((err = move_pid(&mv)) == -ESRCH)
			cp->failed = true;
		else if (err)
			cslide_task_error(ct, "pid %d: moving pages to node %d: %s", (int)cp->pid, dest,
					  strerror(-err));
	}
}

/* 4. One pair's moves of every task: demotions first, then promotions, near the fast node. */
static void migrate_pair(struct cslide_rt *rt, GPtrArray *tasks, struct cslide_plan *plan, size_t j, int64_t *cap)
{
	const struct etm_numa_pair *p = &rt->pairs[j];
	cpu_set_t old;
	bool pinned = pin_near(p->hot_node, &old);

	for (int promote = 0; promote < 2; promote++) {
		for (guint t = 0; t < tasks->len; t++) {
			struct cslide_task *ct = g_ptr_array_index(tasks, t);
			struct cslide_moves *m = cslide_plan_at(plan, t, j);

			if (cslide_task_live(rt, ct))
				move_task(ct, promote ? m->promote : m->demote, promote ? p->hot_node : p->cold_node,
					  promote, cap);
		}
		cslide_checkpoint(rt, tasks);
	}
	if (pinned)
		sched_setaffinity(0, sizeof(old), &old);
}

/* ------------------------------------------------------------- place */

/* 3. and 4. for the tasks of one kind: buckets, plan, moves; @left: each pair's quota left. */
static void place_kind(struct cslide_rt *rt, GPtrArray *tasks, enum etm_numa_backing kind, int64_t *left)
{
	int nn = rt->topo->max_id + 1;
	g_autofree uint64_t *free_b = g_new0(uint64_t, nn), *cold_b = g_new0(uint64_t, nn);
	g_autofree struct cslide_flow_pair *ledger = g_new0(struct cslide_flow_pair, rt->npairs);
	g_autofree struct cslide_buckets **b = g_new0(struct cslide_buckets *, tasks->len);
	struct cslide_plan plan = { 0 };

	for (guint t = 0; t < tasks->len; t++) {
		struct cslide_task *ct = g_ptr_array_index(tasks, t);

		b[t] = &ct->b;
		if (cslide_buckets_build(&ct->b, (const struct cslide_page *)(void *)ct->pages->data, ct->pages->len,
					 rt->max_count, nn))
			cslide_task_error(ct, "out of memory for its page buckets");
		for (int node = 0; node < nn; node++) {
			uint64_t hot, cold;

			cslide_buckets_node_bytes(&ct->b, rt->hot_threshold, node, &hot, &cold);
			cold_b[node] += cold;
		}
	}
	for (size_t i = 0; i < rt->topo->n; i++)
		free_b[rt->topo->node[i].id] = etm_numa_free_bytes(&rt->topo->node[i], kind);
	cslide_flow_pairs_init(ledger, rt->pairs, rt->npairs, 0, rt->reserve, free_b, cold_b, nn);
	for (size_t j = 0; j < rt->npairs; j++)
		ledger[j].quota = left[j];
	cslide_flow_plan(ledger, rt->npairs, b, tasks->len, rt->hot_threshold, &plan);
	for (size_t j = 0; j < rt->npairs; j++) {
		int64_t cap = left[j];

		migrate_pair(rt, tasks, &plan, j, &cap);
		left[j] = cap;
	}
	cslide_plan_clear(&plan);
}

/* The live tasks of @cycle of one kind. */
static GPtrArray *tasks_of(struct cslide_rt *rt, GPtrArray *cycle, bool hugetlb)
{
	GPtrArray *a = g_ptr_array_new();

	for (guint i = 0; i < cycle->len; i++) {
		struct cslide_task *ct = g_ptr_array_index(cycle, i);

		if (ct->hugetlb == hugetlb && cslide_task_live(rt, ct))
			g_ptr_array_add(a, ct);
	}
	return a;
}

static void cycle_place(struct cslide_rt *rt, GPtrArray *cycle)
{
	g_autofree int64_t *left = g_new(int64_t, rt->npairs);
	int err;

	if ((err = etm_numa_topo_refresh("", rt->topo))) {
		for (guint i = 0; i < cycle->len; i++)
			cslide_task_error(g_ptr_array_index(cycle, i), "reading the nodes' memory figures: %s",
					  strerror(-err));
		return;
	}
	/* The quota is the pair's, whatever kinds of memory share it: hugetlb pages are served first. */
	for (size_t j = 0; j < rt->npairs; j++)
		left[j] = rt->quota;
	for (int hugetlb = 1; hugetlb >= 0; hugetlb--) {
		g_autoptr(GPtrArray) tasks = tasks_of(rt, cycle, hugetlb);

		if (tasks->len)
			place_kind(rt, tasks, hugetlb ? ETM_NUMA_HUGE_2M : ETM_NUMA_BASE, left);
	}
}

void cslide_cycle_run(struct cslide_rt *rt)
{
	double t0 = etm_mono_now();
	g_autoptr(GPtrArray) cycle = cycle_take(rt);
	time_t now;

	if (!cycle->len)
		return;
	if (!cycle_scan(rt, cycle)) {
		cycle_place(rt, cycle);
		now = time(NULL);
		for (guint i = 0; i < cycle->len; i++) {
			struct cslide_task *ct = g_ptr_array_index(cycle, i);

			if (cslide_task_live(rt, ct)) {
				cslide_figs_publish(ct, now, etm_mono_now() - t0);
				etm_cycle_hook_fire(ct->cycle_hook);
			}
		}
		cslide_host_publish(rt, cycle, now);
	}
	for (guint i = 0; i < cycle->len; i++) {
		struct cslide_task *ct = g_ptr_array_index(cycle, i);

		if (ct->in_cycle) /* the engine thread's own flag to clear: no lock needed to read it */
			cslide_release(rt, ct);
	}
	malloc_trim(0); /* the cycle's units and counts are gone: give them back */
}
