/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outbox-sse: live queue positions for browsers, over Server-Sent Events.
 *
 * One libevent loop carries everything: the HTTP server, hiredis's async
 * client and the Kafka feed (whose queue wakes the loop through a pipe).
 * With http.workers > 1 this process is a supervisor instead, which starts
 * the program again as each of its workers (sse/super.h); a worker is this
 * same loop, its /metrics and /healthz answered through its supervisor.
 * Kafka says a queue changed -> the hub asks Redis about the users watching
 * it here -> the server writes an event to those whose state changed.
 */
#include <event2/buffer.h>
#include <event2/event.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/admin_http.h"
#include "common/daemon.h"
#include "common/log.h"
#include "common/metrics.h"
#include "config/cfg_sse.h"
#include "sse/feed.h"
#include "sse/hub.h"
#include "sse/ranks.h"
#include "sse/server.h"
#include "sse/super.h"
#include "sse/token.h"
#include "sse/wlink.h"
#include "sse/wshare.h"


static const char USAGE[] =
    "usage: outbox-sse [-c FILE] [--check-config] [-l LEVEL]\n"
    "       outbox-sse token --queue Q --user U --ttl SECONDS [--admission]\n"
    "                        [-c FILE]\n"
    "\n"
    "Pushes each waiting user's position in an online queue to the browser\n"
    "over Server-Sent Events, recomputed from Redis when Kafka says the\n"
    "queue changed. `token` prints a subscribe token (or, with --admission,\n"
    "an admission token) signed with the configured auth secret.\n"
    "\n"
    "  -c, --config FILE    configuration (default /etc/outbox-relay/sse.yaml)\n"
    "      --check-config   validate FILE, print the effective configuration\n"
    "  -l, --log-level L    error, warn, info or debug (overrides the file)\n"
    "      --version        print the version\n"
    "  -h, --help           this text\n"
    "\n"
    "Exit status: 0 clean stop, 1 runtime failure, 2 bad configuration or usage.\n";

#define DEFAULT_CONFIG "/etc/outbox-relay/sse.yaml"

struct app {
    struct event_base *base;
    struct sse_cfg cfg;
    struct metrics *metrics;
    struct admin_http *admin;
    struct daemon *daemon;
    struct ranks *ranks;
    struct hub *hub;
    struct feed *feed;
    struct server *server;
    /* a worker's (http.workers > 1, sse/super.h); NULL when alone */
    const struct super_worker *worker;
    struct wlink *link;
    struct wshare *share;
};

static void on_drained(void *arg)
{
    struct app *a = arg;
    log_info("main", "every stream closed");
    event_base_loopexit(a->base, NULL);
}

static void on_stop(void *arg)
{
    struct app *a = arg;
    daemon_notify_stopping();
    server_drain(a->server, on_drained, a);
}

static int on_health(void *arg, char *why, size_t len)
{
    struct app *a = arg;
    if (!ranks_is_up(a->ranks)) {
        snprintf(why, len, "redis unreachable");
        return -1;
    }
    return 0;
}

static void on_redis_up(void *arg)
{
    struct app *a = arg;
    if (a->hub)
        hub_refresh_all(a->hub);
}

static void on_change(const char *queue, size_t len, void *arg)
{
    struct app *a = arg;
    hub_changed(a->hub, queue, len);
}

static double gauge_redis_errors(void *arg)
{
    return (double)atomic_load(&ranks_stats(arg)->errors);
}

static double gauge_redis_ranges(void *arg)
{
    return (double)atomic_load(&ranks_stats(arg)->ranges);
}

static double gauge_kafka_errors(void *arg)
{
    return (double)atomic_load(&feed_stats(arg)->errors);
}

static double gauge_kafka_partitions(void *arg)
{
    return (double)atomic_load(&feed_stats(arg)->partitions);
}

static double gauge_redis_up(void *arg)
{
    return (double)atomic_load(&ranks_stats(arg)->up);
}

static void register_metrics(struct app *a)
{
    metrics_gauge_cb(a->metrics, "sse_redis_errors", "Redis batches that failed",
                     gauge_redis_errors, a->ranks);
    metrics_gauge_cb(a->metrics, "sse_redis_up", "1 while Redis is connected",
                     gauge_redis_up, a->ranks);
    metrics_gauge_cb(a->metrics, "sse_redis_range_queries",
                     "Batches asked with one ZRANGE of the queue instead of "
                     "a ZRANK per user", gauge_redis_ranges, a->ranks);
    metrics_gauge_cb(a->metrics, "sse_kafka_errors", "Kafka consumer errors",
                     gauge_kafka_errors, a->feed);
    metrics_gauge_cb(a->metrics, "sse_kafka_partitions",
                     "Partitions of the change topics being read",
                     gauge_kafka_partitions, a->feed);
}

