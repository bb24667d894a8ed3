/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * `obj add` and `obj del`: a configuration file's objects into and out of
 * the registry. A file is parsed section by section into specs
 * (conf_spec.h), each looked up against the registry and built into an
 * object (objects.h) under the registry lock, and published only when every
 * section passed: all or nothing.
 */
#include <errno.h>
#include <malloc.h>
#include <string.h>

#include "common/log.h"
#include "common/proto.h"
#include "conf_spec.h"
#include "engine.h"
#include "objects.h"
#include "registry_int.h"

/* ---- load slots ------------------------------------------------------- */

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

	etm_reg_deadline_in_ms(&dl, ETM_REGISTRY_LOAD_WAIT_MS);
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

/* The file, checked and loaded; its sections present. ETM_OK or ETM_ERR_CONFIG with @err set. */
static int load_file(struct etm_registry *reg, const char *path, struct etm_conf **conf, GString *err)
{
	if (etm_conf_load_with(path, reg->conf_owner, conf, err) != 0)
		return ETM_ERR_CONFIG;
	if (!etm_conf_has_group(*conf, "project") && !etm_conf_has_group(*conf, "engine") &&
	    !etm_conf_has_group(*conf, "task")) {
		g_string_printf(err, "config %s: no [project], [engine] or [task] section", path);
		return ETM_ERR_CONFIG;
	}
	return ETM_OK;
}

/* The parse error recorded in @conf (or @what) as the request's error. */
static int conf_failed(struct etm_conf *conf, const char *what, GString *err)
{
	g_string_assign(err, conf->err->len ? conf->err->str : what);
	return ETM_ERR_CONFIG;
}

/* ---- obj add ---------------------------------------------------------- */

/* Objects built from one file, not yet in the registry. */
struct add_batch {
	struct etm_conf *conf;
	struct etm_project *proj;     /* new project, or NULL */
	struct etm_engine *eng;	      /* new engine, or NULL */
	struct etm_project *eng_proj; /* the project the new engine goes to */
	struct etm_task *tk;	      /* new task, or NULL */
	struct etm_engine *tk_eng;    /* the engine the new task goes to */
};

static void add_batch_clear(struct add_batch *b)
{
	/* A new task's engine may be the new engine: free the task first. */
	etm_task_free(b->tk);
	etm_engine_free(b->eng);
	etm_project_free(b->proj);
	memset(b, 0, sizeof(*b));
}
typedef struct add_batch add_batch;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(add_batch, add_batch_clear)

/* The project called @name: the file's new one, or a registered one. */
static struct etm_project *batch_project(struct etm_registry *reg, struct add_batch *b, const char *name)
{
	if (b->proj && strcmp(b->proj->pub.name, name) == 0)
		return b->proj;
	return etm_reg_find_project(reg, name);
}

static int add_project(struct etm_registry *reg, struct add_batch *b, GString *err)
{
	g_autoptr(etm_project_spec) spec = NULL;

	if (etm_conf_parse_project(b->conf, ETM_SPEC_FULL, &spec) != 0)
		return conf_failed(b->conf, "invalid [project] section", err);
	if (etm_reg_find_project(reg, spec->name)) {
		g_string_printf(err, "config %s: [project] name=%s: project has been existed", b->conf->path,
				spec->name);
		return ETM_ERR_PROJ_EXISTS;
	}
	b->proj = etm_project_build(spec);
	return ETM_OK;
}

static int add_engine(struct etm_registry *reg, struct add_batch *b, GString *err)
{
	g_autoptr(etm_engine_spec) spec = NULL;
	struct etm_project *proj;
	int ret;

	/* Who it is first, then the rest: "already exists" wins over a bad key. */
	if (etm_conf_parse_engine(b->conf, ETM_SPEC_IDS, &spec) != 0)
		return conf_failed(b->conf, "invalid [engine] section", err);
	proj = batch_project(reg, b, spec->project);
	if (!proj) {
		g_string_printf(err, "config %s: [engine] project=%s: project is not exist", b->conf->path,
				spec->project);
		return ETM_ERR_PROJ_NOEXIST;
	}
	if (proj != b->proj && (ret = etm_reg_project_idle_or_busy(proj, err)))
		return ret;
	if (etm_project_find_engine(proj, spec->id)) {
		g_string_printf(err, "config %s: [engine] engine %s already exists in project %s", b->conf->path,
				spec->id, spec->project);
		return ETM_ERR_ENG_EXISTS;
	}
	g_clear_pointer(&spec, etm_engine_spec_free);
	if (etm_conf_parse_engine(b->conf, ETM_SPEC_FULL, &spec) != 0 ||
	    etm_engine_build(b->conf, spec, proj, &b->eng) != 0)
		return conf_failed(b->conf, "invalid [engine] section", err);
	b->eng_proj = proj;
	if (b->eng->type == &etm_thirdparty_engine && etm_engine_attach_plugin(b->conf, b->eng, err) != 0)
		return ETM_ERR_CONFIG;
	return ETM_OK;
}

