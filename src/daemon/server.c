/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The control socket. One thread (the caller of etm_server_run) accepts,
 * checks the peer and reads requests for every connection at once in one
 * poll(); only a complete request from root takes one of the worker slots,
 * whose thread runs the command and sends the reply. So:
 *  - a non-root peer costs one accept, one tiny non-blocking reply and a
 *    close: it never holds a slot, a thread or a buffer;
 *  - a root peer that is slow to send its request holds one of
 *    ETM_SERVER_MAX_PENDING small buffers, for at most the request
 *    deadline; at capacity the oldest is dropped, so a flood of slow
 *    connections cannot keep out a client that sends its request at once
 *    (as etmem does);
 *  - a worker holds its slot for the command and for at most the reply
 *    deadline; at shutdown every client socket is shut down to wake its
 *    worker, and every worker is joined before anything is freed.
 */
#include "server.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/escape.h"
#include "common/log.h"
#include "common/proto.h"
#include "metrics.h"

/* Connections accepted per wake-up, so that pending requests get their turn too. */
#define ACCEPT_BURST 64
/* Request names quoted in logs are cut here. */
#define LOG_NAME_MAX 64
/* After accept fails for lack of file descriptors or memory, pause accepting this long. */
#define ACCEPT_PAUSE_MS 1000

enum worker_state { W_FREE, W_BUSY, W_DONE };

struct worker {
	struct etm_server *srv;
	pthread_t tid;
	enum worker_state state; /* under srv->lock */
	int fd;			 /* under srv->lock: -1 once the worker closed it */
	pid_t pid;		 /* the peer, for logs */
	struct etm_request req;
};

/* A root connection whose request is still arriving (accept loop only). */
struct pending {
	int fd;
	pid_t pid;
	struct timespec deadline;
	struct etm_frame_reader rd;
};

struct etm_server {
	int fd;
	int wake_fd; /* a worker that finished wakes the accept loop to join it */
	char name[ETM_SOCKET_NAME_MAX + 1];
	struct etm_registry *reg;
	pthread_mutex_t lock;
	struct worker workers[ETM_SERVER_MAX_CLIENTS];
	/* The rest belongs to the accept loop alone. */
	struct pending pending[ETM_SERVER_MAX_PENDING];
	int npending;
	struct timespec refuse_window; /* refusals before this are counted, not logged */
	unsigned refused_unlogged;
	struct timespec accept_paused_until;
};

/* ----------------------------------------------------------------- time */

static struct timespec mono_in_ms(long ms)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* Milliseconds from now until @t, at least 0. */
static long ms_until(const struct timespec *t)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (t->tv_sec - now.tv_sec) * 1000LL + (t->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms > 3600000 ? 3600000 : (long)ms;
}

