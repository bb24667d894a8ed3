/* SPDX-License-Identifier: MulanPSL-2.0 */
/* psi engine: cg_dir expansion and the set of tracked cgroups (psi_cgroups.h). */
#include "psi_cgroups.h"

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

struct psi_cgset {
	GHashTable *by_ino; /* &cg->ino -> struct psi_cg (owned) */
	struct psi_policy policy;
	unsigned gen;
	GPtrArray *sorted;
};

void psi_cg_free(struct psi_cg *cg)
{
	if (!cg)
		return;
	g_free(cg->rel);
	g_free(cg);
}

void psi_cg_record(struct psi_cg *cg, const struct psi_sample *s)
{
	cg->hist[cg->head] = *s;
	cg->head = (cg->head + 1) % PSI_HIST_MAX;
	if (cg->nhist < PSI_HIST_MAX)
		cg->nhist++;
	cg->reclaimed_last = s->reclaimed;
	cg->reclaimed_total += s->reclaimed;
}

const struct psi_sample *psi_cg_sample(const struct psi_cg *cg, unsigned i)
{
	if (i >= cg->nhist)
		return NULL;
	return &cg->hist[(cg->head + PSI_HIST_MAX - 1 - i) % PSI_HIST_MAX];
}

static void match_free(gpointer p)
{
	struct psi_match *m = p;

	g_free(m->rel);
	g_free(m);
}

/* @mnt with glob's special characters escaped, so only cg_dir is a pattern. */
static char *glob_escape(const char *mnt)
{
	GString *s = g_string_sized_new(strlen(mnt) + 8);

	for (const char *p = mnt; *p; p++) {
		if (strchr("*?[]{}\\", *p))
			g_string_append_c(s, '\\');
		g_string_append_c(s, *p);
	}
	return g_string_free(s, FALSE);
}

/* No empty, "." or ".." component: glob can spell them ("{.,x}.", ".*") though cg_dir may not. */
static bool rel_ok(const char *rel)
{
	g_auto(GStrv) comps = g_strsplit(rel, "/", -1);

	if (!*rel)
		return false;
	for (char **c = comps; *c; c++) {
		if (!**c || !strcmp(*c, ".") || !strcmp(*c, ".."))
			return false;
	}
	return true;
}

/* A checked match of glob, or NULL. */
static struct psi_match *match_of(const char *path, const char *mnt, size_t mlen, dev_t dev)
{
	struct psi_match *m;
	struct stat st;

	if (strncmp(path, mnt, mlen) || path[mlen] != '/' || !rel_ok(path + mlen + 1))
		return NULL;
	if (lstat(path, &st) || !S_ISDIR(st.st_mode) || st.st_dev != dev)
		return NULL;
	m = g_new0(struct psi_match, 1);
	m->ino = (uint64_t)st.st_ino;
	m->rel = g_strdup(path + mlen + 1);
	return m;
}

static gint match_cmp(gconstpointer a, gconstpointer b)
{
	const struct psi_match *x = *(struct psi_match *const *)a, *y = *(struct psi_match *const *)b;

	return strcmp(x->rel, y->rel);
}

/* Sort, drop duplicates ("{a,a}"), keep at most PSI_CG_MAX. */
static void matches_tidy(GPtrArray *a, unsigned *dropped)
{
	g_ptr_array_sort(a, match_cmp);
	for (guint i = 1; i < a->len;) {
		if (!match_cmp(&a->pdata[i - 1], &a->pdata[i]))
			g_ptr_array_remove_index(a, i); /* frees it */
		else
			i++;
	}
	if (a->len > PSI_CG_MAX) {
		if (dropped)
			*dropped = a->len - PSI_CG_MAX;
		g_ptr_array_remove_range(a, PSI_CG_MAX, a->len - PSI_CG_MAX);
	}
}

