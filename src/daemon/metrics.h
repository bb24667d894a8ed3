/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Metrics: the registry's projects, tasks and figures, and the daemon's own
 * resources, in the Prometheus text exposition format 0.0.4 (docs/metrics.md
 * is the normative text): what `etmem metrics` prints and what etmemd's
 * --metrics-file writes for node_exporter's textfile collector.
 *
 * Every figure of every engine (figures.h) is a family `etmem_task_NAME`
 * (`_total` for a counter) with the labels project, engine and task; a map
 * adds its own label (errors by kind); text figures are labels of
 * `etmem_task_info`. A new figure becomes a metric with no change here.
 */
#ifndef ETM_METRICS_H
#define ETM_METRICS_H

#include <glib.h>

struct etm_registry;

/* The metrics text, appended to @out. */
void etm_registry_metrics(struct etm_registry *reg, GString *out);

/*
 * The metrics file: written atomically (a temporary file in the same
 * directory, then rename(2)) by a thread of its own, and removed when the
 * writer stops. It is rewritten soon after any task of @reg finishes a
 * cycle (the registry's cycle hook), and every @interval_s seconds when
 * none does (the daemon's RSS and CPU still change).
 *
 * A cycle's write waits ETM_METRICS_SETTLE_S, which gathers the tasks that
 * finish together into one write, and comes at least ETM_METRICS_FLOOR_S
 * after the previous write. The floor is one second because nothing reads
 * the file more often: node_exporter reads it at each scrape, and scrape
 * intervals are seconds at the least (Prometheus' default is 60 s). Every
 * write renders every task's figures under the registry lock (which
 * `project start/stop/show` wait for) and creates and renames a file: a
 * project of many 1-second tasks would otherwise do that dozens of times a
 * second for no reader. The first write happens before
 * start returns: 0, or -errno with @err saying why (a daemon told to write
 * its metrics somewhere it cannot refuses to start). Later failures are
 * logged, once per distinct error, and retried at the next interval.
 */
#define ETM_METRICS_INTERVAL_DEFAULT_S 10
#define ETM_METRICS_INTERVAL_MAX_S 3600
#define ETM_METRICS_FLOOR_S 1.0
#define ETM_METRICS_SETTLE_S 0.2
struct etm_metrics_writer;
int etm_metrics_writer_start(struct etm_registry *reg, const char *path, unsigned interval_s,
			     struct etm_metrics_writer **out, GString *err);
void etm_metrics_writer_stop(struct etm_metrics_writer *w);

/* Write @text to @path atomically (the writer's step, for tests): 0 or -errno. */
int etm_metrics_write_file(const char *path, const char *text, size_t len);

#endif
