/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Swapping pages out of a process, behind a small interface: openEuler's
 * /proc/PID/swap_pages when the kernel has it, else process_madvise(2)
 * MADV_PAGEOUT with adjacent pages coalesced into ranges.
 */
#ifndef ETM_SCAN_ACTION_H
#define ETM_SCAN_ACTION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>

/* Debian 12's headers (Linux 6.1 uapi, glibc 2.36) may lack these: x86_64 values. */
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_process_madvise
#define SYS_process_madvise 440
#endif

/* The kernel's UIO_MAXIOV: process_madvise() takes at most this many iovecs. */
#define ETM_PAGEOUT_MAX_IOV 1024

struct etm_action_ops {
	const char *name;
	int (*probe)(char *why, size_t len);
	int (*open)(pid_t pid, void **ctx);
	/* Queue [start, start + len) (page aligned) for swapping out; may flush. */
	int (*add)(void *ctx, uint64_t start, uint64_t len);
	/* Swap out everything queued. 0, or -ESRCH when the process is gone, or -errno. */
	int (*flush)(void *ctx);
	/* Bytes swapped out (pageout: as the kernel reported; swap_pages: as requested). */
	uint64_t (*bytes_done)(void *ctx);
	void (*close)(void *ctx);
	/*
	 * openEuler swapcache reclaim: set the watermarks (percent) and ask for a
	 * reclaim. NULL when the kernel has no such control.
	 */
	int (*swapcache_reclaim)(void *ctx, int low, int high, int set_wmark);
};

extern const struct etm_action_ops etm_action_swap_pages;
extern const struct etm_action_ops etm_action_pageout;

/* swap_pages when present, else pageout (if process_madvise works). */
const struct etm_action_ops *etm_action_choose(void);

/*
 * The iovec walker of the pageout backend, split out so that tests can feed
 * it a fake syscall. @call has process_madvise's contract: bytes advised, or
 * -1 with errno. Advises all @n iovecs (n <= ETM_PAGEOUT_MAX_IOV per call);
 * holes (ENOMEM) and bad ranges (EINVAL) skip that iovec; short returns
 * resume where the kernel stopped. Returns bytes advised, or -errno for a
 * fatal error (ESRCH: the process is gone; EPERM).
 */
typedef ssize_t (*etm_madvise_fn)(void *arg, const struct iovec *iov, size_t n);
int64_t etm_pageout_iovecs(struct iovec *iov, size_t n, etm_madvise_fn call, void *arg, uint64_t *skipped);

#endif
