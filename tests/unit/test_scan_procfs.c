/* SPDX-License-Identifier: MulanPSL-2.0 */
/* /proc parsers of the scan core: maps/smaps, meminfo, status, cgroup, iomem. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scan/procfs.h"

static const char maps[] = "55d0c0000000-55d0c0021000 r--p 00000000 fe:01 1234   /usr/bin/prog\n"
			   "55d0c0021000-55d0c0042000 r-xp 00021000 fe:01 1234   /usr/bin/prog\n"
			   "55d0c0050000-55d0c0060000 rw-p 00031000 fe:01 1234   /usr/bin/prog\n"
			   "55d0c1000000-55d0c1100000 rw-p 00000000 00:00 0      [heap]\n"
			   "7f0000000000-7f0040000000 rw-p 00000000 00:00 0      [anon:etmem_swap]\n"
			   "7f0040000000-7f0040001000 rw-p 00000000 00:00 0      [anon:etmem_swap2]\n"
			   "7f1000000000-7f1000100000 rw-s 00000000 00:01 99     /memfd:x (deleted)\n"
			   "7f2000000000-7f2000100000 rw-p 00000000 00:00 0 \n"
			   "7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0      [stack]\n"
			   "7ffc00100000-7ffc00104000 r--p 00000000 00:00 0      [vvar]\n"
			   "7ffc00104000-7ffc00106000 r-xp 00000000 00:00 0      [vdso]\n";

static void test_maps_anon(void **state)
{
	struct etm_vma_filter f = { .anon_only = true };
	struct vmas *v;
	struct vma *x;

	(void)state;
	assert_int_equal(etm_parse_maps(maps, strlen(maps), &f, &v), 0);
	/* writable file, heap, 2 named, anon, stack */
	assert_int_equal(v->vma_cnt, 6);
	x = v->vma_list;
	assert_int_equal(x->start, 0x55d0c0050000ULL);
	assert_true(x->stat[VMA_STAT_WRITE]);
	assert_int_equal(x->inode, 1234);
	assert_string_equal(x->path, "/usr/bin/prog");
	assert_string_equal(x->major, "fe");
	assert_string_equal(x->minor, "01");
	x = x->next;
	assert_string_equal(x->path, "[heap]");
	etm_vmas_free(v);

	f.name = ETM_SWAP_VMA_NAME;
	assert_int_equal(etm_parse_maps(maps, strlen(maps), &f, &v), 0);
	assert_int_equal(v->vma_cnt, 1);
	assert_int_equal(v->vma_list->end, 0x7f0040000000ULL);
	etm_vmas_free(v);

	/* no filter: everything but the special mappings */
	assert_int_equal(etm_parse_maps(maps, strlen(maps), NULL, &v), 0);
	assert_int_equal(v->vma_cnt, 9);
	etm_vmas_free(v);
}

