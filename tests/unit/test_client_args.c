/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The etmem client: argument parsing, generated help, and the conversation
 * with a fake etmemd on an abstract socket of this test's own.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/client.h"
#include "common/proto.h"

#define MAXARGS 32

/* Parse a NULL-terminated list of words (program name added). */
static int parse_v(struct etm_client_cmd *cmd, char *err, size_t errlen, const char *first, ...)
{
	static char *argv[MAXARGS + 2];
	static char store[MAXARGS][8192];
	const char *w;
	va_list ap;
	int argc = 0;

	argv[argc++] = "etmem";
	va_start(ap, first);
	for (w = first; w && argc <= MAXARGS; w = va_arg(ap, const char *)) {
		/* Copies: getopt may permute argv, and the command borrows from it. */
		snprintf(store[argc - 1], sizeof(store[0]), "%s", w);
		argv[argc] = store[argc - 1];
		argc++;
	}
	va_end(ap);
	argv[argc] = NULL;
	return etm_client_parse(argc, argv, cmd, err, errlen);
}

#define PARSE(cmd, ...) parse_v(cmd, err, sizeof(err), __VA_ARGS__, (const char *)NULL)

static void expect_error(const char *contains, const char *first, ...)
{
	static char *argv[MAXARGS + 2];
	struct etm_client_cmd cmd;
	char err[512];
	const char *w;
	va_list ap;
	int argc = 0;

	argv[argc++] = "etmem";
	va_start(ap, first);
	for (w = first; w && argc <= MAXARGS; w = va_arg(ap, const char *))
		argv[argc++] = (char *)w;
	va_end(ap);
	argv[argc] = NULL;
	assert_int_equal(etm_client_parse(argc, argv, &cmd, err, sizeof(err)), -EINVAL);
	if (!strstr(err, contains))
		fail_msg("error '%s' does not contain '%s'", err, contains);
	/* One line, no prefix (main adds "etmem: "). */
	assert_null(strchr(err, '\n'));
	assert_true(strncmp(err, "etmem:", 6) != 0);
}

#define ERR(contains, ...) expect_error(contains, __VA_ARGS__, (const char *)NULL)

/* ---- accepted command lines ---- */

static void test_obj(void **state)
{
	struct etm_client_cmd cmd;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&cmd, "obj", "add", "-f", "/etc/passwd", "-s", "etmemd_socket"), 0);
	assert_int_equal(cmd.cmd, ETM_CMD_OBJ_ADD);
	assert_ptr_equal(cmd.entry, &etm_cmd_obj_entry);
	assert_true(cmd.has_file);
	assert_string_equal(cmd.file, "/etc/passwd");
	assert_string_equal(cmd.socket, "etmemd_socket");
	assert_null(cmd.proj);
	assert_int_equal(cmd.recv_timeout_ms, 60000);
	assert_int_equal(cmd.send_timeout_ms, 10000);

	assert_int_equal(PARSE(&cmd, "obj", "del", "--file", "/etc/passwd", "--socket", "s"), 0);
	assert_int_equal(cmd.cmd, ETM_CMD_OBJ_DEL);
	assert_string_equal(cmd.file, "/etc/passwd");
	/* Option order and --opt=value forms. */
	assert_int_equal(PARSE(&cmd, "obj", "del", "--socket=s", "--file=/etc/passwd"), 0);
	assert_string_equal(cmd.socket, "s");
	assert_int_equal(PARSE(&cmd, "obj", "add", "-ss", "-f/etc/passwd"), 0);
	assert_string_equal(cmd.socket, "s");
	assert_string_equal(cmd.file, "/etc/passwd");
}

static void test_project(void **state)
{
	struct etm_client_cmd cmd;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&cmd, "project", "start", "-n", "test", "-s", "sock"), 0);
	assert_int_equal(cmd.cmd, ETM_CMD_PROJ_START);
	assert_string_equal(cmd.proj, "test");
	assert_string_equal(cmd.socket, "sock");
	assert_int_equal(PARSE(&cmd, "project", "stop", "--name", "test", "--socket", "sock"), 0);
	assert_int_equal(cmd.cmd, ETM_CMD_PROJ_STOP);
	assert_int_equal(PARSE(&cmd, "project", "show", "-s", "sock"), 0);
	assert_int_equal(cmd.cmd, ETM_CMD_PROJ_SHOW);
	assert_null(cmd.proj);
	assert_int_equal(PARSE(&cmd, "project", "show", "-n", "p", "-s", "sock"), 0);
	assert_string_equal(cmd.proj, "p");
	/* Names may begin with a dash or hold spaces: the wire carries them intact. */
	assert_int_equal(PARSE(&cmd, "project", "start", "-n", "-odd name", "-s", "sock"), 0);
	assert_string_equal(cmd.proj, "-odd name");
}

