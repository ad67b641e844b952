/* SPDX-License-Identifier: Apache-2.0 */
#include "sse/super.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/admin_http.h"
#include "common/clock.h"
#include "common/daemon.h"
#include "common/log.h"
#include "common/metrics.h"
#include "sse/msum.h"
#include "sse/server.h"
#include "sse/wlink.h"
#include "sse/wshare.h"

#define SCRAPE_MS 2000      /* a worker's answer to /metrics or /healthz */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define STABLE_MS 1000      /* ran this long: it crashed, not failed to start */
#define DRAIN_GRACE_MS 5000 /* past drain_window, before SIGKILL */

struct super;

struct worker {
    struct super *sup;
    size_t idx;
    pid_t pid; /* 0 while not running */
    struct wlink *link;
    int ready;
    int64_t started_ms, backoff_ms;
    struct event *restart;
};

/* One /metrics or /healthz request, waiting for the workers' answers. */
struct scrape {
    struct super *sup;
    struct scrape *next;
    struct evhttp_request *req;
    uint32_t id;
    int metrics;
    size_t waiting, healthy;
    struct msum *sum;
    char why[256]; /* the first unhealthy worker's reason */
    struct event *timeout;
    unsigned char asked[]; /* per worker: 1 while its answer is due */
};

struct super {
    struct event_base *base;
    const struct sse_cfg *cfg;
    char *const *argv;
    size_t n;
    struct worker *w;
    struct wshare *ws;
    int port_fd, port;
    pid_t self;
    struct daemon *daemon;
    struct metrics *metrics;
    struct admin_http *admin;
    struct mseries *restarts;
    struct event *sigchld, *hard_stop;
    struct scrape *scrapes;
    uint32_t next_id;
    int started;  /* every worker has served once */
    int draining;
    int status;   /* the exit status */
};

static void drain_all(struct super *sp);

/* ---- starting a worker ------------------------------------------------- */

/* In the child, between fork and exec: only what is safe there. */
static void exec_worker(const struct super *sp, int link, const char *env)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != sp->self)
        _exit(EXIT_RUNTIME); /* the supervisor died before the line above */
    int l = fcntl(link, F_DUPFD_CLOEXEC, 10);
    int sh = fcntl(wshare_fd(sp->ws), F_DUPFD_CLOEXEC, 10);
    if (l < 0 || sh < 0 || dup2(l, SUPER_LINK_FD) < 0 ||
        dup2(sh, SUPER_SHARE_FD) < 0)
        _exit(EXIT_RUNTIME);
    close_range(SUPER_SHARE_FD + 1, ~0U, 0); /* the supervisor's own */
    setenv(SUPER_ENV, env, 1);
    unsetenv("NOTIFY_SOCKET"); /* systemd hears from the supervisor only */
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    execv("/proc/self/exe", sp->argv);
    _exit(127);
}

static void on_frame(void *arg, int type, uint32_t id, const char *data,
                     size_t len);
static void on_link_closed(void *arg);

static int spawn(struct worker *w)
{
    struct super *sp = w->sup;
    int sv[2];
    char env[64];
    snprintf(env, sizeof env, "%zu/%zu/%d", w->idx, sp->n, sp->port);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0)
        exec_worker(sp, sv[1], env);
    close(sv[1]);
    if (pid < 0) {
        close(sv[0]);
        return -1;
    }
    w->pid = pid;
    w->ready = 0;
    w->started_ms = clock_mono_ms();
    if (!(w->link = wlink_new(sp->base, sv[0], on_frame, on_link_closed, w)))
        close(sv[0]); /* the worker sees EOF and stops; it is restarted */
    log_info("main", "worker %zu started (pid %d)", w->idx, (int)pid);
    return 0;
}

static void on_restart(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;
    (void)fd;
    (void)what;
    if (w->sup->draining || w->pid)
        return;
    if (spawn(w) < 0) {
        log_error("main", "cannot start worker %zu: %s; trying again in %d ms",
                  w->idx, strerror(errno), BACKOFF_MAX_MS);
        struct timeval tv = {BACKOFF_MAX_MS / 1000, 0};
        evtimer_add(w->restart, &tv);
    }
}

/* ---- scrapes ----------------------------------------------------------- */

static size_t serving(const struct super *sp)
{
    size_t k = 0;
    for (size_t i = 0; i < sp->n; i++)
        k += sp->w[i].pid && sp->w[i].ready && sp->w[i].link;
    return k;
}

