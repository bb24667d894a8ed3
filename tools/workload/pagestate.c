#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "pagestate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PM_PRESENT (1ULL << 63)
#define PM_SWAPPED (1ULL << 62)
#define PM_PFN_MASK ((1ULL << 55) - 1)
#define CHUNK 65536 /* pagemap entries per read: 512 KiB reads are the fast path */

static int read_pagemap(pid_t pid, uintptr_t addr, uint64_t npages, uint64_t *out)
{
	char path[64];
	long psz = sysconf(_SC_PAGESIZE);
	uint64_t done = 0;
	int fd, err = 0;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/pagemap");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (done < npages) {
		uint64_t n = npages - done < CHUNK ? npages - done : CHUNK;
		off_t off = (off_t)((addr / psz + done) * 8);
		ssize_t r = pread(fd, out + done, n * 8, off);

		if (r < 0) {
			err = -errno;
			break;
		}
		if (r == 0) {
			err = -EIO;
			break;
		}
		done += (uint64_t)r / 8;
	}
	close(fd);
	return err;
}

int wl_page_states(pid_t pid, uintptr_t addr, uint64_t npages, uint8_t *state, int16_t *node)
{
	long psz = sysconf(_SC_PAGESIZE);
	uint64_t *pm = malloc(npages * sizeof(*pm));
	void **pages = NULL;
	int *status = NULL;
	uint64_t i;
	int err;

	if (!pm)
		return -ENOMEM;
	err = read_pagemap(pid, addr, npages, pm);
	if (err)
		goto out;
	for (i = 0; i < npages; i++)
		state[i] = (pm[i] & PM_PRESENT)	  ? WL_PS_RESIDENT
			   : (pm[i] & PM_SWAPPED) ? WL_PS_SWAPPED
						  : WL_PS_NOT_PRESENT;
	if (!node)
		goto out;
	pages = malloc(CHUNK * sizeof(*pages));
	status = malloc(CHUNK * sizeof(*status));
	if (!pages || !status) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < npages; i += CHUNK) {
		uint64_t j, n = npages - i < CHUNK ? npages - i : CHUNK;

		for (j = 0; j < n; j++)
			pages[j] = (void *)(addr + (i + j) * psz);
		/* nodes == NULL: query only, never faults pages in. */
		if (syscall(SYS_move_pages, pid, n, pages, NULL, status, 0) < 0) {
			err = -errno;
			goto out;
		}
		for (j = 0; j < n; j++)
			node[i + j] = status[j] >= 0 ? status[j] : -1;
	}
out:
	free(pm);
	free(pages);
	free(status);
	return err;
}

int wl_page_pfns(pid_t pid, uintptr_t addr, uint64_t npages, uint64_t *pfn)
{
	uint64_t i;
	int err = read_pagemap(pid, addr, npages, pfn);

	if (err)
		return err;
	for (i = 0; i < npages; i++)
		pfn[i] = (pfn[i] & PM_PRESENT) ? pfn[i] & PM_PFN_MASK : 0;
	return 0;
}

int wl_nr_possible_nodes(void)
{
	FILE *f = fopen("/sys/devices/system/node/possible", "re");
	char buf[256], *p;
	long last = 0;

	if (!f)
		return 1;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return 1;
	}
	fclose(f);
	/* Format "0-3" or "0,2-3": the highest id is the last number. */
	for (p = buf; *p; p++)
		if ((*p >= '0' && *p <= '9') && (p == buf || p[-1] < '0' || p[-1] > '9'))
			last = strtol(p, NULL, 10);
	if (last + 1 > WL_MAX_NODES)
		return WL_MAX_NODES;
	return (int)last + 1;
}