/* ---- a worker's link to its supervisor -------------------------------- */

static void on_link_frame(void *arg, int type, uint32_t id, const char *data,
                          size_t len)
{
    struct app *a = arg;
    (void)data;
    (void)len;
    if (type == WLINK_DRAIN) {
        on_stop(a); /* server_drain does nothing the second time */
    } else if (type == WLINK_METRICS) {
        struct evbuffer *b = evbuffer_new();
        if (b)
            metrics_render(a->metrics, b);
        wlink_send(a->link, WLINK_METRICS, id,
                   b ? evbuffer_pullup(b, -1) : NULL, b ? evbuffer_get_length(b) : 0);
        if (b)
            evbuffer_free(b);
    } else if (type == WLINK_HEALTH) {
        char buf[260];
        buf[0] = on_health(a, buf + 1, sizeof buf - 1) == 0 ? '1' : '0';
        if (buf[0] == '1')
            buf[1] = '\0';
        wlink_send(a->link, WLINK_HEALTH, id, buf, strlen(buf));
    }
}

/* The supervisor is gone (PR_SET_PDEATHSIG kills us too, this is for a
 * link that broke otherwise): serve no longer unseen. */
static void on_link_closed(void *arg)
{
    struct app *a = arg;
    log_error("main", "the supervisor's link closed: stopping");
    wlink_free(a->link);
    a->link = NULL;
    on_stop(a);
}

static int worker_start(struct app *a, char *err, size_t errlen)
{
    if (!(a->share = wshare_open(SUPER_SHARE_FD, a->worker->count)) ||
        !(a->link = wlink_new(a->base, SUPER_LINK_FD, on_link_frame,
                              on_link_closed, a))) {
        snprintf(err, errlen, "worker %zu: cannot reach the supervisor",
                 a->worker->index);
        return -1;
    }
    return 0;
}

static int start(struct app *a, char *err, size_t errlen)
{
    if (!(a->ranks = ranks_new(a->base, &a->cfg.redis, on_redis_up, a, err,
                               errlen)))
        return -1;
    if (!(a->hub = hub_new(a->base, &a->cfg.queues, a->ranks, a->metrics))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    struct server_share share = {0};
    if (a->worker) {
        if (worker_start(a, err, errlen) < 0)
            return -1;
        share = (struct server_share){a->worker->port, a->share,
                                      a->worker->index};
    }
    if (!(a->feed = feed_new(a->base, &a->cfg, on_change, a, err, errlen)) ||
        !(a->server = server_new(a->base, &a->cfg, a->hub, a->metrics,
                                 a->worker ? &share : NULL, err, errlen)))
        return -1;
    /* A worker's /metrics and /healthz are its supervisor's to serve. */
    if (!a->worker &&
        !(a->admin = admin_http_new(a->base, a->cfg.metrics.listen, a->metrics,
                                    on_health, a, err, errlen)))
        return -1;
    register_metrics(a);
    return 0;
}

static int run(struct app *a)
{
    char err[512];
    if (!(a->base = event_base_new()) || !(a->metrics = metrics_new()) ||
        !(a->daemon = daemon_new(a->base, on_stop, a))) {
        log_error("main", "cannot set up the event loop");
        return EXIT_RUNTIME;
    }
    if (start(a, err, sizeof err) < 0) {
        log_error("main", "%s", err);
        return EXIT_RUNTIME;
    }
    if (a->cfg.auth.mode == SSE_AUTH_NONE)
        log_warn("main", "auth.mode is none: ANYONE CAN WATCH ANY USER'S "
                         "POSITION. For local demos only.");
    if (a->worker) {
        log_info("main", "outbox-sse %s worker %zu of %zu started as '%s'; "
                 "http on port %d", OUTBOX_VERSION, a->worker->index,
                 a->worker->count, a->cfg.name, server_port(a->server));
        wlink_send(a->link, WLINK_READY, 0, NULL, 0);
    } else {
        log_info("main", "outbox-sse %s started as '%s'; http on port %d, "
                 "metrics on port %d", OUTBOX_VERSION, a->cfg.name,
                 server_port(a->server), admin_http_port(a->admin));
        daemon_notify_ready();
    }
    event_base_dispatch(a->base);
    log_info("main", "stopped");
    return EXIT_OK;
}

static void app_free(struct app *a)
{
    /* Streams first (they hold watches), then the Redis client (its
     * pending answers still reach the hub), then the hub. */
    server_free(a->server);
    admin_http_free(a->admin);
    wlink_free(a->link);
    wshare_free(a->share);
    feed_free(a->feed);
    ranks_free(a->ranks);
    hub_free(a->hub);
    daemon_free(a->daemon);
    metrics_free(a->metrics);
    if (a->base)
        event_base_free(a->base);
    cfg_free(&sse_cfg_schema, &a->cfg);
}

/* ---- outbox-sse token -------------------------------------------------- */

struct token_args {
    const char *config, *queue, *user;
    long long ttl;
    int admission;
};

static int token_parse(int argc, char **argv, struct token_args *t)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"queue", required_argument, NULL, 'q'},
        {"user", required_argument, NULL, 'u'},
        {"ttl", required_argument, NULL, 't'},
        {"admission", no_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    char *end;
    int c;
    *t = (struct token_args){.config = DEFAULT_CONFIG, .ttl = -1};
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'h': return 1;
        case 'c': t->config = optarg; break;
        case 'q': t->queue = optarg; break;
        case 'u': t->user = optarg; break;
        case 'a': t->admission = 1; break;
        case 't':
            t->ttl = strtoll(optarg, &end, 10);
            if (*end || end == optarg || t->ttl <= 0)
                t->ttl = -2;
            break;
        default: return -1;
        }
    }
    if (optind != argc || !t->queue || !t->user || t->ttl == -1) {
        fprintf(stderr, "outbox-sse token: --queue, --user and --ttl are required\n");
        return -1;
    }
    if (t->ttl < 0) {
        fprintf(stderr, "outbox-sse token: --ttl takes a positive number of seconds\n");
        return -1;
    }
    return 0;
}

