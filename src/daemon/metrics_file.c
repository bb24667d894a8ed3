/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * --metrics-file: the metrics text written for node_exporter's textfile
 * collector, which reads every *.prom file of its directory at each scrape
 * and must never see one half written. So each write goes to a new file of
 * the same directory (mkostemp: never an existing file, whatever another
 * user placed there; its name does not end in .prom) and is renamed over
 * the path, which readers then see whole, old or new.
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
#include "scan/clock.h"

struct etm_metrics_writer {
	struct etm_registry *reg;
	char *path;
	unsigned interval_s;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake; /* CLOCK_MONOTONIC */
	bool stop;
	int last_err; /* the last write's error, logged once until it changes */
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

static void *writer_main(void *arg)
{
	struct etm_metrics_writer *w = arg;

	while (!etm_mono_wait_unless(&w->lock, &w->wake, &w->stop, w->interval_s))
		write_once(w);
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
	etm_info("metrics written to %s every %u s", path, interval_s);
	*out = w;
	return 0;
}

void etm_metrics_writer_stop(struct etm_metrics_writer *w)
{
	if (!w)
		return;
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
