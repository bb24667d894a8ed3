/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * /proc and /sys readers. Every parser is a pure function over a buffer
 * (no I/O) so that it can be unit-tested and fuzzed; the etm_proc_* helpers
 * add the reading.
 */
#ifndef ETM_SCAN_PROCFS_H
#define ETM_SCAN_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "etmem/etmemd_exp.h"

/* The anonymous-VMA name that marks ranges for swap_flag=yes on mainline kernels. */
#define ETM_SWAP_VMA_NAME "etmem_swap"

/*
 * Read a whole (proc) file into a new NUL-terminated buffer of at most @max
 * bytes (-EFBIG when it is longer). The _fd form reads from @fd's position.
 */
int etm_read_file(const char *path, char **buf, size_t *len, size_t max);
int etm_read_fd(int fd, char **buf, size_t *len, size_t max);
int etm_write_str(const char *path, const char *s);

struct etm_meminfo {
	uint64_t mem_total_kb, mem_free_kb, mem_available_kb, swap_cached_kb, swap_total_kb, swap_free_kb;
};
int etm_parse_meminfo(const char *buf, size_t len, struct etm_meminfo *mi);
int etm_proc_meminfo(struct etm_meminfo *mi);

struct etm_proc_status {
	uint64_t vm_rss_kb, vm_swap_kb;
};
int etm_parse_status(const char *buf, size_t len, struct etm_proc_status *st);
int etm_proc_status(pid_t pid, struct etm_proc_status *st);

/* VMA selection used by etm_parse_maps(). */
struct etm_vma_filter {
	bool anon_only;	      /* the original's rule: private, not exec, and anonymous or writable */
	const char *name;     /* keep only [anon:NAME] VMAs (NULL: any) */
	char *const *vmflags; /* smaps input only: every listed 2-letter flag must be present */
	int nvmflags;
};

/*
 * Parse /proc/PID/maps (or smaps, which adds VmFlags lines) text into a new
 * struct vmas (the public ABI list, ascending). Special mappings ([vvar],
 * [vdso], [vsyscall]) are never kept. 0, -EINVAL on a malformed line, -ENOMEM.
 */
int etm_parse_maps(const char *buf, size_t len, const struct etm_vma_filter *f, struct vmas **out);
void etm_vmas_free(struct vmas *v);
/* Read and parse /proc/PID/maps (smaps if f->nvmflags). -ESRCH when the process is gone. */
int etm_proc_vmas(pid_t pid, const struct etm_vma_filter *f, struct vmas **out);

/* One VMA of /proc/PID/smaps, with what placing its pages needs. */
struct etm_smaps_vma {
	uint64_t start, end;
	uint64_t page_size; /* KernelPageSize in bytes: 4096, or the hugetlb page size */
	uint64_t anon_huge; /* AnonHugePages in bytes: anonymous THP mapped whole */
	bool hugetlb;	    /* VmFlags has ht */
};

/*
 * Parse /proc/PID/smaps text: the VMAs @f selects (as etm_parse_maps(),
 * f->vmflags matched against each VmFlags line), in address order, into a
 * new array (free()). 0, -EINVAL on a malformed VMA line, -ENOMEM.
 */
int etm_parse_smaps(const char *buf, size_t len, const struct etm_vma_filter *f, struct etm_smaps_vma **out, size_t *n);
int etm_proc_smaps(pid_t pid, const struct etm_vma_filter *f, struct etm_smaps_vma **out, size_t *n);

/*
 * The memory cgroup of a process from /proc/PID/cgroup text: the v1
 * "memory" controller's path if there is one (*v1 = true), else the v2 path.
 * -ENOENT if neither is present.
 */
int etm_parse_memcg(const char *buf, size_t len, char *path, size_t path_len, bool *v1);
int etm_proc_memcg(pid_t pid, char *path, size_t path_len, bool *v1);

/* System RAM ranges from /proc/iomem text (top-level "System RAM" lines), end exclusive. */
struct etm_addr_range {
	uint64_t start, end;
};
int etm_parse_iomem_ram(const char *buf, size_t len, struct etm_addr_range *r, size_t max, size_t *n);

#endif
