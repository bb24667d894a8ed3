/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Small files for the unit tests that play kernel files on stand-in
 * directories (memory cgroups, the journal). Include after <cmocka.h>.
 */
#ifndef ETM_TEST_FILE_UTIL_H
#define ETM_TEST_FILE_UTIL_H

#include <stdio.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "scan/cgroup_fs.h"

/* Write @text to @dir/@name (created or truncated). */
static inline void put_file(const char *dir, const char *name, const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Read @dir/@name into @out (at most @len - 1 bytes, NUL-terminated). */
static inline void get_file(const char *dir, const char *name, char *out, size_t len)
{
	char p[512];
	FILE *f;
	size_t n;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "r");
	assert_non_null(f);
	n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	fclose(f);
}

/* @dir as the mount of a stand-in cgroup hierarchy: on its own filesystem (cgroup_fs.h checks it). */
static inline void standin_root(const char *dir, struct etm_cgroup_root *r)
{
	struct statfs sf;
	struct stat st;

	assert_int_equal(statfs(dir, &sf), 0);
	assert_int_equal(stat(dir, &st), 0);
	snprintf(r->mnt, sizeof(r->mnt), "%s", dir);
	r->dev = st.st_dev;
	r->magic = (long)sf.f_type;
}

#endif
