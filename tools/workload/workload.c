/*
 * etmem-workload: a memory workload with a known hot set and exact content
 * verification, for tests, benchmarks and demos of tiering engines.
 * See usage() for the interface.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "hotset.h"
#include "pagestate.h"
#include "pattern.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif
/* openEuler (and the rig kernel's etmem series): mark a range for swap_flag=yes. */
#ifndef MADV_SWAPFLAG
#define MADV_SWAPFLAG 26
#endif
#ifndef MPOL_BIND
#define MPOL_DEFAULT 0
#define MPOL_BIND 2
#endif

#define EXIT_CORRUPT 1
#define EXIT_USAGE 2
#define EXIT_SETUP 3

enum backing { B_ANON, B_FILE, B_SHARED, B_THP, B_HUGETLB };
enum pattern { P_UNIFORM, P_ZIPF, P_SEQ };
static const char *const backing_names[] = { "anon", "file", "shared", "thp", "hugetlb" };
static const char *const pattern_names[] = { "uniform", "zipf", "seq" };
static const char *const layout_names[] = { "contiguous", "interleaved" };

struct opts {
	uint64_t size;
	double hot_frac;
	enum pattern pattern;
	int write;
	enum backing backing;
	enum wl_layout layout;
	int node;
	int hot_node, cold_node; /* first-touch placement of each part, -1 unused */
	int cpu;
	const char *name;
	uint64_t name_from; /* first page --name and --swapflag apply to */
	int swapflag;
	int defer_hot; /* first touch of the hot part on SIGUSR2 */
	const char *cgroup;
	const char *file_dir;
	double duration;
	double rate;
	double zipf_s;
	uint64_t seed;
	const char *report_file;
	const char *ready_file;
	int64_t corrupt_page;
};

struct wl {
	struct opts o;
	char *buf;
	uint64_t len, npages, nhot;
	long psz;
	uint64_t *hot_idx; /* indices of the hot pages, ascending */
	uint32_t *gen;	   /* write generation per page (only hot pages change) */
	double *zipf_cdf;
	int name_set;
	int swapflag_set;
	int hot_touched; /* the hot part is filled (at once, or on SIGUSR2 with --defer-hot) */
	uint64_t accesses;
	double t_start, t_end;
	unsigned seq;
	volatile uint64_t sink;
};

