/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Engine private commands (`etmem engine CMD`). A built-in engine's command
 * (engine.h, struct etm_engine_cmd) fills a report that is rendered here as
 * text or JSON; any other word goes to the engine's eng_mgt_func (the
 * plugin ABI), whose text is its own. Either runs without the registry lock,
 * its project held busy: no start, stop or delete of the project or its
 * tasks can begin meanwhile, so the runtimes stay valid (engine.h).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/fdio.h"
#include "common/proto.h"
#include "engine.h"
#include "json_out.h"
#include "registry_int.h"
#include "report.h"

/* What runs a command: a built-in engine's entry, or the ABI's eng_mgt_func. */
struct cmd_target {
	struct etm_project *proj;
	struct etm_engine *eng;
	struct etm_task *tk;
	const struct etm_engine_cmd *cmd; /* NULL: eng_mgt_func */
};

static const struct etm_engine_cmd *find_cmd(const struct etm_engine_type *type, const char *word)
{
	for (const struct etm_engine_cmd *c = type ? type->cmds : NULL; c && c->name; c++)
		if (!strcmp(c->name, word))
			return c;
	return NULL;
}

/* "a, b": the built-in commands of @type, for an error message. */
static void list_cmds(const struct etm_engine_type *type, GString *out)
{
	for (const struct etm_engine_cmd *c = type->cmds; c && c->name; c++)
		g_string_append_printf(out, "%s%s", c == type->cmds ? "" : ", ", c->name);
}

/* Lock held: the objects @word names and how it runs; ETM_OK or an error with @err set. */
static int find_target(struct etm_registry *reg, const char *proj_name, const char *eng_name, const char *task_name,
		       const char *word, int format, struct cmd_target *t, GString *err)
{
	if (!(t->proj = etm_reg_find_project(reg, proj_name))) {
		g_string_printf(err, "project %s is not exist", proj_name);
		return ETM_ERR_PROJ_NOEXIST;
	}
	if (!(t->eng = etm_project_find_engine(t->proj, eng_name))) {
		g_string_printf(err, "engine %s is not exist in project %s", eng_name, proj_name);
		return ETM_ERR_ENG_NOEXIST;
	}
	t->tk = task_name ? etm_engine_find_task(t->eng, task_name) : NULL;
	if (task_name && !t->tk) {
		g_string_printf(err, "task %s is not exist in engine %s", task_name, eng_name);
		return ETM_ERR_TASK_NOEXIST;
	}
	if (t->proj->state != ETM_PROJ_STARTED || (t->tk && t->tk->state != ETM_TASK_STARTED)) {
		g_string_printf(err, "project %s is not started: engine commands need a running project", proj_name);
		return ETM_ERR_PROJ_STOPPED;
	}
	if ((t->cmd = find_cmd(t->eng->type, word))) {
		if (t->cmd->needs_task && !t->tk) {
			g_string_printf(err, "engine %s command %s needs a task (-t)", eng_name, word);
			return ETM_ERR_INVAL;
		}
		return ETM_OK;
	}
	if (t->eng->pub.ops && t->eng->pub.ops->eng_mgt_func) {
		if (format == ETM_FORMAT_TEXT)
			return ETM_OK;
		g_string_printf(err,
				"engine %s command %s has no JSON output: a third-party engine writes its own text",
				eng_name, word);
		return ETM_ERR_NOT_SUPPORTED;
	}
	if (t->eng->type && t->eng->type->cmds) {
		g_string_printf(err, "engine %s has no command %s (its commands: ", eng_name, word);
		list_cmds(t->eng->type, err);
		g_string_append_c(err, ')');
		return ETM_ERR_INVAL;
	}
	g_string_printf(err, "engine %s has no private commands", eng_name);
	return ETM_ERR_NOT_SUPPORTED;
}

/* The JSON document of a built-in command's report (docs/json.md, kind "engine_command"). */
static void render_json(const struct cmd_target *t, const char *word, const struct etm_report *rep, GString *out)
{
	struct etm_json j, *b = &j;

	etm_json_begin(b, out, "engine_command");
	etm_json_str(b, "project", t->proj->pub.name);
	etm_json_str(b, "engine", t->eng->pub.name);
	etm_json_str(b, "task", t->tk ? t->tk->pub.name : NULL);
	etm_json_str(b, "command", word);
	etm_report_render_json(rep, b);
	etm_json_end(b);
}

static int status_of(int err)
{
	switch (err) {
	case -ENOMEM:
		return ETM_ERR_INTERNAL;
	case -ENOTSUP:
		return ETM_ERR_NOT_SUPPORTED;
	case -EAGAIN:
		return ETM_ERR_BUSY;
	default:
		return ETM_ERR_INVAL;
	}
}

/* A built-in command: run, then render its report in @format to @out_fd. */
static int run_builtin(const struct cmd_target *t, const char *word, int format, int out_fd, GString *err)
{
	g_autoptr(etm_report) rep = etm_report_new();
	g_autoptr(GString) out = g_string_new(NULL);
	int ret = t->cmd->run(&t->eng->pub, t->tk ? &t->tk->pub : NULL, rep, err);

	if (ret) {
		if (err->len == 0)
			g_string_printf(err, "engine %s command %s failed: %s", t->eng->pub.name, word, strerror(-ret));
		return status_of(ret);
	}
	if (format == ETM_FORMAT_JSON)
		render_json(t, word, rep, out);
	else
		etm_report_render_text(rep, out);
	if ((ret = etm_write_full(out_fd, out->str, out->len))) {
		g_string_printf(err, "engine %s command %s: cannot keep its output: %s", t->eng->pub.name, word,
				strerror(-ret));
		return ETM_ERR_INTERNAL;
	}
	return ETM_OK;
}

int etm_registry_eng_cmd(struct etm_registry *reg, const char *proj_name, const char *eng_name, const char *task_name,
			 const char *cmd, int format, int out_fd, GString *err)
{
	struct cmd_target t = { 0 };
	int ret;

	pthread_mutex_lock(&reg->lock);
	ret = find_target(reg, proj_name, eng_name, task_name, cmd, format, &t, err);
	/*
	 * busy keeps the project, eng, tk and every task runtime of the project
	 * alive while we run unlocked: no start, stop or delete can begin.
	 */
	if (ret == ETM_OK)
		t.proj->busy++;
	pthread_mutex_unlock(&reg->lock);
	if (ret != ETM_OK)
		return ret;

	if (t.cmd) {
		ret = run_builtin(&t, cmd, format, out_fd, err);
	} else {
		/* The ABI passes a mutable string: give the engine its own copy. */
		g_autofree char *cmd_copy = g_strdup(cmd);

		ret = t.eng->pub.ops->eng_mgt_func(&t.eng->pub, t.tk ? &t.tk->pub : NULL, cmd_copy, out_fd);
		if (ret != 0) {
			if (err->len == 0)
				g_string_printf(err, "engine %s rejected command %s (error %d)", eng_name, cmd, ret);
			ret = ETM_ERR_INVAL;
		}
	}

	pthread_mutex_lock(&reg->lock);
	t.proj->busy--;
	pthread_cond_broadcast(&reg->settled);
	pthread_mutex_unlock(&reg->lock);
	return ret;
}
