/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * A third-party engine used by the integration tests: it exercises every
 * entry of struct engine_ops the way a real plugin would, without touching
 * any process memory.
 *   engine key  test_mode=ok|fail_fill   (fail_fill: fill_eng_params fails)
 *   task key    test_start=ok|slow|fail  (slow: start_task sleeps 3 s)
 *   private command "bytes": writes all 256 byte values, 0xff and 0xfe included
 *   private command "echo": writes the task name, or "no task"
 *   private command "fill N": writes N bytes ('a'..'z' repeated)
 *   private command "pids": the task's pids (tk->pids) whose alloc_pid_params
 *   ran, then "params=N" (per-pid parameters alive in the engine)
 * With ETMEM_TEST_PLUGIN_MARKER set to a directory in etmemd's environment,
 * loading the library leaves a file ran-TEST_ENGINE_ID there: the stress
 * tests build it twice under two ids to prove which library etmemd ran.
 * It also exports decoys for the loader's ops_name checks: symbols that are
 * not a struct engine_ops of this library.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "etmem/etmemd_thirdparty_export.h"

struct test_task {
	char *start_mode;
	int running;
};

static int fill_eng(GKeyFile *config, struct engine *eng)
{
	char *mode = g_key_file_get_string(config, "engine", "test_mode", NULL);
	int ret = mode && strcmp(mode, "fail_fill") == 0 ? -1 : 0;

	eng->params = mode;
	return ret;
}

static void clear_eng(struct engine *eng)
{
	g_free(eng->params);
	eng->params = NULL;
}

static int fill_task(GKeyFile *config, struct task *tk)
{
	struct test_task *tt = calloc(1, sizeof(*tt));

	if (!tt)
		return -1;
	tt->start_mode = g_key_file_get_string(config, "task", "test_start", NULL);
	tk->params = tt;
	return 0;
}

static void clear_task(struct task *tk)
{
	struct test_task *tt = tk->params;

	if (tt) {
		g_free(tt->start_mode);
		free(tt);
	}
	tk->params = NULL;
}

static int start_task(struct engine *eng, struct task *tk)
{
	struct test_task *tt = tk->params;

	(void)eng;
	if (tt->start_mode && strcmp(tt->start_mode, "fail") == 0)
		return -1;
	if (tt->start_mode && strcmp(tt->start_mode, "slow") == 0)
		sleep(3);
	tt->running = 1;
	return 0;
}

static void stop_task(struct engine *eng, struct task *tk)
{
	struct test_task *tt = tk->params;

	(void)eng;
	tt->running = 0;
}

/* Per-pid parameters alive: alloc_pid_params adds one, free_pid_params takes it back. */
static int live_pid_params;

static int alloc_pid(struct engine *eng, struct task_pid **tp)
{
	unsigned int *mine = malloc(sizeof(*mine));

	(void)eng;
	if (!mine)
		return -1;
	*mine = (*tp)->pid;
	(*tp)->params = mine;
	__atomic_add_fetch(&live_pid_params, 1, __ATOMIC_RELAXED);
	return 0;
}

static void free_pid(struct engine *eng, struct task_pid **tp)
{
	(void)eng;
	if (!(*tp)->params)
		return;
	free((*tp)->params);
	(*tp)->params = NULL;
	__atomic_sub_fetch(&live_pid_params, 1, __ATOMIC_RELAXED);
}

static int show_pids(struct task *tk, int fd)
{
	for (struct task_pid *tp = tk ? tk->pids : NULL; tp; tp = tp->next)
		if (tp->params && *(unsigned int *)tp->params == tp->pid)
			dprintf(fd, "%u ", tp->pid);
	dprintf(fd, "params=%d\n", __atomic_load_n(&live_pid_params, __ATOMIC_RELAXED));
	return 0;
}

static int fill(int fd, unsigned long long n)
{
	char buf[65536];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)('a' + i % 26);
	while (n > 0) {
		size_t chunk = n < sizeof(buf) ? (size_t)n : sizeof(buf);

		if (write(fd, buf, chunk) != (ssize_t)chunk)
			return -1;
		n -= chunk;
	}
	return 0;
}

static int mgt(struct engine *eng, struct task *tk, char *cmd, int fd)
{
	(void)eng;
	if (strcmp(cmd, "bytes") == 0) {
		unsigned char all[256];

		for (int i = 0; i < 256; i++)
			all[i] = (unsigned char)i;
		return write(fd, all, sizeof(all)) == (ssize_t)sizeof(all) ? 0 : -1;
	}
	if (strcmp(cmd, "echo") == 0) {
		dprintf(fd, "%s\n", tk ? tk->name : "no task");
		return 0;
	}
	if (strcmp(cmd, "pids") == 0)
		return show_pids(tk, fd);
	if (strncmp(cmd, "fill ", 5) == 0)
		return fill(fd, strtoull(cmd + 5, NULL, 10));
	return -1;
}

struct engine_ops test_engine_ops = {
	.fill_eng_params = fill_eng,
	.clear_eng_params = clear_eng,
	.fill_task_params = fill_task,
	.clear_task_params = clear_task,
	.start_task = start_task,
	.stop_task = stop_task,
	.alloc_pid_params = alloc_pid,
	.free_pid_params = free_pid,
	.eng_mgt_func = mgt,
};

#ifndef TEST_ENGINE_ID
#define TEST_ENGINE_ID "test_engine"
#endif

__attribute__((constructor)) static void mark_loaded(void)
{
	const char *dir = getenv("ETMEM_TEST_PLUGIN_MARKER");
	char path[512];
	int fd;

	if (!dir || (size_t)snprintf(path, sizeof(path), "%s/ran-" TEST_ENGINE_ID, dir) >= sizeof(path))
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd >= 0) {
		dprintf(fd, "%d\n", (int)getpid());
		close(fd);
	}
}

/* Decoys: an int, a function, and two right-sized objects whose entries point into data or into libc. */
int test_engine_not_ops = 1;

int test_engine_function(void)
{
	return test_engine_not_ops;
}

static int decoy_data[32];

struct engine_ops test_engine_data_ops = {
	.start_task = (int (*)(struct engine *, struct task *))(void *)decoy_data,
};

struct engine_ops test_engine_foreign_ops = {
	.fill_eng_params = fill_eng,
	.stop_task = (void (*)(struct engine *, struct task *))(void *)abort,
};
