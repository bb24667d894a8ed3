/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Public types of the scan library (libetmemd_scan), shared with third-party
 * engines. Layouts follow the original etmem ABI so that existing plugins
 * built against it keep working.
 */
#ifndef ETMEMD_EXP_H
#define ETMEMD_EXP_H

#include <stdbool.h>
#include <stdint.h>

#define VMA_PATH_STR_LEN 256
#define VMA_MAJOR_MINOR_LEN 8

enum page_type {
	PTE_TYPE = 0,
	PMD_TYPE,
	PUD_TYPE,
	PAGE_TYPE_INVAL,
};

enum vma_stat_index {
	VMA_STAT_READ = 0,
	VMA_STAT_WRITE,
	VMA_STAT_EXEC,
	VMA_STAT_MAY_SHARE,
	VMA_STAT_INIT,
};

struct vma {
	uint64_t start;
	uint64_t end;
	bool stat[VMA_STAT_INIT];
	uint64_t offset;
	uint64_t inode;
	char path[VMA_PATH_STR_LEN];
	char major[VMA_MAJOR_MINOR_LEN];
	char minor[VMA_MAJOR_MINOR_LEN];
	struct vma *next;
};

struct vmas {
	uint64_t vma_cnt;
	struct vma *vma_list;
};

/* One scanned page: its address, the sum of access weights seen, its size. */
struct page_refs {
	uint64_t addr;
	int count;
	enum page_type type;
	struct page_refs *next;
};

struct memory_grade {
	struct page_refs *hot_pages;
	struct page_refs *cold_pages;
};

struct page_sort {
	struct page_refs **page_refs_sort;
	struct page_refs **page_refs;
	int loop;
};

#endif
