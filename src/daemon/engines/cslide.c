/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * cslide engine: its keys (see cslide.h) and its type; the runtime is in
 * the files cslide_rt.h lists. node_pair and vm_flags have parsers of their
 * own; the rest are rows.
 */
#include "cslide.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cslide_rt.h"
#include "daemon/engine.h"
#include "daemon/keys.h"
#include "scan/backend.h"

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

/* What node_pair's parser and the table's check need: the machine. */
struct cslide_eng_ctx {
	const struct etm_numa_topo *topo;
};

/* "0-1,3": the nodes with memory, for messages. */
static void memory_nodes(const struct etm_numa_topo *t, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < t->n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%d", i ? "," : "", t->node[i].id);
}

/* node_pair: the syntax, a second memory node on this machine, then every node one with memory. */
static int node_pair_key(struct etm_conf *conf, const char *group, const struct etm_key *k, void *params,
			 const void *ctx)
{
	const struct cslide_eng_ctx *c = ctx;
	struct cslide_eng_params *ep = params;
	g_autofree char *v = NULL;
	char why[256], nodes[64];
	int rc;

	rc = etm_conf_get_str(conf, group, k->name, false, NODE_PAIR_TEXT_MAX, &v);
	if (rc)
		return rc;
	if (cslide_parse_node_pairs(v, &ep->pairs, &ep->n_pairs, why, sizeof(why)))
		return etm_conf_error(conf, group, k->name, v, "%s", why);
	if (etm_numa_need_two(c->topo, why, sizeof(why)))
		return etm_conf_error(conf, group, k->name, v, "%s", why);
	memory_nodes(c->topo, nodes, sizeof(nodes));
	for (size_t i = 0; i < ep->n_pairs; i++) {
		int pn[2] = { ep->pairs[i].hot_node, ep->pairs[i].cold_node };

		for (int j = 0; j < 2; j++) {
			if (!etm_numa_topo_node(c->topo, pn[j]))
				return etm_conf_error(
				    conf, group, k->name, v,
				    "NUMA node %d is not present on this machine (nodes with memory: %s)", pn[j],
				    nodes);
		}
	}
	return 0;
}

static void node_pair_free(const struct etm_key *k, void *params)
{
	struct cslide_eng_params *ep = params;

	(void)k;
	g_clear_pointer(&ep->pairs, g_free);
	ep->n_pairs = 0;
}

/* Without node_pair, the kernel's memory tiers must say which nodes pair (the runtime asks them again). */
static int tier_pairs_check(struct etm_conf *conf, const struct etm_key_table *t, const struct etm_numa_topo *topo)
{
	struct etm_numa_pair *pairs = NULL;
	char why[256];
	size_t n;
	int rc;

	if (etm_numa_need_two(topo, why, sizeof(why)))
		return etm_conf_error(conf, t->group, "node_pair", NULL, "%s", why);
	rc = etm_numa_tier_pairs(topo, &pairs, &n, why, sizeof(why));
	free(pairs);
	if (rc == -ENOMEM)
		return etm_conf_error(conf, t->group, "node_pair", NULL, "out of memory");
	if (rc)
		return etm_conf_error(conf, t->group, "node_pair", NULL, "missing, and %s", why);
	return 0;
}

static int cslide_engine_check(struct etm_conf *conf, const struct etm_key_table *t, void *params, const void *ctx,
			       uint64_t given)
{
	const struct cslide_eng_ctx *c = ctx;

	if (!etm_keys_given(t, given, "node_pair") && tier_pairs_check(conf, t, c->topo))
		return -EINVAL;
	return etm_pmu_check(conf, t, given, "cslide", &((struct cslide_eng_params *)params)->pmu);
}

#define EP struct cslide_eng_params
#define CSLIDE_INT_ROW(member, what)                                                                                   \
	{                                                                                                              \
		.name = #member, .type = ETM_KEY_INT, .min = 0, .max = INT_MAX, .required = "for engine cslide",       \
		.offset = ETM_KEY_AT(EP, member, int), .doc = what                                                     \
	}

/*
 * hot_threshold above loop*3 makes every page cold (with the PMU keys: above
 * 254, the sampled counts' top); the original clamped it
 * silently, we keep what was asked, the spec's range (docs/compat.md).
 */
static const struct etm_key engine_rows[] = {
	{ .name = "node_pair",
	  .type = ETM_KEY_CUSTOM,
	  .parse = node_pair_key,
	  .free = node_pair_free,
	  .range_doc = "\\fIhot\\fP,\\fIcold\\fP[;\\fIhot\\fP,\\fIcold\\fP...]",
	  .doc = "Pairs of NUMA nodes, e.g. \\fB2,0;3,1\\fP: each node present with memory, in one pair at most. "
		 "Unset: each node of the fastest memory tier is paired with the nearest node of the next "
		 "(/sys/devices/virtual/memory_tiering)." },
	CSLIDE_INT_ROW(hot_threshold,
		       "Pages accessed fewer times than this per cycle are cold; with the PMU keys, pages "
		       "whose sampled count is below it (see PMU SAMPLING)."),
	CSLIDE_INT_ROW(node_mig_quota, "MiB moved per node pair and cycle, both directions together."),
	CSLIDE_INT_ROW(node_hot_reserve, "MiB of the hot node kept for hot memory."),
	ETM_PMU_KEYS(EP, pmu),
	ETM_PMU_COOLING_KEY(EP, pmu),
};

#undef CSLIDE_INT_ROW
#undef EP

