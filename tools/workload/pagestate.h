/* Per-page kernel state of a range of a process: present/swapped (pagemap), node (move_pages). */
#ifndef ETMEM_WL_PAGESTATE_H
#define ETMEM_WL_PAGESTATE_H

#include <stdint.h>
#include <sys/types.h>

#define WL_MAX_NODES 64

enum wl_pstate { WL_PS_NOT_PRESENT = 0, WL_PS_RESIDENT = 1, WL_PS_SWAPPED = 2 };

/*
 * For npages base pages from addr in process pid (0 = self):
 * state[i] = enum wl_pstate from /proc/PID/pagemap (bit 63 present, bit 62 swapped);
 * node[i]  = NUMA node of resident pages from a move_pages() query, -1 otherwise
 *            (node may be NULL to skip the query).
 * Note: swapped-out shmem pages show as not present in pagemap (kernel behaviour).
 * Returns 0 or -errno.
 */
int wl_page_states(pid_t pid, uintptr_t addr, uint64_t npages, uint8_t *state, int16_t *node);

/* PFN of each page (0 when not present); needs CAP_SYS_ADMIN. Returns 0 or -errno. */
int wl_page_pfns(pid_t pid, uintptr_t addr, uint64_t npages, uint64_t *pfn);

/* Number of possible NUMA nodes (highest id + 1) from sysfs; 1 on failure. */
int wl_nr_possible_nodes(void);

#endif