static void test_engine(void **state)
{
	struct etm_client_cmd cmd;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&cmd, "engine", "showtaskpages", "-t", "t1", "-n", "proj", "-e", "cslide", "-s", "so"),
			 0);
	assert_int_equal(cmd.cmd, ETM_CMD_ENG_CMD);
	assert_string_equal(cmd.eng_cmd, "showtaskpages");
	assert_string_equal(cmd.proj, "proj");
	assert_string_equal(cmd.eng, "cslide");
	assert_string_equal(cmd.task, "t1");
	assert_int_equal(
	    PARSE(&cmd, "engine", "showhostpages", "--proj_name", "p", "--engine", "cslide", "--socket", "so"), 0);
	assert_string_equal(cmd.eng_cmd, "showhostpages");
	assert_null(cmd.task);
	assert_int_equal(PARSE(&cmd, "engine", "anything", "-n", "p", "-e", "e", "-s", "so", "--task_name", "tk"), 0);
	assert_string_equal(cmd.eng_cmd, "anything");
	assert_string_equal(cmd.task, "tk");
}

/* -o: the heatmap's picture, for engine heatmap only, never with --json. */
static void test_engine_output(void **state)
{
	struct etm_client_cmd cmd;
	char err[256];

	(void)state;
	assert_int_equal(
	    PARSE(&cmd, "engine", "heatmap", "-n", "p", "-e", "slide", "-t", "t", "-s", "so", "-o", "h.png"), 0);
	assert_string_equal(cmd.output, "h.png");
	assert_false(cmd.json);
	assert_int_equal(
	    PARSE(&cmd, "engine", "heatmap", "-n", "p", "-e", "slide", "-t", "t", "-s", "so", "--output", "h.svg"), 0);
	assert_string_equal(cmd.output, "h.svg");
	ERR("option -o|--output is for 'engine heatmap' only", "engine", "showtaskpages", "-n", "p", "-e", "cslide",
	    "-t", "t", "-s", "so", "-o", "h.png");
	ERR("options -o|--output and --json exclude each other", "engine", "heatmap", "-n", "p", "-e", "slide", "-t",
	    "t", "-s", "so", "-o", "h.png", "--json");
	ERR("unrecognized option '-o' for 'project show'", "project", "show", "-s", "so", "-o", "h.png");
}

static void test_help(void **state)
{
	struct etm_client_cmd cmd;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&cmd, "help"), 1);
	assert_null(cmd.entry);
	assert_int_equal(PARSE(&cmd, "--help"), 1);
	assert_null(cmd.entry);
	assert_int_equal(PARSE(&cmd, "obj", "help"), 1);
	assert_ptr_equal(cmd.entry, &etm_cmd_obj_entry);
	assert_int_equal(PARSE(&cmd, "project", "help"), 1);
	assert_ptr_equal(cmd.entry, &etm_cmd_project_entry);
	assert_int_equal(PARSE(&cmd, "engine", "help"), 1);
	assert_ptr_equal(cmd.entry, &etm_cmd_engine_entry);
}

/* ---- rejected command lines ---- */

