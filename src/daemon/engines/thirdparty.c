/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Third-party engines: a plugin library providing a struct engine_ops. The
 * library file and its ops symbol are checked (plugin_check.h) before
 * anything of it runs inside etmemd: it executes as root with the daemon's
 * privileges.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/conf_spec.h"
#include "daemon/engine.h"
#include "daemon/plugin_check.h"
#include "daemon/registry.h"

const struct etm_engine_type etm_thirdparty_engine = {
	.name = "thirdparty",
	.type = THIRDPARTY_ENGINE,
	.scan_type = PAGE_SCAN,
	.ops = NULL, /* comes from the plugin */
	/* Its identity, parsed into the engine spec; the plugin reads its other keys (fill_*_params). */
	.engine_keys = &etm_thirdparty_keys,
};

int etm_thirdparty_load(struct etm_engine *eng, GString *err)
{
	g_autoptr(GString) real = g_string_new(NULL);
	struct etm_plugin_fs fs = { .rootfd = -1 };
	struct engine_ops *ops;
	char name[64];
	void *handle;
	int fd, nfd, ret;

	if (!eng->libname || eng->libname[0] != '/') {
		g_string_printf(err, "engine %s: libname must be an absolute path", eng->pub.name);
		return -EINVAL;
	}
	if ((fs.rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		ret = -errno;
		g_string_printf(err, "engine library %s: opening /: %s", eng->libname, strerror(-ret));
		return ret;
	}
	fd = etm_plugin_open(&fs, eng->libname, real, err);
	close(fs.rootfd);
	if (fd < 0)
		return fd;
	/* Load what was checked: the opened file, never the path again. */
	if ((nfd = etm_plugin_fd_name(fd, name, sizeof(name))) < 0) {
		close(fd);
		g_string_printf(err, "engine library %s: %s", eng->libname, strerror(-nfd));
		return nfd;
	}
	/* RTLD_LOCAL: plugins must not interpose on each other's symbols. */
	handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	if (!handle)
		g_string_printf(err, "engine library %s: cannot load: %s", real->str, dlerror());
	if (nfd != fd)
		close(nfd);
	close(fd);
	if (!handle)
		return -ENOEXEC;
	if ((ret = etm_plugin_ops_resolve(handle, eng->ops_name, &ops, err))) {
		g_string_prepend(err, ": ");
		g_string_prepend(err, eng->libname);
		g_string_prepend(err, "engine library ");
		dlclose(handle);
		return ret;
	}
	eng->pub.handler = handle;
	eng->pub.ops = ops;
	etm_info("loaded engine %s from %s (ops %s)", eng->pub.name, real->str, eng->ops_name);
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