static volatile sig_atomic_t want_report, want_stop, want_hot;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		want_report = 1;
	else if (sig == SIGUSR2)
		want_hot = 1;
	else
		want_stop = 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: etmem-workload [options]\n"
		   "Allocates memory, keeps a hot part busy, leaves the rest idle; on exit verifies\n"
		   "every page's content and fails if one is corrupted or lost.\n"
		   "\n"
		   "  --size SIZE         buffer size; plain number = MiB, or with K/M/G suffix (default 64)\n"
		   "  --hot-frac F        fraction of pages in the hot set, 0..1 (default 0.1)\n"
		   "  --layout L          contiguous: hot = first pages; interleaved: hot pages spread\n"
		   "                      evenly (page i hot iff floor((i+1)H/N) > floor(iH/N)) (default contiguous)\n"
		   "  --pattern P         uniform | zipf | seq access over the hot set (default uniform)\n"
		   "  --zipf-s S          zipf exponent (default 0.99); rank 1 = first hot page\n"
		   "  --op OP             read | write (write rewrites the whole page with a new generation)\n"
		   "  --backing B         anon | file | shared | thp | hugetlb (default anon). anon uses\n"
		   "                      MADV_NOHUGEPAGE so every 4 KiB page is its own folio; thp uses\n"
		   "                      MADV_HUGEPAGE; hugetlb needs vm.nr_hugepages; file is a MAP_SHARED\n"
		   "                      unlinked file in --file-dir; shared is MAP_SHARED|MAP_ANONYMOUS\n"
		   "  --file-dir DIR      directory for --backing file (default $TMPDIR or /tmp)\n"
		   "  --node N            bind the buffer to NUMA node N (mbind MPOL_BIND) before touching\n"
		   "  --hot-node N        with --cold-node: place the hot part on node N and the cold part\n"
		   "  --cold-node M       on node M when first touched (a task MPOL_BIND switched while\n"
		   "                      filling; the buffer keeps the default policy, so tiering engines\n"
		   "                      and the kernel may move the pages later). thp and hugetlb place\n"
		   "                      2 MiB at a time: one holding a hot page goes to the hot node;\n"
		   "                      hugetlb needs enough free pages in each node's pool\n"
		   "  --defer-hot         leave the hot part untouched (not even mapped in) until SIGUSR2,\n"
		   "                      then first-touch (fill) it and start the accesses; with thp and\n"
		   "                      hugetlb every 2 MiB holding a hot page waits. For tests of\n"
		   "                      first-touch samples (pmu_event=page-faults) and of placement\n"
		   "                      after a tiering engine started\n"
		   "  --cpu N             pin to CPU N (first-touch pages land on its node)\n"
		   "  --cgroup DIR        join cgroup DIR (writes own pid to DIR/cgroup.procs) BEFORE\n"
		   "                      allocating, so the memory is charged there (also on cgroup v1)\n"
		   "  --name NAME         name the buffer with prctl(PR_SET_VMA_ANON_NAME) ([anon:NAME] in\n"
		   "                      maps); a kernel without it only gives a warning (name_set=false)\n"
		   "  --swapflag          mark the buffer with madvise(MADV_SWAPFLAG), the openEuler flag\n"
		   "                      swap_flag=yes acts on; a kernel without it only gives a warning\n"
		   "                      (swapflag_set=false)\n"
		   "  --name-from PAGE    name (--name) and mark (--swapflag) only pages PAGE..end of the\n"
		   "                      buffer (default 0), which splits it into two VMAs (tests of\n"
		   "                      swap_flag)\n"
		   "  --duration S        stop after S seconds (default 0 = until SIGTERM/SIGINT)\n"
		   "  --rate N            at most N page accesses per second (default 0 = unlimited)\n"
		   "  --seed N            content/access seed (default 1)\n"
		   "  --ready-file F      once the buffer is filled, write a report (event \"ready\") to F\n"
		   "  --report-file F     SIGUSR1 writes a report (event \"report\") to F (default stdout);\n"
		   "                      files are written to F.tmp and renamed, so F appears complete\n"
		   "  --corrupt-page N    TEST ONLY: flip one byte of page N just before verification\n"
		   "  -h, --help          this text\n"
		   "\n"
		   "Signals: SIGUSR1 = write a report; SIGUSR2 = touch the hot part (--defer-hot);\n"
		   "SIGTERM/SIGINT = stop, verify, print summary.\n"
		   "Report: one JSON line with keys event, seq, pid, addr, end, len, page_size, pages,\n"
		   "backing, name, name_set, swapflag_set, layout, hot_frac, hot_pages, pattern, op, seed, node_bind,\n"
		   "hot_node, cold_node, hot_touched,\n"
		   "hot and cold (each {pages, resident, swapped, not_present, nodes:[count per node id]}),\n"
		   "accesses, elapsed_s, accesses_per_s, mib_per_s. Resident/swapped come from\n"
		   "/proc/self/pagemap, nodes from a move_pages() query (resident pages only).\n"
		   "The summary (event \"summary\", stdout and --report-file) adds verified_pages, bad_pages,\n"
		   "bad_hot, bad_cold, first_bad_page (-1 if none) and result (\"ok\" or \"corrupt\");\n"
		   "its page states are taken before verification (which faults every page in). A hot\n"
		   "part never touched (--defer-hot without SIGUSR2) is not verified.\n"
		   "Exit status: 0 ok, 1 corrupt or lost page, 2 usage error, 3 setup failure.\n");
}

/* A page index: decimal digits only, no sign, no overflow. */
static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	double v = strtod(s, &end);
	uint64_t mul = 1ULL << 20;

	if (end == s || v <= 0)
		return -EINVAL;
	switch (*end) {
	case 'k':
	case 'K':
		mul = 1ULL << 10;
		end++;
		break;
	case 'm':
	case 'M':
		mul = 1ULL << 20;
		end++;
		break;
	case 'g':
	case 'G':
		mul = 1ULL << 30;
		end++;
		break;
	case '\0':
		break;
	default:
		return -EINVAL;
	}
	if (*end == 'i' || *end == 'B')
		end += strspn(end, "iB");
	if (*end)
		return -EINVAL;
	*out = (uint64_t)(v * mul);
	return 0;
}

