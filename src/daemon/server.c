/* SPDX-License-Identifier: MulanPSL-2.0 */
#include "server.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/proto.h"

struct etm_server {
	int fd;
	char name[ETM_SOCKET_NAME_MAX + 1];
	struct etm_registry *reg;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	int nclients;
};

struct conn {
	struct etm_server *srv;
	int fd;
};

int etm_server_new(const char *name, struct etm_registry *reg, struct etm_server **out, GString *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	size_t len = strlen(name);
	struct etm_server *srv;
	socklen_t alen;
	int fd;

	if (len == 0 || len > ETM_SOCKET_NAME_MAX) {
		g_string_printf(err, "socket name must be 1..%d characters", ETM_SOCKET_NAME_MAX);
		return -EINVAL;
	}
	/* Abstract namespace: sun_path[0] is NUL, nothing lands in the filesystem. */
	memcpy(addr.sun_path + 1, name, len);
	alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		g_string_printf(err, "socket: %s", strerror(errno));
		return -errno;
	}
	if (bind(fd, (struct sockaddr *)&addr, alen) != 0) {
		int e = errno;

		if (e == EADDRINUSE)
			g_string_printf(err, "socket name '%s' is already in use (is another etmemd running?)", name);
		else
			g_string_printf(err, "cannot bind socket '%s': %s", name, strerror(e));
		close(fd);
		return -e;
	}
	if (listen(fd, 64) != 0) {
		int e = errno;

		g_string_printf(err, "cannot listen on socket '%s': %s", name, strerror(e));
		close(fd);
		return -e;
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv) {
		close(fd);
		g_string_assign(err, "out of memory");
		return -ENOMEM;
	}
	srv->fd = fd;
	strcpy(srv->name, name);
	srv->reg = reg;
	pthread_mutex_init(&srv->lock, NULL);
	pthread_cond_init(&srv->idle, NULL);
	*out = srv;
	return 0;
}

void etm_server_free(struct etm_server *srv)
{
	if (!srv)
		return;
	if (srv->fd >= 0)
		close(srv->fd);
	pthread_mutex_destroy(&srv->lock);
	pthread_cond_destroy(&srv->idle);
	free(srv);
}

static void set_timeouts(int fd, int rcv_s, int snd_s)
{
	struct timeval rcv = { .tv_sec = rcv_s }, snd = { .tv_sec = snd_s };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rcv, sizeof(rcv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &snd, sizeof(snd));
}

static void send_end(int fd, int status, const char *msg)
{
	uint8_t *buf = NULL;
	size_t len = 0;

	if (etm_end_encode(status, msg ? msg : "", &buf, &len) == 0)
		etm_send_frame(fd, ETM_FRAME_END, buf, len);
	free(buf);
}

static int send_data(int fd, const char *data, size_t len)
{
	while (len > 0) {
		size_t chunk = len < ETM_MAX_PAYLOAD ? len : ETM_MAX_PAYLOAD;
		int ret = etm_send_frame(fd, ETM_FRAME_DATA, data, chunk);

		if (ret)
			return ret;
		data += chunk;
		len -= chunk;
	}
	return 0;
}

/* Engine private commands write to a memfd; its bytes go out as DATA frames. */
static int run_eng_cmd(struct etm_registry *reg, int fd, const struct etm_request *req, GString *err)
{
	int out = memfd_create("etmem-engine-cmd", MFD_CLOEXEC);
	char buf[ETM_MAX_PAYLOAD];
	size_t total = 0;
	ssize_t n;
	int ret;

	if (out < 0) {
		g_string_printf(err, "memfd_create: %s", strerror(errno));
		return ETM_ERR_INTERNAL;
	}
	ret = etm_registry_eng_cmd(reg, req->proj, req->eng, req->task, req->eng_cmd, out, err);
	if (lseek(out, 0, SEEK_SET) == 0) {
		while (total < ETM_SERVER_MAX_OUTPUT && (n = read(out, buf, sizeof(buf))) > 0) {
			if ((size_t)n > ETM_SERVER_MAX_OUTPUT - total)
				n = (ssize_t)(ETM_SERVER_MAX_OUTPUT - total);
			if (send_data(fd, buf, (size_t)n) != 0)
				break;
			total += (size_t)n;
		}
		if (total == ETM_SERVER_MAX_OUTPUT)
			etm_warn("engine %s command %s: output truncated at %d bytes", req->eng, req->eng_cmd,
				 ETM_SERVER_MAX_OUTPUT);
	}
	close(out);
	return ret;
}

