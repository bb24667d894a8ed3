/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The heatmap ring (daemon/heatmap.h): regions of equal page counts over a
 * process's tracked memory, access counts summed, residency sampled from
 * this test's own pagemap, the ring's bound, and its report (text, and JSON
 * kept for the schema check).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/heatmap.h"
#include "daemon/json_out.h"
#include "daemon/report.h"
#include "scan/pagestate.h"
#include "test_json_sample.h"

#define PAGES 960 /* ten pages per region */

/* A mapping of ours: the first half touched (resident), the second never (neither). */
static uint8_t *mem;

static int setup(void **state)
{
	(void)state;
	mem = mmap(NULL, PAGES * ETM_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(mem != MAP_FAILED);
	for (size_t i = 0; i < PAGES / 2; i++)
		mem[i * ETM_PAGE_SIZE] = 1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	munmap(mem, PAGES * ETM_PAGE_SIZE);
	return 0;
}

/* The mapping as a page state: the first quarter hot (count 3), the rest count 0. */
static struct etm_pagestate *state_of_mem(void)
{
	struct etm_pagestate *ps = etm_pagestate_new();
	uint64_t a = (uint64_t)(uintptr_t)mem;

	assert_int_equal(etm_pagestate_add_range(ps, a, a + PAGES * ETM_PAGE_SIZE), 0);
	etm_pagestate_mark(ps, a, PAGES, 0);
	etm_pagestate_mark(ps, a, PAGES / 4, 3);
	return ps;
}

static char *report_text(struct etm_heat_ring *r, int *rc)
{
	g_autoptr(etm_report) rep = etm_report_new();
	g_autoptr(GString) err = g_string_new(NULL);
	GString *out = g_string_new(NULL);

	*rc = etm_heat_ring_report(r, rep, err);
	if (*rc)
		g_string_assign(out, err->str);
	else
		etm_report_render_text(rep, out);
	return g_string_free(out, FALSE);
}

static void test_regions(void **state)
{
	struct etm_heat_ring *r = etm_heat_ring_new();
	struct etm_pagestate *ps = state_of_mem();
	struct etm_heat_cycle *c = etm_heat_cycle_new();
	g_autofree char *text = NULL;
	g_autofree char *first = NULL, *mid = NULL, *last = NULL;
	int rc;

	(void)state;
	text = report_text(r, &rc);
	assert_int_equal(rc, -EAGAIN);
	assert_string_equal(text, "no heatmap yet: the task has not finished a cycle");
	g_free(text);
	etm_heat_cycle_add_pagestate(c, getpid(), ps);
	etm_heat_ring_commit(r, c, 7, ETM_HEAT_ACCESSES, 3, "page_idle");
	text = report_text(r, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(text, "backend: page_idle\n"));
	assert_non_null(strstr(text, "     7"));
	/* Region 0: ten hot pages (count 3 each), resident; region 24 (page 240): cold, resident;
	 * region 95: cold, never touched (not resident, not swapped). */
	first = g_strdup_printf("     7      0 %7d %15" G_GUINT64_FORMAT "       10       10        0        30\n",
				(int)getpid(), (guint64)(uintptr_t)mem);
	mid = g_strdup_printf("     7     24 %7d %15" G_GUINT64_FORMAT "       10       10        0         0\n",
			      (int)getpid(), (guint64)((uintptr_t)mem + 240 * ETM_PAGE_SIZE));
	last = g_strdup_printf("     7     95 %7d %15" G_GUINT64_FORMAT "       10        0        0         0\n",
			       (int)getpid(), (guint64)((uintptr_t)mem + 950 * ETM_PAGE_SIZE));
	assert_non_null(strstr(text, first));
	assert_non_null(strstr(text, mid));
	assert_non_null(strstr(text, last));
	etm_pagestate_free(ps);
	etm_heat_ring_free(r);
}

/* Two processes share the regions in proportion to their pages, in pid order. */
static void test_two_processes(void **state)
{
	struct etm_heat_ring *r = etm_heat_ring_new();
	struct etm_pagestate *ps = state_of_mem();
	struct etm_heat_cycle *c = etm_heat_cycle_new();
	g_autofree char *text = NULL, *row48 = NULL;
	int rc;

	(void)state;
	/* The same memory under two pids (the second's pagemap is read from a pid that is not there). */
	etm_heat_cycle_add_pagestate(c, 0x7ffffff0, ps);
	etm_heat_cycle_add_pagestate(c, getpid(), ps);
	etm_heat_ring_commit(r, c, 1, ETM_HEAT_ACCESSES, 3, "page_idle");
	text = report_text(r, &rc);
	assert_int_equal(rc, 0);
	/* 1920 pages, 20 per region: region 48 is the second (higher) pid's first. */
	row48 = g_strdup_printf("     1     48 %7d %15" G_GUINT64_FORMAT "       20        0        0        60\n",
				0x7ffffff0, (guint64)(uintptr_t)mem);
	assert_non_null(strstr(text, row48));
	etm_pagestate_free(ps);
	etm_heat_ring_free(r);
}

/* Page counts that do not divide: every region gets pages, and none is lost or counted twice. */
static void test_uneven(void **state)
{
	static const unsigned sizes[] = { 1, 97, 3, 130, 1 };
	struct etm_heat_ring *r = etm_heat_ring_new();
	struct etm_pagestate *ps = etm_pagestate_new();
	struct etm_heat_cycle *c = etm_heat_cycle_new();
	g_autofree char *text = NULL;
	uint64_t a = (uint64_t)(uintptr_t)mem, total = 0, sum = 0, accesses = 0;
	unsigned rows = 0;
	int rc;

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
		assert_int_equal(etm_pagestate_add_range(ps, a, a + sizes[i] * ETM_PAGE_SIZE), 0);
		etm_pagestate_mark(ps, a, sizes[i], 1);
		total += sizes[i];
		a += (sizes[i] + 1) * ETM_PAGE_SIZE; /* a hole between ranges */
	}
	etm_heat_cycle_add_pagestate(c, getpid(), ps);
	etm_heat_ring_commit(r, c, 1, ETM_HEAT_ACCESSES, 3, "page_idle");
	text = report_text(r, &rc);
	assert_int_equal(rc, 0);
	for (char *line = strstr(text, "regions by cycle:"); line && (line = strchr(line, '\n')); line++) {
		unsigned long long cyc, reg, start, pages, res, sw, acc;
		int pid;

		if (sscanf(line + 1, "%llu %llu %d %llu %llu %llu %llu %llu", &cyc, &reg, &pid, &start, &pages, &res,
			   &sw, &acc) != 8)
			continue;
		assert_true(pages > 0);
		assert_int_equal(pid, getpid());
		sum += pages;
		accesses += acc;
		rows++;
	}
	assert_int_equal(rows, ETM_HEAT_REGIONS);
	assert_int_equal(sum, total);
	assert_int_equal(accesses, total); /* every page seen once with weight 1 */
	etm_pagestate_free(ps);
	etm_heat_ring_free(r);
}