static void test_maps_bad(void **state)
{
	struct vmas *v;
	const char *bad[] = {
		"2000-1000 rw-p 0 00:00 0\n",
		"1000-2000 rw\n",
		"1000-2000 rw-p 0 0000 0\n",
		"10000000000000000-10000000000000001 rw-p 0 00:00 0\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(etm_parse_maps(bad[i], strlen(bad[i]), NULL, &v), -EINVAL);
	/* lines that are not VMA headers (smaps fields, garbage) are skipped */
	assert_int_equal(etm_parse_maps("zz-10 rw-p 0 00:00 0\n", 21, NULL, &v), 0);
	assert_int_equal(v->vma_cnt, 0);
	etm_vmas_free(v);
	assert_int_equal(etm_parse_maps("", 0, NULL, &v), 0);
	assert_int_equal(v->vma_cnt, 0);
	etm_vmas_free(v);
}

static void test_smaps_flags(void **state)
{
	static const char smaps[] = "1000-2000 rw-p 00000000 00:00 0\n"
				    "Size:                  4 kB\n"
				    "VmFlags: rd wr mr mw me ac ht\n"
				    "3000-4000 rw-p 00000000 00:00 0\n"
				    "Size:                  4 kB\n"
				    "VmFlags: rd wr mr mw me ac\n"
				    "5000-6000 rw-p 00000000 00:00 0\n"
				    "Size:                  4 kB\n";
	char *flags[] = { "ht", "rd" };
	struct etm_vma_filter f = { .vmflags = flags, .nvmflags = 2 };
	struct vmas *v;

	(void)state;
	assert_int_equal(etm_parse_maps(smaps, strlen(smaps), &f, &v), 0);
	assert_int_equal(v->vma_cnt, 1);
	assert_int_equal(v->vma_list->start, 0x1000);
	etm_vmas_free(v);
}

/* cslide's smaps read: page size, THP and hugetlb per VMA, the vm_flags filter, anon_only. */
static void test_smaps_vmas(void **state)
{
	static const char smaps[] = "7f0000000000-7f0000400000 rw-p 00000000 00:00 0 \n"
				    "AnonHugePages:      2048 kB\n"
				    "KernelPageSize:        4 kB\n"
				    "VmFlags: rd wr mr mw me ac\n"
				    "7f0000400000-7f0000800000 rw-s 00000000 00:0f 1234 /anon_hugepage (deleted)\n"
				    "AnonHugePages:         0 kB\n"
				    "KernelPageSize:     2048 kB\n"
				    "VmFlags: rd wr sh mr mw me ms de ht\n"
				    "7f0000800000-7f0000801000 r-xp 00000000 08:01 99 /usr/lib/libc.so\n"
				    "KernelPageSize:        4 kB\n"
				    "VmFlags: rd ex mr mw me\n"
				    "7f0000a00000-7f0000a01000 rw-p 00000000 00:00 0\n"
				    "KernelPageSize:        4 kB\n";
	char *const ht[] = { "ht" };
	struct etm_vma_filter anon = { .anon_only = true }, hf = { .vmflags = ht, .nvmflags = 1 };
	struct etm_smaps_vma *v = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(etm_parse_smaps(smaps, strlen(smaps), NULL, &v, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(v[0].anon_huge, 2048 * 1024);
	assert_int_equal(v[0].page_size, 4096);
	assert_false(v[0].hugetlb);
	assert_true(v[1].hugetlb);
	assert_int_equal(v[1].page_size, 2 << 20);
	assert_int_equal(v[3].start, 0x7f0000a00000ULL);
	assert_int_equal(v[3].end, 0x7f0000a01000ULL);
	assert_false(v[3].hugetlb); /* no VmFlags line */
	free(v);

	assert_int_equal(etm_parse_smaps(smaps, strlen(smaps), &hf, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].start, 0x7f0000400000ULL);
	free(v);

	assert_int_equal(etm_parse_smaps(smaps, strlen(smaps), &anon, &v, &n), 0);
	for (size_t i = 0; i < n; i++)
		assert_true(v[i].start != 0x7f0000800000ULL); /* the library's text is not anonymous */
	free(v);

	/* a line that is no VMA header outside a VMA is skipped, as etm_parse_maps() does */
	assert_int_equal(etm_parse_smaps("zz\n", 3, NULL, &v, &n), 0);
	assert_int_equal(n, 0);
	free(v);
	assert_int_equal(etm_parse_smaps("", 0, NULL, &v, &n), 0);
	assert_int_equal(n, 0);
	free(v);
}

static void test_meminfo_status(void **state)
{
	static const char mi_txt[] = "MemTotal:       24000000 kB\n"
				     "MemFree:         1000000 kB\n"
				     "MemAvailable:    6000000 kB\n"
				     "Buffers:           1000 kB\n"
				     "SwapCached:        2000 kB\n"
				     "SwapTotal:      4194300 kB\n"
				     "SwapFree:       4194300 kB\n";
	static const char st_txt[] = "Name:\tprog\nVmPeak:\t 100 kB\nVmRSS:\t  1048576 kB\nVmSwap:\t    512 kB\n";
	struct etm_meminfo mi;
	struct etm_proc_status st;

	(void)state;
	assert_int_equal(etm_parse_meminfo(mi_txt, strlen(mi_txt), &mi), 0);
	assert_int_equal(mi.mem_total_kb, 24000000);
	assert_int_equal(mi.mem_available_kb, 6000000);
	assert_int_equal(mi.swap_cached_kb, 2000);
	/* old kernels without MemAvailable: MemFree stands in */
	assert_int_equal(etm_parse_meminfo("MemTotal: 10 kB\nMemFree: 4 kB\n", 31, &mi), 0);
	assert_int_equal(mi.mem_available_kb, 4);
	assert_int_equal(etm_parse_meminfo("MemFree: 4 kB\n", 14, &mi), -ENOENT);
	assert_int_equal(etm_parse_meminfo("MemTotal: x kB\nMemFree: 4 kB\n", 29, &mi), -EINVAL);

	assert_int_equal(etm_parse_status(st_txt, strlen(st_txt), &st), 0);
	assert_int_equal(st.vm_rss_kb, 1048576);
	assert_int_equal(st.vm_swap_kb, 512);
	/* a kernel thread has no VmRSS */
	assert_int_equal(etm_parse_status("Name:\tkthreadd\n", 15, &st), -ENOENT);
}

static void test_memcg(void **state)
{
	static const char v1[] = "9:name=systemd:/\n4:memory:/etmem-test-42\n0::/\n";
	static const char v1b[] = "4:cpu,memory:/a/b\n";
	static const char v2[] = "0::/system.slice/x.service\n";
	char p[256];
	bool isv1;

	(void)state;
	assert_int_equal(etm_parse_memcg(v1, strlen(v1), p, sizeof(p), &isv1), 0);
	assert_string_equal(p, "/etmem-test-42");
	assert_true(isv1);
	assert_int_equal(etm_parse_memcg(v1b, strlen(v1b), p, sizeof(p), &isv1), 0);
	assert_string_equal(p, "/a/b");
	assert_int_equal(etm_parse_memcg(v2, strlen(v2), p, sizeof(p), &isv1), 0);
	assert_string_equal(p, "/system.slice/x.service");
	assert_false(isv1);
	assert_int_equal(etm_parse_memcg("1:cpu:/\n", 8, p, sizeof(p), &isv1), -ENOENT);
	assert_int_equal(etm_parse_memcg(v1, strlen(v1), p, 4, &isv1), -ENAMETOOLONG);
}

static void test_iomem(void **state)
{
	static const char io[] = "00000000-00000fff : Reserved\n"
				 "00001000-0009fbff : System RAM\n"
				 "00100000-bfffffff : System RAM\n"
				 "  01000000-01ffffff : Kernel code\n"
				 "fec00000-fec003ff : IOAPIC 0\n"
				 "100000000-63fffffff : System RAM\n";
	struct etm_addr_range r[4];
	size_t n;

	(void)state;
	assert_int_equal(etm_parse_iomem_ram(io, strlen(io), r, 4, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(r[1].start, 0x100000);
	assert_int_equal(r[1].end, 0xc0000000ULL);
	assert_int_equal(r[2].end, 0x640000000ULL);
	assert_int_equal(etm_parse_iomem_ram(io, strlen(io), r, 1, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(etm_parse_iomem_ram("", 0, r, 4, &n), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_maps_anon),   cmocka_unit_test(test_maps_bad),
		cmocka_unit_test(test_smaps_flags), cmocka_unit_test(test_meminfo_status),
		cmocka_unit_test(test_memcg),	    cmocka_unit_test(test_iomem),
		cmocka_unit_test(test_smaps_vmas),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
