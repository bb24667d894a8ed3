/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Event resolution and refusal reasons, in the build with libpfm4
 * (test_pmu_event) and without it (test_pmu_event_nopfm, the same file
 * linked against the library built without ETM_HAVE_LIBPFM), and the CPU
 * list parser. The checks that open events run on the calling thread
 * (any user may sample its own page faults).
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

#include "scan/pmu_event.h"
#include "scan/pmu_sampler.h"

static char why[2048];

static bool have_cpu_pmu(void)
{
	return !access("/sys/bus/event_source/devices/cpu", F_OK) ||
	       !access("/sys/bus/event_source/devices/cpu_core", F_OK) ||
	       !access("/sys/bus/event_source/devices/armv8_pmuv3_0", F_OK);
}

static void test_software(void **state)
{
	struct etm_pmu_events e;
	char d[512];

	(void)state;
	assert_int_equal(etm_pmu_events_resolve("page-faults", &e, why, sizeof(why)), 0);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.ev[0].attr.type, PERF_TYPE_SOFTWARE);
	assert_int_equal(e.ev[0].attr.config, PERF_COUNT_SW_PAGE_FAULTS);
	assert_true(e.ev[0].software);
	assert_int_equal(etm_pmu_events_resolve("minor-faults,major-faults", &e, why, sizeof(why)), 0);
	assert_int_equal(e.n, 2);
	assert_int_equal(e.ev[1].attr.config, PERF_COUNT_SW_PAGE_FAULTS_MAJ);
	/* opened on ourselves: software events need no PMU and no privilege */
	assert_int_equal(etm_pmu_events_choose("page-faults", 1, &e, why, sizeof(why)), 0);
	assert_int_equal(e.ev[0].attr.precise_ip, 0);
	assert_int_equal(etm_pmu_events_describe(&e, d, sizeof(d)), 0);
	assert_non_null(strstr(d, "page-faults [software:page-faults] type 1 config 0x2 precise_ip 0"));
	assert_int_equal(etm_pmu_events_describe(&e, d, 8), -ENOSPC);
}

static void test_bad_values(void **state)
{
	struct etm_pmu_events e;
	char longname[600];

	(void)state;
	assert_int_equal(etm_pmu_events_resolve("", &e, why, sizeof(why)), -EINVAL);
	assert_int_equal(etm_pmu_events_resolve(",", &e, why, sizeof(why)), -EINVAL);
	assert_int_equal(etm_pmu_events_resolve("page-faults,page-faults,page-faults", &e, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "at most 2 events"));
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(etm_pmu_events_resolve(longname, &e, why, sizeof(why)), -EINVAL);
	assert_int_equal(etm_pmu_events_choose("page-faults", 0, &e, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "sample_period"));
}

static void test_unknown_and_hardware_names(void **state)
{
	struct etm_pmu_events e;
	int rc;

	(void)state;
	rc = etm_pmu_events_resolve("NO_SUCH_EVENT_X", &e, why, sizeof(why));
	if (etm_pmu_have_libpfm()) {
		assert_int_equal(rc, -ENOENT);
		assert_non_null(strstr(why, "event NO_SUCH_EVENT_X: not known to libpfm4"));
		/* a software event without a data address */
		assert_int_equal(etm_pmu_events_resolve("cpu-clock", &e, why, sizeof(why)), -ENOTSUP);
		assert_non_null(strstr(why, "event cpu-clock: a software event that carries no data address"));
	} else {
		assert_int_equal(rc, -ENOTSUP);
		assert_non_null(strstr(why, "event NO_SUCH_EVENT_X: etmem was built without libpfm4"));
		assert_int_equal(etm_pmu_events_resolve("MEM_INST_RETIRED.ALL_LOADS", &e, why, sizeof(why)), -ENOTSUP);
		assert_non_null(strstr(why, "built without libpfm4"));
	}
}

/*
 * LIBPFM_FORCE_PMU=skl (set by main before libpfm4 initialises, with
 * --force-skl: it hides every other libpfm4 PMU, so it gets a process of
 * its own) makes libpfm4 encode Skylake events on any x86 host: the
 * encodings are checked even where no Intel PMU exists; opening them then
 * fails with a reason.
 */
