/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin endpoint over real loopback HTTP, the metrics text format, and
 * the command line both daemons share.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "common/admin_http.h"
#include "common/daemon.h"
#include "common/metrics.h"

static int healthy = 1;

static int health(void *arg, char *why, size_t len)
{
    (void)arg;
    if (healthy)
        return 0;
    snprintf(why, len, "source disconnected");
    return -1;
}

struct got {
    int code;
    char body[8192];
    char ctype[128];
    struct event_base *base;
};

static void on_done(struct evhttp_request *req, void *arg)
{
    struct got *g = arg;
    if (req) {
        g->code = evhttp_request_get_response_code(req);
        struct evbuffer *b = evhttp_request_get_input_buffer(req);
        size_t n = evbuffer_get_length(b);
        if (n >= sizeof g->body)
            n = sizeof g->body - 1;
        evbuffer_remove(b, g->body, n);
        g->body[n] = '\0';
        const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req),
                                            "Content-Type");
        snprintf(g->ctype, sizeof g->ctype, "%s", ct ? ct : "");
    }
    event_base_loopexit(g->base, NULL);
}

static struct got request(struct event_base *base, int port,
                          enum evhttp_cmd_type cmd, const char *path)
{
    struct got g = {.base = base};
    struct evhttp_connection *c =
        evhttp_connection_base_new(base, NULL, "127.0.0.1", (ev_uint16_t)port);
    struct evhttp_request *req = evhttp_request_new(on_done, &g);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Host", "x");
    evhttp_make_request(c, req, cmd, path);
    event_base_dispatch(base);
    evhttp_connection_free(c);
    return g;
}

static void test_endpoints(void **state)
{
    (void)state;
    char err[256];
    struct event_base *base = event_base_new();
    struct metrics *m = metrics_new();
    struct mfamily *ev = metrics_family(m, METRIC_COUNTER, "outbox_events_total",
                                        "Events relayed.", "topic");
    mseries_add(metrics_series(ev, "outbox.event.queue"), 3);
    struct admin_http *a = admin_http_new(base, "127.0.0.1:0", m, health,
                                          NULL, err, sizeof err);
    assert_non_null(a);
    int port = admin_http_port(a);
    assert_true(port > 0);

    struct got g = request(base, port, EVHTTP_REQ_GET, "/healthz");
    assert_int_equal(g.code, 200);
    assert_string_equal(g.body, "ok\n");
    healthy = 0;
    g = request(base, port, EVHTTP_REQ_GET, "/healthz");
    assert_int_equal(g.code, 503);
    assert_string_equal(g.body, "source disconnected\n");
    g = request(base, port, EVHTTP_REQ_GET, "/metrics");
    assert_int_equal(g.code, 200);
    assert_string_equal(g.ctype, "text/plain; version=0.0.4; charset=utf-8");
    assert_non_null(strstr(g.body, "# TYPE outbox_events_total counter\n"
                                   "outbox_events_total{topic=\"outbox.event.queue\"} 3\n"));
    assert_non_null(strstr(g.body, "process_resident_memory_bytes "));
    g = request(base, port, EVHTTP_REQ_GET, "/nope");
    assert_int_equal(g.code, 404);
    g = request(base, port, EVHTTP_REQ_POST, "/metrics");
    assert_int_equal(g.code, 405);

    struct admin_http *dup = admin_http_new(base, "127.0.0.1:" , m, NULL, NULL,
                                            err, sizeof err);
    assert_null(dup);
    char busy[64];
    snprintf(busy, sizeof busy, "127.0.0.1:%d", port);
    assert_null(admin_http_new(base, busy, m, NULL, NULL, err, sizeof err));
    assert_non_null(strstr(err, "cannot listen"));
    admin_http_free(a);
    metrics_free(m);
    event_base_free(base);
}

static double forty_two(void *arg)
{
    (void)arg;
    return 42.5;
}

static void test_metrics_text(void **state)
{
    (void)state;
    struct metrics *m = metrics_new();
    struct mfamily *g = metrics_family(m, METRIC_GAUGE, "outbox_lag_seconds",
                                       "Replication lag.", NULL);
    struct mfamily *c = metrics_family(m, METRIC_COUNTER, "x_total", "X.", "k");
    mseries_set(metrics_series(g, NULL), 7);
    mseries_add(metrics_series(c, "a\"b\\c\nd"), 1);
    assert_ptr_equal(metrics_series(c, "same"), metrics_series(c, "same"));
    metrics_gauge_cb(m, "outbox_depth", "Depth.", forty_two, NULL);
    struct evbuffer *out = evbuffer_new();
    metrics_render(m, out);
    evbuffer_add(out, "", 1);
    const char *text = (const char *)evbuffer_pullup(out, -1);
    assert_non_null(strstr(text, "# HELP outbox_lag_seconds Replication lag.\n"
                                 "# TYPE outbox_lag_seconds gauge\n"
                                 "outbox_lag_seconds 7\n"));
    assert_non_null(strstr(text, "x_total{k=\"a\\\"b\\\\c\\nd\"} 1\n"));
    assert_non_null(strstr(text, "outbox_depth 42.5\n"));
    evbuffer_free(out);
    metrics_free(m);
}

static void test_hostport(void **state)
{
    (void)state;
    char host[64];
    int port;
    assert_int_equal(admin_split_hostport("127.0.0.1:9464", host, sizeof host, &port), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 9464);
    assert_int_equal(admin_split_hostport("[::1]:0", host, sizeof host, &port), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 0);
    assert_int_equal(admin_split_hostport("localhost", host, sizeof host, &port), -1);
    assert_int_equal(admin_split_hostport(":80", host, sizeof host, &port), -1);
    assert_int_equal(admin_split_hostport("h:99999", host, sizeof host, &port), -1);
    assert_int_equal(admin_split_hostport("[::1:80", host, sizeof host, &port), -1);
}

static void test_cli(void **state)
{
    (void)state;
    struct daemon_opts o;
    char *a1[] = {"x", "-c", "f.yaml", "--check-config", "-l", "debug", NULL};
    assert_int_equal(daemon_parse_args(6, a1, "U\n", "def.yaml", &o), -1);
    assert_string_equal(o.config, "f.yaml");
    assert_int_equal(o.check_config, 1);
    assert_int_equal(o.log_level, 3);
    char *a2[] = {"x", NULL};
    assert_int_equal(daemon_parse_args(1, a2, "U\n", "def.yaml", &o), -1);
    assert_string_equal(o.config, "def.yaml");
    assert_int_equal(o.log_level, -1);
    char *a3[] = {"x", "--bogus", NULL};
    assert_int_equal(daemon_parse_args(2, a3, "U\n", "d", &o), EXIT_USAGE);
    char *a4[] = {"x", "-l", "loud", NULL};
    assert_int_equal(daemon_parse_args(3, a4, "U\n", "d", &o), EXIT_USAGE);
    char *a5[] = {"x", "-c", NULL};
    assert_int_equal(daemon_parse_args(2, a5, "U\n", "d", &o), EXIT_USAGE);
    char *a6[] = {"x", "stray", NULL};
    assert_int_equal(daemon_parse_args(2, a6, "U\n", "d", &o), EXIT_USAGE);
    char *a7[] = {"x", "--help", NULL};
    assert_int_equal(daemon_parse_args(2, a7, "U\n", "d", &o), EXIT_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endpoints),
        cmocka_unit_test(test_metrics_text),
        cmocka_unit_test(test_hostport),
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
