/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Host test of the PMU sampler on this kernel, software path: perf's
 * page-faults event. etmem-workload (64 MiB, 10 % of its pages hot and
 * read continuously, interleaved) is paged out whole with
 * process_madvise(MADV_PAGEOUT); its hot pages fault straight back in,
 * its idle pages stay out. The sampler must count >= 95 % of the hot pages
 * and no idle page, lose nothing, keep the counts across a VMA rebuild and
 * a cooling (halving, not reset), and release the events when the
 * workload exits. Then the hardware path: with no pmu_event the
 * architecture's memory-access events are tried; on a machine without a
 * cpu PMU (this one) the refusal must name the event and the reason, and
 * the test says it skipped the hardware half; with a PMU the same
 * workload checks run on hardware samples.
 *
 * Usage: test_host_pmu ETMEM_WORKLOAD [--record FILE]. Needs root and swap
 * (run by pmu_zram.sh). Exit 0 pass, 1 fail, 77 skip.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../pmu/pmu_stream.h"
#include "hotset.h"
#include "scan/pmu_sampler.h"

#define PG 4096ULL
#define HOT_MIN 0.95

struct wl {
	pid_t pid;
	uint64_t addr, pages, hot;
	char dir[64];
};

struct rec {
	pthread_mutex_t mu;
	uint8_t *buf;
	size_t len, cap;
};

static int failures;

#define CHECK(cond, ...)                                                                                               \
	do {                                                                                                           \
		if (!(cond)) {                                                                                         \
			printf("FAIL: ");                                                                              \
			printf(__VA_ARGS__);                                                                           \
			printf("\n");                                                                                  \
			failures++;                                                                                    \
		} else {                                                                                               \
			printf("ok: ");                                                                                \
			printf(__VA_ARGS__);                                                                           \
			printf("\n");                                                                                  \
		}                                                                                                      \
	} while (0)

static void tap(void *arg, const void *r, size_t len)
{
	struct rec *rc = arg;

	pthread_mutex_lock(&rc->mu);
	if (rc->len + len > rc->cap) {
		size_t cap = (rc->cap + len) * 2;
		uint8_t *b = realloc(rc->buf, cap);

		if (!b) {
			pthread_mutex_unlock(&rc->mu);
			return;
		}
		rc->buf = b;
		rc->cap = cap;
	}
	memcpy(rc->buf + rc->len, r, len);
	rc->len += len;
	pthread_mutex_unlock(&rc->mu);
}

static uint64_t json_u64(const char *j, const char *key, int base)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(j, pat);
	if (!p)
		return 0;
	p += strlen(pat);
	if (*p == '"')
		p++;
	return strtoull(p, NULL, base);
}

/* Start etmem-workload and wait for its ready report. */
static int wl_start(const char *bin, struct wl *w)
{
	char ready[128], buf[8192];
	FILE *f = NULL;

	snprintf(w->dir, sizeof(w->dir), "/tmp/etmem-pmu.XXXXXX");
	if (!mkdtemp(w->dir))
		return -1;
	snprintf(ready, sizeof(ready), "%s/ready", w->dir);
	w->pid = fork();
	if (w->pid == 0) {
		execl(bin, bin, "--size", "64M", "--hot-frac", "0.1", "--layout", "interleaved", "--op", "read",
		      "--ready-file", ready, (char *)NULL);
		_exit(3);
	}
	for (int i = 0; i < 300 && !f; i++) {
		f = fopen(ready, "r");
		if (!f)
			usleep(100000);
	}
	if (!f)
		return -1;
	buf[fread(buf, 1, sizeof(buf) - 1, f)] = '\0';
	fclose(f);
	w->addr = json_u64(buf, "addr", 16);
	w->pages = json_u64(buf, "pages", 10);
	w->hot = json_u64(buf, "hot_pages", 10);
	return w->addr && w->pages && w->hot ? 0 : -1;
}

