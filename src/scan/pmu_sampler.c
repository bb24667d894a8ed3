/* SPDX-License-Identifier: MulanPSL-2.0 */
/* The PMU sampler's rings and reader threads (see pmu_sampler.h). */
#include "scan/pmu_sampler_priv.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define CPU_MAX 8192
#define STOP_TOKEN UINT64_MAX

int etm_pmu_parse_cpulist(const char *s, int *cpus, size_t max, size_t *n)
{
	const char *p = s;

	*n = 0;
	while (*p && *p != '\n') {
		char *end;
		long a = strtol(p, &end, 10), b;

		if (end == p || a < 0 || a >= CPU_MAX)
			return -EINVAL;
		b = a;
		p = end;
		if (*p == '-') {
			b = strtol(p + 1, &end, 10);
			if (end == p + 1 || b < a || b >= CPU_MAX)
				return -EINVAL;
			p = end;
		}
		if (*n && a <= cpus[*n - 1])
			return -EINVAL;
		for (long c = a; c <= b; c++) {
			if (*n == max)
				return -E2BIG;
			cpus[(*n)++] = (int)c;
		}
		if (*p == ',')
			p++;
		else if (*p && *p != '\n')
			return -EINVAL;
	}
	return *n ? 0 : -EINVAL;
}

static int online_cpus(struct etm_pmu_sampler *s, char *why, size_t len)
{
	char buf[4096];
	FILE *f = fopen("/sys/devices/system/cpu/online", "re");
	size_t n = 0;
	int rc = -EIO;

	s->cpus = calloc(CPU_MAX, sizeof(int));
	if (!s->cpus)
		return -ENOMEM;
	if (f && fgets(buf, sizeof(buf), f))
		rc = etm_pmu_parse_cpulist(buf, s->cpus, CPU_MAX, &n);
	if (f)
		fclose(f);
	if (rc) {
		snprintf(why, len, "cannot read the online CPUs from /sys/devices/system/cpu/online");
		return rc;
	}
	s->ncpu = n;
	return 0;
}

static int take_cpus(struct etm_pmu_sampler *s, char *why, size_t len)
{
	if (!s->c.cpus)
		return online_cpus(s, why, len);
	if (!s->c.ncpus || s->c.ncpus > CPU_MAX)
		return -EINVAL;
	s->cpus = calloc(s->c.ncpus, sizeof(int));
	if (!s->cpus)
		return -ENOMEM;
	memcpy(s->cpus, s->c.cpus, s->c.ncpus * sizeof(int));
	s->ncpu = s->c.ncpus;
	return 0;
}

/* The anchor of one CPU's ring: a dummy event that samples nothing but owns the buffer. */
static int ring_open(struct etm_pmu_sampler *s, struct pmu_ring *r, char *why, size_t len)
{
	long psz = sysconf(_SC_PAGESIZE);
	struct perf_event_attr a = {
		.size = sizeof(a),
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_DUMMY,
		.sample_type = ETM_PMU_SAMPLE_TYPE,
		.exclude_kernel = 1,
		.exclude_hv = 1,
		.watermark = 1,
	};

	r->size = (uint64_t)s->c.ring_pages * (uint64_t)psz;
	/* Wake the reader when a quarter is filled: room for three more quarters before a loss. */
	a.wakeup_watermark = (uint32_t)(r->size / 4);
	r->fd = etm_perf_event_open(&a, -1, r->cpu, -1, PERF_FLAG_FD_CLOEXEC);
	if (r->fd < 0) {
		int err = errno;

		snprintf(why, len, "perf ring of CPU %d: %s%s", r->cpu, strerror(err),
			 err == EACCES || err == EPERM ? " (sampling needs root or CAP_PERFMON)" : "");
		return -err;
	}
	r->map_len = (size_t)(r->size + (uint64_t)psz);
	r->mp = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (r->mp == MAP_FAILED) {
		int err = errno;

		r->mp = NULL;
		snprintf(why, len, "perf ring of CPU %d: mmap of %zu bytes: %s%s", r->cpu, r->map_len, strerror(err),
			 err == EPERM ? " (over perf_event_mlock_kb; ring_pages too large?)" : "");
		return -err;
	}
	r->data = (uint8_t *)r->mp + psz;
	return 0;
}