static void test_intel_encodings(void **state)
{
#if defined(__x86_64__)
	struct etm_pmu_events e;
	int rc;

	(void)state;
	if (!etm_pmu_have_libpfm())
		skip();
	rc = etm_pmu_events_resolve("MEM_INST_RETIRED.ALL_LOADS,MEM_INST_RETIRED.ALL_STORES", &e, why, sizeof(why));
	assert_int_equal(rc, 0);
	assert_int_equal(e.ev[0].attr.type, PERF_TYPE_RAW);
	assert_int_equal(e.ev[0].attr.config, 0x81d0);
	assert_int_equal(e.ev[1].attr.config, 0x82d0);
	assert_int_equal(e.ev[0].precise_min, 1); /* no data address without PEBS */
	assert_non_null(strstr(e.ev[0].encoding, "MEM_INST_RETIRED:ALL_LOADS"));
	rc = etm_pmu_events_check(&e, 5000, why, sizeof(why));
	if (!have_cpu_pmu()) {
		assert_int_equal(rc, -ENOTSUP);
		assert_non_null(strstr(why, "event MEM_INST_RETIRED.ALL_LOADS: no PMU for it"));
		assert_non_null(strstr(why, "the kernel's PMUs:"));
	} else if (rc) {
		/* a PMU that is not Skylake's, or one without PEBS (a VM): refused with a reason */
		assert_true(strstr(why, "no precise sampling") || strstr(why, "perf_event_open") ||
			    strstr(why, "no PMU"));
	} else {
		assert_true(e.ev[0].attr.precise_ip >= 1);
	}
#else
	(void)state;
	skip();
#endif
}

/* No pmu_event: the architecture's candidates, each with its reason when none works. */
static void test_default_choice(void **state)
{
	struct etm_pmu_events e;
	int rc = etm_pmu_events_choose(NULL, 5000, &e, why, sizeof(why));

	(void)state;
	if (!rc) {
		assert_true(e.n >= 1);
		assert_false(e.ev[0].software);
		return;
	}
	assert_non_null(strstr(why, "pmu_event=page-faults samples page faults instead"));
#if defined(__x86_64__)
	assert_non_null(strstr(why, "event MEM_INST_RETIRED.ALL_LOADS: "));
	assert_non_null(strstr(why, "event ibs_op: "));
#endif
	if (!etm_pmu_have_libpfm())
		assert_non_null(strstr(why, "built without libpfm4"));
}

static void test_cpulist(void **state)
{
	int cpus[8];
	size_t n;

	(void)state;
	assert_int_equal(etm_pmu_parse_cpulist("0-1\n", cpus, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(etm_pmu_parse_cpulist("0,2-4,7", cpus, 8, &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(cpus[1], 2);
	assert_int_equal(cpus[4], 7);
	assert_int_equal(etm_pmu_parse_cpulist("0-8", cpus, 8, &n), -E2BIG);
	assert_int_equal(etm_pmu_parse_cpulist("3-1", cpus, 8, &n), -EINVAL);
	assert_int_equal(etm_pmu_parse_cpulist("1,0", cpus, 8, &n), -EINVAL);
	assert_int_equal(etm_pmu_parse_cpulist("", cpus, 8, &n), -EINVAL);
	assert_int_equal(etm_pmu_parse_cpulist("a", cpus, 8, &n), -EINVAL);
	assert_int_equal(etm_pmu_parse_cpulist("1;2", cpus, 8, &n), -EINVAL);
	assert_int_equal(etm_pmu_parse_cpulist("-1", cpus, 8, &n), -EINVAL);
	assert_int_equal(etm_pmu_parse_cpulist("99999", cpus, 8, &n), -EINVAL);
}

/* The sampler refuses bad settings before touching perf. */
static void test_sampler_conf(void **state)
{
	struct etm_pmu_conf c = { .event = "page-faults", .sample_period = 1, .cpu_set_size = 1 };
	struct etm_pmu_sampler *s = NULL;

	(void)state;
	c.ring_pages = 3;
	assert_int_equal(etm_pmu_sampler_new(&c, &s, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "ring_pages=3"));
	c.ring_pages = 0;
	c.cpu_set_size = 0;
	assert_int_equal(etm_pmu_sampler_new(&c, &s, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "cpu_set_size=0"));
	c.cpu_set_size = 1;
	c.sample_weight = 300;
	assert_int_equal(etm_pmu_sampler_new(&c, &s, why, sizeof(why)), -EINVAL);
	assert_null(s);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_software),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_unknown_and_hardware_names),
		cmocka_unit_test(test_default_choice),
		cmocka_unit_test(test_cpulist),
		cmocka_unit_test(test_sampler_conf),
	};
	const struct CMUnitTest skl[] = {
		cmocka_unit_test(test_intel_encodings),
	};

	if (argc == 2 && !strcmp(argv[1], "--force-skl")) {
		setenv("LIBPFM_FORCE_PMU", "skl", 1);
		return cmocka_run_group_tests(skl, NULL, NULL);
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