static int pick(const char *arg, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(arg, names[i]))
			return i;
	return -1;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "size", 1, 0, 's' },
		{ "hot-frac", 1, 0, 'f' },
		{ "layout", 1, 0, 'l' },
		{ "pattern", 1, 0, 'p' },
		{ "zipf-s", 1, 0, 'z' },
		{ "op", 1, 0, 'o' },
		{ "backing", 1, 0, 'b' },
		{ "file-dir", 1, 0, 'D' },
		{ "node", 1, 0, 'n' },
		{ "cpu", 1, 0, 'c' },
		{ "cgroup", 1, 0, 'g' },
		{ "name", 1, 0, 'N' },
		{ "duration", 1, 0, 'd' },
		{ "rate", 1, 0, 'r' },
		{ "seed", 1, 0, 'S' },
		{ "ready-file", 1, 0, 'R' },
		{ "report-file", 1, 0, 'F' },
		{ "corrupt-page", 1, 0, 'C' },
		{ "name-from", 1, 0, 'O' },
		{ "swapflag", 0, 0, 'W' },
		{ "hot-node", 1, 0, 'H' },
		{ "cold-node", 1, 0, 'K' },
		{ "defer-hot", 0, 0, 'T' },
		{ "help", 0, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	uint64_t u;
	int c, v;

	*o = (struct opts){ .size = 64ULL << 20,
			    .hot_frac = 0.1,
			    .node = -1,
			    .hot_node = -1,
			    .cold_node = -1,
			    .cpu = -1,
			    .zipf_s = 0.99,
			    .seed = 1,
			    .corrupt_page = -1 };
	o->file_dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_size(optarg, &o->size))
				goto bad;
			break;
		case 'f':
			o->hot_frac = atof(optarg);
			if (o->hot_frac < 0 || o->hot_frac > 1)
				goto bad;
			break;
		case 'l':
			if ((v = pick(optarg, layout_names, 2)) < 0)
				goto bad;
			o->layout = v;
			break;
		case 'p':
			if ((v = pick(optarg, pattern_names, 3)) < 0)
				goto bad;
			o->pattern = v;
			break;
		case 'z':
			o->zipf_s = atof(optarg);
			break;
		case 'o':
			if (strcmp(optarg, "read") && strcmp(optarg, "write"))
				goto bad;
			o->write = !strcmp(optarg, "write");
			break;
		case 'b':
			if ((v = pick(optarg, backing_names, 5)) < 0)
				goto bad;
			o->backing = v;
			break;
		case 'D':
			o->file_dir = optarg;
			break;
		case 'n':
			o->node = atoi(optarg);
			break;
		case 'H':
		case 'K':
			if (parse_u64(optarg, &u) || u >= WL_MAX_NODES)
				goto bad;
			*(c == 'H' ? &o->hot_node : &o->cold_node) = (int)u;
			break;
		case 'c':
			o->cpu = atoi(optarg);
			break;
		case 'g':
			o->cgroup = optarg;
			break;
		case 'N':
			o->name = optarg;
			break;
		case 'O':
			if (parse_u64(optarg, &o->name_from))
				goto bad;
			break;
		case 'W':
			o->swapflag = 1;
			break;
		case 'T':
			o->defer_hot = 1;
			break;
		case 'd':
			o->duration = atof(optarg);
			break;
		case 'r':
			o->rate = atof(optarg);
			break;
		case 'S':
			o->seed = strtoull(optarg, NULL, 0);
			break;
		case 'R':
			o->ready_file = optarg;
			break;
		case 'F':
			o->report_file = optarg;
			break;
		case 'C':
			o->corrupt_page = strtoll(optarg, NULL, 0);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			goto bad_nomsg;
		}
	}
	if (optind != argc)
		goto bad_nomsg;
	if ((o->hot_node < 0) != (o->cold_node < 0) || (o->hot_node >= 0 && o->node >= 0)) {
		fprintf(stderr, "etmem-workload: --hot-node and --cold-node go together, and not with --node\n");
		goto bad_nomsg;
	}
	return 0;
bad:
	fprintf(stderr, "etmem-workload: bad value '%s'\n", optarg);
bad_nomsg:
	usage(stderr);
	return -EINVAL;
}

static int join_cgroup(const char *dir)
{
	char path[4096];
	FILE *f;
	int err = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "we");
	if (!f)
		return -errno;
	if (fprintf(f, "%d\n", (int)getpid()) < 0)
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

#define NODE_MASK_LONGS (WL_MAX_NODES / (8 * sizeof(unsigned long)) + 1)

