/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * One conversation with etmemd: connect to its abstract socket, send the
 * request frame, relay DATA frames to the output, and turn the END frame
 * into the exit status.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "client.h"
#include "common/fdio.h"

static void set_timeout(int fd, int opt, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	/* Best effort: without it we would only wait longer, never misbehave. */
	(void)setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

/* Returns a connected socket or a negative errno. */
static int connect_abstract(const char *name, int send_ms, int recv_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(name);
	socklen_t alen;
	int fd, err;

	if (len < 1 || len > ETM_SOCKET_NAME_MAX)
		return -EINVAL;
	/* Abstract namespace: a leading NUL, the name, and no terminating NUL. */
	sa.sun_path[0] = '\0';
	memcpy(sa.sun_path + 1, name, len);
	alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	set_timeout(fd, SO_SNDTIMEO, send_ms);
	set_timeout(fd, SO_RCVTIMEO, recv_ms);
	while (connect(fd, (struct sockaddr *)&sa, alen) < 0) {
		if (errno == EINTR)
			continue;
		err = errno == EAGAIN ? ETIMEDOUT : errno;
		close(fd);
		return -err;
	}
	return fd;
}

/* The END message as one printable line: control characters become spaces. */
static void print_error_line(FILE *err, const char *msg)
{
	size_t len = strlen(msg), i;

	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r' || msg[len - 1] == ' '))
		len--;
	fputs("etmem: ", err);
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)msg[i];

		fputc(ch < 0x20 || ch == 0x7f ? ' ' : ch, err);
	}
	fputc('\n', err);
	fflush(err);
}

static int recv_error(FILE *err, int ret, int recv_ms)
{
	switch (ret) {
	case -ECONNRESET:
		fprintf(err, "etmem: etmemd closed the connection before its reply was complete\n");
		break;
	case -ETIMEDOUT:
		fprintf(err, "etmem: timed out after %d s waiting for a reply from etmemd\n", recv_ms / 1000);
		break;
	case -EPROTO:
	case -EPROTONOSUPPORT:
	case -EMSGSIZE:
		fprintf(err, "etmem: malformed reply from etmemd: %s\n", strerror(-ret));
		break;
	default:
		fprintf(err, "etmem: cannot read the reply from etmemd: %s\n", strerror(-ret));
		break;
	}
	fflush(err);
	return ETM_EXIT_FAIL;
}

/*
 * The END of a request that needed protocol version @sent, refused as
 * malformed in an older version's frame: etmemd predates what was asked.
 */
static bool old_daemon(const struct etm_hdr *hdr, int32_t status, uint8_t sent)
{
	return status == ETM_ERR_PROTO && hdr->version < sent;
}

/*
 * Read frames until END; returns the exit status. With @quiet, a reply that
 * cannot be read returns -1 without a word (the caller has a better one).
 * @sent: the version of the request.
 */
static int relay_reply(int fd, int out_fd, FILE *err, int recv_ms, bool quiet, uint8_t sent)
{
	for (;;) {
		struct etm_hdr hdr;
		uint8_t *payload = NULL;
		int32_t status;
		char *msg = NULL;
		int ret;

		ret = etm_recv_frame(fd, &hdr, &payload, ETM_MAX_PAYLOAD);
		if (ret)
			return quiet ? -1 : recv_error(err, ret, recv_ms);
		if (hdr.type == ETM_FRAME_DATA) {
			ret = etm_write_full(out_fd, payload, hdr.len);
			free(payload);
			if (ret) {
				fprintf(err, "etmem: cannot write the output: %s\n", strerror(-ret));
				return ETM_EXIT_FAIL;
			}
			continue;
		}
		if (hdr.type != ETM_FRAME_END) {
			free(payload);
			return quiet ? -1 : recv_error(err, -EPROTO, recv_ms);
		}
		ret = etm_end_decode(payload, hdr.len, &status, &msg);
		free(payload);
		if (ret)
			return quiet ? -1 : recv_error(err, ret, recv_ms);
		if (status == ETM_OK) {
			free(msg);
			return ETM_EXIT_OK;
		}
		if (old_daemon(&hdr, status, sent))
			fprintf(err,
				"etmem: this etmemd speaks protocol version %u only; --json and metrics need protocol "
				"version %u (etmemd said: %s)\n",
				hdr.version, sent, msg[0] ? msg : etm_status_str(status));
		else
			print_error_line(err, msg[0] ? msg : etm_status_str(status));
		free(msg);
		return ETM_EXIT_FAIL;
	}
}

