/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * psi: whole cycles (psi_cycle.c) on a stand-in cgroup2 tree (see
 * test_psi_backend.c: regular files play the cgroup files; a write to
 * memory.reclaim stays in the file, usage does not shrink). Covered: a
 * cgroup reclaimed at (usage - floor) * its rate, in 64 MiB writes; backing
 * off above the target (nothing written) and the rate lowered after two
 * such cycles; a cgroup that appears picked up, one that vanishes dropped;
 * the history and the totals.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>

#include "daemon/engines/psi_rt.h"
#include "test_file_util.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define CALM "some avg10=0.00 avg60=0.00 avg300=0.00 total=1\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
#define STALLED "some avg10=2.50 avg60=0.40 avg300=0.00 total=9\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"

struct fx {
	char root[64];
	char mountinfo[128], pressure[128], meminfo[128], cmdline[128];
	struct psi_sys sys;
	struct psi_rt rt;
};

/* @text into ROOT/@rel, its directory made first. */
static void put(const struct fx *f, const char *rel, const char *text)
{
	g_autofree char *p = g_build_filename(f->root, rel, NULL);
	g_autofree char *dir = g_path_get_dirname(p);
	g_autofree char *base = g_path_get_basename(p);

	assert_int_equal(g_mkdir_with_parents(dir, 0700), 0);
	put_file(dir, base, text);
}

static void get(const struct fx *f, const char *rel, char *out, size_t len)
{
	g_autofree char *p = g_build_filename(f->root, rel, NULL);
	g_autofree char *dir = g_path_get_dirname(p);
	g_autofree char *base = g_path_get_basename(p);

	get_file(dir, base, out, len);
}

