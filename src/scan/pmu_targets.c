/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The PMU sampler's target processes: their threads' events, their VMA
 * indexes, their release when they exit (see pmu_sampler.h).
 */
#include "scan/pmu_sampler_priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* A process that creates threads while we list them: list again, this many times at most. */
#define LIST_ROUNDS 4

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static bool thread_alive(pid_t pid, pid_t tid)
{
	return syscall(SYS_tgkill, pid, tid, 0) == 0 || errno != ESRCH;
}

static bool proc_exited(const struct pmu_proc *p)
{
	struct pollfd pf = { .fd = p->pidfd, .events = POLLIN };

	/* A pidfd turns readable when its process has exited. */
	return poll(&pf, 1, 0) == 1;
}

static struct pmu_proc *proc_find(struct etm_pmu_sampler *s, pid_t pid)
{
	for (size_t i = 0; i < s->nprocs; i++)
		if (s->procs[i].pid == pid)
			return &s->procs[i];
	return NULL;
}

static void thread_close(struct etm_pmu_sampler *s, struct pmu_thread *t)
{
	for (size_t k = 0; t->fds && k < s->ncpu * s->ev.n; k++)
		if (t->fds[k] >= 0)
			close(t->fds[k]);
	free(t->fds);
	t->fds = NULL;
}

/* One event of one thread on one CPU, writing into that CPU's ring. */
static int event_open(struct etm_pmu_sampler *s, const struct etm_pmu_event *ev, pid_t tid, size_t ci)
{
	struct perf_event_attr a;
	int fd, err;

	etm_pmu_event_attr(ev, s->c.sample_period, &a);
	a.disabled = 1; /* enabled once its output goes to the ring */
	a.inherit = s->inherit_thread;
	a.inherit_thread = s->inherit_thread;
	a.watermark = 1;
	a.wakeup_watermark = (uint32_t)(s->rings[ci].size / 4);
	fd = etm_perf_event_open(&a, tid, s->cpus[ci], -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, s->rings[ci].fd) || ioctl(fd, PERF_EVENT_IOC_ENABLE, 0)) {
		err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

static int thread_open(struct etm_pmu_sampler *s, pid_t tid, struct pmu_thread *t)
{
	size_t nfd = s->ncpu * s->ev.n;

	t->tid = tid;
	t->fds = malloc(nfd * sizeof(int));
	if (!t->fds)
		return -ENOMEM;
	for (size_t k = 0; k < nfd; k++)
		t->fds[k] = -1;
	for (size_t ci = 0; ci < s->ncpu; ci++) {
		for (size_t e = 0; e < s->ev.n; e++) {
			int fd = event_open(s, &s->ev.ev[e], tid, ci);

			if (fd < 0) {
				thread_close(s, t);
				return fd;
			}
			t->fds[ci * s->ev.n + e] = fd;
		}
	}
	return 0;
}

static bool has_thread(const struct pmu_proc *p, pid_t tid)
{
	for (size_t i = 0; i < p->nth; i++)
		if (p->th[i].tid == tid)
			return true;
	return false;
}

static int add_thread(struct etm_pmu_sampler *s, struct pmu_proc *p, pid_t tid)
{
	int rc;

	if (p->nth == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 4;
		struct pmu_thread *th = realloc(p->th, cap * sizeof(*th));

		if (!th)
			return -ENOMEM;
		p->th = th;
		p->cap = cap;
	}
	rc = thread_open(s, tid, &p->th[p->nth]);
	if (rc == -ESRCH)
		return 0; /* the thread exited meanwhile */
	if (!rc)
		p->nth++;
	return rc;
}

/*
 * Open the events of every thread of @p not yet followed. Returns how many
 * were added, or -errno. With inherit_thread, threads created after their
 * creator's events were opened are followed by the kernel; a thread born
 * while we list may get both (its samples then count twice: hotter, the
 * safe side), never neither.
 */
static int open_new_threads(struct etm_pmu_sampler *s, struct pmu_proc *p)
{
	char path[64];
	struct dirent *e;
	int added = 0, rc = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)p->pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	while (!rc && (e = readdir(d))) {
		char *end;
		long tid = strtol(e->d_name, &end, 10);

		if (e->d_name[0] < '0' || e->d_name[0] > '9' || *end || tid <= 0 || has_thread(p, (pid_t)tid))
			continue;
		rc = add_thread(s, p, (pid_t)tid);
		added++;
	}
	closedir(d);
	return rc ? rc : added;
}

