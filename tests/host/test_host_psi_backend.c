/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Host test (psi_backend.sh sets the stage): the psi engine's kernel
 * backend on the real kernel. Detection names cgroup1-limit on a v1 host
 * with cgroup2 beside it; a cgroup whose twin holds its workload reads the
 * twin's pressure, one without a twin and one whose twin lacks the workload
 * read the system's; the readings are the kernel's; a reclaim through the
 * limit cuts takes memory and puts the limit back.
 * Usage: test_host_psi_backend JDIR CG_TWIN CG_NOTWIN CG_DIFF
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/engines/psi_backend.h"

#define MiB ((uint64_t)1 << 20)

static int failed;

#define CHECK(cond, ...)                                                                                               \
	do {                                                                                                           \
		if (!(cond)) {                                                                                         \
			printf("FAIL: " __VA_ARGS__);                                                                  \
			printf("\n");                                                                                  \
			failed = 1;                                                                                    \
		}                                                                                                      \
	} while (0)

static int read_one(const struct psi_backend *b, const char *rel, enum psi_source want, struct psi_readings *r)
{
	enum psi_source src = PSI_SRC_NSOURCES;
	int err = psi_backend_read(b, rel, r, &src);

	CHECK(!err, "%s: read: %s", rel, strerror(-err));
	if (err)
		return err;
	printf("%s: pressure %.2f from %s, usage %" PRIu64 " MiB, anon %" PRIu64 " MiB, file %" PRIu64
	       " MiB, swap room %" PRIu64 " MiB\n",
	       rel, r->pressure, psi_source_name(src), r->usage / MiB, r->anon / MiB, r->file / MiB,
	       r->swap_room / MiB);
	CHECK(src == want, "%s: pressure from %s, expected %s", rel, psi_source_name(src), psi_source_name(want));
	return 0;
}

static void reclaim(const struct psi_backend *b, const char *rel, const struct psi_readings *r)
{
	static const struct psi_policy pol = { .pressure = 100,
					       .rate_init = 0.25,
					       .rate_min = 0.01,
					       .rate_max = 0.5,
					       .reclaim_max_bytes = 64 * MiB,
					       .limit_min_ratio = 0.1 };
	struct psi_rate rate;
	struct psi_decision d;
	struct psi_reclaim_res res;
	uint64_t lim0 = 0, lim1 = 0;
	struct etm_memcg_dir dir;
	int err;

	CHECK(!psi_dir(&b->mem, rel, true, &dir), "%s: no such memory cgroup", rel);
	psi_rate_init(&pol, &rate);
	psi_decide(&pol, &rate, r, NULL, &d);
	printf("%s: %s, floor %" PRIu64 " MiB by %s, amount %" PRIu64 " MiB%s\n", rel, psi_state_name(d.state),
	       d.floor.bytes / MiB, psi_floor_term_name(d.floor.by), d.amount / MiB, d.capped ? " (capped)" : "");
	CHECK(d.state == PSI_STATE_RECLAIMING && d.amount == 64 * MiB, "%s: expected 64 MiB to reclaim", rel);
	psi_read_u64(&dir, "memory.limit_in_bytes", &lim0);
	err = b->ops->reclaim(b, rel, d.amount, &res);
	psi_read_u64(&dir, "memory.limit_in_bytes", &lim1);
	printf("%s: reclaim: asked %" PRIu64 " MiB in %u steps, usage down %" PRIu64 " MiB, %.3f s%s\n", rel,
	       res.asked / MiB, res.steps, res.reclaimed / MiB, res.seconds, res.busy ? ", busy" : "");
	CHECK(!err, "%s: reclaim: %s", rel, strerror(-err));
	CHECK(res.asked > 0 && res.steps > 0, "%s: no limit cut", rel);
	CHECK(res.reclaimed >= 16 * MiB, "%s: usage went down by only %" PRIu64 " bytes", rel, res.reclaimed);
	CHECK(!res.restore_failed && lim0 == lim1, "%s: limit %" PRIu64 " after, %" PRIu64 " before", rel, lim1, lim0);
}

int main(int argc, char **argv)
{
	g_autoptr(GString) err = g_string_new(NULL);
	g_autoptr(psi_backend) b = NULL;
	struct psi_sys sys = psi_sys_host;
	struct psi_readings r;
	g_autofree char *d = NULL;

	if (argc != 5) {
		fprintf(stderr, "usage: %s JDIR CG_TWIN CG_NOTWIN CG_DIFF\n", argv[0]);
		return 2;
	}
	sys.jdir = argv[1];
	b = psi_backend_detect(&sys, err);
	if (!b) {
		printf("FAIL: detection: %s\n", err->str);
		return 1;
	}
	d = psi_backend_describe(b);
	printf("backend: %s\n", d);
	if (b->ops != &psi_backend_cgroup1_limit) {
		printf("SKIP: this test is for v1 with cgroup2 beside it; the backend here is %s\n", b->ops->name);
		return 77;
	}
	CHECK(b->has_psi, "no cgroup2 mount found");
	if (!read_one(b, argv[2], PSI_SRC_TWIN, &r)) {
		CHECK(r.usage >= 200 * MiB && r.anon >= 200 * MiB, "%s: usage %" PRIu64 ", anon %" PRIu64, argv[2],
		      r.usage, r.anon);
		CHECK(r.limit >= PSI_LIMIT_NONE, "%s: a limit was left: %" PRIu64, argv[2], r.limit);
		reclaim(b, argv[2], &r);
	}
	read_one(b, argv[3], PSI_SRC_SYSTEM_NO_TWIN, &r);
	read_one(b, argv[4], PSI_SRC_SYSTEM_TWIN_DIFF, &r);
	return failed;
}
