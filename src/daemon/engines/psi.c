/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * psi engine: its keys and its type. Its targets are cgroups (cg_dir), not
 * processes. Rows, cg_dir's own parser, and the kernel check at `obj add`;
 * the runtime is psi_run.c's (psi_rt.h).
 */
#include "psi.h"

#include <errno.h>
#include <string.h>

#include "daemon/config.h"
#include "daemon/engine.h"
#include "daemon/keys.h"
#include "psi_backend.h"
#include "psi_rt.h"

const char *psi_cg_dir_invalid(const char *v)
{
	size_t len;

	if (!v || !*v)
		return "empty";
	len = strlen(v);
	if (len > PSI_CG_DIR_MAX)
		return "too long, at most 64 characters";
	if (v[0] == '/')
		return "must be relative to the cgroup mount, not absolute";
	for (const char *p = v; *p; p++) {
		/* Path characters plus the glob's * ? [ ] { } , */
		if (!g_ascii_isalnum(*p) && !strchr("._-/*?[]{},:@+=", *p))
			return "allowed characters are A-Z a-z 0-9 . _ - / : @ + = and the glob characters * ? [ ] { } "
			       ",";
	}
	/* No way out of the cgroup tree: reject ".." as a path component. */
	for (const char *p = v; p;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return "must not contain a \"..\" component";
		p = slash ? slash + 1 : NULL;
	}
	return NULL;
}

/* cg_dir: a glob of cgroups below the cgroup mount, checked by psi_cg_dir_invalid(). */
static int cg_dir_key(struct etm_conf *conf, const char *group, const struct etm_key *k, void *params, const void *ctx)
{
	struct psi_task_params *pp = params;
	const char *why;
	int rc;

	(void)ctx;
	rc = etm_conf_get_str(conf, group, k->name, false, PSI_CG_DIR_MAX, &pp->cg_dir);
	if (rc)
		return rc;
	why = psi_cg_dir_invalid(pp->cg_dir);
	return why ? etm_conf_error(conf, group, k->name, pp->cg_dir, "%s", why) : 0;
}

static void cg_dir_free(const struct etm_key *k, void *params)
{
	(void)k;
	g_clear_pointer(&((struct psi_task_params *)params)->cg_dir, g_free);
}

/* The adaptive rate starts between its bounds, and the bounds are in order. */
static int psi_check(struct etm_conf *conf, const struct etm_key_table *t, void *params, const void *ctx,
		     uint64_t given)
{
	struct psi_task_params *pp = params;
	char rate[64];

	(void)t, (void)ctx, (void)given;
	if (pp->reclaim_rate_min > pp->reclaim_rate_max) {
		g_ascii_formatd(rate, sizeof(rate), "%g", pp->reclaim_rate_min);
		return etm_conf_error(conf, ETM_SECTION_TASK, "reclaim_rate_min", rate,
				      "must not exceed reclaim_rate_max (%g)", pp->reclaim_rate_max);
	}
	if (pp->reclaim_rate < pp->reclaim_rate_min || pp->reclaim_rate > pp->reclaim_rate_max) {
		g_ascii_formatd(rate, sizeof(rate), "%g", pp->reclaim_rate);
		return etm_conf_error(conf, ETM_SECTION_TASK, "reclaim_rate", rate,
				      "must lie between reclaim_rate_min (%g) and reclaim_rate_max (%g)",
				      pp->reclaim_rate_min, pp->reclaim_rate_max);
	}
	return 0;
}

#define PP struct psi_task_params
#define RATE_ROW(member, d, what)                                                                                      \
	{                                                                                                              \
		.name = #member, .type = ETM_KEY_DOUBLE, .dmin = 0, .dmax = 1, .dmin_excl = true, .def = d,            \
		.offset = ETM_KEY_AT(PP, member, double), .doc = what                                                  \
	}
#define BYTES_ROW(member, lo, d, what)                                                                                 \
	{                                                                                                              \
		.name = #member, .type = ETM_KEY_U64, .min = lo, .max = (int64_t)PSI_RECLAIM_MAX_BYTES_LIMIT,          \
		.def = d, .offset = ETM_KEY_AT(PP, member, uint64_t), .doc = what                                      \
	}

/* Defaults of the Chinese README. */
static const struct etm_key psi_rows[] = {
	{ .name = "cg_dir",
	  .type = ETM_KEY_CUSTOM,
	  .required = "for engine psi",
	  .parse = cg_dir_key,
	  .free = cg_dir_free,
	  .range_doc = "at most 64 bytes, no \\(dq..\\(dq",
	  .doc = "The cgroup, relative to the cgroup mount; a glob such as \\fBisulad/*\\fP names every matching "
		 "cgroup." },
	{ .name = "pressure",
	  .type = ETM_KEY_DOUBLE,
	  .dmin = 0,
	  .dmax = 100,
	  .dmin_excl = true,
	  .def = "0.1",
	  .offset = ETM_KEY_AT(PP, pressure, double),
	  .doc = "Allowed memory pressure (PSI memory \\(dqsome\\(dq avg10/avg60)." },
	RATE_ROW(reclaim_rate, "0.05", "Fraction of the reclaimable memory reclaimed per round, to start with."),
	RATE_ROW(reclaim_rate_max, "0.5", "The adaptive rate never rises above this."),
	RATE_ROW(reclaim_rate_min, "0.01", "The adaptive rate never falls below this."),
	BYTES_ROW(reclaim_max_bytes, 1, "1073741824", "At most this many bytes per cgroup and round."),
	BYTES_ROW(limit_min_bytes, 0, "0", "Never reclaim a cgroup below this usage."),
	{ .name = "limit_min_ratio",
	  .type = ETM_KEY_DOUBLE,
	  .dmin = 0,
	  .dmax = 1,
	  .def = "0.1",
	  .offset = ETM_KEY_AT(PP, limit_min_ratio, double),
	  .doc = "Never reclaim a cgroup below this fraction of its memory limit." },
};

#undef BYTES_ROW
#undef RATE_ROW
#undef PP

const struct etm_key_table psi_task_keys = {
	.group = ETM_SECTION_TASK,
	.title = "psi task keys",
	.intro = "psi reclaims memory of cgroups while their memory pressure stays low.",
	.keys = psi_rows,
	.n_keys = G_N_ELEMENTS(psi_rows),
	.params_size = sizeof(struct psi_task_params),
	.check = psi_check,
};

/*
 * [engine] name=psi has no keys of its own: adding it checks that the
 * kernel offers what psi needs (memory cgroups, PSI, a way to reclaim), so
 * a kernel without PSI is refused here with the boot option or config it
 * lacks, not at the first cycle. start_task detects again (the mounts may
 * have changed since).
 */
static int psi_parse_engine(struct etm_conf *conf, void **params)
{
	g_autoptr(GString) why = g_string_new(NULL);
	g_autoptr(psi_backend) b = psi_backend_detect(&psi_sys_host, why);

	*params = NULL;
	return b ? 0 : etm_conf_error(conf, ETM_SECTION_ENGINE, "name", "psi", "%s", why->str);
}

static void psi_free_engine(void *params)
{
	(void)params;
}

const struct etm_engine_type etm_psi_engine = {
	.name = "psi",
	.type = PSI_FB_ENGINE,
	.scan_type = PSI_SCAN,
	.ops = &psi_ops,
	.task_keys = &psi_task_keys,
	.parse_engine = psi_parse_engine,
	.free_engine = psi_free_engine,
	.task_figures = psi_task_figures,
	.cmds = psi_cmds,
};
