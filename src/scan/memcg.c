/* SPDX-License-Identifier: MulanPSL-2.0 */
/* The memory cgroup file layer: see memcg.h. */
#include "scan/memcg.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scan/pagestate.h"
#include "scan/parse.h"
#include "scan/procfs.h"

/* memory.stat is a few dozen short lines; anything far longer is not it. */
#define STAT_MAX (64 << 10)
/* A single-number file: a few digits ("max" on v2 is no number). */
#define NUMBER_MAX 256

/* The keys of memory.stat memcg_lru reads, in their own (0) and hierarchical total_ (1) forms. */
enum stat_key { K_INACTIVE, K_ACTIVE, K_SWAP, K_PSWPOUT, K_REFAULT_ANON, K_REFAULT, K_NR };

/* workingset_refault: kernels before 5.9 count anon and file refaults together. */
static const char *const stat_keys[K_NR] = { "inactive_anon",		"active_anon",	     "swap", "pswpout",
					     "workingset_refault_anon", "workingset_refault" };

/* "key value": which key (-1: another), its total_ form in *@h, the value in *@v. */
static int stat_line(const char *p, const char *le, int *h, uint64_t *v)
{
	const char *sp = memchr(p, ' ', (size_t)(le - p)), *q;
	size_t kl;

	if (!sp)
		return -1;
	q = sp + 1;
	if (etm_parse_u64(&q, le, v))
		return -1;
	kl = (size_t)(sp - p);
	*h = kl > 6 && !memcmp(p, "total_", 6);
	if (*h) {
		p += 6;
		kl -= 6;
	}
	for (int k = 0; k < K_NR; k++)
		if (strlen(stat_keys[k]) == kl && !memcmp(p, stat_keys[k], kl))
			return k;
	return -1;
}

int etm_memcg_stat_parse(const char *buf, size_t len, struct etm_memcg_lru_stat *out)
{
	uint64_t val[2][K_NR] = { { 0 } };
	bool has[2][K_NR] = { { false } };
	struct etm_lines it;
	const char *p, *le;
	int h;

	memset(out, 0, sizeof(*out));
	for (etm_lines_init(&it, buf, len); etm_line_next(&it, &p, &le);) {
		uint64_t v;
		int k = stat_line(p, le, &h, &v);

		if (k >= 0) {
			val[h][k] = v;
			has[h][k] = true;
		}
	}
	h = has[1][K_INACTIVE] && has[1][K_ACTIVE] ? 1 : 0;
	if (!has[h][K_INACTIVE] || !has[h][K_ACTIVE])
		return -EINVAL;
	out->inactive_anon = val[h][K_INACTIVE];
	out->active_anon = val[h][K_ACTIVE];
	out->has_swap = has[h][K_SWAP];
	out->swap = val[h][K_SWAP];
	out->has_pswpout = has[h][K_PSWPOUT];
	out->pswpout = val[h][K_PSWPOUT];
	/* Without the anon counter the combined one: file refaults then count too, the safe side. */
	out->has_refault = has[h][K_REFAULT_ANON] || has[h][K_REFAULT];
	out->refault_anon = has[h][K_REFAULT_ANON] ? val[h][K_REFAULT_ANON] : val[h][K_REFAULT];
	return 0;
}

int etm_memcg_dir_at(const struct etm_cgroup_root *root, const char *dir, bool v1, struct etm_memcg_dir *d)
{
	int fd;

	memset(d, 0, sizeof(*d));
	if (strlen(dir) >= sizeof(d->dir))
		return -ENAMETOOLONG;
	snprintf(d->dir, sizeof(d->dir), "%s", dir);
	d->v1 = v1;
	d->root = *root;
	if ((fd = etm_cgroup_dir_open(root, dir)) < 0)
		return fd;
	close(fd);
	return 0;
}

int etm_memcg_dir_of(const char *path, bool v1, struct etm_memcg_dir *d)
{
	struct etm_cgroup_root root;
	char dir[sizeof(d->dir)];
	int n, err;

	memset(d, 0, sizeof(*d));
	if (path[0] != '/' || strstr(path, "/../") || strstr(path, "/./"))
		return -EINVAL;
	err = etm_cgroup_path_find(v1, path, &root, dir, sizeof(dir));
	if (!err)
		return etm_memcg_dir_at(&root, dir, v1, d);
	if (err != -ENOENT)
		return err;
	/* The hierarchy is not mounted: where it usually is names the directory in messages. */
	n = snprintf(d->dir, sizeof(d->dir), "%s%s", v1 ? ETM_MEMCG_V1_ROOT : ETM_MEMCG_V2_ROOT,
		     strcmp(path, "/") ? path : "");
	d->v1 = v1;
	return n < 0 || (size_t)n >= sizeof(d->dir) ? -ENAMETOOLONG : -ENOENT;
}

