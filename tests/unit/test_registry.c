/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The registry without root: obj add (all or
 * nothing), obj del, project start/stop, show, and start/stop/add/del/show
 * racing from several threads. Files are the test user's (the owner check
 * is injected); the psi engine is given a test
 * vtable that records every start_task and stop_task, so that the
 * registry's contract (engine.h) can be checked: one stop per start, never
 * two starts of one task at once, no stop of a task that is not running.
 * psi's `obj add` checks that the kernel has PSI and memory cgroups (the
 * real ones; no cgroup is written), so this test needs such a kernel.
 */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/mman.h>

#include "common/proto.h"
#include "daemon/cycle_hook.h"
#include "daemon/engine.h"
#include "daemon/figures.h"
#include "daemon/metrics.h"
#include "daemon/registry_int.h"
#include "daemon/report.h"
#include "test_config_util.h"
#include "test_json_sample.h"

static char dir[] = "/tmp/etm-test-registry-XXXXXX";

/* The test user's files pass; the spec's root:root needs root to chown. */
static int owner_is_me(const struct stat *st, GString *why)
{
	if (st->st_uid == geteuid())
		return 0;
	g_string_printf(why, "owner %u not the test's", (unsigned)st->st_uid);
	return -EPERM;
}

static char *write_conf(const char *name, const char *text)
{
	char *path = g_strdup_printf("%s/%s", dir, name);

	assert_true(g_file_set_contents(path, text, -1, NULL));
	assert_int_equal(chmod(path, 0600), 0);
	return path;
}

static const char PROJ_ENG[] = "[project]\nname=p\nscan_type=psi\ninterval=5\n[engine]\nname=psi\nproject=p\n";
static const char TASK_FMT[] = "[task]\nproject=p\nengine=psi\nname=%s\ncg_dir=grp\n";

/* ------------------------------------------------------- the test engine */

#define MAX_TASKS 8

static struct {
	/* The cycle hook the registry handed the last task started. */
	struct etm_cycle_hook *_Atomic hook;
	atomic_int starts, stops, violations;
	atomic_int running[MAX_TASKS]; /* by the task name's digit */
	atomic_int fail_start;	       /* start_task fails while set */
	atomic_int hold_start;	       /* start_task waits while set */
	atomic_int in_start;	       /* a start_task is waiting for hold_start */
} eng_log;

static atomic_int *running_of(struct task *tk)
{
	size_t len = strlen(tk->name);
	int i = len ? tk->name[len - 1] - '0' : 0;

	return &eng_log.running[i >= 0 && i < MAX_TASKS ? i : 0];
}

static int test_start(struct engine *eng, struct task *tk)
{
	(void)eng;
	if (atomic_load(&eng_log.fail_start)) {
		etm_task_report_error(tk, "refused by the test engine");
		return -EIO;
	}
	while (atomic_load(&eng_log.hold_start)) {
		atomic_store(&eng_log.in_start, 1);
		usleep(1000);
	}
	atomic_store(&eng_log.in_start, 0);
	/* Two starts of one task at once, or a start of a running task, break the contract. */
	if (atomic_fetch_add(running_of(tk), 1) != 0)
		atomic_fetch_add(&eng_log.violations, 1);
	atomic_fetch_add(&eng_log.starts, 1);
	atomic_store(&eng_log.hook, etm_task_cycle_hook(tk));
	usleep(200); /* widen the window a racing request could hit */
	return 0;
}

static void test_stop(struct engine *eng, struct task *tk)
{
	(void)eng;
	usleep(100);
	if (atomic_fetch_sub(running_of(tk), 1) != 1)
		atomic_fetch_add(&eng_log.violations, 1);
	atomic_fetch_add(&eng_log.stops, 1);
}

static const struct engine_ops test_ops = { .start_task = test_start, .stop_task = test_stop };

/* ------------------------------------------------------------ fixtures */

