/*
 * outbox-sse-bench: issue 4's speed targets for outbox-sse, measured next
 * to baselines taken in the same run (see tests/bench/SSE.md).
 *
 *   memory     N streams held, each with its first `rank`: the daemon's
 *              VmRSS growth per stream, against a trivial libevent server
 *              (a forked child of this program) that holds as many sockets
 *              and writes each the same first event;
 *   broadcast  N users waiting in ONE queue, all connected; one user joins
 *              at the head (every rank moves) and one change event goes to
 *              Kafka: time until every client has its new rank, against
 *              the daemon's Redis question alone (the same pipelined ZCARD,
 *              ZCARD, N x ZRANK asked by this program: every user waits,
 *              so the daemon asks no admitted question) and a
 *              ZRANGE of the whole queue; measured at N/2 and N so that the
 *              extrapolation to 100,000 rests on two points;
 *   latency    10,000 streams over 100 queues; paced change events, one
 *              queue at a time, each moving the queue's ranks: produce ->
 *              first byte of the resulting event at each waiting client,
 *              against the produce -> consume latency of a plain librdkafka
 *              consumer reading the very same records.
 *
 * One thread drives everything (clients, Redis, producing) on one libevent
 * loop; a second only polls the baseline consumer. Clients bind source
 * addresses 127.0.0.2, .3, ... (20,000 streams each), so ephemeral ports
 * never run out. RLIMIT_NOFILE is raised to its hard limit, which
 * outbox-sse inherits: that limit, not memory, caps N on a box whose hard
 * limit is low (the summary says so and extrapolates).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <getopt.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sse/token.h"
#include "tests/bench/sse_nchan.h"
#include "tests/bench/sse_pushpin.h"
#include "tests/harness/th.h"
#include "tests/integration/sse_env.h"

#define TOPIC "outbox.event.queue"
#define SECRET "bench-secret-0123456789abcdef0123"
#define PER_SOURCE_ADDR 20000 /* streams per client source address */
#define TARGET_CONNS 100000
#define TARGET_BYTES_PER_CONN 4000.0 /* "4 KB", read strictly */
#define TARGET_BROADCAST_MS 1000.0
#define TARGET_P99_MS 20.0

static const char USAGE[] =
    "usage: outbox-sse-bench [options]\n"
    "  --conns N         streams for memory and broadcast (default: 100000,\n"
    "                    or what RLIMIT_NOFILE's hard limit allows)\n"
    "  --reps N          broadcasts per size (default 5; the median counts)\n"
    "  --subs N          latency: subscribers (default 10000)\n"
    "  --queues N        latency: queues they are spread over (default 100)\n"
    "  --events N        latency: change events (default 400)\n"
    "  --rate N          latency: events per second (default 20)\n"
    "  --fetch-wait-ms N fetch.wait.max.ms of outbox-sse and the baseline\n"
    "                    consumer (default 5; see SSE.md: the mock holds an\n"
    "                    empty fetch for that long even when data arrives)\n"
    "  --window N        connections opening at once (default 100)\n"
    "  --perf PREFIX     perf record -g the daemon during the full-size\n"
    "                    broadcasts (PREFIX.broadcast.data) and the latency\n"
    "                    phase (PREFIX.latency.data)\n"
    "  --perf-all        with --perf: also perf record -a -g (every process,\n"
    "                    PREFIX.all.broadcast.data, PREFIX.all.latency.data)\n"
    "  --skip-latency    memory and broadcast only\n"
    "  --workers N       outbox-sse's http.workers (default 1; above 1 the\n"
    "                    RSS counted is the supervisor's and its workers')\n"
    "  --system S        outbox-sse (default), nchan, pushpin, both (outbox-sse\n"
    "                    and nchan), all, or a comma-separated list: one after\n"
    "                    the other on the same N and workload, then a table\n"
    "                    (nchan: nginx-light + libnginx-mod-nchan, one worker;\n"
    "                    pushpin: Debian's pushpin, a GRIP origin thread)\n"
    "  --pub-conns N     nchan: the publisher's keep-alive connections, each\n"
    "                    pipelined (default 8)\n"
    "  --pub-batch N     pushpin: items per POST /publish/ (default 1000; each\n"
    "                    POST has its own connection)\n";

enum { SYS_OUTBOX = 1, SYS_NCHAN = 2, SYS_PUSHPIN = 4 };

struct opts {
    long conns, subs;
    int reps, queues, events, rate, fetch_wait_ms, window, skip_latency;
    int system, pub_conns, pub_batch, workers;
    const char *perf;
    int perf_all;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double ms(int64_t ns) { return (double)ns / 1e6; }

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The p-quantile (0..1) of v[0..n), sorted in place; 0 when empty. */
static int64_t quantile(int64_t *v, size_t n, double p)
{
    if (!n)
        return 0;
    qsort(v, n, sizeof *v, cmp_i64);
    size_t k = (size_t)ceil(p * (double)n);
    return v[k ? k - 1 : 0];
}

/* The 1-minute load average: the machine may be shared. */
static double loadavg(void)
{
    double l = -1;
    FILE *fp = fopen("/proc/loadavg", "r");
    if (fp) {
        if (fscanf(fp, "%lf", &l) != 1)
            l = -1;
        fclose(fp);
    }
    return l;
}

/* VmRSS in kB (-1 when unreadable), through the test harness. */
static long rss_kb(pid_t pid) { return th_proc_status_kb(pid, "VmRSS"); }

/* ---- the clients -------------------------------------------------------- */

struct fleet;

/* One SSE stream: just enough HTTP to tell the status and each event's
 * rank, and when the awaited rank came. */
struct cli {
    struct fleet *f;
    struct bufferevent *bev;
    int64_t expect; /* the rank awaited, -1 for none, -2 for any */
    int64_t rank;
    int64_t t_hit;  /* when `expect` arrived (ns) */
    int64_t t_open; /* when it was opened (ns) */
    int status, dead;
};

struct fleet {
    struct event_base *base;
    struct event *tick;
    int port;
    int nchan;   /* GET /sub/USER (nchan) instead of outbox-sse's URL */
    int pushpin; /* GET /sub/QUEUE/USER (the pushpin origin) */
    struct cli *c;
    size_t cap, n;
    size_t hits, errors;
    int reopen;     /* fleet_open reopens streams that end or stall (pushpin) */
    size_t reopens; /* how many it reopened */
};

/* Who client i is: its queue and user; *rank is the first rank it
 * must be told, -1 for any. */
typedef void (*who_fn)(size_t i, char *queue, size_t ql, char *user,
                       size_t ul, int64_t *rank);

static void cli_segment(struct cli *c, const char *s, size_t len)
{
    if (!c->status && len > 12 && !memcmp(s, "HTTP/1.", 7)) {
        c->status = atoi(s + 9);
        if (c->status != 200 && !c->dead) {
            c->dead = 1;
            c->f->errors++;
        }
    }
    const char *r = memmem(s, len, "\"rank\":", 7);
    if (!r)
        return;
    c->rank = strtoll(r + 7, NULL, 10);
    if (c->rank == c->expect || (c->expect == -2 && c->rank > 0)) {
        c->t_hit = now_ns();
        c->expect = -1;
        c->f->hits++;
    }
}

static void cli_read(struct bufferevent *bev, void *arg)
{
    struct cli *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    for (;;) {
        struct evbuffer_ptr p = evbuffer_search(in, "\n\n", 2, NULL);
        if (p.pos < 0)
            break;
        size_t len = (size_t)p.pos + 2;
        cli_segment(c, (const char *)evbuffer_pullup(in, (ev_ssize_t)len), len);
        evbuffer_drain(in, len);
    }
    if (evbuffer_get_length(in) > 65536) /* never an event: garbage */
        evbuffer_drain(in, evbuffer_get_length(in));
}

static void cli_event(struct bufferevent *bev, short what, void *arg)
{
    struct cli *c = arg;
    (void)bev;
    if ((what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) && !c->dead) {
        c->dead = 1;
        c->f->errors++;
    }
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

static int fleet_init(struct fleet *f, size_t cap)
{
    static const struct timeval tick = {0, 10000};
    memset(f, 0, sizeof *f);
    f->cap = cap;
    f->c = calloc(cap, sizeof *f->c);
    f->base = event_base_new();
    f->tick = f->base ? event_new(f->base, -1, EV_PERSIST, on_tick, NULL) : NULL;
    if (!f->c || !f->tick)
        return -1;
    event_add(f->tick, &tick); /* EVLOOP_ONCE never sleeps for long */
    return 0;
}

static void fleet_close(struct fleet *f)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->c[i].bev)
            bufferevent_free(f->c[i].bev);
    f->n = f->hits = f->errors = 0;
    memset(f->c, 0, f->cap * sizeof *f->c);
}