static void ring_close(struct pmu_ring *r)
{
	if (r->mp)
		munmap(r->mp, r->map_len);
	if (r->fd >= 0)
		close(r->fd);
	pthread_mutex_destroy(&r->mu);
}

void pmu_ring_drain(struct etm_pmu_sampler *s, struct pmu_ring *r)
{
	struct etm_perf_reader rd = {
		.layout = &s->layout,
		.samples = etm_pmu_counter_samples,
		.raw = s->c.tap,
		.arg = s->counter,
		.raw_arg = s->c.tap_arg,
	};
	uint64_t head, tail;

	pthread_mutex_lock(&r->mu);
	/* The kernel publishes data_head after writing the records (pairs with its barrier). */
	head = __atomic_load_n(&r->mp->data_head, __ATOMIC_ACQUIRE);
	tail = r->mp->data_tail;
	if (head != tail) {
		tail = etm_perf_ring_read(r->data, r->size, tail, head, &rd, &r->st);
		/* Our reads of the records are done before the kernel may overwrite them. */
		__atomic_store_n(&r->mp->data_tail, tail, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&r->mu);
}

static void *reader_main(void *arg)
{
	struct pmu_reader *rd = arg;
	struct epoll_event ev[16];
	sigset_t all;

	/* Signals are the daemon's main thread's business. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		int n = epoll_wait(rd->epfd, ev, 16, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < n; i++) {
			struct pmu_ring *r;

			if (ev[i].data.u64 == STOP_TOKEN)
				return NULL;
			r = &rd->s->rings[ev[i].data.u64];
			if (ev[i].events & (EPOLLHUP | EPOLLERR)) {
				/* The anchor is gone (its CPU went offline): stop watching it, never spin on it. */
				epoll_ctl(rd->epfd, EPOLL_CTL_DEL, r->fd, NULL);
			}
			__atomic_add_fetch(&r->wakeups, 1, __ATOMIC_RELAXED);
			pmu_ring_drain(rd->s, r);
		}
	}
	return NULL;
}

static int reader_start(struct etm_pmu_sampler *s, struct pmu_reader *rd, char *why, size_t len)
{
	struct epoll_event e = { .events = EPOLLIN };
	int rc;

	rd->s = s;
	rd->epfd = epoll_create1(EPOLL_CLOEXEC);
	rd->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (rd->epfd < 0 || rd->stopfd < 0)
		return -errno;
	e.data.u64 = STOP_TOKEN;
	if (epoll_ctl(rd->epfd, EPOLL_CTL_ADD, rd->stopfd, &e))
		return -errno;
	for (size_t i = rd->first; i < rd->first + rd->n; i++) {
		e.data.u64 = i;
		if (epoll_ctl(rd->epfd, EPOLL_CTL_ADD, s->rings[i].fd, &e))
			return -errno;
	}
	rc = pthread_create(&rd->th, NULL, reader_main, rd);
	if (rc) {
		snprintf(why, len, "cannot start a PMU reader thread: %s", strerror(rc));
		return -rc;
	}
	rd->started = true;
	return 0;
}

static void reader_stop(struct pmu_reader *rd)
{
	uint64_t one = 1;

	if (rd->started) {
		/* A fresh eventfd's counter cannot overflow: this write does not fail. */
		ssize_t w = write(rd->stopfd, &one, sizeof(one));

		(void)w;
		pthread_join(rd->th, NULL);
	}
	if (rd->epfd >= 0)
		close(rd->epfd);
	if (rd->stopfd >= 0)
		close(rd->stopfd);
}

