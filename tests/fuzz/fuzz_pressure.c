/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The psi engine's text parsers on arbitrary bytes: pressure files (the
 * target's name), and with them the other files it reads: memory.stat,
 * cgroup.procs (the twin check), the kernel command line and config (the
 * diagnosis) and mountinfo. Never reads outside the input; a pressure
 * file that parses has a some line with averages within 0..100, and the
 * level is one of its averages.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "daemon/engines/psi_backend.h"
#include "daemon/engines/psi_kernel.h"
#include "daemon/engines/psi_pressure.h"

static void check_line(const struct psi_pressure_line *l)
{
	if (!(l->avg10 >= 0 && l->avg10 <= 100) || !(l->avg60 >= 0 && l->avg60 <= 100) ||
	    !(l->avg300 >= 0 && l->avg300 <= 100))
		abort();
}

static void pressure(const char *buf, size_t size)
{
	struct psi_pressure p;
	double lv;

	if (psi_pressure_parse(buf, size, &p))
		return;
	if (!p.has_some)
		abort();
	check_line(&p.some);
	if (p.has_full)
		check_line(&p.full);
	lv = psi_pressure_level(&p);
	if (lv != p.some.avg10 && lv != p.some.avg60)
		abort();
}

static void others(const char *buf, size_t size)
{
	g_autoptr(GString) why = g_string_new(NULL);
	struct psi_stat st;
	struct psi_mounts m;
	size_t half = size / 2;
	bool covered;

	/* refaults are 0 unless memory.stat had them; the active lists are part of the LRUs */
	if (!psi_stat_parse(buf, size, &st) &&
	    ((!st.has_refaults && st.refaults) || (st.active > st.anon && st.active - st.anon > st.file)))
		abort();
	(void)psi_procs_covered(buf, half, buf + half, size - half, &covered);
	(void)psi_cmdline_bool(buf, size, "psi");
	(void)psi_kconfig_value(buf, size, "PSI");
	psi_diagnose(buf, half, buf + half, size - half, size & 1, size & 2, why);
	if (!why->len && !(size & 2) && !(size & 1))
		abort(); /* no PSI and nothing said */
	/* mountinfo: every mount found is an absolute, terminated path */
	psi_mounts_parse(buf, size, &m);
	if ((m.has_unified && m.unified.mnt[0] != '/') || (m.has_memory_v1 && m.memory_v1.mnt[0] != '/') ||
	    (m.has_cpuacct_v1 && m.cpuacct_v1.mnt[0] != '/') ||
	    strnlen(m.unified.mnt, sizeof(m.unified.mnt)) == sizeof(m.unified.mnt))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A private copy of exactly @size bytes, so ASan sees any overread. */
	char *buf = malloc(size ? size : 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	pressure(buf, size);
	others(buf, size);
	free(buf);
	return 0;
}
