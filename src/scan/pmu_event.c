/* SPDX-License-Identifier: MulanPSL-2.0 */
/* perf event resolution and refusal reasons (see pmu_event.h). */
#include "scan/pmu_event.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef ETM_HAVE_LIBPFM
#include <perfmon/pfmlib_perf_event.h>
#include <pthread.h>
#endif

#define SYSFS_PMUS "/sys/bus/event_source/devices"

int etm_perf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd, unsigned long flags)
{
	return (int)syscall(SYS_perf_event_open, attr, pid, cpu, group_fd, flags);
}

/* The page-fault software events: the only ones whose samples carry a data address. */
static const struct {
	const char *name;
	uint64_t config;
} sw_events[] = {
	{ "page-faults", PERF_COUNT_SW_PAGE_FAULTS },
	{ "faults", PERF_COUNT_SW_PAGE_FAULTS },
	{ "minor-faults", PERF_COUNT_SW_PAGE_FAULTS_MIN },
	{ "major-faults", PERF_COUNT_SW_PAGE_FAULTS_MAJ },
};

/* Candidates when no pmu_event is given: loads and stores of one CPU family. */
struct candidate {
	const char *ev[ETM_PMU_MAX_EVENTS];
};
static const struct candidate defaults[] = {
#if defined(__x86_64__) || defined(__i386__)
	{ { "MEM_INST_RETIRED.ALL_LOADS", "MEM_INST_RETIRED.ALL_STORES" } },
	{ { "MEM_UOPS_RETIRED.ALL_LOADS", "MEM_UOPS_RETIRED.ALL_STORES" } },
	{ { "ibs_op", NULL } },
#elif defined(__aarch64__)
	{ { "MEM_ACCESS_RD", "MEM_ACCESS_WR" } },
#elif defined(__powerpc64__) || defined(__powerpc__)
	{ { "PM_MEM_READ", "PM_MEM_RWITM" } },
#else
	{ { NULL, NULL } },
#endif
};

bool etm_pmu_have_libpfm(void)
{
#ifdef ETM_HAVE_LIBPFM
	return true;
#else
	return false;
#endif
}

static void ev_init(struct etm_pmu_event *ev, const char *name)
{
	memset(ev, 0, sizeof(*ev));
	snprintf(ev->name, sizeof(ev->name), "%s", name);
	ev->attr.size = sizeof(ev->attr);
}

static bool resolve_software(const char *name, struct etm_pmu_event *ev)
{
	for (size_t i = 0; i < sizeof(sw_events) / sizeof(sw_events[0]); i++) {
		if (strcmp(name, sw_events[i].name))
			continue;
		ev_init(ev, name);
		snprintf(ev->encoding, sizeof(ev->encoding), "software:%s", sw_events[i].name);
		ev->attr.type = PERF_TYPE_SOFTWARE;
		ev->attr.config = sw_events[i].config;
		ev->software = true;
		return true;
	}
	return false;
}

/* A dynamic PMU that samples data addresses without libpfm4: AMD's IBS op unit. */
static int resolve_sysfs(const char *name, struct etm_pmu_event *ev, char *why, size_t len)
{
	char path[128];
	unsigned type;
	FILE *f;
	int n;

	if (strcmp(name, "ibs_op"))
		return 1;
	snprintf(path, sizeof(path), SYSFS_PMUS "/%s/type", name);
	f = fopen(path, "re");
	if (!f) {
		snprintf(why, len, "event %s: no PMU for it (%s missing: no AMD IBS here)", name, path);
		return -ENOENT;
	}
	n = fscanf(f, "%u", &type);
	fclose(f);
	if (n != 1) {
		snprintf(why, len, "event %s: unreadable %s", name, path);
		return -EIO;
	}
	ev_init(ev, name);
	snprintf(ev->encoding, sizeof(ev->encoding), "%s (sysfs PMU type %u)", name, type);
	ev->attr.type = type;
	return 0;
}

