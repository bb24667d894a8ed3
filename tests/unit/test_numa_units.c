/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Folio units from pagemap entries and kpageflags, on fake frames: base
 * pages, a PMD-mapped THP (whole, or from its middle), a 16 KiB mTHP, holes
 * and swapped pages; then the real kernel on this process's own THP.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "scan/numa_units.h"

#define START 0x7f0000000000ULL
#define PG 4096ULL
#define PRESENT (1ULL << 63)
#define SWAPPED (1ULL << 62)
#define NFRAMES 8192

/* Frame flags: a THP at frames 1024..1535, an mTHP at 4000..4003, a stray tail at 6000. */
static uint64_t frames[NFRAMES];
static int reads;

static int fake_kpf(void *arg, uint64_t pfn, size_t n, uint64_t *flags)
{
	(void)arg;
	reads++;
	for (size_t i = 0; i < n; i++)
		flags[i] = pfn + i < NFRAMES ? frames[pfn + i] : 0;
	return 0;
}

static int setup_frames(void **state)
{
	(void)state;
	memset(frames, 0, sizeof(frames));
	frames[1024] = ETM_KPF_COMPOUND_HEAD | ETM_KPF_THP;
	for (int i = 1025; i < 1536; i++)
		frames[i] = ETM_KPF_COMPOUND_TAIL | ETM_KPF_THP;
	frames[4000] = ETM_KPF_COMPOUND_HEAD;
	for (int i = 4001; i < 4004; i++)
		frames[i] = ETM_KPF_COMPOUND_TAIL;
	frames[6000] = ETM_KPF_COMPOUND_TAIL; /* its head was freed: counted as one page */
	return 0;
}

static void test_mixed(void **state)
{
	static uint64_t pm[1024];
	static struct etm_numa_page out[1024];
	size_t n = 0, k, nout;

	(void)state;
	pm[n++] = PRESENT | 77;	  /* base page */
	pm[n++] = 0;		  /* hole */
	pm[n++] = SWAPPED | 123;  /* swapped: not movable, no unit */
	for (k = 0; k < 512; k++) /* the THP, in order */
		pm[n++] = PRESENT | (1024 + k);
	for (k = 0; k < 4; k++) /* the mTHP */
		pm[n++] = PRESENT | (4000 + k);
	pm[n++] = PRESENT | 6000;
	pm[n++] = PRESENT | 78;
	assert_int_equal(etm_numa_units_parse(START, pm, n, fake_kpf, NULL, out, &nout), 0);
	assert_int_equal(nout, 5);
	assert_int_equal(out[0].addr, START);
	assert_int_equal(out[0].shift, 12);
	assert_int_equal(out[1].addr, START + 3 * PG);
	assert_int_equal(out[1].shift, 21);
	assert_int_equal(out[2].addr, START + 515 * PG);
	assert_int_equal(out[2].shift, 14);
	assert_int_equal(out[3].addr, START + 519 * PG);
	assert_int_equal(out[3].shift, 12);
	assert_int_equal(out[4].shift, 12);
}

/* A range that starts in the middle of a THP: its unit starts at the head, before the range. */
static void test_mid_folio(void **state)
{
	uint64_t pm[300];
	struct etm_numa_page out[300];
	size_t nout;

	(void)state;
	for (int i = 0; i < 300; i++)
		pm[i] = PRESENT | (1024 + 100 + i);
	reads = 0;
	assert_int_equal(etm_numa_units_parse(START, pm, 300, fake_kpf, NULL, out, &nout), 0);
	assert_int_equal(nout, 1);
	assert_int_equal(out[0].addr, START - 100 * PG);
	assert_int_equal(out[0].shift, 21);
	assert_true(reads <= 4); /* one look per folio, not per page */
}

static void test_no_frame_numbers(void **state)
{
	uint64_t pm[4] = { PRESENT, PRESENT, 0, PRESENT };
	struct etm_numa_page out[4];
	size_t nout = 9;

	(void)state;
	assert_int_equal(etm_numa_units_parse(START, pm, 4, fake_kpf, NULL, out, &nout), -EPERM);
	assert_int_equal(nout, 0);
	/* nothing present at all is no error: no units */
	pm[0] = pm[1] = pm[3] = 0;
	assert_int_equal(etm_numa_units_parse(START, pm, 4, fake_kpf, NULL, out, &nout), 0);
	assert_int_equal(nout, 0);
}

/* This process's own THP on the running kernel, when it gives one. */
static void test_real_thp(void **state)
{
	const size_t huge = 2 << 20, len = 2 * huge;
	struct etm_numa_page out[1024];
	char *p, *a;
	size_t nout, i, sum;
	int err;

	(void)state;
	p = mmap(NULL, len + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	a = (char *)(((uintptr_t)p + huge - 1) & ~(uintptr_t)(huge - 1));
	if (madvise(a, len, MADV_HUGEPAGE)) {
		munmap(p, len + huge);
		print_message("no THP in this kernel (madvise MADV_HUGEPAGE failed)\n");
		skip();
	}
	memset(a, 1, len);
	err = etm_numa_units(getpid(), (uintptr_t)a, len / PG, out, &nout);
	if (err == -EPERM || err == -EACCES) {
		munmap(p, len + huge);
		print_message("pagemap frame numbers need CAP_SYS_ADMIN\n");
		skip();
	}
	assert_int_equal(err, 0);
	for (i = 0, sum = 0; i < nout; i++)
		sum += etm_numa_page_bytes(&out[i]);
	/* Huge or base pages, the units cover the range exactly. */
	assert_int_equal(sum, len);
	for (i = 0; i < nout; i++)
		if (out[i].shift == 21)
			break;
	print_message("%zu units for 4 MiB, first huge at %zu\n", nout, i);
	/* The kernel may fall back to base pages (fragmented memory); a THP unit is aligned. */
	if (i < nout)
		assert_int_equal(out[i].addr % huge, 0);
	munmap(p, len + huge);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mixed),
		cmocka_unit_test(test_mid_folio),
		cmocka_unit_test(test_no_frame_numbers),
		cmocka_unit_test(test_real_thp),
	};

	return cmocka_run_group_tests(tests, setup_frames, NULL);
}