static void test_errors(void **state)
{
	(void)state;
	ERR("unknown object ''", "");
	{
		struct etm_client_cmd cmd;
		char err[256];
		char *argv[] = { "etmem", NULL };

		assert_int_equal(etm_client_parse(1, argv, &cmd, err, sizeof(err)), -EINVAL);
	}
	ERR("unknown object 'foo'", "foo");
	ERR("unexpected argument 'x' after 'help'", "help", "x");
	ERR("unexpected argument", "obj", "help", "-s", "x");
	ERR("missing command after 'obj' (expected add, del or help)", "obj");
	ERR("missing command after 'project' (expected start, stop, show or help)", "project", "-n", "x");
	ERR("missing command after 'engine'", "engine", "-n", "p", "-e", "e", "-s", "s");
	ERR("unknown command 'obj show'", "obj", "show", "-s", "s");
	ERR("unknown command 'project add'", "project", "add", "-n", "x", "-s", "s");

	/* Missing required options. */
	ERR("'obj add' needs option -f|--file <conf_file>", "obj", "add", "-s", "s");
	ERR("'obj del' needs option -s|--socket <socket_name>", "obj", "del", "-f", "/etc/passwd");
	ERR("'project start' needs option -n|--name <proj_name>", "project", "start", "-s", "s");
	ERR("'project stop' needs option -s|--socket", "project", "stop", "-n", "p");
	ERR("'project show' needs option -s|--socket", "project", "show", "-n", "p");
	ERR("needs option -n|--proj_name", "engine", "showtaskpages", "-e", "e", "-s", "s");
	ERR("needs option -e|--engine", "engine", "showtaskpages", "-n", "p", "-s", "s");
	ERR("needs option -s|--socket", "engine", "showtaskpages", "-n", "p", "-e", "e");

	/* Options given twice, in any spelling. */
	ERR("option -s|--socket given more than once", "obj", "add", "-f", "/etc/passwd", "-s", "a", "-s", "a");
	ERR("option -f|--file given more than once", "obj", "add", "-f", "/etc/passwd", "--file", "/etc/passwd", "-s",
	    "a");
	ERR("option -n|--name given more than once", "project", "start", "-n", "a", "--name=b", "-s", "s");
	ERR("option -t|--task_name given more than once", "engine", "x", "-n", "p", "-e", "e", "-s", "s", "-t", "a",
	    "-t", "b");

	/* Options the object does not have. */
	ERR("unrecognized option '-n'", "obj", "add", "-f", "/etc/passwd", "-s", "s", "-n", "p");
	ERR("unrecognized option '--name'", "engine", "x", "--name", "p", "-e", "e", "-s", "s");
	ERR("unrecognized option '--proj_name'", "project", "start", "--proj_name", "p", "-s", "s");
	ERR("unrecognized option '-e'", "project", "show", "-s", "s", "-e", "e");
	ERR("unrecognized option '-t'", "project", "show", "-s", "s", "-t", "t");

	/* Missing option arguments. */
	ERR("option -s|--socket requires an argument <socket_name>", "project", "show", "-s");
	ERR("option -s|--socket requires an argument", "project", "show", "--socket");
	ERR("option -f|--file requires an argument", "obj", "add", "-s", "s", "-f");

	/* Extra words. */
	ERR("unexpected argument 'extra' for 'obj add'", "obj", "add", "-f", "/etc/passwd", "-s", "s", "extra");
	ERR("unexpected argument 'extra'", "project", "start", "extra", "-n", "p", "-s", "s");
	ERR("unexpected argument 'x'", "engine", "showtaskpages", "-n", "p", "-e", "e", "-s", "s", "x");
	ERR("unexpected argument '-s'", "project", "show", "--", "-s", "s");

	/* Empty values. */
	ERR("socket name must be 1..106 bytes", "project", "show", "-s", "");
	ERR("project name must be 1..255 bytes", "project", "start", "-n", "", "-s", "s");
	ERR("configuration file name is empty", "obj", "add", "-f", "", "-s", "s");
	ERR("cannot use configuration file '/nonexistent/etmem.conf'", "obj", "add", "-f", "/nonexistent/etmem.conf",
	    "-s", "s");
}

static void test_lengths(void **state)
{
	char s106[107], s107[108], n255[256], n256[257];
	struct etm_client_cmd cmd;
	char err[256];

	(void)state;
	memset(s106, 'a', 106);
	s106[106] = '\0';
	memset(s107, 'a', 107);
	s107[107] = '\0';
	memset(n255, 'n', 255);
	n255[255] = '\0';
	memset(n256, 'n', 256);
	n256[256] = '\0';

	assert_int_equal(PARSE(&cmd, "project", "show", "-s", s106), 0);
	assert_int_equal(strlen(cmd.socket), 106);
	ERR("socket name must be 1..106 bytes", "project", "show", "-s", s107);
	ERR("socket name must be 1..106 bytes", "obj", "add", "-f", "/etc/passwd", "--socket", s107);

	assert_int_equal(PARSE(&cmd, "engine", n255, "-n", n255, "-e", n255, "-t", n255, "-s", "s"), 0);
	assert_int_equal(strlen(cmd.proj), 255);
	assert_int_equal(strlen(cmd.eng_cmd), 255);
	ERR("project name must be 1..255 bytes", "project", "start", "-n", n256, "-s", "s");
	ERR("engine name must be 1..255 bytes", "engine", "x", "-n", "p", "-e", n256, "-s", "s");
	ERR("task name must be 1..255 bytes", "engine", "x", "-n", "p", "-e", "e", "-t", n256, "-s", "s");
	ERR("engine command must be 1..255 bytes", "engine", n256, "-n", "p", "-e", "e", "-s", "s");
	ERR("engine command must be 1..255 bytes", "engine", "", "-n", "p", "-e", "e", "-s", "s");
}

