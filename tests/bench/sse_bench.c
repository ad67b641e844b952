/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outbox-sse-bench: issue 4's and issue 13's speed targets for outbox-sse,
 * measured next to baselines taken in the same run (see tests/bench/SSE.md).
 *
 *   memory     N streams held (default 100,000), each with its first
 *              `rank`: the growth of the server's memory per stream, VmRSS
 *              and Pss summed over its process tree (the supervisor and
 *              its workers), against trivial libevent servers (forked
 *              children of this program, as many as the workers, sharing
 *              a port by SO_REUSEPORT) that hold as many sockets and write
 *              each the same first event;
 *   broadcast  N users waiting in ONE queue, all connected; one user joins
 *              at the head (every rank moves) and one change event goes to
 *              Kafka: time until every client has its new rank, from the
 *              produce and from the record's consumption (the same
 *              record's hop to a plain consumer subtracted), against the
 *              daemon's Redis question alone (pipelined ZCARD, ZCARD, N x
 *              ZRANK asked by this program) and a ZRANGE of the whole
 *              queue; measured at N/2 and N;
 *   latency    --subs streams (default N, at least 10,000) over 100
 *              queues; paced change events, one queue at a time, each
 *              moving the queue's ranks: produce -> first byte of the
 *              resulting event at each waiting client, against the produce
 *              -> consume latency of a plain librdkafka consumer reading
 *              the very same records.
 *
 * The main thread drives the world (Redis, producing, the publishers of
 * nchan and pushpin); a second only polls the baseline consumer. The
 * clients live in forked processes (sse_fleet.h), since RLIMIT_NOFILE caps
 * every process: each holds at most 15,000 streams (or 3/4 of the hard
 * limit), outbox-sse gets as many http.workers and nginx as many worker
 * processes. Nothing at N is extrapolated; for N below 100,000 the summary
 * adds an extrapolation to 100,000, marked as one.
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
#include "tests/bench/sse_fleet.h"
#include "tests/bench/sse_nchan.h"
#include "tests/bench/sse_ptree.h"
#include "tests/bench/sse_pushpin.h"
#include "tests/harness/th.h"
#include "tests/integration/sse_env.h"

#define TOPIC "outbox.event.queue"
#define SECRET "bench-secret-0123456789abcdef0123"
#define TARGET_CONNS 100000
#define TARGET_BYTES_PER_CONN 1500.0 /* issue 13 (issue 4 had 4 KB) */
#define SHARE_MAX 15000 /* streams per process, at most */
#define TARGET_BROADCAST_MS 1000.0
#define TARGET_P99_MS 20.0

static const char USAGE[] =
    "usage: outbox-sse-bench [options]\n"
    "  --conns N         streams for memory and broadcast (default: 100000,\n"
    "                    or what RLIMIT_NOFILE's hard limit allows)\n"
    "  --reps N          broadcasts per size (default 5; the median counts)\n"
    "  --subs N          latency: subscribers (default: as --conns, at least\n"
    "                    10000)\n"
    "  --queues N        latency: queues they are spread over (default 100)\n"
    "  --events N        latency: change events (default 400)\n"
    "  --rate N          latency: events per second (default 20)\n"
    "  --fetch-wait-ms N fetch.wait.max.ms of outbox-sse and the baseline\n"
    "                    consumer (default 5; see SSE.md: the mock holds an\n"
    "                    empty fetch for that long even when data arrives)\n"
    "  --window N        connections opening at once, per client process\n"
    "                    (default 100)\n"
    "  --procs N         client processes (default: enough that each holds\n"
    "                    at most 15,000 streams or 3/4 of RLIMIT_NOFILE's\n"
    "                    hard limit, and at least 2)\n"
    "  --workers N       outbox-sse's http.workers (default: enough that\n"
    "                    each holds at most that share; 1 up to it). Left\n"
    "                    out of the configuration when the build does not\n"
    "                    know the key and N is 1\n"
    "  --nchan-workers N nginx worker_processes for nchan (default: as\n"
    "                    --workers); the bare holder runs as many as\n"
    "                    --workers\n"
    "  --perf PREFIX     perf record -g the daemon during the full-size\n"
    "                    broadcasts (PREFIX.broadcast.data) and the latency\n"
    "                    phase (PREFIX.latency.data)\n"
    "  --perf-all        with --perf: also perf record -a -g (every process,\n"
    "                    PREFIX.all.broadcast.data, PREFIX.all.latency.data)\n"
    "  --skip-latency    memory and broadcast only\n"
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
    int system, pub_conns, pub_batch;
    int workers, nchan_workers, procs; /* -1 until chosen */
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

/* One holder: its own SO_REUSEPORT listener on sa, one byte on `ready`
 * once it listens, then its loop until killed. */
static void holder_child(const struct sockaddr_in *sa, int ready)
{
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    struct event_base *base = event_base_new();
    if (fd < 0 || !base ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 ||
        bind(fd, (const struct sockaddr *)sa, sizeof *sa) < 0 || listen(fd, 4096) < 0 ||
        !evconnlistener_new(base, holder_accept, NULL, LEV_OPT_CLOSE_ON_FREE, -1, fd) ||
        write(ready, "r", 1) != 1)
        _exit(1);
    event_base_dispatch(base);
    _exit(0);
}

