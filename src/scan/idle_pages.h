/* SPDX-License-Identifier: MulanPSL-2.0 */
/* Helpers of the idle_pages backend shared with the public scan library. */
#ifndef ETM_SCAN_IDLE_PAGES_H
#define ETM_SCAN_IDLE_PAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "scan/idle_stream.h"

/*
 * Can this process use openEuler's /proc/PID/@file (opened with @oflags)?
 * The files exist on kernels with CONFIG_ETMEM but fail with ENODEV while
 * the module @module is not loaded, so only opening tells. 0, or -errno
 * with @why (size @len) saying what is missing.
 */
int etm_etmem_probe(const char *file, int oflags, const char *module, char *why, size_t len);
/* Open /proc/@pid/idle_pages and set the scan flags. fd or -errno (-ESRCH: gone). */
int etm_idle_pages_open_fd(pid_t pid, unsigned scan_flags, bool vma_flag);
/* Read [start, end) in chunks of at most @bufsz bytes until covered, parsing as it goes. */
int etm_idle_pages_read_span(int fd, uint64_t start, uint64_t end, uint8_t *buf, size_t bufsz, etm_pip_emit_fn emit,
			     void *arg);

#endif