int etm_client_run_io(const struct etm_client_cmd *cmd, int out_fd, FILE *err)
{
	struct etm_request req = { 0 };
	uint8_t *buf = NULL;
	size_t len = 0;
	uint8_t version;
	int fd, ret;

	ret = cmd->entry->build(cmd, &req);
	/* The lowest version that carries the request: an older etmemd serves what it can. */
	version = etm_request_version(&req);
	if (!ret)
		ret = etm_request_encode(&req, &buf, &len);
	/* req borrows from cmd: nothing to clear. */
	if (ret) {
		fprintf(err, "etmem: cannot build the request: %s\n", strerror(-ret));
		return ETM_EXIT_FAIL;
	}
	fd = connect_abstract(cmd->socket, cmd->send_timeout_ms, cmd->recv_timeout_ms);
	if (fd < 0) {
		fprintf(err, "etmem: cannot connect to etmemd socket '%s': %s%s\n", cmd->socket, strerror(-fd),
			fd == -ECONNREFUSED || fd == -ENOENT ? " (is etmemd running?)" : "");
		free(buf);
		return ETM_EXIT_FAIL;
	}
	ret = etm_send_frame_version(fd, version, ETM_FRAME_REQUEST, buf, len, NULL);
	free(buf);
	if (ret) {
		int sret = ret;

		/*
		 * etmemd may refuse a client before reading its request (a
		 * non-root peer) and close: its END frame, already queued, says
		 * why, which beats "Broken pipe".
		 */
		ret = -1;
		if (sret == -EPIPE || sret == -ECONNRESET)
			ret = relay_reply(fd, out_fd, err, cmd->recv_timeout_ms, true, version);
		if (ret < 0) {
			fprintf(err, "etmem: cannot send the request to etmemd: %s\n",
				sret == -ETIMEDOUT ? "timed out" : strerror(-sret));
			ret = ETM_EXIT_FAIL;
		}
		close(fd);
		return ret;
	}
	ret = relay_reply(fd, out_fd, err, cmd->recv_timeout_ms, false, version);
	close(fd);
	return ret;
}

/* engine heatmap -o: the reply (JSON) into memory, then the picture. */
static int run_draw(const struct etm_client_cmd *cmd, int out_fd, FILE *err)
{
	struct etm_client_cmd c = *cmd;
	char msg[1024];
	struct stat st;
	char *buf;
	int mem, ret;

	/* A client that cannot draw (or a name it cannot draw to) says so before asking. */
	if (etm_client_draw_check(cmd->output, msg, sizeof(msg))) {
		fprintf(err, "etmem: %s\n", msg);
		return ETM_EXIT_FAIL;
	}
	if ((mem = memfd_create("etmem-heatmap", MFD_CLOEXEC)) < 0) {
		fprintf(err, "etmem: memfd_create: %s\n", strerror(errno));
		return ETM_EXIT_FAIL;
	}
	c.output = NULL;
	c.json = true;
	ret = etm_client_run_io(&c, mem, err);
	if (ret != ETM_EXIT_OK || fstat(mem, &st) || (buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(mem);
		return ret != ETM_EXIT_OK ? ret : ETM_EXIT_FAIL;
	}
	if (pread(mem, buf, (size_t)st.st_size, 0) != st.st_size)
		ret = ETM_EXIT_FAIL, snprintf(msg, sizeof(msg), "cannot read the heatmap back: %s", strerror(errno));
	else if (etm_client_draw_heatmap(buf, (size_t)st.st_size, cmd->output, msg, sizeof(msg)))
		ret = ETM_EXIT_FAIL;
	free(buf);
	close(mem);
	if (ret != ETM_EXIT_OK) {
		fprintf(err, "etmem: %s\n", msg);
		return ret;
	}
	dprintf(out_fd, "%s\n", msg);
	return ETM_EXIT_OK;
}

int etm_client_run(const struct etm_client_cmd *cmd)
{
	return etm_client_run_io(cmd, STDOUT_FILENO, stderr);
}

int etm_client_main(int argc, char **argv, int out_fd, FILE *out, FILE *err)
{
	struct etm_client_cmd cmd;
	char msg[512];
	int ret;

	if (argc < 2) {
		etm_client_help(err, NULL);
		fflush(err);
		return ETM_EXIT_USAGE;
	}
	ret = etm_client_parse(argc, argv, &cmd, msg, sizeof(msg));
	if (ret < 0) {
		fprintf(err, "etmem: %s\n", msg);
		fflush(err);
		return ETM_EXIT_USAGE;
	}
	if (ret == 1) {
		etm_client_help(out, cmd.entry);
		return fflush(out) == 0 ? ETM_EXIT_OK : ETM_EXIT_FAIL;
	}
	if (cmd.output)
		return run_draw(&cmd, out_fd, err);
	return etm_client_run_io(&cmd, out_fd, err);
}
