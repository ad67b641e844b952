/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/bench/sse_nchan.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- nginx -------------------------------------------------------------- */

static int write_conf(const struct nchan_srv *n, const char *path, long max_conns,
                      int workers)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    long nofile = rl.rlim_cur == RLIM_INFINITY ? 1 << 20 : (long)rl.rlim_cur;
    /* As many connections as a worker may have descriptors: with fewer,
     * nginx "reuses" (closes) idle keep-alive connections when they run
     * out, the publisher's among them, which ended runs at 50,000 and
     * 100,000 streams over several workers (max_conns / workers + 1,000
     * was not enough: reuseport spreads only about evenly, and a stream
     * reopened by the client holds its old connection until nginx sees
     * it close). outbox-sse's limit is as high (max_connections 200000,
     * the same RLIMIT_NOFILE). */
    long wc = nofile - 100;
    (void)max_conns; /* every worker has room for all it can hold */
    FILE *fp = fopen(path, "w");
    if (!fp)
        return -1;
    /* `workers` workers (one by default: the same one-loop-on-one-core
     * shape as outbox-sse with one process; as many as outbox-sse's
     * workers when it has several), each its own listening socket
     * (reuseport), as outbox-sse's workers have. The user's channel keeps one message, its current rank, for the next
     * subscriber (nchan_subscriber_first_message oldest, the default).
     * keepalive_requests: nginx closes a keep-alive connection after 1000
     * requests by default, and the publisher pipelines thousands. */
    fprintf(fp,
            "load_module " NCHAN_MODULE ";\n"
            "user root;\n"
            "worker_processes %d;\n"
            "worker_rlimit_nofile %ld;\n"
            "pid %s/nginx.pid;\n"
            "error_log %s/error.log warn;\n"
            "events {\n  worker_connections %ld;\n  multi_accept on;\n}\n"
            "http {\n"
            "  access_log off;\n"
            "  client_body_temp_path %s/body;\n"
            "  keepalive_requests 100000000;\n"
            "  keepalive_timeout 3600s;\n"
            "  nchan_shared_memory_size 2048m;\n"
            "  server {\n"
            "    listen 127.0.0.1:%d backlog=4096%s;\n"
            "    location ~ ^/sub/([\\w-]+)$ {\n"
            "      nchan_subscriber eventsource;\n"
            "      nchan_channel_id $1;\n"
            "    }\n"
            "    location ~ ^/pub/([\\w-]+)$ {\n"
            "      nchan_publisher;\n"
            "      nchan_channel_id $1;\n"
            "      nchan_message_buffer_length 1;\n"
            "    }\n"
            "    location = /nchan_status { nchan_stub_status; }\n"
            "  }\n"
            "}\n",
            workers, nofile, n->dir, n->dir, wc, n->dir, n->port,
            workers > 1 ? " reuseport" : "");
    return fclose(fp);
}

/* The one child of the master: nginx's worker. */
static pid_t find_worker(pid_t master)
{
    DIR *d = opendir("/proc");
    struct dirent *de;
    pid_t found = -1;
    while (d && (de = readdir(d))) {
        char path[300], buf[512];
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
        FILE *fp = fopen(path, "r");
        if (!fp)
            continue;
        size_t len = fread(buf, 1, sizeof buf - 1, fp);
        fclose(fp);
        buf[len] = '\0';
        const char *rp = strrchr(buf, ')'); /* comm may hold spaces */
        int ppid;
        if (rp && sscanf(rp + 1, " %*c %d", &ppid) == 1 && ppid == master)
            found = atoi(de->d_name);
    }
    if (d)
        closedir(d);
    return found;
}

int nchan_start(struct nchan_srv *n, long max_conns, int workers)
{
    char conf[320];
    memset(n, 0, sizeof *n);
    if (access(NCHAN_MODULE, R_OK) < 0) {
        fprintf(stderr, "sse-bench: %s missing: apt-get install nginx-light "
                "libnginx-mod-nchan (tests/bench/sse_compare.sh does)\n",
                NCHAN_MODULE);
        return -1;
    }
    if (th_tempdir("nchan", n->dir, sizeof n->dir) < 0)
        return -1;
    n->port = th_free_port();
    snprintf(conf, sizeof conf, "%s/nginx.conf", n->dir);
    if (write_conf(n, conf, max_conns, workers) < 0)
        return -1;
    char *argv[] = {"nginx", "-p", n->dir, "-c", conf, "-g", "daemon off;", NULL};
    if (th_spawn(&n->proc, "nginx", n->dir, argv) < 0)
        return -1;
    for (int i = 0; i < 200; i++) {
        if (th_http_get(n->port, "/nchan_status", NULL, 0) == 200 &&
            (n->worker = find_worker(n->proc.pid)) > 0)
            return 0;
        if (!th_alive(&n->proc))
            break;
        usleep(50000);
    }
    fprintf(stderr, "sse-bench: nginx did not start\n");
    th_dump_log(&n->proc, 20);
    return -1;
}

