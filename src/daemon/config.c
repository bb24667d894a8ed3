/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Configuration files: the spec's file checks, strict key helpers, and the
 * [project]/[engine]/[task] parsers. Every rejection is one line naming the
 * file, the section, the key, the bad value and what would have been allowed,
 * because the administrator only ever sees that line in `etmem obj add`.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "common/escape.h"
#include "engine.h"
#include "target.h"

/* Values quoted in error messages are cut here: a 10 MiB value is no help. */
#define ERR_VALUE_MAX 64
#define PROJ_GROUP "project"
#define ENG_GROUP "engine"
#define TASK_GROUP "task"

/* ---------------------------------------------------------------- errors */

/* Quote @v printable: control bytes and non-ASCII as \xNN, cut at ERR_VALUE_MAX. */
static void append_value(GString *s, const char *v)
{
	char buf[ETM_ESCAPED_SIZE(ERR_VALUE_MAX)];

	etm_escape(buf, sizeof(buf), v, ERR_VALUE_MAX, true);
	g_string_append(s, buf);
}

int etm_conf_error(struct etm_conf *conf, const char *group, const char *key, const char *value, const char *fmt, ...)
{
	va_list ap;

	/* Keep the first error: later ones are usually its consequences. */
	if (!conf || !conf->err || conf->err->len)
		return -EINVAL;
	g_string_append_printf(conf->err, "config %s:", conf->path ? conf->path : "(unnamed)");
	if (group)
		g_string_append_printf(conf->err, " [%s]", group);
	if (key) {
		g_string_append_printf(conf->err, " %s", key);
		if (value) {
			g_string_append_c(conf->err, '=');
			append_value(conf->err, value);
		}
	}
	g_string_append(conf->err, ": ");
	va_start(ap, fmt);
	g_string_append_vprintf(conf->err, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* A file-level error (no conf yet): "config PATH: REASON". */
static int file_error(GString *err, const char *path, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int file_error(GString *err, const char *path, int rc, const char *fmt, ...)
{
	va_list ap;

	if (!err || err->len)
		return rc;
	g_string_append(err, "config ");
	append_value(err, path ? path : "(null)");
	g_string_append(err, ": ");
	va_start(ap, fmt);
	g_string_append_vprintf(err, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---------------------------------------------------------- file loading */

static struct etm_conf *conf_new(const char *name, GString *err)
{
	struct etm_conf *conf = g_new0(struct etm_conf, 1);

	conf->path = g_strdup(name);
	conf->kf = g_key_file_new();
	/*
	 * The caller's string collects the error so that it reaches the client
	 * as is; without one, the conf keeps its own.
	 */
	conf->err = err;
	conf->own_err = !err;
	if (!err)
		conf->err = g_string_new(NULL);
	return conf;
}

void etm_conf_free(struct etm_conf *conf)
{
	if (!conf)
		return;
	if (conf->own_err)
		g_string_free(conf->err, TRUE);
	if (conf->kf)
		g_key_file_free(conf->kf);
	g_free(conf->path);
	g_free(conf);
}

/*
 * The shape bounds (config.h), on the raw bytes, as GKeyFile will see them:
 * lines end at \n, leading blanks are skipped, '#' starts a comment, '['
 * a section, anything else is a key (or a syntax error GKeyFile reports).
 * Stops at the first bound passed, so a hostile file costs one pass.
 */
static int conf_prescan(const char *name, const char *data, size_t len, GString *err)
{
	const char *p = data, *end = data + len;
	size_t sections = 0, keys = 0, line = 1;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;

		if ((size_t)(le - p) > ETM_CONF_MAX_LINE)
			return file_error(err, name, -E2BIG,
					  "line %zu is longer than %d bytes (the longest line allowed)", line,
					  ETM_CONF_MAX_LINE);
		while (p < le && g_ascii_isspace(*p))
			p++;
		if (p < le && *p == '[' && ++sections > ETM_CONF_MAX_SECTIONS)
			return file_error(err, name, -E2BIG,
					  "more than %d sections (line %zu): a file holds one [project], [engine] "
					  "and [task]",
					  ETM_CONF_MAX_SECTIONS, line);
		if (p < le && *p != '[' && *p != '#' && ++keys > ETM_CONF_MAX_KEYS)
			return file_error(err, name, -E2BIG, "more than %d keys (line %zu)", ETM_CONF_MAX_KEYS, line);
		if (!nl)
			break;
		p = nl + 1;
		line++;
	}
	return 0;
}

int etm_conf_load_data(const char *name, const char *data, size_t len, struct etm_conf **out, GString *err)
{
	struct etm_conf *conf;
	GError *gerr = NULL;
	int rc;

	*out = NULL;
	if (!name || (!data && len))
		return file_error(err, name, -EINVAL, "no data");
	if (len > ETM_CONF_MAX_SIZE)
		return file_error(err, name, -EFBIG, "size %zu exceeds %d bytes", len, ETM_CONF_MAX_SIZE);
	/* GKeyFile stops at a NUL; a NUL in a text file is a mistake or an attack. */
	if (len && memchr(data, '\0', len))
		return file_error(err, name, -EINVAL, "contains a NUL byte, not a text file");
	if (len && (rc = conf_prescan(name, data, len, err)))
		return rc;
	conf = conf_new(name, err);
	if (!g_key_file_load_from_data(conf->kf, len ? data : "", len, G_KEY_FILE_NONE, &gerr)) {
		file_error(conf->err, name, -EINVAL, "cannot parse: %s", gerr->message);
		g_error_free(gerr);
		etm_conf_free(conf);
		return -EINVAL;
	}
	*out = conf;
	return 0;
}

static const char *file_type_name(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISLNK(m))
		return "a symbolic link";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

int etm_conf_load(const char *path, struct etm_conf **out, GString *err)
{
	enum { BUF_LEN = ETM_CONF_MAX_SIZE + 1 };
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, rc;

	*out = NULL;
	if (!path || path[0] != '/')
		return file_error(err, path, -EINVAL, "not an absolute path");
	if (strlen(path) >= PATH_MAX)
		return file_error(err, path, -ENAMETOOLONG, "path too long");
	/*
	 * Check and read the same inode: O_NOFOLLOW refuses a symlink as the
	 * last component, O_NONBLOCK keeps a FIFO from blocking the open, and
	 * everything after is fstat on this fd.
	 */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		if (errno == ELOOP)
			return file_error(err, path, rc, "is a symbolic link (not followed; give the real path)");
		return file_error(err, path, rc, "cannot open: %s", strerror(errno));
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		file_error(err, path, rc, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = file_error(err, path, S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL, "%s, must be a regular file",
				file_type_name(st.st_mode));
		goto out;
	}
	if (st.st_uid != 0 || st.st_gid != 0) {
		rc = file_error(err, path, -EPERM, "owner %u:%u not allowed (must be owned by root, 0:0)",
				(unsigned)st.st_uid, (unsigned)st.st_gid);
		goto out;
	}
	if ((st.st_mode & 07777) != 0600 && (st.st_mode & 07777) != 0400) {
		rc = file_error(err, path, -EPERM, "mode %04o not allowed (must be 0600 or 0400)",
				(unsigned)(st.st_mode & 07777));
		goto out;
	}
	if (st.st_size > ETM_CONF_MAX_SIZE) {
		rc = file_error(err, path, -EFBIG, "size %lld exceeds %d bytes (10 MiB)", (long long)st.st_size,
				ETM_CONF_MAX_SIZE);
		goto out;
	}
	/*
	 * One byte more than allowed, to notice a file that grew after fstat.
	 * Mapped, not malloc'ed: once glibc has freed one 10 MiB mmap'ed
	 * chunk it raises its mmap threshold, later buffers land on the
	 * client thread's arena and stay resident (malloc_trim does not give
	 * back an arena's top), ~10 MiB per arena.
	 */
	buf = mmap(NULL, BUF_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		buf = NULL;
		rc = file_error(err, path, -ENOMEM, "out of memory for a %d-byte buffer", BUF_LEN);
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, buf + got, BUF_LEN - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			file_error(err, path, rc, "cannot read: %s", strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
		if (got > ETM_CONF_MAX_SIZE) {
			rc = file_error(err, path, -EFBIG, "size exceeds %d bytes (10 MiB)", ETM_CONF_MAX_SIZE);
			goto out;
		}
	}
	rc = etm_conf_load_data(path, buf, got, out, err);
out:
	if (buf)
		munmap(buf, BUF_LEN);
	close(fd);
	return rc;
}

bool etm_conf_has_group(struct etm_conf *conf, const char *group)
{
	return conf && conf->kf && g_key_file_has_group(conf->kf, group);
}

/* ------------------------------------------------------------ key helpers */

/*
 * The raw value of @key (escapes not processed: numbers have none), or NULL
 * when the key or its group is absent. GKeyFile strips blanks before a value
 * but keeps them after it; like g_key_file_get_integer() we ignore those
 * invisible trailing blanks rather than reject "loop=1 ".
 */
static char *raw_value(struct etm_conf *conf, const char *group, const char *key)
{
	char *v;

	if (!conf || !conf->kf)
		return NULL;
	v = g_key_file_get_value(conf->kf, group, key, NULL);
	return v ? g_strchomp(v) : NULL;
}

static int missing(struct etm_conf *conf, const char *group, const char *key)
{
	return etm_conf_error(conf, group, key, NULL, "missing (required)");
}

/* Strict base-10: optional sign, digits only, no blanks, no overflow. */
static int parse_long(const char *s, long *out)
{
	const char *p = s;
	char *end;
	long v;

	if (*p == '+' || *p == '-')
		p++;
	if (!g_ascii_isdigit(*p))
		return -EINVAL;
	for (; *p; p++) {
		if (!g_ascii_isdigit(*p))
			return -EINVAL;
	}
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

int etm_conf_get_int(struct etm_conf *conf, const char *group, const char *key, bool required, long min, long max,
		     long *out)
{
	char *v = raw_value(conf, group, key);
	long n = 0;
	int rc;

	if (!v)
		return required ? missing(conf, group, key) : -ENOENT;
	rc = parse_long(v, &n);
	if (rc == -EINVAL)
		rc = etm_conf_error(conf, group, key, v, "not an integer, must be %ld..%ld", min, max);
	else if (rc == -ERANGE || n < min || n > max)
		rc = etm_conf_error(conf, group, key, v, "out of range, must be %ld..%ld", min, max);
	else
		*out = n;
	g_free(v);
	return rc;
}

/* Strict: decimal digits, point and exponent only (no hex, inf, nan, blanks). */
static int parse_double(const char *s, double *out)
{
	bool digit = false;
	char *end;
	double d;

	for (const char *p = s; *p; p++) {
		if (g_ascii_isdigit(*p))
			digit = true;
		else if (!strchr(".eE+-", *p))
			return -EINVAL;
	}
	if (!digit)
		return -EINVAL;
	errno = 0;
	d = g_ascii_strtod(s, &end);
	if (end == s || *end)
		return -EINVAL;
	if (errno == ERANGE || !isfinite(d))
		return -ERANGE;
	*out = d;
	return 0;
}

int etm_conf_get_double(struct etm_conf *conf, const char *group, const char *key, bool required, double min,
			double max, bool min_exclusive, double *out)
{
	char *v = raw_value(conf, group, key);
	char range[96];
	double d = 0;
	int rc;

	if (!v)
		return required ? missing(conf, group, key) : -ENOENT;
	if (min_exclusive)
		snprintf(range, sizeof(range), "greater than %g and at most %g", min, max);
	else
		snprintf(range, sizeof(range), "%g..%g", min, max);
	rc = parse_double(v, &d);
	if (rc == -EINVAL)
		rc = etm_conf_error(conf, group, key, v, "not a number, must be %s", range);
	else if (rc == -ERANGE || d < min || d > max || (min_exclusive && d == min))
		rc = etm_conf_error(conf, group, key, v, "out of range, must be %s", range);
	else
		*out = d;
	g_free(v);
	return rc;
}

int etm_conf_get_yesno(struct etm_conf *conf, const char *group, const char *key, bool required, bool *out)
{
	char *v = raw_value(conf, group, key);
	int rc = 0;

	if (!v)
		return required ? missing(conf, group, key) : -ENOENT;
	if (strcmp(v, "yes") == 0)
		*out = true;
	else if (strcmp(v, "no") == 0)
		*out = false;
	else
		rc = etm_conf_error(conf, group, key, v, "must be yes or no");
	g_free(v);
	return rc;
}

int etm_conf_get_str(struct etm_conf *conf, const char *group, const char *key, bool required, size_t maxlen,
		     char **out)
{
	GError *gerr = NULL;
	char *v, *raw;
	size_t len;

	if (!conf || !conf->kf || !g_key_file_has_key(conf->kf, group, key, NULL))
		return required ? missing(conf, group, key) : -ENOENT;
	v = g_key_file_get_string(conf->kf, group, key, &gerr);
	if (!v) {
		/* Bad escape or invalid UTF-8: quote the raw text. */
		raw = raw_value(conf, group, key);
		etm_conf_error(conf, group, key, raw ? raw : "", "invalid string: %s", gerr ? gerr->message : "?");
		g_free(raw);
		if (gerr)
			g_error_free(gerr);
		return -EINVAL;
	}
	len = strlen(g_strchomp(v));
	if (len == 0) {
		g_free(v);
		return etm_conf_error(conf, group, key, "", "empty, must be 1..%zu bytes", maxlen);
	}
	if (len > maxlen) {
		etm_conf_error(conf, group, key, v, "too long (%zu bytes), must be 1..%zu bytes", len, maxlen);
		g_free(v);
		return -EINVAL;
	}
	/* Names end up in `project show` and in logs: no control characters. */
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
			etm_conf_error(conf, group, key, v, "contains a control character");
			g_free(v);
			return -EINVAL;
		}
	}
	g_free(*out);
	*out = v;
	return 0;
}

/* Like etm_conf_get_int(), with @why saying who requires a missing key. */
static int get_int_req(struct etm_conf *conf, const char *group, const char *key, long min, long max, long *out,
		       const char *why)
{
	int rc = etm_conf_get_int(conf, group, key, false, min, max, out);

	if (rc == -ENOENT)
		return etm_conf_error(conf, group, key, NULL, "missing (required %s)", why);
	return rc;
}

/*
 * A key that also has a misspelled alias (the spec writes swapcache_*_vmark
 * in its examples): either spelling works, both with different values do not.
 */
static int get_int_alias(struct etm_conf *conf, const char *group, const char *key, const char *alias, long min,
			 long max, long *out)
{
	long a = 0, b = 0;
	int ra, rb;

	ra = etm_conf_get_int(conf, group, key, false, min, max, &a);
	if (ra != 0 && ra != -ENOENT)
		return ra;
	rb = etm_conf_get_int(conf, group, alias, false, min, max, &b);
	if (rb != 0 && rb != -ENOENT)
		return rb;
	if (ra == 0 && rb == 0 && a != b) {
		char v[32];

		snprintf(v, sizeof(v), "%ld", b);
		return etm_conf_error(conf, group, alias, v, "conflicts with %s=%ld (%s is an alias of %s)", key, a,
				      alias, key);
	}
	if (ra == 0)
		*out = a;
	else if (rb == 0)
		*out = b;
	else
		return -ENOENT;
	return 0;
}

/* ------------------------------------------------------------- [project] */

static int parse_page_scan(struct etm_conf *conf, struct page_scan *ps)
{
	const char *why = "for scan_type page";
	long loop = 0, interval = 0, sleep_s = 0;
	int rc;

	if ((rc = get_int_req(conf, PROJ_GROUP, "loop", 1, 120, &loop, why)) ||
	    (rc = get_int_req(conf, PROJ_GROUP, "interval", 1, 1200, &interval, why)) ||
	    (rc = get_int_req(conf, PROJ_GROUP, "sleep", 1, 1200, &sleep_s, why)))
		return rc;
	ps->loop = (int)loop;
	ps->interval = (int)interval;
	ps->sleep = (int)sleep_s;
	return 0;
}

static int parse_region_scan(struct etm_conf *conf, struct region_scan *rs)
{
	const char *why = "for scan_type region";
	long si = 0, ai = 0, ui = 0, minr = 0, maxr = 0;
	int rc;

	if ((rc = get_int_req(conf, PROJ_GROUP, "sample_interval", 1, LONG_MAX, &si, why)) ||
	    (rc = get_int_req(conf, PROJ_GROUP, "aggr_interval", 1, LONG_MAX, &ai, why)) ||
	    (rc = get_int_req(conf, PROJ_GROUP, "update_interval", 1, LONG_MAX, &ui, why)) ||
	    (rc = get_int_req(conf, PROJ_GROUP, "min_nr_regions", 3, LONG_MAX, &minr, why)) ||
	    (rc = get_int_req(conf, PROJ_GROUP, "max_nr_regions", 3, LONG_MAX, &maxr, why)))
		return rc;
	if (maxr <= minr) {
		char v[32];

		snprintf(v, sizeof(v), "%ld", maxr);
		return etm_conf_error(conf, PROJ_GROUP, "max_nr_regions", v,
				      "must be greater than min_nr_regions (%ld)", minr);
	}
	rs->sample_interval = (unsigned long)si;
	rs->aggr_interval = (unsigned long)ai;
	rs->update_interval = (unsigned long)ui;
	rs->min_nr_regions = (unsigned long)minr;
	rs->max_nr_regions = (unsigned long)maxr;
	return 0;
}

/* swapcache watermarks: both or neither, 1 <= low < high <= 100. */
static int parse_wmarks(struct etm_conf *conf, int *high_out, int *low_out)
{
	long high = -1, low = -1;
	int rh, rl;

	rh = get_int_alias(conf, PROJ_GROUP, "swapcache_high_wmark", "swapcache_high_vmark", 1, 100, &high);
	if (rh && rh != -ENOENT)
		return rh;
	if (rh == -ENOENT) {
		rl = get_int_alias(conf, PROJ_GROUP, "swapcache_low_wmark", "swapcache_low_vmark", 1, 100, &low);
		if (rl && rl != -ENOENT)
			return rl;
		if (rl == 0)
			return etm_conf_error(conf, PROJ_GROUP, "swapcache_high_wmark", NULL,
					      "missing (required when swapcache_low_wmark is set)");
		*high_out = -1;
		*low_out = -1;
		return 0;
	}
	if (high < 2) {
		/* No room for a low mark below it; say so rather than "1..0". */
		rl = get_int_alias(conf, PROJ_GROUP, "swapcache_low_wmark", "swapcache_low_vmark", 1, 100, &low);
		if (rl && rl != -ENOENT)
			return rl;
		return etm_conf_error(conf, PROJ_GROUP, "swapcache_high_wmark", "1",
				      "must be 2..100 so that swapcache_low_wmark (1..high-1) fits below it");
	}
	rl = get_int_alias(conf, PROJ_GROUP, "swapcache_low_wmark", "swapcache_low_vmark", 1, high - 1, &low);
	if (rl == -ENOENT)
		return etm_conf_error(conf, PROJ_GROUP, "swapcache_low_wmark", NULL,
				      "missing (required when swapcache_high_wmark is set)");
	if (rl)
		return rl;
	*high_out = (int)high;
	*low_out = (int)low;
	return 0;
}

int etm_conf_parse_project(struct etm_conf *conf, struct etm_project **out)
{
	struct etm_project *proj;
	struct page_scan page = { 0 };
	struct psi_scan psi = { 0 };
	struct region_scan region = { 0 };
	enum scan_type type = PAGE_SCAN;
	char *name = NULL, *scan = NULL;
	long sysmem = -1, interval = 0;
	int high = -1, low = -1;
	int rc;

	*out = NULL;
	if (!etm_conf_has_group(conf, PROJ_GROUP))
		return etm_conf_error(conf, PROJ_GROUP, NULL, NULL, "section missing");
	rc = etm_conf_get_str(conf, PROJ_GROUP, "name", true, ETM_CONF_NAME_MAX, &name);
	if (rc)
		goto out;
	rc = etm_conf_get_str(conf, PROJ_GROUP, "scan_type", false, 16, &scan);
	if (rc && rc != -ENOENT)
		goto out;
	if (!scan || strcmp(scan, "page") == 0) {
		type = PAGE_SCAN;
		rc = parse_page_scan(conf, &page);
	} else if (strcmp(scan, "psi") == 0) {
		type = PSI_SCAN;
		/* loop and sleep mean nothing to psi: ignored, as in the original. */
		rc = get_int_req(conf, PROJ_GROUP, "interval", 1, 1200, &interval, "for scan_type psi");
		psi.interval = (int)interval;
	} else if (strcmp(scan, "region") == 0) {
		type = REGION_SCAN;
		rc = parse_region_scan(conf, &region);
	} else {
		rc = etm_conf_error(conf, PROJ_GROUP, "scan_type", scan,
				    "unknown scan type, must be page, psi or region");
	}
	if (rc)
		goto out;
	rc = etm_conf_get_int(conf, PROJ_GROUP, "sysmem_threshold", false, 0, 100, &sysmem);
	if (rc && rc != -ENOENT)
		goto out;
	rc = parse_wmarks(conf, &high, &low);
	if (rc)
		goto out;

	proj = etm_project_new(name);
	if (!proj) {
		rc = -ENOMEM;
		goto out;
	}
	proj->page = page;
	proj->psi = psi;
	proj->region = region;
	proj->pub.type = type;
	proj->pub.scan_param = type == PAGE_SCAN  ? (void *)&proj->page
			       : type == PSI_SCAN ? (void *)&proj->psi
						  : (void *)&proj->region;
	proj->pub.sysmem_threshold = (int)sysmem;
	proj->pub.swapcache_high_wmark = high;
	proj->pub.swapcache_low_wmark = low;
	proj->pub.wmark_set = high != -1;
	*out = proj;
	rc = 0;
out:
	g_free(name);
	g_free(scan);
	return rc;
}

/* -------------------------------------------------------------- [engine] */

static const char *scan_type_name(enum scan_type t)
{
	switch (t) {
	case PAGE_SCAN:
		return "page";
	case PSI_SCAN:
		return "psi";
	case REGION_SCAN:
		return "region";
	}
	return "?";
}

/* The [engine] name= value, checked against the known types. */
static int engine_type_of(struct etm_conf *conf, const struct etm_engine_type **type)
{
	char *name = NULL;
	int rc;

	rc = etm_conf_get_str(conf, ENG_GROUP, "name", true, ETM_CONF_NAME_MAX, &name);
	if (rc)
		return rc;
	*type = etm_engine_type_find(name);
	if (!*type)
		rc = etm_conf_error(conf, ENG_GROUP, "name", name,
				    "unknown engine, must be one of slide, cslide, psi, thirdparty");
	g_free(name);
	return rc;
}

/* A third-party engine's identity: any name but a built-in type's. */
static int thirdparty_name(struct etm_conf *conf, char **eng_name)
{
	int rc = etm_conf_get_str(conf, ENG_GROUP, "eng_name", false, ETM_CONF_NAME_MAX, eng_name);

	if (rc == -ENOENT)
		return etm_conf_error(conf, ENG_GROUP, "eng_name", NULL, "missing (required for engine thirdparty)");
	if (rc)
		return rc;
	if (etm_engine_type_find(*eng_name))
		return etm_conf_error(conf, ENG_GROUP, "eng_name", *eng_name,
				      "clashes with a built-in engine name (slide, cslide, psi, thirdparty)");
	return 0;
}

int etm_conf_engine_ids(struct etm_conf *conf, char **proj_name, char **eng_id)
{
	const struct etm_engine_type *type = NULL;
	char *proj = NULL, *id = NULL;
	int rc;

	*proj_name = NULL;
	*eng_id = NULL;
	if (!etm_conf_has_group(conf, ENG_GROUP))
		return etm_conf_error(conf, ENG_GROUP, NULL, NULL, "section missing");
	rc = etm_conf_get_str(conf, ENG_GROUP, "project", true, ETM_CONF_NAME_MAX, &proj);
	if (!rc)
		rc = engine_type_of(conf, &type);
	if (!rc) {
		if (type->type == THIRDPARTY_ENGINE)
			rc = thirdparty_name(conf, &id);
		else
			id = g_strdup(type->name);
	}
	if (rc) {
		g_free(proj);
		g_free(id);
		return rc;
	}
	*proj_name = proj;
	*eng_id = id;
	return 0;
}

/* An absolute path without control characters, for libname. */
static int check_libname(struct etm_conf *conf, const char *v)
{
	if (v[0] != '/')
		return etm_conf_error(conf, ENG_GROUP, "libname", v, "must be an absolute path");
	return 0;
}

/* ops_name goes to dlsym: a C identifier. */
static int check_symbol(struct etm_conf *conf, const char *v)
{
	if (!g_ascii_isalpha(v[0]) && v[0] != '_')
		goto bad;
	for (const char *p = v; *p; p++) {
		if (!g_ascii_isalnum(*p) && *p != '_')
			goto bad;
	}
	return 0;
bad:
	return etm_conf_error(conf, ENG_GROUP, "ops_name", v, "must be a C identifier ([A-Za-z_][A-Za-z0-9_]*)");
}

int etm_conf_parse_engine(struct etm_conf *conf, struct etm_project *proj, struct etm_engine **out)
{
	const struct etm_engine_type *type = NULL;
	struct etm_engine *eng;
	char *proj_name = NULL, *id = NULL, *libname = NULL, *ops_name = NULL;
	int rc;

	*out = NULL;
	rc = etm_conf_engine_ids(conf, &proj_name, &id);
	if (rc)
		return rc;
	type = etm_engine_type_find(id);
	if (!type)
		type = &etm_thirdparty_engine; /* the identity is a plugin's eng_name */
	if (proj && strcmp(proj_name, proj->pub.name) != 0) {
		rc = etm_conf_error(conf, ENG_GROUP, "project", proj_name, "does not match the project %s",
				    proj->pub.name);
		goto out;
	}
	if (type->type == THIRDPARTY_ENGINE) {
		rc = etm_conf_get_str(conf, ENG_GROUP, "libname", false, 256, &libname);
		if (rc == -ENOENT)
			rc = etm_conf_error(conf, ENG_GROUP, "libname", NULL,
					    "missing (required for engine thirdparty)");
		if (!rc)
			rc = check_libname(conf, libname);
		if (!rc) {
			rc = etm_conf_get_str(conf, ENG_GROUP, "ops_name", false, 256, &ops_name);
			if (rc == -ENOENT)
				rc = etm_conf_error(conf, ENG_GROUP, "ops_name", NULL,
						    "missing (required for engine thirdparty)");
		}
		if (!rc)
			rc = check_symbol(conf, ops_name);
		if (rc)
			goto out;
	} else if (proj && proj->pub.type != type->scan_type) {
		rc = etm_conf_error(conf, ENG_GROUP, "name", type->name,
				    "engine %s needs a project with scan_type=%s, project %s has scan_type=%s",
				    type->name, scan_type_name(type->scan_type), proj->pub.name,
				    scan_type_name(proj->pub.type));
		goto out;
	}

	eng = etm_engine_new(type, id);
	if (!eng) {
		rc = -ENOMEM;
		goto out;
	}
	eng->pub.engine_type = type->type;
	eng->pub.proj = proj ? &proj->pub : NULL;
	if (type->type == THIRDPARTY_ENGINE) {
		/* The plugin is loaded, and parses its keys, in the registry. */
		g_free(eng->eng_name);
		g_free(eng->libname);
		g_free(eng->ops_name);
		eng->eng_name = g_strdup(id);
		eng->libname = libname;
		eng->ops_name = ops_name;
		libname = ops_name = NULL;
	} else {
		eng->pub.ops = (struct engine_ops *)type->ops;
		if (eng->pub.ops && eng->pub.ops->fill_eng_params) {
			eng->conf = conf;
			rc = eng->pub.ops->fill_eng_params(conf->kf, &eng->pub);
			eng->conf = NULL;
			if (rc) {
				rc = etm_conf_error(conf, ENG_GROUP, NULL, NULL, "rejected by engine %s", type->name);
				etm_engine_free(eng);
				goto out;
			}
		}
	}
	*out = eng;
	rc = 0;
out:
	g_free(proj_name);
	g_free(id);
	g_free(libname);
	g_free(ops_name);
	return rc;
}

/* ---------------------------------------------------------------- [task] */

int etm_conf_task_ids(struct etm_conf *conf, char **proj_name, char **eng_name, char **task_name)
{
	char *p = NULL, *e = NULL, *t = NULL;
	int rc;

	*proj_name = *eng_name = *task_name = NULL;
	if (!etm_conf_has_group(conf, TASK_GROUP))
		return etm_conf_error(conf, TASK_GROUP, NULL, NULL, "section missing");
	if ((rc = etm_conf_get_str(conf, TASK_GROUP, "project", true, ETM_CONF_NAME_MAX, &p)) ||
	    (rc = etm_conf_get_str(conf, TASK_GROUP, "engine", true, ETM_CONF_NAME_MAX, &e)) ||
	    (rc = etm_conf_get_str(conf, TASK_GROUP, "name", true, ETM_CONF_NAME_MAX, &t))) {
		g_free(p);
		g_free(e);
		g_free(t);
		return rc;
	}
	*proj_name = p;
	*eng_name = e;
	*task_name = t;
	return 0;
}

/* type=pid|name and value; psi targets cgroups (cg_dir), so there both are optional. */
static int parse_target(struct etm_conf *conf, bool required, const char *eng, char **type, char **value)
{
	int rc;

	rc = etm_conf_get_str(conf, TASK_GROUP, "type", false, 8, type);
	if (rc == -ENOENT && required)
		return etm_conf_error(conf, TASK_GROUP, "type", NULL, "missing (required for engine %s)", eng);
	if (rc && rc != -ENOENT)
		return rc;
	if (*type && strcmp(*type, "pid") != 0 && strcmp(*type, "name") != 0)
		return etm_conf_error(conf, TASK_GROUP, "type", *type, "must be pid or name");

	rc = etm_conf_get_str(conf, TASK_GROUP, "value", false, 64, value);
	if (rc == -ENOENT && (required || *type))
		return etm_conf_error(conf, TASK_GROUP, "value", NULL, "missing (required for engine %s)", eng);
	if (rc && rc != -ENOENT)
		return rc;
	if (*value && !*type)
		return etm_conf_error(conf, TASK_GROUP, "type", NULL, "missing (required when value is set)");
	if (!*type)
		return 0;
	if (strcmp(*type, "pid") == 0 && !etm_target_pid_valid(*value))
		return etm_conf_error(conf, TASK_GROUP, "value", *value, "not a valid pid, must be 1..4194304");
	/* Decided here, for every engine: etmemd checks the rest when it adds and starts the task. */
	if (strcmp(*type, "pid") == 0 && strcmp(*value, "1") == 0)
		return etm_conf_error(conf, TASK_GROUP, "value", *value,
				      "pid 1 is init: a target covers its descendants, that is every process; "
				      "give the pid of the workload");
	if (strcmp(*type, "name") == 0 && !etm_target_name_valid(*value))
		return etm_conf_error(conf, TASK_GROUP, "value", *value,
				      "not a valid process name, must be 1..%d characters of A-Z a-z 0-9 . / %% _ -",
				      ETM_TASK_VALUE_MAX);
	return 0;
}

int etm_conf_parse_task(struct etm_conf *conf, struct etm_engine *eng, struct etm_task **out)
{
	struct etm_task *tk;
	const char *eng_type_name;
	char *proj_name = NULL, *eng_name = NULL, *name = NULL, *type = NULL, *value = NULL;
	long max_threads = 1;
	bool swap_flag = false;
	long nprocs = get_nprocs();
	int rc;

	*out = NULL;
	if (!eng)
		return -EINVAL;
	eng_type_name = eng->type ? eng->type->name : "thirdparty";
	rc = etm_conf_task_ids(conf, &proj_name, &eng_name, &name);
	if (rc)
		return rc;
	if (eng->pub.proj && eng->pub.proj->name && strcmp(proj_name, eng->pub.proj->name) != 0) {
		rc = etm_conf_error(conf, TASK_GROUP, "project", proj_name, "does not match the engine's project %s",
				    eng->pub.proj->name);
		goto out;
	}
	if (eng->pub.name && strcmp(eng_name, eng->pub.name) != 0) {
		rc =
		    etm_conf_error(conf, TASK_GROUP, "engine", eng_name, "does not match the engine %s", eng->pub.name);
		goto out;
	}
	rc = parse_target(conf, eng->pub.engine_type != PSI_FB_ENGINE, eng_type_name, &type, &value);
	if (rc)
		goto out;
	if (nprocs < 1)
		nprocs = 1;
	rc = etm_conf_get_int(conf, TASK_GROUP, "max_threads", false, 1, 2 * nprocs + 1, &max_threads);
	if (rc && rc != -ENOENT)
		goto out;
	rc = etm_conf_get_yesno(conf, TASK_GROUP, "swap_flag", false, &swap_flag);
	if (rc && rc != -ENOENT)
		goto out;

	tk = etm_task_new(name, type, value);
	if (!tk) {
		rc = -ENOMEM;
		goto out;
	}
	tk->pub.max_threads = (int)max_threads;
	tk->pub.swap_flag = swap_flag;
	tk->pub.eng = &eng->pub;
	if (eng->pub.ops && eng->pub.ops->fill_task_params) {
		tk->conf = conf;
		rc = eng->pub.ops->fill_task_params(conf->kf, &tk->pub);
		tk->conf = NULL;
		if (rc) {
			rc = etm_conf_error(conf, TASK_GROUP, NULL, NULL, "rejected by engine %s",
					    eng->pub.name ? eng->pub.name : eng_type_name);
			etm_task_free(tk);
			goto out;
		}
	}
	*out = tk;
	rc = 0;
out:
	g_free(proj_name);
	g_free(eng_name);
	g_free(name);
	g_free(type);
	g_free(value);
	return rc;
}