static void health_answer(struct scrape *sc, struct evbuffer *body)
{
    struct super *sp = sc->sup;
    int ok = sc->healthy > 0;
    if (sc->healthy == sp->n)
        evbuffer_add_printf(body, "ok\n");
    else if (ok)
        evbuffer_add_printf(body, "%zu of %zu workers serving\n", sc->healthy,
                            sp->n);
    else
        evbuffer_add_printf(body, "%s\n", sc->why[0] ? sc->why
                                                     : "no worker serving");
    admin_http_answer(sc->req, ok ? 200 : 503, 0, body);
}

static void metrics_answer(struct scrape *sc, struct evbuffer *body)
{
    struct evbuffer *own = evbuffer_new();
    int ok = own && sc->sum;
    if (ok) {
        metrics_render(sc->sup->metrics, own);
        ok = msum_add(sc->sum, (const char *)evbuffer_pullup(own, -1),
                      evbuffer_get_length(own)) == 0;
    }
    if (ok)
        msum_render(sc->sum, body);
    else
        evbuffer_add_printf(body, "out of memory\n");
    admin_http_answer(sc->req, ok ? 200 : 503, 1, body);
    if (own)
        evbuffer_free(own);
}

static void scrape_finish(struct scrape *sc)
{
    struct super *sp = sc->sup;
    struct scrape **p = &sp->scrapes;
    while (*p != sc)
        p = &(*p)->next;
    *p = sc->next;
    struct evbuffer *body = evbuffer_new();
    if (!body)
        admin_http_answer(sc->req, 503, 0, NULL);
    else if (sc->metrics)
        metrics_answer(sc, body);
    else
        health_answer(sc, body);
    if (body)
        evbuffer_free(body);
    if (sc->timeout)
        event_free(sc->timeout);
    msum_free(sc->sum);
    free(sc);
}

static void on_scrape_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct scrape *sc = arg;
    (void)fd;
    (void)what;
    log_warn("main", "%zu worker(s) did not answer a scrape of %s in %d ms",
             sc->waiting, sc->metrics ? "/metrics" : "/healthz", SCRAPE_MS);
    scrape_finish(sc);
}

/* A worker's answer, or its absence (data NULL: the worker is gone). */
static void scrape_answer(struct scrape *sc, size_t idx, const char *data,
                          size_t len)
{
    if (!sc->asked[idx])
        return;
    sc->asked[idx] = 0;
    sc->waiting--;
    if (data && sc->metrics) {
        if (msum_add(sc->sum, data, len) < 0)
            log_warn("main", "out of memory adding up metrics");
    } else if (data && len > 0 && data[0] == '1') {
        sc->healthy++;
    } else if (!sc->why[0]) {
        snprintf(sc->why, sizeof sc->why, "worker %zu: %s", idx,
                 data && len > 1 ? data + 1 : "gone");
    }
    if (sc->waiting == 0)
        scrape_finish(sc);
}

static void on_admin(void *arg, struct evhttp_request *req, int metrics)
{
    struct super *sp = arg;
    struct scrape *sc = calloc(1, sizeof *sc + sp->n);
    if (!sc || (metrics && !(sc->sum = msum_new()))) {
        free(sc);
        admin_http_answer(req, 503, 0, NULL);
        return;
    }
    *sc = (struct scrape){.sup = sp, .next = sp->scrapes, .req = req,
                          .id = ++sp->next_id, .metrics = metrics, .sum = sc->sum};
    sp->scrapes = sc;
    for (size_t i = 0; i < sp->n; i++) {
        struct worker *w = &sp->w[i];
        if (w->pid && w->ready && w->link &&
            wlink_send(w->link, metrics ? WLINK_METRICS : WLINK_HEALTH, sc->id,
                       NULL, 0) == 0) {
            sc->asked[i] = 1;
            sc->waiting++;
        }
    }
    struct timeval tv = {SCRAPE_MS / 1000, (SCRAPE_MS % 1000) * 1000};
    if (sc->waiting == 0 || !(sc->timeout = evtimer_new(sp->base,
                                                        on_scrape_timeout, sc)))
        scrape_finish(sc);
    else
        evtimer_add(sc->timeout, &tv);
}

/* ---- the workers' frames and ends -------------------------------------- */

static void on_frame(void *arg, int type, uint32_t id, const char *data,
                     size_t len)
{
    struct worker *w = arg;
    struct super *sp = w->sup;
    if (type == WLINK_READY) {
        w->ready = 1;
        log_info("main", "worker %zu (pid %d) serving", w->idx, (int)w->pid);
        if (!sp->started && serving(sp) == sp->n) {
            sp->started = 1;
            log_info("main", "all %zu workers serving on port %d", sp->n,
                     sp->port);
            daemon_notify_ready();
        }
        return;
    }
    for (struct scrape *sc = sp->scrapes; sc; sc = sc->next)
        if (sc->id == id && sc->metrics == (type == WLINK_METRICS)) {
            scrape_answer(sc, w->idx, data, len);
            return;
        }
}