static void node_mask(int node, unsigned long *mask)
{
	memset(mask, 0, NODE_MASK_LONGS * sizeof(*mask));
	mask[node / (8 * sizeof(unsigned long))] |= 1UL << (node % (8 * sizeof(unsigned long)));
}

/* Allocations of this task from now on come from @node only. */
static int bind_task(int node)
{
	unsigned long mask[NODE_MASK_LONGS];

	node_mask(node, mask);
	if (syscall(SYS_set_mempolicy, MPOL_BIND, mask, WL_MAX_NODES + 1))
		return -errno;
	return 0;
}

static int bind_node(void *addr, uint64_t len, int node)
{
	unsigned long mask[NODE_MASK_LONGS];

	if (node < 0 || node >= WL_MAX_NODES)
		return -EINVAL;
	node_mask(node, mask);
	/* Raw syscalls: no libnuma, so the static build for the rig stays simple. */
	if (syscall(SYS_mbind, addr, len, MPOL_BIND, mask, WL_MAX_NODES + 1, 0))
		return -errno;
	/* File pages follow the task policy, not the VMA's: bind the task while filling. */
	return bind_task(node);
}

/* Pages placed together: a whole huge page for thp and hugetlb. */
static uint64_t place_unit(const struct wl *w)
{
	if (w->o.backing == B_THP || w->o.backing == B_HUGETLB)
		return (2ULL << 20) / (uint64_t)w->psz;
	return 1;
}

static int unit_is_hot(const struct wl *w, uint64_t first, uint64_t end)
{
	for (uint64_t i = first; i < end; i++)
		if (wl_page_is_hot(i, w->npages, w->nhot, w->o.layout))
			return 1;
	return 0;
}

/* Is @node in /sys/devices/system/node/has_memory ("0-1,3")? */
static int node_has_memory(int node)
{
	FILE *f = fopen("/sys/devices/system/node/has_memory", "re");
	int a, b, found = 0;
	char sep;

	if (!f)
		return node == 0; /* no NUMA sysfs: one node */
	while (!found && fscanf(f, "%d", &a) == 1) {
		b = a;
		if (fscanf(f, "%c", &sep) == 1 && sep == '-' && fscanf(f, "%d%c", &b, &sep) < 1)
			break;
		found = node >= a && node <= b;
	}
	fclose(f);
	return found;
}

static long free_hugepages(int node)
{
	char path[128];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/hugepages/hugepages-2048kB/free_hugepages", node);
	f = fopen(path, "re");
	if (f && fscanf(f, "%ld", &v) != 1)
		v = -1;
	if (f)
		fclose(f);
	return v;
}

/* --hot-node/--cold-node: each node has memory, and hugetlb has enough free pages there. */
static int check_placement(const struct wl *w)
{
	const int node[2] = { w->o.hot_node, w->o.cold_node };
	uint64_t unit = place_unit(w), need[2] = { 0, 0 };

	for (int k = 0; k < 2; k++) {
		if (!node_has_memory(node[k])) {
			fprintf(stderr,
				"etmem-workload: --%s-node %d: no NUMA node %d with memory here "
				"(/sys/devices/system/node/has_memory)\n",
				k ? "cold" : "hot", node[k], node[k]);
			return -ENODEV;
		}
	}
	if (w->o.backing != B_HUGETLB)
		return 0;
	for (uint64_t u = 0; u < w->npages; u += unit)
		need[!unit_is_hot(w, u, u + unit < w->npages ? u + unit : w->npages)]++;
	if (node[0] == node[1])
		need[0] = need[1] = need[0] + need[1];
	for (int k = 0; k < 2; k++) {
		long have = free_hugepages(node[k]);

		if (have < 0 || (uint64_t)have < need[k]) {
			fprintf(stderr,
				"etmem-workload: --%s-node %d: hugetlb needs %llu free 2 MiB pages on node %d, "
				"it has %ld (nr_hugepages of the node's hugepages-2048kB)\n",
				k ? "cold" : "hot", node[k], (unsigned long long)need[k], node[k], have);
			return -ENOMEM;
		}
	}
	return 0;
}

/*
 * First touch of the units holding a hot page (@part 1), of the others (0),
 * or of all of them in address order (-1, the default: the LRU then holds
 * the buffer in address order, which the kernel-only rig tests rely on),
 * each under a bind to its part's node (--hot-node/--cold-node, or --node:
 * file pages follow the task's policy, not the VMA's). The caller resets
 * the task's policy.
 */
