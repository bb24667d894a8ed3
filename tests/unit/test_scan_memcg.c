/* SPDX-License-Identifier: MulanPSL-2.0 */
/* memcg_lru's pure parts: memory.stat parsing, the reclaim amount, the stepwise v1 limit plan. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "scan/memcg_reclaim.h"
#include "test_file_util.h"
#include "scan/procfs.h"

#define MiB (1ULL << 20)

static void parse(const char *text, struct etm_memcg_lru_stat *s, int want)
{
	assert_int_equal(etm_memcg_stat_parse(text, strlen(text), s), want);
}

static void test_stat_v1_totals_win(void **state)
{
	struct etm_memcg_lru_stat s;

	(void)state;
	parse("cache 9539584\nrss 6709248\nswap 4096\ninactive_anon 100\nactive_anon 200\n"
	      "inactive_file 8192\ntotal_swap 8192\ntotal_inactive_anon 1000\ntotal_active_anon 2000\n",
	      &s, 0);
	assert_int_equal(s.inactive_anon, 1000);
	assert_int_equal(s.active_anon, 2000);
	assert_true(s.has_swap);
	assert_int_equal(s.swap, 8192);
}

static void test_stat_v1_own_only(void **state)
{
	struct etm_memcg_lru_stat s;

	(void)state;
	/* only one total_ key: the own counters are used, as a consistent set */
	parse("inactive_anon 100\nactive_anon 200\ntotal_inactive_anon 1000\n", &s, 0);
	assert_int_equal(s.inactive_anon, 100);
	assert_int_equal(s.active_anon, 200);
	assert_false(s.has_swap);
}

static void test_stat_v2(void **state)
{
	struct etm_memcg_lru_stat s;

	(void)state;
	parse("anon 1073741824\nfile 0\nkernel 4096\nactive_anon 107374182\ninactive_anon 966367642\n"
	      "active_file 0\ninactive_file 0", /* no final newline */
	      &s, 0);
	assert_int_equal(s.inactive_anon, 966367642);
	assert_int_equal(s.active_anon, 107374182);
}

static void test_stat_bad(void **state)
{
	struct etm_memcg_lru_stat s;

	(void)state;
	parse("", &s, -EINVAL);
	parse("inactive_anon 5\n", &s, -EINVAL);
	parse("inactive_anon x\nactive_anon 3\n", &s, -EINVAL);
	/* overflow is not a value */
	parse("inactive_anon 99999999999999999999999\nactive_anon 3\n", &s, -EINVAL);
	/* prefixes and suffixes are other keys */
	parse("inactive_anonx 5\nxactive_anon 3\n", &s, -EINVAL);
	parse("inactive_anon  5\nactive_anon 3\n", &s, -EINVAL); /* two blanks: not the kernel's format */
	{
		const char bin[] = "inactive_anon 5\0\nactive_anon 3\n";

		assert_int_equal(etm_memcg_stat_parse(bin, sizeof(bin) - 1, &s), 0);
		assert_int_equal(s.inactive_anon, 5);
		assert_int_equal(s.active_anon, 3);
	}
}

static void test_amount(void **state)
{
	struct etm_memcg_lru_stat s = { .inactive_anon = 900 * MiB + 123, .active_anon = 100 * MiB };

	(void)state;
	assert_int_equal(etm_memcg_cold_amount(&s, 0), 900 * MiB);
	assert_int_equal(etm_memcg_cold_amount(&s, 100 * MiB), 800 * MiB);
	assert_int_equal(etm_memcg_cold_amount(&s, 900 * MiB), 0);
	assert_int_equal(etm_memcg_cold_amount(&s, 2000 * MiB), 0);
	s.inactive_anon = MiB - 4096; /* below the minimum worth a reclaim */
	assert_int_equal(etm_memcg_cold_amount(&s, 0), 0);
	s.inactive_anon = MiB;
	assert_int_equal(etm_memcg_cold_amount(&s, 0), MiB);
}

static void test_keep(void **state)
{
	struct etm_memcg_lru_stat s = { .inactive_anon = 50 * MiB, .active_anon = 800 * MiB };

	(void)state;
	/* a short inactive list is left to the LRU: the kernel refills it with hot pages */
	assert_int_equal(etm_memcg_keep(&s, 0), 800 * MiB / ETM_MEMCG_KEEP_DIV);
	assert_int_equal(etm_memcg_cold_amount(&s, etm_memcg_keep(&s, 0)), 0);
	assert_int_equal(etm_memcg_keep(&s, 200 * MiB), 200 * MiB);
	s.active_anon = 0;
	assert_int_equal(etm_memcg_keep(&s, 0), 0);
	assert_int_equal(etm_memcg_cold_amount(&s, etm_memcg_keep(&s, 0)), 50 * MiB);
}

