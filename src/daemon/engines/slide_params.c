/* SPDX-License-Identifier: MulanPSL-2.0 */
/* The slide engine's task keys and the PMU keys (see slide_params.h). */
#include "slide_params.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon/engine.h"
#include "scan/backend.h"

/* access_tracker's values: auto, then the scan library's backends, named and ordered there (scan/backend.h). */
#define TRACKER_ROW(name, kind, ops) { #name, ETM_BACKEND_ID_##name },
/* (clang-format would take the row-generating macro for a call) */
/* clang-format off */
static const struct etm_key_enum trackers[] = {
	{ ETM_BACKEND_AUTO, SLIDE_TRACKER_AUTO },
	ETM_BACKENDS(TRACKER_ROW)
	{ NULL, 0 },
};
/* clang-format on */
#undef TRACKER_ROW

const char *slide_tracker_name(int t)
{
	for (const struct etm_key_enum *e = trackers; e->name; e++) {
		if (e->value == t)
			return e->name;
	}
	return "?";
}

/* swap_threshold=<N>g|G, the spec's only unit: 1..SLIDE_SWAP_THRESHOLD_MAX_G GiB, in bytes. */
static int swap_threshold_key(struct etm_conf *conf, const char *group, const struct etm_key *k, void *params,
			      const void *ctx)
{
	g_autofree char *v = g_key_file_get_value(conf->kf, group, k->name, NULL);
	guint64 g = 0;
	size_t len;

	(void)ctx;
	if (!v)
		return -ENOENT;
	len = strlen(g_strchomp(v));
	/* Digits only, no sign, no leading zero, then g or G. */
	if (len >= 2 && len <= 8 && (v[len - 1] == 'g' || v[len - 1] == 'G') && v[0] != '0' && v[0] != '+') {
		g_autofree char *digits = g_strndup(v, len - 1);

		if (g_ascii_string_to_unsigned(digits, 10, 1, SLIDE_SWAP_THRESHOLD_MAX_G, &g, NULL)) {
			((struct slide_params *)params)->swap_threshold = (uint64_t)g << 30;
			return 0;
		}
	}
	return etm_conf_error(conf, group, k->name, v, "must be 1..%ld followed by g or G (the only unit), e.g. 10g",
			      SLIDE_SWAP_THRESHOLD_MAX_G);
}

/* T counts accesses over the loop scans of a cycle, up to three per scan. */
static long t_max(const void *params, const void *ctx)
{
	const struct etm_task_ctx *tc = ctx;

	(void)params;
	return (long)((const struct page_scan *)tc->proj->scan_param)->loop * 3;
}

static int slide_check(struct etm_conf *conf, const struct etm_key_table *t, void *params, const void *ctx,
		       uint64_t given)
{
	struct slide_params *sp = params;

	(void)ctx;
	if (etm_pmu_check(conf, t, given, "slide", &sp->pmu))
		return -EINVAL;
	/* The PMU keys choose the pmu tracker, and it needs them. */
	if (sp->pmu.enabled && sp->tracker != SLIDE_TRACKER_AUTO && sp->tracker != ETM_BACKEND_ID_pmu)
		return etm_conf_error(conf, t->group, "access_tracker", slide_tracker_name(sp->tracker),
				      "must be auto or pmu with the PMU keys (sample_period, vma_updata_rate, "
				      "cpu_set_size)");
	if (!sp->pmu.enabled && sp->tracker == ETM_BACKEND_ID_pmu)
		return etm_conf_error(conf, t->group, "access_tracker", "pmu",
				      "needs the PMU keys sample_period, vma_updata_rate and cpu_set_size");
	return 0;
}

#define SP struct slide_params

static const struct etm_key slide_keys[] = {
	{ .name = "T",
	  .type = ETM_KEY_INT,
	  .min = 0,
	  .max_fn = t_max,
	  .required = "for engine slide",
	  .offset = ETM_KEY_AT(SP, t, int),
	  .range_doc = "0..loop\\(mu3",
	  .doc = "Pages accessed fewer than T times in a cycle (of loop scans) are cold." },
	{ .name = "swap_threshold",
	  .type = ETM_KEY_CUSTOM,
	  .parse = swap_threshold_key,
	  .range_doc = "\\fIn\\fPg or \\fIn\\fPG, n 1..1048576 (GiB, the only unit)",
	  .doc = "Do not swap while the process uses less memory than this; used together with sysmem_threshold." },
	{ .name = "dram_percent",
	  .type = ETM_KEY_INT,
	  .min = 1,
	  .max = 100,
	  .offset = ETM_KEY_AT(SP, dram_percent, int),
	  .doc = "Keep this percentage of the process's memory (resident and swapped) in DRAM, coldest out first; "
		 "unset: off." },
	{ .name = "access_tracker",
	  .type = ETM_KEY_ENUM,
	  .max = 32,
	  .values = trackers,
	  .def = "auto",
	  .offset = ETM_KEY_AT(SP, tracker, int),
	  .doc = "How page accesses are observed (see below)." },
	{ .name = "memcg_shared",
	  .type = ETM_KEY_YESNO,
	  .def = "no",
	  .offset = ETM_KEY_AT(SP, memcg_shared, bool),
	  .doc = "With damon_paddr or memcg_lru, act on the task's memory cgroups even when they hold processes "
		 "that are not the task's (see below)." },
	ETM_PMU_KEYS(SP, pmu),
};

#undef SP

const struct etm_key_table slide_task_keys = {
	.group = ETM_SECTION_TASK,
	.title = "slide task keys",
	.intro = "slide swaps out pages of the process (and its descendants) that were accessed fewer than "
		 "\\fBT\\fP times in a cycle.",
	.keys = slide_keys,
	.n_keys = G_N_ELEMENTS(slide_keys),
	.params_size = sizeof(struct slide_params),
	.check = slide_check,
};

int slide_parse_task(struct etm_conf *conf, const struct etm_task_ctx *ctx, void **params)
{
	const struct project *proj = ctx ? ctx->proj : NULL;
	int rc;

	*params = NULL;
	if (!proj || proj->type != PAGE_SCAN || !proj->scan_param)
		return etm_conf_error(conf, ETM_SECTION_TASK, NULL, NULL,
				      "engine slide needs its project (scan_type=page) to be known");
	*params = etm_keys_parse_new(conf, &slide_task_keys, ctx, &rc);
	return rc;
}