struct fixture {
	struct etm_registry *reg;
	char *proj_eng, *tasks[MAX_TASKS];
};

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);

	memset(&eng_log, 0, sizeof(eng_log));
	assert_non_null(mkdtemp(strcpy(dir, "/tmp/etm-test-registry-XXXXXX")));
	f->reg = etm_registry_new();
	etm_registry_set_conf_owner_check(f->reg, owner_is_me);
	f->proj_eng = write_conf("proj.yaml", PROJ_ENG);
	for (int i = 0; i < MAX_TASKS; i++) {
		g_autofree char *text = g_strdup_printf(TASK_FMT, (char[]){ 't', (char)('0' + i), 0 });
		g_autofree char *name = g_strdup_printf("task%d.yaml", i);

		f->tasks[i] = write_conf(name, text);
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	etm_registry_free(f->reg);
	/* Every start_task met its stop_task, and none broke the contract. */
	assert_int_equal(atomic_load(&eng_log.starts), atomic_load(&eng_log.stops));
	assert_int_equal(atomic_load(&eng_log.violations), 0);
	for (int i = 0; i < MAX_TASKS; i++) {
		unlink(f->tasks[i]);
		g_free(f->tasks[i]);
	}
	unlink(f->proj_eng);
	g_free(f->proj_eng);
	rmdir(dir);
	g_free(f);
	return 0;
}

/* obj add of @path: the status, the error line in @err. */
static int add(struct fixture *f, const char *path, GString *err)
{
	g_string_truncate(err, 0);
	return etm_registry_obj_add(f->reg, path, err);
}

static int del(struct fixture *f, const char *path, GString *err)
{
	g_string_truncate(err, 0);
	return etm_registry_obj_del(f->reg, path, err);
}

static char *show(struct fixture *f, const char *proj, int *rc)
{
	g_autoptr(GString) err = g_string_new(NULL);
	GString *out = g_string_new(NULL);

	*rc = etm_registry_show(f->reg, proj, ETM_FORMAT_TEXT, out, err);
	if (*rc)
		g_string_assign(out, err->str);
	return g_string_free(out, FALSE);
}

/* Project p and its psi engine, the engine given the test vtable. */
static void add_project(struct fixture *f)
{
	g_autoptr(GString) err = g_string_new(NULL);
	struct etm_project *proj;

	assert_int_equal(add(f, f->proj_eng, err), ETM_OK);
	pthread_mutex_lock(&f->reg->lock);
	proj = etm_reg_find_project(f->reg, "p");
	assert_non_null(proj);
	etm_project_find_engine(proj, "psi")->pub.ops = (struct engine_ops *)&test_ops;
	pthread_mutex_unlock(&f->reg->lock);
}

/* -------------------------------------------------------------- add/del */

static void test_add_del(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GString) err = g_string_new(NULL);
	g_autofree char *out = NULL;
	int rc;

	add_project(f);
	assert_int_equal(add(f, f->tasks[1], err), ETM_OK);
	out = show(f, "p", &rc);
	assert_int_equal(rc, ETM_OK);
	assert_non_null(strstr(out, "project: p\n"));
	assert_non_null(strstr(out, " t1 "));
	/* Twice: refused, naming the file and the object. */
	assert_int_equal(add(f, f->proj_eng, err), ETM_ERR_PROJ_EXISTS);
	assert_non_null(strstr(err->str, "[project] name=p: project has been existed"));
	assert_int_equal(add(f, f->tasks[1], err), ETM_ERR_TASK_EXISTS);
	assert_non_null(strstr(err->str, "[task] task t1 already exists in engine psi of project p"));
	/* del of the task leaves the project; of the project, everything. */
	assert_int_equal(del(f, f->tasks[1], err), ETM_OK);
	g_free(out);
	out = show(f, "p", &rc);
	assert_null(strstr(out, " t1 "));
	assert_int_equal(del(f, f->tasks[1], err), ETM_ERR_TASK_NOEXIST);
	assert_string_equal(err->str, "task t1 is not exist in engine psi of project p");
	assert_int_equal(add(f, f->tasks[2], err), ETM_OK);
	assert_int_equal(del(f, f->proj_eng, err), ETM_OK);
	g_free(out);
	out = show(f, "p", &rc);
	assert_int_equal(rc, ETM_ERR_PROJ_NOEXIST);
	assert_int_equal(del(f, f->proj_eng, err), ETM_ERR_PROJ_NOEXIST);
}

