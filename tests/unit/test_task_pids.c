/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * tk->pids against the plugin ABI: alloc_pid_params for each pid that
 * appears, free_pid_params for each that goes, a failed alloc leaves its
 * pid out, and clearing frees every one.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/engine.h"

static int allocs, frees, live;
static unsigned fail_pid;

static int alloc_pid(struct engine *eng, struct task_pid **tp)
{
	(void)eng;
	allocs++;
	if ((*tp)->pid == fail_pid)
		return -ENOMEM;
	(*tp)->params = malloc(16);
	live++;
	return 0;
}

static void free_pid(struct engine *eng, struct task_pid **tp)
{
	(void)eng;
	frees++;
	if ((*tp)->params)
		live--;
	free((*tp)->params);
	(*tp)->params = NULL;
}

static void expect_pids(const struct task *tk, const pid_t *want, size_t n)
{
	size_t i = 0;

	for (const struct task_pid *tp = tk->pids; tp; tp = tp->next, i++) {
		assert_true(i < n);
		assert_int_equal(tp->pid, want[i]);
		assert_ptr_equal(tp->tk, tk);
		assert_non_null(tp->params);
	}
	assert_int_equal(i, n);
}

static void test_sync(void **state)
{
	struct engine_ops ops = { .alloc_pid_params = alloc_pid, .free_pid_params = free_pid };
	struct engine eng = { .ops = &ops };
	struct task tk = { .name = "t" };
	const pid_t a[] = { 10, 20, 30 }, b[] = { 5, 20, 30, 40 }, c[] = { 20, 41, 42 };

	(void)state;
	assert_int_equal(etm_task_pids_sync(&eng, &tk, a, 3), 0);
	expect_pids(&tk, a, 3);
	assert_int_equal(allocs, 3);
	/* 10 went, 5 and 40 came: two allocs, one free, 20 and 30 kept as they were */
	assert_int_equal(etm_task_pids_sync(&eng, &tk, b, 4), 0);
	expect_pids(&tk, b, 4);
	assert_int_equal(allocs, 5);
	assert_int_equal(frees, 1);
	/* an alloc that fails: the pid is left out, and what it left is freed */
	fail_pid = 41;
	assert_int_equal(etm_task_pids_sync(&eng, &tk, c, 3), 1);
	expect_pids(&tk, (const pid_t[]){ 20, 42 }, 2);
	assert_int_equal(live, 2);
	etm_task_pids_clear(&eng, &tk);
	assert_null(tk.pids);
	assert_int_equal(live, 0);
	assert_int_equal(allocs, frees);
}

/* An engine without the two entries still gets the list (a plugin reads tk->pids). */
static void test_no_ops(void **state)
{
	struct engine_ops ops = { 0 };
	struct engine eng = { .ops = &ops };
	struct task tk = { .name = "t" };
	const pid_t a[] = { 1, 2 };
	size_t n = 0;

	(void)state;
	assert_int_equal(etm_task_pids_sync(&eng, &tk, a, 2), 0);
	for (struct task_pid *tp = tk.pids; tp; tp = tp->next)
		n++;
	assert_int_equal(n, 2);
	assert_int_equal(etm_task_pids_sync(&eng, &tk, NULL, 0), 0);
	assert_null(tk.pids);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sync),
		cmocka_unit_test(test_no_ops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