static const char *const cmd_names[] = {
	"obj add", "obj del", "project start", "project stop", "project show", "engine"
};

/* Checks that the fields a command needs are there: the rest is ignored. */
static int check_request(const struct etm_request *req, GString *err)
{
	switch (req->cmd) {
	case ETM_CMD_OBJ_ADD:
	case ETM_CMD_OBJ_DEL:
		if (!req->file || req->file[0] != '/') {
			g_string_assign(err, "invalid parameters: an absolute configuration file path is required");
			return ETM_ERR_INVAL;
		}
		return ETM_OK;
	case ETM_CMD_PROJ_START:
	case ETM_CMD_PROJ_STOP:
		if (!req->proj || !req->proj[0]) {
			g_string_assign(err, "invalid parameters: a project name is required");
			return ETM_ERR_INVAL;
		}
		return ETM_OK;
	case ETM_CMD_PROJ_SHOW:
		return ETM_OK;
	case ETM_CMD_ENG_CMD:
		if (!req->proj || !req->eng || !req->eng_cmd || !req->proj[0] || !req->eng[0] || !req->eng_cmd[0]) {
			g_string_assign(err, "invalid parameters: project, engine and command are required");
			return ETM_ERR_INVAL;
		}
		return ETM_OK;
	default:
		g_string_printf(err, "invalid parameters: unknown command %u", req->cmd);
		return ETM_ERR_PROTO;
	}
}

static int dispatch(struct etm_registry *reg, int fd, const struct etm_request *req, GString *err)
{
	GString *out;
	int ret = check_request(req, err);

	if (ret)
		return ret;
	switch (req->cmd) {
	case ETM_CMD_OBJ_ADD:
		return etm_registry_obj_add(reg, req->file, err);
	case ETM_CMD_OBJ_DEL:
		return etm_registry_obj_del(reg, req->file, err);
	case ETM_CMD_PROJ_START:
		return etm_registry_start(reg, req->proj, err);
	case ETM_CMD_PROJ_STOP:
		return etm_registry_stop(reg, req->proj, err);
	case ETM_CMD_PROJ_SHOW:
		out = g_string_new(NULL);
		ret = etm_registry_show(reg, req->proj && req->proj[0] ? req->proj : NULL, out, err);
		if (ret == ETM_OK && send_data(fd, out->str, out->len) != 0)
			ret = ETM_ERR_INTERNAL;
		g_string_free(out, TRUE);
		return ret;
	default:
		return run_eng_cmd(reg, fd, req, err);
	}
}

/* Root only: etmemd acts on any process's memory with root's privileges. */
static bool peer_is_root(int fd, struct ucred *cred)
{
	socklen_t len = sizeof(*cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len) != 0)
		return false;
	return cred->uid == 0;
}

