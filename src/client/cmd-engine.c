/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * etmem engine <engine_cmd>: an engine's private command (e.g. cslide's
 * showtaskpages); the word is passed through, the engine decides.
 */
#include "client.h"

static const struct etm_opt_desc engine_opts[] = {
	{ 'n', "proj_name", "proj_name", "Name of the project the engine belongs to", ETM_F_PROJ },
	{ 's', "socket", "socket_name", "Socket name to connect", ETM_F_SOCKET },
	{ 'e', "engine", "engine_name", "Name of the engine to run the command", ETM_F_ENGINE },
	{ 't', "task_name", "task_name", "Name of the task the command is about", ETM_F_TASK },
	{ 0, "json", NULL, "Print the output as JSON (built-in engines; schema: docs/json.md)", ETM_F_JSON },
	{ 'o', "output", "file", "Draw the heatmap to this .png or .svg file (engine heatmap)", ETM_F_OUTPUT },
};

static const struct etm_subcmd_desc engine_subcmds[] = {
	{ NULL, "<engine_cmd>", ETM_CMD_ENG_CMD,
	  ETM_F_BIT(ETM_F_PROJ) | ETM_F_BIT(ETM_F_ENGINE) | ETM_F_BIT(ETM_F_SOCKET),
	  ETM_F_BIT(ETM_F_TASK) | ETM_F_BIT(ETM_F_JSON) | ETM_F_BIT(ETM_F_OUTPUT) },
};

static const char *const engine_notes[] = {
	"Project name, engine name and socket name must be given.",
	"Task name is given for the commands about one task, e.g. showtaskpages.",
	"engine_cmd is the engine's private command, e.g. showtaskpages or showhostpages of cslide.",
	"--json prints a built-in engine's output as JSON; third-party engines print their own text only.",
	"heatmap -t task_name -o FILE.png|FILE.svg draws slide's heatmap of the task (docs/heatmap.md).",
};

static int engine_build(const struct etm_client_cmd *cmd, struct etm_request *req)
{
	req->cmd = cmd->cmd;
	req->proj = (char *)cmd->proj;
	req->eng = (char *)cmd->eng;
	req->eng_cmd = (char *)cmd->eng_cmd;
	req->task = (char *)cmd->task;
	/* -o draws from the JSON document. */
	req->format = cmd->json || cmd->output ? ETM_FORMAT_JSON : ETM_FORMAT_TEXT;
	return 0;
}

const struct etm_cmd_entry etm_cmd_engine_entry = {
	.name = "engine",
	.summary = "Run a private command of an engine",
	.subcmds = engine_subcmds,
	.n_subcmds = sizeof(engine_subcmds) / sizeof(engine_subcmds[0]),
	.opts = engine_opts,
	.n_opts = sizeof(engine_opts) / sizeof(engine_opts[0]),
	.notes = engine_notes,
	.n_notes = sizeof(engine_notes) / sizeof(engine_notes[0]),
	.build = engine_build,
};