static bool passed(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

/* ------------------------------------------------------------ lifecycle */

int etm_server_new(const char *name, struct etm_registry *reg, struct etm_server **out, GString *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	size_t len = strlen(name);
	struct etm_server *srv;
	socklen_t alen;
	int fd;

	if (len == 0 || len > ETM_SOCKET_NAME_MAX) {
		g_string_printf(err, "socket name must be 1..%d bytes", ETM_SOCKET_NAME_MAX);
		return -EINVAL;
	}
	/* Abstract namespace: sun_path[0] is NUL, nothing lands in the filesystem. */
	memcpy(addr.sun_path + 1, name, len);
	alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len);
	/* Non-blocking: the accept loop takes connections until EAGAIN. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
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
	if (listen(fd, ETM_SERVER_MAX_CLIENTS) != 0) {
		int e = errno;

		g_string_printf(err, "cannot listen on socket '%s': %s", name, strerror(e));
		close(fd);
		return -e;
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv || (srv->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		free(srv);
		close(fd);
		g_string_assign(err, "out of resources");
		return -ENOMEM;
	}
	srv->fd = fd;
	strcpy(srv->name, name);
	srv->reg = reg;
	pthread_mutex_init(&srv->lock, NULL);
	*out = srv;
	return 0;
}

void etm_server_free(struct etm_server *srv)
{
	if (!srv)
		return;
	if (srv->fd >= 0)
		close(srv->fd);
	close(srv->wake_fd);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
}

/* ---------------------------------------------------------------- reply */

/* A reply: DATA frames and one END, all out by one deadline counted from the first. */
struct reply {
	int fd;
	uint8_t version; /* the request's: a client reads replies of its own version */
	bool started;
	struct timespec deadline;
	int err; /* the first send error: the peer is gone or too slow, send nothing more */
};

static int reply_frame(struct reply *r, uint8_t type, const void *buf, size_t len)
{
	if (r->err)
		return r->err;
	if (!r->started) {
		r->deadline = mono_in_ms(ETM_SERVER_SEND_TIMEOUT_S * 1000L);
		r->started = true;
	}
	r->err = etm_send_frame_version(r->fd, r->version, type, buf, len, &r->deadline);
	return r->err;
}

static int reply_data(struct reply *r, const char *data, size_t len)
{
	while (len > 0) {
		size_t chunk = len < ETM_MAX_PAYLOAD ? len : ETM_MAX_PAYLOAD;
		int ret = reply_frame(r, ETM_FRAME_DATA, data, chunk);

		if (ret)
			return ret;
		data += chunk;
		len -= chunk;
	}
	return 0;
}

static void reply_end(struct reply *r, int status, const char *msg)
{
	uint8_t *buf = NULL;
	size_t len = 0;

	if (etm_end_encode(status, msg ? msg : "", &buf, &len) == 0)
		reply_frame(r, ETM_FRAME_END, buf, len);
	free(buf);
}

/*
 * Answer a connection the accept loop will not serve, without ever waiting:
 * a fresh socket's buffer takes a short END frame at once; if it does not,
 * the peer gets nothing but the close.
 */
static void answer_now(int fd, int status, const char *msg)
{
	/* No request was read: the oldest version, which every client reads. */
	struct reply r = { .fd = fd, .version = ETM_PROTO_VERSION_MIN, .started = true };

	clock_gettime(CLOCK_MONOTONIC, &r.deadline);
	reply_end(&r, status, msg);
}

/* -------------------------------------------------------------- commands */

static const char *const cmd_names[] = { "obj add",	 "obj del", "project start", "project stop",
					 "project show", "engine",  "metrics" };

/* The request's names for a log line, each escaped (they come from the client). */
static void describe_request(const struct etm_request *req, char *buf, size_t size)
{
	const char *const val[] = { req->proj, req->eng, req->task, req->eng_cmd, req->file };
	const char *const opt[] = { "-n", "-e", "-t", "command", "-f" };
	char esc[ETM_ESCAPED_SIZE(LOG_NAME_MAX)];
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(val) / sizeof(val[0]) && off < size; i++) {
		if (!val[i])
			continue;
		etm_escape(esc, sizeof(esc), val[i], LOG_NAME_MAX, true);
		off += (size_t)snprintf(buf + off, size - off, " %s '%s'", opt[i], esc);
	}
}

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
	case ETM_CMD_METRICS:
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

/* Send at most ETM_SERVER_MAX_OUTPUT bytes of @out; true when there was more. */
static bool send_output(struct reply *r, int out)
{
	char buf[ETM_MAX_PAYLOAD];
	struct stat st;
	size_t total = 0, limit;
	ssize_t n;

	if (fstat(out, &st) != 0 || lseek(out, 0, SEEK_SET) != 0)
		return false;
	limit = (size_t)st.st_size < ETM_SERVER_MAX_OUTPUT ? (size_t)st.st_size : ETM_SERVER_MAX_OUTPUT;
	while (total < limit) {
		n = read(out, buf, limit - total < sizeof(buf) ? limit - total : sizeof(buf));
		if (n <= 0 || reply_data(r, buf, (size_t)n) != 0)
			break;
		total += (size_t)n;
	}
	return (size_t)st.st_size > ETM_SERVER_MAX_OUTPUT;
}