static int fill_part(struct wl *w, int part)
{
	uint64_t unit = place_unit(w);
	int cur = -1, err;

	for (uint64_t u = 0; u < w->npages; u += unit) {
		uint64_t end = u + unit < w->npages ? u + unit : w->npages;
		int hot = unit_is_hot(w, u, end);
		int node = w->o.hot_node >= 0 ? (hot ? w->o.hot_node : w->o.cold_node) : w->o.node;

		if (part >= 0 && hot != part)
			continue;
		if (node >= 0 && node != cur && (err = bind_task(node)))
			return err;
		cur = node;
		for (uint64_t i = u; i < end; i++)
			wl_pattern_fill(w->buf + i * w->psz, w->psz, w->o.seed, i, 0);
	}
	if (part != 0)
		w->hot_touched = 1;
	return 0;
}

/* The hot part's first touch (at start, or on SIGUSR2 with --defer-hot). */
static int touch_hot(struct wl *w)
{
	int err = fill_part(w, 1);

	if (w->o.node >= 0 || w->o.hot_node >= 0)
		syscall(SYS_set_mempolicy, MPOL_DEFAULT, NULL, 0);
	if (err)
		fprintf(stderr, "etmem-workload: touching the hot part: %s\n", strerror(-err));
	return err;
}

static int map_buffer(struct wl *w)
{
	const struct opts *o = &w->o;
	uint64_t huge = 2ULL << 20;
	int flags = MAP_PRIVATE | MAP_ANONYMOUS, fd = -1;
	char *p;

	w->len = (o->size + w->psz - 1) / w->psz * w->psz;
	if (o->backing == B_HUGETLB || o->backing == B_THP)
		w->len = (w->len + huge - 1) / huge * huge;
	switch (o->backing) {
	case B_ANON:
	case B_THP:
		break;
	case B_SHARED:
		flags = MAP_SHARED | MAP_ANONYMOUS;
		break;
	case B_HUGETLB:
		flags |= MAP_HUGETLB;
		break;
	case B_FILE: {
		char path[4096];

		snprintf(path, sizeof(path), "%s/etmem-workload.XXXXXX", o->file_dir);
		fd = mkostemp(path, O_CLOEXEC);
		if (fd < 0)
			return -errno;
		unlink(path); /* nothing to clean up however we exit */
		if (ftruncate(fd, (off_t)w->len)) {
			close(fd);
			return -errno;
		}
		flags = MAP_SHARED;
		break;
	}
	}
	if (o->backing == B_THP) {
		/* Over-allocate to align to 2 MiB, so every huge page can be a THP. */
		p = mmap(NULL, w->len + huge, PROT_READ | PROT_WRITE, flags, -1, 0);
		if (p == MAP_FAILED)
			return -errno;
		char *a = (char *)(((uintptr_t)p + huge - 1) & ~(huge - 1));
		if (a > p)
			munmap(p, a - p);
		munmap(a + w->len, (p + huge) - a);
		p = a;
	} else {
		p = mmap(NULL, w->len, PROT_READ | PROT_WRITE, flags, fd, 0);
		if (fd >= 0)
			close(fd);
		if (p == MAP_FAILED)
			return -errno;
	}
	/* Per-4K behaviour is what the engines and the page_idle/move_pages tests reason about. */
	if (o->backing == B_ANON && madvise(p, w->len, MADV_NOHUGEPAGE))
		return -errno;
	if (o->backing == B_THP && madvise(p, w->len, MADV_HUGEPAGE))
		return -errno;
	w->buf = p;
	return 0;
}

