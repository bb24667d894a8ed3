/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * --metrics-file: the metrics text written for node_exporter's textfile
 * collector, which reads every *.prom file of its directory at each scrape
 * and must never see one half written. So each write goes to a new file of
 * the same directory (mkostemp: never an existing file, whatever another
 * user placed there; its name does not end in .prom) and is renamed over
 * the path, which readers then see whole, old or new.
 *
 * When: soon after a task finishes a cycle (the registry's cycle hook,
 * cycle_hook.h, sets `pending`), and every interval when nothing cycles,
 * so that the daemon's own RSS and CPU still move. A cycle's write waits
 * ETM_METRICS_SETTLE_S, so that tasks finishing together (projects started
 * together, one cslide thread's tasks) make one write, and comes at least
 * ETM_METRICS_FLOOR_S after the previous one (metrics.h says why).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fdio.h"
#include "common/log.h"
#include "metrics.h"
#include "registry.h"
#include "scan/clock.h"

struct etm_metrics_writer {
	struct etm_registry *reg;
	char *path;
	unsigned interval_s;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake; /* CLOCK_MONOTONIC */
	bool stop;
	bool pending;	   /* a cycle finished since the last write */
	double pending_at; /* when the first of them did (etm_mono_now()) */
	int last_err;	   /* the last write's error, logged once until it changes */
};

int etm_metrics_write_file(const char *path, const char *text, size_t len)
{
	g_autofree char *tmp = g_strdup_printf("%s.XXXXXX", path);
	int fd = mkostemp(tmp, O_CLOEXEC);
	int err;

	if (fd < 0)
		return -errno;
	/* Readable by the collector, which does not run as root. */
	err = fchmod(fd, 0644) ? -errno : etm_write_full(fd, text, len);
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

/* One render and write; a failure is logged when it differs from the last one. */
static int write_once(struct etm_metrics_writer *w)
{
	g_autoptr(GString) text = g_string_new(NULL);
	int err;

	etm_registry_metrics(w->reg, text);
	err = etm_metrics_write_file(w->path, text->str, text->len);
	if (err && err != w->last_err)
		etm_err("metrics file %s: %s (retried every %u s)", w->path, strerror(-err), w->interval_s);
	else if (!err && w->last_err)
		etm_info("metrics file %s: written again", w->path);
	w->last_err = err;
	return err;
}

/* The cycle hook's listener, on an engine's thread: note it and wake the writer, nothing more. */
static void on_cycle(void *data)
{
	struct etm_metrics_writer *w = data;

	pthread_mutex_lock(&w->lock);
	if (!w->pending) {
		w->pending = true;
		w->pending_at = etm_mono_now();
		pthread_cond_signal(&w->wake);
	}
	pthread_mutex_unlock(&w->lock);
}

/* Lock held: when the next write is due, the previous one having been at @last. */
static double next_write(const struct etm_metrics_writer *w, double last)
{
	double due = last + w->interval_s;

	if (w->pending)
		due = MIN(due, MAX(w->pending_at + ETM_METRICS_SETTLE_S, last + ETM_METRICS_FLOOR_S));
	return due;
}

static void *writer_main(void *arg)
{
	struct etm_metrics_writer *w = arg;
	double last = etm_mono_now(); /* start wrote the first one */
	struct timespec dl;
	double due, now;

	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		due = next_write(w, last);
		now = etm_mono_now();
		if (now < due) {
			/* Woken early by a cycle, a stop or a spurious wake-up: the loop works out which. */
			etm_mono_after(due - now, &dl);
			pthread_cond_timedwait(&w->wake, &w->lock, &dl);
			continue;
		}
		w->pending = false; /* a cycle finishing while this write renders is in it, or in the next */
		pthread_mutex_unlock(&w->lock);
		write_once(w);
		last = etm_mono_now();
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static void writer_free(struct etm_metrics_writer *w)
{
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	g_free(w->path);
	g_free(w);
}

int etm_metrics_writer_start(struct etm_registry *reg, const char *path, unsigned interval_s,
			     struct etm_metrics_writer **out, GString *err)
{
	struct etm_metrics_writer *w = g_new0(struct etm_metrics_writer, 1);
	int ret;

	w->reg = reg;
	w->path = g_strdup(path);
	w->interval_s = interval_s;
	pthread_mutex_init(&w->lock, NULL);
	etm_mono_cond_init(&w->wake);
	if ((ret = write_once(w))) {
		g_string_printf(err, "cannot write the metrics file %s: %s", path, strerror(-ret));
		writer_free(w);
		return ret;
	}
	if ((ret = -pthread_create(&w->thread, NULL, writer_main, w))) {
		g_string_printf(err, "cannot start the metrics writer: %s", strerror(-ret));
		unlink(path);
		writer_free(w);
		return ret;
	}
	etm_registry_on_cycle(reg, on_cycle, w);
	etm_info("metrics written to %s after each cycle (at most every %g s) and at least every %u s", path,
		 ETM_METRICS_FLOOR_S, interval_s);
	*out = w;
	return 0;
}

void etm_metrics_writer_stop(struct etm_metrics_writer *w)
{
	if (!w)
		return;
	/* No engine thread calls on_cycle() once this returns: @w may go. */
	etm_registry_on_cycle(w->reg, NULL, NULL);
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_broadcast(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	/* Figures of a daemon that is gone must not be scraped as if it ran. */
	if (unlink(w->path) && errno != ENOENT)
		etm_warn("metrics file %s: cannot remove it: %s", w->path, strerror(errno));
	writer_free(w);
}
