/* SPDX-License-Identifier: MulanPSL-2.0 */
/* NUMA node figures, distances and memory tiers (see numa_node.h). */
#include "scan/numa_node.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scan/parse.h"
#include "scan/procfs.h"

#define NODE_DIR "/sys/devices/system/node"
#define TIER_DIR "/sys/devices/virtual/memory_tiering"
#define ZONEINFO "/proc/zoneinfo"
#define SMALL_FILE (1u << 16)
/* zoneinfo lists per-CPU pagesets for every zone: large on many-CPU machines. */
#define ZONEINFO_MAX (64u << 20)

static const unsigned huge_kb[2] = { 2048, 1048576 };

static int read_rel(const char *root, const char *rel, size_t max, char **buf, size_t *len)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s%s", root, rel) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return etm_read_file(path, buf, len, max);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int etm_parse_nodelist(const char *buf, size_t len, bool *set, int max)
{
	const char *p = buf, *end = buf + len;

	memset(set, 0, (size_t)max * sizeof(*set));
	while (end > p && is_blank(end[-1]))
		end--;
	while (p < end) {
		uint64_t a, b;

		if (etm_parse_u64(&p, end, &a))
			return -EINVAL;
		b = a;
		if (p < end && *p == '-') {
			p++;
			if (etm_parse_u64(&p, end, &b))
				return -EINVAL;
		}
		if (b < a)
			return -EINVAL;
		if (b >= (uint64_t)max)
			return -ERANGE;
		for (uint64_t i = a; i <= b; i++)
			set[i] = true;
		if (p < end && *p++ != ',')
			return -EINVAL;
	}
	return 0;
}

/* The number after @key (which includes its colon) on the first line that has it. */
static int line_value(const char *buf, size_t len, const char *key, uint64_t *out)
{
	size_t kl = strlen(key);
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *k = memmem(p, (size_t)(le - p), key, kl);

		if (k) {
			const char *q = k + kl;

			while (q < le && is_blank(*q))
				q++;
			return etm_parse_u64(&q, le, out);
		}
		p = le + 1;
	}
	return -ENOENT;
}

int etm_parse_node_meminfo(const char *buf, size_t len, uint64_t *total_kb, uint64_t *free_kb)
{
	int err = line_value(buf, len, " MemTotal:", total_kb);

	if (!err)
		err = line_value(buf, len, " MemFree:", free_kb);
	return err == -ENOENT ? -EINVAL : err;
}

/* "Node 3, zone   Normal": the node, or -1 when it is past @max. */
static int zone_header(const char *p, const char *le, int max, int *node)
{
	uint64_t v;

	p += 5;
	if (etm_parse_u64(&p, le, &v) || p >= le || *p != ',')
		return -EINVAL;
	*node = v < (uint64_t)max ? (int)v : -1;
	return 0;
}

int etm_parse_zoneinfo_high(const char *buf, size_t len, uint64_t *high, int max)
{
	const char *p = buf, *end = buf + len;
	int node = -1;
	bool any = false;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *q = p;
		uint64_t v;

		if ((size_t)(le - p) > 5 && !memcmp(p, "Node ", 5)) {
			if (zone_header(p, le, max, &node))
				return -EINVAL;
			any = true;
		} else {
			while (q < le && is_blank(*q))
				q++;
			/* "high  49" is the watermark; the pagesets' "high:  0" is not. */
			if (node >= 0 && le - q > 5 && !memcmp(q, "high", 4) && is_blank(q[4])) {
				q += 4;
				while (q < le && is_blank(*q))
					q++;
				if (etm_parse_u64(&q, le, &v))
					return -EINVAL;
				high[node] += v;
			}
		}
		p = le + 1;
	}
	return any ? 0 : -EINVAL;
}

int etm_parse_distances(const char *buf, size_t len, int *d, int max, int *n)
{
	const char *p = buf, *end = buf + len;

	*n = 0;
	for (;;) {
		uint64_t v;

		while (p < end && is_blank(*p))
			p++;
		if (p == end)
			return *n ? 0 : -EINVAL;
		if (*n == max)
			return -ERANGE;
		if (etm_parse_u64(&p, end, &v) || v > INT_MAX || (p < end && !is_blank(*p)))
			return -EINVAL;
		d[(*n)++] = (int)v;
	}
}

