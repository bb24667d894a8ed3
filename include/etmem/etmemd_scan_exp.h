/* SPDX-License-Identifier: MulanPSL-2.0 */
/* The six exported functions of libetmemd_scan. */
#ifndef ETMEMD_SCAN_EXP_H
#define ETMEMD_SCAN_EXP_H

#include "etmemd_exp.h"

/* Flags accepted by etmemd_get_page_refs() (openEuler idle_pages file flags). */
#define SCAN_AS_HUGE 0100000000
#define SCAN_IGN_HOST 0200000000
#define VMA_SCAN_FLAG 0x1000
#define ALL_SCAN_FLAGS (SCAN_AS_HUGE | SCAN_IGN_HOST | VMA_SCAN_FLAG)

/* Sets up page sizes and picks the access-tracking backend. -1 if already initialised. */
int etmemd_scan_init(void);
void etmemd_scan_exit(void);

/*
 * VMAs of process @pid worth scanning. With @vmflags_array, only VMAs whose
 * smaps VmFlags carry every listed two-letter flag. NULL on error.
 */
struct vmas *etmemd_get_vmas(const char *pid, char **vmflags_array, int vmflags_num, bool is_anon_only);
void etmemd_free_vmas(struct vmas *vmas);

/*
 * One scan pass over @vmas of @pid; weights are accumulated into *@page_refs
 * (an address-sorted list). Returns 0 or -1.
 */
int etmemd_get_page_refs(const struct vmas *vmas, const char *pid, struct page_refs **page_refs, int flags);
void etmemd_free_page_refs(struct page_refs *page_refs);

#endif