void nchan_stop(struct nchan_srv *n)
{
    if (n->proc.pid > 0)
        th_stop(&n->proc, 10000, NULL); /* the worker is in its group */
}

long long nchan_status(const struct nchan_srv *n, const char *field)
{
    char body[4096];
    if (th_http_get(n->port, "/nchan_status", body, sizeof body) != 200)
        return -1;
    size_t fl = strlen(field);
    for (char *p = body; (p = strstr(p, field)); p += fl)
        if ((p == body || p[-1] == '\n') && p[fl] == ':')
            return atoll(p + fl + 1);
    return -1;
}

void nchan_versions(const struct nchan_srv *n, char *out, size_t len)
{
    char body[4096], ng[128] = "nginx ?";
    const char *nv = "?";
    FILE *p = popen("nginx -v 2>&1", "r");
    if (p) {
        if (fgets(ng, sizeof ng, p))
            ng[strcspn(ng, "\n")] = '\0';
        pclose(p);
    }
    if (th_http_get(n->port, "/nchan_status", body, sizeof body) == 200) {
        char *v = strstr(body, "nchan version: ");
        if (v) {
            nv = v + 15;
            v[15 + strcspn(v + 15, "\r\n")] = '\0';
        }
    }
    const char *s = strstr(ng, "nginx/");
    snprintf(out, len, "%s, nchan %s", s ? s : ng, nv);
}

/* ---- the publisher ------------------------------------------------------ */

#define NPUB_WAVES 16384

struct wcmd {
    char queue[48];
    int64_t t0;
    long wave;
};

struct pconn {
    struct npub *p;
    struct bufferevent *bev;
};

struct npub {
    pthread_t thread;
    int pipe[2];
    struct event_base *base;
    struct event *cmd_ev, *tick;
    atomic_int stop;
    redisContext *rc;
    struct pconn *c;
    int nconns, broken;
    int batch; /* GRIP: items per POST /publish/; 0: nchan, a POST per user */
    int port;
    long pending, cur;
    int64_t cur_t0;
    atomic_long next_wave, errors;
    _Atomic int64_t done[NPUB_WAVES]; /* ns after t0; 0 pending, -1 failed */
};

static void wave_done(struct npub *p, int64_t v)
{
    atomic_store(&p->done[p->cur % NPUB_WAVES], v);
    p->pending = 0;
    event_add(p->cmd_ev, NULL); /* the next command */
}

static int answer(struct evbuffer *in, int *status);

/* A GRIP POST's connection: pushpin-handler's HTTP endpoint answers with
 * "Connection: close", so each POST has its own. */
static void grip_done(struct bufferevent *bev, struct npub *p, int ok)
{
    bufferevent_free(bev);
    if (!ok)
        atomic_fetch_add(&p->errors, 1);
    if (p->pending > 0 && --p->pending == 0)
        wave_done(p, mono_ns() - p->cur_t0);
}

static void grip_read(struct bufferevent *bev, void *arg)
{
    int status;
    if (answer(bufferevent_get_input(bev), &status))
        grip_done(bev, arg, status >= 200 && status <= 299);
}

static void grip_event(struct bufferevent *bev, short what, void *arg)
{
    int status;
    if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
        return;
    if (answer(bufferevent_get_input(bev), &status))
        grip_done(bev, arg, status >= 200 && status <= 299);
    else
        grip_done(bev, arg, 0);
}

static void grip_post(struct npub *p, struct evbuffer *body)
{
    struct sockaddr_in dst = {.sin_family = AF_INET,
                              .sin_port = htons((uint16_t)p->port),
                              .sin_addr.s_addr = htonl(0x7f000001u)};
    struct bufferevent *bev = bufferevent_socket_new(p->base, -1,
                                                     BEV_OPT_CLOSE_ON_FREE);
    p->pending++;
    if (!bev) {
        atomic_fetch_add(&p->errors, 1);
        p->pending--;
        return;
    }
    bufferevent_setcb(bev, grip_read, NULL, grip_event, p);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    struct evbuffer *out = bufferevent_get_output(bev);
    evbuffer_add_printf(out, "POST /publish/ HTTP/1.1\r\nHost: pushpin\r\n"
                        "Content-Type: application/json\r\n"
                        "Content-Length: %zu\r\n\r\n", evbuffer_get_length(body));
    evbuffer_add_buffer(out, body);
    if (bufferevent_socket_connect(bev, (struct sockaddr *)&dst, sizeof dst) < 0) {
        bufferevent_free(bev);
        atomic_fetch_add(&p->errors, 1);
        p->pending--;
    }
}

