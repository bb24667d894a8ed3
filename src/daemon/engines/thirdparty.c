/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Third-party engines: a plugin library providing a struct engine_ops. The
 * library file is checked as the spec requires before anything of it runs
 * inside etmemd: it executes as root with the daemon's privileges.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/engine.h"
#include "daemon/registry.h"

const struct etm_engine_type etm_thirdparty_engine = {
	.name = "thirdparty",
	.type = THIRDPARTY_ENGINE,
	.scan_type = PAGE_SCAN,
	.ops = NULL, /* comes from the plugin */
};

/* Owner root:root, a regular file, permission bits exactly 0500 or 0700. */
static int check_library(const char *path, GString *err)
{
	struct stat st;

	if (lstat(path, &st) != 0) {
		g_string_printf(err, "engine library %s: %s", path, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		g_string_printf(err, "engine library %s: not a regular file", path);
		return -EINVAL;
	}
	if (st.st_uid != 0 || st.st_gid != 0) {
		g_string_printf(err, "engine library %s: owned by %u:%u, must be owned by root:root", path,
				(unsigned)st.st_uid, (unsigned)st.st_gid);
		return -EPERM;
	}
	if ((st.st_mode & 07777) != 0500 && (st.st_mode & 07777) != 0700) {
		g_string_printf(err, "engine library %s: mode %04o not allowed (must be 0500 or 0700)", path,
				(unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

int etm_thirdparty_load(struct etm_engine *eng, GString *err)
{
	char real[PATH_MAX];
	void *handle;
	struct engine_ops *ops;
	int ret;

	if (!eng->libname || eng->libname[0] != '/') {
		g_string_printf(err, "engine %s: libname must be an absolute path", eng->pub.name);
		return -EINVAL;
	}
	if (!realpath(eng->libname, real)) {
		g_string_printf(err, "engine library %s: %s", eng->libname, strerror(errno));
		return -errno;
	}
	ret = check_library(real, err);
	if (ret)
		return ret;
	/* RTLD_LOCAL: plugins must not interpose on each other's symbols. */
	handle = dlopen(real, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		g_string_printf(err, "engine library %s: cannot load: %s", real, dlerror());
		return -ENOEXEC;
	}
	ops = dlsym(handle, eng->ops_name);
	if (!ops) {
		g_string_printf(err, "engine library %s: symbol %s not found", real, eng->ops_name);
		dlclose(handle);
		return -ENOENT;
	}
	eng->pub.handler = handle;
	eng->pub.ops = ops;
	etm_info("loaded engine %s from %s (ops %s)", eng->pub.name, real, eng->ops_name);
	return 0;
}

void etm_thirdparty_unload(struct etm_engine *eng)
{
	if (eng->pub.handler) {
		dlclose(eng->pub.handler);
		eng->pub.handler = NULL;
		eng->pub.ops = NULL;
	}
}