static int wl_stop(struct wl *w)
{
	char path[128];
	int st = 0;

	if (w->pid > 0) {
		kill(w->pid, SIGTERM);
		waitpid(w->pid, &st, 0);
		w->pid = 0;
	}
	snprintf(path, sizeof(path), "%s/ready", w->dir);
	unlink(path);
	rmdir(w->dir);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int pageout(const struct wl *w)
{
	struct iovec iov = { .iov_base = (void *)(uintptr_t)w->addr, .iov_len = w->pages * PG };
	int pfd = (int)syscall(SYS_pidfd_open, w->pid, 0);
	ssize_t r;

	if (pfd < 0)
		return -errno;
	r = process_madvise(pfd, &iov, 1, MADV_PAGEOUT, 0);
	close(pfd);
	return r < 0 ? -errno : 0;
}

/* Idle pages of the workload in swap, from /proc/PID/pagemap (bit 62). */
static uint64_t idle_swapped(const struct wl *w)
{
	char path[64];
	uint64_t n = 0, e;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)w->pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	for (uint64_t i = 0; i < w->pages; i++) {
		if (pread(fd, &e, 8, (off_t)((w->addr / PG + i) * 8)) != 8)
			break;
		n += !wl_page_is_hot(i, w->pages, w->hot, WL_LAYOUT_INTERLEAVED) && (e >> 62 & 1);
	}
	close(fd);
	return n;
}

/* Hot pages with a count, and idle pages with one. */
static void tally(struct etm_pmu_sampler *s, const struct wl *w, uint64_t *hot, uint64_t *idle)
{
	*hot = *idle = 0;
	for (uint64_t i = 0; i < w->pages; i++) {
		int c = etm_pmu_sampler_count(s, w->pid, w->addr + i * PG);

		if (c <= 0)
			continue;
		if (wl_page_is_hot(i, w->pages, w->hot, WL_LAYOUT_INTERLEAVED))
			(*hot)++;
		else
			(*idle)++;
	}
}

static void save_stream(const char *path, const struct wl *w, struct rec *r)
{
	struct etm_vma_filter f = { .anon_only = true };
	struct pmu_stream *st = calloc(1, sizeof(*st));
	struct vmas *v = NULL;

	if (!st || etm_proc_vmas(w->pid, &f, &v)) {
		printf("FAIL: cannot record the stream's ranges\n");
		failures++;
		free(st);
		return;
	}
	st->sample_type = ETM_PMU_SAMPLE_TYPE;
	st->pid = w->pid;
	for (struct vma *x = v->vma_list; x && st->nrange < PMU_STREAM_MAX_RANGES; x = x->next)
		st->range[st->nrange++] = (struct etm_pmu_range){ .start = x->start, .end = x->end };
	etm_vmas_free(v);
	st->buf_addr = w->addr;
	st->buf_pages = w->pages;
	st->buf_hot = w->hot;
	pthread_mutex_lock(&r->mu);
	st->data = r->buf;
	st->len = r->len;
	CHECK(pmu_stream_save(st, path) == 0, "stream of %zu bytes recorded to %s", st->len, path);
	pthread_mutex_unlock(&r->mu);
	st->data = NULL;
	pmu_stream_free(st);
}

/* Counts survive a rebuild of the index and decay (not vanish) by cooling. */
static void check_rebuild_and_cooling(struct etm_pmu_sampler *s, const struct wl *w, uint64_t hot_before)
{
	struct etm_pagestate *ps = etm_pagestate_new();
	struct etm_pmu_stats st;
	uint64_t hot, idle, first_hot = 0, rebuilds;
	char why[512] = "";
	int before, after;
	struct etm_grade g;

	etm_pagestate_add_range(ps, w->addr, w->addr + w->pages * PG);
	/* vma_update_rate=2: the index is rebuilt at the second cycle (set_targets), not before. */
	CHECK(etm_pmu_sampler_set_targets(s, &w->pid, 1, why, sizeof(why)) == 0, "cycle 1: %s", why);
	etm_pmu_sampler_stats(s, &st);
	rebuilds = st.count.rebuilds;
	CHECK(etm_pmu_sampler_set_targets(s, &w->pid, 1, why, sizeof(why)) == 0, "cycle 2: %s", why);
	CHECK(etm_pmu_sampler_fold(s, w->pid, ps) == 0 && etm_pmu_sampler_fold(s, w->pid, ps) == 0, "two folds");
	etm_pmu_sampler_stats(s, &st);
	CHECK(rebuilds == 0 && st.count.rebuilds >= 1,
	      "the VMA index was rebuilt at the second cycle, not the first (%llu rebuilds after the first, %llu "
	      "after the second)",
	      (unsigned long long)rebuilds, (unsigned long long)st.count.rebuilds);
	tally(s, w, &hot, &idle);
	CHECK(hot >= hot_before && idle == 0, "counts kept across the rebuild: %llu hot pages counted (were %llu)",
	      (unsigned long long)hot, (unsigned long long)hot_before);
	etm_pagestate_grade(ps, 1, &g);
	CHECK(g.scanned == w->pages && g.cold >= w->pages - w->hot,
	      "the fold marks every page seen (%llu of %llu), the idle ones cold (%llu cold)",
	      (unsigned long long)g.scanned, (unsigned long long)w->pages, (unsigned long long)g.cold);
	while (first_hot < w->pages && !wl_page_is_hot(first_hot, w->pages, w->hot, WL_LAYOUT_INTERLEAVED))
		first_hot++;
	before = etm_pmu_sampler_count(s, w->pid, w->addr + first_hot * PG);
	etm_pmu_sampler_cool(s);
	after = etm_pmu_sampler_count(s, w->pid, w->addr + first_hot * PG);
	tally(s, w, &hot, &idle);
	CHECK(after == before / 2 && hot >= hot_before,
	      "cooling halves (%d -> %d) and a faulted page stays counted (%llu hot pages still counted)", before,
	      after, (unsigned long long)hot);
	etm_pagestate_free(ps);
}