#ifdef ETM_HAVE_LIBPFM
static pthread_once_t pfm_once = PTHREAD_ONCE_INIT;
static int pfm_init_rc;

static void pfm_init(void)
{
	pfm_init_rc = pfm_initialize();
}

/* The first PMU libpfm4 found present (for refusal texts). */
static const char *pfm_present_pmu(char *name, size_t len)
{
	pfm_pmu_info_t pi;

	snprintf(name, len, "none");
	for (int p = 0; p < PFM_PMU_MAX; p++) {
		memset(&pi, 0, sizeof(pi));
		pi.size = sizeof(pi);
		if (pfm_get_pmu_info(p, &pi) == PFM_SUCCESS && pi.is_present && pi.type != PFM_PMU_TYPE_UNCORE &&
		    strncmp(pi.name, "perf", 4)) {
			snprintf(name, len, "%s", pi.name);
			break;
		}
	}
	return name;
}

static int resolve_pfm(const char *name, struct etm_pmu_event *ev, char *why, size_t len)
{
	pfm_perf_encode_arg_t arg;
	char *fstr = NULL, pmu[64];
	int rc;

	pthread_once(&pfm_once, pfm_init);
	if (pfm_init_rc != PFM_SUCCESS) {
		snprintf(why, len, "event %s: libpfm4 failed to initialise: %s", name, pfm_strerror(pfm_init_rc));
		return -ENOTSUP;
	}
	ev_init(ev, name);
	memset(&arg, 0, sizeof(arg));
	arg.attr = &ev->attr;
	arg.fstr = &fstr;
	arg.size = sizeof(arg);
	/* PLM3: user level only, the kernel's own accesses are not the target's pages. */
	rc = pfm_get_os_event_encoding(name, PFM_PLM3, PFM_OS_PERF_EVENT_EXT, &arg);
	if (rc != PFM_SUCCESS) {
		snprintf(why, len, "event %s: %s to libpfm4 on this CPU (PMU: %s)", name,
			 rc == PFM_ERR_NOTFOUND ? "not known" : pfm_strerror(rc), pfm_present_pmu(pmu, sizeof(pmu)));
		return -ENOENT;
	}
	snprintf(ev->encoding, sizeof(ev->encoding), "%s", fstr ? fstr : name);
	free(fstr);
	ev->attr.size = sizeof(ev->attr);
	return 0;
}
static bool sw_has_addr(uint64_t config)
{
	return config == PERF_COUNT_SW_PAGE_FAULTS || config == PERF_COUNT_SW_PAGE_FAULTS_MIN ||
	       config == PERF_COUNT_SW_PAGE_FAULTS_MAJ;
}

/* Refuse events whose samples cannot carry a data address. */
static int classify(struct etm_pmu_event *ev, char *why, size_t len)
{
	switch (ev->attr.type) {
	case PERF_TYPE_SOFTWARE:
		if (!sw_has_addr(ev->attr.config)) {
			snprintf(why, len,
				 "event %s: a software event that carries no data address (of the software events "
				 "only page-faults, minor-faults and major-faults do)",
				 ev->name);
			return -ENOTSUP;
		}
		ev->software = true;
		return 0;
	case PERF_TYPE_TRACEPOINT:
	case PERF_TYPE_BREAKPOINT:
		snprintf(why, len, "event %s: a %s carries no data address to count pages by", ev->name,
			 ev->attr.type == PERF_TYPE_TRACEPOINT ? "tracepoint" : "breakpoint");
		return -ENOTSUP;
	default:
#if defined(__x86_64__) || defined(__i386__)
		/* Intel fills the data address only from PEBS records. */
		if (ev->attr.type == PERF_TYPE_RAW)
			ev->precise_min = 1;
#endif
		return 0;
	}
}

#endif

