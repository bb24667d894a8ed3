/* SPDX-License-Identifier: MulanPSL-2.0 */
#include "scan/idle_stream.h"

#include <errno.h>
#include <string.h>

static uint64_t type_size(unsigned t, enum page_type *pt)
{
	switch (t) {
	case ETM_PIP_PTE_ACCESSED:
	case ETM_PIP_PTE_DIRTY:
	case ETM_PIP_PTE_IDLE:
	case ETM_PIP_PTE_HOLE:
		*pt = PTE_TYPE;
		return ETM_PTE_SIZE;
	case ETM_PIP_PMD_ACCESSED:
	case ETM_PIP_PMD_DIRTY:
	case ETM_PIP_PMD_IDLE:
	case ETM_PIP_PMD_IDLE_PTES:
	case ETM_PIP_PMD_HOLE:
		*pt = PMD_TYPE;
		return ETM_PMD_SIZE;
	case ETM_PIP_PUD_PRESENT:
		*pt = PUD_TYPE;
		return ETM_PUD_SIZE;
	default:
		*pt = PAGE_TYPE_INVAL;
		return 0;
	}
}

static unsigned type_weight(unsigned t)
{
	switch (t) {
	case ETM_PIP_PTE_ACCESSED:
	case ETM_PIP_PMD_ACCESSED:
	case ETM_PIP_PUD_PRESENT:
		return 1;
	case ETM_PIP_PTE_DIRTY:
	case ETM_PIP_PMD_DIRTY:
		return 3;
	default:
		return 0;
	}
}

int etm_pip_parse(const uint8_t *buf, size_t len, etm_pip_emit_fn emit, void *arg, struct etm_pip_result *res)
{
	uint64_t cur = 0;
	int have = 0, ret;
	size_t i = 0;

	memset(res, 0, sizeof(*res));
	while (i < len) {
		uint8_t b = buf[i];
		unsigned type = b >> 4, nr = b & 0xf;
		enum page_type pt;
		uint64_t size, span;

		if (b == ETM_PIP_CMD_SET_HVA) {
			if (len - i < ETM_PIP_SET_HVA_LEN)
				goto proto; /* truncated address */
			cur = 0;
			for (int k = 1; k < ETM_PIP_SET_HVA_LEN; k++)
				cur = (cur << 8) | buf[i + k];
			have = 1;
			i += ETM_PIP_SET_HVA_LEN;
			res->used = i;
			res->next = cur;
			continue;
		}
		size = type_size(type, &pt);
		if (!size || !nr || !have)
			goto proto;
		span = size * nr;
		if (cur > UINT64_MAX - span)
			goto proto;
		if (!(cur & (size - 1)) && type != ETM_PIP_PTE_HOLE && type != ETM_PIP_PMD_HOLE) {
			if (type == ETM_PIP_PMD_IDLE_PTES) /* a whole PMD's PTEs, all idle */
				ret = emit(arg, cur, (uint64_t)nr * (ETM_PMD_SIZE / ETM_PTE_SIZE), PTE_TYPE, 0);
			else
				ret = emit(arg, cur, nr, pt, type_weight(type));
			if (ret)
				return ret;
		}
		cur += span;
		i++;
		res->items++;
		res->used = i;
		res->next = cur;
	}
	return 0;
proto:
	return -EPROTO;
}
