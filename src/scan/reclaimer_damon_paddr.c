/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * DAMON paddr with memory-cgroup and young filters: the only per-page access
 * signal a mainline kernel without idle page tracking and without DAMON
 * vaddr offers. One kdamond monitors System RAM; each target memory cgroup
 * gets one DAMOS scheme that rejects pages outside the cgroup and young
 * (recently accessed) pages, and pages out the rest -- or, while slide's
 * gates say "don't swap", only counts them (action "stat").
 *
 * Grading: a page is paged out when its young bit stayed clear for one
 * apply interval, set to loop * sleep seconds, i.e. when it was not
 * accessed during the whole scan window. That is slide's "count < T" for
 * T = 1; a larger T cannot be graded at young-bit granularity (warned once
 * by slide). The young filter clears the bit it tests, so the first apply
 * after a start only resets the bits: cold pages go out on the second.
 * Counts of hot pages do not exist: stats are bytes (tried, cold, applied).
 */
#include "scan/reclaimer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scan/damon_sysfs.h"
#include "scan/procfs.h"

#define MAX_RAM_RANGES 64
#define MAX_MEMCGS 16
#define CTX "contexts/0"
#define TGT CTX "/targets/0"

struct paddr_scheme {
	char path[256];
	bool swap;
};

struct paddr_ctx {
	struct etm_kdamond k; /* first: etm_kdamond_ctx_close() */
	struct etm_reclaimer_opts o;
	bool on;
	struct paddr_scheme s[MAX_MEMCGS];
	size_t ns;
	/* Stats of schemes already replaced: DAMON's counters restart with new schemes. */
	struct etm_reclaimer_stats carried;
	struct etm_reclaimer_stats last;
};

static int paddr_probe(char *why, size_t len)
{
	return etm_damon_probe("paddr", why, len);
}

static int ram_ranges(struct etm_addr_range *r, size_t max, size_t *n)
{
	char *buf;
	size_t len;
	int err = etm_read_file("/proc/iomem", &buf, &len, 1 << 20);

	if (err)
		return err;
	err = etm_parse_iomem_ram(buf, len, r, max, n);
	free(buf);
	/* Without CAP_SYS_ADMIN iomem shows zeros: useless ranges. */
	if (!err && *n && r[0].start == 0 && r[0].end <= 1)
		err = -EPERM;
	return err;
}

static int w(struct paddr_ctx *c, const char *rel, const char *fmt, unsigned long long v, char *why, size_t len)
{
	int err = etm_kdamond_write(&c->k, rel, fmt, v);

	if (err)
		snprintf(why, len, "DAMON: writing %s/%s: %s", c->k.dir, rel, strerror(-err));
	return err;
}

static int ws(struct paddr_ctx *c, const char *rel, const char *val, char *why, size_t len)
{
	int err = etm_kdamond_write(&c->k, rel, "%s", val);

	if (err)
		snprintf(why, len, "DAMON: writing %s to %s/%s: %s", val, c->k.dir, rel, strerror(-err));
	return err;
}

