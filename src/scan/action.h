/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Actions: what an engine does with the pages it graded, for one process,
 * behind one small interface. An action is opened on a process, is given
 * page-aligned ranges, each with where its pages go (a NUMA node, or
 * ETM_ACTION_SWAP: out to swap), batches them as its kernel interface likes
 * and flushes; its figures count what was done and why the rest was not.
 *
 * One file each: action_swap_pages.c (openEuler's /proc/PID/swap_pages) and
 * action_pageout.c (process_madvise(2) MADV_PAGEOUT with adjacent pages
 * coalesced into ranges) swap out; action_move_pages.c (move_pages(2),
 * cslide) places pages on a node. etm_action_choose_swap() (backend.h)
 * picks the swap-out one the kernel offers.
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

/* The destination of pages that leave memory for swap (any other value is a NUMA node). */
#define ETM_ACTION_SWAP (-1)

/* Why pages were not acted on, as move_pages(2) reports it per page. */
enum etm_action_fail {
	ETM_ACTION_FAIL_BUSY,	/* EBUSY, EAGAIN: in use (under I/O, pinned), or the kernel gave up on it */
	ETM_ACTION_FAIL_NOMEM,	/* ENOMEM: no room on the destination */
	ETM_ACTION_FAIL_GONE,	/* ENOENT, EFAULT: unmapped since the scan; pageout: every range it skipped */
	ETM_ACTION_FAIL_EXITED, /* ESRCH: the process exited before its pages were acted on */
	ETM_ACTION_FAIL_OTHER,	/* EACCES, EPERM, EIO, ... */
	ETM_ACTION_FAIL_NR,
};

/* "busy", "nomem", "gone", "exited", "other": the reason's name in figures and logs. */
const char *etm_action_fail_name(enum etm_action_fail r);

struct etm_action_stats {
	/* Bytes done (pageout: as the kernel reported; swap_pages: as requested). */
	uint64_t bytes_done;
	/* Bytes given but not done, by reason. */
	uint64_t bytes_failed[ETM_ACTION_FAIL_NR];
};

struct etm_action_ops {
	const char *name;
	int (*probe)(char *why, size_t len);
	int (*open)(pid_t pid, void **ctx);
	/*
	 * Queue [start, start + len) (page aligned) to go to @dest (a node, or
	 * ETM_ACTION_SWAP); may flush. -EINVAL for a destination the action
	 * does not serve (a swap-out action given a node).
	 */
	int (*add)(void *ctx, uint64_t start, uint64_t len, int dest);
	/* Act on everything queued. 0, or -ESRCH when the process is gone, or -errno. */
	int (*flush)(void *ctx);
	/* The figures since open. */
	void (*stats)(void *ctx, struct etm_action_stats *st);
	void (*close)(void *ctx);
	/*
	 * openEuler swapcache reclaim: set the watermarks (percent) and ask for a
	 * reclaim. NULL when the kernel has no such control.
	 */
	int (*swapcache_reclaim)(void *ctx, int low, int high, int set_wmark);
};

extern const struct etm_action_ops etm_action_swap_pages;
extern const struct etm_action_ops etm_action_pageout;
/*
 * move_pages(2) moves the whole folio an address is in, so this action's
 * ranges are units: each add() is one base page (4 KiB) or one large folio
 * (THP, hugetlb) by its head address and size, moved and counted as one.
 * A range that is not a power of two aligned to its size is -EINVAL; a run
 * of base pages must be given page by page. Destinations are nodes only.
 */
extern const struct etm_action_ops etm_action_move_pages;
/* Its open() with the move_pages(2) call replaced (numa_move.h; tests). */
struct etm_numa_sys;
int etm_action_move_pages_open_with(pid_t pid, const struct etm_numa_sys *sys, void **ctx);

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