static void close_exited_threads(struct etm_pmu_sampler *s, struct pmu_proc *p)
{
	size_t j = 0;

	for (size_t i = 0; i < p->nth; i++) {
		if (thread_alive(p->pid, p->th[i].tid))
			p->th[j++] = p->th[i];
		else
			thread_close(s, &p->th[i]);
	}
	p->nth = j;
}

static void proc_release(struct etm_pmu_sampler *s, struct pmu_proc *p)
{
	for (size_t i = 0; i < p->nth; i++)
		thread_close(s, &p->th[i]);
	free(p->th);
	if (p->pidfd >= 0)
		close(p->pidfd);
	etm_pmu_counter_remove(s->counter, p->pid);
}

/* Remove procs[i], keeping the array dense. */
static void proc_drop(struct etm_pmu_sampler *s, size_t i)
{
	proc_release(s, &s->procs[i]);
	s->procs[i] = s->procs[--s->nprocs];
}

void pmu_procs_release_all(struct etm_pmu_sampler *s)
{
	while (s->nprocs)
		proc_drop(s, s->nprocs - 1);
}

/* The VMAs of smaps that @f selects, each with its page size. */
static int smaps_ranges(pid_t pid, const struct etm_vma_filter *f, struct etm_pmu_range **r, size_t *n)
{
	struct etm_smaps_vma *v = NULL;
	size_t nv = 0;
	int rc = etm_proc_smaps(pid, f, &v, &nv);

	*r = NULL;
	*n = 0;
	if (rc)
		return rc;
	rc = etm_pmu_ranges_of_smaps(v, nv, r);
	if (!rc)
		*n = nv;
	free(v);
	return rc;
}

/*
 * The ranges to index: the engine's filter, else anon_only and vma_name.
 * Only smaps tells a hugetlb VMA's page size; it is read when the filter
 * asks for VmFlags (cslide's vm_flags=ht), the one case where hugetlb VMAs
 * are graded. maps is cheaper (no page-table walk) and serves the rest.
 */
static int maps_ranges(const struct etm_pmu_sampler *s, pid_t pid, struct etm_pmu_range **r, size_t *n)
{
	struct etm_vma_filter own = { .anon_only = s->c.anon_only, .name = s->c.vma_name };
	const struct etm_vma_filter *f = s->c.filter ? s->c.filter : &own;
	struct vmas *v;
	size_t i = 0;
	int rc;

	if (f->nvmflags > 0)
		return smaps_ranges(pid, f, r, n);
	*r = NULL;
	*n = 0;
	if ((rc = etm_proc_vmas(pid, f, &v)))
		return rc;
	*r = calloc(v->vma_cnt ? v->vma_cnt : 1, sizeof(**r));
	if (!*r) {
		etm_vmas_free(v);
		return -ENOMEM;
	}
	for (struct vma *x = v->vma_list; x && i < v->vma_cnt; x = x->next)
		(*r)[i++] = (struct etm_pmu_range){ .start = x->start, .end = x->end };
	*n = i;
	etm_vmas_free(v);
	return 0;
}

/* (Re)build @pid's VMA index; pages it keeps keep their counts. */
static int index_proc(struct etm_pmu_sampler *s, pid_t pid)
{
	struct etm_pmu_range *r = NULL;
	size_t n = 0;
	int rc;

	if (s->c.ranges)
		rc = s->c.ranges(pid, s->c.ranges_arg, &r, &n);
	else
		rc = maps_ranges(s, pid, &r, &n);
	if (!rc)
		rc = etm_pmu_counter_set(s->counter, pid, r, n);
	free(r);
	return rc;
}

static int attach_error(const struct etm_pmu_sampler *s, pid_t pid, int rc, const struct pmu_proc *p, char *why,
			size_t len)
{
	switch (rc) {
	case -ESRCH:
		snprintf(why, len, "pid %d: no such process", (int)pid);
		break;
	case -EACCES:
	case -EPERM:
		snprintf(why, len, "pid %d: not permitted to sample it (needs root or CAP_PERFMON and ptrace access)",
			 (int)pid);
		break;
	case -EMFILE:
	case -ENFILE:
		snprintf(why, len,
			 "pid %d: too many open files: %zu threads x %zu CPUs x %zu events need one each (raise "
			 "LimitNOFILE)",
			 (int)pid, p->nth + 1, s->ncpu, s->ev.n);
		break;
	default:
		snprintf(why, len, "pid %d: cannot sample it: %s", (int)pid, strerror(-rc));
	}
	return rc;
}