/* Every scrape waiting for w's answer goes on without it. */
static void forget_link(struct worker *w)
{
    if (!w->link)
        return;
    wlink_free(w->link);
    w->link = NULL;
    for (struct scrape *sc = w->sup->scrapes, *next; sc; sc = next) {
        next = sc->next;
        scrape_answer(sc, w->idx, NULL, 0);
    }
}

static void on_link_closed(void *arg) { forget_link(arg); }

static void describe(int st, char *buf, size_t len)
{
    if (WIFSIGNALED(st))
        snprintf(buf, len, "was killed by signal %d (%s)", WTERMSIG(st),
                 strsignal(WTERMSIG(st)));
    else
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(st));
}

static size_t running(const struct super *sp)
{
    size_t k = 0;
    for (size_t i = 0; i < sp->n; i++)
        k += sp->w[i].pid != 0;
    return k;
}

static void reaped(struct worker *w, int st)
{
    struct super *sp = w->sup;
    char how[96];
    describe(st, how, sizeof how);
    pid_t pid = w->pid;
    w->pid = 0;
    w->ready = 0;
    wshare_set_held(sp->ws, w->idx, 0);
    forget_link(w);
    int clean = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    if (sp->draining) {
        if (!clean)
            sp->status = EXIT_RUNTIME;
        log_info("main", "worker %zu (pid %d) %s", w->idx, (int)pid, how);
        if (running(sp) == 0)
            event_base_loopexit(sp->base, NULL);
        return;
    }
    if (!sp->started) {
        log_error("main", "worker %zu (pid %d) %s before every worker was "
                  "serving: stopping", w->idx, (int)pid, how);
        sp->status = EXIT_RUNTIME;
        drain_all(sp);
        return;
    }
    int64_t ran = clock_mono_ms() - w->started_ms;
    w->backoff_ms = ran >= STABLE_MS ? 0
                    : w->backoff_ms * 2 < BACKOFF_MIN_MS ? BACKOFF_MIN_MS
                    : w->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
                    : w->backoff_ms * 2;
    mseries_add(sp->restarts, 1);
    log_warn("main", "worker %zu (pid %d) %s after %" PRId64 " ms; restarting "
             "it in %" PRId64 " ms (its clients reconnect to the others)",
             w->idx, (int)pid, how, ran, w->backoff_ms);
    struct timeval tv = {w->backoff_ms / 1000, (w->backoff_ms % 1000) * 1000};
    evtimer_add(w->restart, &tv);
}

static void on_sigchld(evutil_socket_t fd, short what, void *arg)
{
    struct super *sp = arg;
    int st;
    pid_t pid;
    (void)fd;
    (void)what;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
        for (size_t i = 0; i < sp->n; i++)
            if (sp->w[i].pid == pid) {
                reaped(&sp->w[i], st);
                break;
            }
}

/* ---- stopping ---------------------------------------------------------- */

static void on_hard_stop(evutil_socket_t fd, short what, void *arg)
{
    struct super *sp = arg;
    (void)fd;
    (void)what;
    log_error("main", "%zu worker(s) still running %d ms past the drain "
              "window: killing them", running(sp), DRAIN_GRACE_MS);
    sp->status = EXIT_RUNTIME;
    for (size_t i = 0; i < sp->n; i++)
        if (sp->w[i].pid)
            kill(sp->w[i].pid, SIGKILL);
}

static void drain_all(struct super *sp)
{
    if (sp->draining)
        return;
    sp->draining = 1;
    for (size_t i = 0; i < sp->n; i++) {
        struct worker *w = &sp->w[i];
        evtimer_del(w->restart);
        /* No link (it failed): a signal is all there is. */
        if (w->pid && (!w->link || wlink_send(w->link, WLINK_DRAIN, 0, NULL, 0) < 0))
            kill(w->pid, SIGTERM);
    }
    if (running(sp) == 0) {
        event_base_loopexit(sp->base, NULL);
        return;
    }
    int64_t ms = sp->cfg->http.drain_ms + DRAIN_GRACE_MS;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    if ((sp->hard_stop = evtimer_new(sp->base, on_hard_stop, sp)))
        evtimer_add(sp->hard_stop, &tv);
    log_info("main", "draining %zu workers", running(sp));
}

static void on_stop(void *arg) { drain_all(arg); }

/* ---- setup ------------------------------------------------------------- */

