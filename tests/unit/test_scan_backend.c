/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The backend table (backend.h): one name per tracker or reclaimer, the
 * names' text the configuration's error quotes, the choice by name; the
 * merge of a reclaimer's targets; and the action interface's destination
 * rule (a swap-out action refuses a NUMA node).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "scan/backend.h"

static void test_table(void **state)
{
	(void)state;
	assert_int_equal(etm_nbackends, 6);
	for (size_t i = 0; i < etm_nbackends; i++) {
		const struct etm_backend *b = &etm_backends[i];

		/* exactly one kind, every hook there */
		assert_true(!b->tracker != !b->reclaimer);
		if (b->tracker)
			assert_true(b->tracker->probe && b->tracker->open && b->tracker->scan && b->tracker->close);
		else
			assert_true(b->reclaimer->probe && b->reclaimer->open && b->reclaimer->update &&
				    b->reclaimer->close);
		assert_ptr_equal(etm_backend_find(b->name), b);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(etm_backends[j].name, b->name);
	}
	/* numbers: 0 is auto, then the table's order (the configuration stores these) */
	assert_null(etm_backend_by_id(ETM_BACKEND_ID_AUTO));
	assert_ptr_equal(etm_backend_by_id(ETM_BACKEND_ID_idle_pages), &etm_backends[0]);
	assert_ptr_equal(etm_backend_by_id(ETM_BACKEND_ID_memcg_lru), etm_backend_find("memcg_lru"));
	assert_int_equal(ETM_BACKEND_ID_END, etm_nbackends + 1);
	assert_null(etm_backend_by_id(ETM_BACKEND_ID_END));
	assert_null(etm_backend_find(ETM_BACKEND_AUTO));
	assert_null(etm_backend_find("damon"));
	/* per-page trackers first: the auto order prefers them */
	assert_non_null(etm_backend_find("idle_pages")->tracker);
	assert_non_null(etm_backend_find("memcg_lru")->reclaimer);
	assert_true(etm_backend_find("memcg_lru")->reclaimer->windowed);
	assert_false(etm_backend_find("damon_paddr")->reclaimer->windowed);
	assert_true(etm_backend_find("idle_pages")->tracker->kernel_marks);
	assert_false(etm_backend_find("page_idle")->tracker->kernel_marks);
	/* the PMU sampler: chosen by its keys only, one context per task */
	assert_true(etm_backend_find("pmu")->tracker->keyed);
	assert_ptr_equal(etm_backend_by_id(ETM_BACKEND_ID_pmu)->tracker, &etm_tracker_pmu);
	for (size_t i = 0; i < etm_nbackends; i++) {
		const struct etm_tracker_ops *tr = etm_backends[i].tracker;

		if (tr && tr != &etm_tracker_pmu)
			assert_false(tr->keyed);
		/* task hooks come as a set */
		if (tr)
			assert_true(!tr->task_new == !tr->task_cycle && !tr->task_new == !tr->task_free);
	}
	assert_non_null(etm_tracker_pmu.task_new);
}

static void test_names(void **state)
{
	char buf[160], small[12];

	(void)state;
	assert_int_equal(etm_backend_names(buf, sizeof(buf), ", ", " or "),
			 (int)strlen("auto, idle_pages, page_idle, damon_vaddr, damon_paddr, memcg_lru or pmu"));
	assert_string_equal(buf, "auto, idle_pages, page_idle, damon_vaddr, damon_paddr, memcg_lru or pmu");
	/* cut like snprintf, the full length returned */
	assert_int_equal(etm_backend_names(small, sizeof(small), ", ", ", "), (int)strlen(buf) - 2);
	assert_string_equal(small, "auto, idle_");
}

static void test_choose(void **state)
{
	const struct etm_backend *b = NULL;
	char why[512];
	int err;

	(void)state;
	assert_int_equal(etm_backend_choose("damon", &b, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "unknown access tracker 'damon' (auto, idle_pages, page_idle, damon_vaddr, "
				 "damon_paddr, memcg_lru, pmu)");
	/* a named one is taken when its probe passes, else why not */
	for (size_t i = 0; i < etm_nbackends; i++) {
		char one[256];
		bool ok = !etm_backend_probe(&etm_backends[i], one, sizeof(one));

		err = etm_backend_choose(etm_backends[i].name, &b, why, sizeof(why));
		if (ok) {
			assert_int_equal(err, 0);
			assert_ptr_equal(b, &etm_backends[i]);
		} else {
			assert_int_not_equal(err, 0);
			assert_non_null(strstr(why, "unavailable: "));
		}
	}
	/* auto: the first that passes, or the reasons of all */
	err = etm_backend_choose(NULL, &b, why, sizeof(why));
	if (err) {
		assert_non_null(strstr(why, "no access tracker: idle_pages: "));
		assert_null(strstr(why, "pmu"));
	} else {
		assert_int_equal(etm_backend_probe(b, why, sizeof(why)), 0);
		/* auto never takes a keyed tracker: the PMU keys choose it */
		assert_false(b->tracker && b->tracker->keyed);
	}
}

static void test_targets_merge(void **state)
{
	struct etm_memcg_target t[] = {
		{ .path = "/a", .swap = true },	 { .path = "/b", .swap = true }, { .path = "/a", .swap = false },
		{ .path = "/c", .swap = false }, { .path = "/b", .swap = true }, { .path = "/a", .swap = true },
	};

	(void)state;
	assert_int_equal(etm_memcg_targets_merge(t, 6), 3);
	assert_string_equal(t[0].path, "/a");
	assert_false(t[0].swap); /* one of its processes may not swap */
	assert_string_equal(t[1].path, "/b");
	assert_true(t[1].swap);
	assert_string_equal(t[2].path, "/c");
	assert_false(t[2].swap);
	assert_int_equal(etm_memcg_targets_merge(t, 0), 0);
}

/* pageout (process_madvise, Linux 5.10+: the oldest kernel etmem supports) serves swap only. */
static void test_action_dest(void **state)
{
	const struct etm_action_ops *a = &etm_action_pageout;
	struct etm_action_stats st;
	char why[256];
	void *ctx;

	(void)state;
	assert_int_equal(a->probe(why, sizeof(why)), 0);
	assert_int_equal(a->open(getpid(), &ctx), 0);
	assert_int_equal(a->add(ctx, 0x100000, 4096, 0), -EINVAL); /* node 0: not a swap-out */
	assert_int_equal(a->flush(ctx), 0);			   /* nothing queued */
	a->stats(ctx, &st);
	assert_int_equal(st.bytes_done, 0);
	for (int i = 0; i < ETM_ACTION_FAIL_NR; i++)
		assert_int_equal(st.bytes_failed[i], 0);
	a->close(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),	      cmocka_unit_test(test_names),	  cmocka_unit_test(test_choose),
		cmocka_unit_test(test_targets_merge), cmocka_unit_test(test_action_dest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
