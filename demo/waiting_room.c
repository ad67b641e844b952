/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outbox-demo: the whole appliance on one machine, with a waiting room.
 *
 * Starts a throwaway MariaDB, Redis and Kafka endpoint (kafka-mock) in a
 * temporary directory, then outbox-relay and outbox-sse, then plays the
 * application of an online waiting room, exactly as the seed design has
 * it: a user joining or being admitted changes Redis (the positions) and,
 * in one MariaDB transaction, the application's own table and the outbox.
 * The relay turns the outbox rows into Kafka records; outbox-sse tells the
 * browsers their new positions.
 *
 * Redis is changed before the transaction commits, so that by the time
 * the outbox event reaches outbox-sse the positions it reads are already
 * the new ones.
 *
 * The page (demo/page.html) is served here; its EventSource talks to
 * outbox-sse directly (CORS allows this page's origin). Ctrl-C stops
 * everything and removes the temporary directory.
 */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <getopt.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <mysql.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "sse/token.h"
#include "tests/harness/th.h"

#define QUEUE "sale"
#define SECRET "outbox-demo-secret-not-for-production"

struct opts {
    int port, sse_port;
    int seed_users;
    double join_rate, admit_rate;
    int quiet;
};

struct demo {
    struct opts o;
    struct th_mariadb db;
    struct th_redis redis;
    struct th_kafka kafka;
    struct th_proc relay, sse;
    char dir[256];
    int relay_metrics, sse_metrics;
    MYSQL *mysql;
    redisContext *rc;
    struct event_base *base;
    struct evhttp *http;
    char *page;
    long joined, admitted, sim_seq;
    long long relayed_last;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the application's two transactions ------------------------------- */

static int sql(struct demo *d, const char *q)
{
    if (mysql_query(d->mysql, q) == 0)
        return 0;
    fprintf(stderr, "demo: %s: %s\n", q, mysql_error(d->mysql));
    return -1;
}

/* The queue's own row (stmt), and the outbox row that announces the
 * change, in one transaction. User ids are the demo's own: no quoting. */
static int announce(struct demo *d, const char *stmt, const char *user,
                    const char *type)
{
    char outbox[512];
    snprintf(outbox, sizeof outbox,
             "INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) "
             "VALUES (UUID(), 'queue', '" QUEUE "', '%s', "
             "JSON_OBJECT('user', '%s'))", type, user);
    if (sql(d, "BEGIN") < 0 || sql(d, stmt) < 0 || sql(d, outbox) < 0) {
        mysql_query(d->mysql, "ROLLBACK");
        return -1;
    }
    return sql(d, "COMMIT");
}

static int join(struct demo *d, const char *user)
{
    char stmt[512];
    redisReply *r = redisCommand(d->rc, "ZADD queue:" QUEUE ":waiting %" PRId64 " %s",
                                 now_ms(), user);
    int ok = r && r->type == REDIS_REPLY_INTEGER;
    freeReplyObject(r);
    if (!ok)
        return -1;
    d->joined++;
    snprintf(stmt, sizeof stmt, "INSERT INTO queue_entries (queue, user_id) "
             "VALUES ('" QUEUE "', '%s')", user);
    return announce(d, stmt, user, "UserJoined");
}

/* The head of the queue is let in. */
static int admit_one(struct demo *d)
{
    redisReply *r = redisCommand(d->rc, "ZPOPMIN queue:" QUEUE ":waiting");
    char user[128] = "";
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2)
        snprintf(user, sizeof user, "%s", r->element[0]->str);
    freeReplyObject(r);
    if (!user[0])
        return 0; /* nobody waits */
    r = redisCommand(d->rc, "ZADD queue:" QUEUE ":admitted %" PRId64 " %s",
                     now_ms(), user);
    freeReplyObject(r);
    d->admitted++;
    char stmt[512];
    snprintf(stmt, sizeof stmt, "UPDATE queue_entries SET state = 'admitted', "
             "admitted_at = NOW(6) WHERE queue = '" QUEUE "' AND user_id = '%s'",
             user);
    return announce(d, stmt, user, "UserAdmitted");
}

/* ---- the page and its API --------------------------------------------- */

static void reply(struct evhttp_request *req, int code, const char *type,
                  const char *body)
{
    struct evbuffer *b = evbuffer_new();
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control",
                      "no-store");
    if (b)
        evbuffer_add(b, body, strlen(body));
    evhttp_send_reply(req, code, code == 200 ? "OK" : "Error", b);
    if (b)
        evbuffer_free(b);
}

