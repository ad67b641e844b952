/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/integration/sse_env.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *const TOPICS[] = {"outbox.event.queue:4", NULL};

int64_t sse_env_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The daemon's redis section: the plain port, or the TLS one with the
 * CA named by o->tls_ca and the client certificate. */
static void redis_section(const struct sse_env *e, const struct sse_env_opts *o,
                          char *buf, size_t len)
{
    const char *c = e->redis.certs;
    if (!e->redis.tls_port)
        snprintf(buf, len, "  port: %d\n", e->redis.port);
    else
        snprintf(buf, len, "  port: %d\n  tls:\n    enabled: true\n"
                 "    ca: %s/%s\n    cert: %s/client.pem\n"
                 "    key: %s/client.key\n", e->redis.tls_port, c, o->tls_ca,
                 c, c);
}

static const char *or_empty(const char *s) { return s ? s : ""; }

static int write_config(struct sse_env *e, const struct sse_env_opts *o)
{
    char redis[1600];
    FILE *fp = fopen(e->config, "w");
    if (!fp)
        return -1;
    redis_section(e, o, redis, sizeof redis);
    fprintf(fp,
            "name: test-sse\n"
            "kafka:\n  brokers: %s\n  topics: [outbox.event.queue%s]\n%s"
            "redis:\n%s  reconnect:\n    initial: 50ms\n    max: 300ms\n"
            "http:\n  listen: 127.0.0.1:%d\n  workers: %d\n%s"
            "auth:\n  secret: test-secret-0123456789abcdef\n"
            "%s"
            "metrics:\n  listen: 127.0.0.1:%d\n",
            e->kafka.bootstrap, or_empty(o->more_topics),
            or_empty(o->kafka_extra), redis, e->http_port,
            o->workers > 0 ? o->workers : 1, or_empty(o->http_extra), or_empty(o->sections), e->metrics_port);
    return fclose(fp);
}

static rd_kafka_t *producer(const char *bootstrap)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err,
                          sizeof err) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "linger.ms", "1", err, sizeof err) !=
            RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk)
        fprintf(stderr, "sse_env: %s\n", err);
    return rk;
}

int sse_env_run_sse(struct sse_env *e)
{
    char bin[512];
    char *argv[] = {(char *)th_build_path("sse/outbox-sse", bin, sizeof bin),
                    "-c", e->config, NULL};
    if (th_spawn(&e->sse, "sse", e->dir, argv) < 0)
        return -1;
    for (int i = 0; i < 200; i++) {
        char body[256];
        if (th_http_get(e->metrics_port, "/healthz", body, sizeof body) == 200)
            return 0;
        if (!th_alive(&e->sse))
            break;
        usleep(50000);
    }
    fprintf(stderr, "outbox-sse did not become healthy\n");
    th_dump_log(&e->sse, 20);
    return -1;
}

int sse_env_start_opts(struct sse_env *e, const struct sse_env_opts *o)
{
    memset(e, 0, sizeof *e);
    if (th_tempdir("sse-env", e->dir, sizeof e->dir) < 0 ||
        (o->certs ? th_redis_start_tls(&e->redis, o->certs)
                  : th_redis_start(&e->redis)) < 0 ||
        th_kafka_start(&e->kafka, 1, TOPICS) < 0)
        return -1;
    snprintf(e->config, sizeof e->config, "%s/sse.yaml", e->dir);
    e->http_port = th_free_port();
    e->metrics_port = th_free_port();
    if (write_config(e, o) < 0 ||
        !(e->producer = producer(e->kafka.bootstrap)) ||
        !(e->base = event_base_new()))
        return -1;
    e->rc = redisConnect("127.0.0.1", e->redis.port);
    if (!e->rc || e->rc->err)
        return -1;
    return sse_env_run_sse(e);
}

int sse_env_start(struct sse_env *e, const char *http_extra,
                  const char *sections)
{
    struct sse_env_opts o = {.http_extra = http_extra, .sections = sections};
    return sse_env_start_opts(e, &o);
}

int sse_env_stop(struct sse_env *e)
{
    int rc = 0;
    if (e->sse.pid > 0)
        rc = th_stop(&e->sse, 15000, NULL);
    if (rc != 0)
        th_dump_log(&e->sse, 30);
    if (e->producer) {
        rd_kafka_flush(e->producer, 2000);
        rd_kafka_destroy(e->producer);
    }
    if (e->rc)
        redisFree(e->rc);
    if (e->base)
        event_base_free(e->base);
    th_kafka_stop(&e->kafka);
    th_redis_stop(&e->redis);
    return rc;
}

