/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/bench/sse_fleet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sse/token.h"

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Local client j of process p binds 127.(p / 250 + 1).(p % 250 + 1).(k + 2)
 * with k = j / SF_PER_SOURCE_ADDR: no address carries more than
 * SF_PER_SOURCE_ADDR streams (k stays far below 250: a process holds fewer
 * than RLIMIT_NOFILE's streams). */
static uint32_t src_addr(int p, size_t j)
{
    uint32_t k = (uint32_t)(j / SF_PER_SOURCE_ADDR);
    return 0x7f000000u | ((uint32_t)(p / 250 + 1) << 16) |
           ((uint32_t)(p % 250 + 1) << 8) | (k % 250 + 2);
}

/* ---- one process's clients ---------------------------------------------- */

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
    int missed; /* an armed rank never came: not armed again */
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
    const char *secret; /* the tokens' */
    int proc;           /* this process's number, for its source addresses */
};

typedef sf_who_fn who_fn;

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
        .sin_addr.s_addr = htonl(src_addr(f->proc, i))};
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
    if (token_mint(f->secret, strlen(f->secret), TOKEN_SUBSCRIBE, queue, user,
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
    for (int64_t settle = 0, scan = 0; now_ns() < deadline;) {
        event_base_loop(f->base, EVLOOP_ONCE);
        /* every 100 ms all of them: a stream that ended long ago too */
        if (f->reopen && now_ns() >= scan) {
            fleet_reopen(f, from, to, who);
            scan = now_ns() + 100000000;
        } else if (f->reopen) {
            fleet_reopen(f, to > from + REOPEN_BACK ? to - REOPEN_BACK : from,
                         to, who);
        }
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

/* ---- the child: commands from the parent --------------------------------- */

enum { CMD_OPEN = 1, CMD_ARM, CMD_CLOSE, CMD_QUIT };

struct cmd {
    int op, port, window;
    enum sf_mode mode;
    size_t to, mod, rem; /* global indices */
    int64_t deadline;
    sf_who_fn who;
};

struct rep {
    int rc;
    size_t hits, errors, reopens, want, n; /* n: samples that follow */
    size_t missed; /* clients left out: they missed a rank before */
};

/* This process's place among the children (its own copy after fork). */
static int g_proc, g_procs;
static sf_who_fn g_who;

static size_t global_of(size_t j) { return j * (size_t)g_procs + (size_t)g_proc; }

static void who_local(size_t j, char *queue, size_t ql, char *user, size_t ul,
                      int64_t *rank)
{
    g_who(global_of(j), queue, ql, user, ul, rank);
}

static int full_write(int fd, const void *p, size_t len)
{
    const char *b = p;
    while (len) {
        ssize_t w = write(fd, b, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w;
        len -= (size_t)w;
    }
    return 0;
}

static int full_read(int fd, void *p, size_t len)
{
    char *b = p;
    while (len) {
        ssize_t r = read(fd, b, len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        b += r;
        len -= (size_t)r;
    }
    return 0;
}

/* Local clients [0, n) whose global index is below `to`. */
static size_t local_upto(size_t to)
{
    return to > (size_t)g_proc ? (to - (size_t)g_proc + (size_t)g_procs - 1) / (size_t)g_procs
                               : 0;
}

static void do_open(struct fleet *f, const struct cmd *c, struct rep *r)
{
    size_t to = local_upto(c->to);
    f->port = c->port;
    f->nchan = c->mode == SF_NCHAN;
    f->pushpin = c->mode == SF_PUSHPIN;
    /* every system's streams, as EventSource would (the summary counts
     * them): under load some of nchan's end while opening, with several
     * workers */
    f->reopen = 1;
    f->reopens = 0;
    g_who = c->who;
    r->rc = to > f->cap ? -1 : fleet_open(f, to, who_local, c->window);
    r->reopens = f->reopens;
}

/* Arms, answers how many, waits for them, then sends their times. */
static int do_arm(int fd, struct fleet *f, const struct cmd *c, struct rep *r)
{
    size_t hits0 = f->hits;
    for (size_t j = 0; j < f->n; j++) {
        struct cli *cl = &f->c[j];
        /* a dead client is armed too: it counts as a miss, once; one
         * that missed is left out after, or each wave would wait for it
         * until its deadline (the summary counts them) */
        if (!c->mod || global_of(j) % c->mod == c->rem) {
            if (cl->missed) {
                r->missed++;
                continue;
            }
            cl->expect = cl->rank + 1;
            cl->t_hit = 0;
            r->want++;
        }
    }
    if (full_write(fd, r, sizeof *r) < 0)
        return -1;
    fleet_wait(f, hits0 + r->want, c->deadline);
    int64_t *t = malloc((r->want + 1) * sizeof *t);
    if (!t)
        return -1;
    r->n = 0;
    for (size_t j = 0; j < f->n; j++) {
        struct cli *cl = &f->c[j];
        if ((c->mod && global_of(j) % c->mod != c->rem) || cl->missed)
            continue;
        if (cl->expect == -1 && cl->t_hit > 0 && r->n < r->want)
            t[r->n++] = cl->t_hit;
        else
            cl->missed = 1;
        cl->expect = -1; /* a miss is not waited for again */
        cl->t_hit = 0;
    }
    r->hits = r->n;
    int rc = full_write(fd, r, sizeof *r) < 0 ||
                     full_write(fd, t, r->n * sizeof *t) < 0 ? -1 : 0;
    free(t);
    return rc;
}

static struct cmd g_cmd;
static int g_pending;

static void on_cmd(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    (void)arg;
    if (full_read(fd, &g_cmd, sizeof g_cmd) < 0)
        g_cmd.op = CMD_QUIT; /* the parent is gone */
    g_pending = 1;
}

static void child_main(int fd, size_t cap, const char *secret)
{
    struct fleet f;
    if (fleet_init(&f, cap) < 0)
        _exit(1);
    f.secret = secret;
    f.proc = g_proc;
    struct event *ev = event_new(f.base, fd, EV_READ | EV_PERSIST, on_cmd, NULL);
    if (!ev || event_add(ev, NULL) < 0)
        _exit(1);
    for (;;) {
        event_base_loop(f.base, EVLOOP_ONCE);
        if (!g_pending)
            continue;
        g_pending = 0;
        struct rep r = {0};
        /* the loop runs again inside the commands: no command events then */
        event_del(ev);
        switch (g_cmd.op) {
        case CMD_OPEN:
            do_open(&f, &g_cmd, &r);
            break;
        case CMD_ARM:
            if (do_arm(fd, &f, &g_cmd, &r) < 0)
                _exit(1);
            event_add(ev, NULL);
            continue; /* it answered itself */
        case CMD_CLOSE:
            fleet_close(&f);
            break;
        default:
            fleet_free(&f);
            _exit(0);
        }
        r.hits = f.hits;
        r.errors = f.errors;
        if (full_write(fd, &r, sizeof r) < 0)
            _exit(1);
        event_add(ev, NULL);
    }
}

/* ---- the parent ----------------------------------------------------------- */

struct sfleet {
    int procs;
    size_t n;
    pid_t *pid;
    int *fd;
};

struct sfleet *sfleet_start(int procs, size_t cap, const char *secret)
{
    struct sfleet *f = calloc(1, sizeof *f);
    if (!f || procs < 1)
        return NULL;
    f->procs = procs;
    f->pid = calloc((size_t)procs, sizeof *f->pid);
    f->fd = calloc((size_t)procs, sizeof *f->fd);
    if (!f->pid || !f->fd)
        return NULL;
    size_t per = cap / (size_t)procs + 1;
    for (int p = 0; p < procs; p++) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
            return NULL;
        pid_t pid = fork();
        if (pid < 0)
            return NULL;
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            close(sv[0]);
            for (int q = 0; q < p; q++) /* the parent's ends to the others */
                close(f->fd[q]);
            g_proc = p;
            g_procs = procs;
            child_main(sv[1], per, secret);
        }
        close(sv[1]);
        f->pid[p] = pid;
        f->fd[p] = sv[0];
    }
    return f;
}

void sfleet_stop(struct sfleet *f)
{
    if (!f)
        return;
    struct cmd c = {.op = CMD_QUIT};
    for (int p = 0; p < f->procs; p++) {
        if (f->fd[p] >= 0) {
            full_write(f->fd[p], &c, sizeof c);
            close(f->fd[p]);
        }
        if (f->pid[p] > 0)
            waitpid(f->pid[p], NULL, 0);
    }
    free(f->pid);
    free(f->fd);
    free(f);
}

int sfleet_procs(const struct sfleet *f) { return f->procs; }

size_t sfleet_n(const struct sfleet *f) { return f->n; }

int sfleet_pids(const struct sfleet *f, pid_t *pids, int cap)
{
    int k = 0;
    for (int p = 0; p < f->procs && k < cap; p++)
        pids[k++] = f->pid[p];
    return k;
}

/* Sends c to every child; 0 or -1. */
static int send_all(struct sfleet *f, const struct cmd *c)
{
    for (int p = 0; p < f->procs; p++)
        if (full_write(f->fd[p], c, sizeof *c) < 0) {
            fprintf(stderr, "sse-bench: client process %d is gone\n", p);
            return -1;
        }
    return 0;
}

/* Every child's answer, added up into *sum; 0, or -1 when one failed. */
static int recv_all(struct sfleet *f, struct rep *sum)
{
    int rc = 0;
    memset(sum, 0, sizeof *sum);
    for (int p = 0; p < f->procs; p++) {
        struct rep r;
        if (full_read(f->fd[p], &r, sizeof r) < 0) {
            fprintf(stderr, "sse-bench: client process %d is gone\n", p);
            return -1;
        }
        rc |= r.rc;
        sum->hits += r.hits;
        sum->errors += r.errors;
        sum->reopens += r.reopens;
        sum->want += r.want;
        sum->missed += r.missed;
    }
    return rc ? -1 : 0;
}

int sfleet_open(struct sfleet *f, size_t to, sf_who_fn who, int port,
                enum sf_mode mode, int window, size_t *reopens)
{
    struct cmd c = {.op = CMD_OPEN, .port = port, .window = window,
                    .mode = mode, .to = to, .who = who};
    struct rep r;
    if (send_all(f, &c) < 0)
        return -1;
    int rc = recv_all(f, &r);
    if (reopens)
        *reopens = r.reopens;
    if (rc == 0)
        f->n = to;
    return rc;
}

long sfleet_arm(struct sfleet *f, size_t mod, size_t rem, int64_t deadline,
                size_t *missed)
{
    struct cmd c = {.op = CMD_ARM, .mod = mod, .rem = rem, .deadline = deadline};
    struct rep r;
    if (send_all(f, &c) < 0 || recv_all(f, &r) < 0)
        return -1;
    if (missed)
        *missed = r.missed;
    return (long)r.want;
}

int sfleet_collect(struct sfleet *f, int64_t *t, size_t cap, size_t *n)
{
    *n = 0;
    for (int p = 0; p < f->procs; p++) {
        struct rep r;
        if (full_read(f->fd[p], &r, sizeof r) < 0 || *n + r.n > cap ||
            full_read(f->fd[p], t + *n, r.n * sizeof *t) < 0) {
            fprintf(stderr, "sse-bench: client process %d is gone\n", p);
            return -1;
        }
        *n += r.n;
    }
    return 0;
}

int sfleet_close(struct sfleet *f)
{
    struct cmd c = {.op = CMD_CLOSE};
    struct rep r;
    f->n = 0;
    return send_all(f, &c) < 0 || recv_all(f, &r) < 0 ? -1 : 0;
}
