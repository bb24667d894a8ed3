/* SPDX-License-Identifier: MulanPSL-2.0 */
/* Cgroup files reached from untrusted paths: see cgroup_fs.h. */
#include "scan/cgroup_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "scan/parse.h"
#include "scan/procfs.h"

#define MAX_FIELDS 64
/* The memory hierarchy: v1's controller, or cgroup2 (NULL). */
#define MEMCTL(v1) ((v1) ? "memory" : NULL)

/* mountinfo escapes space, tab, newline and backslash as \NNN (octal). */
static int unescape(const char *p, size_t n, char *out, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		if (c == '\\' && n - i > 3) {
			const char *d = p + i + 1;

			if (d[0] >= '0' && d[0] <= '3' && d[1] >= '0' && d[1] <= '7' && d[2] >= '0' && d[2] <= '7') {
				c = (char)((d[0] - '0') << 6 | (d[1] - '0') << 3 | (d[2] - '0'));
				i += 3;
			}
		}
		if (!c || o + 1 >= len)
			return -EINVAL;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

static bool field_is(const char *f, size_t fl, const char *s)
{
	return strlen(s) == fl && !memcmp(f, s, fl);
}

/* Is @opt one of the comma-separated options in @f? */
static bool has_opt(const char *f, size_t fl, const char *opt)
{
	const char *end = f + fl;

	while (f < end) {
		const char *c = memchr(f, ',', (size_t)(end - f));
		const char *oe = c ? c : end;

		if (field_is(f, (size_t)(oe - f), opt))
			return true;
		f = oe + 1;
	}
	return false;
}

/* major:minor */
static int parse_dev(const char *f, size_t fl, dev_t *dev)
{
	const char *p = f, *end = f + fl;
	uint64_t maj, min;

	if (etm_parse_u64(&p, end, &maj) || p == end || *p++ != ':' || etm_parse_u64(&p, end, &min) || p != end ||
	    maj > UINT32_MAX || min > UINT32_MAX)
		return -EINVAL;
	*dev = makedev((unsigned)maj, (unsigned)min);
	return 0;
}

/*
 * One line: "id parent maj:min root mountpoint options [optional...] -
 * fstype source superoptions". @croot receives the root: the directory of
 * the hierarchy the mount shows ("/" for the whole hierarchy).
 */
/* @ctrl: a cgroup v1 hierarchy with that controller; NULL: cgroup2. */
static int line_root(const char *p, const char *le, const char *ctrl, struct etm_cgroup_root *r, char *croot,
		     size_t clen)
{
	const char *f[MAX_FIELDS];
	size_t fl[MAX_FIELDS], n = 0, sep;

	while (p < le && n < MAX_FIELDS) {
		const char *sp = memchr(p, ' ', (size_t)(le - p));
		const char *fe = sp ? sp : le;

		f[n] = p;
		fl[n++] = (size_t)(fe - p);
		p = fe + 1;
	}
	for (sep = 6; sep < n && !field_is(f[sep], fl[sep], "-"); sep++)
		;
	if (sep + 3 >= n)
		return -ENOENT;
	if (ctrl ? !field_is(f[sep + 1], fl[sep + 1], "cgroup") || !has_opt(f[sep + 3], fl[sep + 3], ctrl)
		 : !field_is(f[sep + 1], fl[sep + 1], "cgroup2"))
		return -ENOENT;
	if (parse_dev(f[2], fl[2], &r->dev) || unescape(f[4], fl[4], r->mnt, sizeof(r->mnt)) || r->mnt[0] != '/' ||
	    unescape(f[3], fl[3], croot, clen) || croot[0] != '/')
		return -ENOENT;
	r->magic = ctrl ? CGROUP_SUPER_MAGIC : CGROUP2_SUPER_MAGIC;
	return 0;
}

/* Does @mnt hold @dir? */
static bool below(const char *dir, const char *mnt)
{
	size_t ml = strlen(mnt);

	if (!strcmp(mnt, "/"))
		return dir[0] == '/';
	return !strncmp(dir, mnt, ml) && (dir[ml] == '\0' || dir[ml] == '/');
}

/*
 * The mount of the hierarchy for which @pick says the most (the largest
 * score, the first of equals; below 0: not this one). 0, or -ENOENT.
 */
static int best_mount(const char *buf, size_t len, const char *ctrl,
		      long (*pick)(const struct etm_cgroup_root *r, const char *croot, const void *arg),
		      const void *arg, struct etm_cgroup_root *out, char *out_croot)
{
	struct etm_lines it;
	const char *p, *le;
	long best = -1;

	for (etm_lines_init(&it, buf, len); etm_line_next(&it, &p, &le);) {
		struct etm_cgroup_root r;
		char croot[sizeof(r.mnt)];
		long score;

		if (line_root(p, le, ctrl, &r, croot, sizeof(croot)) || (score = pick(&r, croot, arg)) <= best)
			continue;
		best = score;
		*out = r;
		if (out_croot)
			memcpy(out_croot, croot, sizeof(croot));
	}
	return best < 0 ? -ENOENT : 0;
}

/* By directory: the deepest mount point holding it. */
static long pick_dir(const struct etm_cgroup_root *r, const char *croot, const void *dir)
{
	(void)croot;
	return below(dir, r->mnt) ? (long)strlen(r->mnt) : -1;
}

int etm_cgroup_mount_parse(const char *buf, size_t len, bool v1, const char *dir, struct etm_cgroup_root *out)
{
	return best_mount(buf, len, MEMCTL(v1), pick_dir, dir, out, NULL);
}

/* By cgroup path: the mount whose root is the deepest directory holding it (mostly "/"). */
static long pick_path(const struct etm_cgroup_root *r, const char *croot, const void *path)
{
	(void)r;
	return below(path, croot) ? (long)strlen(croot) : -1;
}

int etm_cgroup_path_parse(const char *buf, size_t len, bool v1, const char *path, struct etm_cgroup_root *out,
			  char *dir, size_t dlen)
{
	char croot[sizeof(out->mnt)];
	const char *rest = path;
	int n, err = best_mount(buf, len, MEMCTL(v1), pick_path, path, out, croot);

	if (err)
		return err;
	if (strcmp(croot, "/"))
		rest += strlen(croot);
	if (!strcmp(rest, "/"))
		rest = "";
	/* the hierarchy's root mounted on "/" itself: no doubled slash */
	n = snprintf(dir, dlen, "%s%s", strcmp(out->mnt, "/") || !rest[0] ? out->mnt : "", rest);
	return n < 0 || (size_t)n >= dlen ? -ENAMETOOLONG : 0;
}

/* Any mount of the hierarchy: the one that shows the most of it (the shortest root). */
static long pick_top(const struct etm_cgroup_root *r, const char *croot, const void *arg)
{
	(void)arg;
	return (long)(sizeof(r->mnt) - strlen(croot));
}

int etm_cgroup_ctrl_parse(const char *buf, size_t len, const char *ctrl, struct etm_cgroup_root *out)
{
	return best_mount(buf, len, ctrl, pick_top, NULL, out, NULL);
}

/* By @what: a directory, a cgroup path (with @dir to receive its directory), or NULL: any mount. */
static int with_mountinfo(bool v1, const char *what, struct etm_cgroup_root *out, char *dir, size_t dlen)
{
	char *buf;
	size_t len;
	int err = etm_read_file("/proc/self/mountinfo", &buf, &len, 1 << 20);

	if (err)
		return err;
	if (dir)
		err = etm_cgroup_path_parse(buf, len, v1, what, out, dir, dlen);
	else if (what)
		err = etm_cgroup_mount_parse(buf, len, v1, what, out);
	else
		err = etm_cgroup_ctrl_parse(buf, len, MEMCTL(v1), out);
	free(buf);
	return err;
}

int etm_cgroup_mount_find(bool v1, const char *dir, struct etm_cgroup_root *out)
{
	return with_mountinfo(v1, dir, out, NULL, 0);
}

int etm_cgroup_path_find(bool v1, const char *path, struct etm_cgroup_root *out, char *dir, size_t dlen)
{
	return with_mountinfo(v1, path, out, dir, dlen);
}

int etm_cgroup_hier_find(bool v1, struct etm_cgroup_root *out)
{
	return with_mountinfo(v1, NULL, out, NULL, 0);
}

int etm_cgroup_ctrl_find(const char *ctrl, struct etm_cgroup_root *out)
{
	char *buf;
	size_t len;
	int err = etm_read_file("/proc/self/mountinfo", &buf, &len, 1 << 20);

	if (err)
		return err;
	err = etm_cgroup_ctrl_parse(buf, len, ctrl, out);
	free(buf);
	return err;
}

/* Is @fd on @root's filesystem? */
static int same_fs(const struct etm_cgroup_root *root, int fd)
{
	struct statfs sf;
	struct stat st;

	if (fstatfs(fd, &sf) || fstat(fd, &st))
		return -errno;
	if ((long)sf.f_type != root->magic || (root->dev && st.st_dev != root->dev))
		return -EXDEV;
	return 0;
}

/* Into @comp (a name, never "." or ".."): closes @fd, returns the new one or -errno. */
static int down(const struct etm_cgroup_root *root, int fd, const char *comp, size_t len)
{
	char name[NAME_MAX + 1];
	int nfd, err;

	if (!len || (len == 1 && comp[0] == '.') || (len == 2 && !memcmp(comp, "..", 2)))
		err = -EINVAL;
	else if (len > NAME_MAX)
		err = -ENAMETOOLONG;
	else
		err = 0;
	if (err) {
		close(fd);
		return err;
	}
	memcpy(name, comp, len);
	name[len] = '\0';
	nfd = openat(fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	err = nfd < 0 ? -errno : same_fs(root, nfd);
	close(fd);
	if (err && nfd >= 0)
		close(nfd);
	return err ? err : nfd;
}

int etm_cgroup_dir_open(const struct etm_cgroup_root *root, const char *dir)
{
	const char *p;
	int fd, err;

	if (dir[0] != '/')
		return -EINVAL;
	if (!below(dir, root->mnt))
		return -EXDEV;
	p = dir + (strcmp(root->mnt, "/") ? strlen(root->mnt) : 0);
	/* The mount point is the kernel's own text; being on the hierarchy's filesystem is checked. */
	if ((fd = open(root->mnt, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno;
	if ((err = same_fs(root, fd))) {
		close(fd);
		return err;
	}
	while (*p && fd >= 0) {
		size_t len;

		p++; /* the '/' */
		len = strcspn(p, "/");
		fd = down(root, fd, p, len);
		p += len;
	}
	return fd;
}

int etm_cgroup_file_open(const struct etm_cgroup_root *root, int dirfd, const char *name, int flags)
{
	struct stat st;
	int fd = openat(dirfd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), err;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st))
		err = -errno;
	else if (!S_ISREG(st.st_mode))
		err = -EXDEV;
	else
		err = same_fs(root, fd);
	/* O_NONBLOCK only kept a planted FIFO from blocking the open: a regular file's reads and writes block */
	if (!err && !(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK))
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}
