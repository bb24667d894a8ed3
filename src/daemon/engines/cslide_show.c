/* SPDX-License-Identifier: MulanPSL-2.0 */
/* showhostpages and showtaskpages (see cslide_show.h). */
#include "cslide_show.h"

#include <errno.h>
#include <inttypes.h>

#define NO_FIGURES                                                                                                     \
	"no page figures yet: cslide has not finished a cycle since the task started (a cycle scans loop x sleep "     \
	"seconds, then places the pages)\n"

/* "[Thu Nov 21 10:00:00 2026] ": asctime()'s layout in local time, as the original. */
static void stamp(GString *out, time_t t)
{
	struct tm tm;
	char buf[64];

	if (localtime_r(&t, &tm) && strftime(buf, sizeof(buf), "%a %b %e %H:%M:%S %Y", &tm))
		g_string_append_printf(out, "[%s] ", buf);
}

int cslide_show_host(GString *out, const struct cslide_show *s)
{
	if (!s->stamp) {
		g_string_append(out, NO_FIGURES);
		return -EAGAIN;
	}
	stamp(out, s->stamp);
	g_string_append(out, "host pages info (KB):\n");
	g_string_append_printf(out, "%5s %10s %10s %10s %10s\n", "node", "total", "used", "hot", "cold");
	for (size_t i = 0; i < s->n; i++) {
		const struct cslide_show_node *n = &s->nodes[i];

		g_string_append_printf(out, "%5d %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64 "\n", n->node,
				       n->total_kb, n->hot_kb + n->cold_kb, n->hot_kb, n->cold_kb);
	}
	return 0;
}

int cslide_show_task(GString *out, int pid, const struct cslide_show *s)
{
	if (!s->stamp) {
		g_string_append(out, NO_FIGURES);
		return -EAGAIN;
	}
	stamp(out, s->stamp);
	g_string_append_printf(out, "task %d pages info (KB):\n", pid);
	g_string_append_printf(out, "%5s %10s %10s %10s\n", "node", "used", "hot", "cold");
	for (size_t i = 0; i < s->n; i++) {
		const struct cslide_show_node *n = &s->nodes[i];

		g_string_append_printf(out, "%5d %10" PRIu64 " %10" PRIu64 " %10" PRIu64 "\n", n->node,
				       n->hot_kb + n->cold_kb, n->hot_kb, n->cold_kb);
	}
	return 0;
}