static int paddr_open(const struct etm_reclaimer_opts *o, void **out, char *why, size_t len)
{
	struct paddr_ctx *c = calloc(1, sizeof(*c));
	struct etm_addr_range r[MAX_RAM_RANGES];
	size_t n = 0;
	char rel[128];
	int err;

	if (!c)
		return -ENOMEM;
	c->o = *o;
	c->k.idx = -1;
	err = ram_ranges(r, MAX_RAM_RANGES, &n);
	if (err) {
		snprintf(why, len, "DAMON paddr: cannot read System RAM ranges from /proc/iomem: %s", strerror(-err));
		free(c);
		return err;
	}
	err = etm_kdamond_alloc(&c->k, why, len);
	if (err) {
		free(c);
		return err;
	}
	/* The measured recipe: 5 ms samples, 100 ms aggregation, 10..1000 regions. */
	if ((err = ws(c, "contexts/nr_contexts", "1", why, len)) ||
	    (err = ws(c, CTX "/operations", "paddr", why, len)) ||
	    (err = ws(c, CTX "/monitoring_attrs/intervals/sample_us", "5000", why, len)) ||
	    (err = ws(c, CTX "/monitoring_attrs/intervals/aggr_us", "100000", why, len)) ||
	    (err = ws(c, CTX "/monitoring_attrs/intervals/update_us", "1000000", why, len)) ||
	    (err = ws(c, CTX "/monitoring_attrs/nr_regions/min", "10", why, len)) ||
	    (err = ws(c, CTX "/monitoring_attrs/nr_regions/max", "1000", why, len)) ||
	    (err = ws(c, CTX "/targets/nr_targets", "1", why, len)) ||
	    (err = w(c, TGT "/regions/nr_regions", "%llu", n, why, len)))
		goto fail;
	for (size_t i = 0; i < n; i++) {
		snprintf(rel, sizeof(rel), TGT "/regions/%zu/start", i);
		if ((err = w(c, rel, "%llu", r[i].start, why, len)))
			goto fail;
		snprintf(rel, sizeof(rel), TGT "/regions/%zu/end", i);
		if ((err = w(c, rel, "%llu", r[i].end, why, len)))
			goto fail;
	}
	*out = c;
	return 0;
fail:
	etm_kdamond_ctx_close(c);
	return err;
}

/* Does @c->k.dir/@rel exist? (sysfs layouts differ between kernel versions) */
static bool has(const struct paddr_ctx *c, const char *rel)
{
	char path[320];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", c->k.dir, rel) >= sizeof(path))
		return false;
	return access(path, F_OK) == 0;
}

/*
 * One filter: reject (allow=N) the pages for which @type's test gives
 * @matching. Kernels before 6.15 have no ops_filters/ (filters/ then), and
 * before 6.14 no "allow" file: such filters always reject what matches.
 */
static int write_filter(struct paddr_ctx *c, const char *fdir, size_t i, size_t fi, const char *type, const char *memcg,
			const char *matching, char *why, size_t len)
{
	char rel[192];
	int err;

#define F(x) (snprintf(rel, sizeof(rel), CTX "/schemes/%zu/%s/%zu/" x, i, fdir, fi), rel)
	if ((err = ws(c, F("type"), type, why, len)) || (memcg && (err = ws(c, F("memcg_path"), memcg, why, len))) ||
	    (err = ws(c, F("matching"), matching, why, len)))
		return err;
	if (has(c, F("allow")))
		err = ws(c, rel, "N", why, len);
#undef F
	return err;
}

static int write_schemes(struct paddr_ctx *c, char *why, size_t len)
{
	/* The filters walk every folio of every region per apply: keep applies rare (>= 2 s). */
	unsigned long long apply_us =
	    (unsigned long long)(c->o.loop ? c->o.loop : 1) * (c->o.sleep_s ? c->o.sleep_s : 1);
	char rel[160];
	int err;

	if (apply_us < 2)
		apply_us = 2;
	apply_us *= 1000000ULL;
	if ((err = w(c, CTX "/schemes/nr_schemes", "%llu", c->ns, why, len)))
		return err;
	for (size_t i = 0; i < c->ns; i++) {
		const char *fdir;

#define S(x) (snprintf(rel, sizeof(rel), CTX "/schemes/%zu/" x, i), rel)
		fdir = has(c, S("ops_filters")) ? "ops_filters" : "filters";
		if ((err = ws(c, S("action"), c->s[i].swap ? "pageout" : "stat", why, len)) ||
		    (err = w(c, S("apply_interval_us"), "%llu", apply_us, why, len)) ||
		    /* A new scheme's maxima are 0 and would match nothing. */
		    (err = ws(c, S("access_pattern/sz/max"), "18446744073709551615", why, len)) ||
		    (err = ws(c, S("access_pattern/nr_accesses/max"), "4294967295", why, len)) ||
		    (err = ws(c, S("access_pattern/age/max"), "4294967295", why, len)))
			return err;
		snprintf(rel, sizeof(rel), CTX "/schemes/%zu/%s/nr_filters", i, fdir);
		if ((err = ws(c, rel, "2", why, len)) ||
		    /* filter 0: reject pages NOT in the target's memcg; filter 1: reject young pages */
		    (err = write_filter(c, fdir, i, 0, "memcg", c->s[i].path, "N", why, len)) ||
		    (err = write_filter(c, fdir, i, 1, "young", NULL, "Y", why, len)))
			return err;
#undef S
	}
	return 0;
}

