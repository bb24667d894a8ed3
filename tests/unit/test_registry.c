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
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/proto.h"
#include "daemon/registry_int.h"
#include "test_config_util.h"

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
	atomic_int starts, stops, violations;
	atomic_int running[MAX_TASKS]; /* by the task name's digit */
	atomic_int fail_start;	       /* start_task fails while set */
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
	/* Two starts of one task at once, or a start of a running task, break the contract. */
	if (atomic_fetch_add(running_of(tk), 1) != 0)
		atomic_fetch_add(&eng_log.violations, 1);
	atomic_fetch_add(&eng_log.starts, 1);
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

	*rc = etm_registry_show(f->reg, proj, out, err);
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

			expect(r, etm_registry_show(r->f->reg, "p", out, err), ETM_OK, ETM_OK);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_del, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_or_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owner_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_stop_races, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_all_race, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