/*
 * Engine private commands write to a memfd; its bytes go out as DATA frames.
 * Output past the bound is dropped, and the client is told so by a failed
 * status: a cut table must not pass for a whole one.
 */
static int run_eng_cmd(struct etm_registry *reg, struct reply *r, const struct etm_request *req, GString *err)
{
	int out = memfd_create("etmem-engine-cmd", MFD_CLOEXEC);
	char eng[ETM_ESCAPED_SIZE(LOG_NAME_MAX)], cmd[ETM_ESCAPED_SIZE(LOG_NAME_MAX)];
	int ret;

	if (out < 0) {
		g_string_printf(err, "memfd_create: %s", strerror(errno));
		return ETM_ERR_INTERNAL;
	}
	ret = etm_registry_eng_cmd(reg, req->proj, req->eng, req->task, req->eng_cmd, req->format, out, err);
	if (send_output(r, out)) {
		etm_escape(eng, sizeof(eng), req->eng, LOG_NAME_MAX, true);
		etm_escape(cmd, sizeof(cmd), req->eng_cmd, LOG_NAME_MAX, true);
		etm_warn("engine %s command %s: output truncated at %d bytes", eng, cmd, ETM_SERVER_MAX_OUTPUT);
		g_string_append_printf(
		    err, "%sengine %s command %s: output truncated: only its first %d bytes (16 MiB) were sent",
		    err->len ? "; " : "", eng, cmd, ETM_SERVER_MAX_OUTPUT);
		if (ret == ETM_OK)
			ret = ETM_ERR_INTERNAL;
	}
	close(out);
	return ret;
}

static int dispatch(struct etm_registry *reg, struct reply *r, const struct etm_request *req, GString *err)
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
		ret = etm_registry_show(reg, req->proj && req->proj[0] ? req->proj : NULL, req->format, out, err);
		/* A client gone or too slow is no error of the command: serve() logs it. */
		if (ret == ETM_OK)
			reply_data(r, out->str, out->len);
		g_string_free(out, TRUE);
		return ret;
	case ETM_CMD_METRICS:
		if (req->format != ETM_FORMAT_TEXT) {
			g_string_assign(err, "metrics are text only (the Prometheus text format)");
			return ETM_ERR_NOT_SUPPORTED;
		}
		out = g_string_new(NULL);
		etm_registry_metrics(reg, out);
		reply_data(r, out->str, out->len);
		g_string_free(out, TRUE);
		return ETM_OK;
	default:
		return run_eng_cmd(reg, r, req, err);
	}
}

static void serve(struct etm_registry *reg, int fd, pid_t pid, const struct etm_request *req)
{
	struct reply r = { .fd = fd, .version = req->version };
	GString *err = g_string_new(NULL);
	char names[5 * (ETM_ESCAPED_SIZE(LOG_NAME_MAX) + 16)];
	int ret = dispatch(reg, &r, req, err);

	if (ret != ETM_OK) {
		if (err->len == 0)
			g_string_assign(err, etm_status_str(ret));
		describe_request(req, names, sizeof(names));
		etm_info("%s%s (pid %d) failed: %s", req->cmd < ETM_CMD_MAX ? cmd_names[req->cmd] : "request", names,
			 (int)pid, err->str);
	}
	reply_end(&r, ret, ret == ETM_OK ? "" : err->str);
	if (r.err)
		etm_debug("client pid %d: reply not delivered: %s", (int)pid, strerror(-r.err));
	g_string_free(err, TRUE);
}

/* --------------------------------------------------------------- workers */

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct etm_server *srv = w->srv;
	uint64_t one = 1;

	serve(srv->reg, w->fd, w->pid, &w->req);
	etm_request_clear(&w->req);
	/* Under the lock: shutdown may be calling shutdown(2) on this very fd. */
	pthread_mutex_lock(&srv->lock);
	close(w->fd);
	w->fd = -1;
	w->state = W_DONE;
	pthread_mutex_unlock(&srv->lock);
	if (write(srv->wake_fd, &one, sizeof(one)) < 0)
		etm_debug("cannot wake the accept loop: %s", strerror(errno));
	return NULL;
}

