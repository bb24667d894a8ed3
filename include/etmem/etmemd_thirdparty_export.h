/* SPDX-License-Identifier: MulanPSL-2.0 */
/* Everything a third-party engine plugin needs: see docs/plugins.md. */
#ifndef ETMEMD_THIRDPARTY_EXPORT_H
#define ETMEMD_THIRDPARTY_EXPORT_H
#include "etmemd_engine_exp.h"
#include "etmemd_project_exp.h"
#include "etmemd_task_exp.h"
#endif
