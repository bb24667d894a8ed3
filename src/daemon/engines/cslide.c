/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * cslide engine: key parsing (see cslide.h). It has no runtime yet, hence no
 * start_task; the registry reports that when a project using it starts.
 */
#include "cslide.h"

#include <errno.h>
#include <limits.h>
#include <numa.h>
#include <stdio.h>
#include <string.h>

#include "daemon/config.h"
#include "daemon/engine.h"

#define ENG_GROUP "engine"
#define TASK_GROUP "task"
/* node_pair text bound: 512 pairs of two 4-digit nodes with separators fit. */
#define NODE_PAIR_TEXT_MAX 8192

/* One node number: digits only, 0..CSLIDE_MAX_NUMNODES-1. */
static int parse_node(const char *s, size_t len, int *out)
{
	int v = 0;

	if (len == 0 || len > 4)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	if (v >= CSLIDE_MAX_NUMNODES)
		return -ERANGE;
	*out = v;
	return 0;
}

/* [s, e) without blanks at either end. */
static void trim(const char **s, const char **e)
{
	while (*s < *e && g_ascii_isspace(**s))
		(*s)++;
	while (*e > *s && g_ascii_isspace((*e)[-1]))
		(*e)--;
}

static int node_item(const char *s, const char *e, int *node, char *why, size_t why_len)
{
	int rc;

	trim(&s, &e);
	rc = parse_node(s, (size_t)(e - s), node);
	if (rc == -ERANGE)
		snprintf(why, why_len, "node %.*s out of range, must be 0..%d", (int)(e - s), s,
			 CSLIDE_MAX_NUMNODES - 1);
	else if (rc)
		snprintf(why, why_len, "\"%.*s\" is not a node number", (int)(e - s > 16 ? 16 : e - s), s);
	return rc ? -EINVAL : 0;
}

int cslide_parse_node_pairs(const char *s, struct cslide_node_pair **pairs, size_t *n, char *why, size_t why_len)
{
	GArray *arr;
	guint8 *used;
	const char *p, *end;
	int rc = 0;

	*pairs = NULL;
	*n = 0;
	if (!s || !*s) {
		snprintf(why, why_len, "empty, must be pairs hot,cold separated by ;");
		return -EINVAL;
	}
	arr = g_array_new(FALSE, FALSE, sizeof(struct cslide_node_pair));
	used = g_malloc0(CSLIDE_MAX_NUMNODES);
	for (p = s;; p = end + 1) {
		struct cslide_node_pair pr;
		const char *comma;

		end = strchr(p, ';');
		if (!end)
			end = p + strlen(p);
		comma = memchr(p, ',', (size_t)(end - p));
		if (!comma) {
			const char *a = p, *b = end;

			trim(&a, &b);
			snprintf(why, why_len, "pair \"%.*s\" is not hot,cold", (int)(b - a > 16 ? 16 : b - a), a);
			rc = -EINVAL;
			break;
		}
		if ((rc = node_item(p, comma, &pr.hot_node, why, why_len)) ||
		    (rc = node_item(comma + 1, end, &pr.cold_node, why, why_len)))
			break;
		if (pr.hot_node == pr.cold_node) {
			snprintf(why, why_len, "pair %d,%d: hot and cold node must differ", pr.hot_node, pr.cold_node);
			rc = -EINVAL;
			break;
		}
		if (used[pr.hot_node] || used[pr.cold_node]) {
			snprintf(why, why_len, "node %d used in more than one pair",
				 used[pr.hot_node] ? pr.hot_node : pr.cold_node);
			rc = -EINVAL;
			break;
		}
		used[pr.hot_node] = used[pr.cold_node] = 1;
		g_array_append_val(arr, pr);
		if (!*end)
			break;
	}
	g_free(used);
	if (rc) {
		g_array_free(arr, TRUE);
		return rc;
	}
	*n = arr->len;
	*pairs = (struct cslide_node_pair *)(void *)g_array_free(arr, FALSE);
	return 0;
}

bool cslide_numa_node_present(int node, void *arg)
{
	(void)arg;
	if (node < 0)
		return false;
	if (numa_available() < 0)
		return node == 0; /* no NUMA support: a single node 0 */
	if (node > numa_max_possible_node() || !numa_nodes_ptr)
		return false;
	return numa_bitmask_isbitset(numa_nodes_ptr, (unsigned int)node) != 0;
}

static void eng_params_free(struct cslide_eng_params *ep)
{
	if (!ep)
		return;
	g_free(ep->pairs);
	g_free(ep);
}

static int node_pairs_key(struct etm_conf *conf, struct cslide_eng_params *ep, cslide_node_present_fn present,
			  void *arg)
{
	char *v = NULL, why[160];
	int rc;

	rc = etm_conf_get_str(conf, ENG_GROUP, "node_pair", false, NODE_PAIR_TEXT_MAX, &v);
	if (rc == -ENOENT)
		return etm_conf_error(conf, ENG_GROUP, "node_pair", NULL, "missing (required for engine cslide)");
	if (rc)
		return rc;
	rc = cslide_parse_node_pairs(v, &ep->pairs, &ep->n_pairs, why, sizeof(why));
	if (rc) {
		rc = etm_conf_error(conf, ENG_GROUP, "node_pair", v, "%s", why);
		goto out;
	}
	for (size_t i = 0; i < ep->n_pairs; i++) {
		int nodes[2] = { ep->pairs[i].hot_node, ep->pairs[i].cold_node };

		for (int j = 0; j < 2; j++) {
			if (!present(nodes[j], arg)) {
				rc = etm_conf_error(conf, ENG_GROUP, "node_pair", v,
						    "NUMA node %d is not present on this machine", nodes[j]);
				goto out;
			}
		}
	}
out:
	g_free(v);
	return rc;
}

