/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Cgroup files named by text etmemd did not build itself (a journal record
 * left by a dead daemon, or planted; a process's cgroup path; a configured
 * cgroup directory): reached without following that text anywhere else.
 * Every file of the memcg layer (memcg.h) is opened this way. The directory must lie below a mount of the memory
 * hierarchy as /proc/self/mountinfo lists it (not a hard-coded path); it is
 * walked from that mount one component at a time (openat, O_NOFOLLOW; no
 * "." or "..", no crossing into another filesystem), and a file opened there
 * must be a regular file on the cgroup filesystem (fstatfs magic).
 */
#ifndef ETM_SCAN_CGROUP_FS_H
#define ETM_SCAN_CGROUP_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* One mount of a cgroup hierarchy. */
struct etm_cgroup_root {
	char mnt[256]; /* its mount point */
	dev_t dev;     /* the filesystem's st_dev; 0: not checked */
	long magic;    /* statfs f_type: CGROUP_SUPER_MAGIC (v1), CGROUP2_SUPER_MAGIC */
};

/*
 * From the text of a mountinfo file: the mount of the cgroup v1 memory
 * hierarchy (@v1) or of cgroup2 whose mount point holds @dir (the deepest
 * such mount). Pure, for tests and fuzzing. 0, or -ENOENT.
 */
int etm_cgroup_mount_parse(const char *buf, size_t len, bool v1, const char *dir, struct etm_cgroup_root *out);
/* The same from /proc/self/mountinfo. */
int etm_cgroup_mount_find(bool v1, const char *dir, struct etm_cgroup_root *out);

/*
 * From the text of a mountinfo file: the mount that shows the cgroup @path
 * (as /proc/PID/cgroup names it) of the memory hierarchy (@v1: the cgroup v1
 * memory controller's, else cgroup2), and @path's directory there into @dir
 * (size @dlen): the mount whose root in the hierarchy holds @path, the
 * deepest such root (mostly "/": the whole hierarchy). Pure, for tests and
 * fuzzing. 0, -ENOENT (no such mount), -ENAMETOOLONG.
 */
int etm_cgroup_path_parse(const char *buf, size_t len, bool v1, const char *path, struct etm_cgroup_root *out,
			  char *dir, size_t dlen);
/* The same from /proc/self/mountinfo. */
int etm_cgroup_path_find(bool v1, const char *path, struct etm_cgroup_root *out, char *dir, size_t dlen);
/* Is the hierarchy mounted? Its mount that shows the most of it, from /proc/self/mountinfo. 0, or -ENOENT. */
int etm_cgroup_hier_find(bool v1, struct etm_cgroup_root *out);
/*
 * Any hierarchy: the cgroup v1 one with controller @ctrl ("cpuacct": where
 * openEuler's psi_v1 puts memory.pressure), or cgroup2 when @ctrl is NULL;
 * its mount that shows the most of it. Pure (mountinfo text), and from
 * /proc/self/mountinfo. 0, or -ENOENT.
 */
int etm_cgroup_ctrl_parse(const char *buf, size_t len, const char *ctrl, struct etm_cgroup_root *out);
int etm_cgroup_ctrl_find(const char *ctrl, struct etm_cgroup_root *out);

/*
 * Open directory @dir (absolute) below @root as described above: an O_PATH
 * descriptor, or -errno: -EXDEV when @dir is not below @root->mnt or leaves
 * its filesystem, -EINVAL for an empty, "." or ".." component, -ENOENT.
 */
int etm_cgroup_dir_open(const struct etm_cgroup_root *root, const char *dir);
/*
 * Open @name in @dirfd (from etm_cgroup_dir_open) with @flags, O_NOFOLLOW:
 * a descriptor, or -errno (-EXDEV: not a regular file of @root's filesystem).
 * The open itself does not block (a FIFO planted there); the descriptor
 * does, unless @flags has O_NONBLOCK.
 */
int etm_cgroup_file_open(const struct etm_cgroup_root *root, int dirfd, const char *name, int flags);

#endif
