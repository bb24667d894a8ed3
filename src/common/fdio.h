/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Writing a whole buffer to a descriptor: the client's output, the daemon's
 * reports to a client and its metrics textfile all need the same loop over
 * short writes and EINTR.
 */
#ifndef ETM_FDIO_H
#define ETM_FDIO_H

#include <stddef.h>

/* Write all @len bytes of @buf to @fd; 0, or -errno of the write that failed. */
int etm_write_full(int fd, const void *buf, size_t len);

#endif
