/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * engine-hello: a small third-party etmemd engine, built out of tree against
 * the installed SDK (pkg-config etmem-engine etmemd_scan).
 *
 * Every hello_interval seconds each task finds its processes (type=pid: that
 * pid; type=name: every process whose comm is the value), records their
 * resident memory (VmRSS) and their anonymous VMAs (through libetmemd_scan),
 * and logs one line per process to syslog. The private command
 *   etmem engine showrss -n PROJECT -e ENGINE [-t TASK]
 * prints what the last cycle saw. It changes nothing in the system.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <etmem/etmemd_scan_export.h>
#include <etmem/etmemd_thirdparty_export.h>

#if ETMEM_ENGINE_ABI_VERSION != 1
#error "engine-hello is written for the etmem engine plugin ABI 1"
#endif

#define HELLO_EXPORT __attribute__((visibility("default")))
#define HELLO_MAX_PROCS 1024 /* per task and cycle: bounds the memory a cycle keeps */
#define HELLO_INTERVAL_MAX 3600

struct hello_proc {
	int pid;
	uint64_t rss_kb;
	uint64_t anon_vmas;
	uint64_t anon_kb;
};

struct hello_task {
	pthread_mutex_t lock; /* guards everything below */
	pthread_cond_t wake;
	pthread_t thread;
	bool thread_started;
	bool stop;
	int interval; /* seconds between cycles */
	unsigned long cycles;
	GArray *procs;	/* struct hello_proc of the last cycle */
	bool truncated; /* the last cycle found more than HELLO_MAX_PROCS */
};

/* ---- what one cycle looks at ------------------------------------------ */

static bool comm_is(int pid, const char *name)
{
	char path[64], comm[64];
	FILE *f;
	bool same = false;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (fgets(comm, sizeof(comm), f)) {
		comm[strcspn(comm, "\n")] = '\0';
		same = strcmp(comm, name) == 0;
	}
	fclose(f);
	return same;
}

/* VmRSS of @pid in kB; false when the process has gone. */
static bool read_rss(int pid, uint64_t *kb)
{
	char path[64], line[256];
	FILE *f;
	bool found = false;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "VmRSS: %" SCNu64, kb) == 1;
	fclose(f);
	return found;
}

static void measure(int pid, GArray *procs)
{
	struct hello_proc p = { .pid = pid };
	char pidstr[16];
	struct vmas *vmas;

	if (!read_rss(pid, &p.rss_kb))
		return; /* gone, or a kernel thread */
	snprintf(pidstr, sizeof(pidstr), "%d", pid);
	vmas = etmemd_get_vmas(pidstr, NULL, 0, true);
	if (vmas) {
		for (struct vma *v = vmas->vma_list; v; v = v->next) {
			p.anon_vmas++;
			p.anon_kb += (v->end - v->start) / 1024;
		}
		etmemd_free_vmas(vmas);
	}
	g_array_append_val(procs, p);
}

/* The processes of @tk now. Sets *truncated when there were too many. */
static GArray *collect(const struct task *tk, bool *truncated)
{
	GArray *procs = g_array_new(FALSE, FALSE, sizeof(struct hello_proc));
	struct dirent *de;
	DIR *dir;

	*truncated = false;
	if (strcmp(tk->type, "pid") == 0) {
		measure(atoi(tk->value), procs);
		return procs;
	}
	dir = opendir("/proc");
	if (!dir)
		return procs;
	while ((de = readdir(dir))) {
		int pid = atoi(de->d_name);

		if (pid <= 0 || !comm_is(pid, tk->value))
			continue;
		if (procs->len == HELLO_MAX_PROCS) {
			*truncated = true;
			break;
		}
		measure(pid, procs);
	}
	closedir(dir);
	return procs;
}

/* ---- the task's thread -------------------------------------------------- */

static void log_cycle(const struct task *tk, const GArray *procs, bool truncated)
{
	for (guint i = 0; i < procs->len; i++) {
		const struct hello_proc *p = &g_array_index(procs, struct hello_proc, i);

		syslog(LOG_INFO, "hello %s: pid %d rss %" PRIu64 " kB, %" PRIu64 " anonymous VMAs of %" PRIu64 " kB",
		       tk->name, p->pid, p->rss_kb, p->anon_vmas, p->anon_kb);
	}
	if (procs->len == 0)
		syslog(LOG_INFO, "hello %s: no process %s %s", tk->name, tk->type, tk->value);
	if (truncated)
		syslog(LOG_WARNING, "hello %s: more than %d processes, the rest not looked at", tk->name,
		       HELLO_MAX_PROCS);
}