/* Forks `procs` holders sharing one port through SO_REUSEPORT (the kernel
 * spreads the connections over them, as over outbox-sse's workers), their
 * pids into pids[]; the port, or -1. */
static int holder_start(int procs, pid_t *pids)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(0x7f000001u)};
    socklen_t sl = sizeof sa;
    int one = 1, pfd[2], fd = socket(AF_INET, SOCK_STREAM, 0);
    /* bound and never listening: it keeps the port until the holders have
     * theirs, and takes no connection */
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) < 0 || pipe(pfd) < 0)
        return -1;
    for (int p = 0; p < procs; p++) {
        if ((pids[p] = fork()) < 0)
            return -1;
        if (pids[p] == 0) {
            close(fd);
            close(pfd[0]);
            holder_child(&sa, pfd[1]);
        }
    }
    close(pfd[1]);
    char c;
    int up = 0;
    while (up < procs && read(pfd[0], &c, 1) == 1)
        up++;
    close(pfd[0]);
    close(fd);
    return up == procs ? ntohs(sa.sin_port) : -1;
}

static long pids_rss_kb(const pid_t *pids, int n)
{
    long kb = 0;
    for (int i = 0; i < n; i++)
        kb += rss_kb(pids[i]) > 0 ? rss_kb(pids[i]) : 0;
    return kb;
}

/* ---- the servers -------------------------------------------------------- */

/* tests/integration's environment, with outbox-sse restarted on this
 * benchmark's configuration (limits, fetch wait, no periodic refresh,
 * workers). With `workers` < 0 the key http.workers is left out (a build
 * that does not know it: one process). */
static int write_config(struct sse_env *e, const struct opts *o, int workers)
{
    FILE *fp = fopen(e->config, "w");
    if (!fp)
        return -1;
    fprintf(fp,
            "name: sse-bench\n"
            "kafka:\n  brokers: %s\n  topics: [" TOPIC "]\n"
            "  properties:\n    fetch.wait.max.ms: \"%d\"\n"
            "redis:\n  port: %d\n"
            "http:\n  listen: 127.0.0.1:%d\n  max_connections: 200000\n",
            e->kafka.bootstrap, o->fetch_wait_ms, e->redis.port, e->http_port);
    if (workers >= 0)
        fprintf(fp, "  workers: %d\n", workers);
    fprintf(fp,
            "auth:\n  secret: " SECRET "\n"
            "queues:\n  refresh_interval: 1h\n"
            "metrics:\n  listen: 127.0.0.1:%d\n",
            e->metrics_port);
    return fclose(fp);
}

/* 0 when this build's outbox-sse accepts the configuration
 * (outbox-sse -c FILE --check-config, its output dropped). */
static int config_ok(const struct sse_env *e)
{
    char bin[512], cmd[1400];
    th_build_path("sse/outbox-sse", bin, sizeof bin);
    snprintf(cmd, sizeof cmd, "'%s' -c '%s' --check-config >/dev/null 2>&1",
             bin, e->config);
    return system(cmd) == 0 ? 0 : -1;
}

/* Set when outbox-sse has no http.workers and more than one was asked:
 * main's exit status is then 3 (tests/bench/sse_compare.sh falls back to
 * one process's N). */
static int g_no_workers;

/* The configuration with http.workers when this build knows the key;
 * without it (one process) when it does not and one worker was asked. */
static int write_config_checked(struct sse_env *e, const struct opts *o)
{
    if (write_config(e, o, o->workers) < 0)
        return -1;
    if (config_ok(e) == 0)
        return 0;
    if (write_config(e, o, -1) < 0 || config_ok(e) < 0) {
        fprintf(stderr, "sse-bench: outbox-sse refuses the configuration %s\n",
                e->config);
        return -1;
    }
    if (o->workers == 1) {
        fprintf(stderr, "sse-bench: this outbox-sse has no http.workers: one "
                "process\n");
        return 0;
    }
    fprintf(stderr, "sse-bench: this outbox-sse has no http.workers, and %d "
            "workers are needed (--workers, or fewer --conns: one process "
            "holds under RLIMIT_NOFILE's hard limit)\n", o->workers);
    g_no_workers = 1;
    return -1;
}

