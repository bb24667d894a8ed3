/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The registry of projects, engines and tasks, and the operations the
 * clients ask for.
 *
 * Locking: one registry mutex guards the lists, every project's state and
 * every task's state. Slow work (starting or stopping engine tasks, engine
 * private commands) runs without it: the project is first marked
 * STARTING/STOPPING or busy, which makes every other operation that would
 * change it fail with ETM_ERR_BUSY instead of waiting, so `project show` and
 * other projects are never held up by one slow start.
 *
 * Task runtimes (engine.h has the contract): a task leaves STARTED under the
 * lock before its engine's stop_task runs, and `project show` reads figures
 * under the lock of STARTED tasks only, so a runtime freed by stop_task is
 * never read.
 */
#include "registry.h"
#include "registry_int.h"

#include <errno.h>
#include <time.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/proto.h"
#include "engine.h"
#include "figures.h"
#include "learnt.h"
#include "scan/clock.h"
#include "target.h"

/* ---- registry --------------------------------------------------------- */

struct etm_registry *etm_registry_new(void)
{
	struct etm_registry *reg = calloc(1, sizeof(*reg));

	if (!reg)
		return NULL;
	pthread_mutex_init(&reg->lock, NULL);
	etm_mono_cond_init(&reg->settled);
	etm_mono_cond_init(&reg->load_done);
	reg->conf_owner = etm_conf_owner_root;
	reg->learnt = etm_learnt_new();
	etm_cycle_hook_init(&reg->cycle_hook);
	reg->started_at = (double)g_get_real_time() / G_USEC_PER_SEC;
	return reg;
}

void etm_registry_set_conf_owner_check(struct etm_registry *reg, int (*owner_ok)(const struct stat *st, GString *why))
{
	reg->conf_owner = owner_ok ? owner_ok : etm_conf_owner_root;
}

struct etm_project *etm_reg_find_project(struct etm_registry *reg, const char *name)
{
	for (struct etm_project *p = reg->projects; p; p = p->next) {
		if (strcmp(p->pub.name, name) == 0)
			return p;
	}
	return NULL;
}

void etm_reg_unlink_project(struct etm_registry *reg, struct etm_project *proj)
{
	for (struct etm_project **pp = &reg->projects; *pp; pp = &(*pp)->next) {
		if (*pp == proj) {
			*pp = proj->next;
			proj->next = NULL;
			return;
		}
	}
}

void etm_registry_on_cycle(struct etm_registry *reg, void (*fn)(void *data), void *data)
{
	etm_cycle_hook_set(&reg->cycle_hook, fn, data);
}

struct etm_learnt *etm_task_learnt(struct task *tk)
{
	return etm_task_of(tk)->learnt;
}

void etm_task_report_error(struct task *tk, const char *fmt, ...)
{
	struct etm_task *t = etm_task_of(tk);
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	etm_err("task %s: %s", tk->name, msg);
	if (t->start_err && t->start_err->len == 0)
		g_string_printf(t->start_err, "task %s: %s", tk->name, msg);
	g_free(msg);
}

/* Moves @tk from @from to @to under the registry lock; false when it was not in @from. */
static bool task_move(struct etm_registry *reg, struct etm_task *tk, enum etm_task_state from, enum etm_task_state to)
{
	bool moved;

	pthread_mutex_lock(&reg->lock);
	moved = tk->state == from;
	if (moved)
		tk->state = to;
	pthread_mutex_unlock(&reg->lock);
	return moved;
}

/*
 * A target that reaches beyond its workload is refused for every engine
 * (target.h): when the task is added, and again when it starts, since what
 * a name matches changes. true with @err set.
 */
bool etm_reg_target_refused(struct etm_task *tk, GString *err)
{
	char why[256] = "";

	if (!tk->pub.type || !tk->pub.value ||
	    etm_target_check(tk->pub.type, tk->pub.value, why, sizeof(why)) != -EPERM)
		return false;
	g_string_printf(err, "task %s: target %s=%s refused: %s", tk->pub.name, tk->pub.type, tk->pub.value, why);
	etm_warn("%s", err->str);
	return true;
}

/*
 * A plugin task's processes as the ABI shows them (tk->pids, engine.h),
 * resolved once as it starts: a plugin has no other way to have its
 * alloc_pid_params called. Resolution errors leave the list empty.
 */
static void plugin_task_pids(struct engine *eng, struct task *tk)
{
	g_autofree pid_t *pids = NULL;
	size_t n = 0;

	if (!tk->type || !tk->value || etm_target_resolve(tk->type, tk->value, &pids, &n, NULL, 0))
		return;
	etm_task_pids_sync(eng, tk, pids, n);
}

/*
 * The engine's start_task, with its failure explained in @err. The caller
 * has the task in STARTING (or holds the lock over a task nobody can see).
 */
