/* SPDX-License-Identifier: MulanPSL-2.0 */
/* Parsing of the slide engine's task keys and of the PMU keys (see slide_params.h). */
#include "slide_params.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon/config.h"
#include "scan/backend.h"

#define TASK_GROUP "task"

const char *slide_tracker_name(enum slide_tracker t)
{
	if (t == SLIDE_TRACKER_AUTO)
		return ETM_BACKEND_AUTO;
	if ((size_t)t - 1 < etm_nbackends)
		return etm_backends[t - 1].name;
	return "?";
}

static long online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? n : 1;
}

int etm_pmu_conf_parse(struct etm_conf *conf, const char *group, bool with_cooling, const char *engine,
		       struct etm_pmu_params *out)
{
	static const char *const keys[] = { "sample_period", "vma_updata_rate", "cpu_set_size", "cooling_interval" };
	size_t nkeys = with_cooling ? 4 : 3;
	long vals[4] = { 0 };
	long ncpu = online_cpus();
	const char *given = NULL, *absent = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < nkeys; i++) {
		long min = i == 1 ? 0 : 1, max = i == 2 ? ncpu : INT_MAX;

		rc = etm_conf_get_int(conf, group, keys[i], false, min, max, &vals[i]);
		if (rc == -ENOENT) {
			absent = absent ? absent : keys[i];
			continue;
		}
		if (rc)
			return rc;
		given = given ? given : keys[i];
	}
	if (!given)
		return 0;
	if (absent)
		return etm_conf_error(
		    conf, group, absent, NULL, "missing (required by engine %s when %s is set: %s)", engine, given,
		    with_cooling ? "PMU sampling needs sample_period, vma_updata_rate, cpu_set_size "
				   "and cooling_interval"
				 : "PMU sampling needs sample_period, vma_updata_rate and cpu_set_size");
	if (ncpu % vals[2]) {
		char v[32];

		snprintf(v, sizeof(v), "%ld", vals[2]);
		return etm_conf_error(conf, group, "cpu_set_size", v, "must divide the CPU count (%ld)", ncpu);
	}
	out->enabled = true;
	out->sample_period = (int)vals[0];
	out->vma_updata_rate = (int)vals[1];
	out->cpu_set_size = (int)vals[2];
	out->cooling_interval = (int)vals[3];
	return 0;
}

/* swap_threshold=<N>g|G, the spec's only unit: 1..SLIDE_SWAP_THRESHOLD_MAX_G GiB, in bytes. */
static int parse_swap_threshold(struct etm_conf *conf, uint64_t *out)
{
	GError *gerr = NULL;
	char *v = g_key_file_get_value(conf->kf, TASK_GROUP, "swap_threshold", &gerr);
	size_t len;
	long g = 0;
	int rc = 0;

	if (!v) {
		g_clear_error(&gerr);
		return -ENOENT;
	}
	len = strlen(g_strchomp(v));
	/* Digits only (no sign, no leading zero tricks past 8 digits), then g or G. */
	if (len < 2 || len > 8 || (v[len - 1] != 'g' && v[len - 1] != 'G') || v[0] == '0')
		goto bad;
	for (size_t i = 0; i + 1 < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			goto bad;
		g = g * 10 + (v[i] - '0');
	}
	if (g < 1 || g > SLIDE_SWAP_THRESHOLD_MAX_G)
		goto bad;
	*out = (uint64_t)g << 30;
	g_free(v);
	return 0;
bad:
	rc = etm_conf_error(conf, TASK_GROUP, "swap_threshold", v,
			    "must be 1..%ld followed by g or G (the only unit), e.g. 10g", SLIDE_SWAP_THRESHOLD_MAX_G);
	g_free(v);
	return rc;
}

static int parse_tracker(struct etm_conf *conf, enum slide_tracker *out)
{
	const struct etm_backend *b;
	char *v = NULL, names[160];
	int rc = etm_conf_get_str(conf, TASK_GROUP, "access_tracker", false, 32, &v);

	if (rc)
		return rc == -ENOENT ? 0 : rc;
	/* the names and their order are the scan library's (scan/backend.h) */
	if (!strcmp(v, ETM_BACKEND_AUTO)) {
		*out = SLIDE_TRACKER_AUTO;
	} else if ((b = etm_backend_find(v))) {
		*out = (enum slide_tracker)(b - etm_backends + 1);
	} else {
		etm_backend_names(names, sizeof(names), ", ", " or ");
		rc = etm_conf_error(conf, TASK_GROUP, "access_tracker", v, "must be %s", names);
	}
	g_free(v);
	return rc;
}

int slide_fill_task_params(GKeyFile *config, struct task *tk)
{
	struct etm_conf fallback = { .path = (char *)"(config)", .kf = config, .err = NULL };
	struct etm_conf *conf = etm_conf_of_task(tk);
	struct slide_params *sp;
	struct project *proj;
	long t = 0, dram = 0;
	int loop, rc;

	/* Outside etm_conf_parse_task() (a direct call): parse, without messages. */
	if (!conf || conf->kf != config)
		conf = &fallback;
	proj = tk->eng ? tk->eng->proj : NULL;
	if (!proj || proj->type != PAGE_SCAN || !proj->scan_param)
		return etm_conf_error(conf, TASK_GROUP, NULL, NULL,
				      "engine slide needs its project (scan_type=page) to be known");
	loop = ((struct page_scan *)proj->scan_param)->loop;

	sp = g_new0(struct slide_params, 1);
	rc = etm_conf_get_int(conf, TASK_GROUP, "T", false, 0, (long)loop * 3, &t);
	if (rc == -ENOENT)
		rc = etm_conf_error(conf, TASK_GROUP, "T", NULL, "missing (required for engine slide)");
	if (rc)
		goto fail;
	sp->t = (int)t;
	rc = parse_swap_threshold(conf, &sp->swap_threshold);
	if (rc && rc != -ENOENT)
		goto fail;
	rc = etm_conf_get_int(conf, TASK_GROUP, "dram_percent", false, 1, 100, &dram);
	if (rc && rc != -ENOENT)
		goto fail;
	sp->dram_percent = (int)dram;
	rc = parse_tracker(conf, &sp->tracker);
	if (rc)
		goto fail;
	rc = etm_conf_get_yesno(conf, TASK_GROUP, "memcg_shared", false, &sp->memcg_shared);
	if (rc && rc != -ENOENT)
		goto fail;
	rc = etm_pmu_conf_parse(conf, TASK_GROUP, false, "slide", &sp->pmu);
	if (rc)
		goto fail;
	g_free(tk->params);
	tk->params = sp;
	return 0;
fail:
	g_free(sp);
	return rc ? rc : -EINVAL;
}

void slide_clear_task_params(struct task *tk)
{
	if (!tk)
		return;
	g_free(tk->params);
	tk->params = NULL;
}