static int env_start(struct sse_env *e, const struct opts *o)
{
    if (sse_env_start(e, NULL, NULL) < 0 || th_stop(&e->sse, 15000, NULL) < 0 ||
        write_config_checked(e, o) < 0)
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

/* target 0: every process (--perf-all), into PREFIX.all.WHAT.data;
 * otherwise the target and its descendants (perf record -p P1,P2,...) */
static pid_t perf_one(const char *prefix, const char *what, pid_t target)
{
    char out[512], p[2048] = "";
    pid_t tree[128];
    snprintf(out, sizeof out, "%s.%s%s.data", prefix, target ? "" : "all.",
             what);
    /* the server's whole tree (the supervisor and its workers) */
    int nt = target ? ptree_pids(target, tree, 128) : 0;
    for (int i = 0; i < nt; i++) {
        size_t l = strlen(p);
        snprintf(p + l, sizeof p - l, "%s%d", i ? "," : "", (int)tree[i]);
    }
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
    sf_who_fn who;
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
    struct sfleet *f; /* the clients */
    enum sf_mode mode;
    int port;       /* where the clients connect */
    size_t reopens; /* pushpin: streams opened again */
};

/* Sleeps ms milliseconds: the clients' processes read on meanwhile. */
static void pause_ms(int ms_) { usleep((useconds_t)ms_ * 1000); }

/* Opens the system's clients up to `to` (all of them: an error is a
 * failure, as before the fleet had processes). */
static int sys_open(struct sys *s, size_t to, sf_who_fn who, int window)
{
    size_t reopens = 0;
    int rc = sfleet_open(s->f, to, who, s->port, s->mode, window, &reopens);
    s->reopens += reopens;
    return rc;
}

/* The server's memory: the sum over its process tree (outbox-sse's
 * supervisor and workers, nginx's master and workers, pushpin's runner and
 * services), found from the root's PID. */
static struct ptree_mem sys_mem(pid_t root)
{
    struct ptree_mem m;
    ptree_mem(root, &m);
    return m;
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
    double from_consumed_ms; /* all_ms less the hop, per wave, the median */
    int lost; /* broadcasts where a client missed its rank */
    size_t left_out; /* clients that missed one and were not waited for after */
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

/* Arms `mod`/`rem` clients (sfleet_arm), triggers the change of queue,
 * collects: the latencies from the trigger into lat (cap), their number in
 * *got, the armed number returned (-1 on failure); *seq the trigger's;
 * *left_out the clients not armed, since they missed a rank before. */
static long wave(struct sys *s, const char *queue, size_t mod, size_t rem,
                 int64_t wait_ns, int64_t *lat, size_t cap, size_t *got,
                 long *seq, size_t *left_out)
{
    long want = sfleet_arm(s->f, mod, rem, now_ns() + wait_ns, left_out);
    int64_t t0;
    if (want < 0 || join_head(s->rc, queue) < 0 ||
        (*seq = trigger(s, queue, &t0)) < 0 ||
        sfleet_collect(s->f, lat, cap, got) < 0)
        return -1;
    for (size_t i = 0; i < *got; i++)
        lat[i] -= t0;
    return want;
}

static int broadcast(struct sys *s, int reps, struct bcast *out)
{
    double all[64], p50[64], red[64], zr[64], hop[64], fc[64];
    size_t n = sfleet_n(s->f);
    int64_t *lat = malloc((n + 1) * sizeof *lat);
    struct question q;
    if (!lat || reps > 64)
        return -1;
    memset(out, 0, sizeof *out);
    out->n = n;
    for (int r = 0; r < reps; r++) {
        int64_t t = now_ns();
        if (redis_pipeline(s->rc, 2 + n, cmd_question, &q) < 0)
            return -1;
        red[r] = ms(now_ns() - t);
        t = now_ns();
        if (redis_pipeline(s->rc, 1, cmd_zrange, NULL) < 0)
            return -1;
        zr[r] = ms(now_ns() - t);

        size_t k;
        long seq;
        /* the change happens after every process has armed its clients */
        long want = wave(s, "bq", 0, 0, 30 * (int64_t)1000000000, lat, n, &k,
                         &seq, &out->left_out);
        if (want < 0)
            return -1;
        if (k < (size_t)want || out->left_out) {
            out->lost++;
            fprintf(stderr, "sse-bench: broadcast %d at %zu: only %zu got the "
                    "new rank (%zu left out: missed one before)\n", r, n, k,
                    out->left_out);
        }
        all[r] = ms(quantile(lat, k, 1.0));
        p50[r] = ms(quantile(lat, k, 0.5));
        pause_ms(300); /* past the coalescing interval */
        hop[r] = ms(hop_ns(s, seq));
        /* nchan, pushpin: told is when the change is known */
        fc[r] = s->pub ? all[r] : all[r] - hop[r];
        fprintf(stderr, "  broadcast %d/%d to %zu: all %.1f ms (half %.1f ms), "
                "redis question %.1f ms, %s %.1f ms\n", r + 1, reps, n,
                all[r], p50[r], red[r], s->pub ? "publisher" : "kafka hop",
                hop[r]);
    }
    out->all_ms = median(all, reps);
    out->p50_ms = median(p50, reps);
    out->redis_ms = median(red, reps);
    out->zrange_ms = median(zr, reps);
    out->hop_ms = median(hop, reps);
    out->from_consumed_ms = median(fc, reps);
    free(lat);
    return 0;
}

struct latency {
    size_t samples, events, late;
    size_t left_out; /* clients that missed a rank, not waited for after */
    double p50, p99, max, last_p99, k_p50, k_p99, k_max;
    double known_p50, known_p99, known_max; /* change known -> client */
};

static int latency(struct sys *sy, const struct opts *o, struct latency *out)
{
    size_t n = sfleet_n(sy->f), per = n / (size_t)o->queues + 1;
    size_t cap = (size_t)o->events * per;
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
        if (now_ns() < due)
            usleep((useconds_t)((due - now_ns()) / 1000));
        size_t q = (size_t)k % (size_t)o->queues, got, left;
        char queue[32];
        snprintf(queue, sizeof queue, "lq%zu", q);
        int64_t *v = s + out->samples;
        long want = wave(sy, queue, (size_t)o->queues, q, 5 * (int64_t)1000000000,
                         v, cap - out->samples, &got, &seqs[k], &left);
        if (want < 0)
            return -1;
        if (got < (size_t)want)
            out->late++;
        out->left_out += left;
        int64_t worst = 0;
        for (size_t i = 0; i < got; i++) {
            sseq[out->samples + i] = k;
            worst = v[i] > worst ? v[i] : worst;
        }
        out->samples += got;
        last[out->events++] = worst;
    }
    pause_ms(500); /* the baseline consumer's last records */
    size_t nk = 0;
    for (int k = 0; k < o->events; k++)
        kl[k] = hop_ns(sy, seqs[k]);
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

/* Change events until the daemon and the baseline consumer see them: both
 * read from the end, so anything earlier would be missed. Every worker
 * reads Kafka itself and /metrics adds their counts up, so one event must
 * raise sse_changes_total by the number of workers: then all are reading. */
static int feed_ready(struct sse_env *e, struct kbase *kb, int workers)
{
    for (int i = 0; i < 150; i++) {
        int64_t t0;
        long long before = sse_env_metric(e, "sse_changes_total");
        publish(e, "warmup", &t0);
        pause_ms(300);
        long long after = sse_env_metric(e, "sse_changes_total");
        if (before >= 0 && after - before >= workers && atomic_load(&kb->seen) > 0)
            return 0;
    }
    fprintf(stderr, "sse-bench: the change events do not arrive at all %d "
            "workers\n", workers);
    return -1;
}

/* ---- one system's run --------------------------------------------------- */

struct result {
    int ran, failed, pushpin;
    /* KiB, summed over the server's process tree: VmRSS, and Pss (shared
     * pages split between the processes that map them) */
    long rss0, rss_chan, rss_half, rss_full;
    long pss0, pss_full;
    int procs0, procs_full;      /* the tree's processes */
    long shm0, shm_full;         /* nchan: RssShmem, summed over the tree */
    long long zone_kb, channels; /* nchan: stub status at N */
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

/* RssShmem summed over the tree of root (nchan's shared memory zone is
 * mapped by every worker). */
static long tree_shm_kb(pid_t root)
{
    pid_t pids[256];
    long kb = 0;
    int n = ptree_pids(root, pids, 256);
    for (int i = 0; i < n; i++) {
        long v = th_proc_status_kb(pids[i], "RssShmem");
        kb += v > 0 ? v : 0;
    }
    return kb;
}

/* Memory, broadcast and latency phases, common to all systems. `root` is
 * the server process whose tree's memory counts. For nchan, the publisher
 * first publishes every user's first rank (the channels), before any
 * subscriber comes. */
static int phases(struct sys *s, const struct opts *o, pid_t root,
                  struct result *r)
{
    fprintf(stderr, "== %s: memory and broadcast: %ld streams in one queue, "
            "clients in %d processes\n", s->name, o->conns, sfleet_procs(s->f));
    struct ptree_mem m = sys_mem(root);
    r->rss0 = r->rss_chan = m.rss_kb;
    r->pss0 = m.pss_kb;
    r->procs0 = m.procs;
    if (s->nchan) {
        int64_t t0, v;
        long w = trigger(s, "bq", &t0);
        if (w < 0 || npub_wait(s->pub, w, now_ns() + 60 * (int64_t)1000000000, &v) < 0)
            return -1;
        pause_ms(300);
        r->rss_chan = sys_mem(root).rss_kb;
    }
    if (sys_open(s, (size_t)o->conns / 2, who_broadcast, o->window) < 0)
        return -1;
    pause_ms(500);
    r->rss_half = sys_mem(root).rss_kb;
    if (broadcast(s, o->reps, &r->half) < 0 ||
        sys_open(s, (size_t)o->conns, who_broadcast, o->window) < 0)
        return -1;
    pause_ms(500);
    m = sys_mem(root);
    r->rss_full = m.rss_kb;
    r->pss_full = m.pss_kb;
    r->procs_full = m.procs;
    if (s->pushpin)
        pushpin_rss_kb(s->pp, r->parts_full, sizeof r->parts_full);
    if (s->nchan) {
        r->shm_full = tree_shm_kb(root);
        r->zone_kb = nchan_status(s->srv, "shared memory used");
        r->channels = nchan_status(s->srv, "channels");
    }
    pid_t perf[2];
    char pn[64];
    snprintf(pn, sizeof pn, "%s%sbroadcast", s->pub ? s->name : "",
             s->pub ? "." : "");
    perf_start(o, pn, root, perf);
    int rc = broadcast(s, o->reps, &r->full);
    perf_stop(perf);
    if (rc < 0 || sfleet_close(s->f) < 0)
        return -1;
    pause_ms(1000);
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
    if (sys_open(s, (size_t)o->subs, who_latency, o->window) < 0)
        return -1;
    pause_ms(500);
    snprintf(pn, sizeof pn, "%s%slatency", s->pub ? s->name : "",
             s->pub ? "." : "");
    perf_start(o, pn, root, perf);
    rc = latency(s, o, &r->lat);
    perf_stop(perf);
    if (sfleet_close(s->f) < 0)
        rc = -1;
    pause_ms(500);
    return rc;
}

static int run_outbox(const struct opts *o, struct sfleet *f, struct result *r)
{
    struct sse_env e;
    struct kbase kb;
    struct sys s = {.name = "outbox-sse", .e = &e, .kb = &kb, .f = f,
                    .mode = SF_OUTBOX};
    int rc = -1;
    memset(&kb, 0, sizeof kb);
    memset(&e, 0, sizeof e);
    fprintf(stderr, "== outbox-sse: servers (%d worker%s)\n", o->workers,
            o->workers == 1 ? "" : "s");
    if (env_start(&e, o) < 0 ||
        kbase_start(&kb, e.kafka.bootstrap, o->fetch_wait_ms,
                    (size_t)(o->events + 64 * 4 + 10000)) < 0)
        goto out;
    s.rc = e.rc;
    if (load_queues(e.rc, o) < 0)
        goto out;
    s.port = e.http_port;
    if (feed_ready(&e, &kb, o->workers) < 0 || phases(&s, o, e.sse.pid, r) < 0)
        goto out;
    snprintf(r->version, sizeof r->version, "this tree, %d worker%s",
             o->workers, o->workers == 1 ? " (no supervisor)" : "s");
    r->reopens = s.reopens;
    r->ran = 1;
    rc = 0;
out:
    if (rc)
        fprintf(stderr, "sse-bench: outbox-sse run failed; logs in %s\n",
                e.dir[0] ? e.dir : "?");
    sfleet_close(f);
    kbase_stop(&kb);
    if (e.dir[0])
        sse_env_stop(&e);
    return rc;
}

static int run_nchan(const struct opts *o, struct sfleet *f, struct result *r)
{
    struct th_redis redis;
    struct nchan_srv n;
    struct sys s = {.nchan = 1, .name = "nchan", .srv = &n, .f = f,
                    .mode = SF_NCHAN};
    int rc = -1;
    memset(&redis, 0, sizeof redis);
    memset(&n, 0, sizeof n);
    fprintf(stderr, "== nchan: servers (%d worker%s)\n", o->nchan_workers,
            o->nchan_workers == 1 ? "" : "s");
    if (th_redis_start(&redis) < 0 ||
        nchan_start(&n, (o->conns > o->subs ? o->conns : o->subs) + o->pub_conns,
                    o->nchan_workers) < 0)
        goto out;
    s.rc = redisConnect("127.0.0.1", redis.port);
    if (!s.rc || s.rc->err || load_queues(s.rc, o) < 0 ||
        !(s.pub = npub_start(n.port, redis.port, o->pub_conns)))
        goto out;
    nchan_versions(&n, r->version, sizeof r->version);
    s.port = n.port;
    pause_ms(300);
    r->shm0 = tree_shm_kb(n.proc.pid);
    if (phases(&s, o, n.proc.pid, r) < 0)
        goto out;
    r->pub_errors = npub_errors(s.pub);
    r->ran = 1;
    rc = 0;
out:
    if (rc && n.dir[0]) { /* the directory goes with the run */
        char cmd[400];
        fprintf(stderr, "sse-bench: nchan run failed; the end of %s/error.log:\n",
                n.dir);
        snprintf(cmd, sizeof cmd, "tail -n 20 '%s/error.log' >&2", n.dir);
        if (system(cmd) != 0)
            fprintf(stderr, "sse-bench: (no error.log)\n");
    }
    sfleet_close(f);
    npub_stop(s.pub);
    r->reopens = s.reopens;
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
 * fleet opens those again (SF_PUSHPIN) and counts them. */
#define PUSHPIN_WINDOW 5

static int run_pushpin(const struct opts *o_, struct sfleet *f, struct result *r)
{
    struct opts po = *o_, *o = &po;
    struct th_redis redis;
    struct pushpin_srv pp;
    struct sys s = {.pushpin = 1, .name = "pushpin", .pp = &pp, .f = f,
                    .mode = SF_PUSHPIN};
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
    s.port = pp.port;
    pause_ms(300);
    pushpin_rss_kb(&pp, r->parts0, sizeof r->parts0);
    /* perf (--perf) follows the runner only: add --perf-all for the rest */
    if (phases(&s, o, pp.proc.pid, r) < 0)
        goto out;
    r->pub_errors = npub_errors(s.pub);
    r->reopens = s.reopens;
    r->ran = 1;
    rc = 0;
out:
    if (rc && pp.dir[0])
        pushpin_dump_logs(&pp);
    if (rc)
        fprintf(stderr, "sse-bench: pushpin run failed; logs in %s\n",
                pp.dir[0] ? pp.dir : "?");
    sfleet_close(f);
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
        {"procs", required_argument, NULL, 'C'},
        {"workers", required_argument, NULL, 'W'},
        {"nchan-workers", required_argument, NULL, 'N'},
        {"perf", required_argument, NULL, 'p'},
        {"perf-all", no_argument, NULL, 'A'},
        {"skip-latency", no_argument, NULL, 'L'},
        {"system", required_argument, NULL, 'S'},
        {"pub-conns", required_argument, NULL, 'P'},
        {"pub-batch", required_argument, NULL, 'B'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c;
    *o = (struct opts){.conns = -1, .subs = -1, .reps = 5, .queues = 100,
                       .events = 400, .rate = 20, .fetch_wait_ms = 5,
                       .window = 100, .system = SYS_OUTBOX, .pub_conns = 8,
                       .pub_batch = 1000, .workers = -1, .nchan_workers = -1,
                       .procs = -1};
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
        case 'C': o->procs = atoi(optarg); break;
        case 'W': o->workers = atoi(optarg); break;
        case 'N': o->nchan_workers = atoi(optarg); break;
        case 'p': o->perf = optarg; break;
        case 'A': o->perf_all = 1; break;
        case 'L': o->skip_latency = 1; break;
        case 'P': o->pub_conns = atoi(optarg); break;
        case 'B': o->pub_batch = atoi(optarg); break;
        case 'S': o->system = parse_systems(optarg); break;
        case 'h': fputs(USAGE, stdout); exit(0);
        default: fputs(USAGE, stderr); exit(2);
        }
    }
    if (optind != argc || o->reps < 1 || o->reps > 64 || o->queues < 1 ||
        o->events < 1 || o->rate < 1 || o->window < 1 ||
        (o->subs >= 0 && o->subs < o->queues) ||
        o->fetch_wait_ms < 0 || !o->system || o->pub_conns < 1 ||
        o->pub_batch < 1 || o->procs == 0 || o->workers == 0 ||
        o->nchan_workers == 0) {
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

/* A target's verdict at the measured N: judged only at TARGET_CONNS or
 * more, where the figure is measured, not extrapolated. */
static const char *judged(const struct opts *o, int pass)
{
    return o->conns >= TARGET_CONNS ? verdict(pass) : "not judged (fewer streams)";
}

/* pushpin's summary counts its reopened streams itself. */
static int s_is_pushpin(const struct result *r) { return r->pushpin; }

/* Ranks that never came, when some did not: a figure over the clients
 * that got theirs only. */
static void print_misses(const struct opts *o, const struct result *r)
{
    const struct bcast *h = &r->half, *f = &r->full;
    if (h->lost || f->lost)
        printf("           MISSES: waves with a client missing its rank: %d of "
               "%d at %zu, %d of %d at %zu; clients left out after missing "
               "one: %zu at %zu, %zu at %zu\n", h->lost, o->reps, h->n,
               f->lost, o->reps, f->n, h->left_out, h->n, f->left_out, f->n);
    if (r->reopens && !s_is_pushpin(r))
        printf("           streams that ended or had no first rank in 3 s "
               "while opening, opened again: %zu\n", r->reopens);
    if (!o->skip_latency && (r->lat.late || r->lat.left_out))
        printf("           MISSES in latency: events with a client not served "
               "in 5 s: %zu of %zu; deliveries not waited for (the client "
               "had missed one): %zu\n", r->lat.late, r->lat.events,
               r->lat.left_out);
}

static void print_outbox(const struct opts *o, const struct result *r, double hper)
{
    double per = per_stream(r->rss0, r->rss_full, o->conns);
    double per_pss = per_stream(r->pss0, r->pss_full, o->conns);
    double per_marg = per_stream(r->rss_half, r->rss_full, o->conns / 2);
    double at = at_target(r, o->conns);
    const struct latency *lat = &r->lat;
    int mem_ok = per <= TARGET_BYTES_PER_CONN;
    int bc_ok = r->full.from_consumed_ms <= TARGET_BROADCAST_MS && !r->full.lost;
    int lat_ok = lat->p99 <= TARGET_P99_MS && !lat->late;
    printf("at %ld streams, measured (outbox-sse: %d worker%s; clients in %d "
           "processes, from 127.P.Q.R source addresses):\n", o->conns,
           o->workers, o->workers == 1 ? "" : "s", o->procs);
    printf("  memory per stream          %8.0f B   sum of VmRSS over the %d "
           "server processes, at N less at 0, / N\n", per, r->procs_full);
    printf("  rank wave, last client     %8.1f ms  change consumed -> last of "
           "%zu clients has its new rank (median of %d)\n",
           r->full.from_consumed_ms, r->full.n, o->reps);
    if (!o->skip_latency)
        printf("  p99, change -> client      %8.1f ms  produce -> first byte at "
               "a waiting client, %ld subscribers\n", lat->p99, o->subs);
    printf("memory     %ld streams, each with its first rank: VmRSS of %d "
           "process%s %.1f -> %.1f MiB (Pss %.1f -> %.1f MiB)\n", o->conns,
           r->procs_full, r->procs_full == 1 ? "" : "es", r->rss0 / 1024.0,
           r->rss_full / 1024.0, r->pss0 / 1024.0, r->pss_full / 1024.0);
    printf("           %.0f B per stream (Pss: %.0f B; second half alone: %.0f "
           "B); bare libevent holders %.0f B; ratio %.2f\n", per, per_pss,
           per_marg, hper, hper > 0 ? per / hper : 0.0);
    printf("           target <= %.0f B per stream at %d streams: %s\n",
           TARGET_BYTES_PER_CONN, TARGET_CONNS, judged(o, mem_ok));
    printf("broadcast  one change moving every rank in one queue, median of %d:\n",
           o->reps);
    const struct bcast *bb[] = {&r->half, &r->full};
    for (int i = 0; i < 2; i++)
        printf("           %6zu streams: consumed -> last client %.1f ms; "
               "produce -> all delivered %.1f ms (half of them %.1f ms); Kafka "
               "hop %.1f ms; Redis question alone %.1f ms; ZRANGE of the "
               "queue %.1f ms\n", bb[i]->n, bb[i]->from_consumed_ms,
               bb[i]->all_ms, bb[i]->p50_ms, bb[i]->hop_ms, bb[i]->redis_ms,
               bb[i]->zrange_ms);
    if (o->conns < TARGET_CONNS)
        printf("           at 100,000 streams (extrapolated, at least linear, "
               "produce -> all): %.0f ms\n", at);
    printf("           target <= 1 s from consumed at %d streams: %s%s\n",
           TARGET_CONNS, judged(o, bc_ok),
           r->full.lost || r->half.lost ? " (some clients missed a rank)" : "");
    print_misses(o, r);
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
        printf("           target p99 <= 20 ms with 10,000 subscribers or more "
               "(here %ld): %s%s\n", o->subs, verdict(lat_ok),
               lat->late ? " (events not delivered in 5 s)" : "");
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
    print_misses(o, r);
    if (r->pub_errors)
        printf("           publisher errors (non-2xx or closed): %ld\n",
               r->pub_errors);
}

static void print_nchan(const struct opts *o, const struct result *r, double hper)
{
    double per = per_stream(r->rss0, r->rss_full, o->conns);
    double chan = per_stream(r->rss0, r->rss_chan, o->conns);
    double subs = per_stream(r->rss_chan, r->rss_full, o->conns);
    printf("nchan      %s, %d worker process%s, one channel per user, a "
           "publisher thread (ZRANGE + %d pipelined keep-alive connections)\n",
           r->version, o->nchan_workers, o->nchan_workers == 1 ? "" : "es",
           o->pub_conns);
    printf("memory     %ld streams, each with its first rank: nginx VmRSS of "
           "%d processes %.1f -> %.1f MiB (Pss %.1f -> %.1f MiB; shared "
           "memory in the RSS %.1f -> %.1f MiB)\n", o->conns, r->procs_full,
           r->rss0 / 1024.0, r->rss_full / 1024.0, r->pss0 / 1024.0,
           r->pss_full / 1024.0, r->shm0 / 1024.0, r->shm_full / 1024.0);
    printf("           %.0f B per stream (Pss: %.0f B): %.0f B per channel "
           "with its one message, %.0f B per subscriber; bare libevent holder "
           "%.0f B\n", per, per_stream(r->pss0, r->pss_full, o->conns), chan,
           subs, hper);
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
    ROW("  the same from Pss (shared pages split)",
        per_stream(r_->pss0, r_->pss_full, o->conns), "B");
    row("  (bare libevent holder, same clients)", hper, h, ny, "B");
    snprintf(w, sizeof w, "rank wave, %zu: change known -> last client", x->full.n);
    ROW(w, r_->full.from_consumed_ms, "ms");
    snprintf(w, sizeof w, "rank wave, %zu streams: last client", x->full.n);
    ROW(w, r_->full.all_ms, "ms");
    snprintf(w, sizeof w, "rank wave, %zu streams: half of them", x->full.n);
    ROW(w, r_->full.p50_ms, "ms");
    snprintf(w, sizeof w, "rank wave, %zu streams: last client", x->half.n);
    ROW(w, r_->half.all_ms, "ms");
    if (o->conns < TARGET_CONNS)
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
            printf("       nchan = %s, %d nginx worker%s and the master "
                   "(outbox-sse: %d worker%s); the RSS includes the shared-"
                   "memory pages each worker touched (%.1f MiB at the end, "
                   "summed; zone: %lld KiB used for %lld channels): Pss "
                   "counts them once.\n", y[i]->version, o->nchan_workers,
                   o->nchan_workers == 1 ? "" : "s", o->workers,
                   o->workers == 1 ? "" : "s", y[i]->shm_full / 1024.0,
                   y[i]->zone_kb, y[i]->channels);
        else
            printf("       pushpin = %s, its RSS is the sum over its runner, "
                   "condure, zurl, pushpin-proxy and pushpin-handler (%s MiB "
                   "at N); the GRIP origin thread is not in it.\n",
                   y[i]->version, y[i]->parts_full);
    }
}

/* One line per system for scripts (tests/bench/sse_sizes.sh):
 * "data SYSTEM streams=N procs=P rss0_kib= rss_kib= pss0_kib= pss_kib=
 *  wave_ms= wave_known_ms= p99_ms=" (p99 -1 without the latency phase). */
static void print_data(const char *name, const struct opts *o,
                       const struct result *r)
{
    printf("data %s streams=%ld procs=%d rss0_kib=%ld rss_kib=%ld pss0_kib=%ld "
           "pss_kib=%ld wave_ms=%.1f wave_known_ms=%.1f p99_ms=%.1f\n", name,
           o->conns, r->procs_full, r->rss0, r->rss_full, r->pss0, r->pss_full,
           r->full.all_ms, r->full.from_consumed_ms,
           o->skip_latency ? -1.0 : r->lat.p99);
}

/* ceil(a / b) */
static long div_up(long a, long b) { return (a + b - 1) / b; }

/* The client processes, outbox-sse's workers and nginx's: each process
 * holds one descriptor per stream it serves plus a few hundred of its own
 * (Kafka, Redis, logs, the publisher), and SO_REUSEPORT spreads the
 * streams only about evenly, so a share is at most 3/4 of the hard limit.
 * 0, or -1 with a message. */
static int choose_procs(struct opts *o, long hard)
{
    long share = hard * 3 / 4 < SHARE_MAX ? hard * 3 / 4 : SHARE_MAX;
    long most = o->conns > o->subs ? o->conns : o->subs;
    if (o->procs < 0)
        o->procs = (int)(div_up(most, share) > 2 ? div_up(most, share) : 2);
    if (o->workers < 0)
        o->workers = (int)div_up(most, share);
    if (o->nchan_workers < 0)
        o->nchan_workers = o->workers;
    if (o->procs > 250 || o->workers > 256 || o->nchan_workers > 256) {
        fprintf(stderr, "sse-bench: too many processes\n");
        return -1;
    }
    long per_client = div_up(most, o->procs);
    long per_worker = div_up(most, o->workers);
    long per_nginx = div_up(most, o->nchan_workers);
    if (per_client > hard - 500 ||
        per_worker > hard - 500 || /* outbox-sse's, and the holders */
        ((o->system & SYS_NCHAN) && per_nginx > hard - 500) ||
        ((o->system & SYS_PUSHPIN) && most > hard - 500)) {
        fprintf(stderr, "sse-bench: RLIMIT_NOFILE's hard limit (%ld) allows "
                "at most %ld streams per process: %ld per client process, "
                "%ld per outbox-sse worker, %ld per nginx worker (pushpin: "
                "all %ld in one)\n", hard, hard - 500, per_client, per_worker,
                per_nginx, most);
        return -1;
    }
    return 0;
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
    if (o.conns < 0)
        o.conns = TARGET_CONNS;
    o.conns &= ~1L;
    if (o.subs < 0) /* the p99 at N streams; issue 4's target is at 10,000 */
        o.subs = o.conns > 10000 ? o.conns : 10000;
    if (choose_procs(&o, hard) < 0)
        return 2;

    double load0 = loadavg();
    /* the holders and the clients fork before any thread starts */
    pid_t holders[256];
    int holder_port = holder_start(o.workers, holders);
    struct sfleet *f = holder_port > 0
        ? sfleet_start(o.procs, (size_t)(o.conns > o.subs ? o.conns : o.subs), SECRET)
        : NULL;
    struct result rx = {0}, ry = {0}, rz = {0};
    long h0 = -1, h1 = -1;
    int rc = 1;
    if (!f)
        return 1;

    fprintf(stderr, "== baseline: bare libevent servers (%d) holding %ld "
            "sockets, clients in %d processes\n", o.workers, o.conns,
            o.procs);
    h0 = pids_rss_kb(holders, o.workers);
    if (sfleet_open(f, (size_t)o.conns, who_holder, holder_port, SF_OUTBOX,
                    o.window, NULL) < 0)
        goto out;
    h1 = pids_rss_kb(holders, o.workers);
    sfleet_close(f);
    for (int i = 0; i < o.workers; i++) {
        kill(holders[i], SIGKILL);
        waitpid(holders[i], NULL, 0);
    }

    /* a system that fails leaves the others' figures standing */
    rz.pushpin = 1;
    if ((o.system & SYS_OUTBOX) && run_outbox(&o, f, &rx) < 0)
        rx.failed = 1;
    if ((o.system & SYS_NCHAN) && run_nchan(&o, f, &ry) < 0)
        ry.failed = 1;
    if ((o.system & SYS_PUSHPIN) && run_pushpin(&o, f, &rz) < 0)
        rz.failed = 1;
    if (!rx.ran && !ry.ran && !rz.ran)
        goto out;

    /* ---- the summary ---- */
    double hper = per_stream(h0, h1, o.conns);
    char date[64];
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M", localtime(&now));
    printf("== %s speed (issues 4, 13%s%s%s), %s, %ld cores, RLIMIT_NOFILE "
           "hard limit %ld per process\n", o.system & SYS_OUTBOX ? "outbox-sse"
           : o.system & SYS_NCHAN ? "nchan" : "pushpin",
           o.system & (SYS_NCHAN | SYS_PUSHPIN) ? ", issue 6: side by side with" : "",
           o.system & SYS_NCHAN ? " nchan" : "",
           o.system & SYS_PUSHPIN ? (o.system & SYS_NCHAN ? " and pushpin" : " pushpin") : "",
           date, sysconf(_SC_NPROCESSORS_ONLN), hard);
    printf("   clients: %d processes; outbox-sse: %d worker%s; nginx: %d "
           "worker%s; bare holders: %d\n", o.procs, o.workers,
           o.workers == 1 ? "" : "s", o.nchan_workers,
           o.nchan_workers == 1 ? "" : "s", o.workers);
    if (o.conns < TARGET_CONNS)
        printf("   (%ld streams: no figure here is at 100,000; the lines marked "
               "extrapolated are)\n", o.conns);
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
    const char *failed[] = {rx.failed ? "outbox-sse" : NULL,
                            ry.failed ? "nchan" : NULL,
                            rz.failed ? "pushpin" : NULL};
    for (int i = 0; i < 3; i++)
        if (failed[i])
            printf("FAILED     %s: its run failed (see stderr); no figures\n",
                   failed[i]);
    if (rx.ran)
        print_data("outbox-sse", &o, &rx);
    if (ry.ran)
        print_data("nchan", &o, &ry);
    if (rz.ran)
        print_data("pushpin", &o, &rz);
    rc = rx.failed || ry.failed || rz.failed;
out:
    sfleet_stop(f);
    return g_no_workers ? 3 : rc;
}