/* The host the browser used for this page, without the port. */
static void page_host(struct evhttp_request *req, char *out, size_t len)
{
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(req),
                                       "Host");
    snprintf(out, len, "%s", h && h[0] != '[' ? h : "127.0.0.1");
    out[strcspn(out, ":")] = '\0';
    for (char *c = out; *c; c++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-", *c))
            *c = '_'; /* it goes into a URL in JSON: nothing odd */
}

static void api_join(struct demo *d, struct evhttp_request *req)
{
    unsigned char rnd[4];
    char user[32], tok[TOKEN_MAX], host[128], body[2048];
    if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd)
        memset(rnd, 7, sizeof rnd);
    snprintf(user, sizeof user, "you-%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2],
             rnd[3]);
    if (join(d, user) < 0 ||
        token_mint(SECRET, strlen(SECRET), TOKEN_SUBSCRIBE, QUEUE, user,
                   (int64_t)time(NULL) + 3600, tok, sizeof tok) < 0) {
        reply(req, 500, "application/json", "{\"error\":\"cannot join\"}");
        return;
    }
    page_host(req, host, sizeof host);
    snprintf(body, sizeof body,
             "{\"queue\":\"" QUEUE "\",\"user\":\"%s\",\"token\":\"%s\","
             "\"events\":\"http://%s:%d/v1/queues/" QUEUE "/events?user=%s&token=%s\"}",
             user, tok, host, d->o.sse_port, user, tok);
    reply(req, 200, "application/json", body);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct demo *d = arg;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    if (path && !strcmp(path, "/api/join") && cmd == EVHTTP_REQ_POST)
        api_join(d, req);
    else if (path && !strcmp(path, "/") && cmd == EVHTTP_REQ_GET)
        reply(req, 200, "text/html; charset=utf-8", d->page);
    else
        reply(req, 404, "application/json", "{\"error\":\"not found\"}");
}

/* ---- simulated users and the admission loop --------------------------- */

static void on_sim_join(evutil_socket_t fd, short what, void *arg)
{
    struct demo *d = arg;
    char user[32];
    (void)fd;
    (void)what;
    snprintf(user, sizeof user, "sim-%ld", ++d->sim_seq);
    join(d, user);
}

static void on_admit(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    admit_one(arg);
}

static long long metric(int port, const char *name)
{
    static char body[1 << 16];
    if (th_http_get(port, "/metrics", body, sizeof body) != 200)
        return -1;
    const char *p = strstr(body, name);
    return p ? atoll(p + strlen(name) + 1) : 0;
}

static long long zcard(struct demo *d, const char *key)
{
    redisReply *r = redisCommand(d->rc, "ZCARD %s", key);
    long long n = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    freeReplyObject(r);
    return n;
}

/* One line a second: what flows. */
static void on_status(evutil_socket_t fd, short what, void *arg)
{
    struct demo *d = arg;
    (void)fd;
    (void)what;
    long long relayed = metric(d->relay_metrics,
                               "outbox_events_total{topic=\"outbox.event.queue\"}");
    long long streams = metric(d->sse_metrics, "sse_connections");
    printf("relayed %lld events (%lld/s) | waiting %lld | admitted %lld | "
           "browsers %lld | open http://127.0.0.1:%d/\n", relayed,
           relayed - d->relayed_last, zcard(d, "queue:" QUEUE ":waiting"),
           zcard(d, "queue:" QUEUE ":admitted"), streams, d->o.port);
    fflush(stdout);
    d->relayed_last = relayed;
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    struct demo *d = arg;
    (void)fd;
    (void)what;
    printf("stopping; removing %s\n", d->dir);
    event_base_loopexit(d->base, NULL);
}

/* ---- setting the stage ------------------------------------------------ */

static char *slurp(const char *rel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", DEMO_SOURCE_DIR, rel);
    FILE *fp = fopen(path, "rb");
    char *text = NULL;
    size_t len = 0;
    FILE *mem = fp ? open_memstream(&text, &len) : NULL;
    char buf[8192];
    size_t n;
    while (mem && (n = fread(buf, 1, sizeof buf, fp)) > 0)
        fwrite(buf, 1, n, mem);
    if (fp)
        fclose(fp);
    if (mem)
        fclose(mem);
    if (!text)
        fprintf(stderr, "demo: cannot read %s\n", path);
    return text;
}