/* The engine @spec names, in the file or the registry; ETM_OK or an error with @err set. */
static int task_engine(struct etm_registry *reg, struct add_batch *b, const struct etm_task_spec *spec,
		       struct etm_engine **eng, GString *err)
{
	struct etm_project *proj = batch_project(reg, b, spec->project);

	if (!proj) {
		g_string_printf(err, "config %s: [task] project=%s: project is not exist", b->conf->path,
				spec->project);
		return ETM_ERR_PROJ_NOEXIST;
	}
	if (b->eng && b->eng_proj == proj && strcmp(b->eng->pub.name, spec->engine) == 0)
		*eng = b->eng;
	else
		*eng = etm_project_find_engine(proj, spec->engine);
	if (!*eng) {
		g_string_printf(err, "config %s: [task] engine=%s: engine is not exist in project %s", b->conf->path,
				spec->engine, spec->project);
		return ETM_ERR_ENG_NOEXIST;
	}
	return proj != b->proj ? etm_reg_project_idle_or_busy(proj, err) : ETM_OK;
}

static int add_task(struct etm_registry *reg, struct add_batch *b, GString *err)
{
	g_autoptr(etm_task_spec) spec = NULL;
	struct etm_engine *eng = NULL;
	int ret;

	if (etm_conf_parse_task(b->conf, ETM_SPEC_IDS, &spec) != 0)
		return conf_failed(b->conf, "invalid [task] section", err);
	if ((ret = task_engine(reg, b, spec, &eng, err)))
		return ret;
	if (etm_engine_find_task(eng, spec->name)) {
		g_string_printf(err, "config %s: [task] task %s already exists in engine %s of project %s",
				b->conf->path, spec->name, spec->engine, spec->project);
		return ETM_ERR_TASK_EXISTS;
	}
	g_clear_pointer(&spec, etm_task_spec_free);
	if (etm_conf_parse_task(b->conf, ETM_SPEC_FULL, &spec) != 0 || etm_task_build(b->conf, spec, eng, &b->tk) != 0)
		return conf_failed(b->conf, "invalid [task] section", err);
	b->tk_eng = eng;
	if (etm_reg_target_refused(b->tk, err)) {
		g_string_prepend(err, ": ");
		g_string_prepend(err, b->conf->path);
		g_string_prepend(err, "config ");
		return ETM_ERR_CONFIG;
	}
	return ETM_OK;
}

/*
 * Lock held, the batch built: whether its task joins a started project, and
 * so must start before the add succeeds. The project is idle (task_engine
 * checked): it is marked STARTING until the task's start is over, so no other
 * request changes it or runs an engine command while the start runs unlocked
 * (a plugin's start_task may take long: it must not hold every client up).
 */
static struct etm_project *add_claim_for_start(struct add_batch *b)
{
	struct etm_project *proj;

	if (!b->tk || (proj = etm_project_of(b->tk_eng->pub.proj))->state != ETM_PROJ_STARTED)
		return NULL;
	proj->state = ETM_PROJ_STARTING;
	b->tk->state = ETM_TASK_STARTING;
	return proj;
}

/* What obj add publishes before its task starts, to be undone if the start fails. */
struct add_started {
	struct etm_project *proj; /* claimed STARTING */
	struct etm_engine *eng;	  /* the task's engine */
	bool new_eng;		  /* @eng came with the same file */
	struct etm_task *tk;
};

/*
 * Unlocked: the task added to a started project (published STARTING, its
 * project claimed by add_claim_for_start) starts; its failure undoes the
 * whole add, the file's new engine too.
 */
static int add_start_task(struct etm_registry *reg, const struct add_started *a, const char *path, GString *err)
{
	int ret = etm_reg_engine_start_task(reg, a->tk, err);

	pthread_mutex_lock(&reg->lock);
	if (ret == ETM_OK) {
		a->tk->state = ETM_TASK_STARTED;
	} else {
		etm_engine_unlink_task(a->eng, a->tk);
		etm_task_free(a->tk);
		if (a->new_eng) {
			etm_project_unlink_engine(a->proj, a->eng);
			etm_engine_free(a->eng);
		}
		etm_info("add of %s undone: its task could not be started", path);
	}
	a->proj->state = ETM_PROJ_STARTED;
	pthread_cond_broadcast(&reg->settled);
	pthread_mutex_unlock(&reg->lock);
	return ret;
}

