/* SPDX-License-Identifier: MulanPSL-2.0 */
/* The PMU keys shared by slide and cslide (see pmu_keys.h). */
#include "daemon/pmu_keys.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "scan/pmu_event.h"

/*
 * pmu_event's shape: one event name, or two joined by a comma (loads and
 * stores). Whether they exist and work here is the start's refusal.
 */
static int check_event(struct etm_conf *conf, const struct etm_key_table *t, const char *event)
{
	const char *comma = strchr(event, ',');

	if (event[0] != ',' && (!comma || (comma[1] && !strchr(comma + 1, ','))))
		return 0;
	return etm_conf_error(conf, t->group, "pmu_event", event,
			      "must be one event, or two joined by a comma (at most %d)", ETM_PMU_MAX_EVENTS);
}

int etm_pmu_check(struct etm_conf *conf, const struct etm_key_table *t, uint64_t given, const char *engine,
		  struct etm_pmu_params *pmu)
{
	static const char *const keys[] = { "sample_period", "vma_updata_rate", "cpu_set_size", "cooling_interval" };
	bool cooling = etm_keys_find(t, "cooling_interval") != NULL;
	const char *first_given = NULL, *first_absent = NULL;

	pmu->enabled = false;
	for (size_t i = 0; i < (cooling ? 4 : 3); i++) {
		if (etm_keys_given(t, given, keys[i]))
			first_given = first_given ? first_given : keys[i];
		else
			first_absent = first_absent ? first_absent : keys[i];
	}
	if (!first_given && pmu->event)
		first_given = "pmu_event";
	if (!first_given)
		return 0;
	if (first_absent)
		return etm_conf_error(
		    conf, t->group, first_absent, NULL, "missing (required by engine %s when %s is set: %s)", engine,
		    first_given,
		    cooling ? "PMU sampling needs sample_period, vma_updata_rate, cpu_set_size and cooling_interval"
			    : "PMU sampling needs sample_period, vma_updata_rate and cpu_set_size");
	if (pmu->event && check_event(conf, t, pmu->event))
		return -EINVAL;
	pmu->enabled = true;
	return 0;
}