static void read_stats(struct paddr_ctx *c, struct etm_reclaimer_stats *st)
{
	char rel[160];

	memset(&c->last, 0, sizeof(c->last));
	if (!c->on || etm_kdamond_write(&c->k, "state", "update_schemes_stats"))
		goto out;
	for (size_t i = 0; i < c->ns; i++) {
		uint64_t v;
		bool cold;

		snprintf(rel, sizeof(rel), CTX "/schemes/%zu/stats/sz_tried", i);
		if (!etm_kdamond_read_u64(&c->k, rel, &v))
			c->last.bytes_tried += v;
		snprintf(rel, sizeof(rel), CTX "/schemes/%zu/stats/sz_ops_filter_passed", i);
		cold = !etm_kdamond_read_u64(&c->k, rel, &v);
		if (cold)
			c->last.bytes_cold += v;
		snprintf(rel, sizeof(rel), CTX "/schemes/%zu/stats/sz_applied", i);
		if (!etm_kdamond_read_u64(&c->k, rel, &v) && c->s[i].swap) {
			c->last.bytes_applied += v;
			/* Before 6.14 (no sz_ops_filter_passed) the paged-out bytes are the cold ones we know of. */
			if (!cold)
				c->last.bytes_cold += v;
		}
	}
out:
	st->bytes_tried = c->carried.bytes_tried + c->last.bytes_tried;
	st->bytes_cold = c->carried.bytes_cold + c->last.bytes_cold;
	st->bytes_applied = c->carried.bytes_applied + c->last.bytes_applied;
}

static int paddr_update(void *ctx, const struct etm_memcg_target *t, size_t n, struct etm_reclaimer_stats *st,
			char *why, size_t len)
{
	struct paddr_ctx *c = ctx;
	struct paddr_scheme want[MAX_MEMCGS];
	size_t nw = n;
	bool same;
	int err;

	if (n > MAX_MEMCGS) {
		snprintf(why, len, "DAMON paddr: more than %d memory cgroups in one task", MAX_MEMCGS);
		return -E2BIG;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(want[i].path, sizeof(want[i].path), "%s", t[i].path);
		want[i].swap = t[i].swap;
	}
	same = nw == c->ns;
	for (size_t i = 0; same && i < nw; i++)
		same = !strcmp(want[i].path, c->s[i].path) && want[i].swap == c->s[i].swap;
	read_stats(c, st); /* before the schemes (and their counters) change */
	if (same)
		return 0;
	c->carried = *st;
	memset(&c->last, 0, sizeof(c->last));
	memcpy(c->s, want, sizeof(want[0]) * nw);
	c->ns = nw;
	if (!nw) {
		if (c->on)
			etm_kdamond_write(&c->k, "state", "off");
		c->on = false;
		return 0;
	}
	if ((err = write_schemes(c, why, len)))
		return err;
	err = c->on ? ws(c, "state", "commit", why, len) : etm_kdamond_on(&c->k);
	if (err && !c->on)
		snprintf(why, len, "DAMON: writing on to %s/state: %s", c->k.dir, strerror(-err));
	if (err == -EINVAL && !c->on)
		snprintf(why, len,
			 "DAMON refused to start the paddr kdamond (EINVAL): kernel built without "
			 "CONFIG_DAMON_PADDR, or a memcg filter path is not a memory cgroup");
	if (!err)
		c->on = true;
	return err;
}

const struct etm_reclaimer_ops etm_reclaimer_damon_paddr = {
	.probe = paddr_probe,
	.open = paddr_open,
	.update = paddr_update,
	.close = etm_kdamond_ctx_close,
};