static void fleet_free(struct fleet *f)
{
    fleet_close(f);
    if (f->tick)
        event_free(f->tick);
    if (f->base)
        event_base_free(f->base);
    free(f->c);
}

static int cli_open(struct fleet *f, size_t i, const char *queue,
                    const char *user, int64_t rank)
{
    struct cli *c = &f->c[i];
    char tok[TOKEN_MAX];
    *c = (struct cli){.f = f, .expect = rank < 0 ? -2 : rank, .rank = -1,
                      .t_open = now_ns()};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    struct sockaddr_in src = {.sin_family = AF_INET,
        .sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)(i / PER_SOURCE_ADDR))};
    struct sockaddr_in dst = {.sin_family = AF_INET,
                              .sin_port = htons((uint16_t)f->port),
                              .sin_addr.s_addr = htonl(0x7f000001u)};
    if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0 ||
        !(c->bev = bufferevent_socket_new(f->base, fd, BEV_OPT_CLOSE_ON_FREE))) {
        close(fd);
        return -1;
    }
    bufferevent_setcb(c->bev, cli_read, NULL, cli_event, c);
    bufferevent_enable(c->bev, EV_READ);
    if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&dst, sizeof dst) < 0)
        return -1;
    if (f->nchan || f->pushpin) {
        evbuffer_add_printf(bufferevent_get_output(c->bev),
                            "GET /sub/%s%s%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            "Accept: text/event-stream\r\n\r\n",
                            f->pushpin ? queue : "", f->pushpin ? "/" : "", user);
        return 0;
    }
    if (token_mint(SECRET, strlen(SECRET), TOKEN_SUBSCRIBE, queue, user,
                   (int64_t)time(NULL) + 86400, tok, sizeof tok) < 0)
        return -1;
    evbuffer_add_printf(bufferevent_get_output(c->bev),
                        "GET /v1/queues/%s/events?user=%s&token=%s HTTP/1.1\r\n"
                        "Host: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n",
                        queue, user, tok);
    return 0;
}

/* Runs the loop until `want` hits (or deadline); 0 when reached. */
static int fleet_wait(struct fleet *f, size_t want, int64_t deadline)
{
    while (f->hits < want && now_ns() < deadline)
        event_base_loop(f->base, EVLOOP_ONCE);
    return f->hits >= want ? 0 : -1;
}

static void fleet_pump(struct fleet *f, int ms_)
{
    int64_t end = now_ns() + (int64_t)ms_ * 1000000;
    while (now_ns() < end)
        event_base_loop(f->base, EVLOOP_ONCE);
}

/* With f->reopen, as a browser's EventSource would: client k's stream,
 * of those in [lo, hi), is opened again when it ended (before or just after
 * its first rank) or has had no first rank for 3 s. The counts of hits and
 * errors are put back as if the first attempt never was. */
static void fleet_reopen(struct fleet *f, size_t lo, size_t hi, who_fn who)
{
    int64_t now = now_ns();
    char queue[32], user[32];
    int64_t rank;
    for (size_t k = lo; k < hi; k++) {
        struct cli *c = &f->c[k];
        int hit = c->expect == -1;
        if (!c->dead && (hit || now - c->t_open < 3 * (int64_t)1000000000))
            continue;
        if (c->dead && c->status != 0 && c->status != 200)
            continue; /* an HTTP error: a real failure */
        if (c->dead)
            f->errors--;
        if (hit)
            f->hits--;
        bufferevent_free(c->bev);
        c->bev = NULL;
        who(k, queue, sizeof queue, user, sizeof user, &rank);
        if (cli_open(f, k, queue, user, rank) < 0) {
            c->dead = 1;
            f->errors++;
        }
        f->reopens++;
    }
}

/* How far back fleet_open looks for streams to reopen: the streams that
 * pushpin ended did so a few ms after their first rank. */
#define REOPEN_BACK 256

/* Opens clients [n, to), at most `window` still waiting for their first
 * rank at any time, and waits for every first rank. 0, or -1 with a
 * message. */
static int fleet_open(struct fleet *f, size_t to, who_fn who, int window)
{
    size_t from = f->n, hits0 = f->hits, err0 = f->errors;
    int64_t deadline = now_ns() + 120 * (int64_t)1000000000 +
                       (int64_t)(to - from) * 2000000;
    char queue[32], user[32];
    int64_t rank;
    for (size_t i = from; i < to; i++) {
        while ((i - from) - (f->hits - hits0) - (f->errors - err0) >=
                   (size_t)window && now_ns() < deadline) {
            event_base_loop(f->base, EVLOOP_ONCE);
            if (f->reopen)
                fleet_reopen(f, i > from + REOPEN_BACK ? i - REOPEN_BACK : from,
                             i, who);
        }
        who(i, queue, sizeof queue, user, sizeof user, &rank);
        f->n = i + 1;
        if (cli_open(f, i, queue, user, rank) < 0) {
            fprintf(stderr, "sse-bench: cannot open stream %zu: %s\n", i,
                    strerror(errno));
            return -1;
        }
    }
    for (int64_t settle = 0; now_ns() < deadline;) {
        event_base_loop(f->base, EVLOOP_ONCE);
        if (f->reopen)
            fleet_reopen(f, to > from + REOPEN_BACK ? to - REOPEN_BACK : from,
                         to, who);
        if (f->hits - hits0 + (f->errors - err0) < to - from)
            settle = 0;
        else if (!f->reopen)
            break;
        else if (!settle) /* a moment for late ends of the last streams */
            settle = now_ns() + 200000000;
        else if (now_ns() >= settle)
            break;
    }
    if (f->errors != err0 || f->hits - hits0 != to - from) {
        fprintf(stderr, "sse-bench: %zu of %zu streams got their first rank, "
                "%zu failed\n", f->hits - hits0, to - from, f->errors - err0);
        return -1;
    }
    return 0;
}

/* ---- the baseline server: holds sockets, writes one event --------------- */

static void holder_read(struct bufferevent *bev, void *arg)
{
    static const char resp[] =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
        "Cache-Control: no-cache\r\n\r\nretry: 3000\n\n"
        "id: 1\nevent: rank\n"
        "data: {\"queue\":\"bq\",\"user\":\"u\",\"rank\":1,\"waiting\":1}\n\n";
    struct evbuffer *in = bufferevent_get_input(bev);
    (void)arg;
    if (evbuffer_search(in, "\r\n\r\n", 4, NULL).pos < 0)
        return;
    evbuffer_drain(in, evbuffer_get_length(in));
    bufferevent_write(bev, resp, sizeof resp - 1);
}

static void holder_event(struct bufferevent *bev, short what, void *arg)
{
    (void)arg;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        bufferevent_free(bev);
}

static void holder_accept(struct evconnlistener *l, evutil_socket_t fd,
                          struct sockaddr *sa, int len, void *arg)
{
    (void)sa;
    (void)len;
    (void)arg;
    struct bufferevent *bev = bufferevent_socket_new(
        evconnlistener_get_base(l), fd, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        close(fd);
        return;
    }
    bufferevent_setcb(bev, holder_read, NULL, holder_event, NULL);
    bufferevent_enable(bev, EV_READ);
}

/* Forks the holder on a fresh listening socket; its port in *port. */
static pid_t holder_start(int *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(0x7f000001u)};
    socklen_t sl = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        listen(fd, 4096) < 0 || getsockname(fd, (struct sockaddr *)&sa, &sl) < 0)
        return -1;
    *port = ntohs(sa.sin_port);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        evutil_make_socket_nonblocking(fd);
        struct event_base *base = event_base_new();
        if (!base || !evconnlistener_new(base, holder_accept, NULL,
                                         LEV_OPT_CLOSE_ON_FREE, -1, fd))
            _exit(1);
        event_base_dispatch(base);
        _exit(0);
    }
    close(fd);
    return pid;
}