static int attach_locked(struct etm_pmu_sampler *s, pid_t pid, char *why, size_t len)
{
	struct pmu_proc *p;
	int rc = 0;

	if (pid <= 0)
		return attach_error(s, pid, -ESRCH, NULL, why, len);
	if (proc_find(s, pid))
		return -EEXIST;
	if (s->nprocs == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4;
		struct pmu_proc *np = realloc(s->procs, cap * sizeof(*np));

		if (!np)
			return -ENOMEM;
		s->procs = np;
		s->cap = cap;
	}
	p = &s->procs[s->nprocs];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->pidfd = pidfd_open_(pid);
	if (p->pidfd < 0)
		return attach_error(s, pid, -errno, p, why, len);
	/* Index first, so that the first samples already count. */
	rc = index_proc(s, pid);
	for (int round = 0; !rc && round < LIST_ROUNDS; round++) {
		int added = open_new_threads(s, p);

		if (added <= 0) {
			rc = added;
			break;
		}
	}
	if (!rc && !p->nth)
		rc = -ESRCH;
	if (rc) {
		attach_error(s, pid, rc, p, why, len);
		proc_release(s, p);
		return rc;
	}
	s->nprocs++;
	return 0;
}

int etm_pmu_sampler_attach(struct etm_pmu_sampler *s, pid_t pid, char *why, size_t len)
{
	int rc;

	pthread_mutex_lock(&s->mu);
	rc = attach_locked(s, pid, why, len);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void etm_pmu_sampler_detach(struct etm_pmu_sampler *s, pid_t pid)
{
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->nprocs; i++) {
		if (s->procs[i].pid == pid) {
			proc_drop(s, i);
			break;
		}
	}
	pthread_mutex_unlock(&s->mu);
}

static bool in_set(const pid_t *pids, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

/* Threads that exited are closed; without inherit_thread, new ones are opened here. */
static void refresh_threads(struct etm_pmu_sampler *s, struct pmu_proc *p)
{
	close_exited_threads(s, p);
	if (!s->inherit_thread)
		open_new_threads(s, p);
}

/* One more cycle of @p: its VMA index is rebuilt every vma_update_rate of them. */
static void cycle_proc(struct etm_pmu_sampler *s, struct pmu_proc *p)
{
	refresh_threads(s, p);
	if (s->c.vma_update_rate && ++p->cycles >= s->c.vma_update_rate) {
		p->cycles = 0;
		/* A failed rebuild (-ENOMEM) keeps the old index; a process gone is dropped at its next fold. */
		index_proc(s, p->pid);
	}
}

int etm_pmu_sampler_set_targets(struct etm_pmu_sampler *s, const pid_t *pids, size_t n, char *why, size_t len)
{
	int rc = 0;

	why[0] = '\0';
	pthread_mutex_lock(&s->mu);
	for (size_t i = s->nprocs; i-- > 0;) {
		if (!in_set(pids, n, s->procs[i].pid) || proc_exited(&s->procs[i]))
			proc_drop(s, i);
		else
			cycle_proc(s, &s->procs[i]);
	}
	for (size_t i = 0; i < n; i++) {
		int r;

		if (proc_find(s, pids[i]))
			continue;
		r = attach_locked(s, pids[i], why, len);
		if (r && r != -EEXIST)
			rc = r;
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int etm_pmu_sampler_fold(struct etm_pmu_sampler *s, pid_t pid, struct etm_pagestate *ps)
{
	char path[64];
	struct pmu_proc *p;
	int rc = 0, fd;

	etm_pmu_sampler_flush(s);
	pthread_mutex_lock(&s->mu);
	p = proc_find(s, pid);
	if (p && proc_exited(p)) {
		proc_drop(s, (size_t)(p - s->procs));
		p = NULL;
	}
	if (!p) {
		pthread_mutex_unlock(&s->mu);
		return -ESRCH;
	}
	refresh_threads(s, p);
	if (!s->c.vma_update_rate || etm_pmu_counter_stale(s->counter, pid))
		rc = index_proc(s, pid);
	if (rc == -ESRCH)
		proc_drop(s, (size_t)(p - s->procs));
	pthread_mutex_unlock(&s->mu);
	if (rc == -ESRCH)
		return rc;
	/* A failed rebuild (-ENOMEM) keeps the old index: still worth folding. */
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC); /* -1: every indexed page marked (pmu_pages.h) */
	rc = etm_pmu_counter_fold(s->counter, pid, ps, fd, s->c.fold);
	if (fd >= 0)
		close(fd);
	return rc;
}