/* A file is added whole or not at all, and a delete that names a missing object deletes nothing. */
static void test_all_or_nothing(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GString) err = g_string_new(NULL);
	g_autofree char *bad_task = NULL, *missing_task = NULL, *out = NULL;
	int rc;

	/* A valid project and engine, a task with a bad key: nothing of the file is added. */
	bad_task =
	    write_conf("bad.yaml", "[project]\nname=p\nscan_type=psi\ninterval=5\n[engine]\nname=psi\nproject=p\n"
				   "[task]\nproject=p\nengine=psi\nname=t1\ncg_dir=../etc\n");
	assert_int_equal(add(f, bad_task, err), ETM_ERR_CONFIG);
	assert_non_null(strstr(err->str, "[task] cg_dir=../etc: must not contain a \"..\" component"));
	out = show(f, NULL, &rc);
	assert_string_equal(out, "no project exists\n");
	/* A task whose start fails in a started project: its add is undone. */
	add_project(f);
	assert_int_equal(etm_registry_start(f->reg, "p", err), ETM_OK);
	atomic_store(&eng_log.fail_start, 1);
	assert_int_equal(add(f, f->tasks[3], err), ETM_ERR_INTERNAL);
	assert_string_equal(err->str, "cannot start task: task t3: refused by the test engine");
	atomic_store(&eng_log.fail_start, 0);
	g_free(out);
	out = show(f, "p", &rc);
	assert_null(strstr(out, " t3 "));
	/* Added to a started project, a task starts at once. */
	assert_int_equal(add(f, f->tasks[4], err), ETM_OK);
	assert_int_equal(atomic_load(&eng_log.starts), 1);
	/* del naming an existing project and a missing task: nothing goes, nothing stops. */
	missing_task = write_conf("missing.yaml", "[project]\nname=p\n[task]\nproject=p\nengine=psi\nname=t7\n");
	assert_int_equal(del(f, missing_task, err), ETM_ERR_TASK_NOEXIST);
	assert_int_equal(atomic_load(&eng_log.stops), 0);
	g_free(out);
	out = show(f, "p", &rc);
	assert_non_null(strstr(out, " t4 "));
	assert_non_null(strstr(out, "true"));
	/* A failed project start leaves no task running. */
	assert_int_equal(etm_registry_stop(f->reg, "p", err), ETM_OK);
	assert_int_equal(atomic_load(&eng_log.stops), 1);
	assert_int_equal(add(f, f->tasks[5], err), ETM_OK);
	atomic_store(&eng_log.fail_start, 1);
	assert_int_equal(etm_registry_start(f->reg, "p", err), ETM_ERR_INTERNAL);
	atomic_store(&eng_log.fail_start, 0);
	assert_int_equal(atomic_load(&eng_log.starts), atomic_load(&eng_log.stops));
	unlink(bad_task);
	unlink(missing_task);
}

struct add_call {
	struct fixture *f;
	const char *path;
	int ret;
	GString *err;
};

static void *add_thread(void *arg)
{
	struct add_call *c = arg;

	c->ret = add(c->f, c->path, c->err);
	return NULL;
}

/*
 * A task added to a started project starts without the registry lock (a
 * plugin's start_task may be slow): meanwhile `project show` answers and
 * says the project is starting, and what would change the project is told
 * to try again.
 */
static void test_add_start_unlocked(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GString) err = g_string_new(NULL);
	g_autoptr(GString) add_err = g_string_new(NULL);
	struct add_call c = { f, f->tasks[4], -1, add_err };
	g_autofree char *out = NULL;
	pthread_t tid;
	int rc;

	add_project(f);
	assert_int_equal(etm_registry_start(f->reg, "p", err), ETM_OK);
	atomic_store(&eng_log.hold_start, 1);
	assert_int_equal(pthread_create(&tid, NULL, add_thread, &c), 0);
	while (!atomic_load(&eng_log.in_start))
		usleep(1000);
	out = show(f, "p", &rc);
	assert_int_equal(rc, ETM_OK);
	assert_non_null(strstr(out, "state: starting"));
	assert_int_equal(add(f, f->tasks[5], err), ETM_ERR_BUSY);
	assert_int_equal(etm_registry_stop(f->reg, "p", err), ETM_ERR_BUSY);
	atomic_store(&eng_log.hold_start, 0);
	assert_int_equal(pthread_join(tid, NULL), 0);
	assert_int_equal(c.ret, ETM_OK);
	g_free(out);
	out = show(f, "p", &rc);
	assert_null(strstr(out, "state: starting"));
	assert_non_null(strstr(out, " t4 "));
	assert_int_equal(atomic_load(&eng_log.starts), 1);
	assert_int_equal(etm_registry_stop(f->reg, "p", err), ETM_OK);
}