/* ---- the servers -------------------------------------------------------- */

/* tests/integration's environment, with outbox-sse restarted on this
 * benchmark's configuration (limits, fetch wait, no periodic refresh). */
static int write_config(struct sse_env *e, const struct opts *o)
{
    FILE *fp = fopen(e->config, "w");
    if (!fp)
        return -1;
    fprintf(fp,
            "name: sse-bench\n"
            "kafka:\n  brokers: %s\n  topics: [" TOPIC "]\n"
            "  properties:\n    fetch.wait.max.ms: \"%d\"\n"
            "redis:\n  port: %d\n"
            "http:\n  listen: 127.0.0.1:%d\n  max_connections: 200000\n"
            "  workers: %d\n"
            "auth:\n  secret: " SECRET "\n"
            "queues:\n  refresh_interval: 1h\n"
            "metrics:\n  listen: 127.0.0.1:%d\n",
            e->kafka.bootstrap, o->fetch_wait_ms, e->redis.port, e->http_port,
            o->workers, e->metrics_port);
    return fclose(fp);
}

static int env_start(struct sse_env *e, const struct opts *o)
{
    if (sse_env_start(e, NULL, NULL) < 0 || th_stop(&e->sse, 15000, NULL) < 0 ||
        write_config(e, o) < 0)
        return -1;
    return sse_env_run_sse(e);
}

static rd_kafka_t *kafka_consumer(const char *bootstrap, const char *const *props)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof err))
        goto fail;
    for (int i = 0; props[i]; i += 2)
        if (rd_kafka_conf_set(conf, props[i], props[i + 1], err, sizeof err))
            goto fail;
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (rk)
        return rk;
    conf = NULL;
fail:
    fprintf(stderr, "sse-bench: kafka: %s\n", err);
    if (conf)
        rd_kafka_conf_destroy(conf);
    return NULL;
}

/* Redis commands given as argv lists, pipelined; -1 on any error. */
static int redis_pipeline(redisContext *rc, size_t n,
                          void (*cmd)(size_t i, void *arg, int *argc,
                                      const char **argv),
                          void *arg)
{
    const char *argv[4];
    int argc, rc_ = 0;
    for (size_t i = 0; i < n; i++) {
        cmd(i, arg, &argc, argv);
        redisAppendCommandArgv(rc, argc, argv, NULL);
    }
    for (size_t i = 0; i < n; i++) {
        redisReply *r;
        if (redisGetReply(rc, (void **)&r) != REDIS_OK)
            return -1;
        rc_ |= r->type == REDIS_REPLY_ERROR ? -1 : 0;
        freeReplyObject(r);
    }
    return rc_;
}

/* ---- the baseline consumer --------------------------------------------- */

/* Every record's value is "SEQ T0_NS"; the consumer notes when it got it. */
struct kbase {
    rd_kafka_t *rk;
    pthread_t thread;
    atomic_int stop;
    _Atomic int64_t *lat; /* by seq; 0 until consumed */
    size_t cap;
    atomic_long seen;
};

static void *kbase_run(void *arg)
{
    struct kbase *k = arg;
    while (!atomic_load(&k->stop)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(k->rk, 50);
        if (!m)
            continue;
        int64_t t = now_ns();
        if (!m->err && m->len < 64) {
            char v[64];
            long long seq, t0;
            memcpy(v, m->payload, m->len);
            v[m->len] = '\0';
            if (sscanf(v, "%lld %lld", &seq, &t0) == 2 && seq >= 0 &&
                (size_t)seq < k->cap)
                atomic_store(&k->lat[seq], t - t0);
            atomic_fetch_add(&k->seen, 1);
        }
        rd_kafka_message_destroy(m);
    }
    return NULL;
}

