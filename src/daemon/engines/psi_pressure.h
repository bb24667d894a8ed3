/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * psi engine: memory pressure files. One format everywhere the kernel
 * offers memory PSI: cgroup2's memory.pressure, the system-wide
 * /proc/pressure/memory, and openEuler's cgroup v1 cpuacct memory.pressure
 * (psi_v1=1):
 *
 *	some avg10=0.12 avg60=0.05 avg300=0.01 total=123456
 *	full avg10=0.00 avg60=0.00 avg300=0.00 total=7890
 *
 * avgN are the percentages of wall time some (all) non-idle tasks stalled on
 * memory over the last N seconds, "%lu.%02lu"; total is the cumulative stall
 * in microseconds.
 */
#ifndef ETM_PSI_PRESSURE_H
#define ETM_PSI_PRESSURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct etm_memcg_dir;

/* Two lines of ~70 bytes; a file far longer than this is not a pressure file. */
#define PSI_PRESSURE_FILE_MAX 4096

struct psi_pressure_line {
	double avg10, avg60, avg300; /* percent, 0..100 */
	uint64_t total;		     /* microseconds stalled since boot (or the cgroup's creation) */
};

struct psi_pressure {
	bool has_some, has_full;
	struct psi_pressure_line some, full;
};

/*
 * Parse the text of a pressure file. Lines other than "some" and "full" are
 * ignored (a later kernel may add some); a "some" or "full" line must carry
 * exactly avg10, avg60, avg300 and total, each once, in any order, the
 * averages plain decimals within 0..100 (no sign, exponent, "nan" or "inf").
 * 0; -EINVAL when a some/full line is malformed or repeated, or there is no
 * "some" line (the one the engine needs).
 */
int psi_pressure_parse(const char *buf, size_t len, struct psi_pressure *out);

/* Read and parse the pressure file @path: 0 or -errno (-EINVAL: not a pressure file). */
int psi_pressure_read(const char *path, struct psi_pressure *out);
/* The same of a cgroup's memory.pressure, opened through the memcg layer's confined walk. */
int psi_pressure_read_cg(const struct etm_memcg_dir *d, struct psi_pressure *out);

/* Where a cgroup's pressure figure came from. */
enum psi_source {
	PSI_SRC_OWN,		  /* its own memory.pressure (cgroup2) */
	PSI_SRC_CPUACCT,	  /* the same cgroup in the v1 cpuacct hierarchy (openEuler psi_v1) */
	PSI_SRC_TWIN,		  /* its twin in the cgroup2 hierarchy, holding the same processes */
	PSI_SRC_SYSTEM_NO_TWIN,	  /* /proc/pressure/memory: no cgroup of that name to read */
	PSI_SRC_SYSTEM_TWIN_DIFF, /* /proc/pressure/memory: the twin lacks some of the cgroup's processes */
	PSI_SRC_NSOURCES,
};

/* For project show: "memory.pressure", "cpuacct memory.pressure", "cgroup2 twin", "system (no twin)", ... */
const char *psi_source_name(enum psi_source s);

/* The engine's pressure figure: max(some avg10, some avg60), as the original's. */
double psi_pressure_level(const struct psi_pressure *p);

#endif