/* The spec's owner check stays the default: a file of another owner is refused. */
static void test_owner_check(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GString) err = g_string_new(NULL);

	etm_registry_set_conf_owner_check(f->reg, NULL);
	if (geteuid() == 0)
		assert_int_equal(chown(f->proj_eng, 65534, 65534), 0);
	assert_int_equal(add(f, f->proj_eng, err), ETM_ERR_CONFIG);
	assert_non_null(strstr(err->str, "not allowed (must be owned by root, 0:0)"));
	etm_registry_set_conf_owner_check(f->reg, owner_is_me);
	if (geteuid() == 0)
		assert_int_equal(chown(f->proj_eng, 0, 0), 0);
	assert_int_equal(add(f, f->proj_eng, err), ETM_OK);
}

/* ---------------------------------------------------------------- races */

struct racer {
	struct fixture *f;
	int kind;
	int rounds;
	atomic_int *unexpected;
};

/* Answers every request may give under contention; anything else is counted. */
static void expect(struct racer *r, int rc, int ok1, int ok2)
{
	if (rc != ETM_OK && rc != ETM_ERR_BUSY && rc != ok1 && rc != ok2)
		atomic_fetch_add(r->unexpected, 1);
}

static void *race(void *arg)
{
	struct racer *r = arg;
	g_autoptr(GString) err = g_string_new(NULL);

	for (int i = 0; i < r->rounds; i++) {
		int rc;

		g_string_truncate(err, 0);
		switch (r->kind) {
		case 0: /* start/stop */
			expect(r, etm_registry_start(r->f->reg, "p", err), ETM_ERR_PROJ_STARTED, ETM_ERR_PROJ_STARTED);
			g_string_truncate(err, 0);
			expect(r, etm_registry_stop(r->f->reg, "p", err), ETM_ERR_PROJ_STOPPED, ETM_ERR_PROJ_STOPPED);
			break;
		case 1: /* add/del of its own task */
		case 2:
			rc = etm_registry_obj_add(r->f->reg, r->f->tasks[r->kind], err);
			expect(r, rc, ETM_ERR_TASK_EXISTS, ETM_ERR_INTERNAL);
			g_string_truncate(err, 0);
			expect(r, etm_registry_obj_del(r->f->reg, r->f->tasks[r->kind], err), ETM_ERR_TASK_NOEXIST,
			       ETM_ERR_TASK_NOEXIST);
			break;
		default: { /* show */
			g_autoptr(GString) out = g_string_new(NULL);

			expect(r, etm_registry_show(r->f->reg, "p", ETM_FORMAT_TEXT, out, err), ETM_OK, ETM_OK);
			if (!strstr(out->str, "project: p\n"))
				atomic_fetch_add(r->unexpected, 1);
		}
		}
	}
	return NULL;
}

/* start, stop, add, del and show at once: the contract holds, every answer is a sane one. */
static void test_start_stop_races(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GString) err = g_string_new(NULL);
	atomic_int unexpected = 0;
	struct racer racers[5];
	pthread_t th[5];

	add_project(f);
	assert_int_equal(add(f, f->tasks[0], err), ETM_OK);
	for (int i = 0; i < 5; i++) {
		racers[i] =
		    (struct racer){ .f = f, .kind = i < 2 ? 0 : i - 1, .rounds = 200, .unexpected = &unexpected };
		assert_int_equal(pthread_create(&th[i], NULL, race, &racers[i]), 0);
	}
	for (int i = 0; i < 5; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(atomic_load(&unexpected), 0);
	assert_true(atomic_load(&eng_log.starts) > 0);
	/* Whatever state the race left, a stop settles it; the teardown checks the balance. */
	etm_registry_stop(f->reg, "p", err);
	assert_int_equal(atomic_load(&eng_log.starts), atomic_load(&eng_log.stops));
	for (int i = 0; i < MAX_TASKS; i++)
		assert_int_equal(atomic_load(&eng_log.running[i]), 0);
}

/* stop_all (SIGTERM) with requests in flight: nothing is stopped twice, nothing starts after. */
static void test_stop_all_race(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GString) err = g_string_new(NULL);
	atomic_int unexpected = 0;
	struct racer r = { .f = f, .kind = 0, .rounds = 100, .unexpected = &unexpected };
	pthread_t th;

	add_project(f);
	assert_int_equal(add(f, f->tasks[0], err), ETM_OK);
	assert_int_equal(pthread_create(&th, NULL, race, &r), 0);
	usleep(2000);
	etm_registry_stop_all(f->reg);
	pthread_join(th, NULL);
	assert_int_equal(atomic_load(&unexpected), 0);
	assert_int_equal(etm_registry_start(f->reg, "p", err), ETM_ERR_BUSY);
	assert_non_null(strstr(err->str, "etmemd is shutting down"));
}

