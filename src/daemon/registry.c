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

#include <errno.h>
#include <malloc.h>
#include <time.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/proto.h"
#include "config.h"
#include "engine.h"
#include "target.h"

struct etm_registry {
	pthread_mutex_t lock;
	/* Broadcast whenever a project leaves STARTING/STOPPING or busy (CLOCK_MONOTONIC). */
	pthread_cond_t settled;
	bool closing;		      /* stop_all ran: no project starts again */
	struct etm_project *projects; /* in order of addition */
	/* obj add/del running now, and the wait for a free slot (CLOCK_MONOTONIC). */
	int loads;
	pthread_cond_t load_done;
};

/* ---- objects ---------------------------------------------------------- */

struct etm_project *etm_project_new(const char *name)
{
	struct etm_project *proj = calloc(1, sizeof(*proj));

	if (!proj)
		return NULL;
	proj->pub.name = strdup(name);
	if (!proj->pub.name) {
		free(proj);
		return NULL;
	}
	proj->pub.type = PAGE_SCAN;
	proj->pub.scan_param = &proj->page;
	proj->pub.sysmem_threshold = -1;
	proj->pub.swapcache_high_wmark = -1;
	proj->pub.swapcache_low_wmark = -1;
	return proj;
}

void etm_project_free(struct etm_project *proj)
{
	struct engine *eng, *next;

	if (!proj)
		return;
	for (eng = proj->pub.engs; eng; eng = next) {
		next = eng->next;
		etm_engine_free(etm_engine_of(eng));
	}
	free(proj->pub.name);
	free(proj);
}

struct etm_engine *etm_engine_new(const struct etm_engine_type *type, const char *name)
{
	struct etm_engine *eng = calloc(1, sizeof(*eng));

	if (!eng)
		return NULL;
	eng->pub.name = strdup(name);
	if (!eng->pub.name) {
		free(eng);
		return NULL;
	}
	eng->type = type;
	eng->pub.engine_type = type->type;
	/* The ABI has a non-const pointer; built-in vtables are never written. */
	eng->pub.ops = (struct engine_ops *)type->ops;
	return eng;
}

void etm_engine_free(struct etm_engine *eng)
{
	struct task *tk, *next;

	if (!eng)
		return;
	for (tk = eng->pub.tasks; tk; tk = next) {
		next = tk->next;
		etm_task_free(etm_task_of(tk));
	}
	if (eng->pub.ops && eng->pub.ops->clear_eng_params)
		eng->pub.ops->clear_eng_params(&eng->pub);
	if (eng->type == &etm_thirdparty_engine)
		etm_thirdparty_unload(eng);
	free(eng->eng_name);
	free(eng->libname);
	free(eng->ops_name);
	free(eng->pub.name);
	free(eng);
}

struct etm_task *etm_task_new(const char *name, const char *type, const char *value)
{
	struct etm_task *tk = calloc(1, sizeof(*tk));

	if (!tk)
		return NULL;
	tk->pub.name = strdup(name);
	tk->pub.type = type ? strdup(type) : NULL;
	tk->pub.value = value ? strdup(value) : NULL;
	tk->pub.max_threads = 1;
	if (!tk->pub.name || (type && !tk->pub.type) || (value && !tk->pub.value)) {
		free(tk->pub.name);
		free(tk->pub.type);
		free(tk->pub.value);
		free(tk);
		return NULL;
	}
	return tk;
}

void etm_task_free(struct etm_task *tk)
{
	struct engine *eng;

	if (!tk)
		return;
	eng = tk->pub.eng;
	if (eng && eng->ops && eng->ops->clear_task_params)
		eng->ops->clear_task_params(&tk->pub);
	free(tk->pub.name);
	free(tk->pub.type);
	free(tk->pub.value);
	free(tk);
}

struct etm_engine *etm_project_find_engine(struct etm_project *proj, const char *name)
{
	for (struct engine *eng = proj->pub.engs; eng; eng = eng->next) {
		if (strcmp(eng->name, name) == 0)
			return etm_engine_of(eng);
	}
	return NULL;
}