static void test_next_limit(void **state)
{
	(void)state;
	assert_int_equal(etm_memcg_next_limit(1024 * MiB, 100 * MiB, 64 * MiB), 960 * MiB);
	assert_int_equal(etm_memcg_next_limit(130 * MiB, 100 * MiB, 64 * MiB), 100 * MiB);
	assert_int_equal(etm_memcg_next_limit(100 * MiB, 100 * MiB, 64 * MiB), 0);
	assert_int_equal(etm_memcg_next_limit(90 * MiB, 100 * MiB, 64 * MiB), 0);
	assert_int_equal(etm_memcg_next_limit(100 * MiB, 0, 0), 0);
	/* unaligned usage: the limit is rounded up to a page, never above the usage */
	assert_int_equal(etm_memcg_next_limit(64 * MiB + 100, 0, 64 * MiB), 4096);
	assert_int_equal(etm_memcg_next_limit(4000, 0, 64 * MiB), 0);
}

static void test_plan(void **state)
{
	uint64_t l[64];
	size_t n;

	(void)state;
	n = etm_memcg_limit_plan(1026 * MiB, 900 * MiB, 64 * MiB, 0, l, 64);
	assert_int_equal(n, 15); /* 14 full cuts and the rest */
	assert_int_equal(l[0], 962 * MiB);
	for (size_t i = 1; i < n; i++)
		assert_true(l[i] < l[i - 1] && l[i - 1] - l[i] <= 64 * MiB);
	assert_int_equal(l[n - 1], 126 * MiB);
	/* the floor wins over the amount */
	n = etm_memcg_limit_plan(1026 * MiB, 2000 * MiB, 64 * MiB, 200 * MiB, l, 64);
	assert_int_equal(l[n - 1], 200 * MiB);
	/* bounded by max */
	assert_int_equal(etm_memcg_limit_plan(1026 * MiB, 900 * MiB, 64 * MiB, 0, l, 3), 3);
	/* nothing to do */
	assert_int_equal(etm_memcg_limit_plan(1026 * MiB, 0, 64 * MiB, 0, l, 64), 0);
	assert_int_equal(etm_memcg_limit_plan(0, 100, 64 * MiB, 0, l, 64), 0);
}

static void test_dir_of(void **state)
{
	struct etm_memcg_dir d;
	char longp[400];

	(void)state;
	assert_int_equal(etm_memcg_dir_of("relative", true, &d), -EINVAL);
	assert_int_equal(etm_memcg_dir_of("/a/../b", true, &d), -EINVAL);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(etm_memcg_dir_of(longp, true, &d), -ENAMETOOLONG);
	assert_int_equal(etm_memcg_dir_of("/etmem-no-such-cgroup-xyz", true, &d), -ENOENT);
	assert_string_equal(d.dir, ETM_MEMCG_V1_ROOT "/etmem-no-such-cgroup-xyz");
}

/* A v2 memory.stat as 6.12 writes it: no "swap" key (v2 reports it in memory.swap.current). */
static void test_stat_v2_full(void **state)
{
	struct etm_memcg_lru_stat s;

	(void)state;
	parse("anon 6856704\nfile 0\nkernel 618496\nkernel_stack 16384\npagetables 196608\nsec_pagetables 0\n"
	      "percpu 0\nsock 0\nvmalloc 0\nshmem 0\nzswap 0\nzswapped 0\nfile_mapped 0\nfile_dirty 0\n"
	      "file_writeback 0\nswapcached 1384448\nanon_thp 0\nfile_thp 0\nshmem_thp 0\ninactive_anon 839680\n"
	      "active_anon 6717440\ninactive_file 0\nactive_file 0\nunevictable 0\nslab_reclaimable 0\n"
	      "slab_unreclaimable 0\nslab 0\nworkingset_refault_anon 5\nworkingset_refault_file 0\n"
	      "pgscan 16384\npgsteal 14600\npswpin 5\npswpout 14600\nthp_swpout 0\n",
	      &s, 0);
	assert_int_equal(s.inactive_anon, 839680);
	assert_int_equal(s.active_anon, 6717440);
	assert_false(s.has_swap); /* swapcached, pswpout, zswap are other keys */
	assert_true(s.has_pswpout);
	assert_int_equal(s.pswpout, 14600);
}