static double gauge_workers(void *arg) { return (double)serving(arg); }

static int setup(struct super *sp, char *err, size_t errlen)
{
    char host[256];
    int want;
    if (!(sp->base = event_base_new()) || !(sp->metrics = metrics_new()) ||
        !(sp->daemon = daemon_new(sp->base, on_stop, sp)) ||
        !(sp->w = calloc(sp->n, sizeof *sp->w)) ||
        !(sp->sigchld = evsignal_new(sp->base, SIGCHLD, on_sigchld, sp)) ||
        event_add(sp->sigchld, NULL) < 0) {
        snprintf(err, errlen, "cannot set up the event loop");
        return -1;
    }
    if (!(sp->ws = wshare_create(sp->n))) {
        snprintf(err, errlen, "cannot make the workers' shared page: %s",
                 strerror(errno));
        return -1;
    }
    if (admin_split_hostport(sp->cfg->http.listen, host, sizeof host, &want) < 0 ||
        (sp->port_fd = server_reuseport_socket(sp->cfg->http.listen, want, 0,
                                               &sp->port)) < 0) {
        snprintf(err, errlen, "http.listen: cannot listen on %s (in use?)",
                 sp->cfg->http.listen);
        return -1;
    }
    if (!(sp->admin = admin_http_new(sp->base, sp->cfg->metrics.listen,
                                     sp->metrics, NULL, NULL, err, errlen)))
        return -1;
    admin_http_defer(sp->admin, on_admin, sp);
    metrics_gauge_cb(sp->metrics, "sse_workers", "Worker processes serving",
                     gauge_workers, sp);
    sp->restarts = metrics_series(metrics_family(sp->metrics, METRIC_COUNTER,
        "sse_worker_restarts_total", "Workers restarted after they died",
        NULL), NULL);
    for (size_t i = 0; i < sp->n; i++) {
        sp->w[i] = (struct worker){.sup = sp, .idx = i};
        if (!(sp->w[i].restart = evtimer_new(sp->base, on_restart, &sp->w[i]))) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

static void teardown(struct super *sp)
{
    while (sp->scrapes)
        scrape_finish(sp->scrapes);
    for (size_t i = 0; sp->w && i < sp->n; i++) {
        if (sp->w[i].pid)
            kill(sp->w[i].pid, SIGKILL);
        wlink_free(sp->w[i].link);
        if (sp->w[i].restart)
            event_free(sp->w[i].restart);
    }
    free(sp->w);
    if (sp->hard_stop)
        event_free(sp->hard_stop);
    if (sp->sigchld)
        event_free(sp->sigchld);
    admin_http_free(sp->admin);
    if (sp->port_fd >= 0)
        close(sp->port_fd);
    wshare_free(sp->ws);
    daemon_free(sp->daemon);
    metrics_free(sp->metrics);
    if (sp->base)
        event_base_free(sp->base);
}

int super_run(const struct sse_cfg *cfg, size_t n, char *const argv[])
{
    char err[512];
    struct super sp = {.cfg = cfg, .argv = argv, .n = n, .port_fd = -1,
                       .self = getpid()};
    if (setup(&sp, err, sizeof err) < 0) {
        log_error("main", "%s", err);
        teardown(&sp);
        return EXIT_RUNTIME;
    }
    for (size_t i = 0; i < n; i++)
        if (spawn(&sp.w[i]) < 0) {
            log_error("main", "cannot start worker %zu: %s", i, strerror(errno));
            teardown(&sp);
            return EXIT_RUNTIME;
        }
    log_info("main", "outbox-sse %s started as '%s': a supervisor of %zu "
             "workers; http on port %d, metrics on port %d", OUTBOX_VERSION,
             cfg->name, n, sp.port, admin_http_port(sp.admin));
    event_base_dispatch(sp.base);
    log_info("main", "stopped");
    int status = sp.status;
    teardown(&sp);
    return status;
}

/* ---- the worker's side ------------------------------------------------- */

int super_worker_env(struct super_worker *w)
{
    const char *v = getenv(SUPER_ENV);
    if (!v)
        return 0;
    char tail;
    unsigned long idx, count;
    int port;
    if (sscanf(v, "%lu/%lu/%d%c", &idx, &count, &port, &tail) != 3 ||
        idx >= count || port <= 0 || port > 65535)
        return -1;
    *w = (struct super_worker){idx, count, port};
    return 1;
}

size_t super_workers_wanted(const struct sse_cfg *cfg)
{
    if (cfg->http.workers > 0)
        return (size_t)cfg->http.workers;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return cores > 0 ? (size_t)cores : 1;
}