static int read_nodelist(const char *root, const char *rel, bool *set)
{
	char *buf;
	size_t len;
	int err = read_rel(root, rel, SMALL_FILE, &buf, &len);

	if (err)
		return err;
	err = etm_parse_nodelist(buf, len, set, ETM_NUMA_MAX_NODES);
	free(buf);
	return err;
}

static int read_u64_file(const char *root, const char *rel, uint64_t *v)
{
	char *buf;
	size_t len;
	const char *p;
	int err = read_rel(root, rel, SMALL_FILE, &buf, &len);

	if (err)
		return err;
	p = buf;
	err = etm_parse_u64(&p, buf + len, v);
	free(buf);
	return err;
}

static int refresh_node(const char *root, struct etm_numa_node *n)
{
	char rel[160], *buf;
	size_t len;
	uint64_t total, free_kb;
	int err;

	snprintf(rel, sizeof(rel), NODE_DIR "/node%d/meminfo", n->id);
	if ((err = read_rel(root, rel, SMALL_FILE, &buf, &len)))
		return err;
	err = etm_parse_node_meminfo(buf, len, &total, &free_kb);
	free(buf);
	if (err)
		return err;
	n->mem_total = total << 10;
	n->mem_free = free_kb << 10;
	for (int h = 0; h < 2; h++) {
		uint64_t nr = 0, fr = 0;

		/* A pool the kernel does not offer (no 1 GiB pages) is an empty one. */
		snprintf(rel, sizeof(rel), NODE_DIR "/node%d/hugepages/hugepages-%ukB/nr_hugepages", n->id, huge_kb[h]);
		if (read_u64_file(root, rel, &nr) == 0) {
			snprintf(rel, sizeof(rel), NODE_DIR "/node%d/hugepages/hugepages-%ukB/free_hugepages", n->id,
				 huge_kb[h]);
			read_u64_file(root, rel, &fr);
		}
		n->huge_total[h] = nr * huge_kb[h] * 1024;
		n->huge_free[h] = (fr < nr ? fr : nr) * huge_kb[h] * 1024;
	}
	return 0;
}

static void refresh_wmarks(const char *root, struct etm_numa_topo *t)
{
	uint64_t *high = calloc((size_t)t->max_id + 1, sizeof(*high));
	long psz = sysconf(_SC_PAGESIZE);
	char *buf;
	size_t len;
	bool ok;

	/* Unknown watermarks are 0: the figures stay usable, only less conservative. */
	ok = high && read_rel(root, ZONEINFO, ZONEINFO_MAX, &buf, &len) == 0;
	if (ok) {
		ok = etm_parse_zoneinfo_high(buf, len, high, t->max_id + 1) == 0;
		free(buf);
	}
	for (size_t i = 0; i < t->n; i++)
		t->node[i].wmark_high = ok ? high[t->node[i].id] * (uint64_t)psz : 0;
	free(high);
}

int etm_numa_topo_refresh(const char *root, struct etm_numa_topo *t)
{
	for (size_t i = 0; i < t->n; i++) {
		int err = refresh_node(root, &t->node[i]);

		if (err)
			return err;
	}
	refresh_wmarks(root, t);
	return 0;
}

/* nodeN/distance lists the distance to every online node, in id order. */
static int read_distances(const char *root, struct etm_numa_topo *t, const bool *online)
{
	int stride = t->max_id + 1, *d = malloc((size_t)stride * sizeof(*d));

	t->dist = calloc((size_t)stride * (size_t)stride, sizeof(*t->dist));
	if (!d || !t->dist) {
		free(d);
		return -ENOMEM;
	}
	for (int from = 0; from < stride; from++) {
		char rel[96], *buf;
		size_t len;
		int n = 0, k = 0;

		snprintf(rel, sizeof(rel), NODE_DIR "/node%d/distance", from);
		if (!online[from] || read_rel(root, rel, SMALL_FILE, &buf, &len))
			continue;
		if (etm_parse_distances(buf, len, d, stride, &n))
			n = 0;
		free(buf);
		for (int to = 0; to < stride && k < n; to++)
			if (online[to])
				t->dist[from * stride + to] = d[k++];
	}
	free(d);
	return 0;
}

