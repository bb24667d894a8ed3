/* SPDX-License-Identifier: MulanPSL-2.0 */
/* The registry's store of what engines learnt (daemon/learnt.h): take/put, ownership, its bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/learnt.h"

static int freed;

static void count_free(void *p)
{
	freed++;
	free(p);
}

static int *int_new(int v)
{
	int *p = malloc(sizeof(*p));

	assert_non_null(p);
	*p = v;
	return p;
}

static void test_take_put(void **state)
{
	struct etm_learnt *ls = etm_learnt_new();
	size_t size = 99;
	int *v;

	(void)state;
	freed = 0;
	assert_null(etm_learnt_take(ls, "memcg:1:/a", &size));
	assert_int_equal(size, 0);
	etm_learnt_put(ls, "memcg:1:/a", int_new(1), sizeof(int), count_free);
	assert_int_equal(etm_learnt_count(ls), 1);
	assert_int_equal(etm_learnt_bytes(ls), sizeof(int));
	/* Taken: moved out to the caller, a second take finds nothing (two tasks never share one). */
	v = etm_learnt_take(ls, "memcg:1:/a", &size);
	assert_non_null(v);
	assert_int_equal(*v, 1);
	assert_int_equal(size, sizeof(int));
	assert_null(etm_learnt_take(ls, "memcg:1:/a", &size));
	assert_int_equal(etm_learnt_count(ls), 0);
	assert_int_equal(etm_learnt_bytes(ls), 0);
	assert_int_equal(freed, 0);
	/* Put back, and replaced: the old value is freed, the last one put is kept. */
	etm_learnt_put(ls, "memcg:1:/a", v, sizeof(int), count_free);
	etm_learnt_put(ls, "memcg:1:/a", int_new(2), sizeof(int), count_free);
	assert_int_equal(freed, 1);
	assert_int_equal(etm_learnt_count(ls), 1);
	v = etm_learnt_take(ls, "memcg:1:/a", &size);
	assert_int_equal(*v, 2);
	free(v);
	/* What is left is freed with the store. */
	etm_learnt_put(ls, "pid:1:2", int_new(3), sizeof(int), count_free);
	etm_learnt_free(ls);
	assert_int_equal(freed, 2);
	etm_learnt_free(NULL);
}

static void test_bounds(void **state)
{
	struct etm_learnt *ls = etm_learnt_new();
	char key[ETM_LEARNT_KEY_MAX + 2];
	size_t size;
	int *v;

	(void)state;
	freed = 0;
	/* A key too long, a value larger than the store: owned and dropped at once. */
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = 0;
	etm_learnt_put(ls, key, int_new(0), sizeof(int), count_free);
	etm_learnt_put(ls, "big", int_new(0), ETM_LEARNT_MAX_BYTES + 1, count_free);
	assert_int_equal(freed, 2);
	assert_int_equal(etm_learnt_count(ls), 0);
	/* Past the entry bound the least recently put goes first. */
	for (int i = 0; i <= ETM_LEARNT_MAX_ENTRIES; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		etm_learnt_put(ls, key, int_new(i), sizeof(int), count_free);
	}
	assert_int_equal(etm_learnt_count(ls), ETM_LEARNT_MAX_ENTRIES);
	assert_int_equal(freed, 3);
	assert_null(etm_learnt_take(ls, "k0", &size));
	v = etm_learnt_take(ls, "k1", &size);
	assert_non_null(v);
	free(v);
	/* Past the byte bound likewise: two halves of the store leave room for one. */
	etm_learnt_free(ls);
	ls = etm_learnt_new();
	freed = 0;
	etm_learnt_put(ls, "a", int_new(1), ETM_LEARNT_MAX_BYTES / 2, count_free);
	etm_learnt_put(ls, "b", int_new(2), ETM_LEARNT_MAX_BYTES / 2, count_free);
	etm_learnt_put(ls, "c", int_new(3), ETM_LEARNT_MAX_BYTES / 2, count_free);
	assert_int_equal(freed, 1);
	assert_int_equal(etm_learnt_bytes(ls), ETM_LEARNT_MAX_BYTES);
	assert_null(etm_learnt_take(ls, "a", &size));
	etm_learnt_free(ls);
	assert_int_equal(freed, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_take_put),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