const struct etm_key_table cslide_engine_keys = {
	.group = ETM_SECTION_ENGINE,
	.title = "cslide engine keys",
	.intro = "cslide keeps the hot memory of its tasks on the fast node of each NUMA pair (DRAM) and the "
		 "cold memory on the slow node (PMEM, CXL). The PMU keys are given all four or none.",
	.keys = engine_rows,
	.n_keys = G_N_ELEMENTS(engine_rows),
	.params_size = sizeof(struct cslide_eng_params),
	.check = cslide_engine_check,
};

int cslide_parse_engine_with(struct etm_conf *conf, const struct etm_numa_topo *topo, void **params)
{
	struct cslide_eng_ctx ctx = { topo };
	int rc;

	*params = etm_keys_parse_new(conf, &cslide_engine_keys, &ctx, &rc);
	return rc;
}

static int cslide_parse_engine(struct etm_conf *conf, void **params)
{
	g_autoptr(etm_numa_topo) topo = NULL;
	char why[256];

	*params = NULL;
	if (etm_numa_topo_read("", &topo, why, sizeof(why)))
		return etm_conf_error(conf, ETM_SECTION_ENGINE, "name", "cslide", "%s", why);
	return cslide_parse_engine_with(conf, topo, params);
}

/* vm_flags: blank-separated two-letter VmFlags; the spec allows only ht (hugetlb) today. */
static int vm_flags_key(struct etm_conf *conf, const char *group, const struct etm_key *k, void *params,
			const void *ctx)
{
	struct cslide_task_params *tp = params;
	g_autoptr(GPtrArray) flags = g_ptr_array_new_with_free_func(g_free);
	g_auto(GStrv) words = NULL;
	g_autofree char *v = NULL;
	int rc;

	(void)ctx;
	rc = etm_conf_get_str(conf, group, k->name, false, CSLIDE_VM_FLAGS_MAX, &v);
	if (rc)
		return rc;
	words = g_strsplit_set(v, " \t", -1);
	for (char **w = words; *w; w++) {
		if (!**w)
			continue;
		if (strcmp(*w, "ht") != 0)
			return etm_conf_error(conf, group, k->name, v,
					      "flag \"%.8s\" not supported, only ht is supported", *w);
		g_ptr_array_add(flags, g_strdup(*w));
	}
	if (flags->len == 0)
		return etm_conf_error(conf, group, k->name, v, "no flag given, only ht is supported");
	tp->n_vm_flags = (int)flags->len;
	g_ptr_array_add(flags, NULL);
	g_ptr_array_set_free_func(flags, NULL);
	tp->vm_flags = (char **)g_ptr_array_free(g_steal_pointer(&flags), FALSE);
	return 0;
}

static void vm_flags_free(const struct etm_key *k, void *params)
{
	struct cslide_task_params *tp = params;

	(void)k;
	g_clear_pointer(&tp->vm_flags, g_strfreev);
	tp->n_vm_flags = 0;
}

/* access_tracker's values for cslide: auto and the per-page trackers (it places each page itself). */
#define TRACKER_ROW(name, kind, ops) TRACKER_ROW_##kind(name)
#define TRACKER_ROW_tracker(name) { #name, ETM_BACKEND_ID_##name },
#define TRACKER_ROW_reclaimer(name)
/* clang-format off */
static const struct etm_key_enum trackers[] = {
	{ ETM_BACKEND_AUTO, 0 },
	ETM_BACKENDS(TRACKER_ROW)
	{ NULL, 0 },
};
/* clang-format on */
#undef TRACKER_ROW
#undef TRACKER_ROW_tracker
#undef TRACKER_ROW_reclaimer

#define TP struct cslide_task_params

static const struct etm_key task_rows[] = {
	{ .name = "vm_flags",
	  .type = ETM_KEY_CUSTOM,
	  .parse = vm_flags_key,
	  .free = vm_flags_free,
	  .range_doc = "\\fBht\\fP",
	  .doc = "Scan only mappings with these VmFlags: hugetlb (ht) only today." },
	{ .name = "anon_only",
	  .type = ETM_KEY_YESNO,
	  .def = "no",
	  .offset = ETM_KEY_AT(TP, anon_only, bool),
	  .doc = "Scan anonymous memory only." },
	{ .name = "ign_host",
	  .type = ETM_KEY_YESNO,
	  .def = "no",
	  .offset = ETM_KEY_AT(TP, ign_host, bool),
	  .doc = "Ignore accesses made by the host when scanning a virtual machine." },
	{ .name = "access_tracker",
	  .type = ETM_KEY_ENUM,
	  .max = 32,
	  .values = trackers,
	  .def = "auto",
	  .offset = ETM_KEY_AT(TP, tracker, int),
	  .doc = "How page accesses are observed: a per-page tracker (see slide's), auto the first the kernel "
		 "offers; with vm_flags=ht one that sees hugetlb pages (not page_idle)." },
};

#undef TP

const struct etm_key_table cslide_task_keys = {
	.group = ETM_SECTION_TASK,
	.title = "cslide task keys",
	.keys = task_rows,
	.n_keys = G_N_ELEMENTS(task_rows),
	.params_size = sizeof(struct cslide_task_params),
};

const struct etm_engine_type etm_cslide_engine = {
	.name = "cslide",
	.type = CSLIDE_ENGINE,
	.scan_type = PAGE_SCAN,
	.ops = &cslide_engine_ops,
	.engine_keys = &cslide_engine_keys,
	.task_keys = &cslide_task_keys,
	.parse_engine = cslide_parse_engine,
	.task_figures = cslide_task_figures,
	.cmds = cslide_cmds,
};
