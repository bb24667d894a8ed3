/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * PMU sampler benchmark (issue #13): one JSON line per figure on stdout,
 * progress on stderr, no assertion on time.
 *
 *   pmu_replay       samples the reader + counter process per CPU-second,
 *                    without a PMU: synthetic rings (uniform addresses over
 *                    a 1 GiB index, the samples' own wrap-around) and the
 *                    stream recorded on this kernel; target >= 1M/s.
 *   pmu_rate         the live sampler on page-faults at 1k/10k/100k
 *                    faults per second of a load generator: reader CPU
 *                    (fraction of a CPU), samples seen, lost, throttled.
 *   pmu_overhead     the generator's unthrottled fault rate with the
 *                    sampler attached over without, paired rounds.
 *   pmu_idle         reader CPU with an idle target; target < 0.5 %.
 *
 * Usage: etmem-bench-pmu [--window S] [--rounds N] [--stream FILE] [--only replay]
 * Needs root for the live figures (perf rings, other process).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tests/pmu/perf_records.h"
#include "../tests/pmu/pmu_stream.h"
#include "scan/pmu_counter.h"
#include "scan/pmu_sampler.h"

#define PG 4096ULL
#define IDX_BASE 0x7f0000000000ULL
#define IDX_PAGES 262144ULL /* 1 GiB */
#define RING (256 * 1024)

struct opts {
	double window;
	int rounds;
	const char *stream;
	bool replay_only;
};

static double now(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Feed @len bytes of records through a RING-byte ring as the kernel fills it, @reps times. */
static double replay(const uint8_t *recs, size_t len, int reps, struct etm_pmu_counter *c,
		     struct etm_perf_ring_stats *rs)
{
	static uint8_t ring[RING];
	struct etm_perf_layout l;
	struct etm_perf_reader rd = { .layout = &l, .samples = etm_pmu_counter_samples, .arg = c };
	uint64_t head = 8, tail = 8;
	double cpu0, cpu = 0;

	etm_perf_layout_init(ETM_PMU_SAMPLE_TYPE, &l);
	for (int r = 0; r < reps; r++) {
		for (size_t o = 0; o < len;) {
			struct perf_event_header h;

			memcpy(&h, recs + o, sizeof(h));
			if (head + h.size - tail > RING / 4) {
				/* a reader's wake-up: only the read is timed, not our writing */
				cpu0 = now(CLOCK_THREAD_CPUTIME_ID);
				tail = etm_perf_ring_read(ring, RING, tail, head, &rd, rs);
				cpu += now(CLOCK_THREAD_CPUTIME_ID) - cpu0;
			}
			ring_put(ring, RING, head, recs + o, h.size);
			head += h.size;
			o += h.size;
		}
	}
	cpu0 = now(CLOCK_THREAD_CPUTIME_ID);
	etm_perf_ring_read(ring, RING, tail, head, &rd, rs);
	return cpu + now(CLOCK_THREAD_CPUTIME_ID) - cpu0;
}

static void replay_line(const char *source, const uint8_t *recs, size_t len, int reps, const struct etm_pmu_range *r,
			size_t nr, pid_t pid)
{
	struct etm_perf_ring_stats rs = { 0 };
	struct etm_pmu_count_stats cs;
	struct etm_pmu_counter *c;
	double cpu;

	if (etm_pmu_counter_new(100000, 1, &c) || etm_pmu_counter_set(c, pid, r, nr)) {
		fprintf(stderr, "counter setup failed\n");
		return;
	}
	cpu = replay(recs, len, reps, c, &rs);
	etm_pmu_counter_stats(c, &cs);
	printf("{\"bench\":\"pmu_replay\",\"source\":\"%s\",\"samples\":%" PRIu64 ",\"counted\":%" PRIu64
	       ",\"coolings\":%" PRIu64 ",\"cpu_s\":%.4f,\"samples_per_cpu_s\":%.0f,\"target\":1000000,"
	       "\"pass\":%s}\n",
	       source, rs.samples, cs.counted, cs.coolings, cpu, rs.samples / cpu,
	       rs.samples / cpu >= 1e6 ? "true" : "false");
	etm_pmu_counter_free(c);
}

static void bench_replay(const struct opts *o)
{
	const size_t n = 1 << 20;
	uint8_t *recs = malloc(n * REC_SAMPLE_LEN);
	struct etm_pmu_range r = { .start = IDX_BASE, .end = IDX_BASE + IDX_PAGES * PG };
	struct pmu_stream *st;
	uint64_t seed = 88172645463325252ULL;

	if (!recs)
		return;
	for (size_t i = 0; i < n; i++)
		rec_sample(recs + i * REC_SAMPLE_LEN, 4242, 4242,
			   IDX_BASE + (xorshift(&seed) % IDX_PAGES) * PG + (xorshift(&seed) & 4095), (uint32_t)(i & 1));
	replay_line("synthetic_uniform_1GiB", recs, n * REC_SAMPLE_LEN, 8, &r, 1, 4242);
	free(recs);
	st = pmu_stream_load(o->stream);
	if (!st) {
		fprintf(stderr, "no recorded stream at %s: skipping its replay\n", o->stream);
		return;
	}
	replay_line("recorded_page_faults", st->data, st->len, 2000, st->range, st->nrange, st->pid);
	pmu_stream_free(st);
}

#define GEN_PAGES 16384

/* A child that takes minor faults at @rate per second (0 = as fast as it can), counting them in *@count. */
static pid_t gen_start(double rate, uint64_t *count)
{
	pid_t pid = fork();
	char *buf;
	double t0;
	uint64_t n = 0;

	if (pid)
		return pid;
	buf = mmap(NULL, GEN_PAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		_exit(3);
	madvise(buf, GEN_PAGES * PG, MADV_NOHUGEPAGE);
	t0 = now(CLOCK_MONOTONIC);
	for (;;) {
		for (uint64_t i = 0; i < GEN_PAGES; i++) {
			buf[i * PG] = 1; /* a fault: the page was dropped */
			__atomic_add_fetch(count, 1, __ATOMIC_RELAXED);
			if (rate > 0 && ++n % 64 == 0) {
				double due = t0 + (double)n / rate, t = now(CLOCK_MONOTONIC);

				if (due > t)
					usleep((useconds_t)((due - t) * 1e6));
			}
		}
		madvise(buf, GEN_PAGES * PG, MADV_DONTNEED);
	}
}

static void gen_stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static struct etm_pmu_sampler *sampler(void)
{
	struct etm_pmu_conf c = { .event = "page-faults", .sample_period = 1, .cpu_set_size = 1, .vma_update_rate = 1 };
	struct etm_pmu_sampler *s = NULL;
	char why[1024];

	if (etm_pmu_sampler_new(&c, &s, why, sizeof(why)))
		fprintf(stderr, "sampler: %s\n", why);
	return s;
}

static void bench_rate(const struct opts *o, double rate, uint64_t *count)
{
	struct etm_pmu_sampler *s = sampler();
	struct etm_pmu_stats a, b;
	pid_t pid = gen_start(rate, count);
	char why[512];
	uint64_t c0;
	double t0, el, fl;

	if (!s || etm_pmu_sampler_attach(s, pid, why, sizeof(why))) {
		fprintf(stderr, "attach: %s\n", s ? why : "no sampler");
		gen_stop(pid);
		etm_pmu_sampler_free(s);
		return;
	}
	usleep(200000);
	etm_pmu_sampler_flush(s);
	etm_pmu_sampler_stats(s, &a);
	c0 = __atomic_load_n(count, __ATOMIC_RELAXED);
	t0 = now(CLOCK_MONOTONIC);
	usleep((useconds_t)(o->window * 1e6));
	el = now(CLOCK_MONOTONIC) - t0;
	/* what sits below the watermark is read by the tracker's fold: timed as daemon CPU too */
	fl = now(CLOCK_THREAD_CPUTIME_ID);
	etm_pmu_sampler_flush(s);
	fl = now(CLOCK_THREAD_CPUTIME_ID) - fl;
	etm_pmu_sampler_stats(s, &b);
	printf("{\"bench\":\"pmu_rate\",\"target_faults_per_s\":%.0f,\"faults_per_s\":%.0f,\"samples_per_s\":%.0f,"
	       "\"daemon_cpu_frac\":%.5f,\"cpu_us_per_sample\":%.3f,\"lost\":%" PRIu64 ",\"throttled\":%" PRIu64
	       ",\"wakeups_per_s\":%.1f,\"window_s\":%.1f}\n",
	       rate, (__atomic_load_n(count, __ATOMIC_RELAXED) - c0) / el, (b.ring.samples - a.ring.samples) / el,
	       (b.reader_cpu_s - a.reader_cpu_s + fl) / el,
	       b.ring.samples > a.ring.samples
		   ? (b.reader_cpu_s - a.reader_cpu_s + fl) * 1e6 / (double)(b.ring.samples - a.ring.samples)
		   : 0.0,
	       b.ring.lost - a.ring.lost, b.ring.throttled - a.ring.throttled, (b.wakeups - a.wakeups) / el, el);
	fflush(stdout);
	gen_stop(pid);
	etm_pmu_sampler_free(s);
}

/* The generator's rate over one window, with the sampler attached or not. */
static double gen_window(const struct opts *o, uint64_t *count)
{
	uint64_t c0 = __atomic_load_n(count, __ATOMIC_RELAXED);
	double t0 = now(CLOCK_MONOTONIC);

	usleep((useconds_t)(o->window * 1e6));
	return (__atomic_load_n(count, __ATOMIC_RELAXED) - c0) / (now(CLOCK_MONOTONIC) - t0);
}

static void bench_overhead(const struct opts *o, uint64_t *count)
{
	struct etm_pmu_sampler *s = sampler();
	pid_t pid = gen_start(0, count);
	double with = 0, without = 0;
	struct etm_pmu_stats st;
	char why[512];

	if (!s) {
		gen_stop(pid);
		return;
	}
	for (int r = 0; r < o->rounds; r++) {
		without += gen_window(o, count);
		if (etm_pmu_sampler_attach(s, pid, why, sizeof(why))) {
			fprintf(stderr, "attach: %s\n", why);
			break;
		}
		with += gen_window(o, count);
		etm_pmu_sampler_detach(s, pid);
	}
	etm_pmu_sampler_stats(s, &st);
	printf("{\"bench\":\"pmu_overhead\",\"faults_per_s_without\":%.0f,\"faults_per_s_with\":%.0f,"
	       "\"throughput_ratio\":%.4f,\"samples\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"throttled\":%" PRIu64
	       ",\"rounds\":%d}\n",
	       without / o->rounds, with / o->rounds, without > 0 ? with / without : 0.0, st.ring.samples, st.ring.lost,
	       st.ring.throttled, o->rounds);
	fflush(stdout);
	gen_stop(pid);
	etm_pmu_sampler_free(s);
}

static void bench_idle(const struct opts *o)
{
	struct etm_pmu_sampler *s = sampler();
	struct etm_pmu_stats a, b;
	pid_t pid = fork();
	char why[512];
	double el;

	if (!pid) {
		for (;;)
			pause();
	}
	if (!s || etm_pmu_sampler_attach(s, pid, why, sizeof(why))) {
		gen_stop(pid);
		etm_pmu_sampler_free(s);
		return;
	}
	etm_pmu_sampler_stats(s, &a);
	el = now(CLOCK_MONOTONIC);
	usleep((useconds_t)(o->window * 2e6));
	el = now(CLOCK_MONOTONIC) - el;
	etm_pmu_sampler_stats(s, &b);
	printf("{\"bench\":\"pmu_idle\",\"reader_cpu_frac\":%.6f,\"wakeups\":%" PRIu64 ",\"readers\":%u,"
	       "\"window_s\":%.1f,\"target\":0.005,\"pass\":%s}\n",
	       (b.reader_cpu_s - a.reader_cpu_s) / el, b.wakeups - a.wakeups, b.readers, el,
	       (b.reader_cpu_s - a.reader_cpu_s) / el < 0.005 ? "true" : "false");
	gen_stop(pid);
	etm_pmu_sampler_free(s);
}

int main(int argc, char **argv)
{
	struct opts o = { .window = 5, .rounds = 3, .stream = "tests/pmu/streams/workload_64m_pagefaults.stream" };
	static const double rates[] = { 1000, 10000, 100000 };
	uint64_t *count;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--window") && i + 1 < argc)
			o.window = atof(argv[++i]);
		else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			o.rounds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--stream") && i + 1 < argc)
			o.stream = argv[++i];
		else if (!strcmp(argv[i], "--only") && i + 1 < argc && !strcmp(argv[i + 1], "replay"))
			o.replay_only = true, i++;
		else {
			fprintf(stderr,
				"usage: etmem-bench-pmu [--window S] [--rounds N] [--stream FILE] [--only replay]\n");
			return 2;
		}
	}
	if (o.window <= 0 || o.rounds < 1)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	bench_replay(&o);
	if (o.replay_only)
		return 0;
	count = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (count == MAP_FAILED)
		return 1;
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++)
		bench_rate(&o, rates[i], count);
	bench_overhead(&o, count);
	bench_idle(&o);
	return 0;
}