int sse_env_publish(struct sse_env *e, const char *queue, int n)
{
    for (int i = 0; i < n; i++) {
        rd_kafka_resp_err_t err;
        while ((err = rd_kafka_producev(
                    e->producer, RD_KAFKA_V_TOPIC("outbox.event.queue"),
                    RD_KAFKA_V_KEY(queue, strlen(queue)),
                    RD_KAFKA_V_VALUE("{}", 2), RD_KAFKA_V_END)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(e->producer, 10);
        if (err)
            return -1;
    }
    return rd_kafka_flush(e->producer, 10000) ? -1 : 0;
}

long long sse_env_fill(struct sse_env *e, const char *key, int n)
{
    const char **argv = calloc((size_t)(2 + 2 * n), sizeof *argv);
    char (*buf)[2][16] = calloc((size_t)n + 1, sizeof *buf);
    long long added = -1;
    if (argv && buf) {
        argv[0] = "ZADD";
        argv[1] = key;
        for (int i = 0; i < n; i++) {
            snprintf(buf[i][0], sizeof buf[i][0], "%d", 1000 + i);
            snprintf(buf[i][1], sizeof buf[i][1], "u%d", i);
            argv[2 + 2 * i] = buf[i][0];
            argv[3 + 2 * i] = buf[i][1];
        }
        redisReply *r = redisCommandArgv(e->rc, 2 + 2 * n, argv, NULL);
        if (r && r->type == REDIS_REPLY_INTEGER)
            added = r->integer;
        if (r)
            freeReplyObject(r);
    }
    free(argv);
    free(buf);
    return added;
}

long long sse_env_redis(struct sse_env *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(e->rc, fmt, ap);
    va_end(ap);
    if (!r && e->rc->err) { /* Redis was restarted: once more, anew */
        redisFree(e->rc);
        e->rc = redisConnect("127.0.0.1", e->redis.port);
        va_start(ap, fmt);
        r = e->rc && !e->rc->err ? redisvCommand(e->rc, fmt, ap) : NULL;
        va_end(ap);
    }
    long long v = !r ? -1 : r->type == REDIS_REPLY_INTEGER ? r->integer
                  : r->type == REDIS_REPLY_NIL             ? -2
                  : r->type == REDIS_REPLY_ERROR           ? -1 : 0;
    if (r)
        freeReplyObject(r);
    return v;
}

long long sse_env_metric(struct sse_env *e, const char *name)
{
    static char body[1 << 16];
    if (th_http_get(e->metrics_port, "/metrics", body, sizeof body) != 200)
        return -1;
    size_t n = strlen(name);
    for (char *p = body; (p = strstr(p, name)); p += n)
        if ((p == body || p[-1] == '\n') && p[n] == ' ')
            return atoll(p + n + 1);
    return -1;
}

int sse_env_token(struct sse_env *e, const char *queue, const char *user,
                  int ttl, char *out, size_t len)
{
    char bin[512], cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' token -c '%s' --queue '%s' --user '%s' --ttl %d",
             th_build_path("sse/outbox-sse", bin, sizeof bin), e->config, queue,
             user, ttl);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    int ok = fgets(out, (int)len, p) != NULL;
    if (pclose(p) != 0 || !ok)
        return -1;
    out[strcspn(out, "\n")] = '\0';
    return 0;
}

void sse_env_pump(struct sse_env *e, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_base_loopexit(e->base, &tv);
    event_base_dispatch(e->base);
}

/* ---- the clients ------------------------------------------------------- */

static long long json_int(const char *json, const char *field)
{
    char key[40];
    snprintf(key, sizeof key, "\"%s\":", field);
    const char *p = strstr(json, key);
    return p ? atoll(p + strlen(key)) : -1;
}

/* An event about anyone else would be a leak. */
static int about_me(const struct sse_client *c)
{
    char want[160];
    snprintf(want, sizeof want, "{\"queue\":\"%s\",\"user\":\"%s\",",
             c->queue, c->user);
    return !strncmp(c->last_data, want, strlen(want));
}

static void dispatch(struct sse_client *c)
{
    if (!about_me(c))
        c->foreign++;
    if (!strcmp(c->event, "rank")) {
        c->ranks++;
        c->last_rank = json_int(c->last_data, "rank");
        c->last_waiting = json_int(c->last_data, "waiting");
    } else if (!strcmp(c->event, "confirm")) {
        c->confirms++;
    } else if (!strcmp(c->event, "gone")) {
        c->gones++;
    }
    c->event[0] = '\0';
}

static void sse_line(struct sse_client *c, const char *line)
{
    c->last_event_ms = sse_env_now_ms();
    if (!strncmp(line, "retry: ", 7))
        c->retries++;
    else if (!strcmp(line, ": ping"))
        c->pings++;
    else if (!strncmp(line, "id: ", 4)) {
        uint64_t id = strtoull(line + 4, NULL, 10);
        c->ids_backwards += c->last_id && id <= c->last_id;
        c->last_id = id;
    }
    else if (!strncmp(line, "event: ", 7))
        snprintf(c->event, sizeof c->event, "%s", line + 7);
    else if (!strncmp(line, "data: ", 6))
        snprintf(c->last_data, sizeof c->last_data, "%s", line + 6);
    else if (!line[0] && c->event[0])
        dispatch(c);
}

/* Moves the body bytes now in `in` (decoded from chunks) into `body`. */
static void dechunk(struct sse_client *c, struct evbuffer *in,
                    struct evbuffer *body)
{
    if (!c->chunked) {
        evbuffer_add_buffer(body, in);
        return;
    }
    for (;;) {
        if (c->chunk_left < 0) {
            char *line = evbuffer_readln(in, NULL, EVBUFFER_EOL_CRLF);
            if (!line)
                return;
            c->chunk_left = strtol(line, NULL, 16);
            if (c->chunk_left == 0 && line[0] == '0')
                c->closed = 1; /* the last chunk */
            free(line);
            if (c->closed)
                return;
            c->chunk_left += 2; /* its CRLF */
        }
        size_t have = evbuffer_get_length(in);
        if (!have)
            return;
        size_t take = have < (size_t)c->chunk_left ? have : (size_t)c->chunk_left;
        evbuffer_remove_buffer(in, body, take);
        c->chunk_left -= (long)take;
        if (c->chunk_left == 0)
            c->chunk_left = -1;
    }
}

static int headers(struct sse_client *c, struct evbuffer *in)
{
    char *line;
    while ((line = evbuffer_readln(in, NULL, EVBUFFER_EOL_CRLF))) {
        int end = !line[0];
        if (!c->status)
            sscanf(line, "HTTP/1.%*d %d", &c->status);
        else if (!strcasecmp(line, "Transfer-Encoding: chunked"))
            c->chunked = 1;
        free(line);
        if (end)
            return 1;
    }
    return 0;
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct sse_client *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    if (!c->in_body && !(c->in_body = headers(c, in)))
        return;
    dechunk(c, in, c->body);
    char *line; /* a partial line stays in c->body for the next read */
    while ((line = evbuffer_readln(c->body, NULL, EVBUFFER_EOL_LF))) {
        sse_line(c, line);
        free(line);
    }
}

static int client_connect(struct sse_client *c);

static void on_reconnect(evutil_socket_t fd, short what, void *arg)
{
    struct sse_client *c = arg;
    (void)fd;
    (void)what;
    if (client_connect(c) < 0)
        c->closed = 1;
}

/* Like a browser's EventSource: after a stream ends without confirm or
 * gone, connect again after a while (spread, as the retry hint is). */
static void reconnect_later(struct sse_client *c)
{
    struct timeval tv = {0, (50 + rand() % 950) * 1000};
    bufferevent_free(c->bev);
    c->bev = NULL;
    evbuffer_drain(c->body, evbuffer_get_length(c->body));
    c->in_body = c->chunked = c->status = 0;
    c->chunk_left = -1;
    c->event[0] = '\0';
    c->last_id = 0; /* another connection: maybe another worker's ids */
    c->reconnects++;
    event_base_once(c->e->base, -1, EV_TIMEOUT, on_reconnect, c, &tv);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct sse_client *c = arg;
    (void)bev;
    if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
        return;
    if (c->reconnect && !c->confirms && !c->gones)
        reconnect_later(c);
    else
        c->closed = 1;
}

static int client_connect(struct sse_client *c)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (c->rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &c->rcvbuf, sizeof c->rcvbuf);
    evutil_make_socket_nonblocking(fd);
    c->bev = bufferevent_socket_new(c->e->base, fd, BEV_OPT_CLOSE_ON_FREE);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)c->e->http_port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (!c->bev || bufferevent_socket_connect(c->bev, (struct sockaddr *)&sa,
                                              sizeof sa) < 0)
        return -1;
    bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
    bufferevent_enable(c->bev, EV_READ);
    evbuffer_add(bufferevent_get_output(c->bev), c->request, strlen(c->request));
    return 0;
}

