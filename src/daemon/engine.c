/* SPDX-License-Identifier: MulanPSL-2.0 */
#include "engine.h"

#include <string.h>

static const struct etm_engine_type *const builtin_types[] = {
	&etm_slide_engine,
	&etm_cslide_engine,
	&etm_psi_engine,
	&etm_thirdparty_engine,
};

const struct etm_engine_type *etm_engine_type_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof(builtin_types) / sizeof(builtin_types[0]); i++) {
		if (strcmp(builtin_types[i]->name, name) == 0)
			return builtin_types[i];
	}
	return NULL;
}