static void read_tiers(const char *root, struct etm_numa_topo *t)
{
	char path[PATH_MAX];
	bool *set = malloc(ETM_NUMA_MAX_NODES * sizeof(*set));
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "%s" TIER_DIR, root);
	dir = opendir(path);
	t->tiers_known = dir != NULL;
	while (dir && set && (de = readdir(dir))) {
		char rel[96];
		unsigned tier;
		char tail;

		if (sscanf(de->d_name, "memory_tier%u%c", &tier, &tail) != 1 || tier > INT_MAX)
			continue;
		snprintf(rel, sizeof(rel), TIER_DIR "/memory_tier%u/nodelist", tier);
		if (read_nodelist(root, rel, set))
			continue;
		for (size_t i = 0; i < t->n; i++)
			if (set[t->node[i].id])
				t->node[i].tier = (int)tier;
	}
	if (dir)
		closedir(dir);
	free(set);
}

/* online, has_memory and has_cpu: the nodes and what they have. */
static int read_node_sets(const char *root, bool *online, bool *mem, bool *cpu, char *why, size_t len)
{
	int err = read_nodelist(root, NODE_DIR "/online", online);

	if (err) {
		snprintf(why, len, "cannot read %s" NODE_DIR "/online (%s): a kernel without NUMA support?", root,
			 strerror(-err));
		return err == -ENOENT ? -ENOENT : err;
	}
	/* Kernels before 2.6.37 lack has_memory: every online node then. */
	if (read_nodelist(root, NODE_DIR "/has_memory", mem))
		memcpy(mem, online, ETM_NUMA_MAX_NODES * sizeof(*mem));
	if (read_nodelist(root, NODE_DIR "/has_cpu", cpu))
		memset(cpu, 0, ETM_NUMA_MAX_NODES * sizeof(*cpu));
	return 0;
}

static int topo_fill(const char *root, struct etm_numa_topo *t, bool *online, bool *mem, bool *cpu, char *why,
		     size_t len)
{
	int err = read_node_sets(root, online, mem, cpu, why, len);

	if (err)
		return err;
	t->max_id = -1;
	for (int i = 0; i < ETM_NUMA_MAX_NODES; i++) {
		if (online[i])
			t->max_id = i;
		mem[i] = mem[i] && online[i];
		t->n += mem[i];
	}
	t->node = calloc(t->n ? t->n : 1, sizeof(*t->node));
	if (!t->node)
		return -ENOMEM;
	for (int i = 0, k = 0; i <= t->max_id; i++)
		if (mem[i])
			t->node[k++] = (struct etm_numa_node){ .id = i, .has_cpu = cpu[i], .tier = -1 };
	if (t->max_id >= 0 && (err = read_distances(root, t, online)))
		return err;
	read_tiers(root, t);
	err = etm_numa_topo_refresh(root, t);
	if (err)
		snprintf(why, len, "cannot read the memory figures of the NUMA nodes under %s" NODE_DIR ": %s", root,
			 strerror(-err));
	return err;
}

int etm_numa_topo_read(const char *root, struct etm_numa_topo **out, char *why, size_t len)
{
	bool *online = calloc(ETM_NUMA_MAX_NODES, sizeof(bool)), *mem = calloc(ETM_NUMA_MAX_NODES, sizeof(bool)),
	     *cpu = calloc(ETM_NUMA_MAX_NODES, sizeof(bool));
	struct etm_numa_topo *t = calloc(1, sizeof(*t));
	int err = -ENOMEM;

	*out = NULL;
	if (why && len)
		why[0] = '\0';
	if (online && mem && cpu && t)
		err = topo_fill(root, t, online, mem, cpu, why, len);
	free(online);
	free(mem);
	free(cpu);
	if (err) {
		etm_numa_topo_free(t);
		return err;
	}
	*out = t;
	return 0;
}

