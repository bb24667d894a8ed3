/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * openEuler /proc/PID/idle_pages: the kernel walks the page tables from the
 * file position, test-and-clears accessed bits and writes the encoded stream
 * (idle_stream.h). Unlike the original, a whole span is read in chunks until
 * it is covered, so a fragmented VMA is never cut short.
 *
 * The kernel flushes the process's TLB only when the file is closed, and a
 * CPU that still holds a translation uses the page without setting the
 * accessed bit again: the file is opened for each pass and closed after it,
 * so the accesses between two passes are seen (the original did the same).
 */
#include "scan/tracker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "etmem/etmemd_scan_exp.h"
#include "scan/idle_stream.h"
#include "scan/idle_pages.h"

#define IDLE_SCAN_MAGIC 0x66
#define IDLE_SCAN_ADD_FLAGS _IOW(IDLE_SCAN_MAGIC, 0x0, unsigned int)
#define VMA_SCAN_ADD_FLAGS _IOW(IDLE_SCAN_MAGIC, 0x2, unsigned int)

#define READ_CHUNK (64 * 1024)
/* Every output byte covers up to 8 pages of range. */
#define PAGES_PER_BYTE 8

struct idle_ctx {
	pid_t pid;
	struct etm_tracker_opts o;
	uint8_t buf[READ_CHUNK];
};

int etm_idle_pages_open_fd(pid_t pid, unsigned scan_flags, bool vma_flag)
{
	char path[64];
	unsigned int f;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/idle_pages", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	f = scan_flags & (SCAN_AS_HUGE | SCAN_IGN_HOST | VMA_SCAN_FLAG);
	if (f && ioctl(fd, IDLE_SCAN_ADD_FLAGS, &f) < 0)
		goto fail;
	if (vma_flag) {
		f = VMA_SCAN_FLAG;
		if (ioctl(fd, VMA_SCAN_ADD_FLAGS, &f) < 0)
			goto fail;
	}
	return fd;
fail:
	f = (unsigned)errno;
	close(fd);
	return -(int)f;
}

int etm_idle_pages_read_span(int fd, uint64_t start, uint64_t end, uint8_t *buf, size_t bufsz, etm_pip_emit_fn emit,
			     void *arg)
{
	uint64_t pos = start;
	unsigned stuck = 0;

	while (pos < end) {
		uint64_t pages = (end - pos + ETM_PAGE_SIZE - 1) >> ETM_PAGE_SHIFT;
		uint64_t want = (pages + PAGES_PER_BYTE - 1) / PAGES_PER_BYTE;
		struct etm_pip_result res;
		ssize_t r;
		off_t np;
		int err;

		if (want < ETM_PIP_BUF_MIN)
			want = ETM_PIP_BUF_MIN;
		if (want > bufsz)
			want = bufsz;
		if (lseek(fd, (off_t)pos, SEEK_SET) == (off_t)-1)
			return -errno;
		r = read(fd, buf, (size_t)want);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return errno == ENOENT ? -ESRCH : -errno;
		}
		/* The kernel leaves the position at the next unscanned address. */
		np = lseek(fd, 0, SEEK_CUR);
		if (np == (off_t)-1)
			return -errno;
		if (r == 0) {
			/*
			 * Nothing to report in the window (say, no area flagged
			 * with VMA_SCAN_FLAG): go on from where the kernel got
			 * to; 0 without progress is the end of the address space.
			 */
			if ((uint64_t)np <= pos)
				break;
			pos = (uint64_t)np;
			continue;
		}
		err = etm_pip_parse(buf, (size_t)r, emit, arg, &res);
		if (err)
			return err;
		if ((uint64_t)np <= pos) {
			/* No progress: fall back on what the stream covered, else stop. */
			if (res.next > pos)
				np = (off_t)res.next;
			else if (++stuck > 2)
				return -EPROTO;
			else
				continue;
		}
		pos = (uint64_t)np;
	}
	return 0;
}

