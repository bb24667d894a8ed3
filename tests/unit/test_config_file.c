/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The spec's file checks of etm_conf_load(): absolute path, regular file,
 * owned by root:root, mode exactly 0600 or 0400, at most 10 MiB, no symlink.
 * Files live in a private directory removed by the group teardown, also when
 * a test fails.
 */
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "test_config_util.h"

static char dir[] = "/tmp/etm-test-config-XXXXXX";

static const char VALID[] = "[project]\nname=p\nloop=1\ninterval=1\nsleep=1\n";

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		/* The checks want root-owned files: only root can make them. */
		fprintf(stderr, "skipping: the file-check tests need root (chown)\n");
		exit(77);
	}
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* Write @len bytes of @data to DIR/@name with @mode and @uid:@gid; returns the path. */
static char *make_file(const char *name, const char *data, size_t len, mode_t mode, uid_t uid, gid_t gid)
{
	char *path = g_strdup_printf("%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchown(fd, uid, gid), 0);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	return path;
}

/* Load @path; returns rc, the error line in *msg (g_free). */
static int try_load(const char *path, char **msg)
{
	GString *err = g_string_new(NULL);
	struct etm_conf *conf = NULL;
	int rc = etm_conf_load(path, &conf, err);

	if (rc == 0) {
		assert_non_null(conf);
		assert_true(etm_conf_has_group(conf, "project"));
		assert_string_equal(conf->path, path);
		etm_conf_free(conf);
	} else {
		assert_null(conf);
		/* Every rejection names the file. */
		assert_true(g_str_has_prefix(err->str, "config "));
	}
	*msg = g_string_free(err, FALSE);
	return rc;
}

static void expect_rejected(const char *path, int rc_want, const char *part)
{
	char *msg;
	int rc = try_load(path, &msg);

	if (rc != rc_want || !strstr(msg, part) || !strstr(msg, path))
		fail_msg("%s: rc %d (want %d), \"%s\" (want \"%s\")", path, rc, rc_want, msg, part);
	g_free(msg);
}

static void expect_loaded(const char *path)
{
	char *msg;
	int rc = try_load(path, &msg);

	if (rc)
		fail_msg("%s: rc %d \"%s\"", path, rc, msg);
	g_free(msg);
}

static void test_modes(void **state)
{
	static const mode_t bad[] = { 0644, 0700, 0640, 0604, 0200, 0000, 0500, 04600, 01600, 0601 };
	char *p;

	(void)state;
	p = make_file("ok600.yaml", VALID, strlen(VALID), 0600, 0, 0);
	expect_loaded(p);
	g_free(p);
	p = make_file("ok400.yaml", VALID, strlen(VALID), 0400, 0, 0);
	expect_loaded(p);
	g_free(p);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[32], want[64];

		snprintf(name, sizeof(name), "mode%04o.yaml", (unsigned)bad[i]);
		snprintf(want, sizeof(want), "mode %04o not allowed (must be 0600 or 0400)", (unsigned)bad[i]);
		p = make_file(name, VALID, strlen(VALID), bad[i], 0, 0);
		expect_rejected(p, -EPERM, want);
		g_free(p);
	}
	p = make_file("mode644.yaml", VALID, strlen(VALID), 0644, 0, 0);
	{
		char *msg, *want = g_strdup_printf("config %s: mode 0644 not allowed (must be 0600 or 0400)", p);

		assert_int_equal(try_load(p, &msg), -EPERM);
		assert_string_equal(msg, want);
		g_free(msg);
		g_free(want);
	}
	g_free(p);
}

static void test_owner(void **state)
{
	char *p;

	(void)state;
	p = make_file("uid.yaml", VALID, strlen(VALID), 0600, 65534, 0);
	expect_rejected(p, -EPERM, "owner 65534:0 not allowed (must be owned by root, 0:0)");
	g_free(p);
	p = make_file("gid.yaml", VALID, strlen(VALID), 0600, 0, 65534);
	expect_rejected(p, -EPERM, "owner 0:65534 not allowed");
	g_free(p);
}

/* A valid file of exactly @size bytes: a section, then comment lines filling the rest. */
static char *sized_file(const char *name, size_t size)
{
	char *data = g_malloc(size);
	size_t head = strlen(VALID);
	char *p;

	memcpy(data, VALID, head);
	memset(data + head, 'x', size - head);
	for (size_t i = head; i < size; i += 1024) {
		data[i] = '#';
		if (i > head)
			data[i - 1] = '\n';
	}
	data[size - 1] = '\n';
	p = make_file(name, data, size, 0600, 0, 0);
	g_free(data);
	return p;
}

static void test_size(void **state)
{
	char *p;

	(void)state;
	p = sized_file("10m.yaml", ETM_CONF_MAX_SIZE);
	expect_loaded(p);
	g_free(p);
	p = sized_file("10m1.yaml", ETM_CONF_MAX_SIZE + 1);
	expect_rejected(p, -EFBIG, "size 10485761 exceeds 10485760 bytes");
	g_free(p);
	p = make_file("empty.yaml", "", 0, 0600, 0, 0);
	{
		GString *err = g_string_new(NULL);
		struct etm_conf *conf = NULL;

		assert_int_equal(etm_conf_load(p, &conf, err), 0);
		assert_false(etm_conf_has_group(conf, "project"));
		etm_conf_free(conf);
		g_string_free(err, TRUE);
	}
	g_free(p);
}

static void test_not_regular(void **state)
{
	char *d = g_strdup_printf("%s/sub.yaml", dir);
	char *fifo = g_strdup_printf("%s/fifo.yaml", dir);
	char *link = g_strdup_printf("%s/link.yaml", dir);
	char *target = make_file("target.yaml", VALID, strlen(VALID), 0600, 0, 0);
	char *missing = g_strdup_printf("%s/missing.yaml", dir);
	char *msg;

	(void)state;
	assert_int_equal(mkdir(d, 0600), 0);
	expect_rejected(d, -EISDIR, "a directory, must be a regular file");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	expect_rejected(fifo, -EINVAL, "a FIFO, must be a regular file");
	/* A symlink to a perfectly good file is still refused. */
	assert_int_equal(symlink(target, link), 0);
	expect_rejected(link, -ELOOP, "is a symbolic link (not followed");
	expect_rejected(missing, -ENOENT, "cannot open: No such file or directory");
	expect_rejected("/dev/null", -EINVAL, "a character device");

	assert_int_equal(try_load("relative/conf.yaml", &msg), -EINVAL);
	assert_string_equal(msg, "config relative/conf.yaml: not an absolute path");
	g_free(msg);
	assert_int_equal(try_load("", &msg), -EINVAL);
	g_free(msg);
	g_free(d);
	g_free(fifo);
	g_free(link);
	g_free(target);
	g_free(missing);
}

static void test_unparsable(void **state)
{
	static const char junk[] = "this is not a key file\n";
	char *p = make_file("junk.yaml", junk, strlen(junk), 0600, 0, 0);

	(void)state;
	expect_rejected(p, -EINVAL, "cannot parse");
	g_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_modes),	    cmocka_unit_test(test_owner),      cmocka_unit_test(test_size),
		cmocka_unit_test(test_not_regular), cmocka_unit_test(test_unparsable),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
