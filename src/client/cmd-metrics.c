/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * etmem metrics: etmemd's figures of every project and task, and its own
 * resources, in the Prometheus text format (docs/metrics.md), for a scraper
 * or a look by hand.
 */
#include "client.h"

static const struct etm_opt_desc metrics_opts[] = {
	{ 's', "socket", "socket_name", "Socket name to connect", ETM_F_SOCKET },
};

static const struct etm_subcmd_desc metrics_subcmds[] = {
	{ NULL, NULL, ETM_CMD_METRICS, ETM_F_BIT(ETM_F_SOCKET), 0 },
};

static const char *const metrics_notes[] = {
	"Socket name must be given.",
	"The output is the Prometheus text format (docs/metrics.md); etmemd --metrics-file writes the same to a file.",
};

static int metrics_build(const struct etm_client_cmd *cmd, struct etm_request *req)
{
	req->cmd = cmd->cmd;
	return 0;
}

const struct etm_cmd_entry etm_cmd_metrics_entry = {
	.name = "metrics",
	.summary = "Print etmemd's metrics (Prometheus text format)",
	.subcmds = metrics_subcmds,
	.n_subcmds = sizeof(metrics_subcmds) / sizeof(metrics_subcmds[0]),
	.opts = metrics_opts,
	.n_opts = sizeof(metrics_opts) / sizeof(metrics_opts[0]),
	.notes = metrics_notes,
	.n_notes = sizeof(metrics_notes) / sizeof(metrics_notes[0]),
	.build = metrics_build,
	.no_word = true,
};
