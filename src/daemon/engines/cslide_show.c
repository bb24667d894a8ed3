/* SPDX-License-Identifier: MulanPSL-2.0 */
/* showhostpages and showtaskpages (see cslide_show.h). */
#include "cslide_show.h"

#include <errno.h>
#include <stdio.h>

#include "daemon/report.h"

#define KB_COL(n, h)                                                                                                   \
	{                                                                                                              \
		.name = n, .header = h, .type = ETM_COL_U64, .width = 10, .text_div = 1024                             \
	}

static const struct etm_col host_cols[] = {
	{ .name = "node", .header = "node", .type = ETM_COL_INT, .width = 5 },
	KB_COL("total_bytes", "total"),
	KB_COL("used_bytes", "used"),
	KB_COL("hot_bytes", "hot"),
	KB_COL("cold_bytes", "cold"),
};

static const struct etm_col task_cols[] = {
	{ .name = "node", .header = "node", .type = ETM_COL_INT, .width = 5 },
	KB_COL("used_bytes", "used"),
	KB_COL("hot_bytes", "hot"),
	KB_COL("cold_bytes", "cold"),
};

static int no_figures(GString *err)
{
	g_string_assign(err, CSLIDE_NO_FIGURES);
	return -EAGAIN;
}

int cslide_show_host(struct etm_report *r, const struct cslide_show *s, GString *err)
{
	struct etm_table *t;

	if (!s->stamp)
		return no_figures(err);
	t = etm_report_table(r, "host_pages", "host pages info (KB):", host_cols, G_N_ELEMENTS(host_cols));
	etm_table_set_time(t, s->stamp);
	for (size_t i = 0; i < s->n; i++) {
		const struct cslide_show_node *n = &s->nodes[i];

		etm_table_row(t);
		etm_table_int(t, 0, n->node);
		etm_table_u64(t, 1, n->total_kb * 1024);
		etm_table_u64(t, 2, (n->hot_kb + n->cold_kb) * 1024);
		etm_table_u64(t, 3, n->hot_kb * 1024);
		etm_table_u64(t, 4, n->cold_kb * 1024);
	}
	return 0;
}

int cslide_show_task(struct etm_report *r, int pid, const struct cslide_show *s, GString *err)
{
	struct etm_table *t;
	char title[64];

	if (!s->stamp)
		return no_figures(err);
	snprintf(title, sizeof(title), "task %d pages info (KB):", pid);
	t = etm_report_table(r, "task_pages", title, task_cols, G_N_ELEMENTS(task_cols));
	etm_table_set_time(t, s->stamp);
	for (size_t i = 0; i < s->n; i++) {
		const struct cslide_show_node *n = &s->nodes[i];

		etm_table_row(t);
		etm_table_int(t, 0, n->node);
		etm_table_u64(t, 1, (n->hot_kb + n->cold_kb) * 1024);
		etm_table_u64(t, 2, n->hot_kb * 1024);
		etm_table_u64(t, 3, n->cold_kb * 1024);
	}
	return 0;
}
