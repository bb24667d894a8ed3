/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The one tracker choice of slide and cslide: what an engine cannot use is
 * refused by name with the reason (before the kernel is asked), and auto
 * never picks it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/engines/tracker_choice.h"

static void test_named_refusals(void **state)
{
	struct etm_tracker_req req = { .engine = "cslide", .task = "t", .per_page = true };
	const struct etm_backend *b = NULL;
	char why[512];

	(void)state;
	req.tracker = ETM_BACKEND_ID_memcg_lru;
	assert_int_equal(etm_tracker_choose(&req, &b, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "access tracker memcg_lru cannot be used here"));
	assert_non_null(strstr(why, "cslide needs each page's accesses"));
	req.tracker = ETM_BACKEND_ID_damon_paddr;
	assert_int_equal(etm_tracker_choose(&req, &b, why, sizeof(why)), -EINVAL);

	req.tracker = ETM_BACKEND_ID_page_idle;
	req.hugetlb = true;
	assert_int_equal(etm_tracker_choose(&req, &b, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "page_idle cannot see accesses to hugetlb pages"));
}

/* auto: whatever the kernel offers, never one the engine cannot use. */
static void test_auto_fits(void **state)
{
	struct etm_tracker_req req = { .engine = "cslide", .task = "t", .per_page = true, .hugetlb = true };
	const struct etm_backend *b = NULL;
	char why[1024];
	int err;

	(void)state;
	err = etm_tracker_choose(&req, &b, why, sizeof(why));
	if (err) {
		assert_int_equal(err, -ENOTSUP);
		return;
	}
	assert_non_null(b->tracker);
	assert_true(b->tracker->sees_hugetlb);
	/* slide takes any backend: a reclaimer named is at most unavailable, never refused as unfit */
	req = (struct etm_tracker_req){ .engine = "slide", .task = "t", .tracker = ETM_BACKEND_ID_memcg_lru };
	if (etm_tracker_choose(&req, &b, why, sizeof(why)))
		assert_null(strstr(why, "cannot be used here"));
	else
		assert_null(b->tracker);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_named_refusals),
		cmocka_unit_test(test_auto_fits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