void etm_server_handle(struct etm_registry *reg, int fd)
{
	struct etm_request req = { 0 };
	struct etm_hdr hdr;
	struct ucred cred = { 0 };
	struct timespec deadline;
	uint8_t *payload = NULL;
	GString *err;
	int ret;

	set_timeouts(fd, ETM_SERVER_RECV_TIMEOUT_S, ETM_SERVER_SEND_TIMEOUT_S);
	if (!peer_is_root(fd, &cred)) {
		etm_warn("refused connection from pid %d uid %u: etmemd serves root only", (int)cred.pid,
			 (unsigned)cred.uid);
		send_end(fd, ETM_ERR_INVAL, "permission denied: etmemd serves root only");
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += ETM_SERVER_RECV_TIMEOUT_S;
	ret = etm_recv_frame_by(fd, &hdr, &payload, ETM_MAX_REQUEST, &deadline);
	if (ret == -EPROTONOSUPPORT) {
		send_end(fd, ETM_ERR_PROTO, "unsupported protocol version: client and etmemd do not match");
		return;
	}
	if (ret) {
		/* Garbage, truncation or a silent peer: say so if it still listens. */
		etm_debug("dropped client pid %d: bad or incomplete request (%s)", (int)cred.pid, strerror(-ret));
		if (ret != -ECONNRESET)
			send_end(fd, ETM_ERR_PROTO, "malformed request");
		return;
	}
	if (hdr.type != ETM_FRAME_REQUEST || etm_request_decode(payload, hdr.len, &req) != 0) {
		free(payload);
		etm_debug("dropped client pid %d: malformed request", (int)cred.pid);
		send_end(fd, ETM_ERR_PROTO, "malformed request");
		return;
	}
	free(payload);

	err = g_string_new(NULL);
	ret = dispatch(reg, fd, &req, err);
	if (ret != ETM_OK) {
		if (err->len == 0)
			g_string_assign(err, etm_status_str(ret));
		etm_info("%s failed: %s", req.cmd < ETM_CMD_MAX ? cmd_names[req.cmd] : "request", err->str);
	}
	send_end(fd, ret, ret == ETM_OK ? "" : err->str);
	g_string_free(err, TRUE);
	etm_request_clear(&req);
}

/*
 * A unix socket closed with unread input resets the peer, which would then
 * lose our END frame (a refused or malformed request is answered before it
 * is read in full). So half-close, and drain a bounded amount first.
 */
static void close_gracefully(int fd)
{
	char buf[4096];
	size_t drained = 0;
	ssize_t n;

	shutdown(fd, SHUT_WR);
	set_timeouts(fd, 1, 1);
	while (drained < 4 * ETM_MAX_PAYLOAD && (n = recv(fd, buf, sizeof(buf), 0)) > 0)
		drained += (size_t)n;
	close(fd);
}

static void *conn_thread(void *arg)
{
	struct conn *c = arg;
	struct etm_server *srv = c->srv;

	etm_server_handle(srv->reg, c->fd);
	close_gracefully(c->fd);
	free(c);
	pthread_mutex_lock(&srv->lock);
	if (--srv->nclients == 0)
		pthread_cond_broadcast(&srv->idle);
	pthread_mutex_unlock(&srv->lock);
	return NULL;
}

static void accept_one(struct etm_server *srv)
{
	pthread_attr_t attr;
	pthread_t tid;
	struct conn *c;
	int fd = accept4(srv->fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	pthread_mutex_lock(&srv->lock);
	if (srv->nclients >= ETM_SERVER_MAX_CLIENTS) {
		pthread_mutex_unlock(&srv->lock);
		/* Answer without reading: never let a flood pile up threads. */
		set_timeouts(fd, 1, 1);
		send_end(fd, ETM_ERR_BUSY, "etmemd is busy: too many concurrent clients, try again");
		close(fd);
		return;
	}
	srv->nclients++;
	pthread_mutex_unlock(&srv->lock);

	c = malloc(sizeof(*c));
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	if (!c || (c->srv = srv, c->fd = fd, pthread_create(&tid, &attr, conn_thread, c) != 0)) {
		etm_err("cannot serve a client: out of resources");
		free(c);
		close(fd);
		pthread_mutex_lock(&srv->lock);
		srv->nclients--;
		pthread_mutex_unlock(&srv->lock);
	}
	pthread_attr_destroy(&attr);
}

int etm_server_run(struct etm_server *srv, int stop_fd)
{
	struct pollfd pfd[2] = { { .fd = srv->fd, .events = POLLIN }, { .fd = stop_fd, .events = POLLIN } };
	struct timespec deadline;

	etm_info("listening on abstract socket @%s", srv->name);
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			etm_err("poll: %s", strerror(errno));
			break;
		}
		if (pfd[1].revents)
			break;
		if (pfd[0].revents & POLLIN)
			accept_one(srv);
	}
	close(srv->fd);
	srv->fd = -1;

	/* Let requests in flight finish; their sockets time out within bounds. */
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += ETM_SERVER_RECV_TIMEOUT_S + ETM_SERVER_SEND_TIMEOUT_S + 5;
	pthread_mutex_lock(&srv->lock);
	while (srv->nclients > 0)
		if (pthread_cond_timedwait(&srv->idle, &srv->lock, &deadline) == ETIMEDOUT)
			break;
	if (srv->nclients > 0)
		etm_warn("%d client(s) still in progress at shutdown", srv->nclients);
	pthread_mutex_unlock(&srv->lock);
	return srv->nclients > 0 ? -EBUSY : 0;
}