/* ------------------------------------------- figures and engine commands */

static void fig_fn(struct engine *eng, struct task *tk, struct etm_figures *figs)
{
	(void)eng;
	etm_fig_text(figs, "backend", "backend", "test");
	etm_fig_u64(figs, "cycles", ETM_FIG_COUNTER, "cycles", (uint64_t)strlen(tk->name) + 5);
}

/* Every kind and type of figure, odd bytes in text, a repeated name, one kept out of the metrics. */
static void fig_fn_all(struct engine *eng, struct task *tk, struct etm_figures *figs)
{
	static const char *const kinds[] = { "target", "scan" };
	const uint64_t errs[] = { 3, 0 }, pids[] = { 10, 11 };

	(void)eng;
	etm_fig_text(figs, "backend", "backend", "x \"quoted\" \\ back\nslash \xff");
	etm_fig_list(figs, "processes", "pids", pids, 2, 2);
	etm_fig_u64(figs, "cycles", ETM_FIG_COUNTER, "cycles", (uint64_t)strlen(tk->name));
	etm_fig_u64(figs, "cycles", ETM_FIG_COUNTER, "cycles again", 99);
	etm_fig_u64(figs, "scanned_pages", ETM_FIG_GAUGE, "pages scanned", 4096);
	etm_fig_unknown(figs, "hot_pages", ETM_FIG_GAUGE, ETM_FIG_U64, "hot", NULL);
	etm_fig_double(figs, "last_cycle_seconds", ETM_FIG_GAUGE, "last cycle", 0.25);
	etm_fig_map(figs, "errors", ETM_FIG_COUNTER, "errors", "kind", kinds, errs, 2);
	etm_fig_no_metric(etm_fig_text(figs, "last_error", "last error", "pid 10: gone"));
	etm_fig_text(figs, "task", "a text figure named like a label", "ignored");
}

static const struct etm_col cmd_cols[] = {
	{ "task", "task", ETM_COL_TEXT, -6, 0, 0 },
	{ "resident_bytes", "resident(KB)", ETM_COL_U64, 12, 1024, 0 },
};

static int cmd_table(struct engine *eng, struct task *tk, struct etm_report *out, GString *err)
{
	struct etm_table *t = etm_report_table(out, "tasks", "tasks of the engine:", cmd_cols, 2);

	(void)err;
	for (struct task *x = tk ? tk : eng->tasks; x; x = tk ? NULL : x->next) {
		etm_table_row(t);
		etm_table_text(t, 0, x->name);
		etm_table_u64(t, 1, 8192);
	}
	return 0;
}

static int cmd_fail(struct engine *eng, struct task *tk, struct etm_report *out, GString *err)
{
	(void)eng, (void)tk, (void)out;
	g_string_assign(err, "no figures yet: the first cycle has not ended");
	return -EAGAIN;
}

static const struct etm_engine_cmd test_cmds[] = {
	{ "table", false, cmd_table },
	{ "pertask", true, cmd_table },
	{ "fail", false, cmd_fail },
	{ NULL, false, NULL },
};

static int mgt_fn(struct engine *eng, struct task *tk, char *cmd, int fd)
{
	(void)eng, (void)tk;
	dprintf(fd, "plugin says %s\n", cmd);
	return 0;
}

static const struct engine_ops test_ops_mgt = { .start_task = test_start,
						.stop_task = test_stop,
						.eng_mgt_func = mgt_fn };
static struct etm_engine_type test_type;

/* The engine command @word of psi in p (task @task): its status, output in @out, error in @err. */
static int eng_cmd(struct fixture *f, const char *word, const char *task, int format, GString *out, GString *err)
{
	int fd = memfd_create("test-eng-cmd", MFD_CLOEXEC);
	char buf[65536];
	ssize_t n;
	int rc;

	assert_true(fd >= 0);
	g_string_truncate(out, 0);
	g_string_truncate(err, 0);
	rc = etm_registry_eng_cmd(f->reg, "p", "psi", task, word, format, fd, err);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		g_string_append_len(out, buf, n);
	close(fd);
	return rc;
}

static void use_test_type(struct fixture *f, const struct engine_ops *ops)
{
	struct etm_engine *eng;

	test_type = etm_psi_engine;
	test_type.task_figures = fig_fn;
	test_type.cmds = test_cmds;
	pthread_mutex_lock(&f->reg->lock);
	eng = etm_project_find_engine(etm_reg_find_project(f->reg, "p"), "psi");
	eng->type = &test_type;
	eng->pub.ops = (struct engine_ops *)ops;
	pthread_mutex_unlock(&f->reg->lock);
}