void etm_numa_topo_free(struct etm_numa_topo *t)
{
	if (!t)
		return;
	free(t->node);
	free(t->dist);
	free(t);
}

const struct etm_numa_node *etm_numa_topo_node(const struct etm_numa_topo *t, int id)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->node[i].id == id)
			return &t->node[i];
	return NULL;
}

int etm_numa_distance(const struct etm_numa_topo *t, int from, int to)
{
	if (from < 0 || to < 0 || from > t->max_id || to > t->max_id || !t->dist)
		return 0;
	return t->dist[from * (t->max_id + 1) + to];
}

uint64_t etm_numa_free_bytes(const struct etm_numa_node *n, enum etm_numa_backing b)
{
	if (b == ETM_NUMA_HUGE_2M || b == ETM_NUMA_HUGE_1G)
		return n->huge_free[b - ETM_NUMA_HUGE_2M];
	return n->mem_free > n->wmark_high ? n->mem_free - n->wmark_high : 0;
}

uint64_t etm_numa_total_bytes(const struct etm_numa_node *n, enum etm_numa_backing b)
{
	if (b == ETM_NUMA_HUGE_2M || b == ETM_NUMA_HUGE_1G)
		return n->huge_total[b - ETM_NUMA_HUGE_2M];
	return n->mem_total;
}

int etm_numa_need_two(const struct etm_numa_topo *t, char *why, size_t len)
{
	if (t->n >= 2)
		return 0;
	if (t->n == 1)
		snprintf(why, len,
			 "cslide needs a second NUMA node with memory (a slow tier such as PMEM or CXL): this machine "
			 "has only node %d (" NODE_DIR "/has_memory)",
			 t->node[0].id);
	else
		snprintf(why, len, "cslide needs two NUMA nodes with memory: " NODE_DIR "/has_memory lists none");
	return -ENODEV;
}

/* The smallest tier id above @above (-1: the fastest) that holds a node; -1 if none. */
static int next_tier(const struct etm_numa_topo *t, int above)
{
	int best = -1;

	for (size_t i = 0; i < t->n; i++) {
		int tr = t->node[i].tier;

		if (tr > above && (best < 0 || tr < best))
			best = tr;
	}
	return best;
}

/* The nearest node of tier @tier to @from; ties and unknown distances go to the lowest id. */
static int nearest_in(const struct etm_numa_topo *t, int from, int tier)
{
	int best = -1, best_d = INT_MAX;

	for (size_t i = 0; i < t->n; i++) {
		int d;

		if (t->node[i].tier != tier)
			continue;
		d = etm_numa_distance(t, from, t->node[i].id);
		d = d > 0 ? d : INT_MAX - 1;
		if (d < best_d) {
			best_d = d;
			best = t->node[i].id;
		}
	}
	return best;
}

int etm_numa_tier_pairs(const struct etm_numa_topo *t, struct etm_numa_pair **pairs, size_t *n, char *why, size_t len)
{
	int fast, slow;
	size_t k = 0;

	*pairs = NULL;
	*n = 0;
	if (!t->tiers_known) {
		snprintf(why, len, "the kernel describes no memory tiers (no " TIER_DIR "): give node_pair");
		return -ENOENT;
	}
	fast = next_tier(t, -1);
	slow = fast < 0 ? -1 : next_tier(t, fast);
	if (slow < 0) {
		snprintf(why, len,
			 "every memory node is in one memory tier (memory_tier%d): no slower tier to pair "
			 "with; give node_pair",
			 fast);
		return -ENOENT;
	}
	*pairs = calloc(t->n, sizeof(**pairs));
	if (!*pairs)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		if (t->node[i].tier != fast)
			continue;
		(*pairs)[k].hot_node = t->node[i].id;
		(*pairs)[k].cold_node = nearest_in(t, t->node[i].id, slow);
		k++;
	}
	*n = k;
	return 0;
}
