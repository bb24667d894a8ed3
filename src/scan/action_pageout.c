/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Swap-out through process_madvise(MADV_PAGEOUT) (Linux 5.10+). Cold pages
 * arrive as coalesced runs; each run is one iovec, at most
 * ETM_PAGEOUT_MAX_IOV per call.
 */
#include "scan/action.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Keep single iovecs well under MAX_RW_COUNT (2 GiB - 4 KiB per call). */
#define IOV_CHUNK (1ULL << 30)
#define EAGAIN_RETRIES 8

int64_t etm_pageout_iovecs(struct iovec *iov, size_t n, etm_madvise_fn call, void *arg, uint64_t *skipped)
{
	int64_t total = 0;
	size_t i = 0;
	int again = 0;

	while (i < n) {
		size_t cnt = n - i < ETM_PAGEOUT_MAX_IOV ? n - i : ETM_PAGEOUT_MAX_IOV;
		ssize_t r;

		if (!iov[i].iov_len) {
			i++;
			continue;
		}
		r = call(arg, &iov[i], cnt);
		if (r < 0) {
			int e = errno;

			if ((e == EINTR || e == EAGAIN) && again++ < EAGAIN_RETRIES)
				continue;
			if (e == ENOMEM || e == EINVAL || e == EFAULT || e == EAGAIN || e == EINTR) {
				/* The first iovec has a hole or was unmapped since the scan: skip it. */
				if (skipped)
					*skipped += iov[i].iov_len;
				i++;
				again = 0;
				continue;
			}
			return -e;
		}
		again = 0;
		if (r == 0) {
			/* No progress without an error: never loop on it. */
			if (skipped)
				*skipped += iov[i].iov_len;
			i++;
			continue;
		}
		total += r;
		/*
		 * Advance by r bytes. A return that ends inside an iovec is the
		 * MAX_RW_COUNT cap; one that ends on a boundary before the end
		 * means the next iovec failed: the next call starts with it and
		 * gets its error.
		 */
		while (r > 0 && i < n) {
			if ((size_t)r >= iov[i].iov_len) {
				r -= (ssize_t)iov[i].iov_len;
				i++;
			} else {
				iov[i].iov_base = (char *)iov[i].iov_base + r;
				iov[i].iov_len -= (size_t)r;
				r = 0;
			}
		}
	}
	return total;
}

struct pageout_ctx {
	int pidfd;
	size_t n;
	uint64_t done, skipped;
	struct iovec iov[ETM_PAGEOUT_MAX_IOV];
};

static ssize_t real_madvise(void *arg, const struct iovec *iov, size_t n)
{
	struct pageout_ctx *c = arg;

	return syscall(SYS_process_madvise, c->pidfd, iov, n, MADV_PAGEOUT, 0);
}

static int pageout_probe(char *why, size_t len)
{
	int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	ssize_t r;

	if (fd < 0) {
		snprintf(why, len, "pidfd_open() unavailable: %s (needs Linux 5.3+)", strerror(errno));
		return -ENOTSUP;
	}
	/* An empty vector tests that the syscall and advice exist without touching memory. */
	r = syscall(SYS_process_madvise, fd, NULL, 0, MADV_PAGEOUT, 0);
	close(fd);
	if (r < 0 && (errno == ENOSYS || errno == EINVAL)) {
		snprintf(why, len, "process_madvise(MADV_PAGEOUT) unavailable: %s (needs Linux 5.10+)",
			 strerror(errno));
		return -ENOTSUP;
	}
	return 0;
}

static int pageout_open(pid_t pid, void **ctx)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pageout_ctx *c;

	if (fd < 0)
		return -errno;
	if (!(c = calloc(1, sizeof(*c)))) {
		close(fd);
		return -ENOMEM;
	}
	c->pidfd = fd;
	*ctx = c;
	return 0;
}

static int pageout_flush(void *ctx)
{
	struct pageout_ctx *c = ctx;
	int64_t r;

	if (!c->n)
		return 0;
	r = etm_pageout_iovecs(c->iov, c->n, real_madvise, c, &c->skipped);
	c->n = 0;
	if (r < 0)
		return (int)r;
	c->done += (uint64_t)r;
	return 0;
}

static int pageout_add(void *ctx, uint64_t start, uint64_t len, int dest)
{
	struct pageout_ctx *c = ctx;
	int err;

	if (dest != ETM_ACTION_SWAP)
		return -EINVAL;
	while (len) {
		uint64_t l = len < IOV_CHUNK ? len : IOV_CHUNK;

		if (c->n == ETM_PAGEOUT_MAX_IOV && (err = pageout_flush(c)))
			return err;
		c->iov[c->n].iov_base = (void *)(uintptr_t)start;
		c->iov[c->n].iov_len = l;
		c->n++;
		start += l;
		len -= l;
	}
	return 0;
}

static void pageout_stats(void *ctx, struct etm_action_stats *st)
{
	const struct pageout_ctx *c = ctx;

	*st = (struct etm_action_stats){ .bytes_done = c->done };
	st->bytes_failed[ETM_ACTION_FAIL_GONE] = c->skipped;
}

static void pageout_close(void *ctx)
{
	struct pageout_ctx *c = ctx;

	if (!c)
		return;
	close(c->pidfd);
	free(c);
}

const struct etm_action_ops etm_action_pageout = {
	.name = "pageout",
	.probe = pageout_probe,
	.open = pageout_open,
	.add = pageout_add,
	.flush = pageout_flush,
	.stats = pageout_stats,
	.close = pageout_close,
};