/* show --json: every project, engine, task and figure; a stopped task has no figures. */
static void test_show_json(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GString) err = g_string_new(NULL);
	g_autoptr(GString) out = g_string_new(NULL);

	add_project(f);
	assert_int_equal(add(f, f->tasks[1], err), ETM_OK);
	assert_int_equal(add(f, f->tasks[2], err), ETM_OK);
	use_test_type(f, &test_ops);
	assert_int_equal(etm_registry_show(f->reg, NULL, ETM_FORMAT_JSON, out, err), ETM_OK);
	etm_test_save_json_sample("registry_show_stopped", out->str);
	assert_non_null(strstr(out->str, "\"state\": \"stopped\""));
	assert_non_null(strstr(out->str, "\"figures\": null"));
	assert_int_equal(etm_registry_start(f->reg, "p", err), ETM_OK);
	g_string_truncate(out, 0);
	assert_int_equal(etm_registry_show(f->reg, "p", ETM_FORMAT_JSON, out, err), ETM_OK);
	etm_test_save_json_sample("registry_show_started", out->str);
	assert_non_null(strstr(out->str, "\"kind\": \"project_show\""));
	assert_non_null(strstr(out->str, "\"name\": \"t2\",\n"));
	assert_non_null(strstr(out->str, "\"number\": 2,\n"));
	assert_non_null(strstr(out->str, "\"cycles\": 7\n"));
	assert_null(strstr(out->str, "\"figures\": null"));
	/* The text is the original's table with the figures under each task. */
	g_string_truncate(out, 0);
	assert_int_equal(etm_registry_show(f->reg, "p", ETM_FORMAT_TEXT, out, err), ETM_OK);
	assert_non_null(strstr(out->str, "    backend: test\n    cycles: 7\n"));
	/* A project that does not exist: the error, no document. */
	g_string_truncate(out, 0);
	assert_int_equal(etm_registry_show(f->reg, "nope", ETM_FORMAT_JSON, out, err), ETM_ERR_PROJ_NOEXIST);
	assert_int_equal(out->len, 0);
	/* No project at all: an empty list. */
	assert_int_equal(etm_registry_stop(f->reg, "p", err), ETM_OK);
	assert_int_equal(del(f, f->proj_eng, err), ETM_OK);
	g_string_truncate(out, 0);
	assert_int_equal(etm_registry_show(f->reg, NULL, ETM_FORMAT_JSON, out, err), ETM_OK);
	etm_test_save_json_sample("registry_show_empty", out->str);
	assert_non_null(strstr(out->str, "\"projects\": []"));
}

/* Built-in commands render their report as text or JSON; other words go to eng_mgt_func, text only. */
static void test_engine_commands(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GString) err = g_string_new(NULL);
	g_autoptr(GString) out = g_string_new(NULL);

	add_project(f);
	assert_int_equal(add(f, f->tasks[1], err), ETM_OK);
	assert_int_equal(add(f, f->tasks[3], err), ETM_OK);
	use_test_type(f, &test_ops_mgt);
	assert_int_equal(eng_cmd(f, "table", NULL, ETM_FORMAT_TEXT, out, err), ETM_ERR_PROJ_STOPPED);
	assert_int_equal(etm_registry_start(f->reg, "p", err), ETM_OK);
	assert_int_equal(eng_cmd(f, "table", NULL, ETM_FORMAT_TEXT, out, err), ETM_OK);
	assert_string_equal(out->str, "tasks of the engine:\n"
				      "task   resident(KB)\n"
				      "t1                8\n"
				      "t3                8\n");
	assert_int_equal(eng_cmd(f, "pertask", "t3", ETM_FORMAT_JSON, out, err), ETM_OK);
	etm_test_save_json_sample("registry_engine_command", out->str);
	assert_non_null(strstr(out->str, "\"kind\": \"engine_command\""));
	assert_non_null(strstr(out->str, "\"task\": \"t3\""));
	assert_non_null(strstr(out->str, "\"command\": \"pertask\""));
	assert_non_null(strstr(out->str, "\"resident_bytes\": 8192"));
	assert_null(strstr(out->str, "\"t1\""));
	/* A command that needs a task, without one. */
	assert_int_equal(eng_cmd(f, "pertask", NULL, ETM_FORMAT_TEXT, out, err), ETM_ERR_INVAL);
	assert_string_equal(err->str, "engine psi command pertask needs a task (-t)");
	/* The engine's own error, nothing on the output. */
	assert_int_equal(eng_cmd(f, "fail", NULL, ETM_FORMAT_JSON, out, err), ETM_ERR_BUSY);
	assert_string_equal(err->str, "no figures yet: the first cycle has not ended");
	assert_int_equal(out->len, 0);
	/* Another word: the ABI's eng_mgt_func, its text; JSON refused. */
	assert_int_equal(eng_cmd(f, "other", "t1", ETM_FORMAT_TEXT, out, err), ETM_OK);
	assert_string_equal(out->str, "plugin says other\n");
	assert_int_equal(eng_cmd(f, "other", "t1", ETM_FORMAT_JSON, out, err), ETM_ERR_NOT_SUPPORTED);
	assert_non_null(strstr(err->str, "has no JSON output"));
	assert_int_equal(out->len, 0);
	/* Without eng_mgt_func, an unknown word names the commands there are. */
	use_test_type(f, &test_ops);
	assert_int_equal(eng_cmd(f, "other", NULL, ETM_FORMAT_TEXT, out, err), ETM_ERR_INVAL);
	assert_string_equal(err->str, "engine psi has no command other (its commands: table, pertask, fail)");
	assert_int_equal(etm_registry_stop(f->reg, "p", err), ETM_OK);
}

