/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * psi engine: cg_dir expansion (braces, directories only, nothing outside
 * the mount) and the tracked set, on a stand-in directory tree in /tmp in
 * which cgroups appear, vanish, come back and are renamed between cycles.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/engines/psi_cgroups.h"
#include "test_file_util.h"

static const struct psi_policy policy = {
	.pressure = 0.1,
	.rate_init = 0.05,
	.rate_min = 0.01,
	.rate_max = 0.5,
	.reclaim_max_bytes = 1ULL << 30,
	.limit_min_ratio = 0.1,
};

struct fx {
	char root[64]; /* the stand-in mount point */
};

static void mk(const struct fx *f, const char *rel)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", f->root, rel);
	assert_int_equal(g_mkdir_with_parents(p, 0700), 0);
}

static void rm(const struct fx *f, const char *rel)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", f->root, rel);
	assert_int_equal(rmdir(p), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	/* glob characters in the mount point itself: only cg_dir is a pattern */
	snprintf(f->root, sizeof(f->root), "/tmp/etm-psi-cg[1]{x}-XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	if (system(cmd))
		return -1;
	free(f);
	return 0;
}

/* The expansion's rel paths joined by spaces. */
static char *expand(const struct fx *f, const char *pattern, int want_rc)
{
	GPtrArray *m = NULL;
	GString *s = g_string_new(NULL);

	assert_int_equal(psi_cg_expand(f->root, pattern, &m, NULL), want_rc);
	for (guint i = 0; m && i < m->len; i++)
		g_string_append_printf(s, "%s%s", i ? " " : "", ((struct psi_match *)m->pdata[i])->rel);
	if (m)
		g_ptr_array_unref(m);
	return g_string_free(s, FALSE);
}

static void expect(const struct fx *f, const char *pattern, const char *want)
{
	g_autofree char *got = expand(f, pattern, 0);

	if (strcmp(got, want))
		fail_msg("cg_dir \"%s\": got \"%s\", expected \"%s\"", pattern, got, want);
}

static void test_expand(void **state)
{
	struct fx *f = *state;
	char p[256];

	mk(f, "a/x");
	mk(f, "a/y");
	mk(f, "b");
	mk(f, "c");
	mk(f, ".hidden");
	put_file(f->root, "file", "not a cgroup\n");
	snprintf(p, sizeof(p), "%s/link", f->root);
	assert_int_equal(symlink("a", p), 0);
	/* directories only: no regular file, no symlink; no hidden entry without a dot in the pattern */
	expect(f, "*", "a b c");
	expect(f, "{a,c}", "a c");
	expect(f, "{a,a,c}", "a c");
	expect(f, "a/*", "a/x a/y");
	expect(f, "{a/x,b}", "a/x b");
	expect(f, "?", "a b c");
	expect(f, "[ab]", "a b");
	expect(f, "b", "b");
	expect(f, "nothing*", "");
	expect(f, "missing", "");
	/* "." and ".." spelt by the glob instead of written: never matched, the mount itself neither */
	expect(f, ".*", ".hidden");
	expect(f, "{.,x}.", "");
	expect(f, "a/{.,x}.", "");
	expect(f, "{.}", "");
}

static void test_expand_mount(void **state)
{
	struct fx *f = *state;
	char trail[80];
	GPtrArray *m = NULL;
	unsigned dropped = 99;

	/* a missing mount point is an error, not an empty match */
	assert_int_equal(psi_cg_expand("/nonexistent-etm-psi", "*", &m, NULL), -ENOENT);
	assert_null(m);
	/* the mount point with a trailing slash: the same rel paths */
	mk(f, "a");
	snprintf(trail, sizeof(trail), "%s/", f->root);
	assert_int_equal(psi_cg_expand(trail, "*", &m, &dropped), 0);
	assert_int_equal(m->len, 1);
	assert_string_equal(((struct psi_match *)m->pdata[0])->rel, "a");
	assert_int_equal(dropped, 0);
	g_ptr_array_unref(m);
}

static void test_expand_bounded(void **state)
{
	struct fx *f = *state;
	GPtrArray *m = NULL;
	unsigned dropped = 0;
	char rel[32];

	for (int i = 0; i < PSI_CG_MAX + 6; i++) {
		snprintf(rel, sizeof(rel), "d%05d", i);
		mk(f, rel);
	}
	assert_int_equal(psi_cg_expand(f->root, "d*", &m, &dropped), 0);
	assert_int_equal(m->len, PSI_CG_MAX);
	assert_int_equal(dropped, 6);
	/* sorted: the first ones are kept */
	assert_string_equal(((struct psi_match *)m->pdata[0])->rel, "d00000");
	g_ptr_array_unref(m);
}

static gint by_rel(gconstpointer a, gconstpointer b)
{
	return strcmp((*(struct psi_cg *const *)a)->rel, (*(struct psi_cg *const *)b)->rel);
}

static char *rels(GPtrArray *a)
{
	GString *s = g_string_new(NULL);

	g_ptr_array_sort(a, by_rel);
	for (guint i = 0; i < a->len; i++)
		g_string_append_printf(s, "%s%s", i ? " " : "", ((struct psi_cg *)a->pdata[i])->rel);
	return g_string_free(s, FALSE);
}

/* One cycle: expand @pattern, update @s, compare the cgroups added and removed (rel paths, sorted). */
static void cycle(const struct fx *f, struct psi_cgset *s, const char *pattern, const char *want_added,
		  const char *want_removed)
{
	g_autoptr(GPtrArray) added = g_ptr_array_new();
	g_autoptr(GPtrArray) removed = g_ptr_array_new_with_free_func((GDestroyNotify)psi_cg_free);
	g_autofree char *a = NULL, *r = NULL;
	GPtrArray *m = NULL;

	assert_int_equal(psi_cg_expand(f->root, pattern, &m, NULL), 0);
	psi_cgset_update(s, m, added, removed);
	g_ptr_array_unref(m);
	a = rels(added);
	r = rels(removed);
	if (strcmp(a, want_added) || strcmp(r, want_removed))
		fail_msg("added \"%s\" removed \"%s\", expected \"%s\" and \"%s\"", a, r, want_added, want_removed);
}

static struct psi_cg *find(struct psi_cgset *s, const char *rel)
{
	GPtrArray *l = psi_cgset_list(s);

	for (guint i = 0; i < l->len; i++) {
		if (!strcmp(((struct psi_cg *)l->pdata[i])->rel, rel))
			return l->pdata[i];
	}
	return NULL;
}

static void test_set_appear_vanish(void **state)
{
	struct fx *f = *state;
	g_autoptr(psi_cgset) s = psi_cgset_new(&policy);
	struct psi_cg *a, *b;
	char from[256], to[256];

	mk(f, "pods/a");
	mk(f, "pods/b");
	cycle(f, s, "pods/*", "pods/a pods/b", "");
	assert_int_equal(psi_cgset_size(s), 2);
	/* a cgroup's adapted rate and totals survive the cycles it is seen in */
	a = find(s, "pods/a");
	assert_non_null(a);
	assert_float_equal(a->rate.rate, 0.05, 1e-12);
	a->rate.rate = 0.3;
	a->reclaimed_total = 12345;
	cycle(f, s, "pods/*", "", "");
	assert_ptr_equal(find(s, "pods/a"), a);
	assert_float_equal(a->rate.rate, 0.3, 1e-12);
	/*
	 * b vanishes, c appears. c first: this stand-in filesystem may hand a
	 * freed inode number straight to the next directory, which cgroupfs
	 * (kernfs, cyclic ids) does not.
	 */
	mk(f, "pods/c");
	rm(f, "pods/b");
	cycle(f, s, "pods/*", "pods/c", "pods/b");
	assert_null(find(s, "pods/b"));
	/* b comes back: a new cgroup, from the task's rate again */
	mk(f, "pods/b");
	cycle(f, s, "pods/*", "pods/b", "");
	b = find(s, "pods/b");
	assert_non_null(b);
	assert_float_equal(b->rate.rate, 0.05, 1e-12);
	assert_int_equal(b->reclaimed_total, 0);
	/* a is renamed: the same cgroup (same inode) under its new name */
	snprintf(from, sizeof(from), "%s/pods/a", f->root);
	snprintf(to, sizeof(to), "%s/pods/a2", f->root);
	assert_int_equal(rename(from, to), 0);
	cycle(f, s, "pods/*", "", "");
	assert_ptr_equal(find(s, "pods/a2"), a);
	assert_float_equal(a->rate.rate, 0.3, 1e-12);
	assert_int_equal(a->reclaimed_total, 12345);
	/* the list is sorted by name */
	{
		g_autofree char *all = NULL;
		g_autoptr(GPtrArray) copy = g_ptr_array_copy(psi_cgset_list(s), NULL, NULL);

		all = rels(copy);
		assert_string_equal(all, "pods/a2 pods/b pods/c");
	}
	/* everything vanishes; and the pattern no longer matching at all drops them too */
	rm(f, "pods/c");
	cycle(f, s, "pods/*", "", "pods/c");
	cycle(f, s, "other/*", "", "pods/a2 pods/b");
	assert_int_equal(psi_cgset_size(s), 0);
	/* an update without arrays to report into frees what it drops */
	mk(f, "pods/d");
	cycle(f, s, "pods/*", "pods/a2 pods/b pods/d", "");
	psi_cgset_update(s, NULL, NULL, NULL);
	assert_int_equal(psi_cgset_size(s), 0);
}

static void test_history(void **state)
{
	struct psi_cg cg = { 0 };

	(void)state;
	assert_null(psi_cg_sample(&cg, 0));
	for (unsigned i = 1; i <= PSI_HIST_MAX + 6; i++) {
		struct psi_sample smp = { .pressure = i, .usage = i * 100, .reclaimed = i, .rate = 0.01 * i };

		psi_cg_record(&cg, &smp);
	}
	assert_int_equal(cg.nhist, PSI_HIST_MAX);
	/* the latest first; the oldest kept is the 7th */
	assert_int_equal(psi_cg_sample(&cg, 0)->reclaimed, PSI_HIST_MAX + 6);
	assert_int_equal(psi_cg_sample(&cg, PSI_HIST_MAX - 1)->reclaimed, 7);
	assert_null(psi_cg_sample(&cg, PSI_HIST_MAX));
	assert_int_equal(cg.reclaimed_last, PSI_HIST_MAX + 6);
	/* 1 + 2 + ... + 70 */
	assert_int_equal(cg.reclaimed_total, (PSI_HIST_MAX + 6) * (PSI_HIST_MAX + 7) / 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_expand, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expand_mount, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expand_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_appear_vanish, setup, teardown),
		cmocka_unit_test(test_history),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
