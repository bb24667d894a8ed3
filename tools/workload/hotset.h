/* Hot-set definition shared by the workload and the tools that judge it. */
#ifndef ETMEM_WL_HOTSET_H
#define ETMEM_WL_HOTSET_H

#include <stdint.h>

enum wl_layout { WL_LAYOUT_CONTIGUOUS, WL_LAYOUT_INTERLEAVED };

/*
 * Is page idx (of npages) in the hot set of hot pages?
 * contiguous:  the first `hot` pages.
 * interleaved: exactly `hot` pages spread evenly; page i is hot when
 *              floor((i+1)*hot/npages) > floor(i*hot/npages), so hot = npages/10
 *              gives pages 9, 19, 29, ... This exact formula (not "every k-th")
 *              keeps the hot count equal to `hot` for any fraction.
 */
static inline int wl_page_is_hot(uint64_t idx, uint64_t npages, uint64_t hot, enum wl_layout layout)
{
	if (layout == WL_LAYOUT_CONTIGUOUS)
		return idx < hot;
	return (idx + 1) * hot / npages > idx * hot / npages;
}

#endif
