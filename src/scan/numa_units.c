/* SPDX-License-Identifier: MulanPSL-2.0 */
/* Folio units of a range, from pagemap and kpageflags (see numa_units.h). */
#include "scan/numa_units.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PM_PRESENT (1ULL << 63)
#define PM_PFN_MASK ((1ULL << 55) - 1)
#define PAGE 4096ULL
#define WINDOW 512u

static uint64_t pfn_of(uint64_t e)
{
	return e & PM_PRESENT ? e & PM_PFN_MASK : 0;
}

/* The head frame of the folio @pfn is a tail of, looking back at most a 1 GiB folio; 0 if none. */
static int find_head(etm_kpf_read_fn kpf, void *arg, uint64_t pfn, uint64_t *head, uint64_t *buf)
{
	uint64_t back = 0;

	while (back < ETM_UNITS_MAX_FOLIO_PAGES && pfn > back) {
		uint64_t lo = pfn - back > WINDOW ? pfn - back - WINDOW : 0;
		size_t k = (size_t)(pfn - back - lo);
		int err = kpf(arg, lo, k, buf);

		if (err)
			return err;
		for (size_t j = k; j-- > 0;) {
			if (buf[j] & ETM_KPF_COMPOUND_HEAD) {
				*head = lo + j;
				return 0;
			}
			if (!(buf[j] & ETM_KPF_COMPOUND_TAIL))
				return -ENOENT;
		}
		back += k;
	}
	return -ENOENT;
}

/* Frames in the folio headed by @head: the head and the tails after it. */
static int folio_pages(etm_kpf_read_fn kpf, void *arg, uint64_t head, uint64_t *nr, uint64_t *buf)
{
	*nr = 1;
	while (*nr < ETM_UNITS_MAX_FOLIO_PAGES) {
		int err = kpf(arg, head + *nr, WINDOW, buf);

		if (err)
			return err;
		for (size_t j = 0; j < WINDOW; j++) {
			if (!(buf[j] & ETM_KPF_COMPOUND_TAIL))
				return 0;
			++*nr;
		}
	}
	return 0;
}

static uint8_t shift_of(uint64_t nr)
{
	uint8_t s = 12;

	while ((1ULL << (s - 12)) < nr)
		s++;
	return s;
}

/* The unit of the compound page at frame @pfn, or -ENOENT if its folio cannot be made out. */
static int folio_unit(etm_kpf_read_fn kpf, void *arg, uint64_t pfn, uint64_t flags, uint64_t *head, uint64_t *nr,
		      uint64_t *buf)
{
	int err = 0;

	*head = pfn;
	if (!(flags & ETM_KPF_COMPOUND_HEAD))
		err = find_head(kpf, arg, pfn, head, buf);
	if (!err)
		err = folio_pages(kpf, arg, *head, nr, buf);
	return err;
}

int etm_numa_units_parse(uint64_t start, const uint64_t *pm, size_t n, etm_kpf_read_fn kpf, void *arg,
			 struct etm_numa_page *out, size_t *nout)
{
	uint64_t *buf = malloc(WINDOW * sizeof(*buf));
	bool present = false, frames = false;
	size_t i = 0, k = 0;
	int err = 0;

	if (!buf)
		return -ENOMEM;
	while (i < n && !err) {
		uint64_t pfn = pfn_of(pm[i]), flags, head, nr = 1;

		present |= (pm[i] & PM_PRESENT) != 0;
		if (!pfn) {
			i++;
			continue;
		}
		frames = true;
		if ((err = kpf(arg, pfn, 1, &flags)))
			break;
		head = pfn;
		if (flags & (ETM_KPF_COMPOUND_HEAD | ETM_KPF_COMPOUND_TAIL)) {
			err = folio_unit(kpf, arg, pfn, flags, &head, &nr, buf);
			if (err == -ENOENT) {
				/* No head to be found (split or freed meanwhile): one page. */
				head = pfn;
				nr = 1;
				err = 0;
			}
			if (err)
				break;
		}
		out[k++] =
		    (struct etm_numa_page){ .addr = start + i * PAGE - (pfn - head) * PAGE, .shift = shift_of(nr) };
		/* The rest of this folio's pages in the range, mapped in order. */
		for (i++; i < n && pfn_of(pm[i]) == pfn + 1 && pfn + 1 < head + nr; i++)
			pfn++;
	}
	free(buf);
	if (!err && present && !frames)
		err = -EPERM;
	*nout = err ? 0 : k;
	return err;
}

static int kpf_pread(void *arg, uint64_t pfn, size_t n, uint64_t *flags)
{
	int fd = *(int *)arg;
	size_t done = 0;

	while (done < n * sizeof(*flags)) {
		ssize_t r = pread(fd, (char *)flags + done, n * sizeof(*flags) - done, (off_t)(pfn * 8 + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break; /* past the last frame */
		done += (size_t)r;
	}
	memset((char *)flags + done, 0, n * sizeof(*flags) - done);
	return 0;
}

static int read_pagemap(pid_t pid, uint64_t start, size_t npages, uint64_t *pm)
{
	char path[64];
	size_t done = 0, want = npages * sizeof(*pm);
	int fd, err = 0;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	while (done < want) {
		ssize_t r = pread(fd, (char *)pm + done, want - done, (off_t)(start / PAGE * 8 + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = r < 0 ? -errno : -EIO;
			break;
		}
		done += (size_t)r;
	}
	close(fd);
	return err;
}

int etm_numa_units(pid_t pid, uint64_t start, size_t npages, struct etm_numa_page *out, size_t *nout)
{
	uint64_t *pm = malloc((npages ? npages : 1) * sizeof(*pm));
	int fd = -1, err;

	*nout = 0;
	if (!pm)
		return -ENOMEM;
	err = read_pagemap(pid, start, npages, pm);
	if (!err) {
		fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
		err = fd < 0 ? -errno : 0;
	}
	if (!err)
		err = etm_numa_units_parse(start, pm, npages, kpf_pread, &fd, out, nout);
	if (fd >= 0)
		close(fd);
	free(pm);
	return err;
}