static int load_schema(struct demo *d)
{
    char *outbox = slurp("schema/outbox-mariadb.sql");
    char *room = slurp("schema/waiting-room.sql");
    int rc = -1;
    if (outbox && room &&
        th_mariadb_exec(&d->db, "CREATE DATABASE demo") == 0) {
        size_t n = strlen(outbox) + strlen(room) + 32;
        char *all = malloc(n);
        if (all) {
            snprintf(all, n, "USE demo;\n%s\n%s", outbox, room);
            rc = th_mariadb_exec(&d->db, all);
            free(all);
        }
    }
    free(outbox);
    free(room);
    return rc;
}

static int write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "w");
    if (!fp || fputs(text, fp) < 0) {
        if (fp)
            fclose(fp);
        return -1;
    }
    return fclose(fp);
}

static int write_configs(struct demo *d)
{
    char relay[2048], sse[2048];
    snprintf(relay, sizeof relay,
             "name: demo-relay\n"
             "source:\n  host: 127.0.0.1\n  port: %d\n  user: root\n"
             "  server_id: 4242\n  start: latest\n"
             "outbox:\n  - table: demo.outbox\n"
             "kafka:\n  brokers: \"%s\"\n"
             "checkpoint:\n  store: file\n  path: %s/relay.checkpoint\n"
             "metrics:\n  listen: 127.0.0.1:%d\n",
             d->db.port, d->kafka.bootstrap, d->dir, d->relay_metrics);
    snprintf(sse, sizeof sse,
             "name: demo-sse\n"
             "kafka:\n  brokers: \"%s\"\n"
             "redis:\n  port: %d\n"
             "http:\n  listen: 127.0.0.1:%d\n  heartbeat_interval: 5s\n"
             "  cors_origins: [\"*\"]\n"
             "auth:\n  secret: %s\n"
             "queues:\n  eta_window: 20s\n"
             "metrics:\n  listen: 127.0.0.1:%d\n",
             d->kafka.bootstrap, d->redis.port, d->o.sse_port, SECRET,
             d->sse_metrics);
    return write_file(d->dir, "relay.yaml", relay) < 0 ||
                   write_file(d->dir, "sse.yaml", sse) < 0 ? -1 : 0;
}

static int spawn(struct demo *d, struct th_proc *p, const char *name,
                 const char *bin_rel, const char *cfg, int metrics_port)
{
    char bin[512], path[512], body[256];
    snprintf(path, sizeof path, "%s/%s", d->dir, cfg);
    char *argv[] = {(char *)th_build_path(bin_rel, bin, sizeof bin), "-c", path,
                    NULL};
    if (th_spawn(p, name, d->dir, argv) < 0)
        return -1;
    for (int i = 0; i < 200; i++) {
        if (th_http_get(metrics_port, "/healthz", body, sizeof body) == 200)
            return 0;
        if (!th_alive(p))
            break;
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "demo: %s did not come up; its log:\n", name);
    th_dump_log(p, 20);
    return -1;
}

static int stage(struct demo *d)
{
    static const char *const topics[] = {"outbox.event.queue:4", NULL};
    printf("starting MariaDB, Redis and a Kafka endpoint in a temporary "
           "directory...\n");
    fflush(stdout);
    if (th_tempdir("demo", d->dir, sizeof d->dir) < 0 ||
        th_mariadb_start(&d->db, NULL) < 0 || th_redis_start(&d->redis) < 0 ||
        th_kafka_start(&d->kafka, 1, topics) < 0 || load_schema(d) < 0)
        return -1;
    d->relay_metrics = th_free_port();
    d->sse_metrics = th_free_port();
    if (write_configs(d) < 0 ||
        spawn(d, &d->relay, "outbox-relay", "relay/outbox-relay", "relay.yaml",
              d->relay_metrics) < 0 ||
        spawn(d, &d->sse, "outbox-sse", "sse/outbox-sse", "sse.yaml",
              d->sse_metrics) < 0)
        return -1;
    d->mysql = th_mariadb_connect(&d->db);
    d->rc = redisConnect("127.0.0.1", d->redis.port);
    if (!d->mysql || !d->rc || d->rc->err || sql(d, "USE demo") < 0)
        return -1;
    for (int i = 0; i < d->o.seed_users; i++)
        on_sim_join(-1, 0, d);
    return 0;
}