/* The metrics text: daemon families, one family per figure name, every task's samples under it. */
static void test_metrics(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GString) err = g_string_new(NULL);
	g_autoptr(GString) out = g_string_new(NULL);
	g_autofree char *dir = g_build_filename(ETMEM_BUILD_DIR, "metrics-samples", NULL);
	g_autofree char *path = g_build_filename(dir, "registry.prom", NULL);

	add_project(f);
	assert_int_equal(add(f, f->tasks[1], err), ETM_OK);
	assert_int_equal(add(f, f->tasks[2], err), ETM_OK);
	use_test_type(f, &test_ops);
	test_type.task_figures = fig_fn_all;
	etm_registry_metrics(f->reg, out);
	assert_non_null(strstr(out->str, "etmem_project_started{project=\"p\"} 0\n"));
	assert_non_null(strstr(out->str, "etmem_task_started{project=\"p\",engine=\"psi\",task=\"t1\"} 0\n"));
	assert_null(strstr(out->str, "etmem_task_cycles_total"));
	assert_int_equal(etm_registry_start(f->reg, "p", err), ETM_OK);
	g_string_truncate(out, 0);
	etm_registry_metrics(f->reg, out);
	g_mkdir_with_parents(dir, 0755);
	assert_true(g_file_set_contents(path, out->str, -1, NULL));
	assert_non_null(strstr(out->str, "# HELP etmem_build_info etmemd's version, value 1\n"
					 "# TYPE etmem_build_info gauge\n"
					 "etmem_build_info{version=\"" ETMEM_VERSION "\"} 1\n"));
	assert_non_null(strstr(out->str, "# TYPE etmem_daemon_cpu_seconds_total counter\n"));
	assert_non_null(
	    strstr(out->str, "# TYPE etmem_daemon_resident_memory_bytes gauge\netmem_daemon_resident_memory_bytes "));
	/* One family, both tasks' samples together; the repeated name counted once. */
	assert_non_null(strstr(out->str, "# HELP etmem_task_cycles_total cycles (figure cycles of the task's engine)\n"
					 "# TYPE etmem_task_cycles_total counter\n"
					 "etmem_task_cycles_total{project=\"p\",engine=\"psi\",task=\"t1\"} 2\n"
					 "etmem_task_cycles_total{project=\"p\",engine=\"psi\",task=\"t2\"} 2\n#"));
	assert_null(strstr(out->str, " 99\n"));
	assert_non_null(strstr(out->str, "etmem_task_processes{project=\"p\",engine=\"psi\",task=\"t1\"} 2\n"));
	assert_non_null(
	    strstr(out->str, "etmem_task_last_cycle_seconds{project=\"p\",engine=\"psi\",task=\"t2\"} 0.25\n"));
	assert_non_null(strstr(out->str,
			       "etmem_task_errors_total{project=\"p\",engine=\"psi\",task=\"t1\",kind=\"target\"} 3\n"
			       "etmem_task_errors_total{project=\"p\",engine=\"psi\",task=\"t1\",kind=\"scan\"} 0\n"));
	/* Unknown: no sample; free text: no label; text: escaped, valid UTF-8. */
	assert_null(strstr(out->str, "hot_pages"));
	assert_null(strstr(out->str, "gone"));
	assert_null(strstr(out->str, "ignored"));
	assert_non_null(strstr(out->str, "etmem_task_info{project=\"p\",engine=\"psi\",task=\"t1\",engine_type=\"psi\","
					 "backend=\"x \\\"quoted\\\" \\\\ back\\nslash \xef\xbf\xbd\"} 1\n"));
	assert_true(g_utf8_validate(out->str, -1, NULL));
	assert_int_equal(etm_registry_stop(f->reg, "p", err), ETM_OK);
}