int etm_reg_engine_start_task(struct etm_registry *reg, struct etm_task *tk, GString *err)
{
	struct engine *eng = tk->pub.eng;
	int ret;

	if (!eng->ops || !eng->ops->start_task) {
		g_string_printf(err, "engine %s has no runtime yet: task %s cannot be started", eng->name,
				tk->pub.name);
		return ETM_ERR_NOT_SUPPORTED;
	}
	if (etm_reg_target_refused(tk, err)) {
		g_string_prepend(err, "cannot start task: ");
		return ETM_ERR_INVAL;
	}
	g_string_truncate(err, 0);
	tk->learnt = reg->learnt;
	tk->cycle_hook = &reg->cycle_hook;
	if (eng->engine_type == THIRDPARTY_ENGINE)
		plugin_task_pids(eng, &tk->pub);
	tk->start_err = err;
	ret = eng->ops->start_task(eng, &tk->pub);
	tk->start_err = NULL;
	if (ret != 0) {
		etm_task_pids_clear(eng, &tk->pub);
		if (err->len == 0)
			g_string_printf(err, "engine %s failed to start task %s (error %d)", eng->name, tk->pub.name,
					ret);
		else
			g_string_prepend(err, "cannot start task: ");
		return ETM_ERR_INTERNAL;
	}
	etm_info("task %s of engine %s started", tk->pub.name, eng->name);
	return ETM_OK;
}

/* The engine's stop_task: the caller has the task in STOPPING (or holds the lock). */
static void engine_stop_task(struct etm_task *tk)
{
	struct engine *eng = tk->pub.eng;

	if (eng->ops && eng->ops->stop_task)
		eng->ops->stop_task(eng, &tk->pub);
	etm_task_pids_clear(eng, &tk->pub);
	etm_info("task %s of engine %s stopped", tk->pub.name, eng->name);
}

/* Start one registered task unless it runs; called without the lock. */
static int task_start(struct etm_registry *reg, struct etm_task *tk, GString *err)
{
	int ret;

	if (!task_move(reg, tk, ETM_TASK_STOPPED, ETM_TASK_STARTING))
		return ETM_OK;
	ret = etm_reg_engine_start_task(reg, tk, err);
	task_move(reg, tk, ETM_TASK_STARTING, ret == ETM_OK ? ETM_TASK_STARTED : ETM_TASK_STOPPED);
	return ret;
}

/*
 * Stop one registered task if it runs; called without the lock. Leaving
 * STARTED first withdraws the runtime from `project show` (engine.h).
 * Engine stop_task must return promptly.
 */
void etm_reg_task_stop(struct etm_registry *reg, struct etm_task *tk)
{
	if (!task_move(reg, tk, ETM_TASK_STARTED, ETM_TASK_STOPPING))
		return;
	engine_stop_task(tk);
	task_move(reg, tk, ETM_TASK_STOPPING, ETM_TASK_STOPPED);
}

/* The caller has marked @proj STARTING or STOPPING, which freezes its lists. */
void etm_reg_project_stop_tasks(struct etm_registry *reg, struct etm_project *proj)
{
	for (struct engine *eng = proj->pub.engs; eng; eng = eng->next)
		for (struct task *tk = eng->tasks; tk; tk = tk->next)
			etm_reg_task_stop(reg, etm_task_of(tk));
}

static bool project_in_flight(const struct etm_project *proj)
{
	return proj->busy > 0 || proj->state == ETM_PROJ_STARTING || proj->state == ETM_PROJ_STOPPING;
}

/* The project state as a client-facing error, or ETM_OK when it is idle. */
int etm_reg_project_idle_or_busy(struct etm_project *proj, GString *err)
{
	if (project_in_flight(proj)) {
		g_string_printf(err, "project %s is busy with another request, try again", proj->pub.name);
		return ETM_ERR_BUSY;
	}
	return ETM_OK;
}

/* @ms from now on CLOCK_MONOTONIC, the clock of the registry's condition variables. */
void etm_reg_deadline_in_ms(struct timespec *dl, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, dl);
	dl->tv_sec += ms / 1000;
	dl->tv_nsec += (ms % 1000) * 1000000L;
	if (dl->tv_nsec >= 1000000000L) {
		dl->tv_sec++;
		dl->tv_nsec -= 1000000000L;
	}
}

/* Waits, lock held, until no project is in flight or ETM_REGISTRY_SETTLE_MS have passed. */
static void wait_settled(struct etm_registry *reg)
{
	struct timespec dl;
	bool busy;

	etm_reg_deadline_in_ms(&dl, ETM_REGISTRY_SETTLE_MS);
	for (;;) {
		busy = false;
		for (struct etm_project *p = reg->projects; p && !busy; p = p->next)
			busy = project_in_flight(p);
		if (!busy || pthread_cond_timedwait(&reg->settled, &reg->lock, &dl) == ETIMEDOUT)
			return;
	}
}