int etm_memcg_open_file(const struct etm_memcg_dir *d, const char *name, int flags)
{
	int dfd = etm_cgroup_dir_open(&d->root, d->dir), fd;

	if (dfd < 0)
		return dfd;
	fd = etm_cgroup_file_open(&d->root, dfd, name, flags);
	close(dfd);
	return fd;
}

int etm_memcg_read_text(const struct etm_memcg_dir *d, const char *name, char **buf, size_t *len, size_t max)
{
	int fd = etm_memcg_open_file(d, name, O_RDONLY), err;

	if (fd < 0)
		return fd;
	err = etm_read_fd(fd, buf, len, max);
	close(fd);
	return err;
}

int etm_memcg_read_u64(const struct etm_memcg_dir *d, const char *name, uint64_t *out)
{
	char *buf;
	const char *p;
	size_t len;
	int err = etm_memcg_read_text(d, name, &buf, &len, NUMBER_MAX);

	if (err)
		return err;
	p = buf;
	err = etm_parse_u64(&p, buf + len, out);
	free(buf);
	return err;
}

int etm_memcg_write_u64(const struct etm_memcg_dir *d, const char *name, uint64_t v)
{
	char b[32];
	int n = snprintf(b, sizeof(b), "%" PRIu64, v), fd = etm_memcg_open_file(d, name, O_WRONLY), err = 0;
	ssize_t w;

	if (fd < 0)
		return fd;
	if ((w = write(fd, b, (size_t)n)) < 0)
		err = -errno;
	else if (w != n)
		err = -EIO;
	close(fd);
	return err;
}

int etm_memcg_usage(const struct etm_memcg_dir *d, uint64_t *out)
{
	return etm_memcg_read_u64(d, d->v1 ? "memory.usage_in_bytes" : "memory.current", out);
}

int etm_memcg_id(const struct etm_memcg_dir *d, uint64_t *out)
{
	struct stat st;
	int fd = etm_cgroup_dir_open(&d->root, d->dir), err = 0;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st))
		err = -errno;
	else
		*out = (uint64_t)st.st_ino;
	close(fd);
	return err;
}

int etm_memcg_read_stat(const struct etm_memcg_dir *d, struct etm_memcg_lru_stat *s)
{
	char *buf;
	size_t len;
	int err = etm_memcg_read_text(d, "memory.stat", &buf, &len, STAT_MAX);

	if (err)
		return err;
	err = etm_memcg_stat_parse(buf, len, s);
	free(buf);
	return err;
}

/* v2 without memory.swap.current (swapaccount=0 / cgroup.memory=noswap): the event count (6.15+). */
static int swap_from_pswpout(const struct etm_memcg_dir *d, uint64_t *out)
{
	struct etm_memcg_lru_stat s;
	int err = etm_memcg_read_stat(d, &s);

	if (err)
		return err;
	if (!s.has_pswpout || s.pswpout > UINT64_MAX / ETM_PAGE_SIZE)
		return -ENOTSUP;
	*out = s.pswpout * ETM_PAGE_SIZE;
	return 0;
}

int etm_memcg_swap_bytes(const struct etm_memcg_dir *d, uint64_t *out)
{
	struct etm_memcg_lru_stat s;
	uint64_t memsw, usage;
	int err;

	if (!d->v1) {
		err = etm_memcg_read_u64(d, "memory.swap.current", out);
		return err == -ENOENT ? swap_from_pswpout(d, out) : err;
	}
	if (!etm_memcg_read_u64(d, "memory.memsw.usage_in_bytes", &memsw) &&
	    !etm_memcg_read_u64(d, "memory.usage_in_bytes", &usage)) {
		*out = memsw > usage ? memsw - usage : 0;
		return 0;
	}
	/* No memsw accounting (swapaccount=0): memory.stat's swap, if any. */
	if ((err = etm_memcg_read_stat(d, &s)))
		return err;
	if (!s.has_swap)
		return -ENOTSUP;
	*out = s.swap;
	return 0;
}

int etm_memcg_swappiness(const struct etm_memcg_dir *d, int *out)
{
	uint64_t v;
	int err;

	if (!d->v1)
		return -ENOTSUP;
	if ((err = etm_memcg_read_u64(d, "memory.swappiness", &v)))
		return err;
	*out = v > 200 ? 200 : (int)v;
	return 0;
}
