/* SPDX-License-Identifier: MulanPSL-2.0 */
/* Placeholder until the slide engine lands: parses nothing, has no runtime. */
#include "daemon/engine.h"

static const struct engine_ops slide_ops = { 0 };

const struct etm_engine_type etm_slide_engine = {
	.name = "slide",
	.type = SLIDE_ENGINE,
	.scan_type = PAGE_SCAN,
	.ops = &slide_ops,
};
