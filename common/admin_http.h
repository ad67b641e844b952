/* SPDX-License-Identifier: Apache-2.0 */
/*
 * admin_http: GET /healthz and GET /metrics on the daemon's event loop.
 *
 * Served by libevent's evhttp on its own address (metrics.listen), apart
 * from any public endpoint. /healthz asks the daemon's health callback:
 * 200 "ok" (or the state it names, e.g. "standby"), or 503 with the
 * reason it gives (e.g. "source disconnected").
 * /metrics renders the registry. Anything else: 404, or 405 for another
 * method on a known path.
 *
 * Loop thread only.
 */
#ifndef OUTBOX_ADMIN_HTTP_H
#define OUTBOX_ADMIN_HTTP_H

#include <event2/event.h>
#include <event2/http.h>
#include <stddef.h>

struct metrics;
struct admin_http;

/* 0 when healthy (a reason, if set, names the state); otherwise -1 with a
 * short reason. */
typedef int (*admin_health_fn)(void *arg, char *reason, size_t len);

/* Listens on "host:port" or "[v6]:port" (port 0: any free port). NULL
 * with a message on failure. */
struct admin_http *admin_http_new(struct event_base *base, const char *listen,
                                  struct metrics *m, admin_health_fn health,
                                  void *arg, char *err, size_t errlen);
void admin_http_free(struct admin_http *a);

/* Answers decided elsewhere (outbox-sse's supervisor asks its workers):
 * with fn set, each GET or HEAD of /metrics (metrics = 1) or /healthz goes
 * to fn, which must answer it with admin_http_answer, at once or later on
 * the loop (a request whose client left meanwhile is freed by the
 * answer). The registry and health callback are then not used for it. */
typedef void (*admin_defer_fn)(void *arg, struct evhttp_request *req,
                               int metrics);
void admin_http_defer(struct admin_http *a, admin_defer_fn fn, void *arg);
/* The answer to a deferred request: 200 or 503 (any code), body may be
 * NULL; text/plain, the Prometheus format's content type for 200 on
 * /metrics when `metrics` is set. */
void admin_http_answer(struct evhttp_request *req, int code, int metrics,
                       struct evbuffer *body);

/* The port actually bound. */
int admin_http_port(const struct admin_http *a);

/* Splits "host:port" / "[v6]:port". 0 or -1. */
/* Binds `http` to "host:port" and tells the port bound (for port 0).
 * NULL when the address is malformed or taken. */
struct evhttp_bound_socket *admin_http_bind(struct evhttp *http,
                                            const char *listen, int *port);

int admin_split_hostport(const char *s, char *host, size_t hostlen, int *port);

#endif
