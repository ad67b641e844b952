/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server: the browsers' HTTP API, on libevent's evhttp.
 *
 *   GET /v1/queues/{queue}/events?user=U&token=T   text/event-stream
 *   GET /v1/queues/{queue}/users/{user}?token=T    one JSON object
 *
 * A stream sends the current state as soon as Redis has answered, then an
 * event whenever the hub says the state changed: `rank`, or `confirm` /
 * `gone` after which the stream ends. Every event has an `id:`; a
 * reconnecting browser's Last-Event-ID (header or lastEventId parameter)
 * is accepted, whatever it holds, and answered with the current state,
 * which is all a position needs. `: ping` comments go out every http.heartbeat_interval,
 * spread over the interval rather than to every stream at once.
 *
 * Errors are JSON bodies {"error": "...", "status": N}: 400 malformed
 * (bad percent-encoding, names that are not 1-200 printable bytes), 401
 * missing or invalid token, 403 a token for another queue or user, 404,
 * 405, 503 with Retry-After at http.max_connections or while draining.
 *
 * A stream, once its request is accepted, is no longer evhttp's: its
 * socket is taken over by a small record (sse/stream.h) and its head is
 * written by hand. A reader whose unsent output passes
 * http.max_output_buffer is cut off at once, and one that makes no
 * progress for the write timeout too, so a stalled browser costs a
 * bounded amount of memory and never delays the others: a write never
 * waits, what the socket does not take waits in the stream's own buffer.
 *
 * Loop thread only.
 */
#ifndef OUTBOX_SSE_SERVER_H
#define OUTBOX_SSE_SERVER_H

#include <event2/event.h>
#include <stddef.h>

#include "common/metrics.h"
#include "config/cfg_sse.h"
#include "sse/hub.h"

struct server;
struct wshare;

/* A worker among several (http.workers > 1, sse/super.h): it listens on
 * its own SO_REUSEPORT socket on `port` (the one the supervisor holds),
 * and http.max_connections counts the other workers' connections too,
 * through the shared page's `slot`. */
struct server_share {
    int port;
    struct wshare *ws;
    size_t slot;
};

/* share is NULL for a server alone on its port. */
struct server *server_new(struct event_base *base, const struct sse_cfg *cfg,
                          struct hub *hub, struct metrics *m,
                          const struct server_share *share, char *err,
                          size_t errlen);

/* A TCP socket on http.listen's host and `port` with SO_REUSEPORT,
 * listening when `listen` is set (a worker's), else only bound (the
 * supervisor's, which holds the port, and picks it when port is 0, and is
 * given no connections: the kernel spreads them over listening sockets
 * only). The fd, with the port bound in *bound, or -1 with errno. */
int server_reuseport_socket(const char *hostport, int port, int listen,
                            int *bound);
void server_free(struct server *s);

int server_port(const struct server *s);

/* Stops accepting, sends every stream a `retry:` hint and ends the
 * streams spread over http.drain_window; `done` runs on the loop once the
 * last one is closed. */
void server_drain(struct server *s, void (*done)(void *arg), void *arg);

#endif
