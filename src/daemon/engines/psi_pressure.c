/* SPDX-License-Identifier: MulanPSL-2.0 */
/* psi engine: pressure file parsing (psi_pressure.h). */
#include "psi_pressure.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scan/memcg.h"
#include "scan/parse.h"
#include "scan/procfs.h"

/* At most this many digits after the point: the kernel prints two. */
#define AVG_FRAC_MAX 6

/*
 * A percentage "D[.F]" filling [p, end) exactly: 1-3 integer digits, at most
 * AVG_FRAC_MAX fraction digits, value <= 100. Hand-parsed rather than
 * strtod: that one takes "nan", "inf", hex and exponents, and the locale's
 * decimal point.
 */
static int parse_avg(const char *p, const char *end, double *out)
{
	uint64_t ip = 0, fp = 0, scale = 1;
	const char *dot = memchr(p, '.', (size_t)(end - p));
	const char *ie = dot ? dot : end;

	if (ie == p || ie - p > 3 || (dot && (end - dot - 1 < 1 || end - dot - 1 > AVG_FRAC_MAX)))
		return -EINVAL;
	for (const char *q = p; q < ie; q++) {
		if (*q < '0' || *q > '9')
			return -EINVAL;
		ip = ip * 10 + (uint64_t)(*q - '0');
	}
	for (const char *q = dot ? dot + 1 : end; q < end; q++) {
		if (*q < '0' || *q > '9')
			return -EINVAL;
		fp = fp * 10 + (uint64_t)(*q - '0');
		scale *= 10;
	}
	*out = (double)ip + (double)fp / (double)scale;
	return *out > 100.0 ? -EINVAL : 0;
}

/* A whole decimal field [p, end): etm_parse_u64 must consume all of it. */
static int parse_total(const char *p, const char *end, uint64_t *out)
{
	return etm_parse_u64(&p, end, out) || p != end ? -EINVAL : 0;
}

enum { K_AVG10, K_AVG60, K_AVG300, K_TOTAL, K_N };
static const char *const keys[K_N] = { "avg10", "avg60", "avg300", "total" };

/* One "key=value" field of a some/full line into @l; @seen marks the keys met. */
static int parse_field(const char *p, const char *end, struct psi_pressure_line *l, unsigned *seen)
{
	const char *eq = memchr(p, '=', (size_t)(end - p));
	double *avg[] = { &l->avg10, &l->avg60, &l->avg300 };

	if (!eq)
		return -EINVAL;
	for (unsigned k = 0; k < K_N; k++) {
		if (strlen(keys[k]) != (size_t)(eq - p) || memcmp(p, keys[k], (size_t)(eq - p)))
			continue;
		if (*seen & (1u << k))
			return -EINVAL;
		*seen |= 1u << k;
		return k == K_TOTAL ? parse_total(eq + 1, end, &l->total) : parse_avg(eq + 1, end, avg[k]);
	}
	return -EINVAL;
}

/* The fields after "some"/"full": single spaces between, no trailing junk. */
static int parse_line(const char *p, const char *end, struct psi_pressure_line *l)
{
	unsigned seen = 0;

	memset(l, 0, sizeof(*l));
	while (p < end) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		const char *fe = sp ? sp : end;
		int err = parse_field(p, fe, l, &seen);

		if (err)
			return err;
		p = sp ? sp + 1 : end;
	}
	return seen == (1u << K_N) - 1 ? 0 : -EINVAL;
}

int psi_pressure_parse(const char *buf, size_t len, struct psi_pressure *out)
{
	const char *p = buf, *end = buf + len;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		bool some = le - p > 5 && !memcmp(p, "some ", 5), full = le - p > 5 && !memcmp(p, "full ", 5);
		bool *has = some ? &out->has_some : &out->has_full;

		if (some || full) {
			if (*has || parse_line(p + 5, le, some ? &out->some : &out->full))
				return -EINVAL;
			*has = true;
		}
		p = le + 1;
	}
	return out->has_some ? 0 : -EINVAL;
}

int psi_pressure_read(const char *path, struct psi_pressure *out)
{
	char *buf;
	size_t len;
	int err = etm_read_file(path, &buf, &len, PSI_PRESSURE_FILE_MAX);

	if (err)
		return err;
	err = psi_pressure_parse(buf, len, out);
	free(buf);
	return err;
}

int psi_pressure_read_cg(const struct etm_memcg_dir *d, struct psi_pressure *out)
{
	char *buf;
	size_t len;
	int err = etm_memcg_read_text(d, "memory.pressure", &buf, &len, PSI_PRESSURE_FILE_MAX);

	if (err)
		return err;
	err = psi_pressure_parse(buf, len, out);
	free(buf);
	return err;
}

const char *psi_source_name(enum psi_source s)
{
	static const char *const names[PSI_SRC_NSOURCES] = {
		[PSI_SRC_OWN] = "memory.pressure",
		[PSI_SRC_CPUACCT] = "cpuacct memory.pressure",
		[PSI_SRC_TWIN] = "cgroup2 twin",
		[PSI_SRC_SYSTEM_NO_TWIN] = "system (no twin)",
		[PSI_SRC_SYSTEM_TWIN_DIFF] = "system (twin holds other processes)",
	};

	return (unsigned)s < PSI_SRC_NSOURCES ? names[s] : "?";
}

double psi_pressure_level(const struct psi_pressure *p)
{
	return p->some.avg10 > p->some.avg60 ? p->some.avg10 : p->some.avg60;
}
