/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/bench/sse_pushpin.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the origin --------------------------------------------------------- */

struct porigin {
    pthread_t thread;
    struct event_base *base;
    struct evhttp *http;
    struct event *tick;
    redisContext *rc;
    atomic_int stop;
    int port;
};

/* GET /sub/<queue>/<user>: the user's current rank as the first event, and
 * the GRIP instructions to hold the stream on the user's channel. */
static void origin_req(struct evhttp_request *req, void *arg)
{
    struct porigin *o = arg;
    char queue[64], user[64];
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    if (!path || sscanf(path, "/sub/%63[A-Za-z0-9_-]/%63[A-Za-z0-9_-]", queue,
                        user) != 2) {
        evhttp_send_error(req, 404, NULL);
        return;
    }
    long long rank = -1, waiting = 0;
    redisAppendCommand(o->rc, "ZRANK queue:%s:waiting %s", queue, user);
    redisAppendCommand(o->rc, "ZCARD queue:%s:waiting", queue);
    redisReply *r1 = NULL, *r2 = NULL;
    if (redisGetReply(o->rc, (void **)&r1) == REDIS_OK &&
        redisGetReply(o->rc, (void **)&r2) == REDIS_OK && r1 && r2 &&
        r1->type == REDIS_REPLY_INTEGER && r2->type == REDIS_REPLY_INTEGER) {
        rank = r1->integer + 1;
        waiting = r2->integer;
    }
    if (r1)
        freeReplyObject(r1);
    if (r2)
        freeReplyObject(r2);
    if (rank < 0) {
        evhttp_send_error(req, 404, NULL);
        return;
    }
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "text/event-stream");
    evhttp_add_header(h, "Cache-Control", "no-cache");
    evhttp_add_header(h, "Grip-Hold", "stream");
    evhttp_add_header(h, "Grip-Channel", user);
    struct evbuffer *body = evbuffer_new();
    evbuffer_add_printf(body, "event: rank\ndata: {\"queue\":\"%s\",\"user\":"
                        "\"%s\",\"rank\":%lld,\"waiting\":%lld}\n\n", queue,
                        user, rank, waiting);
    evhttp_send_reply(req, 200, "OK", body);
    evbuffer_free(body);
}

static void origin_tick(evutil_socket_t fd, short what, void *arg)
{
    struct porigin *o = arg;
    (void)fd;
    (void)what;
    if (atomic_load(&o->stop))
        event_base_loopbreak(o->base);
}

static void *origin_run(void *arg)
{
    struct porigin *o = arg;
    event_base_dispatch(o->base);
    return NULL;
}

static void origin_stop(struct porigin *o)
{
    if (!o)
        return;
    if (o->thread) {
        atomic_store(&o->stop, 1);
        pthread_join(o->thread, NULL);
    }
    if (o->http)
        evhttp_free(o->http);
    if (o->tick)
        event_free(o->tick);
    if (o->base)
        event_base_free(o->base);
    if (o->rc)
        redisFree(o->rc);
    free(o);
}

static struct porigin *origin_start(int redis_port)
{
    static const struct timeval tick = {0, 50000};
    struct porigin *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->base = event_base_new();
    o->rc = redisConnect("127.0.0.1", redis_port);
    o->http = o->base ? evhttp_new(o->base) : NULL;
    o->tick = o->base ? event_new(o->base, -1, EV_PERSIST, origin_tick, o) : NULL;
    struct evhttp_bound_socket *bs =
        o->http ? evhttp_bind_socket_with_handle(o->http, "127.0.0.1", 0) : NULL;
    if (!o->rc || o->rc->err || !o->tick || !bs) {
        fprintf(stderr, "sse-bench: the pushpin origin cannot start\n");
        origin_stop(o);
        return NULL;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &sl);
    o->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    evhttp_set_gencb(o->http, origin_req, o);
    event_add(o->tick, &tick);
    if (pthread_create(&o->thread, NULL, origin_run, o)) {
        o->thread = 0;
        origin_stop(o);
        return NULL;
    }
    return o;
}

/* ---- pushpin ------------------------------------------------------------ */

