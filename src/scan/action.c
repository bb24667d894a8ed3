/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * What every swap-out action shares (action.h). Apart from the table of
 * backends (backend.c, library etmemd_backend) so that what links only the
 * scan library (the rig's numatool) has it.
 */
#include "scan/action.h"

const char *etm_action_fail_name(enum etm_action_fail r)
{
	static const char *const names[ETM_ACTION_FAIL_NR] = { "busy", "nomem", "gone", "exited", "other" };

	return (unsigned)r < ETM_ACTION_FAIL_NR ? names[r] : "?";
}