int psi_cg_expand(const char *mnt, const char *pattern, GPtrArray **out, unsigned *dropped)
{
	g_autofree char *root = g_strdup(mnt), *esc = NULL, *full = NULL;
	size_t mlen = strlen(root);
	struct stat st;
	glob_t g;
	int rc;

	*out = NULL;
	if (dropped)
		*dropped = 0;
	/* "/sys/fs/cgroup/memory/" and "/" itself: no trailing slash, so matches are root + "/" + rel. */
	while (mlen && root[mlen - 1] == '/')
		root[--mlen] = '\0';
	if (stat(mlen ? root : "/", &st))
		return -errno;
	esc = glob_escape(root);
	full = g_strdup_printf("%s/%s", esc, pattern);
	if (strlen(full) >= PATH_MAX)
		return -ENAMETOOLONG;
	rc = glob(full, GLOB_BRACE | GLOB_ONLYDIR, NULL, &g);
	if (rc == GLOB_NOSPACE)
		return -ENOMEM;
	*out = g_ptr_array_new_with_free_func(match_free);
	for (size_t i = 0; rc == 0 && i < g.gl_pathc; i++) {
		struct psi_match *m = match_of(g.gl_pathv[i], root, mlen, st.st_dev);

		if (m)
			g_ptr_array_add(*out, m);
	}
	if (rc != GLOB_NOMATCH)
		globfree(&g);
	matches_tidy(*out, dropped);
	return 0;
}

struct psi_cgset *psi_cgset_new(const struct psi_policy *policy)
{
	struct psi_cgset *s = g_new0(struct psi_cgset, 1);

	s->by_ino = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, (GDestroyNotify)psi_cg_free);
	s->policy = *policy;
	s->sorted = g_ptr_array_new();
	return s;
}

void psi_cgset_free(struct psi_cgset *s)
{
	if (!s)
		return;
	g_hash_table_destroy(s->by_ino);
	g_ptr_array_unref(s->sorted);
	g_free(s);
}

static struct psi_cg *cg_new(const struct psi_match *m, const struct psi_policy *p)
{
	struct psi_cg *cg = g_new0(struct psi_cg, 1);

	cg->ino = m->ino;
	cg->rel = g_strdup(m->rel);
	psi_rate_init(p, &cg->rate);
	return cg;
}

static gint cg_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp((*(struct psi_cg *const *)a)->rel, (*(struct psi_cg *const *)b)->rel);
}

void psi_cgset_update(struct psi_cgset *s, GPtrArray *matches, GPtrArray *added, GPtrArray *removed)
{
	GHashTableIter it;
	gpointer v;

	s->gen++;
	for (guint i = 0; matches && i < matches->len; i++) {
		const struct psi_match *m = matches->pdata[i];
		struct psi_cg *cg = g_hash_table_lookup(s->by_ino, &m->ino);

		if (!cg) {
			cg = cg_new(m, &s->policy);
			g_hash_table_insert(s->by_ino, &cg->ino, cg);
			if (added)
				g_ptr_array_add(added, cg);
		} else if (strcmp(cg->rel, m->rel)) {
			g_free(cg->rel);
			cg->rel = g_strdup(m->rel);
		}
		cg->seen = s->gen;
	}
	g_hash_table_iter_init(&it, s->by_ino);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct psi_cg *cg = v;

		if (cg->seen == s->gen)
			continue;
		g_hash_table_iter_steal(&it);
		if (removed)
			g_ptr_array_add(removed, cg);
		else
			psi_cg_free(cg);
	}
	g_ptr_array_set_size(s->sorted, 0);
	g_hash_table_iter_init(&it, s->by_ino);
	while (g_hash_table_iter_next(&it, NULL, &v))
		g_ptr_array_add(s->sorted, v);
	g_ptr_array_sort(s->sorted, cg_cmp);
}

GPtrArray *psi_cgset_list(struct psi_cgset *s)
{
	return s->sorted;
}

unsigned psi_cgset_size(const struct psi_cgset *s)
{
	return g_hash_table_size(s->by_ino);
}
