/* SPDX-License-Identifier: MulanPSL-2.0 */
/* The memcg layer's pure parts (memory.stat, the reclaim amounts, the next v1 limit, lru_gen) and v2 reclaim on a
 * stand-in. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "scan/lru_gen.h"
#include "scan/memcg_reclaim.h"
#include "scan/procfs.h"
#include "test_file_util.h"

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

static void test_stat_refaults(void **state)
{
	struct etm_memcg_lru_stat s;

	(void)state;
	/* v1 with totals: the hierarchical count, like the other keys */
	parse("inactive_anon 1\nactive_anon 2\nworkingset_refault_anon 5\ntotal_inactive_anon 10\n"
	      "total_active_anon 20\ntotal_workingset_refault_anon 50\n",
	      &s, 0);
	assert_true(s.has_refault);
	assert_int_equal(s.refault_anon, 50);
	/* v2 since 5.9: the anon counter, not the file one */
	parse("active_anon 2\ninactive_anon 1\nworkingset_refault_anon 7\nworkingset_refault_file 900\n", &s, 0);
	assert_int_equal(s.refault_anon, 7);
	/* before 5.9: the combined counter (file refaults count too: the safe side) */
	parse("active_anon 2\ninactive_anon 1\nworkingset_refault 33\n", &s, 0);
	assert_true(s.has_refault);
	assert_int_equal(s.refault_anon, 33);
	/* none: nothing can be learnt */
	parse("active_anon 2\ninactive_anon 1\n", &s, 0);
	assert_false(s.has_refault);
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
	struct etm_memcg_dir d;
	struct etm_cgroup_root root;
	struct etm_memcg_reclaim_res r;
	char tmpl[] = "/tmp/etm-memcg-v2-XXXXXX", b[64];
	uint64_t sw = 0;
	int sp;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	standin_root(tmpl, &root);
	assert_int_equal(etm_memcg_dir_at(&root, tmpl, false, &d), 0);
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