/* GRIP (Pushpin): the queue's ranks as items of POST /publish/, `batch`
 * items per POST, each the SSE event text for the user's channel:
 * {"items":[{"channel":U,"formats":{"http-stream":{"content":"event: rank\n
 * data: {...}\n\n"}}}, ...]}. All POSTs of a wave go at once, each on its
 * own connection; pending counts POSTs. */
static void grip_publish(struct npub *p, const redisReply *r, const char *queue)
{
    size_t n = r->elements;
    struct evbuffer *body = evbuffer_new();
    p->pending = 0;
    for (size_t i = 0; i < n; i++) {
        const char *user = r->element[i]->str;
        evbuffer_add_printf(body,
                            "%s{\"channel\":\"%s\",\"formats\":{\"http-stream\":"
                            "{\"content\":\"event: rank\\ndata: {\\\"queue\\\":"
                            "\\\"%s\\\",\\\"user\\\":\\\"%s\\\",\\\"rank\\\":%zu,"
                            "\\\"waiting\\\":%zu}\\n\\n\"}}}",
                            i % (size_t)p->batch ? "," : "{\"items\":[", user,
                            queue, user, i + 1, n);
        if ((i + 1) % (size_t)p->batch && i + 1 < n)
            continue;
        evbuffer_add(body, "]}", 2);
        grip_post(p, body);
    }
    evbuffer_free(body);
}

static void on_cmd(evutil_socket_t fd, short what, void *arg)
{
    struct npub *p = arg;
    struct wcmd w;
    (void)what;
    if (read(fd, &w, sizeof w) != (ssize_t)sizeof w) {
        p->broken = 1;
        return;
    }
    p->cur = w.wave;
    p->cur_t0 = w.t0;
    if (p->broken) {
        wave_done(p, -1);
        return;
    }
    redisReply *r = redisCommand(p->rc, "ZRANGE queue:%s:waiting 0 -1", w.queue);
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        atomic_fetch_add(&p->errors, 1);
        if (r)
            freeReplyObject(r);
        wave_done(p, -1);
        return;
    }
    size_t n = r->elements;
    if (p->batch > 0) {
        grip_publish(p, r, w.queue);
        freeReplyObject(r);
        if (!p->pending)
            wave_done(p, mono_ns() - p->cur_t0);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char body[160];
        const char *user = r->element[i]->str;
        int bl = snprintf(body, sizeof body,
                          "{\"queue\":\"%s\",\"user\":\"%s\",\"rank\":%zu,"
                          "\"waiting\":%zu}", w.queue, user, i + 1, n);
        evbuffer_add_printf(bufferevent_get_output(p->c[i % (size_t)p->nconns].bev),
                            "POST /pub/%s HTTP/1.1\r\nHost: nchan\r\n"
                            "Content-Type: application/json\r\n"
                            "Content-Length: %d\r\n\r\n%s", user, bl, body);
    }
    freeReplyObject(r);
    p->pending = (long)n;
    if (!n)
        wave_done(p, mono_ns() - p->cur_t0);
}

/* One whole answer at the head of `in` (headers, then Content-Length
 * bytes): drains it, its status in *status, and 1; 0 while incomplete. */
static int answer(struct evbuffer *in, int *status)
{
    struct evbuffer_ptr e = evbuffer_search(in, "\r\n\r\n", 4, NULL);
    if (e.pos < 0)
        return 0;
    size_t hl = (size_t)e.pos + 4;
    char *h = (char *)evbuffer_pullup(in, (ev_ssize_t)hl);
    long cl = 0;
    *status = 0;
    sscanf(h, "HTTP/1.%*d %d", status);
    for (size_t i = 0; i + 16 < hl; i++)
        if ((h[i] == '\n') && !strncasecmp(h + i + 1, "Content-Length:", 15)) {
            cl = atol(h + i + 16);
            break;
        }
    if (evbuffer_get_length(in) < hl + (size_t)cl)
        return 0;
    evbuffer_drain(in, hl + (size_t)cl);
    return 1;
}

/* Answers to pipelined POSTs. */
static void pub_read(struct bufferevent *bev, void *arg)
{
    struct pconn *c = arg;
    struct npub *p = c->p;
    struct evbuffer *in = bufferevent_get_input(bev);
    int status;
    while (answer(in, &status)) {
        if (status < 200 || status > 299)
            atomic_fetch_add(&p->errors, 1);
        if (p->pending > 0 && --p->pending == 0)
            wave_done(p, mono_ns() - p->cur_t0);
    }
}