/* Page the workload out, let its hot set fault back in, and judge the counts. */
static int software_path(const char *bin, const char *record)
{
	struct etm_pmu_conf c = {
		.event = "page-faults", .sample_period = 1, .cpu_set_size = 1, .vma_update_rate = 2, .anon_only = true
	};
	struct rec r = { .mu = PTHREAD_MUTEX_INITIALIZER };
	struct etm_pmu_sampler *s = NULL;
	struct wl w = { 0 };
	struct etm_pmu_stats st;
	uint64_t hot, idle, swapped;
	char why[1024];
	pid_t pid;
	int rc;

	if (record) {
		c.tap = tap;
		c.tap_arg = &r;
	}
	if (wl_start(bin, &w)) {
		printf("FAIL: etmem-workload did not start\n");
		wl_stop(&w);
		return 1;
	}
	rc = etm_pmu_sampler_new(&c, &s, why, sizeof(why));
	CHECK(rc == 0, "sampler with page-faults: %s", rc ? why : "started");
	if (rc) {
		wl_stop(&w);
		return 1;
	}
	etm_pmu_sampler_describe(s, why, sizeof(why));
	printf("software path: %s\n", why);
	rc = etm_pmu_sampler_attach(s, w.pid, why, sizeof(why));
	CHECK(rc == 0, "attach pid %d: %s", (int)w.pid, rc ? why : "ok");
	rc = pageout(&w);
	CHECK(rc == 0, "process_madvise(MADV_PAGEOUT) of the %llu pages: %s", (unsigned long long)w.pages,
	      strerror(-rc));
	sleep(2);
	swapped = idle_swapped(&w);
	CHECK(swapped * 10 >= (w.pages - w.hot) * 9, "%llu of %llu idle pages are in swap", (unsigned long long)swapped,
	      (unsigned long long)(w.pages - w.hot));
	etm_pmu_sampler_flush(s);
	tally(s, &w, &hot, &idle);
	CHECK(hot >= HOT_MIN * w.hot, "%llu of %llu hot (touched) pages counted (>= 95%%)", (unsigned long long)hot,
	      (unsigned long long)w.hot);
	CHECK(idle == 0, "no count on untouched pages (%llu counted)", (unsigned long long)idle);
	etm_pmu_sampler_stats(s, &st);
	CHECK(st.ring.lost == 0 && st.ring.corrupt == 0, "%llu samples, %llu lost, %llu corrupt",
	      (unsigned long long)st.ring.samples, (unsigned long long)st.ring.lost,
	      (unsigned long long)st.ring.corrupt);
	check_rebuild_and_cooling(s, &w, hot);
	if (record)
		save_stream(record, &w, &r);
	pid = w.pid;
	CHECK(wl_stop(&w) == 0, "the workload's pages are intact (its own verification)");
	CHECK(etm_pmu_sampler_fold(s, pid, NULL) == -ESRCH, "fold of the exited workload: -ESRCH");
	etm_pmu_sampler_stats(s, &st);
	CHECK(st.fds == 0 && st.threads == 0 && st.count.targets == 0,
	      "its events are released (%llu events of %llu threads open, %llu indexes)", (unsigned long long)st.fds,
	      (unsigned long long)st.threads, (unsigned long long)st.count.targets);
	etm_pmu_sampler_free(s);
	free(r.buf);
	return 0;
}