static int kbase_start(struct kbase *k, const char *bootstrap, int fetch_wait_ms,
                       size_t cap)
{
    char fw[16];
    snprintf(fw, sizeof fw, "%d", fetch_wait_ms);
    const char *const props[] = {"group.id", "sse-bench-baseline",
                                 "enable.auto.commit", "false",
                                 "fetch.wait.max.ms", fw, NULL};
    memset(k, 0, sizeof *k);
    k->cap = cap;
    k->lat = calloc(cap, sizeof *k->lat);
    if (!k->lat || !(k->rk = kafka_consumer(bootstrap, props)))
        return -1;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(4);
    for (int p = 0; p < 4; p++)
        rd_kafka_topic_partition_list_add(l, TOPIC, p)->offset = RD_KAFKA_OFFSET_END;
    rd_kafka_resp_err_t err = rd_kafka_assign(k->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (err)
        return -1;
    return pthread_create(&k->thread, NULL, kbase_run, k) ? -1 : 0;
}

static void kbase_stop(struct kbase *k)
{
    if (!k->rk)
        return;
    atomic_store(&k->stop, 1);
    pthread_join(k->thread, NULL);
    rd_kafka_consumer_close(k->rk);
    rd_kafka_destroy(k->rk);
    free((void *)k->lat);
}

/* ---- producing ---------------------------------------------------------- */

static long g_seq;

/* One change event for `queue`; returns its seq, the time in *t0. */
static long publish(struct sse_env *e, const char *queue, int64_t *t0)
{
    char v[64];
    long seq = g_seq++;
    *t0 = now_ns();
    int n = snprintf(v, sizeof v, "%ld %lld", seq, (long long)*t0);
    rd_kafka_resp_err_t err = rd_kafka_producev(
        e->producer, RD_KAFKA_V_TOPIC(TOPIC),
        RD_KAFKA_V_KEY(queue, strlen(queue)), RD_KAFKA_V_VALUE(v, (size_t)n),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    rd_kafka_poll(e->producer, 0);
    return err ? -1 : seq;
}

/* ---- perf --------------------------------------------------------------- */

/* target 0: every process (--perf-all), into PREFIX.all.WHAT.data */
static pid_t perf_one(const char *prefix, const char *what, pid_t target)
{
    char out[512], p[16];
    snprintf(out, sizeof out, "%s.%s%s.data", prefix, target ? "" : "all.",
             what);
    snprintf(p, sizeof p, "%d", (int)target);
    pid_t pid = fork();
    if (pid == 0) {
        if (target)
            execlp("perf", "perf", "record", "-q", "-g", "-p", p, "-o", out,
                   (char *)NULL);
        else
            execlp("perf", "perf", "record", "-q", "-a", "-g", "-F", "999",
                   "-o", out, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* perf of the daemon, and of every process with --perf-all; pids[2]. */
static void perf_start(const struct opts *o, const char *what, pid_t target,
                       pid_t *pids)
{
    pids[0] = pids[1] = -1;
    if (!o->perf)
        return;
    pids[0] = perf_one(o->perf, what, target);
    if (o->perf_all)
        pids[1] = perf_one(o->perf, what, 0);
    usleep(500000); /* perf attaches */
}

static void perf_stop(const pid_t *pids)
{
    for (int i = 0; i < 2; i++)
        if (pids[i] > 0) {
            kill(pids[i], SIGINT);
            waitpid(pids[i], NULL, 0);
        }
}

/* ---- the phases --------------------------------------------------------- */

static void who_broadcast(size_t i, char *queue, size_t ql, char *user,
                          size_t ul, int64_t *rank)
{
    snprintf(queue, ql, "bq");
    snprintf(user, ul, "u%zu", i);
    *rank = -1; /* users join at the head between fleets */
}

static int g_lat_queues = 100;

static void who_latency(size_t i, char *queue, size_t ql, char *user,
                        size_t ul, int64_t *rank)
{
    snprintf(queue, ql, "lq%zu", i % (size_t)g_lat_queues);
    snprintf(user, ul, "l%zu", i);
    *rank = -1;
}

static void who_holder(size_t i, char *queue, size_t ql, char *user,
                       size_t ul, int64_t *rank)
{
    who_broadcast(i, queue, ql, user, ul, rank);
    *rank = 1;
}

struct zadd_arg {
    who_fn who;
    char key[64], user[32], score[32];
};

static void cmd_zadd(size_t i, void *arg, int *argc, const char **argv)
{
    struct zadd_arg *a = arg;
    char queue[32];
    int64_t rank;
    a->who(i, queue, sizeof queue, a->user, sizeof a->user, &rank);
    snprintf(a->key, sizeof a->key, "queue:%s:waiting", queue);
    snprintf(a->score, sizeof a->score, "%zu", 1000000 + i);
    *argc = 4;
    argv[0] = "ZADD";
    argv[1] = a->key;
    argv[2] = a->score;
    argv[3] = a->user;
}

/* What the daemon asks for a recompute of `bq` with n watchers, all
 * waiting (ZRANK finds each, so no ZSCORE follows). */
struct question {
    char user[32];
};

static void cmd_question(size_t i, void *arg, int *argc, const char **argv)
{
    struct question *q = arg;
    *argc = 2;
    if (i < 2) {
        argv[0] = "ZCARD";
        argv[1] = i ? "queue:bq:admitted" : "queue:bq:waiting";
        return;
    }
    snprintf(q->user, sizeof q->user, "u%zu", i - 2);
    *argc = 3;
    argv[0] = "ZRANK";
    argv[1] = "queue:bq:waiting";
    argv[2] = q->user;
}

static void cmd_zrange(size_t i, void *arg, int *argc, const char **argv)
{
    (void)i;
    (void)arg;
    *argc = 4;
    argv[0] = "ZRANGE";
    argv[1] = "queue:bq:waiting";
    argv[2] = "0";
    argv[3] = "-1";
}

static long g_head; /* users joined at the head of some queue so far */

/* A user joins at the head of `queue`: every rank there moves by one. */
static int join_head(redisContext *rc, const char *queue)
{
    long h = ++g_head;
    redisReply *r = redisCommand(rc, "ZADD queue:%s:waiting %ld h%ld", queue,
                                 -h, h);
    int ok = r && r->type == REDIS_REPLY_INTEGER;
    if (r)
        freeReplyObject(r);
    return ok ? 0 : -1;
}

/* One system under test: outbox-sse (change events through Kafka), nchan
 * or pushpin (the publisher told directly). All read the same Redis data. */
struct sys {
    int nchan, pushpin;
    const char *name;
    redisContext *rc;
    struct sse_env *e; /* outbox-sse */
    struct kbase *kb;
    struct npub *pub; /* nchan, pushpin */
    struct nchan_srv *srv;
    struct pushpin_srv *pp;
};

/* VmRSS of pid and its children (outbox-sse's workers), in KiB. */
static long tree_rss_kb(pid_t pid)
{
    char path[64];
    long sum = rss_kb(pid);
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
    FILE *fp = fopen(path, "r");
    int child;
    while (sum >= 0 && fp && fscanf(fp, "%d", &child) == 1) {
        long kb = rss_kb(child);
        sum = kb < 0 ? -1 : sum + kb;
    }
    if (fp)
        fclose(fp);
    return sum;
}

/* The server's VmRSS in KiB: the process `pid` (with outbox-sse's
 * workers, if any), or for pushpin the sum over its runner and the
 * services it started. */
static long sys_rss(struct sys *s, pid_t pid)
{
    return s->pushpin ? pushpin_rss_kb(s->pp, NULL, 0)
           : s->e     ? tree_rss_kb(pid)
                      : rss_kb(pid);
}

/* "queue changed": the change event produced (outbox-sse), or the
 * publisher told (nchan, pushpin). Its seq or wave; the time in *t0. */
static long trigger(struct sys *s, const char *queue, int64_t *t0)
{
    if (!s->pub)
        return publish(s->e, queue, t0);
    *t0 = now_ns();
    return npub_wave(s->pub, queue, *t0);
}

/* What happened between the trigger and the servers' work: the Kafka hop
 * (a plain consumer's produce -> consume) or the publisher's time (told ->
 * every POST answered), in ns; 0 when unknown. */
static int64_t hop_ns(struct sys *s, long seq)
{
    int64_t v = 0;
    if (!s->pub)
        return atomic_load(&s->kb->lat[seq]);
    npub_wait(s->pub, seq, now_ns() + 5 * (int64_t)1000000000, &v);
    return v > 0 ? v : 0;
}

struct bcast {
    size_t n;
    double all_ms, p50_ms, redis_ms, zrange_ms, hop_ms;
    int lost; /* broadcasts where a client missed its rank */
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n ? v[n / 2] : 0;
}

static int broadcast(struct sys *s, struct fleet *f, int reps, struct bcast *out)
{
    double all[64], p50[64], red[64], zr[64], hop[64];
    int64_t *lat = malloc(f->n * sizeof *lat);
    struct question q;
    if (!lat || reps > 64)
        return -1;
    memset(out, 0, sizeof *out);
    out->n = f->n;
    for (int r = 0; r < reps; r++) {
        int64_t t = now_ns();
        if (redis_pipeline(s->rc, 2 + f->n, cmd_question, &q) < 0)
            return -1;
        red[r] = ms(now_ns() - t);
        t = now_ns();
        if (redis_pipeline(s->rc, 1, cmd_zrange, NULL) < 0)
            return -1;
        zr[r] = ms(now_ns() - t);

        size_t hits0 = f->hits;
        for (size_t i = 0; i < f->n; i++)
            f->c[i].expect = f->c[i].rank + 1;
        if (join_head(s->rc, "bq") < 0)
            return -1;
        int64_t t0;
        long seq = trigger(s, "bq", &t0);
        if (seq < 0)
            return -1;
        if (fleet_wait(f, hits0 + f->n, t0 + 30 * (int64_t)1000000000) < 0) {
            out->lost++;
            fprintf(stderr, "sse-bench: broadcast %d at %zu: only %zu got the "
                    "new rank\n", r, f->n, f->hits - hits0);
        }
        size_t k = 0;
        for (size_t i = 0; i < f->n; i++)
            if (f->c[i].expect < 0)
                lat[k++] = f->c[i].t_hit - t0;
        all[r] = ms(quantile(lat, k, 1.0));
        p50[r] = ms(quantile(lat, k, 0.5));
        fleet_pump(f, 300); /* past the coalescing interval */
        hop[r] = ms(hop_ns(s, seq));
        fprintf(stderr, "  broadcast %d/%d to %zu: all %.1f ms (half %.1f ms), "
                "redis question %.1f ms, %s %.1f ms\n", r + 1, reps, f->n,
                all[r], p50[r], red[r], s->pub ? "publisher" : "kafka hop",
                hop[r]);
    }
    out->all_ms = median(all, reps);
    out->p50_ms = median(p50, reps);
    out->redis_ms = median(red, reps);
    out->zrange_ms = median(zr, reps);
    out->hop_ms = median(hop, reps);
    free(lat);
    return 0;
}

struct latency {
    size_t samples, events, late;
    double p50, p99, max, last_p99, k_p50, k_p99, k_max;
    double known_p50, known_p99, known_max; /* change known -> client */
};

static int latency(struct sys *sy, struct fleet *f, const struct opts *o,
                   struct latency *out)
{
    size_t per = f->n / (size_t)o->queues;
    size_t cap = (size_t)o->events * (per + 1);
    int64_t *s = malloc(cap * sizeof *s);
    long *sseq = malloc(cap * sizeof *sseq);
    int64_t *last = malloc((size_t)o->events * sizeof *last);
    int64_t *kl = malloc((size_t)o->events * sizeof *kl);
    long *seqs = malloc((size_t)o->events * sizeof *seqs);
    if (!s || !sseq || !last || !kl || !seqs)
        return -1;
    memset(out, 0, sizeof *out);
    int64_t start = now_ns(), period = 1000000000 / o->rate;
    for (int k = 0; k < o->events; k++) {
        int64_t due = start + (int64_t)k * period;
        while (now_ns() < due)
            event_base_loop(f->base, EVLOOP_ONCE);
        size_t q = (size_t)k % (size_t)o->queues, hits0 = f->hits, want = 0;
        char queue[32];
        snprintf(queue, sizeof queue, "lq%zu", q);
        for (size_t i = q; i < f->n; i += (size_t)o->queues, want++)
            f->c[i].expect = f->c[i].rank + 1;
        if (join_head(sy->rc, queue) < 0)
            return -1;
        int64_t t0;
        if ((seqs[k] = trigger(sy, queue, &t0)) < 0)
            return -1;
        if (fleet_wait(f, hits0 + want, t0 + 5 * (int64_t)1000000000) < 0)
            out->late++;
        int64_t worst = 0;
        for (size_t i = q; i < f->n; i += (size_t)o->queues)
            if (f->c[i].expect < 0) {
                sseq[out->samples] = k;
                s[out->samples++] = f->c[i].t_hit - t0;
                if (f->c[i].t_hit - t0 > worst)
                    worst = f->c[i].t_hit - t0;
            } else {
                f->c[i].expect = -1; /* missed: not waited for again */
            }
        last[out->events++] = worst;
    }
    fleet_pump(f, 500); /* the baseline consumer's last records */
    size_t nk = 0;
    for (int k = 0; k < o->events; k++) {
        int64_t v = hop_ns(sy, seqs[k]);
        kl[k] = v;
    }
    /* Change known -> client. nchan: the publisher is told at t0, so the
     * samples themselves. outbox-sse: less the Kafka hop of the same record
     * to a plain consumer (the daemon's own consumer is told about then). */
    int64_t *kn = malloc((out->samples + 1) * sizeof *kn);
    size_t nkn = 0;
    if (!kn)
        return -1;
    for (size_t i = 0; i < out->samples; i++)
        if (sy->pub)
            kn[nkn++] = s[i];
        else if (kl[sseq[i]] > 0)
            kn[nkn++] = s[i] - kl[sseq[i]];
    for (int k = 0; k < o->events; k++)
        if (kl[k] > 0)
            kl[nk++] = kl[k];
    out->p50 = ms(quantile(s, out->samples, 0.5));
    out->p99 = ms(quantile(s, out->samples, 0.99));
    out->max = ms(quantile(s, out->samples, 1.0));
    out->last_p99 = ms(quantile(last, out->events, 0.99));
    out->k_p50 = ms(quantile(kl, nk, 0.5));
    out->k_p99 = ms(quantile(kl, nk, 0.99));
    out->k_max = ms(quantile(kl, nk, 1.0));
    out->known_p50 = ms(quantile(kn, nkn, 0.5));
    out->known_p99 = ms(quantile(kn, nkn, 0.99));
    out->known_max = ms(quantile(kn, nkn, 1.0));
    free(kn);
    free(s);
    free(sseq);
    free(last);
    free(kl);
    free(seqs);
    return 0;
}

/* Change events until both the daemon and the baseline consumer see them:
 * both read from the end, so anything earlier would be missed. */
static int feed_ready(struct sse_env *e, struct fleet *f, struct kbase *kb)
{
    for (int i = 0; i < 150; i++) {
        int64_t t0;
        publish(e, "warmup", &t0);
        fleet_pump(f, 200);
        if (sse_env_metric(e, "sse_changes_total") > 0 && atomic_load(&kb->seen) > 0)
            return 0;
    }
    fprintf(stderr, "sse-bench: the change events do not arrive\n");
    return -1;
}

/* ---- one system's run --------------------------------------------------- */

struct result {
    int ran;
    long rss0, rss_chan, rss_half, rss_full; /* KiB of the server process */
    long shm0, shm_full;                     /* nchan: RssShmem of the worker */
    long long zone_kb, channels;             /* nchan: stub status at N */
    long pub_errors;
    char parts0[256], parts_full[256]; /* pushpin: VmRSS per process */
    size_t reopens;                     /* pushpin: streams opened again */
    struct bcast half, full;
    struct latency lat;
    char version[128];
};

static int load_queues(redisContext *rc, const struct opts *o)
{
    struct zadd_arg za = {.who = who_broadcast};
    if (redis_pipeline(rc, (size_t)o->conns, cmd_zadd, &za) < 0)
        return -1;
    za.who = who_latency;
    return redis_pipeline(rc, (size_t)o->subs, cmd_zadd, &za);
}

/* Memory, broadcast and latency phases, common to both systems. `pid` is
 * the process whose VmRSS counts. For nchan, the publisher first publishes
 * every user's first rank (the channels), before any subscriber comes. */
static int phases(struct sys *s, struct fleet *f, const struct opts *o,
                  pid_t pid, struct result *r)
{
    fprintf(stderr, "== %s: memory and broadcast: %ld streams in one queue\n",
            s->name, o->conns);
    r->rss0 = r->rss_chan = sys_rss(s, pid);
    if (s->nchan) {
        int64_t t0, v;
        long w = trigger(s, "bq", &t0);
        if (w < 0 || npub_wait(s->pub, w, now_ns() + 60 * (int64_t)1000000000, &v) < 0)
            return -1;
        fleet_pump(f, 300);
        r->rss_chan = sys_rss(s, pid);
    }
    if (fleet_open(f, (size_t)o->conns / 2, who_broadcast, o->window) < 0)
        return -1;
    fleet_pump(f, 500);
    r->rss_half = sys_rss(s, pid);
    if (broadcast(s, f, o->reps, &r->half) < 0 ||
        fleet_open(f, (size_t)o->conns, who_broadcast, o->window) < 0)
        return -1;
    fleet_pump(f, 500);
    r->rss_full = sys_rss(s, pid);
    if (s->pushpin)
        pushpin_rss_kb(s->pp, r->parts_full, sizeof r->parts_full);
    if (s->nchan) {
        r->shm_full = th_proc_status_kb(pid, "RssShmem");
        r->zone_kb = nchan_status(s->srv, "shared memory used");
        r->channels = nchan_status(s->srv, "channels");
    }
    pid_t perf[2];
    char pn[64];
    snprintf(pn, sizeof pn, "%s%sbroadcast", s->pub ? s->name : "",
             s->pub ? "." : "");
    perf_start(o, pn, pid, perf);
    int rc = broadcast(s, f, o->reps, &r->full);
    perf_stop(perf);
    if (rc < 0)
        return -1;
    fleet_close(f);
    fleet_pump(f, 1000);
    if (o->skip_latency)
        return 0;
    fprintf(stderr, "== %s: latency: %ld streams over %d queues, %d events at "
            "%d/s\n", s->name, o->subs, o->queues,
            o->events, o->rate);
    if (s->nchan) { /* every latency user's first rank */
        long w = -1;
        int64_t t0, v;
        for (int q = 0; q < o->queues; q++) {
            char queue[32];
            snprintf(queue, sizeof queue, "lq%d", q);
            if ((w = trigger(s, queue, &t0)) < 0)
                return -1;
        }
        if (npub_wait(s->pub, w, now_ns() + 60 * (int64_t)1000000000, &v) < 0)
            return -1;
    }
    if (fleet_open(f, (size_t)o->subs, who_latency, o->window) < 0)
        return -1;
    fleet_pump(f, 500);
    snprintf(pn, sizeof pn, "%s%slatency", s->pub ? s->name : "",
             s->pub ? "." : "");
    perf_start(o, pn, pid, perf);
    rc = latency(s, f, o, &r->lat);
    perf_stop(perf);
    fleet_close(f);
    fleet_pump(f, 500);
    return rc;
}

static int run_outbox(const struct opts *o, struct fleet *f, struct result *r)
{
    struct sse_env e;
    struct kbase kb;
    struct sys s = {.name = "outbox-sse", .e = &e, .kb = &kb};
    int rc = -1;
    memset(&kb, 0, sizeof kb);
    memset(&e, 0, sizeof e);
    fprintf(stderr, "== outbox-sse: servers\n");
    if (env_start(&e, o) < 0 ||
        kbase_start(&kb, e.kafka.bootstrap, o->fetch_wait_ms,
                    (size_t)(o->events + 64 * 4 + 10000)) < 0)
        goto out;
    s.rc = e.rc;
    if (load_queues(e.rc, o) < 0)
        goto out;
    f->port = e.http_port;
    f->nchan = 0;
    if (feed_ready(&e, f, &kb) < 0 || phases(&s, f, o, e.sse.pid, r) < 0)
        goto out;
    snprintf(r->version, sizeof r->version, "this tree");
    r->ran = 1;
    rc = 0;
out:
    if (rc)
        fprintf(stderr, "sse-bench: outbox-sse run failed; logs in %s\n",
                e.dir[0] ? e.dir : "?");
    fleet_close(f);
    kbase_stop(&kb);
    if (e.dir[0])
        sse_env_stop(&e);
    return rc;
}

static int run_nchan(const struct opts *o, struct fleet *f, struct result *r)
{
    struct th_redis redis;
    struct nchan_srv n;
    struct sys s = {.nchan = 1, .name = "nchan", .srv = &n};
    int rc = -1;
    memset(&redis, 0, sizeof redis);
    memset(&n, 0, sizeof n);
    fprintf(stderr, "== nchan: servers\n");
    if (th_redis_start(&redis) < 0 ||
        nchan_start(&n, (o->conns > o->subs ? o->conns : o->subs) + o->pub_conns) < 0)
        goto out;
    s.rc = redisConnect("127.0.0.1", redis.port);
    if (!s.rc || s.rc->err || load_queues(s.rc, o) < 0 ||
        !(s.pub = npub_start(n.port, redis.port, o->pub_conns)))
        goto out;
    nchan_versions(&n, r->version, sizeof r->version);
    f->port = n.port;
    f->nchan = 1;
    fleet_pump(f, 300);
    r->shm0 = th_proc_status_kb(n.worker, "RssShmem");
    if (phases(&s, f, o, n.worker, r) < 0)
        goto out;
    r->pub_errors = npub_errors(s.pub);
    r->ran = 1;
    rc = 0;
out:
    if (rc)
        fprintf(stderr, "sse-bench: nchan run failed; logs in %s\n",
                n.dir[0] ? n.dir : "?");
    fleet_close(f);
    f->nchan = 0;
    npub_stop(s.pub);
    if (s.rc)
        redisFree(s.rc);
    nchan_stop(&n);
    th_redis_stop(&redis);
    return rc;
}

/* Streams pushpin opens at once. pushpin-handler cancels a few streams
 * right after their first event ("zhttp server: error id=... received
 * message out of sequence, canceling" in its log, and the client sees the
 * stream end), more often with 20 or 100 opening at once than with 5. The
 * fleet opens those again (f->reopen) and counts them. */
#define PUSHPIN_WINDOW 5

static int run_pushpin(const struct opts *o_, struct fleet *f, struct result *r)
{
    struct opts po = *o_, *o = &po;
    struct th_redis redis;
    struct pushpin_srv pp;
    struct sys s = {.pushpin = 1, .name = "pushpin", .pp = &pp};
    int rc = -1;
    memset(&redis, 0, sizeof redis);
    memset(&pp, 0, sizeof pp);
    fprintf(stderr, "== pushpin: servers\n");
    if (th_redis_start(&redis) < 0 ||
        pushpin_start(&pp, (o->conns > o->subs ? o->conns : o->subs) + o->pub_conns,
                      redis.port) < 0)
        goto out;
    s.rc = redisConnect("127.0.0.1", redis.port);
    if (!s.rc || s.rc->err || load_queues(s.rc, o) < 0 ||
        !(s.pub = npub_start_grip(pp.pub_port, redis.port, o->pub_batch)))
        goto out;
    pushpin_versions(r->version, sizeof r->version);
    if (po.window > PUSHPIN_WINDOW)
        po.window = PUSHPIN_WINDOW;
    f->port = pp.port;
    f->pushpin = 1;
    f->reopen = 1;
    f->reopens = 0;
    fleet_pump(f, 300);
    pushpin_rss_kb(&pp, r->parts0, sizeof r->parts0);
    /* perf (--perf) follows the runner only: add --perf-all for the rest */
    if (phases(&s, f, o, pp.proc.pid, r) < 0)
        goto out;
    r->pub_errors = npub_errors(s.pub);
    r->reopens = f->reopens;
    r->ran = 1;
    rc = 0;
out:
    f->reopen = 0;
    if (rc && pp.dir[0])
        pushpin_dump_logs(&pp);
    if (rc)
        fprintf(stderr, "sse-bench: pushpin run failed; logs in %s\n",
                pp.dir[0] ? pp.dir : "?");
    fleet_close(f);
    f->pushpin = 0;
    npub_stop(s.pub);
    if (s.rc)
        redisFree(s.rc);
    pushpin_stop(&pp);
    th_redis_stop(&redis);
    return rc;
}

/* --system's value: names, comma-separated; 0 when one is unknown. */
static int parse_systems(const char *arg)
{
    char buf[128];
    int sys = 0;
    snprintf(buf, sizeof buf, "%s", arg);
    for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int v = !strcmp(t, "outbox-sse") ? SYS_OUTBOX
                : !strcmp(t, "nchan")    ? SYS_NCHAN
                : !strcmp(t, "pushpin")  ? SYS_PUSHPIN
                : !strcmp(t, "both")     ? SYS_OUTBOX | SYS_NCHAN
                : !strcmp(t, "all")      ? SYS_OUTBOX | SYS_NCHAN | SYS_PUSHPIN
                                         : 0;
        if (!v)
            return 0;
        sys |= v;
    }
    return sys;
}

/* ---- main --------------------------------------------------------------- */

static void parse(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {
        {"conns", required_argument, NULL, 'n'},
        {"reps", required_argument, NULL, 'r'},
        {"subs", required_argument, NULL, 's'},
        {"queues", required_argument, NULL, 'q'},
        {"events", required_argument, NULL, 'e'},
        {"rate", required_argument, NULL, 'R'},
        {"fetch-wait-ms", required_argument, NULL, 'f'},
        {"window", required_argument, NULL, 'w'},
        {"perf", required_argument, NULL, 'p'},
        {"perf-all", no_argument, NULL, 'A'},
        {"skip-latency", no_argument, NULL, 'L'},
        {"workers", required_argument, NULL, 'W'},
        {"system", required_argument, NULL, 'S'},
        {"pub-conns", required_argument, NULL, 'P'},
        {"pub-batch", required_argument, NULL, 'B'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c;
    *o = (struct opts){.conns = -1, .subs = 10000, .reps = 5, .queues = 100,
                       .events = 400, .rate = 20, .fetch_wait_ms = 5,
                       .window = 100, .system = SYS_OUTBOX, .pub_conns = 8,
                       .pub_batch = 1000, .workers = 1};
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case 'n': o->conns = atol(optarg); break;
        case 'r': o->reps = atoi(optarg); break;
        case 's': o->subs = atol(optarg); break;
        case 'q': o->queues = atoi(optarg); break;
        case 'e': o->events = atoi(optarg); break;
        case 'R': o->rate = atoi(optarg); break;
        case 'f': o->fetch_wait_ms = atoi(optarg); break;
        case 'w': o->window = atoi(optarg); break;
        case 'p': o->perf = optarg; break;
        case 'A': o->perf_all = 1; break;
        case 'L': o->skip_latency = 1; break;
        case 'W': o->workers = atoi(optarg); break;
        case 'P': o->pub_conns = atoi(optarg); break;
        case 'B': o->pub_batch = atoi(optarg); break;
        case 'S': o->system = parse_systems(optarg); break;
        case 'h': fputs(USAGE, stdout); exit(0);
        default: fputs(USAGE, stderr); exit(2);
        }
    }
    if (optind != argc || o->reps < 1 || o->reps > 64 || o->queues < 1 ||
        o->events < 1 || o->rate < 1 || o->window < 1 || o->subs < o->queues ||
        o->fetch_wait_ms < 0 || !o->system || o->pub_conns < 1 ||
        o->pub_batch < 1 || o->workers < 1 || o->workers > 256) {
        fputs(USAGE, stderr);
        exit(2);
    }
}

static const char *verdict(int pass) { return pass ? "PASS" : "FAIL"; }

static double per_stream(long from, long to, long n)
{
    return n > 0 ? (double)(to - from) * 1024.0 / (double)n : 0.0;
}

/* The broadcast time at TARGET_CONNS: the line through both sizes, never
 * below a proportional scaling of the N figure. */
static double at_target(const struct result *r, long conns)
{
    double slope = (r->full.all_ms - r->half.all_ms) / (double)(conns / 2);
    double at = r->full.all_ms + slope * (double)(TARGET_CONNS - conns);
    double lin = r->full.all_ms * (double)TARGET_CONNS / (double)conns;
    return at < lin ? lin : at; /* never credit a flat-looking curve */
}

static void print_outbox(const struct opts *o, const struct result *r, double hper)
{
    double per = per_stream(r->rss0, r->rss_full, o->conns);
    double per_marg = per_stream(r->rss_half, r->rss_full, o->conns / 2);
    double at = at_target(r, o->conns);
    const struct latency *lat = &r->lat;
    int mem_ok = per <= TARGET_BYTES_PER_CONN;
    int bc_ok = at <= TARGET_BROADCAST_MS && !r->full.lost && !r->half.lost;
    int lat_ok = lat->p99 <= TARGET_P99_MS && !lat->late;
    printf("memory     %ld streams, each with its first rank: outbox-sse VmRSS "
           "%.1f -> %.1f MiB\n", o->conns, r->rss0 / 1024.0, r->rss_full / 1024.0);
    printf("           %.0f B per stream (second half alone: %.0f B); bare "
           "libevent holder %.0f B; ratio %.2f\n", per, per_marg, hper,
           hper > 0 ? per / hper : 0.0);
    printf("           at 100,000 streams: %.0f MiB; target <= 4 KB per "
           "stream: %s\n", per * TARGET_CONNS / 1048576.0, verdict(mem_ok));
    printf("broadcast  one change moving every rank in one queue, median of %d:\n",
           o->reps);
    const struct bcast *bb[] = {&r->half, &r->full};
    for (int i = 0; i < 2; i++)
        printf("           %6zu streams: all delivered %.1f ms (half of them "
               "%.1f ms); Redis question alone %.1f ms (ratio %.1f); ZRANGE "
               "of the queue %.1f ms; Kafka hop %.1f ms\n", bb[i]->n,
               bb[i]->all_ms, bb[i]->p50_ms, bb[i]->redis_ms,
               bb[i]->redis_ms > 0 ? bb[i]->all_ms / bb[i]->redis_ms : 0.0,
               bb[i]->zrange_ms, bb[i]->hop_ms);
    printf("           at 100,000 streams (extrapolated, at least linear): "
           "%.0f ms; target <= 1 s: %s%s\n", at, verdict(bc_ok),
           r->full.lost || r->half.lost ? " (some clients missed a rank)" : "");
    if (o->skip_latency)
        return;
    printf("latency    %ld streams over %d queues, %zu events at %d/s, "
           "%zu deliveries:\n", o->subs, o->queues, lat->events, o->rate,
           lat->samples);
    printf("           produce -> first byte at a waiting client: p50 %.1f "
           "ms, p99 %.1f ms, max %.1f ms (last client of a queue: p99 "
           "%.1f ms)\n", lat->p50, lat->p99, lat->max, lat->last_p99);
    printf("           plain librdkafka consumer, same records: p50 %.1f "
           "ms, p99 %.1f ms, max %.1f ms; ratio p99 %.2f, outbox-sse's own "
           "share at p50 %.1f ms\n", lat->k_p50, lat->k_p99, lat->k_max,
           lat->k_p99 > 0 ? lat->p99 / lat->k_p99 : 0.0, lat->p50 - lat->k_p50);
    if (o->subs >= 10000)
        printf("           target p99 <= 20 ms with 10,000 subscribers: %s%s\n",
               verdict(lat_ok), lat->late ? " (events not delivered in 5 s)" : "");
    else
        printf("           target p99 <= 20 ms with 10,000 subscribers: not "
               "judged (%ld subscribers here)\n", o->subs);
}

/* The rank waves and latency of a system fed by a publisher (nchan,
 * Pushpin): the same lines for both. */
static void print_published(const struct opts *o, const struct result *r)
{
    const struct latency *lat = &r->lat;
    printf("broadcast  one change moving every rank in one queue, median of %d:\n",
           o->reps);
    const struct bcast *bb[] = {&r->half, &r->full};
    for (int i = 0; i < 2; i++)
        printf("           %6zu streams: all delivered %.1f ms (half of them "
               "%.1f ms); publisher told -> all POSTs answered %.1f ms\n",
               bb[i]->n, bb[i]->all_ms, bb[i]->p50_ms, bb[i]->hop_ms);
    printf("           at 100,000 streams (extrapolated, at least linear): "
           "%.0f ms%s\n", at_target(r, o->conns),
           r->full.lost || r->half.lost ? " (some clients missed a rank)" : "");
    if (!o->skip_latency) {
        printf("latency    %ld streams over %d queues, %zu events at %d/s, "
               "%zu deliveries:\n", o->subs, o->queues, lat->events, o->rate,
               lat->samples);
        printf("           publisher told -> first byte at a waiting client: "
               "p50 %.1f ms, p99 %.1f ms, max %.1f ms (last client of a "
               "queue: p99 %.1f ms)%s\n", lat->p50, lat->p99, lat->max,
               lat->last_p99, lat->late ? "; some events not delivered in 5 s" : "");
        printf("           publisher told -> all POSTs answered: p50 %.1f ms, "
               "p99 %.1f ms\n", lat->k_p50, lat->k_p99);
    }
    if (r->pub_errors)
        printf("           publisher errors (non-2xx or closed): %ld\n",
               r->pub_errors);
}

static void print_nchan(const struct opts *o, const struct result *r, double hper)
{
    double per = per_stream(r->rss0, r->rss_full, o->conns);
    double chan = per_stream(r->rss0, r->rss_chan, o->conns);
    double subs = per_stream(r->rss_chan, r->rss_full, o->conns);
    printf("nchan      %s, 1 worker process, one channel per user, a "
           "publisher thread (ZRANGE + %d pipelined keep-alive connections)\n",
           r->version, o->pub_conns);
    printf("memory     %ld streams, each with its first rank: nginx worker "
           "VmRSS %.1f -> %.1f MiB (of which shared memory %.1f -> %.1f MiB)\n",
           o->conns, r->rss0 / 1024.0, r->rss_full / 1024.0, r->shm0 / 1024.0,
           r->shm_full / 1024.0);
    printf("           %.0f B per stream: %.0f B per channel with its one "
           "message, %.0f B per subscriber; bare libevent holder %.0f B\n",
           per, chan, subs, hper);
    printf("           nchan shared memory zone at %ld streams: %lld KiB used "
           "(%lld channels)\n", o->conns, r->zone_kb, r->channels);
    print_published(o, r);
}

static void print_pushpin(const struct opts *o, const struct result *r,
                          double hper)
{
    double per = per_stream(r->rss0, r->rss_full, o->conns);
    double marg = per_stream(r->rss_half, r->rss_full, o->conns / 2);
    printf("pushpin    %s (condure, zurl, pushpin-proxy, pushpin-handler), "
           "a GRIP origin thread, one channel per user, a publisher thread "
           "(ZRANGE + POST /publish/, %d items per POST, a connection per "
           "POST); its streams opened %d at a time\n", r->version,
           o->pub_batch, o->window < PUSHPIN_WINDOW ? o->window : PUSHPIN_WINDOW);
    printf("memory     %ld streams, each with its first rank: VmRSS of all "
           "pushpin processes %.1f -> %.1f MiB\n", o->conns, r->rss0 / 1024.0,
           r->rss_full / 1024.0);
    printf("           before, MiB: %s\n", r->parts0);
    printf("           at N, MiB:   %s\n", r->parts_full);
    printf("           %.0f B per stream (second half alone: %.0f B); bare "
           "libevent holder %.0f B\n", per, marg, hper);
    print_published(o, r);
    printf("           streams pushpin ended or stalled while opening, and "
           "opened again: %zu\n", r->reopens);
}

/* One row: outbox-sse's figure a, then each other system's figure and its
 * ratio to a. */
static void row(const char *what, double a, const double *b, int nb,
                const char *unit)
{
    printf("| %-48s | %10.1f %-2s |", what, a, unit);
    for (int i = 0; i < nb; i++) {
        char ra[32] = "-";
        if (a > 0 && b[i] > 0)
            snprintf(ra, sizeof ra, "%.2f", b[i] / a);
        printf(" %10.1f %-2s | %6s |", b[i], unit, ra);
    }
    printf("\n");
}

/* outbox-sse (x) against the others that ran (nchan, pushpin). */
static void print_table(const struct opts *o, const struct result *x,
                        const struct result *const *y, const char *const *yn,
                        int ny, double hper)
{
    char w[96];
    double v[2], h[2] = {hper, hper};
    printf("\n== side by side: outbox-sse vs");
    for (int i = 0; i < ny; i++)
        printf("%s %s", i ? " and" : "", yn[i]);
    printf(", same machine, same N and workload (ratio = system / outbox-sse)\n");
    printf("| %-48s | %13s |", "metric", "outbox-sse");
    for (int i = 0; i < ny; i++)
        printf(" %13s | %6s |", yn[i], "ratio");
    printf("\n|--------------------------------------------------|---------------|");
    for (int i = 0; i < ny; i++)
        printf("---------------|--------|");
    printf("\n");
#define ROW(label, expr, unit)                                                 \
    do {                                                                      \
        for (int i_ = 0; i_ < ny; i_++) {                                     \
            const struct result *r_ = y[i_];                                  \
            v[i_] = (expr);                                                   \
        }                                                                     \
        const struct result *r_ = x;                                          \
        row(label, (expr), v, ny, unit);                                      \
    } while (0)
    snprintf(w, sizeof w, "server RSS per stream, %ld streams", o->conns);
    ROW(w, per_stream(r_->rss0, r_->rss_full, o->conns), "B");
    row("  (bare libevent holder, same clients)", hper, h, ny, "B");
    snprintf(w, sizeof w, "rank wave, %zu streams: last client", x->full.n);
    ROW(w, r_->full.all_ms, "ms");
    snprintf(w, sizeof w, "rank wave, %zu streams: half of them", x->full.n);
    ROW(w, r_->full.p50_ms, "ms");
    snprintf(w, sizeof w, "rank wave, %zu streams: last client", x->half.n);
    ROW(w, r_->half.all_ms, "ms");
    ROW("rank wave at 100,000 (extrapolated)", at_target(r_, o->conns), "ms");
    if (!o->skip_latency) {
        snprintf(w, sizeof w, "latency p50, change known -> client, %ld subs",
                 o->subs);
        ROW(w, r_->lat.known_p50, "ms");
        snprintf(w, sizeof w, "latency p99, change known -> client, %ld subs",
                 o->subs);
        ROW(w, r_->lat.known_p99, "ms");
        ROW("latency max, change known -> client", r_->lat.known_max, "ms");
        printf("| %-48s | %10.1f ms |", "latency p99, produce -> client (incl. Kafka)",
               x->lat.p99);
        for (int i = 0; i < ny; i++)
            printf(" %13s | %6s |", "n/a", "");
        printf("\n");
    }
#undef ROW
    printf("notes: outbox-sse 'change known' = produce -> client less the same "
           "record's Kafka hop to a plain consumer; the others' = publisher "
           "told -> client, which includes the publisher's ZRANGE and POSTs.\n");
    for (int i = 0; i < ny; i++) {
        if (!strcmp(yn[i], "nchan"))
            printf("       nchan = %s, ONE nginx worker (one core's loop, like "
                   "outbox-sse); its RSS includes the shared-memory pages it "
                   "touched (%.1f MiB at the end; zone: %lld KiB used for %lld "
                   "channels).\n", y[i]->version, y[i]->shm_full / 1024.0,
                   y[i]->zone_kb, y[i]->channels);
        else
            printf("       pushpin = %s, its RSS is the sum over its runner, "
                   "condure, zurl, pushpin-proxy and pushpin-handler (%s MiB "
                   "at N); the GRIP origin thread is not in it.\n",
                   y[i]->version, y[i]->parts_full);
    }
}

int main(int argc, char **argv)
{
    struct opts o;
    struct rlimit rl;
    parse(argc, argv, &o);
    g_lat_queues = o.queues;
    if (!getenv("OUTBOX_BUILD_DIR"))
        setenv("OUTBOX_BUILD_DIR", OUTBOX_BENCH_BUILD_DIR, 1);
    getrlimit(RLIMIT_NOFILE, &rl);
    long hard = rl.rlim_max == RLIM_INFINITY ? 1 << 20 : (long)rl.rlim_max;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    /* The server and this program each hold one socket per stream, plus
     * a few hundred of their own (Kafka, Redis, logs, the publisher). */
    long most = hard - 500;
    if (o.conns < 0)
        o.conns = TARGET_CONNS < most ? TARGET_CONNS : most;
    if (o.conns > most || o.subs > most) {
        fprintf(stderr, "sse-bench: RLIMIT_NOFILE's hard limit (%ld) allows "
                "at most %ld streams\n", hard, most);
        return 2;
    }
    o.conns &= ~1L;

    double load0 = loadavg();
    int holder_port;
    pid_t holder = holder_start(&holder_port); /* before any thread starts */
    struct fleet f;
    struct result rx = {0}, ry = {0}, rz = {0};
    long h0 = -1, h1 = -1;
    int rc = 1;
    if (holder < 0 || fleet_init(&f, (size_t)(o.conns > o.subs ? o.conns : o.subs)) < 0)
        return 1;

    fprintf(stderr, "== baseline: a bare libevent server holding %ld sockets\n",
            o.conns);
    f.port = holder_port;
    h0 = rss_kb(holder);
    if (fleet_open(&f, (size_t)o.conns, who_holder, o.window) < 0)
        goto out;
    h1 = rss_kb(holder);
    fleet_close(&f);
    kill(holder, SIGKILL);
    waitpid(holder, NULL, 0);

    if ((o.system & SYS_OUTBOX) && run_outbox(&o, &f, &rx) < 0)
        goto out;
    if ((o.system & SYS_NCHAN) && run_nchan(&o, &f, &ry) < 0)
        goto out;
    if ((o.system & SYS_PUSHPIN) && run_pushpin(&o, &f, &rz) < 0)
        goto out;

    /* ---- the summary ---- */
    double hper = per_stream(h0, h1, o.conns);
    char date[64];
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M", localtime(&now));
    printf("== %s speed (issue 4%s%s%s), %s, %ld cores, RLIMIT_NOFILE hard "
           "limit %ld\n", o.system & SYS_OUTBOX ? "outbox-sse"
           : o.system & SYS_NCHAN ? "nchan" : "pushpin",
           o.system & (SYS_NCHAN | SYS_PUSHPIN) ? ", issue 6: side by side with" : "",
           o.system & SYS_NCHAN ? " nchan" : "",
           o.system & SYS_PUSHPIN ? (o.system & SYS_NCHAN ? " and pushpin" : " pushpin") : "",
           date, sysconf(_SC_NPROCESSORS_ONLN), hard);
    if (o.conns < TARGET_CONNS)
        printf("   (%ld streams: the 100,000 figures are extrapolated)\n", o.conns);
    if (rx.ran)
        print_outbox(&o, &rx, hper);
    if (ry.ran)
        print_nchan(&o, &ry, hper);
    if (rz.ran)
        print_pushpin(&o, &rz, hper);
    printf("machine    load average %.1f at the start, %.1f at the end (%ld "
           "cores; above that, other work shared them)\n", load0, loadavg(),
           sysconf(_SC_NPROCESSORS_ONLN));
    printf("settings   fetch.wait.max.ms %d (daemon and baseline consumer), "
           "producer linger.ms 1, coalesce_interval 100ms, refresh_interval 1h, "
           "HMAC tokens, "
           "%d connecting at once\n", o.fetch_wait_ms, o.window);
    const struct result *others[2];
    const char *names[2];
    int no = 0;
    if (ry.ran) {
        others[no] = &ry;
        names[no++] = "nchan";
    }
    if (rz.ran) {
        others[no] = &rz;
        names[no++] = "pushpin";
    }
    if (rx.ran && no)
        print_table(&o, &rx, others, names, no, hper);
    rc = 0;
out:
    fleet_free(&f);
    return rc;
}
