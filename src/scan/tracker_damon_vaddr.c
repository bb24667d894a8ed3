/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * DAMON vaddr: a kdamond monitors the target's address space; a "stat"
 * scheme matching everything exposes the monitored regions through
 * update_schemes_tried_regions. Each scan maps a region's nr_accesses of
 * the last aggregation window (sized to the project's sleep) to every page
 * of the region: accessed (weight 1) if nr_accesses > 0, else idle. The
 * granularity is DAMON's regions, not pages.
 */
#include "scan/tracker.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/damon_sysfs.h"
#include "scan/parse.h"

#define CTX "contexts/0"
#define SCH CTX "/schemes/0"

struct vaddr_ctx {
	struct etm_kdamond k; /* first: etm_kdamond_ctx_close() */
	pid_t pid;
};

static int vaddr_probe(char *why, size_t len)
{
	return etm_damon_probe("vaddr", why, len);
}

static int vaddr_open(pid_t pid, const struct etm_tracker_opts *o, void **out)
{
	struct vaddr_ctx *c = calloc(1, sizeof(*c));
	unsigned long long aggr = (unsigned long long)(o->sleep_s ? o->sleep_s : 1) * 1000000ULL;
	char why[256];
	int err;

	if (!c)
		return -ENOMEM;
	c->pid = pid;
	c->k.idx = -1;
	if ((err = etm_kdamond_alloc(&c->k, why, sizeof(why)))) {
		free(c);
		return err;
	}
	if ((err = etm_kdamond_write(&c->k, "contexts/nr_contexts", "1")) ||
	    (err = etm_kdamond_write(&c->k, CTX "/operations", "vaddr")) ||
	    (err = etm_kdamond_write(&c->k, CTX "/monitoring_attrs/intervals/sample_us", "5000")) ||
	    (err = etm_kdamond_write(&c->k, CTX "/monitoring_attrs/intervals/aggr_us", "%llu", aggr)) ||
	    (err = etm_kdamond_write(&c->k, CTX "/monitoring_attrs/intervals/update_us", "1000000")) ||
	    (err = etm_kdamond_write(&c->k, CTX "/monitoring_attrs/nr_regions/min", "100")) ||
	    (err = etm_kdamond_write(&c->k, CTX "/monitoring_attrs/nr_regions/max", "10000")) ||
	    (err = etm_kdamond_write(&c->k, CTX "/targets/nr_targets", "1")) ||
	    (err = etm_kdamond_write(&c->k, CTX "/targets/0/pid_target", "%d", (int)pid)) ||
	    (err = etm_kdamond_write(&c->k, CTX "/schemes/nr_schemes", "1")) ||
	    (err = etm_kdamond_write(&c->k, SCH "/action", "stat")) ||
	    (err = etm_kdamond_write(&c->k, SCH "/access_pattern/sz/max", "18446744073709551615")) ||
	    (err = etm_kdamond_write(&c->k, SCH "/access_pattern/nr_accesses/max", "4294967295")) ||
	    (err = etm_kdamond_write(&c->k, SCH "/access_pattern/age/max", "4294967295")) ||
	    (err = etm_kdamond_on(&c->k)))
		goto fail;
	*out = c;
	return 0;
fail:
	etm_kdamond_ctx_close(c);
	return err == -ESRCH || err == -ENOENT ? -ESRCH : err;
}

static int vaddr_scan(void *ctx, struct etm_pagestate *ps)
{
	struct vaddr_ctx *c = ctx;
	char path[256], rel[320];
	struct dirent *de;
	DIR *d;
	int err;

	err = etm_kdamond_write(&c->k, "state", "update_schemes_tried_regions");
	if (err) {
		char st[16];

		/* A kdamond whose target exited turns itself off. */
		if (!etm_kdamond_read_str(&c->k, "state", st, sizeof(st)) && !strcmp(st, "off"))
			return -ESRCH;
		return err;
	}
	snprintf(path, sizeof(path), "%s/" SCH "/tried_regions", c->k.dir);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		const char *end = de->d_name;
		uint64_t s, e, acc;

		/* region directories are numbered; skip the others */
		if (etm_parse_u64(&end, de->d_name + strlen(de->d_name), &s) || *end)
			continue;
		snprintf(rel, sizeof(rel), SCH "/tried_regions/%s/start", de->d_name);
		if (etm_kdamond_read_u64(&c->k, rel, &s))
			continue;
		snprintf(rel, sizeof(rel), SCH "/tried_regions/%s/end", de->d_name);
		if (etm_kdamond_read_u64(&c->k, rel, &e))
			continue;
		snprintf(rel, sizeof(rel), SCH "/tried_regions/%s/nr_accesses", de->d_name);
		if (etm_kdamond_read_u64(&c->k, rel, &acc))
			continue;
		if (e > s)
			etm_pagestate_mark(ps, s, (e - s) >> ETM_PAGE_SHIFT,
					   acc ? ETM_WEIGHT_ACCESSED : ETM_WEIGHT_IDLE);
	}
	closedir(d);
	return 0;
}

const struct etm_tracker_ops etm_tracker_damon_vaddr = {
	.sees_hugetlb = true, /* DAMON checks and clears hugetlb entries' accessed bits too */
	.probe = vaddr_probe,
	.open = vaddr_open,
	.scan = vaddr_scan,
	.close = etm_kdamond_ctx_close,
};