/* Can this kernel follow new threads only (inherit_thread, Linux 5.13)? */
static bool probe_inherit_thread(const struct etm_pmu_sampler *s)
{
	struct perf_event_attr a;
	int fd;

	etm_pmu_event_attr(&s->ev.ev[0], s->c.sample_period, &a);
	a.disabled = 1;
	a.inherit = 1;
	a.inherit_thread = 1;
	fd = etm_perf_event_open(&a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static int check_conf(struct etm_pmu_conf *c, char *why, size_t len)
{
	if (!c->ring_pages)
		c->ring_pages = ETM_PMU_RING_PAGES_DEFAULT;
	if (c->ring_pages > ETM_PMU_RING_PAGES_MAX || (c->ring_pages & (c->ring_pages - 1))) {
		snprintf(why, len, "ring_pages=%u: must be a power of two, 1..%u", c->ring_pages,
			 ETM_PMU_RING_PAGES_MAX);
		return -EINVAL;
	}
	if (!c->cpu_set_size) {
		snprintf(why, len, "cpu_set_size=0: must be at least 1");
		return -EINVAL;
	}
	if (c->sample_weight > ETM_PMU_COUNT_MAX) {
		snprintf(why, len, "sample_weight=%u: must be 1..%u", c->sample_weight, ETM_PMU_COUNT_MAX);
		return -EINVAL;
	}
	if (!c->sample_period) {
		snprintf(why, len, "sample_period=0: must be at least 1");
		return -EINVAL;
	}
	return 0;
}

/* Rings for every CPU, then readers of cpu_set_size rings each (the last may have fewer). */
static int start_rings(struct etm_pmu_sampler *s, char *why, size_t len)
{
	int rc;

	s->rings = calloc(s->ncpu, sizeof(*s->rings));
	s->nreaders = (s->ncpu + s->c.cpu_set_size - 1) / s->c.cpu_set_size;
	s->readers = calloc(s->nreaders, sizeof(*s->readers));
	if (!s->rings || !s->readers)
		return -ENOMEM;
	for (size_t i = 0; i < s->nreaders; i++)
		s->readers[i].epfd = s->readers[i].stopfd = -1;
	for (size_t i = 0; i < s->ncpu; i++) {
		s->rings[i].fd = -1;
		s->rings[i].cpu = s->cpus[i];
		pthread_mutex_init(&s->rings[i].mu, NULL);
	}
	for (size_t i = 0; i < s->ncpu; i++) {
		rc = ring_open(s, &s->rings[i], why, len);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < s->nreaders; i++) {
		struct pmu_reader *rd = &s->readers[i];

		rd->first = i * s->c.cpu_set_size;
		rd->n = s->ncpu - rd->first < s->c.cpu_set_size ? s->ncpu - rd->first : s->c.cpu_set_size;
	}
	for (size_t i = 0; i < s->nreaders; i++) {
		rc = reader_start(s, &s->readers[i], why, len);
		if (rc) {
			if (!why[0])
				snprintf(why, len, "cannot set up a PMU reader: %s", strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* The engine's VMA filter, kept for the sampler's life (the index is rebuilt from it). */
static int filter_copy(struct etm_pmu_sampler *s, const struct etm_vma_filter *f)
{
	int n = f->nvmflags > 0 ? f->nvmflags : 0;

	if (f->name && !(s->filter_name = strdup(f->name)))
		return -ENOMEM;
	if (n && !(s->vmflags = calloc((size_t)n, sizeof(char *))))
		return -ENOMEM;
	/* Set before the copies: filter_free() frees what a failure leaves. */
	s->filter = (struct etm_vma_filter){
		.anon_only = f->anon_only, .name = s->filter_name, .vmflags = s->vmflags, .nvmflags = n
	};
	for (int i = 0; i < n; i++)
		if (!(s->vmflags[i] = strdup(f->vmflags[i])))
			return -ENOMEM;
	s->c.filter = &s->filter;
	return 0;
}

static void filter_free(struct etm_pmu_sampler *s)
{
	for (int i = 0; s->vmflags && i < s->filter.nvmflags; i++)
		free(s->vmflags[i]);
	free(s->vmflags);
	free(s->filter_name);
}

int etm_pmu_sampler_new(const struct etm_pmu_conf *c, struct etm_pmu_sampler **out, char *why, size_t len)
{
	struct etm_pmu_sampler *s = calloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	why[0] = '\0';
	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->mu, NULL);
	s->c = *c;
	s->c.event = NULL; /* only used here */
	rc = check_conf(&s->c, why, len);
	if (!rc && c->vma_name && !(s->vma_name = strdup(c->vma_name)))
		rc = -ENOMEM;
	s->c.vma_name = s->vma_name;
	s->c.filter = NULL;
	if (!rc && c->filter)
		rc = filter_copy(s, c->filter);
	if (!rc)
		rc = etm_pmu_events_choose(c->event, c->sample_period, &s->ev, why, len);
	if (!rc)
		rc = etm_perf_layout_init(ETM_PMU_SAMPLE_TYPE, &s->layout);
	if (!rc && !s->c.sample_weight)
		s->c.sample_weight = s->ev.ev[0].software ? ETM_PMU_FAULT_WEIGHT : 1;
	if (!rc)
		rc = etm_pmu_counter_new(c->cooling_interval, s->c.sample_weight, &s->counter);
	if (!rc)
		rc = take_cpus(s, why, len);
	if (!rc) {
		s->inherit_thread = probe_inherit_thread(s);
		rc = start_rings(s, why, len);
	}
	if (rc) {
		if (!why[0])
			snprintf(why, len, "PMU sampler: %s", strerror(-rc));
		etm_pmu_sampler_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void etm_pmu_sampler_free(struct etm_pmu_sampler *s)
{
	if (!s)
		return;
	for (size_t i = 0; s->readers && i < s->nreaders; i++)
		reader_stop(&s->readers[i]);
	pmu_procs_release_all(s);
	for (size_t i = 0; s->rings && i < s->ncpu; i++)
		ring_close(&s->rings[i]);
	etm_pmu_counter_free(s->counter);
	free(s->readers);
	free(s->rings);
	free(s->cpus);
	free(s->procs);
	free(s->vma_name);
	filter_free(s);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

const struct etm_pmu_events *etm_pmu_sampler_events(const struct etm_pmu_sampler *s)
{
	return &s->ev;
}

int etm_pmu_sampler_describe(const struct etm_pmu_sampler *s, char *buf, size_t len)
{
	size_t used;
	int rc = etm_pmu_events_describe(&s->ev, buf, len);

	if (rc)
		return rc;
	used = strlen(buf);
	rc = snprintf(buf + used, len - used,
		      "; sample_period %llu, weight %u, %zu CPUs read by %zu thread%s, %u-page rings, new threads "
		      "followed by %s",
		      (unsigned long long)s->c.sample_period, s->c.sample_weight, s->ncpu, s->nreaders,
		      s->nreaders == 1 ? "" : "s", s->c.ring_pages,
		      s->inherit_thread ? "the kernel (inherit_thread)" : "re-resolution");
	if (rc >= 0 && (size_t)rc < len - used && s->c.cooling_interval) {
		used += (size_t)rc;
		rc = snprintf(buf + used, len - used, ", counts halved every %llu counted samples",
			      (unsigned long long)s->c.cooling_interval);
	}
	return rc < 0 || (size_t)rc >= len - used ? -ENOSPC : 0;
}

void etm_pmu_sampler_flush(struct etm_pmu_sampler *s)
{
	for (size_t i = 0; i < s->ncpu; i++)
		pmu_ring_drain(s, &s->rings[i]);
}

void etm_pmu_sampler_cool(struct etm_pmu_sampler *s)
{
	etm_pmu_counter_cool(s->counter);
}

int etm_pmu_sampler_count(struct etm_pmu_sampler *s, pid_t pid, uint64_t addr)
{
	return etm_pmu_counter_count(s->counter, pid, addr);
}

static double thread_cpu_s(pthread_t th)
{
	struct timespec ts;
	clockid_t cid;

	if (pthread_getcpuclockid(th, &cid) || clock_gettime(cid, &ts))
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void etm_pmu_sampler_stats(struct etm_pmu_sampler *s, struct etm_pmu_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < s->ncpu; i++) {
		struct pmu_ring *r = &s->rings[i];

		pthread_mutex_lock(&r->mu);
		etm_perf_ring_stats_add(&st->ring, &r->st);
		pthread_mutex_unlock(&r->mu);
		st->wakeups += __atomic_load_n(&r->wakeups, __ATOMIC_RELAXED);
	}
	for (size_t i = 0; i < s->nreaders; i++)
		if (s->readers[i].started)
			st->reader_cpu_s += thread_cpu_s(s->readers[i].th);
	etm_pmu_counter_stats(s->counter, &st->count);
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->nprocs; i++) {
		st->threads += s->procs[i].nth;
		for (size_t t = 0; t < s->procs[i].nth; t++)
			for (size_t k = 0; k < s->ncpu * s->ev.n; k++)
				st->fds += s->procs[i].th[t].fds[k] >= 0;
	}
	pthread_mutex_unlock(&s->mu);
	st->readers = (unsigned)s->nreaders;
	st->cpus = (unsigned)s->ncpu;
	st->inherit_thread = s->inherit_thread;
}