static int resolve_one(const char *name, struct etm_pmu_event *ev, char *why, size_t len)
{
	int rc;

	if (resolve_software(name, ev))
		return 0;
	rc = resolve_sysfs(name, ev, why, len);
	if (rc <= 0)
		return rc;
#ifdef ETM_HAVE_LIBPFM
	rc = resolve_pfm(name, ev, why, len);
	if (rc)
		return rc;
	return classify(ev, why, len);
#else
	snprintf(why, len,
		 "event %s: etmem was built without libpfm4 (cmake -DENABLE_PMU=ON), so only the page-fault "
		 "software events (page-faults, minor-faults, major-faults) can be named",
		 name);
	return -ENOTSUP;
#endif
}

int etm_pmu_events_resolve(const char *want, struct etm_pmu_events *out, char *why, size_t len)
{
	char buf[512], *save = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!want || !*want || strlen(want) >= sizeof(buf)) {
		snprintf(why, len, "pmu_event: %s", want && *want ? "too long" : "empty");
		return -EINVAL;
	}
	/* "LOADS,STORES": at most two events, sampled together. */
	snprintf(buf, sizeof(buf), "%s", want);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (out->n == ETM_PMU_MAX_EVENTS) {
			snprintf(why, len, "pmu_event=%s: at most %d events", want, ETM_PMU_MAX_EVENTS);
			return -EINVAL;
		}
		rc = resolve_one(tok, &out->ev[out->n], why, len);
		if (rc)
			return rc;
		out->n++;
	}
	if (!out->n) {
		snprintf(why, len, "pmu_event=%s: no event named", want);
		return -EINVAL;
	}
	return 0;
}

void etm_pmu_event_attr(const struct etm_pmu_event *ev, uint64_t period, struct perf_event_attr *out)
{
	*out = ev->attr;
	out->size = sizeof(*out);
	out->sample_period = period;
	out->freq = 0;
	out->sample_type = ETM_PMU_SAMPLE_TYPE;
	out->exclude_kernel = !ev->kernel_by_address;
	out->exclude_hv = 1;
	out->exclude_callchain_kernel = 1;
}

/* The PMUs the kernel registered, for the "no PMU" refusal. */
static void list_pmus(char *buf, size_t len)
{
	DIR *d = opendir(SYSFS_PMUS);
	struct dirent *e;
	size_t used = 0;

	buf[0] = '\0';
	if (!d)
		return;
	while ((e = readdir(d)) && used + 1 < len) {
		int n;

		if (e->d_name[0] == '.')
			continue;
		n = snprintf(buf + used, len - used, "%s%s", used ? " " : "", e->d_name);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	closedir(d);
}

static int paranoid_level(void)
{
	FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "re");
	int v = -100;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -100;
		fclose(f);
	}
	return v;
}

