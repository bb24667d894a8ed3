/* SPDX-License-Identifier: MulanPSL-2.0 */
/* etmem project start|stop|show: drive a project that obj add created. */
#include "client.h"

static const struct etm_opt_desc project_opts[] = {
	{ 'n', "name", "proj_name", "Add project name", ETM_F_PROJ },
	{ 's', "socket", "socket_name", "Socket name to connect", ETM_F_SOCKET },
	{ 0, "json", NULL, "Print show as JSON (schema: docs/json.md)", ETM_F_JSON },
};

static const unsigned project_needs = ETM_F_BIT(ETM_F_PROJ) | ETM_F_BIT(ETM_F_SOCKET);

static const struct etm_subcmd_desc project_subcmds[] = {
	{ "start", NULL, ETM_CMD_PROJ_START, project_needs, 0 },
	{ "stop", NULL, ETM_CMD_PROJ_STOP, project_needs, 0 },
	/* Without -n, show lists every project. */
	{ "show", NULL, ETM_CMD_PROJ_SHOW, ETM_F_BIT(ETM_F_SOCKET), ETM_F_BIT(ETM_F_PROJ) | ETM_F_BIT(ETM_F_JSON) },
};

/* The spec's wording, kept verbatim (its "add or del" means start or stop). */
static const char *const project_notes[] = {
	"Project name and socket name must be given when execute add or del option.",
	"Socket name must be given when execute show option.",
};

static int project_build(const struct etm_client_cmd *cmd, struct etm_request *req)
{
	req->cmd = cmd->cmd;
	req->proj = (char *)cmd->proj;
	req->format = cmd->json ? ETM_FORMAT_JSON : ETM_FORMAT_TEXT;
	return 0;
}

const struct etm_cmd_entry etm_cmd_project_entry = {
	.name = "project",
	.summary = "Start, stop or show projects",
	.subcmds = project_subcmds,
	.n_subcmds = sizeof(project_subcmds) / sizeof(project_subcmds[0]),
	.opts = project_opts,
	.n_opts = sizeof(project_opts) / sizeof(project_opts[0]),
	.notes = project_notes,
	.n_notes = sizeof(project_notes) / sizeof(project_notes[0]),
	.build = project_build,
};