/* ---- main ---------------------------------------------------------------- */

static const char USAGE[] =
    "usage: outbox-demo [--port N] [--sse-port N] [--seed-users N]\n"
    "                   [--join-rate PER_S] [--admit-rate PER_S]\n"
    "\n"
    "Runs MariaDB, Redis, a Kafka endpoint, outbox-relay and outbox-sse on\n"
    "127.0.0.1, plays a waiting room, and serves a page where you join the\n"
    "queue (default http://127.0.0.1:8000/; port 0 picks a free one).\n"
    "Ctrl-C stops everything.\n";

static int parse(int argc, char **argv, struct opts *o)
{
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'},
        {"sse-port", required_argument, NULL, 's'},
        {"seed-users", required_argument, NULL, 'n'},
        {"join-rate", required_argument, NULL, 'j'},
        {"admit-rate", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    /* As many join as are let in: the line stays about 40 long, so a
     * visitor arriving at any time sees the position fall for a while. */
    *o = (struct opts){.port = 8000, .sse_port = 8001, .seed_users = 40,
                       .join_rate = 2, .admit_rate = 2};
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': o->port = atoi(optarg); break;
        case 's': o->sse_port = atoi(optarg); break;
        case 'n': o->seed_users = atoi(optarg); break;
        case 'j': o->join_rate = atof(optarg); break;
        case 'a': o->admit_rate = atof(optarg); break;
        case 'h': fputs(USAGE, stdout); exit(0);
        default: fputs(USAGE, stderr); return -1;
        }
    }
    if (o->port == 0) /* 0: any free port (tests) */
        o->port = th_free_port();
    if (o->sse_port == 0)
        o->sse_port = th_free_port();
    if (optind != argc || o->port <= 0 || o->sse_port <= 0 ||
        o->seed_users < 0 || o->join_rate <= 0 || o->admit_rate <= 0) {
        fputs(USAGE, stderr);
        return -1;
    }
    return 0;
}

static struct event *every(struct demo *d, double per_s,
                           event_callback_fn fn)
{
    int64_t us = (int64_t)(1e6 / per_s);
    struct timeval tv = {us / 1000000, us % 1000000};
    struct event *ev = event_new(d->base, -1, EV_PERSIST, fn, d);
    if (ev)
        event_add(ev, &tv);
    return ev;
}

static int serve(struct demo *d)
{
    if (!(d->base = event_base_new()) || !(d->http = evhttp_new(d->base)) ||
        evhttp_bind_socket(d->http, "127.0.0.1", (ev_uint16_t)d->o.port) < 0) {
        fprintf(stderr, "demo: cannot listen on 127.0.0.1:%d (in use? try "
                "--port)\n", d->o.port);
        return -1;
    }
    evhttp_set_gencb(d->http, on_request, d);
    struct event *ev[5] = {
        every(d, d->o.join_rate, on_sim_join), every(d, d->o.admit_rate, on_admit),
        every(d, 1, on_status), evsignal_new(d->base, SIGINT, on_stop, d),
        evsignal_new(d->base, SIGTERM, on_stop, d)};
    event_add(ev[3], NULL);
    event_add(ev[4], NULL);
    printf("\n  open http://127.0.0.1:%d/ and join the queue "
           "(Ctrl-C stops the demo)\n\n", d->o.port);
    fflush(stdout);
    event_base_dispatch(d->base);
    for (int i = 0; i < 5; i++)
        if (ev[i])
            event_free(ev[i]);
    return 0;
}

int main(int argc, char **argv)
{
    struct demo d = {0};
    if (parse(argc, argv, &d.o) < 0)
        return 2;
    setenv("OUTBOX_BUILD_DIR", DEMO_BUILD_DIR, 0);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!(d.page = slurp("demo/page.html")))
        return 1;
    int rc = stage(&d) < 0 || serve(&d) < 0 ? 1 : 0;
    if (rc)
        fprintf(stderr, "demo: could not start; see the messages above\n");
    if (d.http)
        evhttp_free(d.http);
    if (d.base)
        event_base_free(d.base);
    if (d.mysql)
        mysql_close(d.mysql);
    if (d.rc)
        redisFree(d.rc);
    free(d.page);
    return rc; /* the harness stops the servers and removes the directory */
}
