/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The third-party engine loader's checks (plugin_check.h): the walk on
 * stand-in trees in a temporary directory playing "/" (the owner test is
 * injected: inodes listed as foreign count as another user's), and the ops
 * symbol checks on the integration tests' plugin, which exports decoys.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/plugin_check.h"
#include "test_file_util.h"

struct fx {
	char root[64];
	int rootfd;
	ino_t foreign[8]; /* inodes owned by "someone else" */
	size_t nforeign;
	struct etm_plugin_fs fs;
	GString *real, *err;
};

static bool fake_owner(const struct stat *st, bool is_lib, void *arg)
{
	const struct fx *f = arg;

	(void)is_lib;
	for (size_t i = 0; i < f->nforeign; i++)
		if (f->foreign[i] == st->st_ino)
			return false;
	return true;
}

static void foreign(struct fx *f, const char *rel)
{
	struct stat st;

	assert_int_equal(fstatat(f->rootfd, rel, &st, AT_SYMLINK_NOFOLLOW), 0);
	f->foreign[f->nforeign++] = st.st_ino;
}

static void mk(struct fx *f, const char *rel, mode_t mode)
{
	assert_int_equal(mkdirat(f->rootfd, rel, 0700), 0);
	assert_int_equal(fchmodat(f->rootfd, rel, mode, 0), 0);
}

static void lib(struct fx *f, const char *rel, mode_t mode)
{
	int fd = openat(f->rootfd, rel, O_WRONLY | O_CREAT | O_EXCL, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\177ELF", 4), 4);
	close(fd);
	assert_int_equal(fchmodat(f->rootfd, rel, mode, 0), 0);
}

static void ln(struct fx *f, const char *target, const char *rel)
{
	assert_int_equal(symlinkat(target, f->rootfd, rel), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	snprintf(f->root, sizeof(f->root), "/tmp/etm-plugin-XXXXXX");
	if (!mkdtemp(f->root) || chmod(f->root, 0755))
		return -1;
	f->rootfd = open(f->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	f->fs = (struct etm_plugin_fs){ .rootfd = f->rootfd, .owner_is_root = fake_owner, .arg = f };
	f->real = g_string_new(NULL);
	f->err = g_string_new(NULL);
	*state = f;
	return f->rootfd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	close(f->rootfd);
	g_string_free(f->real, TRUE);
	g_string_free(f->err, TRUE);
	free(f);
	return system(cmd) ? -1 : 0;
}

/* Open @path: the descriptor's inode must be @rel's; returns 0 or the -errno, with f->err. */
static int try_open(struct fx *f, const char *path, const char *rel)
{
	struct stat a, b;
	int fd = etm_plugin_open(&f->fs, path, f->real, f->err);

	if (fd < 0)
		return fd;
	assert_int_equal(fstat(fd, &a), 0);
	assert_int_equal(fstatat(f->rootfd, rel, &b, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	close(fd);
	return 0;
}

static void assert_refused(struct fx *f, const char *path, int e, const char *why)
{
	assert_int_equal(etm_plugin_open(&f->fs, path, f->real, f->err), -e);
	if (!strstr(f->err->str, why))
		fail_msg("%s: message '%s' lacks '%s'", path, f->err->str, why);
	if (!strstr(f->err->str, path))
		fail_msg("%s: message '%s' does not name the library", path, f->err->str);
}

static void test_good_paths(void **state)
{
	struct fx *f = *state;

	mk(f, "usr", 0755);
	mk(f, "usr/lib", 0755);
	lib(f, "usr/lib/e.so", 0700);
	lib(f, "usr/lib/r.so", 0500);
	assert_int_equal(try_open(f, "/usr/lib/e.so", "usr/lib/e.so"), 0);
	assert_string_equal(f->real->str, "/usr/lib/e.so");
	assert_int_equal(try_open(f, "/usr/lib/r.so", "usr/lib/r.so"), 0);
	assert_int_equal(try_open(f, "//usr/./lib//e.so", "usr/lib/e.so"), 0);
	/* ".." goes back to a directory walked already; above the root stays at the root */
	assert_int_equal(try_open(f, "/usr/../usr/lib/e.so", "usr/lib/e.so"), 0);
	assert_int_equal(try_open(f, "/../../usr/lib/e.so", "usr/lib/e.so"), 0);
	/* symlinks are followed by the walk, relative ones from their directory, absolute from the root */
	ln(f, "e.so", "usr/lib/rel.so");
	ln(f, "/usr/lib/e.so", "usr/lib/abs.so");
	ln(f, "usr", "lnk");
	ln(f, "../lib/./e.so", "usr/lib/dots.so");
	assert_int_equal(try_open(f, "/usr/lib/rel.so", "usr/lib/e.so"), 0);
	assert_string_equal(f->real->str, "/usr/lib/e.so");
	assert_int_equal(try_open(f, "/usr/lib/abs.so", "usr/lib/e.so"), 0);
	assert_int_equal(try_open(f, "/lnk/lib/e.so", "usr/lib/e.so"), 0);
	assert_string_equal(f->real->str, "/usr/lib/e.so");
	assert_int_equal(try_open(f, "/usr/lib/dots.so", "usr/lib/e.so"), 0);
}

static void test_directories(void **state)
{
	struct fx *f = *state;

	mk(f, "ok", 0755);
	mk(f, "open", 0777);
	mk(f, "sticky", 01777);
	mk(f, "grp", 0775);
	mk(f, "theirs", 0755);
	foreign(f, "theirs");
	lib(f, "ok/e.so", 0700);
	lib(f, "open/e.so", 0700);
	lib(f, "sticky/e.so", 0700);
	lib(f, "grp/e.so", 0700);
	lib(f, "theirs/e.so", 0700);
	assert_refused(f, "/open/e.so", EPERM, "directory /open is writable by group or others (mode 0777)");
	assert_refused(f, "/sticky/e.so", EPERM, "directory /sticky is writable by group or others (mode 1777)");
	assert_refused(f, "/grp/e.so", EPERM, "directory /grp is writable");
	assert_refused(f, "/theirs/e.so", EPERM, "directory /theirs is owned by uid");
	/* a safe-looking path whose symlink leads through an open directory */
	ln(f, "/open/e.so", "ok/via.so");
	ln(f, "../open", "ok/dir");
	assert_refused(f, "/ok/via.so", EPERM, "directory /open is writable");
	assert_refused(f, "/ok/dir/e.so", EPERM, "directory /open is writable");
	/* ".." cannot be used to skip a check: /open was refused on the way in */
	assert_refused(f, "/open/../ok/e.so", EPERM, "directory /open is writable");
	/* the root itself is checked */
	assert_int_equal(chmod(f->root, 0777), 0);
	assert_refused(f, "/ok/e.so", EPERM, "directory / is writable");
	assert_int_equal(chmod(f->root, 0755), 0);
	assert_int_equal(try_open(f, "/ok/e.so", "ok/e.so"), 0);
}

static void test_library_file(void **state)
{
	struct fx *f = *state;

	mk(f, "l", 0755);
	lib(f, "l/loose.so", 0644);
	lib(f, "l/x.so", 0755);
	lib(f, "l/suid.so", 04700);
	lib(f, "l/theirs.so", 0700);
	foreign(f, "l/theirs.so");
	assert_int_equal(mkfifoat(f->rootfd, "l/fifo.so", 0700), 0);
	mk(f, "l/dir.so", 0700);
	assert_refused(f, "/l/loose.so", EPERM, "mode 0644, not allowed (must be 0500 or 0700)");
	assert_refused(f, "/l/x.so", EPERM, "mode 0755");
	assert_refused(f, "/l/suid.so", EPERM, "mode 4700");
	assert_refused(f, "/l/theirs.so", EPERM, "must be owned by root:root");
	/* never opened for reading: a FIFO does not block the walk */
	assert_refused(f, "/l/fifo.so", EINVAL, "/l/fifo.so is not a regular file");
	assert_refused(f, "/l/dir.so", EISDIR, "/l/dir.so is a directory");
	assert_refused(f, "/l/", EISDIR, "/l is a directory");
	assert_refused(f, "/l/missing.so", ENOENT, "/l/missing.so: No such file or directory");
	lib(f, "l/e.so", 0700);
	assert_refused(f, "/l/e.so/x.so", ENOTDIR, "/l/e.so is not a directory");
	/* loops and relative paths */
	ln(f, "b.so", "l/a.so");
	ln(f, "a.so", "l/b.so");
	assert_refused(f, "/l/a.so", ELOOP, "more than 40 symbolic links");
	assert_int_equal(etm_plugin_open(&f->fs, "l/e.so", f->real, f->err), -EINVAL);
	assert_non_null(strstr(f->err->str, "absolute"));
}

/* Checked is loaded: a file swapped in after the walk is not what the descriptor refers to. */
static void test_swap_after_open(void **state)
{
	struct fx *f = *state;
	struct stat a, b;
	int fd;

	mk(f, "l", 0755);
	lib(f, "l/e.so", 0700);
	lib(f, "l/other.so", 0700);
	fd = etm_plugin_open(&f->fs, "/l/e.so", f->real, f->err);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &a), 0);
	assert_int_equal(renameat(f->rootfd, "l/other.so", f->rootfd, "l/e.so"), 0);
	assert_int_equal(fstatat(f->rootfd, "l/e.so", &b, 0), 0);
	assert_int_not_equal(a.st_ino, b.st_ino);
	{
		char p[64];
		struct stat c;

		snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
		assert_int_equal(stat(p, &c), 0); /* what dlopen() of that name opens */
		assert_int_equal(c.st_ino, a.st_ino);
	}
	close(fd);
}

static void *load(const char *path)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	if (!h)
		fail_msg("dlopen %s: %s", path, dlerror());
	return h;
}

static void assert_ops_refused(void *h, const char *sym, int e, const char *why)
{
	GString *err = g_string_new(NULL);
	struct engine_ops *ops = NULL;

	assert_int_equal(etm_plugin_ops_resolve(h, sym, &ops, err), -e);
	assert_null(ops);
	if (!strstr(err->str, why) || !strstr(err->str, sym))
		fail_msg("%s: message '%s' lacks '%s' or the symbol", sym, err->str, why);
	g_string_free(err, TRUE);
}

static void test_ops_symbol(void **state)
{
	GString *err = g_string_new(NULL);
	struct engine_ops *ops = NULL;
	void *h = load(ETMEM_TEST_ENGINE);

	(void)state;
	assert_int_equal(etm_plugin_ops_resolve(h, "test_engine_ops", &ops, err), 0);
	assert_ptr_equal(ops, dlsym(h, "test_engine_ops"));
	assert_non_null(ops->start_task);
	assert_ops_refused(h, "no_such_ops", ENOENT, "not found");
	assert_ops_refused(h, "test_engine_not_ops", EINVAL, "an object of 4 bytes, a struct engine_ops has 72");
	assert_ops_refused(h, "test_engine_function", EINVAL, "a function, not a struct engine_ops");
	assert_ops_refused(h, "test_engine_data_ops", EFAULT, "entry start_task");
	assert_ops_refused(h, "test_engine_foreign_ops", EFAULT, "entry stop_task");
	/* found by dlsym in a dependency (libc), not in the library */
	assert_ops_refused(h, "environ", EINVAL, "not in the engine library");
	dlclose(h);
	g_string_free(err, TRUE);
}

static void test_ops_ranges(void **state)
{
	struct etm_addr_range x[2] = { { 0x1000, 0x2000 }, { 0x5000, 0x6000 } };
	struct engine_ops ops = { 0 };
	GString *err = g_string_new(NULL);

	(void)state;
	assert_int_equal(etm_plugin_ops_in_ranges(&ops, x, 2, "o", err), 0); /* all NULL: nothing to check */
	ops.start_task = (int (*)(struct engine *, struct task *))(uintptr_t)0x1000;
	ops.eng_mgt_func = (int (*)(struct engine *, struct task *, char *, int))(uintptr_t)0x5fff;
	assert_int_equal(etm_plugin_ops_in_ranges(&ops, x, 2, "o", err), 0);
	ops.stop_task = (void (*)(struct engine *, struct task *))(uintptr_t)0x2000; /* one past the end */
	assert_int_equal(etm_plugin_ops_in_ranges(&ops, x, 2, "o", err), -EFAULT);
	assert_non_null(strstr(err->str, "entry stop_task (0x2000)"));
	assert_int_equal(etm_plugin_ops_in_ranges(&ops, x, 0, "o", err), -EFAULT);
	g_string_free(err, TRUE);
}

/* A descriptor number whose /proc/self/fd name a loaded library still has is not reused. */
static void test_fd_name(void **state)
{
	char name[64], name2[64];
	int fd, fd2, n2;
	void *h;

	(void)state;
	fd = open(ETMEM_TEST_ENGINE, O_PATH | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(etm_plugin_fd_name(fd, name, sizeof(name)), fd);
	h = load(name);
	close(fd);
	fd2 = open("/dev/null", O_PATH | O_CLOEXEC); /* most likely the same number again */
	assert_true(fd2 >= 0);
	n2 = etm_plugin_fd_name(fd2, name2, sizeof(name2));
	assert_true(n2 >= 0);
	assert_string_not_equal(name, name2);
	if (n2 != fd2)
		close(n2);
	close(fd2);
	dlclose(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_directories, setup, teardown),
		cmocka_unit_test_setup_teardown(test_library_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_swap_after_open, setup, teardown),
		cmocka_unit_test(test_ops_symbol),
		cmocka_unit_test(test_ops_ranges),
		cmocka_unit_test(test_fd_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
