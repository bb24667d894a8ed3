/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The one tracker choice of slide and cslide (daemon/task_tracker.h): the
 * PMU keys choose the pmu tracker and start its sampler, or refuse the task
 * naming the event and why; without them access_tracker's backend, never
 * the pmu one by auto. Runs on any kernel: where the sampler cannot start
 * (no perf page-fault events, not root) the refusal is checked instead.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/figures.h"
#include "daemon/task_tracker.h"
#include "scan/pmu_event.h"
#include "scan/procfs.h"
#include "scan/tracker.h"

static char why[4096];

static const struct etm_tracker_opts opts = { .loop = 1, .sleep_s = 1 };

static struct etm_pmu_params pmu_keys(const char *event)
{
	return (struct etm_pmu_params){
		.enabled = true,
		.sample_period = 1,
		.vma_updata_rate = 5,
		.cpu_set_size = 16,
		.event = (char *)event,
	};
}

/* The request slide makes (access_tracker=@tracker, 0 for auto), through the one choice. */
static int choose(int tracker, const struct etm_pmu_params *pmu, struct etm_task_tracker *t)
{
	struct etm_tracker_req req = { .engine = "slide", .task = "t", .tracker = tracker, .pmu = pmu };

	return etm_task_tracker_choose(&req, &opts, t, why, sizeof(why));
}

/* Without the PMU keys: access_tracker's backend; auto never takes pmu. */
static void test_without_keys(void **state)
{
	struct etm_pmu_params off = pmu_keys(NULL);
	struct etm_task_tracker t;
	int rc;

	(void)state;
	off.enabled = false;
	/* the PMU keys with another tracker named: refused (the configuration says so first) */
	off.enabled = true;
	assert_int_equal(choose(ETM_BACKEND_ID_page_idle, &off, &t), -EINVAL);
	assert_string_equal(why, "access_tracker=page_idle: the PMU keys sample with the pmu tracker");
	assert_null(t.b);
	off.enabled = false;
	for (int i = 0; i < 2; i++) {
		rc = choose(0, i ? &off : NULL, &t);
		if (rc) {
			assert_int_equal(rc, -ENOTSUP);
			assert_null(t.b);
			continue;
		}
		assert_non_null(t.b);
		assert_true(t.b != etm_backend_by_id(ETM_BACKEND_ID_pmu));
		assert_null(t.task); /* no task-wide context: nothing to describe or cycle */
		etm_task_tracker_describe(&t, why, sizeof(why));
		assert_string_equal(why, "");
		assert_int_equal(etm_task_tracker_cycle(&t, NULL, 0, why, sizeof(why)), 0);
		etm_task_tracker_release(&t);
	}
	/* access_tracker=pmu without the keys: refused (the configuration says so first) */
	rc = choose(ETM_BACKEND_ID_pmu, &off, &t);
	assert_int_not_equal(rc, 0);
	assert_null(t.b);
	assert_null(t.task);
	assert_true(strstr(why, "needs the PMU keys") || strstr(why, "access tracker pmu unavailable"));
}

/*
 * cslide's requests (per-page trackers only): the PMU keys choose pmu, as
 * for slide, with vm_flags=ht too (the sampler counts hugetlb pages); only
 * an event that cannot see them, major faults, is refused there, the
 * reason named.
 */
