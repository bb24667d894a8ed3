/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * One task's processes in a cslide cycle (cslide_rt.h): resolve the target
 * and bring tk->pids in line (the per-pid parameters of the plugin ABI hold
 * each process's state), read the VMAs to place from smaps, open the
 * tracker (its baseline), let it pass `loop` times, then turn the counts
 * into the units move_pages moves, each with its node:
 *  - vm_flags=ht: 2 MiB hugetlb pages (the original's);
 *  - VMAs with THP (smaps AnonHugePages > 0): the kernel's folios
 *    (numa_units.h), so that a THP is planned and counted as the 2 MiB it
 *    moves as;
 *  - other VMAs: 4 KiB pages.
 * A large unit's count is the lowest of its 4 KiB pages' (cslide_unit_count()),
 * the count 3/4 of them reach with a tracker that grades regions (DAMON);
 * units the tracker did not see (not present) are left out, and so are
 * those the node query finds absent.
 *
 * With the PMU keys the tracker is the sampler (tracker_pmu.c), which runs
 * the whole time and follows the task's processes from one cycle to the
 * next (etm_task_tracker_cycle()). Its counts are not one cycle's passes
 * but every sample since the task started, halved every cooling_interval
 * counted samples: each pass puts them in a page state reset for it, so
 * `loop` passes do not count the same samples `loop` times, and a large
 * unit's count is the sum of its pages'.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "cslide_rt.h"
#include "daemon/target.h"
#include "scan/numa_move.h"
#include "scan/numa_units.h"
#include "scan/pagestate.h"

/* THP VMAs are read in chunks of this many pages (256 MiB), ending on 2 MiB boundaries. */
#define THP_CHUNK_PAGES 65536u
#define HUGE_SIZE (1ULL << CSLIDE_HUGE_SHIFT)

static struct cslide_pid *pid_of(struct task_pid *tp)
{
	return tp->params;
}

int cslide_alloc_pid(struct engine *eng, struct task_pid **tp)
{
	struct cslide_pid *cp = calloc(1, sizeof(*cp));

	(void)eng;
	if (!cp)
		return -ENOMEM;
	cp->pid = (pid_t)(*tp)->pid;
	(*tp)->params = cp;
	return 0;
}

/* Freed only out of a cycle (sync, or stop_task after the thread let go): no tracker is open then. */
void cslide_free_pid(struct engine *eng, struct task_pid **tp)
{
	struct cslide_pid *cp = (*tp)->params;

	(void)eng;
	if (!cp)
		return;
	free(cp->vmas);
	etm_pagestate_free(cp->ps);
	free(cp);
	(*tp)->params = NULL;
}

static void pid_close(struct cslide_task *ct, struct cslide_pid *cp)
{
	if (cp->trk)
		ct->acc->tracker->close(cp->trk);
	cp->trk = NULL;
}

static void pid_clear(struct cslide_task *ct, struct cslide_pid *cp)
{
	pid_close(ct, cp);
	free(cp->vmas);
	cp->vmas = NULL;
	cp->nvmas = 0;
	etm_pagestate_free(cp->ps);
	cp->ps = NULL;
	cp->failed = false;
	cp->first = cp->n = 0;
}

void cslide_scan_clear(struct cslide_task *ct)
{
	for (struct task_pid *tp = ct->tk->pids; tp; tp = tp->next)
		pid_clear(ct, pid_of(tp));
}

/* @cp is out of this cycle; a process that exited is no error. */
static void pid_fail(struct cslide_task *ct, struct cslide_pid *cp, const char *what, int err)
{
	cp->failed = true;
	pid_close(ct, cp);
	if (err != -ESRCH && err != -ENOENT)
		cslide_task_error(ct, "pid %d: %s: %s", (int)cp->pid, what, strerror(-err));
}

/* Keep the VMAs of the task's kind: 2 MiB hugetlb ones with vm_flags=ht, else those not hugetlb. */
static void vmas_keep_kind(struct cslide_task *ct, struct cslide_pid *cp)
{
	size_t k = 0;

	for (size_t i = 0; i < cp->nvmas; i++) {
		const struct etm_smaps_vma *v = &cp->vmas[i];

		if (ct->hugetlb ? v->hugetlb && v->page_size == HUGE_SIZE : !v->hugetlb)
			cp->vmas[k++] = *v;
	}
	cp->nvmas = k;
}

static void pid_prepare(struct cslide_task *ct, struct cslide_pid *cp)
{
	int err = etm_proc_smaps(cp->pid, &ct->filter, &cp->vmas, &cp->nvmas);

	if (err) {
		pid_fail(ct, cp, "reading smaps", err);
		return;
	}
	vmas_keep_kind(ct, cp);
	if (!(cp->ps = etm_pagestate_new())) {
		pid_fail(ct, cp, "page state", -ENOMEM);
		return;
	}
	for (size_t i = 0; i < cp->nvmas && !err; i++)
		err = etm_pagestate_add_range(cp->ps, cp->vmas[i].start, cp->vmas[i].end);
	if (!err && cp->nvmas)
		err = ct->acc->tracker->open(cp->pid, &ct->topts, &cp->trk);
	if (err)
		pid_fail(ct, cp, ct->acc->name, err);
}

/* The pids of the last resolution, for project show. */
static void note_pids(struct cslide_task *ct, const pid_t *pids, size_t n)
{
	pthread_mutex_lock(&ct->rt->lock);
	ct->figs.npids = n;
	for (size_t i = 0; i < n && i < CSLIDE_FIGURE_PIDS_MAX; i++)
		ct->figs.pids[i] = pids[i];
	pthread_mutex_unlock(&ct->rt->lock);
}

void cslide_scan_prepare(struct cslide_task *ct)
{
	g_autofree pid_t *pids = NULL;
	size_t n = 0;
	char why[256];
	int err = etm_target_resolve(ct->type, ct->value, &pids, &n, why, sizeof(why));

	if (err) {
		cslide_task_error(ct, "resolving %s %s: %s", ct->type, ct->value, strerror(-err));
		n = 0;
	} else if (why[0]) {
		cslide_task_error(ct, "%s %s: %s; left out", ct->type, ct->value, why);
	}
	/* The plugin ABI's per-pid parameters: allocated for new processes, freed for those gone. */
	etm_task_pids_sync(ct->rt->eng, ct->tk, pids, n);
	note_pids(ct, pids, n);
	/* The sampler follows the cycle's processes: new ones attached, those gone released. */
	if (etm_task_tracker_cycle(&ct->trk, pids, n, why, sizeof(why)))
		cslide_task_error(ct, "%s", why);
	for (struct task_pid *tp = ct->tk->pids; tp; tp = tp->next)
		pid_prepare(ct, pid_of(tp));
}

void cslide_scan_pass(struct cslide_task *ct)
{
	for (struct task_pid *tp = ct->tk->pids; tp; tp = tp->next) {
		struct cslide_pid *cp = pid_of(tp);
		int err;

		if (!cp->trk || cp->failed)
			continue;
		if (ct->sampled) /* the counts as they are now, not added to the previous pass's */
			etm_pagestate_reset(cp->ps);
		if ((err = ct->acc->tracker->scan(cp->trk, cp->ps)))
			pid_fail(ct, cp, ct->acc->name, err);
	}
}

static void add_unit(struct cslide_task *ct, size_t first, uint64_t addr, int count, unsigned shift)
{
	struct cslide_page pg = { .addr = addr, .count = (uint16_t)count, .node = -1, .shift = (uint8_t)shift };
	GArray *a = ct->pages;

	/* A folio across two VMAs is found in both: once is enough. */
	if (a->len > first && g_array_index(a, struct cslide_page, a->len - 1).addr == addr)
		return;
	g_array_append_val(a, pg);
}

static void hugetlb_units(struct cslide_task *ct, size_t first, const struct etm_ps_range *r)
{
	for (uint64_t a = (r->start + HUGE_SIZE - 1) & ~(HUGE_SIZE - 1); a + HUGE_SIZE <= r->end; a += HUGE_SIZE) {
		int c = cslide_unit_count(r, a, HUGE_SIZE, ct->fold);

		if (c >= 0)
			add_unit(ct, first, a, c, CSLIDE_HUGE_SHIFT);
	}
}

static void base_units(struct cslide_task *ct, size_t first, const struct etm_ps_range *r)
{
	for (uint64_t a = r->start; a < r->end; a += ETM_PAGE_SIZE) {
		int c = etm_ps_count(r->st[(a - r->start) >> ETM_PAGE_SHIFT]);

		if (c >= 0)
			add_unit(ct, first, a, c, ETM_PAGE_SHIFT);
	}
}

/* The kernel's folios of @r: a THP is one unit. -EPERM when the frames cannot be read. */
static int thp_units(struct cslide_task *ct, struct cslide_pid *cp, size_t first, const struct etm_ps_range *r)
{
	g_autofree struct etm_numa_page *u = g_try_new(struct etm_numa_page, THP_CHUNK_PAGES);
	uint64_t c = r->start;

	if (!u)
		return -ENOMEM;
	while (c < r->end) {
		uint64_t e = (c + ((uint64_t)THP_CHUNK_PAGES << ETM_PAGE_SHIFT)) & ~(HUGE_SIZE - 1);
		size_t nu = 0;
		int err;

		if (e <= c || e > r->end)
			e = r->end;
		if ((err = etm_numa_units(cp->pid, c, (size_t)((e - c) >> ETM_PAGE_SHIFT), u, &nu)))
			return err;
		for (size_t i = 0; i < nu; i++) {
			int cnt = cslide_unit_count(r, u[i].addr, etm_numa_page_bytes(&u[i]), ct->fold);

			if (cnt >= 0)
				add_unit(ct, first, u[i].addr, cnt, u[i].shift);
		}
		c = e;
	}
	return 0;
}

static int vma_units(struct cslide_task *ct, struct cslide_pid *cp, size_t i)
{
	const struct etm_ps_range *r = &cp->ps->r[i];
	size_t at;
	int err;

	if (ct->hugetlb) {
		hugetlb_units(ct, cp->first, r);
		return 0;
	}
	if (!cp->vmas[i].anon_huge) {
		base_units(ct, cp->first, r);
		return 0;
	}
	at = ct->pages->len;
	err = thp_units(ct, cp, cp->first, r);
	if (err == -EPERM) {
		/*
		 * No frame numbers (no CAP_SYS_ADMIN): 4 KiB units. move_pages moves the THP of such an
		 * address whole, so the quota then counts 4 KiB for up to 2 MiB (docs/cslide.md, Limits).
		 */
		g_array_set_size(ct->pages, at);
		base_units(ct, cp->first, r);
		return 0;
	}
	return err;
}

/* Each unit's node, by move_pages() status queries in batches; absent ones are left unplaced (node -1). */
static int query_nodes(struct cslide_task *ct, struct cslide_pid *cp)
{
	size_t n = ct->pages->len - cp->first, batch = n < ETM_NUMA_QUERY_BATCH ? n : ETM_NUMA_QUERY_BATCH;
	g_autofree uint64_t *addrs = g_try_new(uint64_t, batch ? batch : 1);
	g_autofree int *status = g_try_new(int, batch ? batch : 1);
	struct cslide_page *pg = &g_array_index(ct->pages, struct cslide_page, cp->first);

	if (!addrs || !status)
		return -ENOMEM;
	for (size_t off = 0; off < n; off += batch) {
		size_t k = n - off < batch ? n - off : batch;
		int err;

		for (size_t i = 0; i < k; i++)
			addrs[i] = pg[off + i].addr;
		if ((err = etm_numa_query(&etm_numa_sys_kernel, cp->pid, addrs, k, status)))
			return err;
		for (size_t i = 0; i < k; i++)
			pg[off + i].node = (int16_t)(status[i] >= 0 && status[i] < ETM_NUMA_MAX_NODES ? status[i] : -1);
	}
	return 0;
}

void cslide_scan_units(struct cslide_task *ct)
{
	g_array_set_size(ct->pages, 0);
	for (struct task_pid *tp = ct->tk->pids; tp; tp = tp->next) {
		struct cslide_pid *cp = pid_of(tp);
		int err = 0;

		pid_close(ct, cp);
		cp->first = ct->pages->len;
		cp->n = 0;
		if (cp->failed || !cp->ps)
			continue;
		for (size_t i = 0; i < cp->nvmas && !err; i++)
			err = vma_units(ct, cp, i);
		if (!err)
			err = query_nodes(ct, cp);
		/* The counts are in the units now: the page state is not needed any more. */
		etm_pagestate_free(cp->ps);
		cp->ps = NULL;
		if (err) {
			g_array_set_size(ct->pages, cp->first);
			pid_fail(ct, cp, "finding its pages", err);
			continue;
		}
		cp->n = ct->pages->len - cp->first;
	}
}