static int setup(struct wl *w)
{
	const struct opts *o = &w->o;
	uint64_t i, h;
	int err = 0;

	if (o->cgroup && (err = join_cgroup(o->cgroup))) {
		fprintf(stderr, "etmem-workload: join cgroup %s: %s\n", o->cgroup, strerror(-err));
		return err;
	}
	if (o->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(o->cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			fprintf(stderr, "etmem-workload: pin to cpu %d: %m\n", o->cpu);
			return -errno;
		}
	}
	if ((err = map_buffer(w))) {
		fprintf(stderr, "etmem-workload: mmap %s %llu bytes: %s\n", backing_names[o->backing],
			(unsigned long long)w->len, strerror(-err));
		return err;
	}
	w->npages = w->len / w->psz;
	if (o->node >= 0 && (err = bind_node(w->buf, w->len, o->node))) {
		fprintf(stderr, "etmem-workload: bind to node %d: %s\n", o->node, strerror(-err));
		return err;
	}
	if (o->name_from >= w->npages) {
		fprintf(stderr, "etmem-workload: --name-from %llu: the buffer has only %llu pages\n",
			(unsigned long long)o->name_from, (unsigned long long)w->npages);
		return -EINVAL;
	}
	if (o->name) {
		uint64_t off = o->name_from * (uint64_t)w->psz;

		w->name_set = !prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, w->buf + off, w->len - off, o->name);
		if (!w->name_set)
			fprintf(stderr, "etmem-workload: warning: PR_SET_VMA_ANON_NAME: %m\n");
	}
	if (o->swapflag) {
		uint64_t off = o->name_from * (uint64_t)w->psz;

		w->swapflag_set = !madvise(w->buf + off, w->len - off, MADV_SWAPFLAG);
		if (!w->swapflag_set)
			fprintf(stderr, "etmem-workload: warning: madvise(MADV_SWAPFLAG): %m\n");
	}
	w->nhot = (uint64_t)llround(o->hot_frac * (double)w->npages);
	w->hot_idx = malloc((w->nhot ? w->nhot : 1) * sizeof(*w->hot_idx));
	w->gen = calloc(w->npages, sizeof(*w->gen));
	if (!w->hot_idx || !w->gen)
		return -ENOMEM;
	for (i = 0, h = 0; i < w->npages; i++)
		if (wl_page_is_hot(i, w->npages, w->nhot, o->layout))
			w->hot_idx[h++] = i;
	if (o->pattern == P_ZIPF && w->nhot) {
		double sum = 0;

		w->zipf_cdf = malloc(w->nhot * sizeof(*w->zipf_cdf));
		if (!w->zipf_cdf)
			return -ENOMEM;
		for (i = 0; i < w->nhot; i++)
			w->zipf_cdf[i] = (sum += 1.0 / pow((double)(i + 1), o->zipf_s));
		for (i = 0; i < w->nhot; i++)
			w->zipf_cdf[i] /= sum;
	}
	if (o->hot_node >= 0 && (err = check_placement(w)))
		return err;
	/* Everything in address order, or the cold part only when the hot one waits for SIGUSR2. */
	err = fill_part(w, o->defer_hot ? 0 : -1);
	if (err && o->hot_node >= 0)
		fprintf(stderr, "etmem-workload: place on nodes %d/%d: %s\n", o->hot_node, o->cold_node,
			strerror(-err));
	if (o->node >= 0 || o->hot_node >= 0)
		syscall(SYS_set_mempolicy, MPOL_DEFAULT, NULL, 0);
	return err;
}

static uint64_t rnd(uint64_t *s)
{
	/* xorshift64*: fast and good enough to pick pages. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static uint64_t next_hot(struct wl *w, uint64_t *rs, uint64_t *cursor)
{
	uint64_t k;

	switch (w->o.pattern) {
	case P_SEQ:
		k = (*cursor)++ % w->nhot;
		break;
	case P_ZIPF: {
		double u = (double)(rnd(rs) >> 11) / (double)(1ULL << 53);
		uint64_t lo = 0, hi = w->nhot - 1;

		while (lo < hi) {
			uint64_t mid = (lo + hi) / 2;

			if (w->zipf_cdf[mid] < u)
				lo = mid + 1;
			else
				hi = mid;
		}
		k = lo;
		break;
	}
	default:
		k = rnd(rs) % w->nhot;
	}
	return w->hot_idx[k];
}

static void access_page(struct wl *w, uint64_t idx)
{
	char *page = w->buf + idx * w->psz;

	if (w->o.write) {
		wl_pattern_fill(page, w->psz, w->o.seed, idx, ++w->gen[idx]);
	} else {
		const volatile uint64_t *q = (const uint64_t *)page;
		uint64_t s = 0;
		size_t j;

		for (j = 0; j < w->psz / sizeof(*q); j += 8) /* one word per cache line */
			s += q[j];
		w->sink += s;
	}
	w->accesses++;
}

struct part {
	uint64_t pages, resident, swapped, not_present, node[WL_MAX_NODES];
};

