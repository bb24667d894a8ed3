/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * memcg_lru's kernel-text parsers on arbitrary bytes: memory.stat (v1/v2),
 * the multi-gen LRU switch and the debugfs lru_gen listing. Never reads
 * outside the input; results stay within their bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scan/memcg_reclaim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A private copy of exactly @size bytes, so ASan sees any overread. */
	char *buf = malloc(size ? size : 1);
	struct etm_memcg_lru_stat s;
	struct etm_lru_gen_memcg m;
	bool on;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	(void)etm_memcg_stat_parse(buf, size, &s);
	(void)etm_lru_gen_enabled_parse(buf, size, &on);
	if (etm_lru_gen_parse(buf, size, "/etm-wl", &m) == 0 && (m.nnodes == 0 || m.nnodes > ETM_LRU_GEN_MAX_NODES))
		abort();
	(void)etm_lru_gen_parse(buf, size, "/", &m);
	free(buf);
	return 0;
}
