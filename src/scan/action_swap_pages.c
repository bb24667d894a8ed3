/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Swap-out through openEuler's /proc/PID/swap_pages: one hex address per
 * line. The kernel parses each write() on its own, so every write carries
 * whole lines only (the original's stdio buffering could cut an address in
 * two); swapcache reclaim ioctls go to the same file.
 */
#include "scan/action.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "scan/idle_pages.h"
#include "scan/pagestate.h"

#define RECLAIM_SWAPCACHE_MAGIC 0x77
#define RECLAIM_SWAPCACHE_OFF _IOW(RECLAIM_SWAPCACHE_MAGIC, 0x0, unsigned int)
#define RECLAIM_SWAPCACHE_ON _IOW(RECLAIM_SWAPCACHE_MAGIC, 0x1, unsigned int)
#define SET_SWAPCACHE_WMARK _IOW(RECLAIM_SWAPCACHE_MAGIC, 0x2, unsigned int)

/* About the original's batch (200 lines of "0x%lx\n"), within one page. */
#define SWAP_BUF 4000
#define LINE_MAX_LEN 19

struct swap_pages_ctx {
	int fd;
	size_t n;
	uint64_t queued, done;
	char buf[SWAP_BUF];
};

static int sp_probe(char *why, size_t len)
{
	return etm_etmem_probe("swap_pages", O_RDWR, "etmem_swap", why, len);
}

static int sp_open(pid_t pid, void **ctx)
{
	char path[64];
	struct swap_pages_ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/proc/%d/swap_pages", (int)pid);
	c->fd = open(path, O_RDWR | O_CLOEXEC);
	if (c->fd < 0) {
		int e = errno;

		free(c);
		return e == ENOENT ? -ESRCH : -e;
	}
	*ctx = c;
	return 0;
}

static int sp_flush(void *ctx)
{
	struct swap_pages_ctx *c = ctx;
	ssize_t w;

	if (!c->n)
		return 0;
	do
		w = write(c->fd, c->buf, c->n);
	while (w < 0 && errno == EINTR);
	c->n = 0;
	if (w < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	c->done += c->queued;
	c->queued = 0;
	return 0;
}

static int sp_add(void *ctx, uint64_t start, uint64_t len, int dest)
{
	struct swap_pages_ctx *c = ctx;
	int err;

	if (dest != ETM_ACTION_SWAP)
		return -EINVAL;
	for (uint64_t a = start; a < start + len; a += ETM_PAGE_SIZE) {
		if (c->n + LINE_MAX_LEN + 1 > SWAP_BUF && (err = sp_flush(c)))
			return err;
		c->n += (size_t)snprintf(c->buf + c->n, SWAP_BUF - c->n, "0x%llx\n", (unsigned long long)a);
		c->queued += ETM_PAGE_SIZE;
	}
	return 0;
}

static void sp_stats(void *ctx, struct etm_action_stats *st)
{
	*st = (struct etm_action_stats){ .bytes_done = ((struct swap_pages_ctx *)ctx)->done };
}

static void sp_close(void *ctx)
{
	struct swap_pages_ctx *c = ctx;

	if (!c)
		return;
	close(c->fd);
	free(c);
}

static int sp_swapcache(void *ctx, int low, int high, int set_wmark)
{
	struct swap_pages_ctx *c = ctx;
	unsigned int arg;

	if (set_wmark) {
		arg = (unsigned int)low | ((unsigned int)high << 8);
		if (ioctl(c->fd, SET_SWAPCACHE_WMARK, &arg) < 0)
			return -errno;
	}
	arg = 0;
	if (ioctl(c->fd, RECLAIM_SWAPCACHE_ON, &arg) < 0)
		return -errno;
	return 0;
}

const struct etm_action_ops etm_action_swap_pages = {
	.name = "swap_pages",
	.probe = sp_probe,
	.open = sp_open,
	.add = sp_add,
	.flush = sp_flush,
	.stats = sp_stats,
	.close = sp_close,
	.swapcache_reclaim = sp_swapcache,
};