static void json_part(FILE *f, const char *key, const struct part *p, int nnodes)
{
	int n;

	fprintf(f, "\"%s\":{\"pages\":%llu,\"resident\":%llu,\"swapped\":%llu,\"not_present\":%llu,\"nodes\":[", key,
		(unsigned long long)p->pages, (unsigned long long)p->resident, (unsigned long long)p->swapped,
		(unsigned long long)p->not_present);
	for (n = 0; n < nnodes; n++)
		fprintf(f, "%s%llu", n ? "," : "", (unsigned long long)p->node[n]);
	fprintf(f, "]}");
}

struct verify {
	uint64_t checked, bad, bad_hot, bad_cold;
	int64_t first_bad;
};

/* Count page states of the hot and cold parts. Returns 0 or -errno. */
static int collect(struct wl *w, struct part *hot, struct part *cold, int nnodes)
{
	uint8_t *st = malloc(w->npages);
	int16_t *nd = malloc(w->npages * sizeof(*nd));
	uint64_t i;
	int err = -ENOMEM;

	memset(hot, 0, sizeof(*hot));
	memset(cold, 0, sizeof(*cold));
	if (st && nd)
		err = wl_page_states(0, (uintptr_t)w->buf, w->npages, st, nd);
	for (i = 0; i < w->npages && !err; i++) {
		struct part *p = wl_page_is_hot(i, w->npages, w->nhot, w->o.layout) ? hot : cold;

		p->pages++;
		if (st[i] == WL_PS_RESIDENT) {
			p->resident++;
			if (nd[i] >= 0 && nd[i] < nnodes)
				p->node[nd[i]]++;
		} else if (st[i] == WL_PS_SWAPPED) {
			p->swapped++;
		} else {
			p->not_present++;
		}
	}
	free(st);
	free(nd);
	if (err)
		fprintf(stderr, "etmem-workload: page state query: %s\n", strerror(-err));
	return err;
}

/* parts: hot/cold counts taken earlier, or NULL to take them now. */
static int write_report(struct wl *w, const char *event, const char *path, const struct verify *v,
			const struct part *parts)
{
	const struct opts *o = &w->o;
	struct part pp[2];
	int nnodes = wl_nr_possible_nodes(), err;
	double el = (w->t_end ? w->t_end : now()) - w->t_start;
	char tmp[4096];
	FILE *f;

	if (!parts) {
		collect(w, &pp[0], &pp[1], nnodes);
		parts = pp;
	}
	if (path) {
		snprintf(tmp, sizeof(tmp), "%s.tmp", path);
		f = fopen(tmp, "we");
		if (!f)
			return -errno;
	} else {
		f = stdout;
	}
	fprintf(f,
		"{\"event\":\"%s\",\"seq\":%u,\"pid\":%d,\"addr\":\"%#llx\",\"end\":\"%#llx\",\"len\":%llu,"
		"\"page_size\":%ld,\"pages\":%llu,\"backing\":\"%s\",",
		event, w->seq++, (int)getpid(), (unsigned long long)(uintptr_t)w->buf,
		(unsigned long long)(uintptr_t)(w->buf + w->len), (unsigned long long)w->len, w->psz,
		(unsigned long long)w->npages, backing_names[o->backing]);
	if (o->name)
		fprintf(f, "\"name\":\"%s\",", o->name); /* names are plain identifiers */
	else
		fprintf(f, "\"name\":null,");
	fprintf(f,
		"\"name_set\":%s,\"swapflag_set\":%s,\"layout\":\"%s\",\"hot_frac\":%g,\"hot_pages\":%llu,"
		"\"pattern\":\"%s\",\"op\":\"%s\",\"seed\":%llu,\"node_bind\":%d,\"hot_node\":%d,\"cold_node\":%d,"
		"\"hot_touched\":%s,",
		w->name_set ? "true" : "false", w->swapflag_set ? "true" : "false", layout_names[o->layout],
		o->hot_frac, (unsigned long long)w->nhot, pattern_names[o->pattern], o->write ? "write" : "read",
		(unsigned long long)o->seed, o->node, o->hot_node, o->cold_node, w->hot_touched ? "true" : "false");
	json_part(f, "hot", &parts[0], nnodes);
	fputc(',', f);
	json_part(f, "cold", &parts[1], nnodes);
	fprintf(f, ",\"accesses\":%llu,\"elapsed_s\":%.3f,\"accesses_per_s\":%.0f,\"mib_per_s\":%.1f",
		(unsigned long long)w->accesses, el, el > 0 ? w->accesses / el : 0.0,
		el > 0 ? w->accesses * (double)w->psz / el / (1 << 20) : 0.0);
	if (v)
		fprintf(f,
			",\"verified_pages\":%llu,\"bad_pages\":%llu,\"bad_hot\":%llu,\"bad_cold\":%llu,"
			"\"first_bad_page\":%lld,\"result\":\"%s\"",
			(unsigned long long)v->checked, (unsigned long long)v->bad, (unsigned long long)v->bad_hot,
			(unsigned long long)v->bad_cold, (long long)v->first_bad, v->bad ? "corrupt" : "ok");
	fprintf(f, "}\n");
	if (path) {
		err = fclose(f) ? -errno : 0;
		if (!err && rename(tmp, path))
			err = -errno;
		return err;
	}
	fflush(f);
	return 0;
}

