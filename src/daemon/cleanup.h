/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Cleanup attributes for the daemon's plain resources, in glib's style
 * (g_auto), for what glib 2.74 has none of: a file descriptor closed when
 * its variable goes out of scope (glib's g_autofd came in 2.76).
 */
#ifndef ETM_CLEANUP_H
#define ETM_CLEANUP_H

#include <glib.h>
#include <unistd.h>

typedef int etm_fd;

static inline void etm_fd_close(etm_fd fd)
{
	close(fd);
}
/* g_auto(etm_fd) fd = -1: closed at the end of the scope unless still -1. */
G_DEFINE_AUTO_CLEANUP_FREE_FUNC(etm_fd, etm_fd_close, -1)

#endif