void etm_registry_stop_all(struct etm_registry *reg)
{
	pthread_mutex_lock(&reg->lock);
	reg->closing = true;
	wait_settled(reg);
	for (struct etm_project *p = reg->projects; p; p = p->next) {
		if (project_in_flight(p)) {
			/* Its request still owns its tasks: stopping them here could stop them twice. */
			etm_warn("project %s is still busy with a request: its tasks are left to it", p->pub.name);
			continue;
		}
		/* Shutdown: the engines stop their tasks with the lock held, nothing else is served. */
		for (struct engine *eng = p->pub.engs; eng; eng = eng->next)
			for (struct task *tk = eng->tasks; tk; tk = tk->next) {
				if (etm_task_of(tk)->state != ETM_TASK_STARTED)
					continue;
				etm_task_of(tk)->state = ETM_TASK_STOPPING;
				engine_stop_task(etm_task_of(tk));
				etm_task_of(tk)->state = ETM_TASK_STOPPED;
			}
		p->state = ETM_PROJ_STOPPED;
		p->pub.start = false;
	}
	pthread_mutex_unlock(&reg->lock);
}

void etm_registry_free(struct etm_registry *reg)
{
	struct etm_project *p, *next;

	if (!reg)
		return;
	etm_registry_stop_all(reg);
	for (p = reg->projects; p; p = next) {
		next = p->next;
		etm_project_free(p);
	}
	etm_learnt_free(reg->learnt); /* after every task stopped: none uses it any more */
	etm_cycle_hook_destroy(&reg->cycle_hook);
	pthread_cond_destroy(&reg->settled);
	pthread_cond_destroy(&reg->load_done);
	pthread_mutex_destroy(&reg->lock);
	free(reg);
}

/* ---- start / stop ----------------------------------------------------- */

/*
 * Finds project @name and moves it into @transition (STARTING or STOPPING),
 * provided it is idle and not already in the state the transition leads to.
 * Returns the project, or NULL with *ret and @err set.
 */
static struct etm_project *claim_project(struct etm_registry *reg, const char *name, enum etm_proj_state transition,
					 GString *err, int *ret)
{
	bool starting = transition == ETM_PROJ_STARTING;
	struct etm_project *proj;

	pthread_mutex_lock(&reg->lock);
	proj = etm_reg_find_project(reg, name);
	if (!proj) {
		g_string_printf(err, "project %s is not exist", name);
		*ret = ETM_ERR_PROJ_NOEXIST;
	} else if ((*ret = etm_reg_project_idle_or_busy(proj, err)) != ETM_OK) {
		proj = NULL;
	} else if (starting && reg->closing) {
		g_string_printf(err, "etmemd is shutting down: project %s cannot be started", name);
		*ret = ETM_ERR_BUSY;
		proj = NULL;
	} else if (proj->state == (starting ? ETM_PROJ_STARTED : ETM_PROJ_STOPPED)) {
		g_string_printf(err, "project %s has been %s", name, starting ? "started" : "stopped");
		*ret = starting ? ETM_ERR_PROJ_STARTED : ETM_ERR_PROJ_STOPPED;
		proj = NULL;
	} else {
		proj->state = transition;
	}
	pthread_mutex_unlock(&reg->lock);
	return proj;
}

static void settle_project(struct etm_registry *reg, struct etm_project *proj, bool started)
{
	pthread_mutex_lock(&reg->lock);
	proj->state = started ? ETM_PROJ_STARTED : ETM_PROJ_STOPPED;
	proj->pub.start = started;
	pthread_cond_broadcast(&reg->settled);
	pthread_mutex_unlock(&reg->lock);
	etm_info("project %s %s", proj->pub.name, started ? "started" : "stopped");
}

int etm_registry_start(struct etm_registry *reg, const char *name, GString *err)
{
	int ret = ETM_OK;
	struct etm_project *proj = claim_project(reg, name, ETM_PROJ_STARTING, err, &ret);

	if (!proj)
		return ret;
	/* STARTING freezes the project's lists: walk them without the lock. */
	for (struct engine *eng = proj->pub.engs; eng && ret == ETM_OK; eng = eng->next)
		for (struct task *tk = eng->tasks; tk && ret == ETM_OK; tk = tk->next)
			ret = task_start(reg, etm_task_of(tk), err);
	if (ret != ETM_OK) {
		/* All or nothing: a failed start leaves no task running. */
		etm_reg_project_stop_tasks(reg, proj);
		etm_warn("project %s not started: %s", name, err->str);
	}
	settle_project(reg, proj, ret == ETM_OK);
	return ret;
}

int etm_registry_stop(struct etm_registry *reg, const char *name, GString *err)
{
	int ret = ETM_OK;
	struct etm_project *proj = claim_project(reg, name, ETM_PROJ_STOPPING, err, &ret);

	if (!proj)
		return ret;
	etm_reg_project_stop_tasks(reg, proj);
	settle_project(reg, proj, false);
	return ETM_OK;
}