static int mark_emit(void *arg, uint64_t addr, uint64_t nr, enum page_type type, unsigned weight)
{
	uint64_t per = type == PUD_TYPE	  ? ETM_PUD_SIZE / ETM_PAGE_SIZE
		       : type == PMD_TYPE ? ETM_PMD_SIZE / ETM_PAGE_SIZE
					  : 1;

	etm_pagestate_mark(arg, addr, nr * per, weight);
	return 0;
}

static int discard_emit(void *arg, uint64_t addr, uint64_t nr, enum page_type type, unsigned weight)
{
	(void)arg, (void)addr, (void)nr, (void)type, (void)weight;
	return 0;
}

/*
 * One pass: open the file, walk the spans of adjacent ranges of @ps (one
 * chunked read loop each), close it (which flushes the TLB).
 */
static int scan_spans(struct idle_ctx *c, struct etm_pagestate *ps, etm_pip_emit_fn emit, void *arg)
{
	int fd = etm_idle_pages_open_fd(c->pid, c->o.scan_flags, c->o.flagged_only);
	size_t i = 0;
	int err = 0;

	if (fd < 0)
		return fd;
	while (i < ps->n && !err) {
		uint64_t s = ps->r[i].start, e = ps->r[i].end;

		while (i + 1 < ps->n && ps->r[i + 1].start == e)
			e = ps->r[++i].end;
		i++;
		err = etm_idle_pages_read_span(fd, s, e, c->buf, sizeof(c->buf), emit, arg);
	}
	close(fd);
	return err;
}

int etm_etmem_probe(const char *file, int oflags, const char *module, char *why, size_t len)
{
	char path[64];
	int fd, e;

	snprintf(path, sizeof(path), "/proc/self/%s", file);
	fd = open(path, oflags | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	e = errno;
	if (e == ENOENT)
		snprintf(why, len, "/proc/PID/%s missing (not an openEuler kernel with CONFIG_ETMEM)", file);
	else if (e == ENODEV)
		snprintf(why, len, "/proc/PID/%s present but off: the %s module is not loaded (modprobe %s)", file,
			 module, module);
	else if (e == EPERM || e == EACCES)
		snprintf(why, len, "/proc/PID/%s: %s (it needs CAP_SYS_ADMIN)", file, strerror(e));
	else
		snprintf(why, len, "/proc/PID/%s: %s", file, strerror(e));
	return e == ENOENT || e == ENODEV ? -ENOTSUP : -e;
}

static int idle_probe(char *why, size_t len)
{
	return etm_etmem_probe("idle_pages", O_RDONLY, "etmem_scan", why, len);
}

static int idle_open(pid_t pid, const struct etm_tracker_opts *o, void **ctx)
{
	struct idle_ctx *c = calloc(1, sizeof(*c));
	struct etm_pagestate *ps;
	int err;

	if (!c)
		return -ENOMEM;
	c->pid = pid;
	c->o = *o;
	/* Baseline: one discarded pass clears the accessed bits. */
	ps = etm_pagestate_new();
	if (!ps) {
		err = -ENOMEM;
		goto fail;
	}
	err = etm_tracker_ranges(pid, o, ps);
	if (!err)
		err = scan_spans(c, ps, discard_emit, NULL);
	etm_pagestate_free(ps);
	if (err)
		goto fail;
	*ctx = c;
	return 0;
fail:
	free(c);
	return err;
}

static int idle_scan(void *ctx, struct etm_pagestate *ps)
{
	return scan_spans(ctx, ps, mark_emit, ps);
}

static void idle_close(void *ctx)
{
	free(ctx);
}

const struct etm_tracker_ops etm_tracker_idle_pages = {
	.kernel_marks = true, /* VMA_SCAN_FLAG */
	.sees_hugetlb = true, /* the kernel reports a 2 MiB hugetlb page as one PMD item */
	.probe = idle_probe,
	.open = idle_open,
	.scan = idle_scan,
	.close = idle_close,
};
