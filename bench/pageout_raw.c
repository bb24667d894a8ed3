/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Swap-out throughput helper for bench/run.sh. Acts on another process's
 * address range [START, START + LEN) and prints one JSON line.
 *
 *   pageout_raw raw PID START LEN [IOV_PAGES]
 *       process_madvise(MADV_PAGEOUT) straight from this program, at most
 *       1024 iovecs per call. IOV_PAGES = pages per iovec (0 = one iovec
 *       per 1 GiB chunk of the range, the cheapest the kernel allows).
 *   pageout_raw action PID START LEN
 *       the daemon's swap-out path for per-process trackers, as slide's
 *       swap_out() runs it: the page state of every VMA slide tracks
 *       (etm_tracker_ranges), every page seen, pages outside the range hot,
 *       grading with T = 1, etm_pagestate_for_each_cold() feeding the
 *       pageout action (coalesced iovecs), flush. Timed from grading to the
 *       end of the flush; building the state (the scan) is not timed.
 *   pageout_raw faultin PID START LEN
 *       fault every page of the range back in by reading /proc/PID/mem
 *       (the kernel's remote access maps swapped pages again), so the same
 *       pages can be paged out a second time. The PTEs come back clean.
 *   pageout_raw faultin-dirty PID START LEN
 *       the same, but leave every page as a process leaves memory it wrote:
 *       mapped with a dirty PTE. Per 1 MiB chunk: read it, page it out, write
 *       the same bytes back (the write fault maps it dirty). Why it matters:
 *       reclaim must flush the TLB before writing a page whose PTE was dirty
 *       (try_to_unmap_flush_dirty), one shootdown IPI per page to the CPU the
 *       target runs on, where clean PTEs share one flush per batch. On a KVM
 *       guest that is ~6x the CPU per page, for raw MADV_PAGEOUT and for
 *       memcg reclaim alike, so the two must be compared on the same state.
 *
 * Times are wall clock (CLOCK_MONOTONIC) and this process's CPU time
 * (getrusage): zram compresses synchronously in the caller, so for zram
 * both are the cost of the pageout itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "scan/tracker.h"
#include "scan/action.h"
#include "scan/pagestate.h"

#define PAGE 4096ULL
#define CHUNK (1ULL << 30) /* well under MAX_RW_COUNT per iovec */
#define MAX_IOV 1024

struct clock {
	double wall, cpu;
};

static void clock_now(struct clock *c)
{
	struct timespec ts;
	struct rusage ru;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	getrusage(RUSAGE_SELF, &ru);
	c->wall = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	c->cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
		 (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void print_result(const char *mode, pid_t pid, uint64_t len, uint64_t done, uint64_t extra,
			 const char *extra_name, const struct clock *a, const struct clock *b)
{
	double wall = b->wall - a->wall, cpu = b->cpu - a->cpu;

	printf("{\"mode\":\"%s\",\"pid\":%d,\"range_bytes\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"%s\":%" PRIu64
	       ",\"wall_s\":%.6f,\"cpu_s\":%.6f,\"bytes_per_s\":%.0f,\"bytes_per_cpu_s\":%.0f}\n",
	       mode, (int)pid, len, done, extra_name, extra, wall, cpu, wall > 0 ? (double)done / wall : 0.0,
	       cpu > 0 ? (double)done / cpu : 0.0);
}

static int pidfd_of(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (fd < 0)
		fprintf(stderr, "pidfd_open(%d): %s\n", (int)pid, strerror(errno));
	return fd;
}

/* Raw pageout: the kernel's own cost, with the fewest syscalls the range allows. */
static int do_raw(pid_t pid, uint64_t start, uint64_t len, uint64_t iov_pages)
{
	uint64_t step = iov_pages ? iov_pages * PAGE : CHUNK, done = 0, calls = 0, off = 0;
	struct iovec *iov = calloc(MAX_IOV, sizeof(*iov));
	struct clock a, b;
	int fd = pidfd_of(pid);

	if (fd < 0 || !iov) {
		free(iov);
		return 1;
	}
	clock_now(&a);
	while (off < len) {
		size_t n = 0;

		while (n < MAX_IOV && off < len) {
			uint64_t l = len - off < step ? len - off : step;

			iov[n].iov_base = (void *)(uintptr_t)(start + off);
			iov[n].iov_len = l;
			n++;
			off += l;
		}
		/* A short return is the MAX_RW_COUNT cap or a hole: count what went, go on. */
		ssize_t r = syscall(SYS_process_madvise, fd, iov, n, MADV_PAGEOUT, 0);

		calls++;
		if (r < 0) {
			fprintf(stderr, "process_madvise: %s\n", strerror(errno));
			close(fd);
			free(iov);
			return 1;
		}
		done += (uint64_t)r;
	}
	clock_now(&b);
	close(fd);
	free(iov);
	print_result("raw", pid, len, done, calls, "syscalls", &a, &b);
	return 0;
}

struct feed {
	const struct etm_action_ops *act;
	void *ctx;
	uint64_t runs;
};

static int feed_run(uint64_t start, uint64_t len, void *arg)
{
	struct feed *f = arg;

	f->runs++;
	return f->act->add(f->ctx, start, len, ETM_ACTION_SWAP);
}

/* Bytes the action reports done. */
static uint64_t done(const struct feed *f)
{
	struct etm_action_stats st;

	f->act->stats(f->ctx, &st);
	return st.bytes_done;
}

/* The daemon's path: page state -> grading -> coalesced runs -> pageout action. */
static int do_action(pid_t pid, uint64_t start, uint64_t len)
{
	struct etm_tracker_opts o = { .loop = 1, .sleep_s = 1 };
	struct etm_pagestate *ps = etm_pagestate_new();
	struct feed f = { .act = &etm_action_pageout };
	struct etm_grade g;
	struct clock a, b;
	int err;

	if (!ps)
		return 1;
	if ((err = etm_tracker_ranges(pid, &o, ps))) {
		fprintf(stderr, "etm_tracker_ranges(%d): %s\n", (int)pid, strerror(-err));
		etm_pagestate_free(ps);
		return 1;
	}
	/*
	 * What a scan would leave: every tracked page seen, the range idle
	 * (weight 0), everything else accessed once. T = 1 makes exactly the
	 * range cold.
	 */
	for (size_t i = 0; i < ps->n; i++) {
		uint64_t s = ps->r[i].start, e = ps->r[i].end;

		if (s < start) {
			uint64_t hot_end = e < start ? e : start;
			etm_pagestate_mark(ps, s, (hot_end - s) / PAGE, ETM_WEIGHT_ACCESSED);
		}
		if (e > start + len) {
			uint64_t hot_start = s > start + len ? s : start + len;
			etm_pagestate_mark(ps, hot_start, (e - hot_start) / PAGE, ETM_WEIGHT_ACCESSED);
		}
		uint64_t cs = s > start ? s : start, ce = e < start + len ? e : start + len;
		if (ce > cs)
			etm_pagestate_mark(ps, cs, (ce - cs) / PAGE, ETM_WEIGHT_IDLE);
	}
	if ((err = f.act->open(pid, &f.ctx))) {
		fprintf(stderr, "pageout open(%d): %s\n", (int)pid, strerror(-err));
		etm_pagestate_free(ps);
		return 1;
	}
	clock_now(&a);
	etm_pagestate_grade(ps, 1, &g);
	err = etm_pagestate_for_each_cold(ps, 1, feed_run, &f);
	if (!err)
		err = f.act->flush(f.ctx);
	clock_now(&b);
	if (err)
		fprintf(stderr, "pageout: %s\n", strerror(-err));
	else
		print_result("action", pid, len, done(&f), f.runs, "runs", &a, &b);
	fprintf(stderr, "action: tracked %" PRIu64 " pages, graded cold %" PRIu64 " hot %" PRIu64 "\n",
		etm_pagestate_pages(ps), g.cold, g.hot);
	f.act->close(f.ctx);
	etm_pagestate_free(ps);
	return err ? 1 : 0;
}

/*
 * Read the range through /proc/PID/mem: swapped pages are faulted back in and
 * mapped. With @dirty, each chunk is then paged out and written back, so it
 * ends up mapped with dirty PTEs and the same content.
 */
static int do_faultin(pid_t pid, uint64_t start, uint64_t len, bool dirty)
{
	char path[64];
	size_t bufsz = 1 << 20;
	char *buf = malloc(bufsz);
	uint64_t off = 0, done = 0;
	struct clock a, b;
	int fd, pfd = -1;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, (dirty ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0 || !buf) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		free(buf);
		if (fd >= 0)
			close(fd);
		return 1;
	}
	if (dirty && (pfd = pidfd_of(pid)) < 0) {
		close(fd);
		free(buf);
		return 1;
	}
	clock_now(&a);
	while (off < len) {
		size_t l = len - off < bufsz ? (size_t)(len - off) : bufsz;
		ssize_t r = pread(fd, buf, l, (off_t)(start + off));

		if (r <= 0) {
			fprintf(stderr, "pread %s at %#" PRIx64 ": %s\n", path, start + off,
				r ? strerror(errno) : "EOF");
			break;
		}
		if (dirty) {
			struct iovec iov = { .iov_base = (void *)(uintptr_t)(start + off), .iov_len = (size_t)r };

			/* Only the write fault of a non-present page maps it with a dirty PTE. */
			if (syscall(SYS_process_madvise, pfd, &iov, 1, MADV_PAGEOUT, 0) < 0 ||
			    pwrite(fd, buf, (size_t)r, (off_t)(start + off)) != r) {
				fprintf(stderr, "re-dirty %s at %#" PRIx64 ": %s\n", path, start + off,
					strerror(errno));
				break;
			}
		}
		off += (uint64_t)r;
		done += (uint64_t)r;
	}
	clock_now(&b);
	close(fd);
	if (pfd >= 0)
		close(pfd);
	free(buf);
	print_result(dirty ? "faultin-dirty" : "faultin", pid, len, done, 0, "unused", &a, &b);
	return done == len ? 0 : 1;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || end == s || *end ? -1 : 0;
}

int main(int argc, char **argv)
{
	uint64_t pid, start, len, iov_pages = 0;

	if (argc < 5 || parse_u64(argv[2], &pid) || parse_u64(argv[3], &start) || parse_u64(argv[4], &len) ||
	    (argc > 5 && parse_u64(argv[5], &iov_pages)) || !pid || pid > INT32_MAX || start % PAGE || len % PAGE ||
	    !len) {
		fprintf(
		    stderr,
		    "usage: %s raw|action|faultin|faultin-dirty PID START LEN [IOV_PAGES]  (START, LEN page aligned)\n",
		    argv[0]);
		return 2;
	}
	if (!strcmp(argv[1], "raw"))
		return do_raw((pid_t)pid, start, len, iov_pages);
	if (!strcmp(argv[1], "action"))
		return do_action((pid_t)pid, start, len);
	if (!strcmp(argv[1], "faultin"))
		return do_faultin((pid_t)pid, start, len, false);
	if (!strcmp(argv[1], "faultin-dirty"))
		return do_faultin((pid_t)pid, start, len, true);
	fprintf(stderr, "unknown mode %s\n", argv[1]);
	return 2;
}