static void run(struct wl *w)
{
	uint64_t rs = w->o.seed * 0x9e3779b97f4a7c15ULL | 1, cursor = 0, n;
	double deadline = w->o.duration > 0 ? w->t_start + w->o.duration : 0;

	while (!want_stop) {
		if (want_report) {
			want_report = 0;
			write_report(w, "report", w->o.report_file, NULL, NULL);
		}
		if (want_hot && !w->hot_touched && touch_hot(w))
			break; /* a bind that failed: stop and say so (verification still runs) */
		if (!w->nhot || !w->hot_touched) {
			usleep(10000);
		} else {
			for (n = 0; n < 64; n++)
				access_page(w, next_hot(w, &rs, &cursor));
			if (w->o.rate > 0) {
				/* Sleep until this many accesses are due at the requested rate. */
				double due = w->t_start + w->accesses / w->o.rate, t = now();

				if (due > t)
					usleep((useconds_t)((due - t) * 1e6));
			}
		}
		if (deadline && now() >= deadline)
			break;
	}
}

/* Is page @i in a unit still waiting for its first touch (--defer-hot before SIGUSR2)? */
static int page_untouched(const struct wl *w, uint64_t i)
{
	uint64_t unit = place_unit(w), u = i / unit * unit;

	return !w->hot_touched && unit_is_hot(w, u, u + unit < w->npages ? u + unit : w->npages);
}

static struct verify verify_all(struct wl *w)
{
	struct verify v = { .first_bad = -1 };
	uint64_t i;

	for (i = 0; i < w->npages; i++) {
		/* a hot part never touched holds nothing to check (reading it would fault it in as zeros) */
		if (page_untouched(w, i))
			continue;
		v.checked++;
		if (!wl_pattern_check(w->buf + i * w->psz, w->psz, w->o.seed, i, w->gen[i]))
			continue;
		if (!v.bad++)
			v.first_bad = (int64_t)i;
		if (wl_page_is_hot(i, w->npages, w->nhot, w->o.layout))
			v.bad_hot++;
		else
			v.bad_cold++;
	}
	return v;
}

/* Everything setup() allocated; safe on a partial setup. */
static void release(struct wl *w)
{
	if (w->buf)
		munmap(w->buf, w->len);
	free(w->hot_idx);
	free(w->gen);
	free(w->zipf_cdf);
	memset(w, 0, sizeof(*w));
}

int main(int argc, char **argv)
{
	struct wl w = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	struct verify v;
	struct part parts[2];
	int err;

	if (parse_opts(argc, argv, &w.o))
		return EXIT_USAGE;
	w.psz = sysconf(_SC_PAGESIZE);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if ((err = setup(&w))) {
		release(&w);
		return EXIT_SETUP;
	}
	w.t_start = now();
	if (w.o.ready_file && (err = write_report(&w, "ready", w.o.ready_file, NULL, NULL))) {
		fprintf(stderr, "etmem-workload: write %s: %s\n", w.o.ready_file, strerror(-err));
		release(&w);
		return EXIT_SETUP;
	}
	run(&w);
	w.t_end = now();
	if (w.o.corrupt_page >= 0 && (uint64_t)w.o.corrupt_page < w.npages)
		w.buf[w.o.corrupt_page * w.psz + 123] ^= 0x5a;
	/* Page states first: verification faults every page back in. */
	collect(&w, &parts[0], &parts[1], wl_nr_possible_nodes());
	v = verify_all(&w);
	write_report(&w, "summary", NULL, &v, parts);
	if (w.o.report_file)
		write_report(&w, "summary", w.o.report_file, &v, parts);
	release(&w);
	return v.bad ? EXIT_CORRUPT : 0;
}