/* Join the workers that are done; their slots become free. */
static void reap_workers(struct etm_server *srv)
{
	for (int i = 0; i < ETM_SERVER_MAX_CLIENTS; i++) {
		struct worker *w = &srv->workers[i];
		bool done;

		pthread_mutex_lock(&srv->lock);
		done = w->state == W_DONE;
		pthread_mutex_unlock(&srv->lock);
		if (!done)
			continue;
		pthread_join(w->tid, NULL);
		w->state = W_FREE;
	}
}

/* Hand a complete request to a worker; takes @fd and @req in every case. */
static void start_worker(struct etm_server *srv, int fd, pid_t pid, struct etm_request *req)
{
	struct worker *w = NULL;
	pthread_attr_t attr;
	int i;

	reap_workers(srv);
	/* Only this thread makes a slot busy, so a free one stays free until we take it. */
	pthread_mutex_lock(&srv->lock);
	for (i = 0; i < ETM_SERVER_MAX_CLIENTS && !w; i++)
		if (srv->workers[i].state == W_FREE)
			w = &srv->workers[i];
	pthread_mutex_unlock(&srv->lock);
	if (!w) {
		answer_now(fd, ETM_ERR_BUSY, "etmemd is busy: too many concurrent clients, try again");
		goto drop;
	}
	*w = (struct worker){ .srv = srv, .state = W_BUSY, .fd = fd, .pid = pid, .req = *req };
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	if (pthread_create(&w->tid, &attr, worker_main, w) != 0) {
		pthread_attr_destroy(&attr);
		w->state = W_FREE;
		etm_err("cannot serve a client: out of resources");
		answer_now(fd, ETM_ERR_INTERNAL, "etmemd cannot serve the request: out of resources");
		goto drop;
	}
	pthread_attr_destroy(&attr);
	return;
drop:
	close(fd);
	etm_request_clear(req);
}

/* -------------------------------------------------------------- requests */

static void drop_pending(struct etm_server *srv, int i, int status, const char *msg)
{
	struct pending *p = &srv->pending[i];

	if (msg)
		answer_now(p->fd, status, msg);
	close(p->fd);
	etm_frame_reader_clear(&p->rd);
	srv->pending[i] = srv->pending[--srv->npending];
}

/* The frame is in: decode it and hand it to a worker. */
static void request_ready(struct etm_server *srv, int i)
{
	struct pending *p = &srv->pending[i];
	struct etm_request req = { 0 };

	if (p->rd.hdr.type != ETM_FRAME_REQUEST ||
	    etm_request_decode(p->rd.payload, p->rd.hdr.len, p->rd.hdr.version, &req) != 0) {
		etm_debug("dropped client pid %d: malformed request", (int)p->pid);
		drop_pending(srv, i, ETM_ERR_PROTO, "malformed request");
		return;
	}
	start_worker(srv, p->fd, p->pid, &req);
	etm_frame_reader_clear(&p->rd);
	srv->pending[i] = srv->pending[--srv->npending];
}

/* Read what connection @i has sent; it leaves the pending set when its request is in or wrong. */
static void feed_pending(struct etm_server *srv, int i)
{
	struct pending *p = &srv->pending[i];
	int ret;

	while ((ret = etm_frame_reader_step(&p->rd, p->fd)) == -EINPROGRESS)
		;
	if (ret == -EAGAIN)
		return;
	if (ret == 0) {
		request_ready(srv, i);
		return;
	}
	etm_debug("dropped client pid %d: bad or incomplete request (%s)", (int)p->pid, strerror(-ret));
	if (ret == -EPROTONOSUPPORT) {
		char msg[128];

		snprintf(msg, sizeof(msg), "unsupported protocol version %u: this etmemd speaks versions %d to %d",
			 p->rd.raw[4], ETM_PROTO_VERSION_MIN, ETM_PROTO_VERSION);
		drop_pending(srv, i, ETM_ERR_PROTO, msg);
	} else {
		drop_pending(srv, i, ETM_ERR_PROTO, ret == -ECONNRESET ? NULL : "malformed request");
	}
}

