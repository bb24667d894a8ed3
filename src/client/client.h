/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The etmem client: argument parsing, help generation and the one-request
 * conversation with etmemd. Everything except main() lives in the static
 * library etmem_client_core so unit tests call the very parser etmem runs.
 *
 * Each object (obj, project, engine) is one `struct etm_cmd_entry`, defined
 * in its own cmd-<object>.c. The entry is the single source of truth: the
 * parser accepts exactly the options it lists and the help text is generated
 * from it, so the two cannot drift apart.
 */
#ifndef ETM_CLIENT_H
#define ETM_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/proto.h"

/* Exit statuses of etmem. */
#define ETM_EXIT_OK 0
#define ETM_EXIT_FAIL 1	 /* etmemd reported an error, or the connection failed */
#define ETM_EXIT_USAGE 2 /* bad command line */

/* How long the client waits (milliseconds). */
#define ETM_CLIENT_SEND_TIMEOUT_MS 10000
#define ETM_CLIENT_RECV_TIMEOUT_MS 60000 /* per reply frame */

/* Option values a command may carry; also bit numbers in the masks below. */
enum etm_client_field {
	ETM_F_FILE,
	ETM_F_SOCKET,
	ETM_F_PROJ,
	ETM_F_ENGINE,
	ETM_F_TASK,
	ETM_F_JSON,   /* --json: a flag */
	ETM_F_OUTPUT, /* -o: a file the client writes (engine heatmap) */
	ETM_F_MAX,
};

#define ETM_F_BIT(f) (1U << (f))

struct etm_client_cmd;

struct etm_opt_desc {
	char short_name; /* 0: a long option only */
	const char *long_name;
	const char *arg_name; /* as shown in help, e.g. "conf_file"; NULL: a flag without argument */
	const char *help;     /* e.g. "Add configuration file" */
	enum etm_client_field field;
};

struct etm_subcmd_desc {
	/* The word after the object; NULL accepts any word (engine commands). */
	const char *name;
	/* What help shows for a NULL name, e.g. "<engine_cmd>". */
	const char *usage_name;
	uint8_t cmd;	   /* enum etm_cmd */
	unsigned required; /* ETM_F_BIT() masks */
	unsigned optional;
};

struct etm_cmd_entry {
	const char *name;    /* "obj" */
	const char *summary; /* one line for `etmem help` */
	const struct etm_subcmd_desc *subcmds;
	size_t n_subcmds;
	const struct etm_opt_desc *opts;
	size_t n_opts;
	const char *const *notes;
	size_t n_notes;
	/* No command word: options follow the object ("etmem metrics -s SOCK"); subcmds[0] is the command. */
	bool no_word;
	/* Fills the request from a parsed command (fields borrow from @cmd). */
	int (*build)(const struct etm_client_cmd *cmd, struct etm_request *req);
};

/* The objects, in the order `etmem help` lists them; NULL-terminated. */
extern const struct etm_cmd_entry etm_cmd_obj_entry;
extern const struct etm_cmd_entry etm_cmd_project_entry;
extern const struct etm_cmd_entry etm_cmd_engine_entry;
extern const struct etm_cmd_entry etm_cmd_metrics_entry;
extern const struct etm_cmd_entry *const etm_cmd_table[];

/*
 * A parsed command line. String fields are NULL when absent and otherwise
 * borrow from the argv given to etm_client_parse(), except @file which is
 * the realpath() of -f, stored here. Nothing to free.
 */
struct etm_client_cmd {
	const struct etm_cmd_entry *entry; /* the object; NULL for top-level help */
	const struct etm_subcmd_desc *sub; /* NULL when help was requested */
	uint8_t cmd;			   /* enum etm_cmd */
	const char *socket;
	const char *proj;
	const char *eng;
	const char *eng_cmd; /* the engine command word */
	const char *task;
	bool json;	    /* --json: ask etmemd for JSON (docs/json.md) */
	const char *output; /* -o FILE */
	bool has_file;
	char file[4096]; /* PATH_MAX */
	int send_timeout_ms;
	int recv_timeout_ms;
};

/*
 * Parse argv (argv[0] is the program name). Returns:
 *   0       *out is a command to run;
 *   1       help was requested: out->entry is the object (NULL: top level);
 *   -EINVAL the command line is wrong; @err holds one line saying why
 *           (without the "etmem: " prefix).
 * Uses getopt_long and resets optind, so it may be called repeatedly.
 */
int etm_client_parse(int argc, char **argv, struct etm_client_cmd *out, char *err, size_t errlen);

/* Help text for @entry (NULL: top-level usage), generated from the table. */
void etm_client_help(FILE *fp, const struct etm_cmd_entry *entry);
/* The same as a new string (free() it); NULL on allocation failure. */
char *etm_client_help_new(const struct etm_cmd_entry *entry);

/*
 * Send @cmd to etmemd and relay the reply: DATA payloads are written raw to
 * @out_fd, an error becomes one "etmem: ..." line on @err. Returns the exit
 * status (ETM_EXIT_OK or ETM_EXIT_FAIL).
 */
int etm_client_run_io(const struct etm_client_cmd *cmd, int out_fd, FILE *err);
/* etm_client_run_io() on stdout and stderr. */
int etm_client_run(const struct etm_client_cmd *cmd);

/*
 * engine heatmap -o: draw the heatmap document @json to @path (PNG or SVG).
 * 0 with @msg "wrote PATH (WxH)", or non-zero with @msg saying why. A client
 * built with cairo links it from src/client/draw_heatmap.c; one built
 * without (and the static rig client) from draw_none.c, which says so.
 */
int etm_client_draw_heatmap(const char *json, size_t len, const char *path, char *msg, size_t msglen);
/* Before asking the daemon: can this client draw @path? 0, or -errno with @msg saying why not. */
int etm_client_draw_check(const char *path, char *msg, size_t msglen);

/*
 * The whole program: parse, print help or errors, run. Returns the exit
 * status. main() is just this, so tests can run it too.
 */
int etm_client_main(int argc, char **argv, int out_fd, FILE *out, FILE *err);

#endif
