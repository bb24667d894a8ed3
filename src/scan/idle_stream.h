/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Parser of the openEuler /proc/PID/idle_pages byte stream: a pure function
 * over a buffer (fuzzed by tests/fuzz/fuzz_idle_pages.c).
 *
 * Stream: 0xA0 (PIP_CMD_SET_HVA) + 8-byte big-endian address sets the cursor;
 * every other byte is (type << 4) | nr, nr in 1..15 pages of that type from
 * the cursor, which then advances by nr * size(type).
 */
#ifndef ETM_SCAN_IDLE_STREAM_H
#define ETM_SCAN_IDLE_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "etmem/etmemd_exp.h"

enum etm_pip_type {
	ETM_PIP_PTE_ACCESSED = 0,
	ETM_PIP_PMD_ACCESSED = 1,
	ETM_PIP_PUD_PRESENT = 2,
	ETM_PIP_PTE_DIRTY = 3,
	ETM_PIP_PMD_DIRTY = 4,
	ETM_PIP_PTE_IDLE = 5,
	ETM_PIP_PMD_IDLE = 6,
	ETM_PIP_PMD_IDLE_PTES = 7,
	ETM_PIP_PTE_HOLE = 8,
	ETM_PIP_PMD_HOLE = 9,
	ETM_PIP_CMD = 10,
};

#define ETM_PIP_CMD_SET_HVA 0xA0
#define ETM_PIP_SET_HVA_LEN 9
/* The kernel rejects reads shorter than 2 * 8 + 3 bytes. */
#define ETM_PIP_BUF_MIN 19

#define ETM_PTE_SIZE (1ULL << 12)
#define ETM_PMD_SIZE (1ULL << 21)
#define ETM_PUD_SIZE (1ULL << 30)

/*
 * One run of @nr pages of size @type (PTE/PMD/PUD) from @addr, each with
 * access weight @weight (0 idle, 1 accessed, 3 dirty). Return non-zero to
 * stop the parse (the parser returns that value).
 */
typedef int (*etm_pip_emit_fn)(void *arg, uint64_t addr, uint64_t nr, enum page_type type, unsigned weight);

struct etm_pip_result {
	uint64_t next; /* cursor after the last complete item (0 if none was set) */
	size_t used;   /* bytes consumed */
	uint64_t items;
};

/*
 * Parse @len bytes. The stream must start with SET_HVA. Items whose address
 * is not aligned to their page size are skipped (the cursor still advances),
 * as the kernel never emits them. Returns 0 when the whole buffer parsed,
 * -EPROTO on an unknown type, nr 0, a page item before any SET_HVA, a
 * truncated SET_HVA or a cursor overflow (items before it were emitted and
 * res->used says where it stopped), or the first non-zero @emit value.
 */
int etm_pip_parse(const uint8_t *buf, size_t len, etm_pip_emit_fn emit, void *arg, struct etm_pip_result *res);

#endif