static void expire_pending(struct etm_server *srv)
{
	for (int i = srv->npending - 1; i >= 0; i--) {
		if (!passed(&srv->pending[i].deadline))
			continue;
		etm_debug("dropped client pid %d: no complete request within %d s", (int)srv->pending[i].pid,
			  ETM_SERVER_RECV_TIMEOUT_S);
		drop_pending(srv, i, ETM_ERR_PROTO, "timed out: the request did not arrive in time");
	}
}

/* -------------------------------------------------------------- accepting */

/* A summary line for the refusals of the window that ended, if any. */
static void flush_refusals(struct etm_server *srv)
{
	if (!srv->refused_unlogged || !passed(&srv->refuse_window))
		return;
	etm_warn("refused %u more connection(s) from non-root users in the last %d s", srv->refused_unlogged,
		 ETM_SERVER_REFUSE_LOG_S);
	srv->refused_unlogged = 0;
	srv->refuse_window = mono_in_ms(ETM_SERVER_REFUSE_LOG_S * 1000L);
}

/* Non-root peers cost one short answer and a close; a flood of them costs one log line per window. */
static void refuse_peer(struct etm_server *srv, int fd, const struct ucred *cred)
{
	answer_now(fd, ETM_ERR_INVAL, "permission denied: etmemd serves root only");
	close(fd);
	flush_refusals(srv);
	if (!passed(&srv->refuse_window)) {
		srv->refused_unlogged++;
		return;
	}
	etm_warn("refused connection from pid %d uid %u gid %u: etmemd serves root only", (int)cred->pid,
		 (unsigned)cred->uid, (unsigned)cred->gid);
	srv->refuse_window = mono_in_ms(ETM_SERVER_REFUSE_LOG_S * 1000L);
}