#define FP 256 /* pages of the follow test's buffer */

struct follow {
	int down[2], up[2];
	char *buf;
};

static void touch(char *buf, int from, int to)
{
	for (int i = from; i < to; i++)
		buf[(size_t)i * PG] = 1;
}

static void *thread_touch(void *arg)
{
	touch(arg, 0, FP / 2);
	return NULL;
}

/* The grandchild: touches a quarter before it is a target, a quarter after. */
static void grandchild(struct follow *f)
{
	char c;

	touch(f->buf, FP / 2, 3 * FP / 4);
	if (write(f->up[1], "1", 1) != 1 || read(f->down[0], &c, 1) != 1)
		_exit(3);
	touch(f->buf, 3 * FP / 4, FP);
	if (write(f->up[1], "2", 1) != 1 || read(f->down[0], &c, 1) != 1)
		_exit(3);
	_exit(0);
}

/* The target: a new thread touches the first half; a forked process the second. */
static void follow_child(struct follow *f)
{
	uint64_t addr;
	pthread_t th;
	pid_t gc;
	char c;

	f->buf = mmap(NULL, FP * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	addr = (uint64_t)(uintptr_t)f->buf;
	if (f->buf == MAP_FAILED || write(f->up[1], &addr, 8) != 8 || read(f->down[0], &c, 1) != 1)
		_exit(3);
	pthread_create(&th, NULL, thread_touch, f->buf);
	pthread_join(th, NULL);
	gc = fork();
	if (gc == 0)
		grandchild(f);
	if (write(f->up[1], &gc, sizeof(gc)) != sizeof(gc))
		_exit(3);
	for (;;)
		pause();
}

static int counted(struct etm_pmu_sampler *s, pid_t pid, uint64_t addr, int from, int to)
{
	int n = 0;

	for (int i = from; i < to; i++)
		n += etm_pmu_sampler_count(s, pid, addr + (uint64_t)i * PG) > 0;
	return n;
}

/* Threads created later are followed, forked processes only once they are targets; exits release. */
static void follow_path(void)
{
	struct etm_pmu_conf c = { .event = "page-faults", .sample_period = 1, .cpu_set_size = 2 };
	struct follow f;
	struct etm_pmu_sampler *s = NULL;
	struct etm_pmu_stats st;
	uint64_t addr = 0;
	pid_t pid, gc = 0, both[2];
	char why[1024], x;

	if (pipe(f.down) || pipe(f.up) || etm_pmu_sampler_new(&c, &s, why, sizeof(why))) {
		CHECK(0, "follow test set-up");
		return;
	}
	pid = fork();
	if (pid == 0)
		follow_child(&f);
	CHECK(read(f.up[0], &addr, 8) == 8 && etm_pmu_sampler_attach(s, pid, why, sizeof(why)) == 0,
	      "follow: target %d attached", (int)pid);
	CHECK(write(f.down[1], "g", 1) == 1 && read(f.up[0], &gc, sizeof(gc)) == sizeof(gc) &&
		  read(f.up[0], &x, 1) == 1,
	      "follow: a thread and a process %d created after the attach", (int)gc);
	etm_pmu_sampler_flush(s);
	etm_pmu_sampler_stats(s, &st);
	CHECK(counted(s, pid, addr, 0, FP / 2) == FP / 2 && st.inherit_thread,
	      "follow: the new thread's %d pages counted (inherit_thread)", counted(s, pid, addr, 0, FP / 2));
	CHECK(etm_pmu_sampler_count(s, gc, addr) < -1 && st.count.foreign == 0,
	      "follow: the forked process is not followed before it is a target");
	both[0] = pid;
	both[1] = gc;
	CHECK(etm_pmu_sampler_set_targets(s, both, 2, why, sizeof(why)) == 0, "follow: set_targets adds it");
	CHECK(write(f.down[1], "h", 1) == 1 && read(f.up[0], &x, 1) == 1, "follow: it touches its last quarter");
	etm_pmu_sampler_flush(s);
	CHECK(counted(s, gc, addr, 3 * FP / 4, FP) == FP / 4 && counted(s, gc, addr, FP / 2, 3 * FP / 4) == 0,
	      "follow: counted once a target (%d of %d), not before", counted(s, gc, addr, 3 * FP / 4, FP), FP / 4);
	CHECK(write(f.down[1], "x", 1) == 1, "follow: the forked process exits");
	usleep(200000);
	etm_pmu_sampler_set_targets(s, both, 2, why, sizeof(why));
	etm_pmu_sampler_stats(s, &st);
	CHECK(st.count.targets == 1 && st.fds == st.cpus, "follow: its events are released (%llu targets, %llu events)",
	      (unsigned long long)st.count.targets, (unsigned long long)st.fds);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	etm_pmu_sampler_free(s);
	close(f.down[0]);
	close(f.down[1]);
	close(f.up[0]);
	close(f.up[1]);
}

/* A core PMU registered by the kernel (x86 cpu/cpu_core, arm64 armv8_*, powerpc cpu)? */
static bool have_cpu_pmu(void)
{
	static const char *const names[] = { "cpu", "cpu_core", "cpu_atom", "armv8_pmuv3", "armv8_pmuv3_0", "ibs_op" };
	char path[128];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "/sys/bus/event_source/devices/%s", names[i]);
		if (access(path, F_OK) == 0)
			return true;
	}
	return false;
}

