/* SPDX-License-Identifier: MulanPSL-2.0 */
#include "scan/procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scan/parse.h"

int etm_read_fd(int fd, char **buf, size_t *len, size_t max)
{
	size_t cap = 4096, n = 0;
	char *b = malloc(cap + 1), *nb;

	if (!b)
		return -ENOMEM;
	for (;;) {
		ssize_t r;

		if (n == cap) {
			if (cap >= max) {
				free(b);
				return -EFBIG;
			}
			cap = cap * 2 > max ? max : cap * 2;
			if (!(nb = realloc(b, cap + 1))) {
				free(b);
				return -ENOMEM;
			}
			b = nb;
		}
		r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = -errno;

			free(b);
			return err;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

int etm_read_file(const char *path, char **buf, size_t *len, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	if (fd < 0)
		return -errno;
	err = etm_read_fd(fd, buf, len, max);
	close(fd);
	return err;
}

int etm_write_str(const char *path, const char *s)
{
	size_t len = strlen(s);
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0;
	ssize_t w;

	if (fd < 0)
		return -errno;
	w = write(fd, s, len);
	if (w < 0)
		err = -errno;
	else if ((size_t)w != len)
		err = -EIO;
	close(fd);
	return err;
}

/* Value of "Key:   N kB" lines; @key includes the colon. */
static int find_kb(const char *buf, size_t len, const char *key, uint64_t *out)
{
	size_t kl = strlen(key);
	struct etm_lines it;
	const char *p, *le;

	for (etm_lines_init(&it, buf, len); etm_line_next(&it, &p, &le);) {
		if ((size_t)(le - p) > kl && !memcmp(p, key, kl)) {
			const char *q = p + kl;

			while (q < le && (*q == ' ' || *q == '\t'))
				q++;
			return etm_parse_u64(&q, le, out) ? -EINVAL : 0;
		}
	}
	return -ENOENT;
}

int etm_parse_meminfo(const char *buf, size_t len, struct etm_meminfo *mi)
{
	int err;

	memset(mi, 0, sizeof(*mi));
	if ((err = find_kb(buf, len, "MemTotal:", &mi->mem_total_kb)) ||
	    (err = find_kb(buf, len, "MemFree:", &mi->mem_free_kb)))
		return err;
	/* Kernels before 3.14 lack MemAvailable: MemFree is the closest. */
	if (find_kb(buf, len, "MemAvailable:", &mi->mem_available_kb))
		mi->mem_available_kb = mi->mem_free_kb;
	find_kb(buf, len, "SwapCached:", &mi->swap_cached_kb);
	find_kb(buf, len, "SwapTotal:", &mi->swap_total_kb);
	find_kb(buf, len, "SwapFree:", &mi->swap_free_kb);
	return mi->mem_total_kb ? 0 : -EINVAL;
}

int etm_proc_meminfo(struct etm_meminfo *mi)
{
	char *buf;
	size_t len;
	int err = etm_read_file("/proc/meminfo", &buf, &len, 1 << 16);

	if (err)
		return err;
	err = etm_parse_meminfo(buf, len, mi);
	free(buf);
	return err;
}

int etm_parse_status(const char *buf, size_t len, struct etm_proc_status *st)
{
	memset(st, 0, sizeof(*st));
	/* Kernel threads and zombies have no Vm* lines: they own no memory. */
	if (find_kb(buf, len, "VmRSS:", &st->vm_rss_kb))
		return -ENOENT;
	find_kb(buf, len, "VmSwap:", &st->vm_swap_kb);
	return 0;
}

/* /proc/@pid/@name, whole: -ESRCH when the process is gone. */
static int read_pid_file(pid_t pid, const char *name, size_t max, char **buf, size_t *len)
{
	char path[64];
	int err;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	err = etm_read_file(path, buf, len, max);
	return err == -ENOENT ? -ESRCH : err;
}

int etm_proc_status(pid_t pid, struct etm_proc_status *st)
{
	char *buf;
	size_t len;
	int err = read_pid_file(pid, "status", 1 << 16, &buf, &len);

	if (err)
		return err;
	err = etm_parse_status(buf, len, st);
	free(buf);
	return err;
}

/* maps fields: at most 19 digits (as the kernel prints them), anything else -EINVAL. */
static int parse_dec(const char **pp, const char *end, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v;

	if (etm_parse_u64(&p, end, &v) || p - *pp > 19)
		return -EINVAL;
	*pp = p;
	*out = v;
	return 0;
}

static void skip_sp(const char **pp, const char *end)
{
	while (*pp < end && (**pp == ' ' || **pp == '\t'))
		(*pp)++;
}

/* Copy the token [p, q) into @dst of size @n (truncating). */
static void copy_tok(char *dst, size_t n, const char *p, const char *q)
{
	size_t l = (size_t)(q - p);

	if (l >= n)
		l = n - 1;
	memcpy(dst, p, l);
	dst[l] = '\0';
}

/* One maps header line into @v. */
static int parse_maps_line(const char *p, const char *le, struct vma *v)
{
	const char *q;
	uint64_t tmp;

	memset(v, 0, sizeof(*v));
	if (etm_parse_hex(&p, le, &v->start) || p >= le || *p++ != '-' || etm_parse_hex(&p, le, &v->end) ||
	    v->end <= v->start)
		return -EINVAL;
	skip_sp(&p, le);
	if (le - p < 4)
		return -EINVAL;
	v->stat[VMA_STAT_READ] = p[0] == 'r';
	v->stat[VMA_STAT_WRITE] = p[1] == 'w';
	v->stat[VMA_STAT_EXEC] = p[2] == 'x';
	v->stat[VMA_STAT_MAY_SHARE] = p[3] == 's';
	p += 4;
	skip_sp(&p, le);
	if (etm_parse_hex(&p, le, &v->offset))
		return -EINVAL;
	skip_sp(&p, le);
	q = p;
	while (q < le && *q != ':')
		q++;
	if (q >= le || q == p)
		return -EINVAL;
	copy_tok(v->major, sizeof(v->major), p, q);
	p = q + 1;
	q = p;
	while (q < le && *q != ' ' && *q != '\t')
		q++;
	copy_tok(v->minor, sizeof(v->minor), p, q);
	p = q;
	skip_sp(&p, le);
	if (parse_dec(&p, le, &tmp))
		return -EINVAL;
	v->inode = tmp;
	skip_sp(&p, le);
	copy_tok(v->path, sizeof(v->path), p, le);
	return 0;
}

static bool is_header_line(const char *p, const char *le)
{
	/* VMA lines start with a hex address and a '-'; smaps field lines with "Name:". */
	const char *q = p;

	while (q < le && ((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f')))
		q++;
	return q > p && q < le && *q == '-';
}

static bool keep_vma(const struct vma *v, const struct etm_vma_filter *f)
{
	if (!strcmp(v->path, "[vvar]") || !strcmp(v->path, "[vdso]") || !strcmp(v->path, "[vsyscall]") ||
	    !strcmp(v->path, "[vvar_vclock]"))
		return false;
	if (f && f->anon_only) {
		if (v->stat[VMA_STAT_MAY_SHARE] || v->stat[VMA_STAT_EXEC])
			return false;
		if (v->inode != 0 && !v->stat[VMA_STAT_WRITE])
			return false;
	}
	if (f && f->name) {
		size_t nl = strlen(f->name);

		if (strncmp(v->path, "[anon:", 6) || strncmp(v->path + 6, f->name, nl) || v->path[6 + nl] != ']' ||
		    v->path[7 + nl])
			return false;
	}
	return true;
}

static bool has_vmflags(const char *p, const char *le, const struct etm_vma_filter *f)
{
	for (int i = 0; i < f->nvmflags; i++) {
		const char *fl = f->vmflags[i], *q = p;
		bool found = false;

		if (!fl || strlen(fl) != 2)
			return false;
		while (q + 2 <= le) {
			if (q[0] == fl[0] && q[1] == fl[1] && (q + 2 == le || q[2] == ' ') &&
			    (q == p || q[-1] == ' ')) {
				found = true;
				break;
			}
			q++;
		}
		if (!found)
			return false;
	}
	return true;
}

void etm_vmas_free(struct vmas *v)
{
	struct vma *x, *n;

	if (!v)
		return;
	for (x = v->vma_list; x; x = n) {
		n = x->next;
		free(x);
	}
	free(v);
}

int etm_parse_maps(const char *buf, size_t len, const struct etm_vma_filter *f, struct vmas **out)
{
	struct vmas *vs = calloc(1, sizeof(*vs));
	struct vma **tail, *cur = NULL;
	const char *p, *le;
	struct etm_lines it;
	bool need_flags = f && f->nvmflags > 0, cur_ok = false;
	int err = 0;

	if (!vs)
		return -ENOMEM;
	tail = &vs->vma_list;
	for (etm_lines_init(&it, buf, len); etm_line_next(&it, &p, &le);) {
		if (le == p)
			continue;
		if (is_header_line(p, le)) {
			struct vma v;

			if (need_flags) {
				free(cur); /* the previous VMA had no VmFlags line */
				cur = NULL;
			}
			if ((err = parse_maps_line(p, le, &v)))
				goto fail;
			cur_ok = keep_vma(&v, f);
			cur = NULL;
			if (cur_ok) {
				cur = malloc(sizeof(*cur));
				if (!cur) {
					err = -ENOMEM;
					goto fail;
				}
				*cur = v;
				if (!need_flags) { /* else linked once its VmFlags line matches */
					*tail = cur;
					tail = &cur->next;
					vs->vma_cnt++;
					cur = NULL;
				}
			}
		} else if (need_flags && cur && le - p > 8 && !memcmp(p, "VmFlags:", 8)) {
			if (has_vmflags(p + 8 + strspn(p + 8, " "), le, f)) {
				*tail = cur;
				tail = &cur->next;
				vs->vma_cnt++;
			} else {
				free(cur);
			}
			cur = NULL;
		}
	}
	if (need_flags)
		free(cur); /* no VmFlags line: cannot match */
	*out = vs;
	return 0;
fail:
	if (need_flags)
		free(cur);
	etm_vmas_free(vs);
	return err;
}

int etm_proc_vmas(pid_t pid, const struct etm_vma_filter *f, struct vmas **out)
{
	char *buf;
	size_t len;
	int err = read_pid_file(pid, f && f->nvmflags ? "smaps" : "maps", 256u << 20, &buf, &len);

	if (err)
		return err;
	err = etm_parse_maps(buf, len, f, out);
	free(buf);
	return err;
}

/* "Key:   N kB" at @p (the key included) into bytes; false when the line is another key. */
static bool smaps_kb(const char *p, const char *le, const char *key, uint64_t *bytes)
{
	size_t kl = strlen(key);
	uint64_t kb;

	if ((size_t)(le - p) <= kl || memcmp(p, key, kl))
		return false;
	p += kl;
	skip_sp(&p, le);
	if (!etm_parse_u64(&p, le, &kb) && kb <= UINT64_MAX / 1024)
		*bytes = kb * 1024;
	return true;
}

/* Close the VMA being read: keep it when it passed the filter and its flags match. */
static int smaps_end(struct etm_smaps_vma **v, size_t *n, size_t *cap, struct etm_smaps_vma *cur, bool keep)
{
	if (!keep)
		return 0;
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct etm_smaps_vma *nv = realloc(*v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = *cur;
	return 0;
}

/* One smaps field line of the current VMA. */
static void smaps_field(const char *p, const char *le, const struct etm_vma_filter *f, struct etm_smaps_vma *cur,
			bool *flags_ok)
{
	if (smaps_kb(p, le, "KernelPageSize:", &cur->page_size) || smaps_kb(p, le, "AnonHugePages:", &cur->anon_huge))
		return;
	if (le - p > 8 && !memcmp(p, "VmFlags:", 8)) {
		struct etm_vma_filter ht = { .vmflags = (char *const[]){ "ht" }, .nvmflags = 1 };
		const char *q = p + 8;

		skip_sp(&q, le); /* bounded by the line: the buffer need not end in NUL */

		cur->hugetlb = has_vmflags(q, le, &ht);
		*flags_ok = !f || f->nvmflags == 0 || has_vmflags(q, le, f);
	}
}

int etm_parse_smaps(const char *buf, size_t len, const struct etm_vma_filter *f, struct etm_smaps_vma **out,
		    size_t *nout)
{
	struct etm_smaps_vma *v = NULL, cur = { 0 };
	size_t n = 0, cap = 0;
	bool in = false, keep = false, flags_ok = false;
	const char *p, *le;
	struct etm_lines it;
	int err = 0;

	for (etm_lines_init(&it, buf, len); !err && etm_line_next(&it, &p, &le);) {
		struct vma m;

		if (le == p)
			continue;
		if (!is_header_line(p, le)) {
			if (in)
				smaps_field(p, le, f, &cur, &flags_ok);
			continue;
		}
		if (in && (err = smaps_end(&v, &n, &cap, &cur, keep && flags_ok)))
			break;
		if ((err = parse_maps_line(p, le, &m)))
			break;
		in = true;
		keep = keep_vma(&m, f);
		flags_ok = !f || f->nvmflags == 0; /* else its VmFlags line must match */
		cur = (struct etm_smaps_vma){ .start = m.start, .end = m.end, .page_size = 4096 };
	}
	if (!err && in)
		err = smaps_end(&v, &n, &cap, &cur, keep && flags_ok);
	if (err) {
		free(v);
		return err;
	}
	*out = v;
	*nout = n;
	return 0;
}

int etm_proc_smaps(pid_t pid, const struct etm_vma_filter *f, struct etm_smaps_vma **out, size_t *n)
{
	char *buf;
	size_t len;
	int err = read_pid_file(pid, "smaps", 256u << 20, &buf, &len);

	if (err)
		return err;
	err = etm_parse_smaps(buf, len, f, out, n);
	free(buf);
	return err;
}

int etm_parse_memcg(const char *buf, size_t len, char *path, size_t path_len, bool *v1)
{
	struct etm_lines it;
	const char *p, *le;
	int found = 0;

	for (etm_lines_init(&it, buf, len); etm_line_next(&it, &p, &le);) {
		const char *c1 = memchr(p, ':', (size_t)(le - p));
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(le - c1 - 1)) : NULL;

		if (c2) {
			const char *ctl = c1 + 1;
			size_t cl = (size_t)(c2 - ctl);
			bool is_mem = false, is_v2 = cl == 0 && c1 - p == 1 && p[0] == '0';

			/* the controller list is comma separated, e.g. "memory" or "cpu,memory" */
			for (const char *t = ctl; t < c2;) {
				const char *e = memchr(t, ',', (size_t)(c2 - t));

				if (!e)
					e = c2;
				if (e - t == 6 && !memcmp(t, "memory", 6))
					is_mem = true;
				t = e + 1;
			}
			if (is_mem || (is_v2 && !found)) {
				size_t l = (size_t)(le - c2 - 1);

				if (l == 0 || l >= path_len)
					return -ENAMETOOLONG;
				memcpy(path, c2 + 1, l);
				path[l] = '\0';
				*v1 = is_mem;
				found = 1;
				if (is_mem)
					return 0;
			}
		}
	}
	return found ? 0 : -ENOENT;
}

int etm_proc_memcg(pid_t pid, char *path, size_t path_len, bool *v1)
{
	char *buf;
	size_t len;
	int err = read_pid_file(pid, "cgroup", 1 << 16, &buf, &len);

	if (err)
		return err;
	err = etm_parse_memcg(buf, len, path, path_len, v1);
	free(buf);
	return err;
}

int etm_parse_iomem_ram(const char *buf, size_t len, struct etm_addr_range *r, size_t max, size_t *n)
{
	struct etm_lines it;
	const char *p, *le;

	*n = 0;
	for (etm_lines_init(&it, buf, len); etm_line_next(&it, &p, &le);) {
		const char *q = p;
		uint64_t a, b;

		/* top level only: nested resources are indented */
		if (q < le && *q != ' ' && !etm_parse_hex(&q, le, &a) && q < le && *q == '-') {
			q++;
			if (!etm_parse_hex(&q, le, &b) && b >= a) {
				const char *name = q;

				while (name < le && (*name == ' ' || *name == ':'))
					name++;
				if ((size_t)(le - name) == 10 && !memcmp(name, "System RAM", 10) && *n < max) {
					r[*n].start = a;
					r[*n].end = b + 1;
					(*n)++;
				}
			}
		}
	}
	return *n ? 0 : -ENOENT;
}