/* Lock held: every object of the batch into the registry; the batch is emptied. */
static void add_publish(struct etm_registry *reg, struct add_batch *b)
{
	if (b->proj) {
		struct etm_project **pp = &reg->projects;

		while (*pp)
			pp = &(*pp)->next;
		*pp = b->proj;
		etm_info("project %s added", b->proj->pub.name);
	}
	if (b->eng) {
		etm_project_append_engine(b->eng_proj, b->eng);
		etm_info("engine %s added to project %s", b->eng->pub.name, b->eng_proj->pub.name);
	}
	if (b->tk) {
		etm_engine_append_task(b->tk_eng, b->tk);
		etm_info("task %s added to engine %s", b->tk->pub.name, b->tk_eng->pub.name);
	}
	b->proj = NULL;
	b->eng = NULL;
	b->tk = NULL;
}

static int obj_add(struct etm_registry *reg, const char *path, GString *err)
{
	g_autoptr(etm_conf) conf = NULL;
	g_auto(add_batch) b = { 0 };
	struct add_started a = { 0 };
	int ret = load_file(reg, path, &conf, err);

	if (ret)
		return ret;
	b.conf = conf;
	/* Building reads existing projects (loop for T, engines): under the lock. */
	pthread_mutex_lock(&reg->lock);
	if (etm_conf_has_group(conf, "project"))
		ret = add_project(reg, &b, err);
	if (ret == ETM_OK && etm_conf_has_group(conf, "engine"))
		ret = add_engine(reg, &b, err);
	if (ret == ETM_OK && etm_conf_has_group(conf, "task"))
		ret = add_task(reg, &b, err);
	if (ret == ETM_OK) {
		a.proj = add_claim_for_start(&b);
		a.eng = b.tk_eng;
		a.new_eng = b.eng && b.eng == b.tk_eng;
		a.tk = b.tk;
		add_publish(reg, &b);
	}
	pthread_mutex_unlock(&reg->lock);
	if (a.proj)
		ret = add_start_task(reg, &a, path, err);
	return ret;
}

/* ---- obj del ---------------------------------------------------------- */

/* What a file names: each section's identity, NULL when it has no such section. */
struct del_names {
	struct etm_project_spec *proj;
	struct etm_engine_spec *eng;
	struct etm_task_spec *task;
};

static void del_names_clear(struct del_names *n)
{
	g_clear_pointer(&n->proj, etm_project_spec_free);
	g_clear_pointer(&n->eng, etm_engine_spec_free);
	g_clear_pointer(&n->task, etm_task_spec_free);
}
typedef struct del_names del_names;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(del_names, del_names_clear)

static int del_parse_names(struct etm_conf *conf, struct del_names *n, GString *err)
{
	if ((etm_conf_has_group(conf, "project") && etm_conf_parse_project(conf, ETM_SPEC_IDS, &n->proj)) ||
	    (etm_conf_has_group(conf, "engine") && etm_conf_parse_engine(conf, ETM_SPEC_IDS, &n->eng)) ||
	    (etm_conf_has_group(conf, "task") && etm_conf_parse_task(conf, ETM_SPEC_IDS, &n->task)))
		return conf_failed(conf, "invalid configuration", err);
	return ETM_OK;
}

/* The registered objects a file names, and the projects they are in. */
struct del_objs {
	struct etm_project *proj, *eproj, *tproj;
	struct etm_engine *eng, *teng;
	struct etm_task *tk;
	/* The distinct projects touched, and their states before they were marked STOPPING. */
	struct etm_project *touched[3];
	enum etm_proj_state saved[3];
	int ntouched;
};

static int del_find_task(struct etm_registry *reg, const struct etm_task_spec *t, struct del_objs *o, GString *err)
{
	o->tproj = etm_reg_find_project(reg, t->project);
	o->teng = o->tproj ? etm_project_find_engine(o->tproj, t->engine) : NULL;
	o->tk = o->teng ? etm_engine_find_task(o->teng, t->name) : NULL;
	if (!o->tproj) {
		g_string_printf(err, "project %s is not exist", t->project);
		return ETM_ERR_PROJ_NOEXIST;
	}
	if (!o->teng) {
		g_string_printf(err, "engine %s is not exist in project %s", t->engine, t->project);
		return ETM_ERR_ENG_NOEXIST;
	}
	if (!o->tk) {
		g_string_printf(err, "task %s is not exist in engine %s of project %s", t->name, t->engine, t->project);
		return ETM_ERR_TASK_NOEXIST;
	}
	return ETM_OK;
}

/* Lock held: every named object exists, or an error names the first missing one. */
static int del_find(struct etm_registry *reg, const struct del_names *n, struct del_objs *o, GString *err)
{
	int ret;

	if (n->task && (ret = del_find_task(reg, n->task, o, err)))
		return ret;
	if (n->eng) {
		o->eproj = etm_reg_find_project(reg, n->eng->project);
		o->eng = o->eproj ? etm_project_find_engine(o->eproj, n->eng->id) : NULL;
		if (!o->eproj) {
			g_string_printf(err, "project %s is not exist", n->eng->project);
			return ETM_ERR_PROJ_NOEXIST;
		}
		if (!o->eng) {
			g_string_printf(err, "engine %s is not exist in project %s", n->eng->id, n->eng->project);
			return ETM_ERR_ENG_NOEXIST;
		}
	}
	if (n->proj && !(o->proj = etm_reg_find_project(reg, n->proj->name))) {
		g_string_printf(err, "project %s is not exist", n->proj->name);
		return ETM_ERR_PROJ_NOEXIST;
	}
	return ETM_OK;
}