/* The default memory-access events: refused here with a reason, or sampled on a real PMU. */
static int hardware_path(const char *bin)
{
	struct etm_pmu_conf c = { .sample_period = 1000, .cpu_set_size = 1, .vma_update_rate = 2, .anon_only = true };
	struct etm_pmu_sampler *s = NULL;
	struct wl w = { 0 };
	uint64_t hot, idle;
	char why[2048];
	int rc = etm_pmu_sampler_new(&c, &s, why, sizeof(why));

	if (rc) {
		bool reason = strstr(why, "no PMU") || strstr(why, "no precise sampling") ||
			      strstr(why, "not permitted") || strstr(why, "not known") ||
			      strstr(why, "without libpfm4");

		CHECK(strstr(why, "event ") && reason, "hardware events refused with the event and the reason: %s",
		      why);
		if (!have_cpu_pmu())
			printf("SKIP (hardware half): this kernel registered no cpu PMU; only the software path ran\n");
		else
			printf(
			    "hardware half: a PMU exists but offers no usable memory-access event (refusal above)\n");
		return 0;
	}
	etm_pmu_sampler_describe(s, why, sizeof(why));
	printf("hardware path: %s\n", why);
	if (wl_start(bin, &w)) {
		printf("FAIL: etmem-workload did not start\n");
		failures++;
		wl_stop(&w);
		etm_pmu_sampler_free(s);
		return 1;
	}
	rc = etm_pmu_sampler_attach(s, w.pid, why, sizeof(why));
	CHECK(rc == 0, "attach pid %d: %s", (int)w.pid, rc ? why : "ok");
	sleep(2);
	etm_pmu_sampler_flush(s);
	tally(s, &w, &hot, &idle);
	CHECK(hot >= HOT_MIN * w.hot, "hardware: %llu of %llu hot pages sampled", (unsigned long long)hot,
	      (unsigned long long)w.hot);
	CHECK(idle == 0, "hardware: no count on idle pages (%llu counted)", (unsigned long long)idle);
	CHECK(wl_stop(&w) == 0, "the workload's pages are intact");
	etm_pmu_sampler_free(s);
	return 0;
}

int main(int argc, char **argv)
{
	const char *record = NULL;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		fprintf(stderr, "usage: test_host_pmu ETMEM_WORKLOAD [--record FILE]\n");
		return 2;
	}
	if (argc == 4 && !strcmp(argv[2], "--record"))
		record = argv[3];
	if (geteuid() != 0) {
		printf("SKIP: needs root\n");
		return 77;
	}
	if (access("/proc/self/pagemap", R_OK)) {
		printf("SKIP: no /proc/self/pagemap\n");
		return 77;
	}
	software_path(argv[1], record);
	follow_path();
	hardware_path(argv[1]);
	printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
