/* SPDX-License-Identifier: MulanPSL-2.0 */
/* Samples to per-page counts for a set of processes (see pmu_counter.h). */
#include "scan/pmu_counter.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct target {
	pid_t pid;
	struct etm_pmu_pages *pages;
	uint64_t hits, misses; /* since the last set, atomically updated under the shared lock */
};

struct etm_pmu_counter {
	pthread_rwlock_t lock;
	struct target *t; /* ascending pid */
	size_t n, cap;
	uint64_t cooling_interval;
	unsigned weight;
	uint64_t since_cool;	       /* atomic */
	struct etm_pmu_count_stats st; /* counters updated atomically */
};

int etm_pmu_counter_new(uint64_t cooling_interval, unsigned weight, struct etm_pmu_counter **out)
{
	struct etm_pmu_counter *c = calloc(1, sizeof(*c));
	pthread_rwlockattr_t a;
	int rc;

	*out = NULL;
	if (weight < 1 || weight > ETM_PMU_COUNT_MAX) {
		free(c);
		return -EINVAL;
	}
	if (!c)
		return -ENOMEM;
	pthread_rwlockattr_init(&a);
	/* Cooling and rebuilds must get in between the readers' batches. */
	pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	rc = pthread_rwlock_init(&c->lock, &a);
	pthread_rwlockattr_destroy(&a);
	if (rc) {
		free(c);
		return -rc;
	}
	c->cooling_interval = cooling_interval;
	c->weight = weight;
	*out = c;
	return 0;
}

void etm_pmu_counter_free(struct etm_pmu_counter *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		etm_pmu_pages_free(c->t[i].pages);
	free(c->t);
	pthread_rwlock_destroy(&c->lock);
	free(c);
}

/* Index of @pid, or of where it would go (*found false). */
static size_t find(const struct etm_pmu_counter *c, pid_t pid, bool *found)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->t[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < c->n && c->t[lo].pid == pid;
	return lo;
}

static int insert(struct etm_pmu_counter *c, size_t at, pid_t pid, struct etm_pmu_pages *p)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		struct target *t = realloc(c->t, cap * sizeof(*t));

		if (!t)
			return -ENOMEM;
		c->t = t;
		c->cap = cap;
	}
	memmove(&c->t[at + 1], &c->t[at], (c->n - at) * sizeof(*c->t));
	c->t[at] = (struct target){ .pid = pid, .pages = p };
	c->n++;
	return 0;
}

int etm_pmu_counter_set(struct etm_pmu_counter *c, pid_t pid, const struct etm_pmu_range *r, size_t n)
{
	struct etm_pmu_pages *p, *old = NULL;
	bool found;
	size_t at;
	int rc;

	/* Allocate outside the lock; only the copy of the old counts needs the readers out. */
	rc = etm_pmu_pages_new(r, n, NULL, &p);
	if (rc)
		return rc;
	pthread_rwlock_wrlock(&c->lock);
	at = find(c, pid, &found);
	if (found) {
		old = c->t[at].pages;
		etm_pmu_pages_carry(p, old);
		c->t[at].pages = p;
		c->t[at].hits = c->t[at].misses = 0;
		c->st.rebuilds++;
	} else {
		rc = insert(c, at, pid, p);
		old = rc ? p : NULL;
	}
	pthread_rwlock_unlock(&c->lock);
	etm_pmu_pages_free(old);
	return rc;
}

void etm_pmu_counter_remove(struct etm_pmu_counter *c, pid_t pid)
{
	struct etm_pmu_pages *old = NULL;
	bool found;
	size_t at;

	pthread_rwlock_wrlock(&c->lock);
	at = find(c, pid, &found);
	if (found) {
		old = c->t[at].pages;
		memmove(&c->t[at], &c->t[at + 1], (c->n - at - 1) * sizeof(*c->t));
		c->n--;
	}
	pthread_rwlock_unlock(&c->lock);
	etm_pmu_pages_free(old);
}

static void cool_locked(struct etm_pmu_counter *c)
{
	for (size_t i = 0; i < c->n; i++)
		etm_pmu_pages_cool(c->t[i].pages);
	c->st.coolings++;
}

void etm_pmu_counter_cool(struct etm_pmu_counter *c)
{
	pthread_rwlock_wrlock(&c->lock);
	cool_locked(c);
	pthread_rwlock_unlock(&c->lock);
}

static void add(uint64_t *v, uint64_t n)
{
	if (n)
		__atomic_add_fetch(v, n, __ATOMIC_RELAXED);
}

/* Per-batch tallies, added to the shared counters once per batch. */
struct tally {
	uint64_t counted, unmapped, foreign, no_addr;
	struct target *t; /* the target of the last samples, and its hits/misses not yet added */
	uint64_t hits, misses;
	size_t hint;
};