/* mountinfo -> the directory of a cgroup path: the hierarchy's root mount, or one showing a subtree. */
static void test_path_parse(void **state)
{
	static const char mi[] = "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
				 "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
				 "36 31 0:33 /sub /mnt/sub\\040tree rw - cgroup cgroup rw,memory\n"
				 "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
	struct etm_cgroup_root r;
	char dir[320];

	(void)state;
	assert_int_equal(etm_cgroup_path_parse(mi, strlen(mi), true, "/etm-wl", &r, dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/sys/fs/cgroup/memory/etm-wl");
	assert_string_equal(r.mnt, "/sys/fs/cgroup/memory");
	assert_int_equal(etm_cgroup_path_parse(mi, strlen(mi), true, "/", &r, dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/sys/fs/cgroup/memory");
	/* a mount of a subtree shows what lies below its root: the deepest such root wins */
	assert_int_equal(etm_cgroup_path_parse(mi, strlen(mi), true, "/sub/a b", &r, dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/mnt/sub tree/a b");
	assert_int_equal(etm_cgroup_path_parse(mi, strlen(mi), true, "/subx", &r, dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/sys/fs/cgroup/memory/subx");
	assert_int_equal(etm_cgroup_path_parse(mi, strlen(mi), false, "/a", &r, dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/sys/fs/cgroup/unified/a");
	assert_int_equal(etm_cgroup_path_parse(mi, 50, false, "/a", &r, dir, sizeof(dir)), -ENOENT);
	assert_int_equal(etm_cgroup_path_parse(mi, strlen(mi), true, "/etm-wl", &r, dir, 20), -ENAMETOOLONG);
	/* any hierarchy by its controller (cgroup2: NULL), the mount showing the most of it */
	assert_int_equal(etm_cgroup_ctrl_parse(mi, strlen(mi), "memory", &r), 0);
	assert_string_equal(r.mnt, "/sys/fs/cgroup/memory");
	assert_int_equal(etm_cgroup_ctrl_parse(mi, strlen(mi), NULL, &r), 0);
	assert_string_equal(r.mnt, "/sys/fs/cgroup/unified");
	assert_int_equal(etm_cgroup_ctrl_parse(mi, strlen(mi), "cpuacct", &r), -ENOENT);
	assert_int_equal(etm_cgroup_ctrl_parse(mi, strlen(mi), "memor", &r), -ENOENT);
	/* and from this machine's own table: the memory hierarchy it shows */
	if (!etm_cgroup_hier_find(true, &r) || !etm_cgroup_hier_find(false, &r))
		assert_int_equal(r.mnt[0], '/');
}

/* The memcg layer reaches files only through the confined walk: no symbolic link, no other filesystem. */
static void test_confined(void **state)
{
	struct etm_cgroup_root root;
	struct etm_memcg_dir d;
	char tmpl[] = "/tmp/etm-memcg-cf-XXXXXX", p[64], q[128], *text;
	struct etm_memcg_lru_stat s;
	uint64_t v;
	size_t len;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	standin_root(tmpl, &root);
	snprintf(p, sizeof(p), "%s/cg", tmpl);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(etm_memcg_dir_at(&root, p, true, &d), 0);
	put_file(p, "memory.limit_in_bytes", "4096\n");
	assert_int_equal(etm_memcg_write_u64(&d, "memory.limit_in_bytes", 8192), 0);
	assert_int_equal(etm_memcg_read_u64(&d, "memory.limit_in_bytes", &v), 0);
	assert_int_equal(v, 8192);
	put_file(p, "memory.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
	assert_int_equal(etm_memcg_read_text(&d, "memory.pressure", &text, &len, 4096), 0);
	assert_int_equal(strncmp(text, "some avg10=", 11), 0);
	free(text);
	/* memory.stat planted as a link to another file: refused, not followed */
	snprintf(q, sizeof(q), "%s/memory.stat", p);
	assert_int_equal(symlink("/proc/self/status", q), 0);
	assert_int_equal(etm_memcg_read_stat(&d, &s), -ELOOP);
	unlink(q);
	/* the directory itself a link: refused */
	snprintf(q, sizeof(q), "%s/link", tmpl);
	assert_int_equal(symlink(p, q), 0);
	assert_true(etm_memcg_dir_at(&root, q, true, &d) < 0);
	/* outside the mount, or through "..": refused */
	assert_int_equal(etm_memcg_dir_at(&root, "/tmp", true, &d), -EXDEV);
	snprintf(q, sizeof(q), "%s/cg/..", tmpl);
	assert_int_equal(etm_memcg_dir_at(&root, q, true, &d), -EINVAL);
	assert_int_equal(etm_memcg_dir_of("/..", true, &d), -EINVAL);
	snprintf(q, sizeof(q), "rm -rf '%s'", tmpl);
	assert_int_equal(system(q), 0);
}

/* A given amount in plain steps (an engine that sized the reclaim): memory.stat does not cut it short. */
static void test_reclaim_bytes(void **state)
{
	struct etm_cgroup_root root;
	struct etm_memcg_dir d;
	struct etm_memcg_reclaim_res r;
	char tmpl[] = "/tmp/etm-memcg-rb-XXXXXX", b[160];

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	standin_root(tmpl, &root);
	put_file(tmpl, "memory.stat", "inactive_anon 0\nactive_anon 209715200\n"); /* nothing the LRU calls cold */
	put_file(tmpl, "memory.reclaim", "");
	assert_int_equal(etm_memcg_dir_at(&root, tmpl, false, &d), 0);
	assert_int_equal(etm_memcg_reclaim(&d, 150 * MiB, 0, NULL, &r), 0);
	assert_int_equal(r.steps, 0);
	assert_int_equal(etm_memcg_reclaim_bytes(&d, 150 * MiB, NULL, &r), 0);
	assert_int_equal(r.steps, 3); /* 64 + 64 + 22 MiB */
	assert_int_equal(r.asked, 150 * MiB);
	/* v1: limit cuts from the usage down by the amount, and the original limit back */
	put_file(tmpl, "memory.limit_in_bytes", "9223372036854771712\n");
	put_file(tmpl, "memory.usage_in_bytes", "314572800\n");
	d.v1 = true;
	assert_int_equal(etm_memcg_reclaim_bytes(&d, 100 * MiB, NULL, &r), 0);
	assert_int_equal(r.steps, 2); /* 300 -> 236 -> 200 */
	assert_int_equal(r.asked, 100 * MiB);
	get_file(tmpl, "memory.limit_in_bytes", b, sizeof(b));
	assert_string_equal(b, "9223372036854771712\n");
	/* openEuler's v1 memory.reclaim: written on a v1 directory too, the limit left alone */
	put_file(tmpl, "memory.limit_in_bytes", "1\n");
	assert_int_equal(etm_memcg_reclaim_file_bytes(&d, 100 * MiB, &r), 0);
	assert_int_equal(r.steps, 2); /* 64 + 36 MiB (as many digits: the stand-in file is not truncated) */
	assert_int_equal(r.asked, 100 * MiB);
	get_file(tmpl, "memory.reclaim", b, sizeof(b));
	assert_string_equal(b, "37748736");
	get_file(tmpl, "memory.limit_in_bytes", b, sizeof(b));
	assert_string_equal(b, "1\n");
	snprintf(b, sizeof(b), "rm -rf '%s'", tmpl);
	assert_int_equal(system(b), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stat_v1_totals_win),
		cmocka_unit_test(test_stat_v1_own_only),
		cmocka_unit_test(test_stat_v2),
		cmocka_unit_test(test_stat_refaults),
		cmocka_unit_test(test_stat_bad),
		cmocka_unit_test(test_amount),
		cmocka_unit_test(test_keep),
		cmocka_unit_test(test_next_limit),
		cmocka_unit_test(test_dir_of),
		cmocka_unit_test(test_stat_v2_full),
		cmocka_unit_test(test_proc_cgroup_v2),
		cmocka_unit_test(test_reclaim_v2_files),
		cmocka_unit_test(test_lru_gen_enabled),
		cmocka_unit_test(test_lru_gen_parse),
		cmocka_unit_test(test_path_parse),
		cmocka_unit_test(test_confined),
		cmocka_unit_test(test_reclaim_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
