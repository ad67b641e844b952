/* SPDX-License-Identifier: Apache-2.0 */
#include "common/admin_http.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/metrics.h"

struct admin_http {
    struct evhttp *http;
    struct metrics *metrics;
    admin_health_fn health;
    void *arg;
    admin_defer_fn defer;
    void *defer_arg;
    int port;
};

#define METRICS_CTYPE "text/plain; version=0.0.4; charset=utf-8"

int admin_split_hostport(const char *s, char *host, size_t hostlen, int *port)
{
    const char *colon = strrchr(s, ':');
    const char *h = s;
    size_t hl;
    if (!colon)
        return -1;
    hl = (size_t)(colon - s);
    if (s[0] == '[') { /* [v6]:port */
        if (hl < 2 || s[hl - 1] != ']')
            return -1;
        h = s + 1;
        hl -= 2;
    }
    if (hl == 0 || hl >= hostlen)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || p < 0 || p > 65535)
        return -1;
    *port = (int)p;
    return 0;
}

static void reply(struct evhttp_request *req, int code, const char *reason,
                  const char *ctype, struct evbuffer *body)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", ctype);
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_send_reply(req, code, reason, body);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct admin_http *a = arg;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    int known = path && (!strcmp(path, "/healthz") || !strcmp(path, "/metrics"));
    struct evbuffer *body = evbuffer_new();
    if (!body) {
        evhttp_send_error(req, 500, NULL);
        return;
    }
    if (!known) {
        evbuffer_add_printf(body, "not found\n");
        reply(req, 404, "Not Found", "text/plain", body);
    } else if (evhttp_request_get_command(req) != EVHTTP_REQ_GET &&
               evhttp_request_get_command(req) != EVHTTP_REQ_HEAD) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
                          "GET, HEAD");
        evbuffer_add_printf(body, "method not allowed\n");
        reply(req, 405, "Method Not Allowed", "text/plain", body);
    } else if (a->defer) {
        a->defer(a->defer_arg, req, !strcmp(path, "/metrics"));
    } else if (!strcmp(path, "/metrics")) {
        metrics_render(a->metrics, body);
        reply(req, 200, "OK", METRICS_CTYPE, body);
    } else {
        char why[256] = "";
        int ok = !a->health || a->health(a->arg, why, sizeof why) == 0;
        evbuffer_add_printf(body, "%s\n", why[0] ? why : ok ? "ok" : "unhealthy");
        reply(req, ok ? 200 : 503, ok ? "OK" : "Service Unavailable",
              "text/plain", body);
    }
    evbuffer_free(body);
}

void admin_http_defer(struct admin_http *a, admin_defer_fn fn, void *arg)
{
    a->defer = fn;
    a->defer_arg = arg;
}

void admin_http_answer(struct evhttp_request *req, int code, int metrics,
                       struct evbuffer *body)
{
    reply(req, code, code == 200 ? "OK" : code == 503 ? "Service Unavailable"
                                                     : "Error",
          metrics && code == 200 ? METRICS_CTYPE : "text/plain", body);
}

struct evhttp_bound_socket *admin_http_bind(struct evhttp *http,
                                            const char *listen, int *port)
{
    char host[256];
    int want;
    if (admin_split_hostport(listen, host, sizeof host, &want) < 0)
        return NULL;
    struct evhttp_bound_socket *bs =
        evhttp_bind_socket_with_handle(http, host, (ev_uint16_t)want);
    if (!bs)
        return NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &sl);
    *port = ntohs(ss.ss_family == AF_INET6
                      ? ((struct sockaddr_in6 *)&ss)->sin6_port
                      : ((struct sockaddr_in *)&ss)->sin_port);
    return bs;
}

struct admin_http *admin_http_new(struct event_base *base, const char *listen,
                                  struct metrics *m, admin_health_fn health,
                                  void *arg, char *err, size_t errlen)
{
    char host[256];
    int port;
    struct admin_http *a = calloc(1, sizeof *a);
    if (!a || admin_split_hostport(listen, host, sizeof host, &port) < 0) {
        snprintf(err, errlen, "metrics.listen: bad address \"%s\"", listen);
        free(a);
        return NULL;
    }
    *a = (struct admin_http){.metrics = m, .health = health, .arg = arg};
    a->http = evhttp_new(base);
    if (!a->http || !admin_http_bind(a->http, listen, &a->port)) {
        snprintf(err, errlen, "cannot listen on %s for /metrics (in use?)",
                 listen);
        admin_http_free(a);
        return NULL;
    }
    evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
                                            EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                            EVHTTP_REQ_DELETE);
    evhttp_set_timeout(a->http, 10);
    evhttp_set_gencb(a->http, on_request, a);
    return a;
}

void admin_http_free(struct admin_http *a)
{
    if (!a)
        return;
    if (a->http)
        evhttp_free(a->http);
    free(a);
}

int admin_http_port(const struct admin_http *a) { return a->port; }
