/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The control socket: an abstract-namespace unix stream socket, root peers
 * only, one request per connection. One thread accepts and reads requests;
 * each complete request is served by a worker thread of its own, so that a
 * slow client or a slow command never holds up the others (server.c says
 * what each kind of connection may cost).
 */
#ifndef ETM_SERVER_H
#define ETM_SERVER_H

#include <glib.h>
#include <stdbool.h>

#include "registry.h"

/* Requests served at once (worker threads); more are answered "busy" at once. */
#define ETM_SERVER_MAX_CLIENTS 128
/* Root connections still sending their request; at this many, the oldest is dropped. */
#define ETM_SERVER_MAX_PENDING 256
/* A client must deliver its whole request within this many seconds of being accepted, */
#define ETM_SERVER_RECV_TIMEOUT_S 5
/* and take the whole reply within this many seconds of its first byte. */
#define ETM_SERVER_SEND_TIMEOUT_S 30
/* Connections refused to non-root users are logged in one line per this many seconds. */
#define ETM_SERVER_REFUSE_LOG_S 5
/* Bound on what an engine private command may return; the client is told of a cut. */
#define ETM_SERVER_MAX_OUTPUT (16 * 1024 * 1024)

struct etm_server;

/* Called when the stop fd is readable; true stops the server (false: keep serving). */
typedef bool (*etm_server_stop_fn)(int stop_fd);

/* Bind and listen on @name; -EADDRINUSE when another daemon holds it. */
int etm_server_new(const char *name, struct etm_registry *reg, struct etm_server **out, GString *err);
/*
 * Serve until @stop_fd is readable and @should_stop (if not NULL) says so;
 * then stop accepting, drop the connections still sending their request,
 * shut down the sockets of the requests in progress and join their threads:
 * when this returns, no thread of the server touches the registry any more.
 */
int etm_server_run(struct etm_server *srv, int stop_fd, etm_server_stop_fn should_stop);
void etm_server_free(struct etm_server *srv);

#endif