static void test_relative_file(void **state)
{
	char dir[] = "/tmp/etmem-test-XXXXXX", cwd[PATH_MAX], want[PATH_MAX];
	struct etm_client_cmd cmd;
	char err[256];
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(mkdir("sub", 0700), 0);
	fp = fopen("sub/my.conf", "w");
	assert_non_null(fp);
	fclose(fp);

	snprintf(want, sizeof(want), "%s/sub/my.conf", dir);
	assert_int_equal(PARSE(&cmd, "obj", "add", "-f", "sub/my.conf", "-s", "s"), 0);
	assert_string_equal(cmd.file, want);
	assert_int_equal(PARSE(&cmd, "obj", "del", "-f", "./sub/../sub//my.conf", "-s", "s"), 0);
	assert_string_equal(cmd.file, want);
	assert_true(cmd.file[0] == '/');
	ERR("No such file or directory", "obj", "add", "-f", "sub/missing.conf", "-s", "s");

	unlink("sub/my.conf");
	rmdir("sub");
	assert_int_equal(chdir(cwd), 0);
	rmdir(dir);
}

static void test_parse_repeatable(void **state)
{
	struct etm_client_cmd cmd;
	char err[256];
	int i;

	(void)state;
	/* optind is reset by the parser: an error half-way must not poison the next parse. */
	for (i = 0; i < 3; i++) {
		ERR("given more than once", "project", "start", "-s", "a", "-s", "b", "-n", "p");
		assert_int_equal(PARSE(&cmd, "project", "start", "-n", "p", "-s", "s"), 0);
		assert_string_equal(cmd.proj, "p");
	}
}

/* ---- help ---- */