static void test_cslide_request(void **state)
{
	struct etm_pmu_params k = pmu_keys("page-faults");
	struct etm_tracker_req req = { .engine = "cslide", .task = "t", .pmu = &k, .per_page = true };
	const struct etm_backend *b = NULL;

	(void)state;
	for (int named = 0; named < 2; named++) {
		int rc;

		req.tracker = named ? ETM_BACKEND_ID_pmu : 0;
		b = NULL;
		if ((rc = etm_tracker_choose(&req, &b, why, sizeof(why)))) {
			/* no perf page-fault events here (the probe opens one): said so, nothing chosen */
			assert_int_equal(rc, -ENOTSUP);
			assert_non_null(strstr(why, "access tracker pmu unavailable: "));
			assert_null(b);
			continue;
		}
		assert_ptr_equal(b, etm_backend_by_id(ETM_BACKEND_ID_pmu));
	}
	req.tracker = ETM_BACKEND_ID_damon_vaddr;
	assert_int_equal(etm_tracker_choose(&req, &b, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "access_tracker=damon_vaddr: the PMU keys sample with the pmu tracker");
	req.tracker = 0;
	req.hugetlb = true;
	for (int i = 0; i < 3; i++) {
		const char *ev[] = { "page-faults", "minor-faults", "major-faults,page-faults" };
		int rc;

		k.event = (char *)ev[i];
		b = NULL;
		if ((rc = etm_tracker_choose(&req, &b, why, sizeof(why)))) {
			assert_int_equal(rc, -ENOTSUP);
			assert_non_null(strstr(why, "access tracker pmu unavailable: "));
			continue;
		}
		assert_ptr_equal(b, etm_backend_by_id(ETM_BACKEND_ID_pmu));
	}
	/* major faults only: a hugetlb page never faults majorly, refused whatever the kernel offers */
	k.event = "major-faults";
	b = NULL;
	assert_int_equal(etm_tracker_choose(&req, &b, why, sizeof(why)), -EINVAL);
	assert_null(b);
	assert_non_null(strstr(why, "pmu_event=major-faults: a hugetlb page's faults are never major"));
	assert_non_null(strstr(why, "use page-faults or minor-faults"));
	/* without vm_flags=ht major faults are what slide's refaults are: accepted */
	req.hugetlb = false;
	if (!etm_tracker_choose(&req, &b, why, sizeof(why)))
		assert_ptr_equal(b, etm_backend_by_id(ETM_BACKEND_ID_pmu));
	else
		assert_non_null(strstr(why, "access tracker pmu unavailable: "));
}

/* A zeroed or refused tracker is released without harm. */
static void test_release_zeroed(void **state)
{
	struct etm_task_tracker t = { 0 };

	(void)state;
	etm_task_tracker_release(&t);
	etm_task_tracker_release(&t);
	etm_task_tracker_describe(&t, why, sizeof(why));
	assert_string_equal(why, "");
}

/* A pmu_event that names nothing: refused, naming it. */
static void test_unknown_event(void **state)
{
	struct etm_pmu_params k = pmu_keys("ETMEM_NO_SUCH_EVENT");
	struct etm_task_tracker t;

	(void)state;
	assert_int_not_equal(choose(0, &k, &t), 0);
	assert_null(t.b);
	assert_null(t.task);
	assert_non_null(strstr(why, "access tracker pmu: event ETMEM_NO_SUCH_EVENT: "));
	assert_true(strstr(why, "not known to libpfm4") || strstr(why, "etmem was built without libpfm4"));
}

/* No pmu_event: the CPU's memory-access events, or a refusal that names each and suggests page-faults. */
static void test_default_event(void **state)
{
	struct etm_pmu_params k = pmu_keys(NULL);
	struct etm_task_tracker t;
	int rc;

	(void)state;
	k.sample_period = 10000;
	rc = choose(0, &k, &t);
	if (!rc) {
		assert_ptr_equal(t.b, etm_backend_by_id(ETM_BACKEND_ID_pmu));
		etm_task_tracker_release(&t);
		return;
	}
	assert_null(t.b);
	assert_non_null(strstr(why, "access tracker pmu: "));
	assert_non_null(strstr(why, "pmu_event=page-faults samples page faults instead"));
	if (!etm_pmu_have_libpfm()) /* the ENABLE_PMU=OFF build */
		assert_non_null(strstr(why, "etmem was built without libpfm4 (cmake -DENABLE_PMU=ON)"));
}

static const struct etm_figure *fig(const struct etm_figures *figs, const char *name)
{
	for (size_t i = 0; i < etm_figures_len(figs); i++)
		if (!strcmp(etm_figures_at(figs, i)->name, name))
			return etm_figures_at(figs, i);
	return NULL;
}

/* pmu_event=page-faults: the pmu tracker, its encoding and lost samples in the figures. */
static void test_page_faults(void **state)
{
	struct etm_pmu_params k = pmu_keys("page-faults");
	struct etm_task_tracker t;
	struct etm_figures *figs;
	pid_t self = getpid();
	int rc;

	(void)state;
	/* Also through access_tracker=pmu, which names what the keys choose anyway. */
	rc = choose(ETM_BACKEND_ID_pmu, &k, &t);
	if (rc) {
		/* The sampler's CPU-wide rings need root or CAP_PERFMON. */
		assert_non_null(strstr(why, "access tracker pmu: "));
		assert_true(geteuid() != 0 || strstr(why, "perf_event_paranoid"));
		print_message("sampler not started here (%s): the refusal was checked\n", why);
		return;
	}
	assert_ptr_equal(t.b, etm_backend_by_id(ETM_BACKEND_ID_pmu));
	assert_ptr_equal(t.b->tracker, &etm_tracker_pmu);
	assert_non_null(t.task);
	etm_task_tracker_describe(&t, why, sizeof(why));
	assert_non_null(strstr(why, "page-faults [software:page-faults]"));
	assert_int_equal(etm_task_tracker_cycle(&t, &self, 1, why, sizeof(why)), 0);
	figs = etm_figures_new();
	etm_task_tracker_figures(&t, figs);
	assert_non_null(fig(figs, "pmu_sampling"));
	assert_non_null(strstr(fig(figs, "pmu_sampling")->text, "page-faults"));
	assert_non_null(fig(figs, "pmu_lost_samples"));
	assert_int_equal(fig(figs, "pmu_lost_samples")->kind, ETM_FIG_COUNTER);
	assert_int_equal(fig(figs, "pmu_event_fds")->u64 > 0, 1);
	assert_true(fig(figs, "pmu_indexed_pages")->u64 > 0); /* this process's anonymous memory */
	etm_figures_free(figs);
	/* A second cycle without the process releases its events. */
	assert_int_equal(etm_task_tracker_cycle(&t, NULL, 0, why, sizeof(why)), 0);
	etm_task_tracker_release(&t);
	assert_null(t.task);
}

/*
 * cslide's vm_flags=ht request: the task's filter goes to the sampler (a
 * copy, read from smaps), which indexes this process's hugetlb VMAs only:
 * none, or one 4 MiB mapping as 2 pages where the 2 MiB pool has room.
 */
static void test_hugetlb_filter(void **state)
{
	struct etm_pmu_params k = pmu_keys("page-faults");
	char *ht[] = { "ht" };
	struct etm_vma_filter f = { .vmflags = ht, .nvmflags = 1 };
	struct etm_tracker_opts o = { .loop = 1, .sleep_s = 1, .filter = &f, .sample_counts = true };
	struct etm_tracker_req req = { .engine = "cslide", .task = "t", .pmu = &k, .per_page = true, .hugetlb = true };
	void *m = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	struct etm_task_tracker t;
	struct etm_figures *figs;
	pid_t self = getpid();

	(void)state;
	if (etm_task_tracker_choose(&req, &o, &t, why, sizeof(why))) {
		assert_non_null(strstr(why, "access tracker pmu"));
		print_message("sampler not started here (%s): the refusal was checked\n", why);
		goto out;
	}
	ht[0] = "xx"; /* the sampler keeps a copy */
	assert_int_equal(etm_task_tracker_cycle(&t, &self, 1, why, sizeof(why)), 0);
	figs = etm_figures_new();
	etm_task_tracker_figures(&t, figs);
	if (m == MAP_FAILED)
		print_message("no free 2 MiB hugetlb pages here: the index must be empty\n");
	assert_int_equal(fig(figs, "pmu_indexed_pages")->u64, m == MAP_FAILED ? 0 : 2);
	etm_figures_free(figs);
	etm_task_tracker_release(&t);
out:
	if (m != MAP_FAILED)
		munmap(m, 4 << 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_without_keys),   cmocka_unit_test(test_release_zeroed),
		cmocka_unit_test(test_cslide_request), cmocka_unit_test(test_unknown_event),
		cmocka_unit_test(test_default_event),  cmocka_unit_test(test_page_faults),
		cmocka_unit_test(test_hugetlb_filter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