/* @data is the task: etmemd frees it only after stop_task has joined us. */
static void *hello_thread(void *data)
{
	struct task *tk = data;
	struct hello_task *ht = tk->params;
	struct timespec until;

	pthread_mutex_lock(&ht->lock);
	while (!ht->stop) {
		GArray *procs, *old;
		bool truncated;

		pthread_mutex_unlock(&ht->lock);
		procs = collect(tk, &truncated);
		log_cycle(tk, procs, truncated);
		pthread_mutex_lock(&ht->lock);
		old = ht->procs;
		ht->procs = procs;
		ht->truncated = truncated;
		ht->cycles++;
		g_array_free(old, TRUE);

		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += ht->interval;
		while (!ht->stop && pthread_cond_timedwait(&ht->wake, &ht->lock, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&ht->lock);
	return NULL;
}

/* ---- struct engine_ops -------------------------------------------------- */

static int hello_fill_eng(GKeyFile *config, struct engine *eng)
{
	(void)config;
	/*
	 * The one run-time check of what we are loaded into: an etmemd of the
	 * pre-2023 ABI (THIRDPARTY_ENGINE = 6) has other layouts.
	 */
	if (eng->engine_type != THIRDPARTY_ENGINE) {
		syslog(LOG_ERR, "hello: etmemd passed engine_type %d, this plugin needs ABI %d (THIRDPARTY_ENGINE=%d)",
		       eng->engine_type, ETMEM_ENGINE_ABI_VERSION, THIRDPARTY_ENGINE);
		return -1;
	}
	return 0;
}

static int hello_fill_task(GKeyFile *config, struct task *tk)
{
	g_autoptr(GError) error = NULL;
	struct hello_task *ht;
	int interval = 5;

	if (g_key_file_has_key(config, "task", "hello_interval", NULL)) {
		interval = g_key_file_get_integer(config, "task", "hello_interval", &error);
		if (error || interval < 1 || interval > HELLO_INTERVAL_MAX) {
			syslog(LOG_ERR, "hello: task %s: hello_interval must be 1..%d seconds", tk->name,
			       HELLO_INTERVAL_MAX);
			return -1;
		}
	}
	if (!tk->type || !tk->value || (strcmp(tk->type, "pid") != 0 && strcmp(tk->type, "name") != 0)) {
		syslog(LOG_ERR, "hello: task %s: type must be pid or name", tk->name);
		return -1;
	}
	ht = calloc(1, sizeof(*ht));
	if (!ht)
		return -1;
	pthread_mutex_init(&ht->lock, NULL);
	{
		pthread_condattr_t attr;

		pthread_condattr_init(&attr);
		pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
		pthread_cond_init(&ht->wake, &attr);
		pthread_condattr_destroy(&attr);
	}
	ht->interval = interval;
	ht->procs = g_array_new(FALSE, FALSE, sizeof(struct hello_proc));
	tk->params = ht;
	return 0;
}

static void hello_clear_task(struct task *tk)
{
	struct hello_task *ht = tk->params;

	if (!ht)
		return;
	g_array_free(ht->procs, TRUE);
	pthread_cond_destroy(&ht->wake);
	pthread_mutex_destroy(&ht->lock);
	free(ht);
	tk->params = NULL;
}

static int hello_start_task(struct engine *eng, struct task *tk)
{
	struct hello_task *ht = tk->params;

	(void)eng;
	ht->stop = false;
	if (pthread_create(&ht->thread, NULL, hello_thread, tk) != 0)
		return -1;
	ht->thread_started = true;
	return 0;
}

/* Must return promptly: the thread waits on ht->wake between cycles. */
static void hello_stop_task(struct engine *eng, struct task *tk)
{
	struct hello_task *ht = tk->params;

	(void)eng;
	if (!ht->thread_started)
		return;
	pthread_mutex_lock(&ht->lock);
	ht->stop = true;
	pthread_cond_signal(&ht->wake);
	pthread_mutex_unlock(&ht->lock);
	pthread_join(ht->thread, NULL);
	ht->thread_started = false;
}

static void show_task(struct task *tk, FILE *out)
{
	struct hello_task *ht = tk->params;

	pthread_mutex_lock(&ht->lock);
	fprintf(out, "task %s (%s %s): %lu cycles, %u processes%s\n", tk->name, tk->type, tk->value, ht->cycles,
		ht->procs->len, ht->truncated ? " (truncated)" : "");
	fprintf(out, "%-10s %-12s %-10s %-12s\n", "pid", "rss_kB", "anon_vmas", "anon_kB");
	for (guint i = 0; i < ht->procs->len; i++) {
		const struct hello_proc *p = &g_array_index(ht->procs, struct hello_proc, i);

		fprintf(out, "%-10d %-12" PRIu64 " %-10" PRIu64 " %-12" PRIu64 "\n", p->pid, p->rss_kb, p->anon_vmas,
			p->anon_kb);
	}
	pthread_mutex_unlock(&ht->lock);
}

/* The fd is etmemd's: write through a FILE of our own and leave the fd open. */
static int hello_command(struct engine *eng, struct task *tk, char *cmd, int fd)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out;

	if (strcmp(cmd, "showrss") != 0) {
		syslog(LOG_ERR, "hello: unknown command '%s' (the one command is showrss)", cmd);
		return -1;
	}
	out = open_memstream(&text, &len);
	if (!out)
		return -1;
	if (tk) {
		show_task(tk, out);
	} else {
		for (struct task *t = eng->tasks; t; t = t->next)
			show_task(t, out);
	}
	fclose(out);
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, text + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(text);
			return -1;
		}
		done += (size_t)n;
	}
	free(text);
	return 0;
}

HELLO_EXPORT struct engine_ops hello_engine_ops = {
	.fill_eng_params = hello_fill_eng,
	.fill_task_params = hello_fill_task,
	.clear_task_params = hello_clear_task,
	.start_task = hello_start_task,
	.stop_task = hello_stop_task,
	.eng_mgt_func = hello_command,
};