static void take_connection(struct etm_server *srv, int fd)
{
	struct ucred cred = { .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
	socklen_t len = sizeof(cred);
	struct pending *p;
	int oldest = 0;

	/* Root is uid 0, whatever its gid: etmemd acts on any process's memory with root's privileges. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != 0) {
		refuse_peer(srv, fd, &cred);
		return;
	}
	if (srv->npending == ETM_SERVER_MAX_PENDING) {
		for (int i = 1; i < srv->npending; i++)
			if (srv->pending[i].deadline.tv_sec < srv->pending[oldest].deadline.tv_sec ||
			    (srv->pending[i].deadline.tv_sec == srv->pending[oldest].deadline.tv_sec &&
			     srv->pending[i].deadline.tv_nsec < srv->pending[oldest].deadline.tv_nsec))
				oldest = i;
		etm_debug("dropped client pid %d: too many connections still sending their request",
			  (int)srv->pending[oldest].pid);
		drop_pending(srv, oldest, ETM_ERR_BUSY,
			     "etmemd is busy: too many connections are still sending their request, try again");
	}
	p = &srv->pending[srv->npending++];
	p->fd = fd;
	p->pid = cred.pid;
	p->deadline = mono_in_ms(ETM_SERVER_RECV_TIMEOUT_S * 1000L);
	etm_frame_reader_init(&p->rd, ETM_MAX_REQUEST);
	/* The request usually came with the connection. */
	feed_pending(srv, srv->npending - 1);
}

static void accept_burst(struct etm_server *srv)
{
	for (int i = 0; i < ACCEPT_BURST; i++) {
		int fd = accept4(srv->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd >= 0) {
			take_connection(srv, fd);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			/* The connection stays queued: stop polling for it a while rather than spin. */
			etm_err("cannot accept a client: %s; new connections wait %d ms", strerror(errno),
				ACCEPT_PAUSE_MS);
			srv->accept_paused_until = mono_in_ms(ACCEPT_PAUSE_MS);
		}
		return;
	}
}

/* ------------------------------------------------------------ main loop */

/* Until the next pending deadline, refusal summary or end of an accept pause; -1: none. */
static int next_timeout_ms(const struct etm_server *srv)
{
	long ms = -1;

	for (int i = 0; i < srv->npending; i++) {
		long t = ms_until(&srv->pending[i].deadline);

		if (ms < 0 || t < ms)
			ms = t;
	}
	if (srv->refused_unlogged) {
		long t = ms_until(&srv->refuse_window);

		if (ms < 0 || t < ms)
			ms = t;
	}
	if (!passed(&srv->accept_paused_until)) {
		long t = ms_until(&srv->accept_paused_until);

		if (ms < 0 || t < ms)
			ms = t;
	}
	/* Round up: waking a millisecond early would just poll again. */
	return ms < 0 ? -1 : (int)ms + 1;
}

/*
 * Stop serving: close the connections whose request has not arrived, shut
 * down every worker's socket so that a reply stuck on a client that does not
 * read fails at once, and join every worker. A command in progress (a
 * project start, an engine command) runs to its end: it holds registry
 * objects, which main() frees next.
 */
static void stop_serving(struct etm_server *srv)
{
	int busy = 0;

	close(srv->fd);
	srv->fd = -1;
	while (srv->npending > 0)
		drop_pending(srv, srv->npending - 1, ETM_ERR_INTERNAL, "etmemd is shutting down");
	pthread_mutex_lock(&srv->lock);
	for (int i = 0; i < ETM_SERVER_MAX_CLIENTS; i++) {
		if (srv->workers[i].state == W_BUSY) {
			busy++;
			if (srv->workers[i].fd >= 0)
				shutdown(srv->workers[i].fd, SHUT_RDWR);
		}
	}
	pthread_mutex_unlock(&srv->lock);
	if (busy)
		etm_info("waiting for %d client command(s) in progress", busy);
	for (int i = 0; i < ETM_SERVER_MAX_CLIENTS; i++) {
		struct worker *w = &srv->workers[i];
		struct timespec until;
		int waited = 0;
		bool idle;

		pthread_mutex_lock(&srv->lock);
		idle = w->state == W_FREE;
		pthread_mutex_unlock(&srv->lock);
		if (idle)
			continue;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 5;
		while (pthread_timedjoin_np(w->tid, NULL, &until) == ETIMEDOUT) {
			waited += 5;
			etm_warn("still waiting for the command of client pid %d after %d s", (int)w->pid, waited);
			until.tv_sec += 5;
		}
		w->state = W_FREE;
	}
}

int etm_server_run(struct etm_server *srv, int stop_fd, etm_server_stop_fn should_stop)
{
	struct pollfd pfd[3 + ETM_SERVER_MAX_PENDING];
	uint64_t count;

	etm_info("listening on abstract socket @%s", srv->name);
	for (;;) {
		int n = srv->npending;

		pfd[0] = (struct pollfd){ .fd = srv->fd, .events = passed(&srv->accept_paused_until) ? POLLIN : 0 };
		pfd[1] = (struct pollfd){ .fd = stop_fd, .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = srv->wake_fd, .events = POLLIN };
		for (int i = 0; i < n; i++)
			pfd[3 + i] = (struct pollfd){ .fd = srv->pending[i].fd, .events = POLLIN };
		if (poll(pfd, (nfds_t)(3 + n), next_timeout_ms(srv)) < 0) {
			if (errno == EINTR)
				continue;
			etm_err("poll: %s", strerror(errno));
			break;
		}
		if (pfd[1].revents && (!should_stop || should_stop(stop_fd)))
			break;
		if (pfd[2].revents && read(srv->wake_fd, &count, sizeof(count)) > 0)
			reap_workers(srv);
		/* Backwards: dropping entry i moves the last, already seen, entry into its place. */
		for (int i = n - 1; i >= 0; i--)
			if (pfd[3 + i].revents)
				feed_pending(srv, i);
		expire_pending(srv);
		flush_refusals(srv);
		if (pfd[0].revents & POLLIN)
			accept_burst(srv);
	}
	stop_serving(srv);
	return 0;
}
