/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * NUMA node figures, distances and tiers on stand-in sysfs trees shaped
 * like the rig's guests (3 and 4 nodes, HMAT slow nodes) and a one-node
 * machine; then the running system read for real.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "scan/numa_node.h"

#define NODE "/sys/devices/system/node"
#define TIERS "/sys/devices/virtual/memory_tiering"
#define MB (1ULL << 20)

/* Write @text to @root@rel, making the directories on the way. */
static void put(const char *root, const char *rel, const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s%s", root, rel);
	for (char *s = strchr(p + strlen(root) + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void putf(const char *root, const char *fmt_rel, int node, const char *fmt_text, ...)
{
	char rel[256], text[1024];
	va_list ap;

	snprintf(rel, sizeof(rel), fmt_rel, node);
	va_start(ap, fmt_text);
	vsnprintf(text, sizeof(text), fmt_text, ap);
	va_end(ap);
	put(root, rel, text);
}

static void node_files(const char *root, int id, unsigned total_mb, unsigned free_mb, const char *dist, int nr2m,
		       int free2m)
{
	putf(root, NODE "/node%d/meminfo", id,
	     "Node %d MemTotal:       %u kB\nNode %d MemFree:        %u kB\nNode %d MemUsed:        %u kB\n", id,
	     total_mb * 1024, id, free_mb * 1024, id, (total_mb - free_mb) * 1024);
	putf(root, NODE "/node%d/distance", id, "%s\n", dist);
	putf(root, NODE "/node%d/hugepages/hugepages-2048kB/nr_hugepages", id, "%d\n", nr2m);
	putf(root, NODE "/node%d/hugepages/hugepages-2048kB/free_hugepages", id, "%d\n", free2m);
}

static const char zoneinfo[] = "Node 0, zone    DMA32\n"
			       "  per-node stats\n"
			       "      nr_inactive_anon 12\n"
			       "  pages free     1000\n"
			       "        boost    0\n"
			       "        min      100\n"
			       "        low      150\n"
			       "        high     200\n"
			       "  pagesets\n"
			       "    cpu: 0\n"
			       "              count: 1\n"
			       "              high:  42\n"
			       "Node 0, zone   Normal\n"
			       "  pages free     5000\n"
			       "        high     56\n"
			       "Node 2, zone   Normal\n"
			       "  pages free     5000\n"
			       "        high     1024\n";

static char *make_root(void)
{
	char *root = strdup("/tmp/etmem-numa-node.XXXXXX");

	assert_non_null(mkdtemp(root));
	return root;
}

static void rm_root(char *root)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	free(root);
}

/* The 4-node rig guest: DRAM 0-1 with CPUs, slow 2 near 0, slow 3 near 1. */
static char *rig4(void)
{
	char *root = make_root();

	put(root, NODE "/online", "0-3\n");
	put(root, NODE "/has_memory", "0-3\n");
	put(root, NODE "/has_cpu", "0-1\n");
	node_files(root, 0, 512, 300, "10 20 30 40", 16, 10);
	node_files(root, 1, 512, 400, "20 10 40 30", 16, 16);
	node_files(root, 2, 512, 500, "30 40 10 40", 32, 30);
	node_files(root, 3, 512, 510, "40 30 40 10", 0, 0);
	put(root, TIERS "/memory_tier4/nodelist", "0-1\n");
	put(root, TIERS "/memory_tier22/nodelist", "2-3\n");
	put(root, "/proc/zoneinfo", zoneinfo);
	return root;
}

/* The 3-node rig guest: one slow node 2 at the same distance from both. */
static char *rig3(void)
{
	char *root = make_root();

	put(root, NODE "/online", "0-2\n");
	put(root, NODE "/has_memory", "0-2\n");
	put(root, NODE "/has_cpu", "0-1\n");
	node_files(root, 0, 512, 300, "10 20 30", 0, 0);
	node_files(root, 1, 512, 400, "20 10 30", 0, 0);
	node_files(root, 2, 512, 500, "30 30 10", 0, 0);
	put(root, TIERS "/memory_tier4/nodelist", "0-1\n");
	put(root, TIERS "/memory_tier22/nodelist", "2\n");
	return root;
}

static void test_parsers(void **state)
{
	bool set[8];
	uint64_t t, f, high[4] = { 0 };
	const char *mi = "Node 3 MemTotal:  100 kB\nNode 3 MemFree:  7 kB\n";
	int d[4], n;

	(void)state;
	assert_int_equal(etm_parse_nodelist("0-2,5\n", 6, set, 8), 0);
	assert_true(set[0] && set[1] && set[2] && !set[3] && !set[4] && set[5] && !set[6]);
	assert_int_equal(etm_parse_nodelist("\n", 1, set, 8), 0);
	assert_false(set[0]);
	assert_int_equal(etm_parse_nodelist("3-1", 3, set, 8), -EINVAL);
	assert_int_equal(etm_parse_nodelist("8", 1, set, 8), -ERANGE);
	assert_int_equal(etm_parse_nodelist("1;2", 3, set, 8), -EINVAL);
	assert_int_equal(etm_parse_nodelist("x", 1, set, 8), -EINVAL);

	assert_int_equal(etm_parse_node_meminfo(mi, strlen(mi), &t, &f), 0);
	assert_int_equal(t, 100);
	assert_int_equal(f, 7);
	assert_int_equal(etm_parse_node_meminfo("Node 3 MemTotal:  100 kB\n", 25, &t, &f), -EINVAL);

	/* The pagesets' "high:" is not a watermark; node 2's zone is summed too. */
	assert_int_equal(etm_parse_zoneinfo_high(zoneinfo, sizeof(zoneinfo) - 1, high, 4), 0);
	assert_int_equal(high[0], 256);
	assert_int_equal(high[1], 0);
	assert_int_equal(high[2], 1024);
	/* A node past @max is skipped, not written. */
	memset(high, 0, sizeof(high));
	assert_int_equal(etm_parse_zoneinfo_high(zoneinfo, sizeof(zoneinfo) - 1, high, 1), 0);
	assert_int_equal(high[0], 256);
	assert_int_equal(etm_parse_zoneinfo_high("nothing\n", 8, high, 4), -EINVAL);

	assert_int_equal(etm_parse_distances("10 20 30\n", 9, d, 4, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(d[2], 30);
	assert_int_equal(etm_parse_distances("10 20 30 40 50", 14, d, 4, &n), -ERANGE);
	assert_int_equal(etm_parse_distances("10 2x", 5, d, 4, &n), -EINVAL);
}

static void test_rig4_figures(void **state)
{
	char *root = rig4(), why[256];
	struct etm_numa_topo *t;
	const struct etm_numa_node *n0, *n2, *n3;

	(void)state;
	assert_int_equal(etm_numa_topo_read(root, &t, why, sizeof(why)), 0);
	assert_int_equal(t->n, 4);
	assert_int_equal(t->max_id, 3);
	assert_true(t->tiers_known);
	n0 = etm_numa_topo_node(t, 0);
	n2 = etm_numa_topo_node(t, 2);
	n3 = etm_numa_topo_node(t, 3);
	assert_true(n0->has_cpu && !n2->has_cpu);
	assert_int_equal(n0->tier, 4);
	assert_int_equal(n2->tier, 22);
	assert_int_equal(n0->mem_total, 512 * MB);
	assert_int_equal(n0->mem_free, 300 * MB);
	/* 256 pages of high watermark on node 0 */
	assert_int_equal(n0->wmark_high, 256 * (uint64_t)sysconf(_SC_PAGESIZE));
	assert_int_equal(etm_numa_free_bytes(n0, ETM_NUMA_BASE), 300 * MB - n0->wmark_high);
	assert_int_equal(etm_numa_total_bytes(n0, ETM_NUMA_BASE), 512 * MB);
	/* hugetlb: the pools; the 1 GiB pool is absent, so empty */
	assert_int_equal(etm_numa_total_bytes(n0, ETM_NUMA_HUGE_2M), 32 * MB);
	assert_int_equal(etm_numa_free_bytes(n0, ETM_NUMA_HUGE_2M), 20 * MB);
	assert_int_equal(etm_numa_free_bytes(n2, ETM_NUMA_HUGE_2M), 60 * MB);
	assert_int_equal(etm_numa_total_bytes(n3, ETM_NUMA_HUGE_2M), 0);
	assert_int_equal(etm_numa_total_bytes(n0, ETM_NUMA_HUGE_1G), 0);
	assert_int_equal(etm_numa_distance(t, 0, 3), 40);
	assert_int_equal(etm_numa_distance(t, 3, 1), 30);
	assert_int_equal(etm_numa_distance(t, 0, 9), 0);
	assert_int_equal(etm_numa_need_two(t, why, sizeof(why)), 0);

	/* The next cycle sees new figures. */
	node_files(root, 0, 512, 100, "10 20 30 40", 16, 2);
	assert_int_equal(etm_numa_topo_refresh(root, t), 0);
	assert_int_equal(n0->mem_free, 100 * MB);
	assert_int_equal(etm_numa_free_bytes(n0, ETM_NUMA_HUGE_2M), 4 * MB);
	etm_numa_topo_free(t);
	rm_root(root);
}

static void test_tier_pairs(void **state)
{
	char *root = rig4(), why[256];
	struct etm_numa_topo *t;
	struct etm_numa_pair *p;
	size_t n;

	(void)state;
	assert_int_equal(etm_numa_topo_read(root, &t, why, sizeof(why)), 0);
	assert_int_equal(etm_numa_tier_pairs(t, &p, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(p[0].hot_node, 0);
	assert_int_equal(p[0].cold_node, 2);
	assert_int_equal(p[1].hot_node, 1);
	assert_int_equal(p[1].cold_node, 3);
	free(p);
	etm_numa_topo_free(t);
	rm_root(root);

	/* One slow node for both DRAM nodes: it serves both pairs. */
	root = rig3();
	assert_int_equal(etm_numa_topo_read(root, &t, why, sizeof(why)), 0);
	assert_int_equal(etm_numa_tier_pairs(t, &p, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(p[0].cold_node, 2);
	assert_int_equal(p[1].hot_node, 1);
	assert_int_equal(p[1].cold_node, 2);
	free(p);
	etm_numa_topo_free(t);

	/* Every node in one tier (no HMAT): nothing to pair, and the reason says so. */
	put(root, TIERS "/memory_tier22/nodelist", "\n");
	put(root, TIERS "/memory_tier4/nodelist", "0-2\n");
	assert_int_equal(etm_numa_topo_read(root, &t, why, sizeof(why)), 0);
	assert_int_equal(etm_numa_tier_pairs(t, &p, &n, why, sizeof(why)), -ENOENT);
	assert_null(p);
	assert_non_null(strstr(why, "one memory tier (memory_tier4)"));
	assert_non_null(strstr(why, "node_pair"));
	etm_numa_topo_free(t);
	rm_root(root);
}

static void test_no_tiers_one_node(void **state)
{
	char *root = make_root(), why[256];
	struct etm_numa_topo *t;
	struct etm_numa_pair *p;
	size_t n;

	(void)state;
	/* No NUMA sysfs at all. */
	assert_int_equal(etm_numa_topo_read(root, &t, why, sizeof(why)), -ENOENT);
	assert_null(t);
	assert_non_null(strstr(why, "NUMA"));

	/* This host's shape: one node, no second one to tier to; a kernel without memory tiers. */
	put(root, NODE "/online", "0\n");
	put(root, NODE "/has_memory", "0\n");
	put(root, NODE "/has_cpu", "0\n");
	node_files(root, 0, 1024, 512, "10", 0, 0);
	assert_int_equal(etm_numa_topo_read(root, &t, why, sizeof(why)), 0);
	assert_int_equal(t->n, 1);
	assert_int_equal(etm_numa_need_two(t, why, sizeof(why)), -ENODEV);
	assert_non_null(strstr(why, "second NUMA node"));
	assert_non_null(strstr(why, "only node 0"));
	assert_int_equal(etm_numa_tier_pairs(t, &p, &n, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "no memory tiers"));
	/* Without zoneinfo the watermark is unknown (0), the figures still work. */
	assert_int_equal(t->node[0].wmark_high, 0);
	assert_int_equal(etm_numa_free_bytes(&t->node[0], ETM_NUMA_BASE), 512 * MB);
	etm_numa_topo_free(t);

	/* A node whose meminfo cannot be read fails the read, naming the tree. */
	put(root, NODE "/online", "0-1\n");
	put(root, NODE "/has_memory", "0-1\n");
	assert_int_equal(etm_numa_topo_read(root, &t, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, root));
	rm_root(root);
}

/* The running system: this host has one node, the rig has more; both must read cleanly. */
static void test_this_machine(void **state)
{
	struct etm_numa_topo *t;
	char why[256];
	int err;

	(void)state;
	err = etm_numa_topo_read("", &t, why, sizeof(why));
	if (err == -ENOENT) {
		print_message("no NUMA sysfs on this kernel: %s\n", why);
		skip();
	}
	assert_int_equal(err, 0);
	assert_true(t->n >= 1);
	for (size_t i = 0; i < t->n; i++) {
		assert_true(t->node[i].mem_total > 0);
		assert_true(t->node[i].mem_free <= t->node[i].mem_total);
		assert_int_equal(etm_numa_distance(t, t->node[i].id, t->node[i].id), 10);
	}
	err = etm_numa_need_two(t, why, sizeof(why));
	assert_int_equal(err, t->n >= 2 ? 0 : -ENODEV);
	if (err)
		print_message("as expected here: %s\n", why);
	etm_numa_topo_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parsers),	     cmocka_unit_test(test_rig4_figures),
		cmocka_unit_test(test_tier_pairs),   cmocka_unit_test(test_no_tiers_one_node),
		cmocka_unit_test(test_this_machine),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