/* Open @ev on the calling thread at precise level @p; the errno or 0. */
static int try_open(const struct etm_pmu_event *ev, uint64_t period, unsigned p, bool excl_kernel)
{
	struct perf_event_attr a;
	int fd;

	etm_pmu_event_attr(ev, period, &a);
	a.precise_ip = p;
	a.exclude_kernel = excl_kernel;
	a.disabled = 1;
	fd = etm_perf_event_open(&a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int refuse(const struct etm_pmu_event *ev, int err, bool imprecise_works, char *why, size_t len)
{
	char pmus[256];

	if (err == EACCES || err == EPERM) {
		snprintf(why, len,
			 "event %s: not permitted (perf_event_paranoid=%d; sampling other processes needs root or "
			 "CAP_PERFMON)",
			 ev->name, paranoid_level());
		return -EACCES;
	}
	if (imprecise_works) {
		snprintf(why, len,
			 "event %s: no precise sampling (precise_ip >= %u refused: no PEBS on this CPU or in this "
			 "VM), and imprecise samples carry no data address",
			 ev->name, ev->precise_min);
		return -ENOTSUP;
	}
	if (err == ENOENT || err == ENODEV || err == EOPNOTSUPP) {
		list_pmus(pmus, sizeof(pmus));
		snprintf(why, len, "event %s: no PMU for it (perf_event_open: %s; the kernel's PMUs: %s)", ev->name,
			 strerror(err), pmus[0] ? pmus : "none");
		return -ENOTSUP;
	}
	snprintf(why, len, "event %s: perf_event_open: %s", ev->name, strerror(err));
	return -err;
}

/* Find the highest precise_ip that works for one event, from 3 down to its minimum. */
static int check_one(struct etm_pmu_event *ev, uint64_t period, char *why, size_t len)
{
	unsigned top = ev->software ? 0 : 3;
	int err = 0;

	for (int pass = 0; pass < 2; pass++) {
		bool excl = pass == 0;

		for (int p = (int)top; p >= (int)ev->precise_min; p--) {
			err = try_open(ev, period, (unsigned)p, excl);
			if (!err) {
				ev->attr.precise_ip = (unsigned)p;
				ev->kernel_by_address = !excl;
				return 0;
			}
			if (err == EACCES || err == EPERM || err == ENOENT || err == ENODEV)
				break;
		}
		/* Some PMUs (IBS before Linux 6.14) cannot exclude the kernel: filter by address instead. */
		if (ev->software || err != EINVAL)
			break;
	}
	return refuse(ev, err, ev->precise_min && !try_open(ev, period, 0, true), why, len);
}

int etm_pmu_events_check(struct etm_pmu_events *e, uint64_t period, char *why, size_t len)
{
	if (!period) {
		snprintf(why, len, "sample_period: must be at least 1");
		return -EINVAL;
	}
	for (size_t i = 0; i < e->n; i++) {
		int rc = check_one(&e->ev[i], period, why, len);

		if (rc)
			return rc;
	}
	return 0;
}

/* Append "; " and @s to @why (bounded). */
static void append(char *why, size_t len, const char *s)
{
	size_t used = strlen(why);

	if (used + 3 < len)
		snprintf(why + used, len - used, "%s%s", used ? "; " : "", s);
}

static int choose_default(uint64_t period, struct etm_pmu_events *out, char *why, size_t len)
{
	char one[512], name[160];
	int rc = -ENOTSUP;

	why[0] = '\0';
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		const struct candidate *c = &defaults[i];

		if (!c->ev[0])
			break;
		snprintf(name, sizeof(name), "%s%s%s", c->ev[0], c->ev[1] ? "," : "", c->ev[1] ? c->ev[1] : "");
		rc = etm_pmu_events_resolve(name, out, one, sizeof(one));
		if (!rc)
			rc = etm_pmu_events_check(out, period, one, sizeof(one));
		if (!rc)
			return 0;
		append(why, len, one);
	}
	append(why, len,
	       "no memory-access event of this CPU can be sampled; pmu_event=page-faults samples page "
	       "faults instead");
	return rc;
}

int etm_pmu_events_choose(const char *want, uint64_t period, struct etm_pmu_events *out, char *why, size_t len)
{
	int rc;

	if (!want || !*want)
		return choose_default(period, out, why, len);
	rc = etm_pmu_events_resolve(want, out, why, len);
	return rc ? rc : etm_pmu_events_check(out, period, why, len);
}

int etm_pmu_events_describe(const struct etm_pmu_events *e, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < e->n; i++) {
		const struct etm_pmu_event *ev = &e->ev[i];
		int n =
		    snprintf(buf + used, len - used, "%s%s [%s] type %u config %#llx precise_ip %u%s", i ? "; " : "",
			     ev->name, ev->encoding, ev->attr.type, (unsigned long long)ev->attr.config,
			     ev->attr.precise_ip, ev->kernel_by_address ? " (kernel samples dropped by address)" : "");

		if (n < 0 || (size_t)n >= len - used)
			return -ENOSPC;
		used += (size_t)n;
	}
	return 0;
}
