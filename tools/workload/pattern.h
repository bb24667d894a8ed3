/* Deterministic page contents, so that verification is exact. */
#ifndef ETMEM_WL_PATTERN_H
#define ETMEM_WL_PATTERN_H

#include <stddef.h>
#include <stdint.h>

/* Fill one page (psz bytes) with the pattern of (seed, page index, write generation). */
void wl_pattern_fill(void *page, size_t psz, uint64_t seed, uint64_t idx, uint32_t gen);

/* 0 when the page holds exactly that pattern, else -EILSEQ. */
int wl_pattern_check(const void *page, size_t psz, uint64_t seed, uint64_t idx, uint32_t gen);

#endif
