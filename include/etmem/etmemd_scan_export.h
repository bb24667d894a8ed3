/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef ETMEMD_SCAN_EXPORT_H
#define ETMEMD_SCAN_EXPORT_H
#include "etmemd_exp.h"
#include "etmemd_scan_exp.h"
#endif
