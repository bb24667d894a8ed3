/* SPDX-License-Identifier: MulanPSL-2.0 */
/* etmem obj add|del: hand etmemd a configuration file to load or unload. */
#include "client.h"

static const struct etm_opt_desc obj_opts[] = {
	{ 'f', "file", "conf_file", "Add configuration file", ETM_F_FILE },
	{ 's', "socket", "socket_name", "Socket name to connect", ETM_F_SOCKET },
};

static const unsigned obj_needs = ETM_F_BIT(ETM_F_FILE) | ETM_F_BIT(ETM_F_SOCKET);

static const struct etm_subcmd_desc obj_subcmds[] = {
	{ "add", NULL, ETM_CMD_OBJ_ADD, obj_needs, 0 },
	{ "del", NULL, ETM_CMD_OBJ_DEL, obj_needs, 0 },
};

static const char *const obj_notes[] = {
	"Configuration file must be given.",
};

static int obj_build(const struct etm_client_cmd *cmd, struct etm_request *req)
{
	/* The path is already absolute: etmemd must never resolve it against its own cwd. */
	req->cmd = cmd->cmd;
	req->file = (char *)cmd->file;
	return 0;
}

const struct etm_cmd_entry etm_cmd_obj_entry = {
	.name = "obj",
	.summary = "Add or delete the project, engine and task of a configuration file",
	.subcmds = obj_subcmds,
	.n_subcmds = sizeof(obj_subcmds) / sizeof(obj_subcmds[0]),
	.opts = obj_opts,
	.n_opts = sizeof(obj_opts) / sizeof(obj_opts[0]),
	.notes = obj_notes,
	.n_notes = sizeof(obj_notes) / sizeof(obj_notes[0]),
	.build = obj_build,
};