static void pub_event(struct bufferevent *bev, short what, void *arg)
{
    struct pconn *c = arg;
    (void)bev;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        fprintf(stderr, "sse-bench: publisher connection closed\n");
        atomic_fetch_add(&c->p->errors, 1);
        c->p->broken = 1;
        if (c->p->pending > 0)
            wave_done(c->p, -1);
    }
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct npub *p = arg;
    (void)fd;
    (void)what;
    if (atomic_load(&p->stop))
        event_base_loopbreak(p->base);
}

static void *npub_run(void *arg)
{
    struct npub *p = arg;
    event_base_dispatch(p->base);
    return NULL;
}

static struct npub *start(int http_port, int redis_port, int conns, int batch)
{
    struct npub *p = calloc(1, sizeof *p);
    if (!p || pipe(p->pipe) < 0)
        return NULL;
    p->nconns = batch ? 0 : conns; /* GRIP: a connection per POST */
    p->batch = batch;
    p->port = http_port;
    p->c = calloc((size_t)conns + 1, sizeof *p->c);
    p->base = event_base_new();
    p->rc = redisConnect("127.0.0.1", redis_port);
    if (!p->c || !p->base || !p->rc || p->rc->err)
        return NULL;
    p->cmd_ev = event_new(p->base, p->pipe[0], EV_READ, on_cmd, p);
    struct sockaddr_in dst = {.sin_family = AF_INET,
                              .sin_port = htons((uint16_t)http_port),
                              .sin_addr.s_addr = htonl(0x7f000001u)};
    for (int i = 0; i < p->nconns; i++) {
        p->c[i].p = p;
        p->c[i].bev = bufferevent_socket_new(p->base, -1, BEV_OPT_CLOSE_ON_FREE);
        if (!p->c[i].bev)
            return NULL;
        bufferevent_setcb(p->c[i].bev, pub_read, NULL, pub_event, &p->c[i]);
        bufferevent_enable(p->c[i].bev, EV_READ | EV_WRITE);
        if (bufferevent_socket_connect(p->c[i].bev, (struct sockaddr *)&dst,
                                       sizeof dst) < 0)
            return NULL;
        int one = 1;
        setsockopt(bufferevent_getfd(p->c[i].bev), IPPROTO_TCP, TCP_NODELAY,
                   &one, sizeof one);
    }
    static const struct timeval tick = {0, 50000};
    p->tick = event_new(p->base, -1, EV_PERSIST, on_tick, p);
    if (!p->cmd_ev || !p->tick)
        return NULL;
    event_add(p->tick, &tick);
    event_add(p->cmd_ev, NULL);
    if (pthread_create(&p->thread, NULL, npub_run, p))
        return NULL;
    return p;
}

struct npub *npub_start(int http_port, int redis_port, int conns)
{
    return start(http_port, redis_port, conns, 0);
}

struct npub *npub_start_grip(int publish_port, int redis_port, int batch)
{
    return start(publish_port, redis_port, 0, batch > 0 ? batch : 1);
}

long npub_wave(struct npub *p, const char *queue, int64_t t0)
{
    struct wcmd w = {.t0 = t0, .wave = atomic_fetch_add(&p->next_wave, 1)};
    snprintf(w.queue, sizeof w.queue, "%s", queue);
    atomic_store(&p->done[w.wave % NPUB_WAVES], 0);
    if (write(p->pipe[1], &w, sizeof w) != (ssize_t)sizeof w)
        return -1;
    return w.wave;
}

int npub_wait(struct npub *p, long w, int64_t deadline, int64_t *ns)
{
    int64_t v;
    while (!(v = atomic_load(&p->done[w % NPUB_WAVES])) && mono_ns() < deadline)
        usleep(200);
    *ns = v;
    return v > 0 ? 0 : -1;
}

long npub_errors(const struct npub *p) { return atomic_load(&p->errors); }

void npub_stop(struct npub *p)
{
    if (!p)
        return;
    atomic_store(&p->stop, 1);
    pthread_join(p->thread, NULL);
    for (int i = 0; i < p->nconns; i++)
        if (p->c[i].bev)
            bufferevent_free(p->c[i].bev);
    event_free(p->cmd_ev);
    event_free(p->tick);
    event_base_free(p->base);
    redisFree(p->rc);
    close(p->pipe[0]);
    close(p->pipe[1]);
    free(p->c);
    free(p);
}