/* /proc/PID/cgroup: the v2 line "0::/path" is the memcg unless a v1 memory line exists. */
static void test_proc_cgroup_v2(void **state)
{
	char path[256];
	bool v1 = true;
	const char *t;

	(void)state;
	t = "0::/etm-wl\n";
	assert_int_equal(etm_parse_memcg(t, strlen(t), path, sizeof(path), &v1), 0);
	assert_string_equal(path, "/etm-wl");
	assert_false(v1);
	t = "0::/a/b c"; /* no final newline; spaces are part of the name */
	assert_int_equal(etm_parse_memcg(t, strlen(t), path, sizeof(path), &v1), 0);
	assert_string_equal(path, "/a/b c");
	/* hybrid: the v1 memory hierarchy wins over the unified one */
	t = "0::/user.slice\n5:cpu,memory:/etm-wl\n1:name=systemd:/x\n";
	assert_int_equal(etm_parse_memcg(t, strlen(t), path, sizeof(path), &v1), 0);
	assert_string_equal(path, "/etm-wl");
	assert_true(v1);
	t = "0::/\n";
	assert_int_equal(etm_parse_memcg(t, strlen(t), path, sizeof(path), &v1), 0);
	assert_string_equal(path, "/");
	t = "1:name=systemd:/x\n";
	assert_int_equal(etm_parse_memcg(t, strlen(t), path, sizeof(path), &v1), -ENOENT);
	t = "0::/etm-wl\n";
	assert_int_equal(etm_parse_memcg(t, strlen(t), path, 4, &v1), -ENAMETOOLONG);
}

/*
 * The v2 path on a stand-in directory (regular files): memory.reclaim gets
 * ETM_MEMCG_STEP-sized writes up to the amount, memory.max/memory.high are
 * never written, swap comes from memory.swap.current.
 */
static void test_reclaim_v2_files(void **state)
{
	struct etm_memcg_dir d = { .v1 = false };
	struct etm_memcg_reclaim_res r;
	char tmpl[] = "/tmp/etm-memcg-v2-XXXXXX", b[64];
	uint64_t sw = 0;
	int sp;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	snprintf(d.dir, sizeof(d.dir), "%s", tmpl);
	put_file(tmpl, "memory.stat", "anon 209715200\ninactive_anon 209715200\nactive_anon 0\n");
	put_file(tmpl, "memory.reclaim", "");
	put_file(tmpl, "memory.swap.current", "8192\n");
	put_file(tmpl, "memory.max", "max\n");
	put_file(tmpl, "memory.high", "max\n");
	assert_int_equal(etm_memcg_swap_bytes(&d, &sw), 0);
	assert_int_equal(sw, 8192);
	assert_int_equal(etm_memcg_swappiness(&d, &sp), -ENOTSUP);
	assert_int_equal(etm_memcg_reclaim(&d, 150 * MiB, 0, NULL, &r), 0);
	assert_int_equal(r.steps, 3); /* 64 + 64 + 22 MiB */
	assert_int_equal(r.asked, 150 * MiB);
	assert_false(r.busy);
	assert_false(r.restore_failed);
	assert_int_equal(r.swapped, 0); /* memory.swap.current did not grow */
	get_file(tmpl, "memory.max", b, sizeof(b));
	assert_string_equal(b, "max\n");
	get_file(tmpl, "memory.high", b, sizeof(b));
	assert_string_equal(b, "max\n");
	/* nothing cold: no write at all */
	put_file(tmpl, "memory.stat", "inactive_anon 4096\nactive_anon 209715200\n");
	assert_int_equal(etm_memcg_reclaim(&d, 150 * MiB, 0, NULL, &r), 0);
	assert_int_equal(r.steps, 0);
	/* no memory.reclaim (kernel < 5.19): an error, not a silent success */
	put_file(tmpl, "memory.stat", "inactive_anon 209715200\nactive_anon 0\n");
	snprintf(b, sizeof(b), "%s/memory.reclaim", tmpl);
	unlink(b);
	assert_int_equal(etm_memcg_reclaim(&d, 150 * MiB, 0, NULL, &r), -ENOENT);
	/* swap accounting off: no memory.swap.current; memory.stat's pswpout (pages) stands in */
	snprintf(b, sizeof(b), "%s/memory.swap.current", tmpl);
	unlink(b);
	put_file(tmpl, "memory.stat", "inactive_anon 0\nactive_anon 0\npswpin 1\npswpout 3\n");
	assert_int_equal(etm_memcg_swap_bytes(&d, &sw), 0);
	assert_int_equal(sw, 3 * 4096);
	put_file(tmpl, "memory.stat", "inactive_anon 0\nactive_anon 0\n"); /* before 6.15: nothing to count */
	assert_int_equal(etm_memcg_swap_bytes(&d, &sw), -ENOTSUP);
	const char *names[] = { "memory.stat", "memory.swap.current", "memory.max", "memory.high" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(b, sizeof(b), "%s/%s", tmpl, names[i]);
		unlink(b);
	}
	rmdir(tmpl);
}

