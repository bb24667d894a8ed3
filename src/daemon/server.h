/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The control socket: an abstract-namespace unix stream socket, root peers
 * only, one request per connection, each connection served by its own
 * thread so that a slow client or a slow command never holds up the others.
 */
#ifndef ETM_SERVER_H
#define ETM_SERVER_H

#include <glib.h>

#include "registry.h"

/* Concurrent connections served; more are answered "busy" at once. */
#define ETM_SERVER_MAX_CLIENTS 128
/* A client must deliver its whole request within this many seconds. */
#define ETM_SERVER_RECV_TIMEOUT_S 5
#define ETM_SERVER_SEND_TIMEOUT_S 10
/* Bound on what an engine private command may return. */
#define ETM_SERVER_MAX_OUTPUT (16 * 1024 * 1024)

struct etm_server;

/* Bind and listen on @name; -EADDRINUSE when another daemon holds it. */
int etm_server_new(const char *name, struct etm_registry *reg, struct etm_server **out, GString *err);
/*
 * Serve until a byte arrives on @stop_fd (or it becomes readable); then stop
 * accepting, wait for the connections in flight, and return.
 */
int etm_server_run(struct etm_server *srv, int stop_fd);
void etm_server_free(struct etm_server *srv);

/* Serve one accepted connection (exposed for tests and fuzzing). */
void etm_server_handle(struct etm_registry *reg, int fd);

#endif