static int write_conf(const struct pushpin_srv *p, long max_conns)
{
    char path[320];
    int ports[3];
    for (int i = 0; i < 3; i++)
        ports[i] = th_free_port();
    snprintf(path, sizeof path, "%s/routes", p->dir);
    FILE *fp = fopen(path, "w");
    if (!fp)
        return -1;
    fprintf(fp, "* 127.0.0.1:%d\n", p->origin_port);
    if (fclose(fp))
        return -1;
    snprintf(path, sizeof path, "%s/pushpin.conf", p->dir);
    if (!(fp = fopen(path, "w")))
        return -1;
    /* /etc/pushpin/pushpin.conf's settings, with these changes:
     *  - ports, run and log directories of our own, and the IPC prefix;
     *  - zurl is one of the runner's services, with its sockets in our run
     *    directory (Debian's internal.conf points pushpin-proxy at a system
     *    zurl's /var/run/zurl/, which does not run here);
     *  - client_maxconn at least max_conns;
     *  - message_rate and message_hwm raised: by default the handler sends
     *    at most 2,500 messages a second and queues 25,000, and one rank
     *    wave is one message per user. */
    fprintf(fp,
            "[global]\n"
            "include={libdir}/internal.conf\n"
            "rundir=%s/run\n"
            "ipc_prefix=bench-\n"
            "port_offset=0\n"
            "stats_connection_ttl=120\n"
            "[runner]\n"
            "services=condure,zurl,pushpin-proxy,pushpin-handler\n"
            "http_port=127.0.0.1:%d\n"
            "logdir=%s/log\n"
            "log_level=2\n"
            "client_buffer_size=8192\n"
            "client_maxconn=%ld\n"
            "condure_bin=condure\n"
            "zurl_bin=zurl\n"
            "[proxy]\n"
            "routesfile=routes\n"
            "zurl_out_specs=ipc://{rundir}/{ipc_prefix}zurl-in\n"
            "zurl_out_stream_specs=ipc://{rundir}/{ipc_prefix}zurl-in-stream\n"
            "zurl_in_specs=ipc://{rundir}/{ipc_prefix}zurl-out\n"
            "debug=false\n"
            "auto_cross_origin=false\n"
            "sig_iss=pushpin\n"
            "sig_key=changeme\n"
            "updates_check=off\n"
            "[handler]\n"
            "push_in_spec=tcp://127.0.0.1:%d\n"
            "push_in_sub_specs=tcp://127.0.0.1:%d\n"
            "push_in_sub_connect=false\n"
            "push_in_http_addr=127.0.0.1\n"
            "push_in_http_port=%d\n"
            "push_in_http_max_headers_size=10000\n"
            "push_in_http_max_body_size=1000000\n"
            "stats_spec=ipc://{rundir}/{ipc_prefix}stats\n"
            "command_spec=tcp://127.0.0.1:%d\n"
            "message_rate=10000000\n"
            "message_hwm=10000000\n"
            "message_wait=5000\n"
            "id_cache_ttl=60\n"
            "connection_subscription_max=20\n"
            "subscription_linger=60\n"
            "stats_subscription_ttl=60\n"
            "stats_report_interval=10\n"
            "stats_format=tnetstring\n",
            p->dir, p->port, p->dir, max_conns + 1000, ports[0], ports[1],
            p->pub_port, ports[2]);
    return fclose(fp);
}

int pushpin_start(struct pushpin_srv *p, long max_conns, int redis_port)
{
    char conf[320], sub[320];
    memset(p, 0, sizeof *p);
    if (access("/usr/bin/pushpin", X_OK) < 0) {
        fprintf(stderr, "sse-bench: /usr/bin/pushpin missing: apt-get install "
                "pushpin (tests/bench/sse_pushpin.sh does)\n");
        return -1;
    }
    if (th_tempdir("pushpin", p->dir, sizeof p->dir) < 0)
        return -1;
    snprintf(sub, sizeof sub, "%s/run", p->dir);
    mkdir(sub, 0755);
    snprintf(sub, sizeof sub, "%s/log", p->dir);
    mkdir(sub, 0755);
    if (!(p->origin = origin_start(redis_port)))
        return -1;
    p->origin_port = p->origin->port;
    p->port = th_free_port();
    p->pub_port = th_free_port();
    if (write_conf(p, max_conns) < 0)
        return -1;
    snprintf(conf, sizeof conf, "%s/pushpin.conf", p->dir);
    char *argv[] = {"pushpin", "--config", conf, NULL};
    if (th_spawn(&p->proc, "pushpin", p->dir, argv) < 0)
        return -1;
    /* Up when the origin's answer comes through condure and the proxy, and
     * the publish endpoint answers. */
    for (int i = 0; i < 300; i++) {
        if (th_http_get(p->pub_port, "/publish/", NULL, 0) > 0 &&
            th_http_get(p->port, "/sub/none/none", NULL, 0) == 404)
            return 0;
        if (!th_alive(&p->proc))
            break;
        usleep(100000);
    }
    fprintf(stderr, "sse-bench: pushpin did not start; logs in %s/log\n", p->dir);
    pushpin_dump_logs(p);
    return -1;
}