static void test_lru_gen_enabled(void **state)
{
	bool on = false;

	(void)state;
	assert_int_equal(etm_lru_gen_enabled_parse("0x0007\n", strlen("0x0007\n"), &on), 0);
	assert_true(on);
	assert_int_equal(etm_lru_gen_enabled_parse("0x0006\n", strlen("0x0006\n"), &on), 0);
	assert_false(on);
	assert_int_equal(etm_lru_gen_enabled_parse("0x0001", strlen("0x0001"), &on), 0);
	assert_true(on);
	assert_int_equal(etm_lru_gen_enabled_parse("0x0000\n", strlen("0x0000\n"), &on), 0);
	assert_false(on);
	assert_int_equal(etm_lru_gen_enabled_parse("", strlen(""), &on), -EINVAL);
	assert_int_equal(etm_lru_gen_enabled_parse("0x", strlen("0x"), &on), -EINVAL);
	assert_int_equal(etm_lru_gen_enabled_parse("y\n", strlen("y\n"), &on), -EINVAL);
	assert_int_equal(etm_lru_gen_enabled_parse("0x7 junk", strlen("0x7 junk"), &on), -EINVAL);
	assert_int_equal(etm_lru_gen_enabled_parse("0xffffffffffffffffff\n", strlen("0xffffffffffffffffff\n"), &on),
			 -EINVAL);
}

/* ETM_LRU_GEN_DEBUGFS as 6.12 prints it ("memcg %5hu %s", " node %5d", " %10lu %10u ..." per generation). */
static const char lru_gen_text[] = "memcg     1 /\n"
				   " node     0\n"
				   "          0      90000        100        200 \n"
				   "          1      80000          0         10 \n"
				   "memcg     7 /etm-wl/child\n"
				   " node     0\n"
				   "          2       1000          5          0 \n"
				   "memcg    12 /etm-wl\n"
				   " node     0\n"
				   "          3       3000       1000          0 \n"
				   "          4       2000          0          0 \n"
				   "          5       1000      15000          0 \n"
				   " node     1\n"
				   "          0       3000          0          0 \n"
				   "          1       1000        300          0 \n"
				   "memcg    13 /etm-wl2\n"
				   " node     0\n"
				   "          9       1000          0          0 \n";

static void test_lru_gen_parse(void **state)
{
	struct etm_lru_gen_memcg m;
	size_t n = sizeof(lru_gen_text) - 1;

	(void)state;
	assert_int_equal(etm_lru_gen_parse(lru_gen_text, n, "/etm-wl", &m), 0);
	assert_int_equal(m.id, 12);
	assert_int_equal(m.nnodes, 2);
	assert_int_equal(m.nid[0], 0);
	assert_int_equal(m.max_seq[0], 5);
	assert_int_equal(m.nid[1], 1);
	assert_int_equal(m.max_seq[1], 1);
	assert_int_equal(etm_lru_gen_parse(lru_gen_text, n, "/etm-wl2", &m), 0);
	assert_int_equal(m.id, 13);
	assert_int_equal(m.max_seq[0], 9);
	assert_int_equal(etm_lru_gen_parse(lru_gen_text, n, "/", &m), 0);
	assert_int_equal(m.id, 1);
	assert_int_equal(m.max_seq[0], 1);
	assert_int_equal(etm_lru_gen_parse(lru_gen_text, n, "/etm", &m), -ENOENT);
	assert_int_equal(etm_lru_gen_parse("", strlen(""), "/etm-wl", &m), -ENOENT);
	/* listed without nodes: nothing to age */
	assert_int_equal(etm_lru_gen_parse("memcg 3 /x\n", strlen("memcg 3 /x\n"), "/x", &m), -ENOENT);
	assert_int_equal(etm_lru_gen_parse("memcg zz /x\n", strlen("memcg zz /x\n"), "/x", &m), -EINVAL);
	assert_int_equal(etm_lru_gen_parse("memcg 99999 /x\n", strlen("memcg 99999 /x\n"), "/x", &m), -EINVAL);
	assert_int_equal(etm_lru_gen_parse("memcg 3 /x\n node x\n", strlen("memcg 3 /x\n node x\n"), "/x", &m),
			 -EINVAL);
	/* truncated in a generation line: the last complete number counts */
	assert_int_equal(
	    etm_lru_gen_parse("memcg 3 /x\n node 0\n 4 10\n 5", strlen("memcg 3 /x\n node 0\n 4 10\n 5"), "/x", &m), 0);
	assert_int_equal(m.max_seq[0], 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stat_v1_totals_win),
		cmocka_unit_test(test_stat_v1_own_only),
		cmocka_unit_test(test_stat_v2),
		cmocka_unit_test(test_stat_bad),
		cmocka_unit_test(test_amount),
		cmocka_unit_test(test_keep),
		cmocka_unit_test(test_next_limit),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_dir_of),
		cmocka_unit_test(test_stat_v2_full),
		cmocka_unit_test(test_proc_cgroup_v2),
		cmocka_unit_test(test_reclaim_v2_files),
		cmocka_unit_test(test_lru_gen_enabled),
		cmocka_unit_test(test_lru_gen_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