struct etm_task *etm_engine_find_task(struct etm_engine *eng, const char *name)
{
	for (struct task *tk = eng->pub.tasks; tk; tk = tk->next) {
		if (strcmp(tk->name, name) == 0)
			return etm_task_of(tk);
	}
	return NULL;
}

static void project_append_engine(struct etm_project *proj, struct etm_engine *eng)
{
	struct engine **pp = &proj->pub.engs;

	while (*pp)
		pp = &(*pp)->next;
	eng->pub.next = NULL;
	eng->pub.proj = &proj->pub;
	*pp = &eng->pub;
}

static void engine_append_task(struct etm_engine *eng, struct etm_task *tk)
{
	struct task **pp = &eng->pub.tasks;

	while (*pp)
		pp = &(*pp)->next;
	tk->pub.next = NULL;
	tk->pub.eng = &eng->pub;
	*pp = &tk->pub;
}

static void project_unlink_engine(struct etm_project *proj, struct etm_engine *eng)
{
	for (struct engine **pp = &proj->pub.engs; *pp; pp = &(*pp)->next) {
		if (*pp == &eng->pub) {
			*pp = eng->pub.next;
			eng->pub.next = NULL;
			return;
		}
	}
}

static void engine_unlink_task(struct etm_engine *eng, struct etm_task *tk)
{
	for (struct task **pp = &eng->pub.tasks; *pp; pp = &(*pp)->next) {
		if (*pp == &tk->pub) {
			*pp = tk->pub.next;
			tk->pub.next = NULL;
			return;
		}
	}
}

/* ---- registry --------------------------------------------------------- */

struct etm_registry *etm_registry_new(void)
{
	struct etm_registry *reg = calloc(1, sizeof(*reg));
	pthread_condattr_t ca;

	if (!reg)
		return NULL;
	pthread_mutex_init(&reg->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&reg->settled, &ca);
	pthread_cond_init(&reg->load_done, &ca);
	pthread_condattr_destroy(&ca);
	return reg;
}

static struct etm_project *find_project(struct etm_registry *reg, const char *name)
{
	for (struct etm_project *p = reg->projects; p; p = p->next) {
		if (strcmp(p->pub.name, name) == 0)
			return p;
	}
	return NULL;
}