/* The configuration, with the placeholder secret refused (start, tokens)
 * or only warned about (--check-config: see sse_cfg_check_secret). A
 * return >= 0 is main's exit status; -1: go on with cfg. */
static int load_config(const char *path, int check, struct sse_cfg *cfg)
{
    char err[256];
    int rc = cfg_load_for_main(&sse_cfg_schema, path, 0, cfg);
    if (rc >= 0)
        return rc;
    if (sse_cfg_check_secret(cfg, err, sizeof err) < 0) {
        fprintf(stderr, "%s: %s%s\n", path, check ? "warning: " : "", err);
        if (!check) {
            cfg_free(&sse_cfg_schema, cfg);
            return EXIT_USAGE; /* 2, as for any configuration error */
        }
    }
    return check ? cfg_report_ok(&sse_cfg_schema, path, cfg) : -1;
}

static int token_main(int argc, char **argv)
{
    struct token_args t;
    struct sse_cfg cfg;
    char tok[TOKEN_MAX];
    int parsed = token_parse(argc, argv, &t);
    if (parsed != 0) {
        fputs(USAGE, parsed > 0 ? stdout : stderr);
        return parsed > 0 ? EXIT_OK : EXIT_USAGE;
    }
    int rc = load_config(t.config, 0, &cfg);
    if (rc >= 0)
        return rc;
    const char *secret = cfg.auth.secret ? cfg.auth.secret : "";
    rc = token_mint(secret, strlen(secret),
                    t.admission ? TOKEN_ADMISSION : TOKEN_SUBSCRIBE, t.queue,
                    t.user, (int64_t)time(NULL) + t.ttl, tok, sizeof tok);
    cfg_free(&sse_cfg_schema, &cfg);
    if (rc < 0) {
        fprintf(stderr, "outbox-sse token: queue and user must be 1 to %d "
                "bytes without control characters\n", TOKEN_NAME_MAX);
        return EXIT_USAGE;
    }
    printf("%s\n", tok);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    struct daemon_opts o;
    struct app a = {0};
    if (argc > 1 && !strcmp(argv[1], "token"))
        return token_main(argc - 1, argv + 1);
    int rc = daemon_parse_args(argc, argv, USAGE, DEFAULT_CONFIG, &o);
    if (rc >= 0)
        return rc;
    rc = load_config(o.config, o.check_config, &a.cfg);
    if (rc >= 0)
        return rc;
    log_set_level(o.log_level >= 0 ? (enum log_level)o.log_level
                                   : (enum log_level)a.cfg.log_level);
    struct super_worker w;
    int worker = super_worker_env(&w);
    if (worker < 0) {
        log_error("main", "%s is malformed", SUPER_ENV);
        cfg_free(&sse_cfg_schema, &a.cfg);
        return EXIT_USAGE;
    }
    size_t n = super_workers_wanted(&a.cfg);
    if (!worker && n > 1) {
        rc = super_run(&a.cfg, n, argv);
        cfg_free(&sse_cfg_schema, &a.cfg);
        return rc;
    }
    a.worker = worker ? &w : NULL;
    rc = run(&a);
    app_free(&a);
    return rc;
}