/* A cgroup of 1 GiB: 600 MiB anon, 300 MiB file, no limits, swap to spare. */
static void cgroup(const struct fx *f, const char *rel)
{
	static const struct {
		const char *name, *text;
	} files[] = {
		{ "memory.current", "1073741824\n" },
		{ "memory.max", "max\n" },
		{ "memory.min", "0\n" },
		{ "memory.low", "0\n" },
		{ "memory.stat", "anon 629145600\nactive_anon 104857600\ninactive_anon 524288000\nactive_file 0\n"
				 "inactive_file 314572800\nunevictable 0\nworkingset_refault_anon 0\n"
				 "workingset_refault_file 0\n" },
		{ "memory.swap.max", "max\n" },
		{ "memory.swap.current", "0\n" },
		{ "memory.pressure", CALM },
		{ "memory.reclaim", "" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autofree char *rp = g_strdup_printf("cg/%s/%s", rel, files[i].name);

		put(f, rp, files[i].text);
	}
}

static void uncgroup(const struct fx *f, const char *rel)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf %s/cg/%s", f->root, rel);

	assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	g_autoptr(GString) why = g_string_new(NULL);
	g_autofree char *mi = NULL;

	snprintf(f->root, sizeof(f->root), "/tmp/etm-psi-cycle-XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	snprintf(f->mountinfo, sizeof(f->mountinfo), "%s/mountinfo", f->root);
	snprintf(f->pressure, sizeof(f->pressure), "%s/proc/pressure/memory", f->root);
	snprintf(f->meminfo, sizeof(f->meminfo), "%s/proc/meminfo", f->root);
	snprintf(f->cmdline, sizeof(f->cmdline), "%s/proc/cmdline", f->root);
	mi = g_strdup_printf("30 1 0:30 / %s/cg rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n", f->root);
	put(f, "mountinfo", mi);
	put(f, "cg/cgroup.controllers", "cpu memory\n");
	put(f, "cg/memory.pressure", CALM);
	put(f, "cg/memory.reclaim", "");
	put(f, "proc/pressure/memory", CALM);
	put(f, "proc/meminfo", "MemTotal: 24000000 kB\nMemFree: 1000 kB\nSwapFree: 4194304 kB\n");
	put(f, "proc/cmdline", "psi=1\n");
	f->sys = (struct psi_sys){ .mountinfo = f->mountinfo,
				   .standin = true,
				   .proc_pressure = f->pressure,
				   .meminfo = f->meminfo,
				   .cmdline = f->cmdline };
	pthread_mutex_init(&f->rt.lock, NULL);
	f->rt.name = g_strdup("t");
	f->rt.interval = 1;
	f->rt.cg_dir = g_strdup("pods/{a,b}");
	f->rt.policy = (struct psi_policy){ .pressure = 1.0,
					    .rate_init = 0.1,
					    .rate_min = 0.01,
					    .rate_max = 0.5,
					    .reclaim_max_bytes = GiB,
					    .limit_min_bytes = 200 * MiB };
	f->rt.backend = psi_backend_detect(&f->sys, why);
	if (!f->rt.backend) {
		fprintf(stderr, "no backend: %s\n", why->str);
		return -1;
	}
	f->rt.set = psi_cgset_new(&f->rt.policy);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	g_autofree char *cmd = g_strdup_printf("rm -rf %s", f->root);

	psi_cgset_free(f->rt.set);
	psi_backend_free(f->rt.backend);
	g_free(f->rt.name);
	g_free(f->rt.cg_dir);
	pthread_mutex_destroy(&f->rt.lock);
	free(f);
	return system(cmd) ? -1 : 0;
}

static struct psi_cg *cg_at(struct fx *f, guint i)
{
	GPtrArray *l = psi_cgset_list(f->rt.set);

	assert_true(i < l->len);
	return l->pdata[i];
}

static void test_reclaim_and_back_off(void **state)
{
	struct fx *f = *state;
	struct psi_cg *a;
	char buf[64];
	/* floor: limit_min_bytes (unreclaimable: 1 GiB - 900 MiB = 124 MiB); (1024 - 200) MiB * 0.1, 4 KiB down */
	const uint64_t amount = (uint64_t)((double)(824 * MiB) * 0.1) & ~4095ULL;

	cgroup(f, "pods/a");
	psi_cycle_run(&f->rt);
	assert_int_equal(f->rt.cycles, 1);
	assert_int_equal(psi_cgset_size(f->rt.set), 1);
	a = cg_at(f, 0);
	assert_string_equal(a->rel, "pods/a");
	if (!a->last.known)
		fail_msg("not read: %s (%s)", g_strerror(-a->last.err), f->rt.last_error);
	assert_true(a->last.known);
	assert_int_equal(a->last.err, 0);
	assert_int_equal(a->last.src, PSI_SRC_OWN);
	assert_int_equal(a->last.d.state, PSI_STATE_RECLAIMING);
	assert_int_equal(a->last.d.floor.by, PSI_FLOOR_LIMIT_MIN_BYTES);
	assert_int_equal(a->last.d.amount, amount);
	assert_int_equal(a->last.asked, amount);
	/* 82.4 MiB: one 64 MiB write, then the rest */
	get(f, "cg/pods/a/memory.reclaim", buf, sizeof(buf));
	assert_int_equal(strtoull(buf, NULL, 10), amount - 64 * MiB);
	assert_int_equal(a->nhist, 1);
	assert_int_equal(psi_cg_sample(a, 0)->state, PSI_STATE_RECLAIMING);
	assert_int_equal(psi_cg_sample(a, 0)->cycle, 1);
	assert_string_equal(f->rt.last_error, "");

	/* above the target: back off, nothing written; two such cycles lower the cgroup's rate */
	put(f, "cg/pods/a/memory.pressure", STALLED);
	put(f, "cg/pods/a/memory.reclaim", "");
	psi_cycle_run(&f->rt);
	assert_int_equal(a->last.d.state, PSI_STATE_BACKING_OFF);
	assert_float_equal(a->last.r.pressure, 2.5, 1e-9);
	assert_int_equal(a->last.asked, 0);
	assert_float_equal(a->rate.rate, 0.1, 1e-12);
	psi_cycle_run(&f->rt);
	assert_float_equal(a->rate.rate, 0.09, 1e-12);
	get(f, "cg/pods/a/memory.reclaim", buf, sizeof(buf));
	assert_string_equal(buf, "");
	assert_int_equal(a->nhist, 3);
	assert_int_equal(psi_cg_sample(a, 0)->state, PSI_STATE_BACKING_OFF);
	assert_float_equal(psi_cg_sample(a, 0)->rate, 0.1, 1e-12); /* the rate the cycle used */
	assert_int_equal(f->rt.cycles, 3);

	/* calm again: reclaim at the lowered rate */
	put(f, "cg/pods/a/memory.pressure", CALM);
	psi_cycle_run(&f->rt);
	assert_int_equal(a->last.d.state, PSI_STATE_RECLAIMING);
	assert_int_equal(a->last.d.amount, (uint64_t)((double)(824 * MiB) * 0.09) & ~4095ULL);
}

static void test_appear_vanish(void **state)
{
	struct fx *f = *state;

	cgroup(f, "pods/a");
	psi_cycle_run(&f->rt);
	assert_int_equal(psi_cgset_size(f->rt.set), 1);
	/* b appears: picked up next cycle, with the task's starting rate */
	cgroup(f, "pods/b");
	psi_cycle_run(&f->rt);
	assert_int_equal(psi_cgset_size(f->rt.set), 2);
	assert_string_equal(cg_at(f, 1)->rel, "pods/b");
	assert_int_equal(cg_at(f, 1)->last.d.state, PSI_STATE_RECLAIMING);
	assert_int_equal(cg_at(f, 1)->nhist, 1);
	/* a vanishes: dropped; b goes on */
	uncgroup(f, "pods/a");
	psi_cycle_run(&f->rt);
	assert_int_equal(psi_cgset_size(f->rt.set), 1);
	assert_string_equal(cg_at(f, 0)->rel, "pods/b");
	assert_int_equal(cg_at(f, 0)->nhist, 2);
	/* none left: a cycle does nothing, and says nothing wrong */
	uncgroup(f, "pods/b");
	psi_cycle_run(&f->rt);
	assert_int_equal(psi_cgset_size(f->rt.set), 0);
	assert_int_equal(f->rt.cycles, 4);
	assert_string_equal(f->rt.last_error, "");
}

/* A cgroup whose files cannot be read: the error kept for project show, nothing reclaimed, others go on. */
static void test_unreadable(void **state)
{
	struct fx *f = *state;
	struct psi_cg *a;

	cgroup(f, "pods/a");
	cgroup(f, "pods/b");
	put(f, "cg/pods/a/memory.stat", "garbage\n");
	psi_cycle_run(&f->rt);
	assert_int_equal(psi_cgset_size(f->rt.set), 2);
	a = cg_at(f, 0);
	assert_int_equal(a->last.err, -EINVAL);
	assert_false(a->last.known);
	assert_int_equal(a->nhist, 0);
	assert_non_null(strstr(f->rt.last_error, "cgroup pods/a: "));
	assert_int_equal(cg_at(f, 1)->last.d.state, PSI_STATE_RECLAIMING);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reclaim_and_back_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_appear_vanish, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