/* The ring keeps the last ETM_HEAT_CYCLES cycles; its JSON is kept for the schema check. */
static void test_ring_bound_and_json(void **state)
{
	struct etm_heat_ring *r = etm_heat_ring_new();
	struct etm_pagestate *ps = state_of_mem();
	g_autoptr(etm_report) rep = etm_report_new();
	g_autoptr(GString) err = g_string_new(NULL);
	g_autoptr(GString) out = g_string_new(NULL);
	struct etm_json j;

	(void)state;
	for (uint64_t cyc = 1; cyc <= ETM_HEAT_CYCLES + 5; cyc++) {
		struct etm_heat_cycle *c = etm_heat_cycle_new();

		etm_heat_cycle_add_pagestate(c, getpid(), ps);
		etm_heat_ring_commit(r, c, cyc, cyc % 2 ? ETM_HEAT_ACCESSES : ETM_HEAT_RESIDENCY, 3, "page_idle");
	}
	assert_int_equal(etm_heat_ring_report(r, rep, err), 0);
	etm_json_begin(&j, out, "engine_command");
	etm_json_str(&j, "project", "p");
	etm_json_str(&j, "engine", "slide");
	etm_json_str(&j, "task", "t");
	etm_json_str(&j, "command", "heatmap");
	etm_report_render_json(rep, &j);
	etm_json_end(&j);
	etm_test_save_json_sample("heatmap_ring", out->str);
	assert_null(strstr(out->str, "\"cycle\": 5,"));
	assert_non_null(strstr(out->str, "\"cycle\": 6,"));
	assert_non_null(strstr(out->str, "\"cycle\": 69,"));
	assert_non_null(strstr(out->str, "\"mode\": \"residency\""));
	etm_pagestate_free(ps);
	etm_heat_ring_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regions),
		cmocka_unit_test(test_two_processes),
		cmocka_unit_test(test_uneven),
		cmocka_unit_test(test_ring_bound_and_json),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
