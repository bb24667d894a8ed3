/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * What a third-party engine library must pass before etmemd runs any of it
 * (it runs as root, inside the daemon). Two halves:
 *
 * The file: one walk from "/" that opens every component itself (openat,
 * O_NOFOLLOW) and checks the very objects it opened, so nothing can be
 * swapped between a check and the load: every directory on the way owned by
 * root and not writable by group or others (whoever can write a directory
 * can replace what it holds), the library a regular file, root:root, mode
 * 0500 or 0700 (the spec). Symlinks are followed by the walk itself, each
 * target walked and checked the same way. The caller then loads the opened
 * file through /proc/self/fd/N, never by its path.
 *
 * The symbol: ops_name must name an object of that library (not of one of
 * its dependencies), at least as large as a struct engine_ops, whose
 * non-NULL entries all point into the library's executable segments.
 * Anything else (a function, an int, libc's environ) would be read past its
 * end or jumped into.
 *
 * The walk takes its root and owner test as parameters so that tests and
 * the fuzzer can run it on stand-in trees without being root.
 */
#ifndef ETM_PLUGIN_CHECK_H
#define ETM_PLUGIN_CHECK_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "etmem/etmemd_thirdparty_export.h"

/* Symlinks one walk follows (the kernel's MAXSYMLINKS), and its directory depth. */
#define ETM_PLUGIN_MAX_LINKS 40
#define ETM_PLUGIN_MAX_DEPTH 64

struct etm_plugin_fs {
	/* The walk's "/": absolute paths and absolute symlink targets start here. */
	int rootfd;
	/*
	 * Is @st root's? A directory needs uid 0, the library root:root
	 * (@is_lib). NULL: the real ids (the daemon).
	 */
	bool (*owner_is_root)(const struct stat *st, bool is_lib, void *arg);
	void *arg;
};

/*
 * Open the library at @path (absolute, below @fs->rootfd) as described
 * above. An O_PATH descriptor of it, or -errno with @err naming the library,
 * the component and the reason. @real (may be NULL) gets the path walked,
 * symlinks resolved.
 */
int etm_plugin_open(const struct etm_plugin_fs *fs, const char *path, GString *real, GString *err);

/*
 * A name that dlopen() resolves to @fd: "/proc/self/fd/N". The dynamic
 * loader reuses an already loaded object whose name matches without
 * looking at the file, and a library loaded earlier through a descriptor
 * of the same number keeps that name while it stays loaded; so N is
 * chosen (by duplicating @fd) to be a name no loaded object has. Returns
 * the descriptor named (@fd or a duplicate the caller closes too) or -errno.
 */
int etm_plugin_fd_name(int fd, char *name, size_t len);

/* An address range [lo, hi). */
struct etm_addr_range {
	uintptr_t lo, hi;
};

/*
 * Do @ops's non-NULL entries all lie in @x (@n ranges)? 0, or -EFAULT with
 * @err naming symbol @sym and the first entry outside.
 */
int etm_plugin_ops_in_ranges(const struct engine_ops *ops, const struct etm_addr_range *x, size_t n, const char *sym,
			     GString *err);

/*
 * Resolve @sym in the loaded library @handle, checked as described above.
 * 0 with *@ops set, or -errno with @err naming the symbol and why.
 */
int etm_plugin_ops_resolve(void *handle, const char *sym, struct engine_ops **ops, GString *err);

#endif
