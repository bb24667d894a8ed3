/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * psi engine: key parsing. Its targets are cgroups (cg_dir), not processes;
 * it has no runtime yet, hence no start_task.
 */
#include "psi.h"

#include <errno.h>
#include <string.h>

#include "daemon/config.h"
#include "daemon/engine.h"

#define TASK_GROUP "task"

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

static int get_double(struct etm_conf *conf, const char *key, double min, double max, bool min_excl, double *out)
{
	int rc = etm_conf_get_double(conf, TASK_GROUP, key, false, min, max, min_excl, out);

	return rc == -ENOENT ? 0 : rc;
}

static int get_bytes(struct etm_conf *conf, const char *key, long min, long max, uint64_t *out)
{
	long v = 0;
	int rc = etm_conf_get_int(conf, TASK_GROUP, key, false, min, max, &v);

	if (rc == -ENOENT)
		return 0;
	if (!rc)
		*out = (uint64_t)v;
	return rc;
}

static void params_free(struct psi_task_params *pp)
{
	if (!pp)
		return;
	g_free(pp->cg_dir);
	g_free(pp);
}

static int psi_fill_task_params(GKeyFile *config, struct task *tk)
{
	struct etm_conf fallback = { .path = (char *)"(config)", .kf = config, .err = NULL };
	struct etm_conf *conf = etm_conf_of_task(tk);
	struct psi_task_params *pp;
	const char *why;
	char rate[64];
	int rc;

	if (!conf || conf->kf != config)
		conf = &fallback;
	pp = g_new0(struct psi_task_params, 1);
	/* Defaults of the Chinese README. */
	pp->pressure = 0.1;
	pp->reclaim_rate = 0.05;
	pp->reclaim_rate_max = 0.5;
	pp->reclaim_rate_min = 0.01;
	pp->reclaim_max_bytes = 1ULL << 30;
	pp->limit_min_bytes = 0;
	pp->limit_min_ratio = 0.1;

	rc = etm_conf_get_str(conf, TASK_GROUP, "cg_dir", false, PSI_CG_DIR_MAX, &pp->cg_dir);
	if (rc == -ENOENT)
		rc = etm_conf_error(conf, TASK_GROUP, "cg_dir", NULL, "missing (required for engine psi)");
	if (rc)
		goto fail;
	why = psi_cg_dir_invalid(pp->cg_dir);
	if (why) {
		rc = etm_conf_error(conf, TASK_GROUP, "cg_dir", pp->cg_dir, "%s", why);
		goto fail;
	}
	if ((rc = get_double(conf, "pressure", 0, 100, true, &pp->pressure)) ||
	    (rc = get_double(conf, "reclaim_rate", 0, 1, true, &pp->reclaim_rate)) ||
	    (rc = get_double(conf, "reclaim_rate_max", 0, 1, true, &pp->reclaim_rate_max)) ||
	    (rc = get_double(conf, "reclaim_rate_min", 0, 1, true, &pp->reclaim_rate_min)) ||
	    (rc = get_bytes(conf, "reclaim_max_bytes", 1, (long)PSI_RECLAIM_MAX_BYTES_LIMIT, &pp->reclaim_max_bytes)) ||
	    (rc = get_bytes(conf, "limit_min_bytes", 0, (long)PSI_RECLAIM_MAX_BYTES_LIMIT, &pp->limit_min_bytes)) ||
	    (rc = get_double(conf, "limit_min_ratio", 0, 1, false, &pp->limit_min_ratio)))
		goto fail;
	if (pp->reclaim_rate_min > pp->reclaim_rate_max) {
		g_ascii_formatd(rate, sizeof(rate), "%g", pp->reclaim_rate_min);
		rc = etm_conf_error(conf, TASK_GROUP, "reclaim_rate_min", rate, "must not exceed reclaim_rate_max (%g)",
				    pp->reclaim_rate_max);
		goto fail;
	}
	if (pp->reclaim_rate < pp->reclaim_rate_min || pp->reclaim_rate > pp->reclaim_rate_max) {
		g_ascii_formatd(rate, sizeof(rate), "%g", pp->reclaim_rate);
		rc = etm_conf_error(conf, TASK_GROUP, "reclaim_rate", rate,
				    "must lie between reclaim_rate_min (%g) and reclaim_rate_max (%g)",
				    pp->reclaim_rate_min, pp->reclaim_rate_max);
		goto fail;
	}
	params_free(tk->params);
	tk->params = pp;
	return 0;
fail:
	params_free(pp);
	return rc ? rc : -EINVAL;
}

static void psi_clear_task_params(struct task *tk)
{
	if (!tk)
		return;
	params_free(tk->params);
	tk->params = NULL;
}

static const struct engine_ops psi_ops = {
	.fill_task_params = psi_fill_task_params, .clear_task_params = psi_clear_task_params,
	/* No start_task: the psi runtime comes later. */
};

const struct etm_engine_type etm_psi_engine = {
	.name = "psi",
	.type = PSI_FB_ENGINE,
	.scan_type = PSI_SCAN,
	.ops = &psi_ops,
};