/* Lock held: every project touched must be idle; then they are marked STOPPING while tasks stop. */
static int del_claim(struct del_objs *o, GString *err)
{
	struct etm_project *cand[3] = { o->tproj, o->eproj, o->proj };
	int ret;

	for (int c = 0; c < 3; c++) {
		bool seen = false;

		if (!cand[c])
			continue;
		for (int i = 0; i < o->ntouched; i++)
			seen |= o->touched[i] == cand[c];
		if (seen)
			continue;
		if ((ret = etm_reg_project_idle_or_busy(cand[c], err)))
			return ret;
		o->touched[o->ntouched++] = cand[c];
	}
	for (int i = 0; i < o->ntouched; i++) {
		o->saved[i] = o->touched[i]->state;
		o->touched[i]->state = ETM_PROJ_STOPPING;
	}
	return ETM_OK;
}

/* Without the lock (the projects are STOPPING): stop every task that goes. */
static void del_stop(struct etm_registry *reg, struct del_objs *o)
{
	if (o->tk)
		etm_reg_task_stop(reg, o->tk);
	if (o->eng)
		for (struct task *t = o->eng->pub.tasks; t; t = t->next)
			etm_reg_task_stop(reg, etm_task_of(t));
	if (o->proj)
		etm_reg_project_stop_tasks(reg, o->proj);
}

/* Lock held: the projects settle, and the named objects go. */
static void del_unlink(struct etm_registry *reg, struct del_objs *o)
{
	for (int i = 0; i < o->ntouched; i++)
		o->touched[i]->state = o->saved[i];
	pthread_cond_broadcast(&reg->settled);
	/* Task first: it may belong to the engine or project deleted next. */
	if (o->tk && !(o->eng && o->teng == o->eng) && !(o->proj && o->tproj == o->proj)) {
		etm_info("task %s deleted", o->tk->pub.name);
		etm_engine_unlink_task(o->teng, o->tk);
		etm_task_free(o->tk);
	}
	if (o->eng && !(o->proj && o->eproj == o->proj)) {
		etm_info("engine %s deleted", o->eng->pub.name);
		etm_project_unlink_engine(o->eproj, o->eng);
		etm_engine_free(o->eng);
	}
	if (o->proj) {
		etm_info("project %s deleted", o->proj->pub.name);
		etm_reg_unlink_project(reg, o->proj);
		etm_project_free(o->proj);
	}
}

/*
 * Deletes what the file names: its task, its engine (with all the engine's
 * tasks) and its project (with everything in it). Every named object must
 * exist, or nothing is deleted. Running tasks are stopped first, without the
 * registry lock (the project is marked STOPPING meanwhile).
 */
static int obj_del(struct etm_registry *reg, const char *path, GString *err)
{
	g_autoptr(etm_conf) conf = NULL;
	g_auto(del_names) names = { 0 };
	struct del_objs objs = { 0 };
	int ret = load_file(reg, path, &conf, err);

	if (ret || (ret = del_parse_names(conf, &names, err)))
		return ret;
	pthread_mutex_lock(&reg->lock);
	ret = del_find(reg, &names, &objs, err);
	if (ret == ETM_OK)
		ret = del_claim(&objs, err);
	pthread_mutex_unlock(&reg->lock);
	if (ret)
		return ret;
	del_stop(reg, &objs);
	pthread_mutex_lock(&reg->lock);
	del_unlink(reg, &objs);
	pthread_mutex_unlock(&reg->lock);
	return ETM_OK;
}

/* @op on @path in a load slot (see load_slot_get()). */
static int in_load_slot(struct etm_registry *reg, const char *path, GString *err,
			int (*op)(struct etm_registry *reg, const char *path, GString *err))
{
	int ret = load_slot_get(reg, err);

	if (ret)
		return ret;
	ret = op(reg, path, err);
	load_slot_put(reg);
	return ret;
}

int etm_registry_obj_add(struct etm_registry *reg, const char *path, GString *err)
{
	return in_load_slot(reg, path, err, obj_add);
}

int etm_registry_obj_del(struct etm_registry *reg, const char *path, GString *err)
{
	int ret = in_load_slot(reg, path, err, obj_del);

	/* Deleting may free large scan state, and the parse is freed now: give both back. */
	malloc_trim(0);
	return ret;
}