int sse_client_open(struct sse_env *e, struct sse_client *c, const char *queue,
                    const char *user, const char *token, int rcvbuf)
{
    memset(c, 0, sizeof *c);
    c->e = e;
    c->chunk_left = -1;
    c->last_rank = -1;
    c->rcvbuf = rcvbuf;
    snprintf(c->queue, sizeof c->queue, "%s", queue);
    snprintf(c->user, sizeof c->user, "%s", user);
    snprintf(c->request, sizeof c->request,
             "GET /v1/queues/%s/events?user=%s%s%s HTTP/1.1\r\n"
             "Host: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n",
             queue, user, token ? "&token=" : "", token ? token : "");
    if (!(c->body = evbuffer_new()))
        return -1;
    return client_connect(c);
}

void sse_client_close(struct sse_client *c)
{
    if (c->bev)
        bufferevent_free(c->bev);
    if (c->body)
        evbuffer_free(c->body);
    c->bev = NULL;
    c->body = NULL;
}

int sse_env_raw(struct sse_env *e, const char *request, char *resp, size_t len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)e->http_port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    size_t off = 0, n = strlen(request);
    while (off < n) {
        ssize_t w = write(fd, request + off, n - off);
        if (w <= 0)
            break; /* the server may answer before reading it all */
        off += (size_t)w;
    }
    ssize_t r = read(fd, resp, len - 1);
    close(fd);
    resp[r > 0 ? r : 0] = '\0';
    int code = -1;
    return sscanf(resp, "HTTP/1.%*d %d", &code) == 1 ? code : -1;
}