void pushpin_stop(struct pushpin_srv *p)
{
    if (p->proc.pid > 0)
        th_stop(&p->proc, 10000, NULL); /* its services are in its group */
    origin_stop(p->origin);
    p->origin = NULL;
}

long pushpin_rss_kb(const struct pushpin_srv *p, char *parts, size_t len)
{
    enum { MAXP = 8192 };
    static pid_t pid[MAXP], ppid[MAXP];
    static char comm[MAXP][32];
    static int mine[MAXP];
    int n = 0;
    DIR *d = opendir("/proc");
    struct dirent *de;
    while (d && (de = readdir(d)) && n < MAXP) {
        char path[300], buf[512];
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
        FILE *fp = fopen(path, "r");
        if (!fp)
            continue;
        size_t l = fread(buf, 1, sizeof buf - 1, fp);
        fclose(fp);
        buf[l] = '\0';
        char *lp = strchr(buf, '('), *rp = strrchr(buf, ')');
        int pp;
        if (!lp || !rp || sscanf(rp + 1, " %*c %d", &pp) != 1)
            continue;
        pid[n] = atoi(de->d_name);
        ppid[n] = pp;
        snprintf(comm[n], sizeof comm[n], "%.*s", (int)(rp - lp - 1), lp + 1);
        mine[n] = pid[n] == p->proc.pid;
        n++;
    }
    if (d)
        closedir(d);
    for (int changed = 1; changed;) { /* descendants of the runner */
        changed = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; !mine[i] && j < n; j++)
                if (mine[j] && ppid[i] == pid[j])
                    mine[i] = changed = 1;
    }
    long sum = -1;
    size_t off = 0;
    if (parts && len)
        parts[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (!mine[i])
            continue;
        long kb = th_proc_status_kb(pid[i], "VmRSS");
        if (kb < 0)
            continue;
        sum = (sum < 0 ? 0 : sum) + kb;
        if (parts && off < len)
            off += (size_t)snprintf(parts + off, len - off, "%s%s %.1f",
                                    off ? ", " : "", comm[i], kb / 1024.0);
    }
    return sum;
}

void pushpin_dump_logs(const struct pushpin_srv *p)
{
    static const char *const svc[] = {"condure", "zurl", "pushpin-proxy",
                                      "pushpin-handler"};
    char path[400], line[1024];
    th_dump_log(&p->proc, 10);
    for (size_t i = 0; i < sizeof svc / sizeof *svc; i++) {
        snprintf(path, sizeof path, "%s/log/%s.log", p->dir, svc[i]);
        FILE *fp = fopen(path, "r");
        if (!fp)
            continue;
        /* the last 10 lines */
        long pos[10] = {0};
        int n = 0;
        for (long at = 0; fgets(line, sizeof line, fp); at = ftell(fp))
            pos[n++ % 10] = at;
        fprintf(stderr, "---- %s (last lines)\n", path);
        fseek(fp, n > 10 ? pos[n % 10] : 0, SEEK_SET);
        while (fgets(line, sizeof line, fp))
            fputs(line, stderr);
        fclose(fp);
    }
}

void pushpin_versions(char *out, size_t len)
{
    char v[128] = "pushpin ?";
    FILE *p = popen("pushpin --version 2>&1", "r");
    if (p) {
        if (fgets(v, sizeof v, p))
            v[strcspn(v, "\n")] = '\0';
        pclose(p);
    }
    snprintf(out, len, "%s", v);
}