int cslide_fill_eng_params_with(GKeyFile *config, struct engine *eng, cslide_node_present_fn present, void *arg)
{
	struct etm_conf fallback = { .path = (char *)"(config)", .kf = config, .err = NULL };
	struct etm_conf *conf = etm_conf_of_engine(eng);
	static const char *const int_keys[] = { "hot_threshold", "node_mig_quota", "node_hot_reserve" };
	struct cslide_eng_params *ep;
	long vals[3] = { 0 };
	int rc;

	if (!conf || conf->kf != config)
		conf = &fallback;
	ep = g_new0(struct cslide_eng_params, 1);
	rc = node_pairs_key(conf, ep, present, arg);
	for (size_t i = 0; !rc && i < 3; i++) {
		rc = etm_conf_get_int(conf, ENG_GROUP, int_keys[i], false, 0, INT_MAX, &vals[i]);
		if (rc == -ENOENT)
			rc = etm_conf_error(conf, ENG_GROUP, int_keys[i], NULL, "missing (required for engine cslide)");
	}
	if (!rc)
		rc = etm_pmu_conf_parse(conf, ENG_GROUP, true, "cslide", &ep->pmu);
	if (rc) {
		eng_params_free(ep);
		return rc;
	}
	/*
	 * hot_threshold above loop*3 makes every page cold; the original
	 * clamped it silently, we keep what was asked (the spec's range).
	 */
	ep->hot_threshold = (int)vals[0];
	ep->node_mig_quota = (int)vals[1];
	ep->node_hot_reserve = (int)vals[2];
	eng_params_free(eng->params);
	eng->params = ep;
	return 0;
}

static int cslide_fill_eng_params(GKeyFile *config, struct engine *eng)
{
	return cslide_fill_eng_params_with(config, eng, cslide_numa_node_present, NULL);
}

static void cslide_clear_eng_params(struct engine *eng)
{
	if (!eng)
		return;
	eng_params_free(eng->params);
	eng->params = NULL;
}

static void task_params_free(struct cslide_task_params *tp)
{
	if (!tp)
		return;
	g_strfreev(tp->vm_flags);
	g_free(tp);
}

/* vm_flags: blank-separated two-letter VmFlags; the spec allows only ht (hugetlb) today. */
static int vm_flags_key(struct etm_conf *conf, struct cslide_task_params *tp)
{
	char *v = NULL;
	char **words;
	GPtrArray *flags;
	int rc;

	rc = etm_conf_get_str(conf, TASK_GROUP, "vm_flags", false, CSLIDE_VM_FLAGS_MAX, &v);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	words = g_strsplit_set(v, " \t", -1);
	flags = g_ptr_array_new();
	for (char **w = words; *w; w++) {
		if (!**w)
			continue;
		if (strcmp(*w, "ht") != 0) {
			rc = etm_conf_error(conf, TASK_GROUP, "vm_flags", v,
					    "flag \"%.8s\" not supported, only ht is supported", *w);
			break;
		}
		g_ptr_array_add(flags, g_strdup(*w));
	}
	if (!rc && flags->len == 0)
		rc = etm_conf_error(conf, TASK_GROUP, "vm_flags", v, "no flag given, only ht is supported");
	g_strfreev(words);
	g_free(v);
	if (rc) {
		g_ptr_array_set_free_func(flags, g_free);
		g_ptr_array_free(flags, TRUE);
		return rc;
	}
	tp->n_vm_flags = (int)flags->len;
	g_ptr_array_add(flags, NULL);
	tp->vm_flags = (char **)g_ptr_array_free(flags, FALSE);
	return 0;
}

static int cslide_fill_task_params(GKeyFile *config, struct task *tk)
{
	struct etm_conf fallback = { .path = (char *)"(config)", .kf = config, .err = NULL };
	struct etm_conf *conf = etm_conf_of_task(tk);
	struct cslide_task_params *tp;
	int rc;

	if (!conf || conf->kf != config)
		conf = &fallback;
	tp = g_new0(struct cslide_task_params, 1);
	rc = vm_flags_key(conf, tp);
	if (!rc) {
		rc = etm_conf_get_yesno(conf, TASK_GROUP, "anon_only", false, &tp->anon_only);
		rc = rc == -ENOENT ? 0 : rc;
	}
	if (!rc) {
		rc = etm_conf_get_yesno(conf, TASK_GROUP, "ign_host", false, &tp->ign_host);
		rc = rc == -ENOENT ? 0 : rc;
	}
	if (rc) {
		task_params_free(tp);
		return rc;
	}
	task_params_free(tk->params);
	tk->params = tp;
	return 0;
}

static void cslide_clear_task_params(struct task *tk)
{
	if (!tk)
		return;
	task_params_free(tk->params);
	tk->params = NULL;
}

static const struct engine_ops cslide_ops = {
	.fill_eng_params = cslide_fill_eng_params,
	.clear_eng_params = cslide_clear_eng_params,
	.fill_task_params = cslide_fill_task_params,
	.clear_task_params = cslide_clear_task_params,
	/* No start_task: the cslide runtime comes later. */
};

const struct etm_engine_type etm_cslide_engine = {
	.name = "cslide",
	.type = CSLIDE_ENGINE,
	.scan_type = PAGE_SCAN,
	.ops = &cslide_ops,
};