/* The cycle hook a started task is handed reaches whoever listens, and nobody once removed. */
static void count_cycle(void *data)
{
	atomic_fetch_add((atomic_int *)data, 1);
}

static void test_cycle_hook(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GString) err = g_string_new(NULL);
	atomic_int heard = 0;

	add_project(f);
	assert_int_equal(add(f, f->tasks[1], err), ETM_OK);
	assert_int_equal(etm_registry_start(f->reg, "p", err), ETM_OK);
	assert_ptr_equal(atomic_load(&eng_log.hook), &f->reg->cycle_hook);
	etm_cycle_hook_fire(eng_log.hook); /* nobody listens yet */
	etm_registry_on_cycle(f->reg, count_cycle, &heard);
	etm_cycle_hook_fire(eng_log.hook);
	etm_cycle_hook_fire(eng_log.hook);
	assert_int_equal(atomic_load(&heard), 2);
	etm_registry_on_cycle(f->reg, NULL, NULL);
	etm_cycle_hook_fire(eng_log.hook);
	assert_int_equal(atomic_load(&heard), 2);
	etm_cycle_hook_fire(NULL); /* a task outside a registry */
	assert_int_equal(etm_registry_stop(f->reg, "p", err), ETM_OK);
}

/* Renames onto the metrics file seen by @ino within @secs (inotify: IN_MOVED_TO of its directory). */
static int renames_within(int ino, double secs)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct pollfd pfd = { .fd = ino, .events = POLLIN };
	gint64 end = g_get_monotonic_time() + (gint64)(secs * G_USEC_PER_SEC);
	int n = 0;

	for (gint64 now; (now = g_get_monotonic_time()) < end;) {
		ssize_t len;

		if (poll(&pfd, 1, (int)((end - now) / 1000) + 1) <= 0)
			continue;
		len = read(ino, buf, sizeof(buf));
		for (ssize_t off = 0; off < len;) {
			const struct inotify_event *ev = (const void *)(buf + off);

			n += (ev->mask & IN_MOVED_TO) && ev->len && strcmp(ev->name, "m.prom") == 0;
			off += (ssize_t)(sizeof(*ev) + ev->len);
		}
	}
	return n;
}

/*
 * The metrics writer listens to cycles: with an hour's interval, a burst of
 * finished cycles (dozens of tasks ending together) rewrites the file, and
 * in one write or two (the settle and the floor), not one per cycle.
 */
static void test_metrics_writer_cycles(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GString) err = g_string_new(NULL);
	g_autofree char *path = g_strdup_printf("%s/m.prom", dir);
	struct etm_metrics_writer *w = NULL;
	int ino = inotify_init1(IN_CLOEXEC);
	int n;

	assert_true(ino >= 0);
	add_project(f);
	assert_int_equal(add(f, f->tasks[1], err), ETM_OK);
	assert_int_equal(etm_registry_start(f->reg, "p", err), ETM_OK);
	assert_int_equal(etm_metrics_writer_start(f->reg, path, 3600, &w, err), 0);
	assert_true(inotify_add_watch(ino, dir, IN_MOVED_TO) >= 0);
	for (int i = 0; i < 50; i++)
		etm_cycle_hook_fire(eng_log.hook);
	/* Generous: the write is due 0.2 s after the burst; the rest shows no second burst of writes. */
	n = renames_within(ino, 5.0);
	assert_in_range(n, 1, 2);
	etm_metrics_writer_stop(w);
	assert_int_equal(access(path, F_OK), -1);
	/* The writer's listener is gone with it: firing now reaches nobody. */
	etm_cycle_hook_fire(eng_log.hook);
	close(ino);
	assert_int_equal(etm_registry_stop(f->reg, "p", err), ETM_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_del, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_or_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_start_unlocked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owner_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_stop_races, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_all_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_show_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_engine_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cycle_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics_writer_cycles, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