static void assert_has_line(const char *text, const char *line)
{
	const char *p = text;
	size_t n = strlen(line);

	/* @line must be a whole line once leading indentation is ignored. */
	while ((p = strstr(p, line))) {
		const char *b = p;

		while (b > text && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		if ((b == text || b[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return;
		p += n;
	}
	fail_msg("help text lacks the line '%s':\n%s", line, text);
}

static void test_help_obj(void **state)
{
	char *h = etm_client_help_new(&etm_cmd_obj_entry);

	(void)state;
	assert_non_null(h);
	assert_has_line(h, "Usage:");
	assert_has_line(h, "etmem obj add [options]");
	assert_has_line(h, "etmem obj del [options]");
	assert_has_line(h, "etmem obj help");
	assert_has_line(h, "Options:");
	assert_has_line(h, "-f|--file <conf_file> Add configuration file");
	assert_has_line(h, "-s|--socket <socket_name> Socket name to connect");
	assert_has_line(h, "Notes:");
	assert_has_line(h, "1. Configuration file must be given.");
	/* Usage before Options before Notes. */
	assert_true(strstr(h, "Usage:") < strstr(h, "Options:"));
	assert_true(strstr(h, "Options:") < strstr(h, "Notes:"));
	free(h);
}

static void test_help_project(void **state)
{
	char *h = etm_client_help_new(&etm_cmd_project_entry);

	(void)state;
	assert_non_null(h);
	assert_has_line(h, "etmem project start [options]");
	assert_has_line(h, "etmem project stop [options]");
	assert_has_line(h, "etmem project show [options]");
	assert_has_line(h, "etmem project help");
	assert_has_line(h, "-n|--name <proj_name> Add project name");
	assert_has_line(h, "-s|--socket <socket_name> Socket name to connect");
	assert_has_line(h, "1. Project name and socket name must be given when execute add or del option.");
	assert_has_line(h, "2. Socket name must be given when execute show option.");
	free(h);
}

static void test_help_engine_and_top(void **state)
{
	char *h = etm_client_help_new(&etm_cmd_engine_entry);

	(void)state;
	assert_non_null(h);
	assert_has_line(h, "etmem engine <engine_cmd> [options]");
	assert_has_line(h, "etmem engine help");
	assert_non_null(strstr(h, "-n|--proj_name <proj_name> "));
	assert_non_null(strstr(h, "-s|--socket <socket_name> "));
	assert_non_null(strstr(h, "-e|--engine <engine_name> "));
	assert_non_null(strstr(h, "-t|--task_name <task_name> "));
	free(h);

	h = etm_client_help_new(NULL);
	assert_non_null(h);
	assert_has_line(h, "etmem help");
	assert_non_null(strstr(h, "obj "));
	assert_non_null(strstr(h, "project "));
	assert_non_null(strstr(h, "engine "));
	assert_non_null(strstr(h, "etmem <obj> help"));
	free(h);
}

/* Every option the parser accepts appears in the help, and nothing else does. */
static void test_help_matches_table(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; etm_cmd_table[i]; i++) {
		const struct etm_cmd_entry *e = etm_cmd_table[i];
		char *h = etm_client_help_new(e);

		assert_non_null(h);
		for (j = 0; j < e->n_opts; j++) {
			char opt[128];

			snprintf(opt, sizeof(opt), "-%c|--%s <%s>", e->opts[j].short_name, e->opts[j].long_name,
				 e->opts[j].arg_name);
			assert_non_null(strstr(h, opt));
		}
		free(h);
	}
}

/* ---- main(): exit statuses and output streams ---- */

struct io {
	int out_fd;
	char *errbuf;
	size_t errlen;
	FILE *err;
	char *outbuf;
	size_t outlen;
	FILE *out;
};

static void io_open(struct io *io)
{
	memset(io, 0, sizeof(*io));
	io->out_fd = memfd_create("etmem-out", MFD_CLOEXEC);
	assert_true(io->out_fd >= 0);
	io->err = open_memstream(&io->errbuf, &io->errlen);
	io->out = open_memstream(&io->outbuf, &io->outlen);
	assert_non_null(io->err);
	assert_non_null(io->out);
}

/* What was written to out_fd, NUL-terminated; *len its size. */
static char *io_fd_contents(struct io *io, size_t *len)
{
	off_t end = lseek(io->out_fd, 0, SEEK_END);
	char *buf = malloc((size_t)end + 1);

	assert_int_equal(pread(io->out_fd, buf, (size_t)end, 0), end);
	buf[end] = '\0';
	*len = (size_t)end;
	return buf;
}

static void io_close(struct io *io)
{
	fclose(io->err);
	fclose(io->out);
	free(io->errbuf);
	free(io->outbuf);
	close(io->out_fd);
}

static int run_main(struct io *io, const char *first, ...)
{
	static char *argv[MAXARGS + 2];
	const char *w;
	va_list ap;
	int argc = 0, ret;

	argv[argc++] = "etmem";
	va_start(ap, first);
	for (w = first; w && argc <= MAXARGS; w = va_arg(ap, const char *))
		argv[argc++] = (char *)w;
	va_end(ap);
	argv[argc] = NULL;
	ret = etm_client_main(argc, argv, io->out_fd, io->out, io->err);
	fflush(io->err);
	fflush(io->out);
	return ret;
}

static void test_main_usage_and_help(void **state)
{
	struct io io;
	char *argv0[] = { "etmem", NULL };

	(void)state;
	io_open(&io);
	assert_int_equal(etm_client_main(1, argv0, io.out_fd, io.out, io.err), ETM_EXIT_USAGE);
	fflush(io.err);
	fflush(io.out);
	assert_non_null(strstr(io.errbuf, "Usage:"));
	assert_int_equal(io.outlen, 0);
	io_close(&io);

	io_open(&io);
	assert_int_equal(run_main(&io, "obj", "help", NULL), ETM_EXIT_OK);
	assert_non_null(strstr(io.outbuf, "-f|--file <conf_file> Add configuration file"));
	assert_int_equal(io.errlen, 0);
	io_close(&io);

	io_open(&io);
	assert_int_equal(run_main(&io, "help", NULL), ETM_EXIT_OK);
	assert_non_null(strstr(io.outbuf, "etmem <obj> help"));
	io_close(&io);

	/* A usage error: exactly one "etmem: " line on stderr, exit 2. */
	io_open(&io);
	assert_int_equal(run_main(&io, "project", "start", "-s", "x", NULL), ETM_EXIT_USAGE);
	assert_string_equal(io.errbuf, "etmem: 'project start' needs option -n|--name <proj_name>\n");
	assert_int_equal(io.outlen, 0);
	io_close(&io);
}

/* A fake etmemd: accepts one connection, checks the request, plays a script. */
enum fake_mode {
	FAKE_OK_WITH_DATA,
	FAKE_ERR_EMPTY_MSG,
	FAKE_ERR_WITH_MSG,
	FAKE_DROP_MID_REPLY,
	FAKE_SILENT,
	FAKE_GARBAGE,
	FAKE_REFUSE,
	FAKE_OLD, /* an etmemd of protocol version 1: refuses a newer request as etmemd 1 did */
};

struct fake {
	char name[64];
	int lfd;
	enum fake_mode mode;
	struct etm_request got;
	uint8_t got_version; /* of the request's frame */
	int decode_ret;
};

static void fake_listen(struct fake *f, enum fake_mode mode)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len;

	memset(f, 0, sizeof(*f));
	f->mode = mode;
	snprintf(f->name, sizeof(f->name), "etmem-unit-%d-%d", (int)getpid(), (int)mode);
	len = strlen(f->name);
	memcpy(sa.sun_path + 1, f->name, len);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(
	    bind(f->lfd, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len)), 0);
	assert_int_equal(listen(f->lfd, 4), 0);
}

static void send_end(int fd, int32_t status, const char *msg)
{
	uint8_t *buf;
	size_t len;

	if (etm_end_encode(status, msg, &buf, &len) == 0) {
		etm_send_frame(fd, ETM_FRAME_END, buf, len);
		free(buf);
	}
}

static void *fake_thread(void *arg)
{
	struct fake *f = arg;
	struct etm_hdr h;
	uint8_t *payload = NULL;
	int fd = accept(f->lfd, NULL, NULL);

	if (fd < 0)
		return NULL;
	if (f->mode == FAKE_REFUSE) {
		/* As etmemd does to a non-root peer: answer without reading, and close. */
		send_end(fd, ETM_ERR_INVAL, "permission denied: etmemd serves root only");
		close(fd);
		return NULL;
	}
	f->decode_ret = etm_recv_frame(fd, &h, &payload, ETM_MAX_PAYLOAD);
	if (!f->decode_ret) {
		f->got_version = h.version;
		f->decode_ret = etm_request_decode(payload, h.len, h.version, &f->got);
	}
	free(payload);
	switch (f->mode) {
	case FAKE_OLD:
		if (f->got_version > 1) {
			uint8_t *buf;
			size_t len;

			/* etmemd 1's answer, in a version-1 frame. */
			if (etm_end_encode(ETM_ERR_PROTO,
					   "unsupported protocol version: client and etmemd do not match", &buf,
					   &len) == 0) {
				etm_send_frame_version(fd, 1, ETM_FRAME_END, buf, len, NULL);
				free(buf);
			}
		} else {
			send_end(fd, ETM_OK, "");
		}
		break;
	case FAKE_OK_WITH_DATA:
		etm_send_frame(fd, ETM_FRAME_DATA, "project: test\n", 14);
		etm_send_frame(fd, ETM_FRAME_DATA, "\xff\xfe\x00raw", 6);
		send_end(fd, ETM_OK, "");
		break;
	case FAKE_ERR_EMPTY_MSG:
		send_end(fd, ETM_ERR_PROJ_NOEXIST, NULL);
		break;
	case FAKE_ERR_WITH_MSG:
		etm_send_frame(fd, ETM_FRAME_DATA, "partial\n", 8);
		send_end(fd, ETM_ERR_CONFIG, "/etc/x.conf: [task] T=99: must be 0..3\n");
		break;
	case FAKE_DROP_MID_REPLY: {
		uint8_t hdr[ETM_HDR_LEN];

		etm_send_frame(fd, ETM_FRAME_DATA, "abc", 3);
		etm_hdr_encode(hdr, ETM_FRAME_DATA, 100);
		(void)!write(fd, hdr, sizeof(hdr));
		(void)!write(fd, "xy", 2);
		break;
	}
	case FAKE_SILENT: {
		char c;

		/* Wait for the client to give up and close. */
		(void)!read(fd, &c, 1);
		break;
	}
	case FAKE_GARBAGE:
		(void)!write(fd, "error: project is not exist\xfe", 28);
		break;
	case FAKE_REFUSE:
		break;
	}
	close(fd);
	return NULL;
}

struct fake_run {
	struct fake f;
	pthread_t th;
	struct io io;
	struct etm_client_cmd cmd;
};

static int fake_run(struct fake_run *r, enum fake_mode mode, int recv_ms, const char *sub, const char *proj)
{
	char err[256];
	int ret;

	fake_listen(&r->f, mode);
	assert_int_equal(pthread_create(&r->th, NULL, fake_thread, &r->f), 0);
	io_open(&r->io);
	if (proj)
		assert_int_equal(PARSE(&r->cmd, "project", sub, "-n", proj, "-s", r->f.name), 0);
	else
		assert_int_equal(PARSE(&r->cmd, "project", sub, "-s", r->f.name), 0);
	if (recv_ms)
		r->cmd.recv_timeout_ms = recv_ms;
	ret = etm_client_run_io(&r->cmd, r->io.out_fd, r->io.err);
	fflush(r->io.err);
	pthread_join(r->th, NULL);
	close(r->f.lfd);
	return ret;
}

static void fake_done(struct fake_run *r)
{
	etm_request_clear(&r->f.got);
	io_close(&r->io);
}

static void test_run_success_relays_raw_data(void **state)
{
	struct fake_run r;
	char *out;
	size_t len;

	(void)state;
	assert_int_equal(fake_run(&r, FAKE_OK_WITH_DATA, 0, "show", "test"), ETM_EXIT_OK);
	assert_int_equal(r.f.decode_ret, 0);
	assert_int_equal(r.f.got.cmd, ETM_CMD_PROJ_SHOW);
	assert_string_equal(r.f.got.proj, "test");
	assert_null(r.f.got.file);
	assert_null(r.f.got.eng);
	out = io_fd_contents(&r.io, &len);
	assert_int_equal(len, 14 + 6);
	assert_memory_equal(out, "project: test\n\xff\xfe\x00raw", 20);
	assert_int_equal(r.io.errlen, 0);
	free(out);
	fake_done(&r);
}

static void test_run_errors(void **state)
{
	struct fake_run r;
	char *out;
	size_t len;

	(void)state;
	/* Empty END message: the status's own text. */
	assert_int_equal(fake_run(&r, FAKE_ERR_EMPTY_MSG, 0, "start", "nope"), ETM_EXIT_FAIL);
	assert_int_equal(r.f.got.cmd, ETM_CMD_PROJ_START);
	assert_string_equal(r.io.errbuf, "etmem: project is not exist\n");
	fake_done(&r);

	/* The daemon's message, as one line; DATA before it still reaches stdout. */
	assert_int_equal(fake_run(&r, FAKE_ERR_WITH_MSG, 0, "stop", "p"), ETM_EXIT_FAIL);
	assert_string_equal(r.io.errbuf, "etmem: /etc/x.conf: [task] T=99: must be 0..3\n");
	out = io_fd_contents(&r.io, &len);
	assert_string_equal(out, "partial\n");
	free(out);
	fake_done(&r);

	assert_int_equal(fake_run(&r, FAKE_DROP_MID_REPLY, 0, "show", NULL), ETM_EXIT_FAIL);
	assert_null(r.f.got.proj);
	assert_string_equal(r.io.errbuf, "etmem: etmemd closed the connection before its reply was complete\n");
	fake_done(&r);

	assert_int_equal(fake_run(&r, FAKE_SILENT, 200, "show", NULL), ETM_EXIT_FAIL);
	assert_non_null(strstr(r.io.errbuf, "etmem: timed out"));
	assert_non_null(strchr(r.io.errbuf, '\n'));
	assert_int_equal(strchr(r.io.errbuf, '\n') - r.io.errbuf + 1, (long)r.io.errlen);
	fake_done(&r);

	/* Refused before the request was read: the END frame still gets through. */
	assert_int_equal(fake_run(&r, FAKE_REFUSE, 0, "show", NULL), ETM_EXIT_FAIL);
	assert_string_equal(r.io.errbuf, "etmem: permission denied: etmemd serves root only\n");
	fake_done(&r);

	/* An old etmemd's 0xfe-terminated text is not a frame. */
	assert_int_equal(fake_run(&r, FAKE_GARBAGE, 0, "show", NULL), ETM_EXIT_FAIL);
	assert_non_null(strstr(r.io.errbuf, "etmem: malformed reply from etmemd"));
	fake_done(&r);
}

static void test_run_connection_refused(void **state)
{
	struct io io;
	char name[64];

	(void)state;
	snprintf(name, sizeof(name), "etmem-unit-nobody-%d", (int)getpid());
	io_open(&io);
	assert_int_equal(run_main(&io, "project", "show", "-s", name, NULL), ETM_EXIT_FAIL);
	assert_non_null(strstr(io.errbuf, "etmem: cannot connect to etmemd socket 'etmem-unit-nobody-"));
	assert_non_null(strstr(io.errbuf, "Connection refused (is etmemd running?)\n"));
	assert_int_equal(strchr(io.errbuf, '\n') - io.errbuf + 1, (long)io.errlen);
	io_close(&io);
}

static void test_run_obj_sends_absolute_path(void **state)
{
	char dir[] = "/tmp/etmem-test-XXXXXX", cwd[PATH_MAX], want[PATH_MAX];
	struct fake f;
	pthread_t th;
	struct io io;
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	fp = fopen("c.conf", "w");
	assert_non_null(fp);
	fclose(fp);
	snprintf(want, sizeof(want), "%s/c.conf", dir);

	fake_listen(&f, FAKE_ERR_EMPTY_MSG);
	assert_int_equal(pthread_create(&th, NULL, fake_thread, &f), 0);
	io_open(&io);
	assert_int_equal(run_main(&io, "obj", "add", "-f", "c.conf", "-s", f.name, NULL), ETM_EXIT_FAIL);
	pthread_join(th, NULL);
	close(f.lfd);
	assert_int_equal(f.got.cmd, ETM_CMD_OBJ_ADD);
	assert_string_equal(f.got.file, want);
	assert_null(f.got.proj);
	etm_request_clear(&f.got);
	io_close(&io);

	unlink("c.conf");
	assert_int_equal(chdir(cwd), 0);
	rmdir(dir);
}

static void test_run_engine_fields(void **state)
{
	struct fake f;
	pthread_t th;
	struct io io;

	(void)state;
	fake_listen(&f, FAKE_OK_WITH_DATA);
	assert_int_equal(pthread_create(&th, NULL, fake_thread, &f), 0);
	io_open(&io);
	assert_int_equal(
	    run_main(&io, "engine", "showtaskpages", "-n", "p", "-e", "cslide", "-t", "t", "-s", f.name, NULL),
	    ETM_EXIT_OK);
	pthread_join(th, NULL);
	close(f.lfd);
	assert_int_equal(f.got.cmd, ETM_CMD_ENG_CMD);
	assert_string_equal(f.got.proj, "p");
	assert_string_equal(f.got.eng, "cslide");
	assert_string_equal(f.got.eng_cmd, "showtaskpages");
	assert_string_equal(f.got.task, "t");
	assert_null(f.got.file);
	/* Text: the version-1 request an etmemd of any version serves. */
	assert_int_equal(f.got_version, 1);
	assert_int_equal(f.got.format, ETM_FORMAT_TEXT);
	etm_request_clear(&f.got);
	io_close(&io);
}

/* --json: a version-2 request carrying the format, for show and engine commands. */
static void test_run_json_format(void **state)
{
	static const char *const argv[][12] = {
		{ "project", "show", "--json", "-s", NULL },
		{ "engine", "showhostpages", "-n", "p", "-e", "cslide", "--json", "-s", NULL },
	};
	struct fake f;
	pthread_t th;
	struct io io;

	(void)state;
	for (size_t i = 0; i < sizeof(argv) / sizeof(argv[0]); i++) {
		const char *a[16];
		size_t n = 0;

		fake_listen(&f, FAKE_OK_WITH_DATA);
		assert_int_equal(pthread_create(&th, NULL, fake_thread, &f), 0);
		a[n++] = "etmem";
		for (size_t k = 0; argv[i][k]; k++)
			a[n++] = argv[i][k];
		a[n++] = f.name;
		a[n] = NULL;
		io_open(&io);
		assert_int_equal(etm_client_main((int)n, (char **)a, io.out_fd, io.out, io.err), ETM_EXIT_OK);
		pthread_join(th, NULL);
		close(f.lfd);
		assert_int_equal(f.decode_ret, 0);
		assert_int_equal(f.got_version, 2);
		assert_int_equal(f.got.format, ETM_FORMAT_JSON);
		etm_request_clear(&f.got);
		io_close(&io);
	}
}

/* An etmemd of version 1: plain commands work, --json says what is missing. */
static void test_run_old_daemon(void **state)
{
	struct fake f;
	pthread_t th;
	struct io io;

	(void)state;
	fake_listen(&f, FAKE_OLD);
	assert_int_equal(pthread_create(&th, NULL, fake_thread, &f), 0);
	io_open(&io);
	assert_int_equal(run_main(&io, "project", "show", "-s", f.name, NULL), ETM_EXIT_OK);
	pthread_join(th, NULL);
	close(f.lfd);
	assert_int_equal(f.got_version, 1);
	assert_int_equal(io.errlen, 0);
	etm_request_clear(&f.got);
	io_close(&io);

	fake_listen(&f, FAKE_OLD);
	assert_int_equal(pthread_create(&th, NULL, fake_thread, &f), 0);
	io_open(&io);
	assert_int_equal(run_main(&io, "project", "show", "--json", "-s", f.name, NULL), ETM_EXIT_FAIL);
	pthread_join(th, NULL);
	close(f.lfd);
	assert_int_equal(f.got_version, 2);
	assert_non_null(strstr(io.errbuf, "etmem: this etmemd speaks protocol version 1 only; --json and metrics "
					  "need protocol version 2"));
	assert_int_equal(strchr(io.errbuf, '\n') - io.errbuf + 1, (long)strlen(io.errbuf));
	etm_request_clear(&f.got);
	io_close(&io);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_obj),
		cmocka_unit_test(test_project),
		cmocka_unit_test(test_engine),
		cmocka_unit_test(test_engine_output),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_relative_file),
		cmocka_unit_test(test_parse_repeatable),
		cmocka_unit_test(test_help_obj),
		cmocka_unit_test(test_help_project),
		cmocka_unit_test(test_help_engine_and_top),
		cmocka_unit_test(test_help_matches_table),
		cmocka_unit_test(test_main_usage_and_help),
		cmocka_unit_test(test_run_success_relays_raw_data),
		cmocka_unit_test(test_run_errors),
		cmocka_unit_test(test_run_connection_refused),
		cmocka_unit_test(test_run_obj_sends_absolute_path),
		cmocka_unit_test(test_run_engine_fields),
		cmocka_unit_test(test_run_json_format),
		cmocka_unit_test(test_run_old_daemon),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