static void unlink_project(struct etm_registry *reg, struct etm_project *proj)
{
	for (struct etm_project **pp = &reg->projects; *pp; pp = &(*pp)->next) {
		if (*pp == proj) {
			*pp = proj->next;
			proj->next = NULL;
			return;
		}
	}
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
static bool target_refused(struct etm_task *tk, GString *err)
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
 * The engine's start_task, with its failure explained in @err. The caller
 * has the task in STARTING (or holds the lock over a task nobody can see).
 */
static int engine_start_task(struct etm_task *tk, GString *err)
{
	struct engine *eng = tk->pub.eng;
	int ret;

	if (!eng->ops || !eng->ops->start_task) {
		g_string_printf(err, "engine %s has no runtime yet: task %s cannot be started", eng->name,
				tk->pub.name);
		return ETM_ERR_NOT_SUPPORTED;
	}
	if (target_refused(tk, err)) {
		g_string_prepend(err, "cannot start task: ");
		return ETM_ERR_INVAL;
	}
	g_string_truncate(err, 0);
	tk->start_err = err;
	ret = eng->ops->start_task(eng, &tk->pub);
	tk->start_err = NULL;
	if (ret != 0) {
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
	etm_info("task %s of engine %s stopped", tk->pub.name, eng->name);
}

/* Start one registered task unless it runs; called without the lock. */
static int task_start(struct etm_registry *reg, struct etm_task *tk, GString *err)
{
	int ret;

	if (!task_move(reg, tk, ETM_TASK_STOPPED, ETM_TASK_STARTING))
		return ETM_OK;
	ret = engine_start_task(tk, err);
	task_move(reg, tk, ETM_TASK_STARTING, ret == ETM_OK ? ETM_TASK_STARTED : ETM_TASK_STOPPED);
	return ret;
}

/*
 * Stop one registered task if it runs; called without the lock. Leaving
 * STARTED first withdraws the runtime from `project show` (engine.h).
 * Engine stop_task must return promptly.
 */
static void task_stop(struct etm_registry *reg, struct etm_task *tk)
{
	if (!task_move(reg, tk, ETM_TASK_STARTED, ETM_TASK_STOPPING))
		return;
	engine_stop_task(tk);
	task_move(reg, tk, ETM_TASK_STOPPING, ETM_TASK_STOPPED);
}

/* The caller has marked @proj STARTING or STOPPING, which freezes its lists. */
static void project_stop_tasks(struct etm_registry *reg, struct etm_project *proj)
{
	for (struct engine *eng = proj->pub.engs; eng; eng = eng->next)
		for (struct task *tk = eng->tasks; tk; tk = tk->next)
			task_stop(reg, etm_task_of(tk));
}

static bool project_in_flight(const struct etm_project *proj)
{
	return proj->busy > 0 || proj->state == ETM_PROJ_STARTING || proj->state == ETM_PROJ_STOPPING;
}

/* The project state as a client-facing error, or ETM_OK when it is idle. */
static int project_idle_or_busy(struct etm_project *proj, GString *err)
{
	if (project_in_flight(proj)) {
		g_string_printf(err, "project %s is busy with another request, try again", proj->pub.name);
		return ETM_ERR_BUSY;
	}
	return ETM_OK;
}

/* @ms from now on CLOCK_MONOTONIC, the clock of the registry's condition variables. */
static void deadline_in_ms(struct timespec *dl, long ms)
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

	deadline_in_ms(&dl, ETM_REGISTRY_SETTLE_MS);
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
	pthread_cond_destroy(&reg->settled);
	pthread_cond_destroy(&reg->load_done);
	pthread_mutex_destroy(&reg->lock);
	free(reg);
}

/* ---- configuration files ---------------------------------------------- */

/*
 * A slot for one `obj add`/`obj del`: a request costs up to its file's size
 * (10 MiB) in buffer and parsed keys until it ends, and 128 clients may ask
 * at once. Waits ETM_REGISTRY_LOAD_WAIT_MS at most (a file on a hung
 * filesystem must not stall every other request).
 */
static int load_slot_get(struct etm_registry *reg, GString *err)
{
	struct timespec dl;
	int ret = ETM_OK;

	deadline_in_ms(&dl, ETM_REGISTRY_LOAD_WAIT_MS);
	pthread_mutex_lock(&reg->lock);
	while (reg->loads >= ETM_REGISTRY_MAX_LOADS) {
		if (pthread_cond_timedwait(&reg->load_done, &reg->lock, &dl) == ETIMEDOUT &&
		    reg->loads >= ETM_REGISTRY_MAX_LOADS) {
			g_string_printf(err, "etmemd is busy with %d other configuration files, try again",
					ETM_REGISTRY_MAX_LOADS);
			ret = ETM_ERR_BUSY;
			break;
		}
	}
	if (ret == ETM_OK)
		reg->loads++;
	pthread_mutex_unlock(&reg->lock);
	return ret;
}

static void load_slot_put(struct etm_registry *reg)
{
	pthread_mutex_lock(&reg->lock);
	reg->loads--;
	pthread_cond_signal(&reg->load_done);
	pthread_mutex_unlock(&reg->lock);
}

/* ---- obj add ---------------------------------------------------------- */

/* Objects parsed from one file, not yet in the registry. */
struct parsed_objs {
	struct etm_project *proj;     /* new project, or NULL */
	struct etm_engine *eng;	      /* new engine, or NULL */
	struct etm_project *eng_proj; /* the project the new engine goes to */
	struct etm_task *tk;	      /* new task, or NULL */
	struct etm_engine *tk_eng;    /* the engine the new task goes to */
};

static void parsed_objs_free(struct parsed_objs *objs)
{
	/* A new task's engine may be the new engine: free the task first. */
	etm_task_free(objs->tk);
	etm_engine_free(objs->eng);
	etm_project_free(objs->proj);
	memset(objs, 0, sizeof(*objs));
}

static int add_parse_engine(struct etm_registry *reg, struct etm_conf *conf, struct parsed_objs *objs, GString *err)
{
	char *proj_name = NULL, *eng_id = NULL;
	struct etm_project *proj;
	int ret = ETM_OK;

	if (etm_conf_engine_ids(conf, &proj_name, &eng_id) != 0)
		goto conf_err;
	proj = objs->proj && strcmp(objs->proj->pub.name, proj_name) == 0 ? objs->proj : find_project(reg, proj_name);
	if (!proj) {
		g_string_printf(err, "config %s: [engine] project=%s: project is not exist", conf->path, proj_name);
		ret = ETM_ERR_PROJ_NOEXIST;
		goto out;
	}
	if (proj != objs->proj) {
		ret = project_idle_or_busy(proj, err);
		if (ret)
			goto out;
	}
	if (etm_project_find_engine(proj, eng_id)) {
		g_string_printf(err, "config %s: [engine] engine %s already exists in project %s", conf->path, eng_id,
				proj_name);
		ret = ETM_ERR_ENG_EXISTS;
		goto out;
	}
	if (etm_conf_parse_engine(conf, proj, &objs->eng) != 0)
		goto conf_err;
	objs->eng->pub.proj = &proj->pub;
	objs->eng_proj = proj;
	if (objs->eng->type == &etm_thirdparty_engine) {
		if (etm_thirdparty_load(objs->eng, err) != 0) {
			ret = ETM_ERR_CONFIG;
			goto out;
		}
		if (objs->eng->pub.ops->fill_eng_params) {
			objs->eng->conf = conf;
			ret = objs->eng->pub.ops->fill_eng_params(conf->kf, &objs->eng->pub);
			objs->eng->conf = NULL;
			if (ret != 0) {
				g_string_printf(err, "config %s: [engine]: rejected by engine %s (error %d)",
						conf->path, eng_id, ret);
				ret = ETM_ERR_CONFIG;
				goto out;
			}
		}
	}
	goto out;
conf_err:
	g_string_assign(err, conf->err->len ? conf->err->str : "invalid [engine] section");
	ret = ETM_ERR_CONFIG;
out:
	free(proj_name);
	free(eng_id);
	return ret;
}

static int add_parse_task(struct etm_registry *reg, struct etm_conf *conf, struct parsed_objs *objs, GString *err)
{
	char *proj_name = NULL, *eng_name = NULL, *task_name = NULL;
	struct etm_project *proj;
	struct etm_engine *eng = NULL;
	int ret = ETM_OK;

	if (etm_conf_task_ids(conf, &proj_name, &eng_name, &task_name) != 0)
		goto conf_err;
	proj = objs->proj && strcmp(objs->proj->pub.name, proj_name) == 0 ? objs->proj : find_project(reg, proj_name);
	if (!proj) {
		g_string_printf(err, "config %s: [task] project=%s: project is not exist", conf->path, proj_name);
		ret = ETM_ERR_PROJ_NOEXIST;
		goto out;
	}
	if (objs->eng && objs->eng_proj == proj && strcmp(objs->eng->pub.name, eng_name) == 0)
		eng = objs->eng;
	else
		eng = etm_project_find_engine(proj, eng_name);
	if (!eng) {
		g_string_printf(err, "config %s: [task] engine=%s: engine is not exist in project %s", conf->path,
				eng_name, proj_name);
		ret = ETM_ERR_ENG_NOEXIST;
		goto out;
	}
	if (proj != objs->proj) {
		ret = project_idle_or_busy(proj, err);
		if (ret)
			goto out;
	}
	if (etm_engine_find_task(eng, task_name)) {
		g_string_printf(err, "config %s: [task] task %s already exists in engine %s of project %s", conf->path,
				task_name, eng_name, proj_name);
		ret = ETM_ERR_TASK_EXISTS;
		goto out;
	}
	if (etm_conf_parse_task(conf, eng, &objs->tk) != 0)
		goto conf_err;
	objs->tk->pub.eng = &eng->pub;
	objs->tk_eng = eng;
	if (target_refused(objs->tk, err)) {
		g_string_prepend(err, ": ");
		g_string_prepend(err, conf->path);
		g_string_prepend(err, "config ");
		ret = ETM_ERR_CONFIG;
	}
	goto out;
conf_err:
	g_string_assign(err, conf->err->len ? conf->err->str : "invalid [task] section");
	ret = ETM_ERR_CONFIG;
out:
	free(proj_name);
	free(eng_name);
	free(task_name);
	return ret;
}

static int obj_add(struct etm_registry *reg, const char *path, GString *err)
{
	struct parsed_objs objs = { 0 };
	struct etm_conf *conf = NULL;
	struct etm_project *task_proj = NULL;
	bool has_proj, has_eng, has_task;
	int ret;

	if (etm_conf_load(path, &conf, err) != 0)
		return ETM_ERR_CONFIG;
	has_proj = etm_conf_has_group(conf, "project");
	has_eng = etm_conf_has_group(conf, "engine");
	has_task = etm_conf_has_group(conf, "task");
	if (!has_proj && !has_eng && !has_task) {
		g_string_printf(err, "config %s: no [project], [engine] or [task] section", path);
		etm_conf_free(conf);
		return ETM_ERR_CONFIG;
	}

	/* Parsing reads existing projects (loop for T, engines): under the lock. */
	pthread_mutex_lock(&reg->lock);
	ret = ETM_OK;
	if (has_proj) {
		if (etm_conf_parse_project(conf, &objs.proj) != 0) {
			g_string_assign(err, conf->err->len ? conf->err->str : "invalid [project] section");
			ret = ETM_ERR_CONFIG;
		} else if (find_project(reg, objs.proj->pub.name)) {
			g_string_printf(err, "config %s: [project] name=%s: project has been existed", path,
					objs.proj->pub.name);
			ret = ETM_ERR_PROJ_EXISTS;
		}
	}
	if (ret == ETM_OK && has_eng)
		ret = add_parse_engine(reg, conf, &objs, err);
	if (ret == ETM_OK && has_task)
		ret = add_parse_task(reg, conf, &objs, err);

	/* A task added to a started project starts at once; its failure undoes the add. */
	if (ret == ETM_OK && objs.tk) {
		task_proj = etm_project_of(objs.tk_eng->pub.proj);
		if (task_proj->state == ETM_PROJ_STARTED) {
			/* Nobody sees the task yet: start it under the lock, then publish it STARTED. */
			ret = engine_start_task(objs.tk, err);
			if (ret)
				etm_info("add of %s undone: its task could not be started", path);
			else
				objs.tk->state = ETM_TASK_STARTED;
		}
	}
	if (ret != ETM_OK) {
		pthread_mutex_unlock(&reg->lock);
		parsed_objs_free(&objs);
		etm_conf_free(conf);
		return ret;
	}

	if (objs.proj) {
		struct etm_project **pp = &reg->projects;

		while (*pp)
			pp = &(*pp)->next;
		*pp = objs.proj;
		etm_info("project %s added", objs.proj->pub.name);
	}
	if (objs.eng) {
		project_append_engine(objs.eng_proj, objs.eng);
		etm_info("engine %s added to project %s", objs.eng->pub.name, objs.eng_proj->pub.name);
	}
	if (objs.tk) {
		engine_append_task(objs.tk_eng, objs.tk);
		etm_info("task %s added to engine %s", objs.tk->pub.name, objs.tk_eng->pub.name);
	}
	pthread_mutex_unlock(&reg->lock);
	etm_conf_free(conf);
	return ETM_OK;
}

/* ---- obj del ---------------------------------------------------------- */

/*
 * Deletes what the file names: its task, its engine (with all the engine's
 * tasks) and its project (with everything in it). Every named object must
 * exist, or nothing is deleted. Running tasks are stopped first, without the
 * registry lock (the project is marked STOPPING meanwhile).
 */
static int obj_del(struct etm_registry *reg, const char *path, GString *err)
{
	struct etm_conf *conf = NULL;
	char *p_proj = NULL, *e_proj = NULL, *e_id = NULL, *t_proj = NULL, *t_eng = NULL, *t_name = NULL;
	struct etm_project *proj = NULL, *eproj = NULL, *tproj = NULL;
	struct etm_engine *eng = NULL, *teng = NULL;
	struct etm_task *tk = NULL;
	struct etm_project *touched[3];
	int ntouched = 0, ret = ETM_OK;
	enum etm_proj_state saved[3];

	if (etm_conf_load(path, &conf, err) != 0)
		return ETM_ERR_CONFIG;
	if (etm_conf_has_group(conf, "project")) {
		if (etm_conf_get_str(conf, "project", "name", true, ETM_CONF_NAME_MAX, &p_proj) != 0)
			goto conf_err;
	}
	if (etm_conf_has_group(conf, "engine") && etm_conf_engine_ids(conf, &e_proj, &e_id) != 0)
		goto conf_err;
	if (etm_conf_has_group(conf, "task") && etm_conf_task_ids(conf, &t_proj, &t_eng, &t_name) != 0)
		goto conf_err;
	if (!p_proj && !e_proj && !t_proj) {
		g_string_printf(err, "config %s: no [project], [engine] or [task] section", path);
		ret = ETM_ERR_CONFIG;
		goto out;
	}

	pthread_mutex_lock(&reg->lock);
	if (t_proj) {
		tproj = find_project(reg, t_proj);
		teng = tproj ? etm_project_find_engine(tproj, t_eng) : NULL;
		tk = teng ? etm_engine_find_task(teng, t_name) : NULL;
		if (!tproj) {
			g_string_printf(err, "project %s is not exist", t_proj);
			ret = ETM_ERR_PROJ_NOEXIST;
		} else if (!teng) {
			g_string_printf(err, "engine %s is not exist in project %s", t_eng, t_proj);
			ret = ETM_ERR_ENG_NOEXIST;
		} else if (!tk) {
			g_string_printf(err, "task %s is not exist in engine %s of project %s", t_name, t_eng, t_proj);
			ret = ETM_ERR_TASK_NOEXIST;
		}
	}
	if (ret == ETM_OK && e_proj) {
		eproj = find_project(reg, e_proj);
		eng = eproj ? etm_project_find_engine(eproj, e_id) : NULL;
		if (!eproj) {
			g_string_printf(err, "project %s is not exist", e_proj);
			ret = ETM_ERR_PROJ_NOEXIST;
		} else if (!eng) {
			g_string_printf(err, "engine %s is not exist in project %s", e_id, e_proj);
			ret = ETM_ERR_ENG_NOEXIST;
		}
	}
	if (ret == ETM_OK && p_proj) {
		proj = find_project(reg, p_proj);
		if (!proj) {
			g_string_printf(err, "project %s is not exist", p_proj);
			ret = ETM_ERR_PROJ_NOEXIST;
		}
	}
	/* Every project touched must be idle; mark them STOPPING while tasks stop. */
	for (struct etm_project *cand[3] = { tproj, eproj, proj }, **c = cand; ret == ETM_OK && c < cand + 3; c++) {
		bool seen = false;

		if (!*c)
			continue;
		for (int i = 0; i < ntouched; i++)
			seen |= touched[i] == *c;
		if (seen)
			continue;
		ret = project_idle_or_busy(*c, err);
		if (ret == ETM_OK)
			touched[ntouched++] = *c;
	}
	if (ret != ETM_OK) {
		pthread_mutex_unlock(&reg->lock);
		goto out;
	}
	for (int i = 0; i < ntouched; i++) {
		saved[i] = touched[i]->state;
		touched[i]->state = ETM_PROJ_STOPPING;
	}
	pthread_mutex_unlock(&reg->lock);

	if (tk)
		task_stop(reg, tk);
	if (eng)
		for (struct task *t = eng->pub.tasks; t; t = t->next)
			task_stop(reg, etm_task_of(t));
	if (proj)
		project_stop_tasks(reg, proj);

	pthread_mutex_lock(&reg->lock);
	for (int i = 0; i < ntouched; i++)
		touched[i]->state = saved[i];
	pthread_cond_broadcast(&reg->settled);
	/* Task first: it may belong to the engine or project deleted next. */
	if (tk && !(eng && teng == eng) && !(proj && tproj == proj)) {
		engine_unlink_task(teng, tk);
		etm_task_free(tk);
		etm_info("task %s deleted", t_name);
	}
	if (eng && !(proj && eproj == proj)) {
		project_unlink_engine(eproj, eng);
		etm_engine_free(eng);
		etm_info("engine %s deleted", e_id);
	}
	if (proj) {
		unlink_project(reg, proj);
		etm_project_free(proj);
		etm_info("project %s deleted", p_proj);
	}
	pthread_mutex_unlock(&reg->lock);
	goto out;
conf_err:
	g_string_assign(err, conf->err->len ? conf->err->str : "invalid configuration");
	ret = ETM_ERR_CONFIG;
out:
	free(p_proj);
	free(e_proj);
	free(e_id);
	free(t_proj);
	free(t_eng);
	free(t_name);
	etm_conf_free(conf);
	/* Deleting may free large scan state, and the parse is freed now: give both back. */
	malloc_trim(0);
	return ret;
}

int etm_registry_obj_add(struct etm_registry *reg, const char *path, GString *err)
{
	int ret = load_slot_get(reg, err);

	if (ret)
		return ret;
	ret = obj_add(reg, path, err);
	load_slot_put(reg);
	return ret;
}

int etm_registry_obj_del(struct etm_registry *reg, const char *path, GString *err)
{
	int ret = load_slot_get(reg, err);

	if (ret)
		return ret;
	ret = obj_del(reg, path, err);
	load_slot_put(reg);
	return ret;
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
	proj = find_project(reg, name);
	if (!proj) {
		g_string_printf(err, "project %s is not exist", name);
		*ret = ETM_ERR_PROJ_NOEXIST;
	} else if ((*ret = project_idle_or_busy(proj, err)) != ETM_OK) {
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
		project_stop_tasks(reg, proj);
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
	project_stop_tasks(reg, proj);
	settle_project(reg, proj, false);
	return ETM_OK;
}

/* ---- show ------------------------------------------------------------- */

static const char *state_str(enum etm_proj_state st)
{
	static const char *const names[] = { "stopped", "starting", "started", "stopping" };

	return names[st];
}

static void show_project(struct etm_project *proj, GString *out)
{
	g_string_append_printf(out, "project: %s\n", proj->pub.name);
	if (proj->state == ETM_PROJ_STARTING || proj->state == ETM_PROJ_STOPPING)
		g_string_append_printf(out, "state: %s\n", state_str(proj->state));
	if (!proj->pub.engs) {
		g_string_append(out, "no engine exists\n\n");
		return;
	}
	/* The original's columns and widths, header line included. */
	g_string_append_printf(out, "%-8s %-8s %-16s %-16s %-16s %-8s\n", "number", "type", "value", "name", "engine",
			       "started");
	for (struct engine *e = proj->pub.engs; e; e = e->next) {
		struct etm_engine *eng = etm_engine_of(e);
		int idx = 1;

		for (struct task *tk = e->tasks; tk; tk = tk->next, idx++) {
			/* Under the registry lock: a STARTED task's runtime cannot be freed now (engine.h). */
			bool started = etm_task_of(tk)->state == ETM_TASK_STARTED;

			g_string_append_printf(out, "%-8d %-8s %-16s %-16s %-16s %-8s\n", idx,
					       tk->type ? tk->type : "-", tk->value ? tk->value : "-", tk->name,
					       e->name, started ? "true" : "false");
			if (eng->type->task_figures && started)
				eng->type->task_figures(e, tk, out);
		}
	}
	g_string_append_c(out, '\n');
}

int etm_registry_show(struct etm_registry *reg, const char *name, GString *out, GString *err)
{
	int ret = ETM_OK;

	pthread_mutex_lock(&reg->lock);
	if (name) {
		struct etm_project *proj = find_project(reg, name);

		if (proj) {
			show_project(proj, out);
		} else {
			g_string_printf(err, "project %s is not exist", name);
			ret = ETM_ERR_PROJ_NOEXIST;
		}
	} else if (!reg->projects) {
		g_string_append(out, "no project exists\n");
	} else {
		for (struct etm_project *p = reg->projects; p; p = p->next)
			show_project(p, out);
	}
	pthread_mutex_unlock(&reg->lock);
	return ret;
}

/* ---- engine private commands ------------------------------------------ */

int etm_registry_eng_cmd(struct etm_registry *reg, const char *proj_name, const char *eng_name, const char *task_name,
			 const char *cmd, int out_fd, GString *err)
{
	struct etm_project *proj;
	struct etm_engine *eng;
	struct etm_task *tk = NULL;
	char *cmd_copy;
	int ret;

	pthread_mutex_lock(&reg->lock);
	proj = find_project(reg, proj_name);
	if (!proj) {
		g_string_printf(err, "project %s is not exist", proj_name);
		ret = ETM_ERR_PROJ_NOEXIST;
		goto unlock;
	}
	eng = etm_project_find_engine(proj, eng_name);
	if (!eng) {
		g_string_printf(err, "engine %s is not exist in project %s", eng_name, proj_name);
		ret = ETM_ERR_ENG_NOEXIST;
		goto unlock;
	}
	if (task_name) {
		tk = etm_engine_find_task(eng, task_name);
		if (!tk) {
			g_string_printf(err, "task %s is not exist in engine %s", task_name, eng_name);
			ret = ETM_ERR_TASK_NOEXIST;
			goto unlock;
		}
	}
	if (proj->state != ETM_PROJ_STARTED || (tk && tk->state != ETM_TASK_STARTED)) {
		g_string_printf(err, "project %s is not started: engine commands need a running project", proj_name);
		ret = ETM_ERR_PROJ_STOPPED;
		goto unlock;
	}
	if (!eng->pub.ops || !eng->pub.ops->eng_mgt_func) {
		g_string_printf(err, "engine %s has no private commands", eng_name);
		ret = ETM_ERR_NOT_SUPPORTED;
		goto unlock;
	}
	/*
	 * busy keeps the project, eng, tk and every task runtime of the project
	 * alive while we run unlocked: no start, stop or delete can begin.
	 */
	proj->busy++;
	pthread_mutex_unlock(&reg->lock);

	/* The ABI passes a mutable string: give the engine its own copy. */
	cmd_copy = strdup(cmd);
	if (!cmd_copy) {
		ret = ETM_ERR_INTERNAL;
		g_string_assign(err, "out of memory");
	} else {
		ret = eng->pub.ops->eng_mgt_func(&eng->pub, tk ? &tk->pub : NULL, cmd_copy, out_fd);
		if (ret != 0) {
			if (err->len == 0)
				g_string_printf(err, "engine %s rejected command %s (error %d)", eng_name, cmd, ret);
			ret = ETM_ERR_INVAL;
		}
		free(cmd_copy);
	}

	pthread_mutex_lock(&reg->lock);
	proj->busy--;
	pthread_cond_broadcast(&reg->settled);
unlock:
	pthread_mutex_unlock(&reg->lock);
	return ret;
}