static void tally_switch(struct tally *y, struct target *t)
{
	if (y->t) {
		add(&y->t->hits, y->hits);
		add(&y->t->misses, y->misses);
		y->counted += y->hits;
		y->unmapped += y->misses;
	}
	y->t = t;
	y->hits = y->misses = 0;
	y->hint = 0;
}

/* Count one batch under the shared lock; returns the samples counted. */
static uint64_t count_batch(struct etm_pmu_counter *c, const struct etm_perf_sample *s, size_t n)
{
	struct tally y = { 0 };

	pthread_rwlock_rdlock(&c->lock);
	for (size_t i = 0; i < n; i++) {
		if (!s[i].addr) {
			y.no_addr++;
			continue;
		}
		if (!y.t || y.t->pid != (pid_t)s[i].pid) {
			bool found;
			size_t at = find(c, (pid_t)s[i].pid, &found);

			if (!found) {
				y.foreign++;
				continue;
			}
			tally_switch(&y, &c->t[at]);
		}
		if (etm_pmu_pages_hit(y.t->pages, s[i].addr, c->weight, &y.hint))
			y.hits++;
		else
			y.misses++;
	}
	tally_switch(&y, NULL);
	pthread_rwlock_unlock(&c->lock);
	add(&c->st.counted, y.counted);
	add(&c->st.unmapped, y.unmapped);
	add(&c->st.foreign, y.foreign);
	add(&c->st.no_addr, y.no_addr);
	return y.counted;
}

void etm_pmu_counter_samples(void *arg, const struct etm_perf_sample *s, size_t n)
{
	struct etm_pmu_counter *c = arg;
	uint64_t counted = count_batch(c, s, n), since, zero = 0;

	if (!c->cooling_interval || !counted)
		return;
	since = __atomic_add_fetch(&c->since_cool, counted, __ATOMIC_RELAXED);
	if (since < c->cooling_interval)
		return;
	/* One reader wins the reset and cools; the others go on counting. */
	if (!__atomic_compare_exchange_n(&c->since_cool, &since, zero, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	etm_pmu_counter_cool(c);
}

int etm_pmu_counter_fold(struct etm_pmu_counter *c, pid_t pid, struct etm_pagestate *ps, int pagemap_fd,
			 enum etm_pmu_fold how)
{
	bool found;
	size_t at;

	pthread_rwlock_rdlock(&c->lock);
	at = find(c, pid, &found);
	if (found)
		etm_pmu_pages_fold(c->t[at].pages, ps, pagemap_fd, how);
	pthread_rwlock_unlock(&c->lock);
	return found ? 0 : -ESRCH;
}

int etm_pmu_counter_count(struct etm_pmu_counter *c, pid_t pid, uint64_t addr)
{
	bool found;
	size_t at;
	int v;

	pthread_rwlock_rdlock(&c->lock);
	at = find(c, pid, &found);
	v = found ? etm_pmu_pages_count(c->t[at].pages, addr) : -ESRCH;
	pthread_rwlock_unlock(&c->lock);
	return v;
}

uint64_t etm_pmu_counter_sampled(struct etm_pmu_counter *c, pid_t pid)
{
	uint64_t v = 0;
	bool found;
	size_t at;

	pthread_rwlock_rdlock(&c->lock);
	at = find(c, pid, &found);
	if (found)
		v = etm_pmu_pages_sampled(c->t[at].pages);
	pthread_rwlock_unlock(&c->lock);
	return v;
}

bool etm_pmu_counter_stale(struct etm_pmu_counter *c, pid_t pid)
{
	bool found, stale = false;
	size_t at;

	pthread_rwlock_rdlock(&c->lock);
	at = find(c, pid, &found);
	if (found) {
		uint64_t h = __atomic_load_n(&c->t[at].hits, __ATOMIC_RELAXED);
		uint64_t m = __atomic_load_n(&c->t[at].misses, __ATOMIC_RELAXED);

		stale = m >= 64 && m * 8 > h + m;
	}
	pthread_rwlock_unlock(&c->lock);
	return stale;
}

void etm_pmu_counter_stats(struct etm_pmu_counter *c, struct etm_pmu_count_stats *st)
{
	pthread_rwlock_rdlock(&c->lock);
	st->counted = __atomic_load_n(&c->st.counted, __ATOMIC_RELAXED);
	st->unmapped = __atomic_load_n(&c->st.unmapped, __ATOMIC_RELAXED);
	st->foreign = __atomic_load_n(&c->st.foreign, __ATOMIC_RELAXED);
	st->no_addr = __atomic_load_n(&c->st.no_addr, __ATOMIC_RELAXED);
	st->coolings = c->st.coolings;
	st->rebuilds = c->st.rebuilds;
	st->targets = c->n;
	st->pages = 0;
	st->bytes = 0;
	for (size_t i = 0; i < c->n; i++) {
		st->pages += c->t[i].pages->npages;
		st->bytes += etm_pmu_pages_bytes(c->t[i].pages);
	}
	pthread_rwlock_unlock(&c->lock);
}
