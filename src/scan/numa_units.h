/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The units move_pages(2) moves in a range of a process: a base page, or a
 * whole large folio (THP, mTHP, hugetlb) whichever address of it is given.
 * cslide must plan and count in these units, or one 4 KiB entry of a THP
 * would move 2 MiB past the quota. Found from /proc/PID/pagemap (page frame
 * numbers, root only) and /proc/kpageflags (compound head/tail flags).
 * Costs one pagemap read per range and one kpageflags read per present
 * page, so it is meant for VMAs that may hold THP (smaps AnonHugePages);
 * hugetlb VMAs have one page size (smaps KernelPageSize) and need no look.
 */
#ifndef ETM_SCAN_NUMA_UNITS_H
#define ETM_SCAN_NUMA_UNITS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "scan/numa_move.h"

/* /proc/kpageflags bits (include/uapi/linux/kernel-page-flags.h). */
#define ETM_KPF_COMPOUND_HEAD (1ULL << 15)
#define ETM_KPF_COMPOUND_TAIL (1ULL << 16)
#define ETM_KPF_HUGE (1ULL << 17)
#define ETM_KPF_THP (1ULL << 22)
/* The largest folio looked for: a 1 GiB page, in 4 KiB frames. */
#define ETM_UNITS_MAX_FOLIO_PAGES (1u << 18)

/* Flags of @n frames from @pfn (0 past the end of memory). 0 or -errno. */
typedef int (*etm_kpf_read_fn)(void *arg, uint64_t pfn, size_t n, uint64_t *flags);

/*
 * Pure part: @pm holds the pagemap entries of the @n pages from @start.
 * Each present page becomes a 4 KiB unit, or its folio's unit (the folio
 * head's address, the folio's size) once for all its pages in the range.
 * @out needs room for @n units; *nout gets how many. -EPERM when no
 * present page shows a frame number (the caller lacks CAP_SYS_ADMIN).
 */
int etm_numa_units_parse(uint64_t start, const uint64_t *pm, size_t n, etm_kpf_read_fn kpf, void *arg,
			 struct etm_numa_page *out, size_t *nout);

/* The same for @npages pages from @start (page aligned) of @pid. -ESRCH when gone. */
int etm_numa_units(pid_t pid, uint64_t start, size_t npages, struct etm_numa_page *out, size_t *nout);

#endif
