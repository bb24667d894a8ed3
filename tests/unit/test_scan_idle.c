/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The idle_pages stream parser: every type, SET_HVA, holes, PMD_IDLE_PTES,
 * hostile input. These streams are hand-written; test_scan_idle_kernel.c
 * checks the parser against streams read from a real kernel (the rig's),
 * which has every type but the dirty ones. The dirty items below
 * (test_every_type) come only from openEuler's scan of a VM's EPT; an
 * unaligned PMD item (test_set_hva_twice_and_unaligned) and a stream that
 * ends with a hole (test_stream_into_pagestate) come from no kernel and
 * test robustness.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "scan/idle_stream.h"
#include "scan/pagestate.h"

struct item {
	uint64_t addr, nr;
	enum page_type type;
	unsigned weight;
};

struct sink {
	struct item it[64];
	size_t n;
	int stop_after;
};

static int collect(void *arg, uint64_t addr, uint64_t nr, enum page_type type, unsigned weight)
{
	struct sink *s = arg;

	if (s->n < 64)
		s->it[s->n] = (struct item){ addr, nr, type, weight };
	s->n++;
	if (s->stop_after && (int)s->n >= s->stop_after)
		return 42;
	return 0;
}

static size_t hva(uint8_t *b, uint64_t a)
{
	b[0] = ETM_PIP_CMD_SET_HVA;
	for (int i = 0; i < 8; i++)
		b[1 + i] = (uint8_t)(a >> (56 - 8 * i));
	return 9;
}

#define BYTE(t, nr) ((uint8_t)(((t) << 4) | (nr)))

static void test_every_type(void **state)
{
	uint8_t b[64];
	size_t n = hva(b, 0x40000000ULL); /* 1 GiB: aligned for every size */
	struct sink s = { 0 };
	struct etm_pip_result r;

	(void)state;
	b[n++] = BYTE(ETM_PIP_PUD_PRESENT, 1);	/* 1 GiB page */
	b[n++] = BYTE(ETM_PIP_PMD_ACCESSED, 2); /* 2 PMDs */
	b[n++] = BYTE(ETM_PIP_PMD_DIRTY, 1);
	b[n++] = BYTE(ETM_PIP_PMD_IDLE, 1);
	b[n++] = BYTE(ETM_PIP_PMD_IDLE_PTES, 1);
	b[n++] = BYTE(ETM_PIP_PMD_HOLE, 1);
	b[n++] = BYTE(ETM_PIP_PTE_ACCESSED, 3);
	b[n++] = BYTE(ETM_PIP_PTE_DIRTY, 15);
	b[n++] = BYTE(ETM_PIP_PTE_IDLE, 2);
	b[n++] = BYTE(ETM_PIP_PTE_HOLE, 4);
	b[n++] = BYTE(ETM_PIP_PTE_ACCESSED, 1);
	assert_int_equal(etm_pip_parse(b, n, collect, &s, &r), 0);
	assert_int_equal(s.n, 9); /* holes emit nothing */
	uint64_t a = 0x40000000ULL;
	assert_int_equal(s.it[0].addr, a);
	assert_int_equal(s.it[0].type, PUD_TYPE);
	assert_int_equal(s.it[0].weight, 1);
	a += 1ULL << 30;
	assert_int_equal(s.it[1].addr, a);
	assert_int_equal(s.it[1].nr, 2);
	assert_int_equal(s.it[1].type, PMD_TYPE);
	a += 2 * ETM_PMD_SIZE;
	assert_int_equal(s.it[2].addr, a);
	assert_int_equal(s.it[2].weight, 3);
	a += ETM_PMD_SIZE;
	assert_int_equal(s.it[3].weight, 0);
	assert_int_equal(s.it[3].type, PMD_TYPE);
	a += ETM_PMD_SIZE;
	/* PMD_IDLE_PTES = 512 idle PTE pages */
	assert_int_equal(s.it[4].addr, a);
	assert_int_equal(s.it[4].nr, 512);
	assert_int_equal(s.it[4].type, PTE_TYPE);
	assert_int_equal(s.it[4].weight, 0);
	a += 2 * ETM_PMD_SIZE; /* + the PMD hole */
	assert_int_equal(s.it[5].addr, a);
	assert_int_equal(s.it[5].nr, 3);
	assert_int_equal(s.it[5].weight, 1);
	a += 3 * 4096;
	assert_int_equal(s.it[6].addr, a);
	assert_int_equal(s.it[6].nr, 15);
	assert_int_equal(s.it[6].weight, 3);
	a += 15 * 4096;
	assert_int_equal(s.it[7].weight, 0);
	a += 2 * 4096 + 4 * 4096; /* idle, then the PTE hole */
	assert_int_equal(s.it[8].addr, a);
	assert_int_equal(r.next, a + 4096);
	assert_int_equal(r.used, n);
}

static void test_set_hva_twice_and_unaligned(void **state)
{
	uint8_t b[64];
	size_t n = hva(b, 0x1000);
	struct sink s = { 0 };
	struct etm_pip_result r;

	(void)state;
	b[n++] = BYTE(ETM_PIP_PMD_ACCESSED, 1); /* 0x1000 is not 2 MiB aligned: skipped */
	b[n++] = BYTE(ETM_PIP_PTE_ACCESSED, 1); /* at 0x1000 + 2 MiB: PTE aligned */
	n += hva(b + n, 0x7f0000000000ULL);
	b[n++] = BYTE(ETM_PIP_PTE_IDLE, 1);
	assert_int_equal(etm_pip_parse(b, n, collect, &s, &r), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.it[0].addr, 0x1000 + ETM_PMD_SIZE);
	assert_int_equal(s.it[1].addr, 0x7f0000000000ULL);
}

static void test_hostile(void **state)
{
	struct sink s = { 0 };
	struct etm_pip_result r;
	uint8_t b[32];
	size_t n;

	(void)state;
	/* page item before any SET_HVA */
	b[0] = BYTE(ETM_PIP_PTE_ACCESSED, 1);
	assert_int_equal(etm_pip_parse(b, 1, collect, &s, &r), -EPROTO);
	assert_int_equal(s.n, 0);
	/* truncated SET_HVA */
	n = hva(b, 0x1000);
	assert_int_equal(etm_pip_parse(b, n - 1, collect, &s, &r), -EPROTO);
	assert_int_equal(r.used, 0);
	/* truncated SET_HVA after good items: the good ones are emitted */
	n = hva(b, 0x1000);
	b[n++] = BYTE(ETM_PIP_PTE_DIRTY, 2);
	b[n++] = ETM_PIP_CMD_SET_HVA;
	b[n++] = 0x00;
	assert_int_equal(etm_pip_parse(b, n, collect, &s, &r), -EPROTO);
	assert_int_equal(s.n, 1);
	assert_int_equal(r.used, 10);
	/* unknown type codes 11..15 and PIP_CMD with another nr */
	for (unsigned t = 11; t < 16; t++) {
		n = hva(b, 0);
		b[n++] = BYTE(t, 1);
		assert_int_equal(etm_pip_parse(b, n, collect, &s, &r), -EPROTO);
	}
	n = hva(b, 0);
	b[n++] = 0xA1;
	assert_int_equal(etm_pip_parse(b, n, collect, &s, &r), -EPROTO);
	/* nr 0 */
	n = hva(b, 0);
	b[n++] = BYTE(ETM_PIP_PTE_ACCESSED, 0);
	assert_int_equal(etm_pip_parse(b, n, collect, &s, &r), -EPROTO);
	/* cursor overflow at the top of the address space */
	n = hva(b, 0xffffffffffe00000ULL);
	b[n++] = BYTE(ETM_PIP_PMD_ACCESSED, 2);
	s.n = 0;
	assert_int_equal(etm_pip_parse(b, n, collect, &s, &r), -EPROTO);
	assert_int_equal(s.n, 0);
	/* empty */
	assert_int_equal(etm_pip_parse(b, 0, collect, &s, &r), 0);
}

static void test_emit_stops(void **state)
{
	uint8_t b[32];
	size_t n = hva(b, 0);
	struct sink s = { .stop_after = 1 };
	struct etm_pip_result r;

	(void)state;
	b[n++] = BYTE(ETM_PIP_PTE_ACCESSED, 1);
	b[n++] = BYTE(ETM_PIP_PTE_ACCESSED, 1);
	assert_int_equal(etm_pip_parse(b, n, collect, &s, &r), 42);
	assert_int_equal(s.n, 1);
}

static int to_ps(void *arg, uint64_t addr, uint64_t nr, enum page_type type, unsigned weight)
{
	uint64_t per = type == PMD_TYPE ? 512 : type == PUD_TYPE ? 262144 : 1;

	etm_pagestate_mark(arg, addr, nr * per, weight);
	return 0;
}

/* The parser feeding the page state: counts across passes. */
static void test_stream_into_pagestate(void **state)
{
	struct etm_pagestate *ps = etm_pagestate_new();
	struct etm_pip_result r;
	struct etm_grade g;
	uint8_t b[32];
	size_t n;

	(void)state;
	assert_int_equal(etm_pagestate_add_range(ps, 0x200000, 0x200000 + 16 * 4096), 0);
	for (int pass = 0; pass < 3; pass++) {
		n = hva(b, 0x200000);
		b[n++] = BYTE(ETM_PIP_PTE_ACCESSED, 4); /* pages 0-3 */
		b[n++] = BYTE(ETM_PIP_PTE_IDLE, 4);	/* 4-7 */
		b[n++] = BYTE(ETM_PIP_PTE_HOLE, 4);	/* 8-11 not present */
		b[n++] = BYTE(ETM_PIP_PTE_DIRTY, pass == 0 ? 4 : 0) | 0;
		if (pass)
			n--; /* dirty only in the first pass */
		assert_int_equal(etm_pip_parse(b, n, to_ps, ps, &r), 0);
	}
	assert_int_equal(etm_ps_count(ps->r[0].st[0]), 3);
	assert_int_equal(etm_ps_count(ps->r[0].st[4]), 0);
	assert_int_equal(etm_ps_count(ps->r[0].st[8]), -1);
	assert_int_equal(etm_ps_count(ps->r[0].st[12]), 3);
	etm_pagestate_grade(ps, 1, &g);
	assert_int_equal(g.scanned, 12);
	assert_int_equal(g.cold, 4);
	assert_int_equal(g.hot, 8);
	etm_pagestate_grade(ps, 4, &g);
	assert_int_equal(g.cold, 12);
	etm_pagestate_free(ps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_type),
		cmocka_unit_test(test_set_hva_twice_and_unaligned),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_emit_stops),
		cmocka_unit_test(test_stream_into_pagestate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
