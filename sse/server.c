/* SPDX-License-Identifier: Apache-2.0 */
#include "sse/server.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>
#include <inttypes.h>
#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "common/admin_http.h"
#include "common/clock.h"
#include "common/log.h"
#include "sse/deadline.h"
#include "sse/frame.h"
#include "sse/route.h"
#include "sse/stream.h"
#include "sse/token.h"
#include "sse/wshare.h"

#define DRAIN_TICK_MS 20
#define TRIM_AFTER 1000 /* connections gone before memory is trimmed */
#define HEARTBEAT_TICK_MS 100
#define STATUS_CODES 600 /* HTTP status codes are 100..599 */

/* One request being served: a stream, or a poll waiting for its answer.
 * A poll is evhttp's request until it is answered; a stream is the
 * socket alone, taken from evhttp once its head is sent (sse/stream.h). */
struct conn {
    struct server *s;
    struct evhttp_request *req;      /* a poll's */
    struct evhttp_connection *evcon; /* a poll's */
    struct stream *st;               /* a stream's */
    struct hub_watch *w;
    struct conn *prev, *next; /* the server's list */
    int stream;
    char *user;    /* points into queue's allocation */
    char queue[];  /* queue NUL user NUL */
};

struct server {
    struct event_base *base;
    int devnull; /* the placeholder take_socket leaves evhttp */
    const struct sse_cfg *cfg;
    struct hub *hub;
    struct evhttp *http;
    struct evhttp_bound_socket *sock;
    struct deadline *deadline;
    int port;
    struct conn *conns; /* every conn; streams and polls */
    size_t nconns, nstreams;
    uint64_t next_id;
    struct event *heartbeat, *drain_timer;
    struct evbuffer *scratch; /* an event being written; empty in between */
    size_t trim_mark;         /* most connections since the last trim */
    struct conn *hb_next;     /* the next to ping in this heartbeat pass */
    size_t hb_share;          /* pings per tick in this pass */
    int64_t hb_pass_ms;       /* when this pass started */
    int hb_done;              /* this pass has reached the list's end */
    int draining;
    size_t drain_total;
    int64_t drain_started_ms;
    void (*drained)(void *);
    void *drained_arg;
    struct mseries *sent_rank, *sent_confirm, *sent_gone, *pings, *dropped,
        *streams_total, *refused;
    struct mfamily *responses;
    /* responses' series by status code, each looked up once, on its first
     * response, so that /metrics still lists only the codes answered */
    struct mseries *response_series[STATUS_CODES];
    struct mseries *header_timeouts;
    struct server_share share; /* .ws NULL: alone on the port */
};

/* ---- responses --------------------------------------------------------- */

static void count_response(struct server *s, int code)
{
    int known = code >= 0 && code < STATUS_CODES;
    struct mseries *ser = known ? s->response_series[code] : NULL;
    if (!ser) {
        char label[8];
        snprintf(label, sizeof label, "%d", code);
        ser = metrics_series(s->responses, label);
        if (known)
            s->response_series[code] = ser;
    }
    mseries_add(ser, 1);
}

/* The request's Origin when http.cors_origins allows it, else NULL. One
 * with a control byte is never echoed (a stream's head is written by
 * hand, see stream_head). */
static const char *cors_origin(struct server *s, struct evhttp_request *req)
{
    const char *origin = evhttp_find_header(evhttp_request_get_input_headers(req),
                                            "Origin");
    const struct cfg_strlist *allow = &s->cfg->http.cors_origins;
    for (const char *p = origin; p && *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return NULL;
    for (size_t i = 0; origin && i < allow->count; i++)
        if (!strcmp(allow->items[i], "*") || !strcmp(allow->items[i], origin))
            return origin;
    return NULL;
}

static void cors(struct server *s, struct evhttp_request *req)
{
    const char *origin = cors_origin(s, req);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    if (origin) {
        evhttp_add_header(h, "Access-Control-Allow-Origin", origin);
        evhttp_add_header(h, "Vary", "Origin");
    }
}

static void reply_json(struct server *s, struct evhttp_request *req, int code,
                       const char *reason, struct evbuffer *body)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "application/json");
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_send_reply(req, code, reason, body);
    count_response(s, code);
}

static void fail(struct server *s, struct evhttp_request *req, int code,
                 const char *msg)
{
    static const struct { int code; const char *reason; } R[] = {
        {400, "Bad Request"}, {401, "Unauthorized"}, {403, "Forbidden"},
        {404, "Not Found"}, {405, "Method Not Allowed"},
        {500, "Internal Server Error"}, {503, "Service Unavailable"}};
    const char *reason = "Error";
    for (size_t i = 0; i < sizeof R / sizeof R[0]; i++)
        if (R[i].code == code)
            reason = R[i].reason;
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    if (code == 503) {
        char v[24];
        snprintf(v, sizeof v, "%" PRId64, (s->cfg->http.retry_ms + 999) / 1000);
        evhttp_add_header(h, "Retry-After", v);
    }
    if (code == 405)
        evhttp_add_header(h, "Allow", "GET, OPTIONS");
    if (code == 401)
        evhttp_add_header(h, "WWW-Authenticate", "Bearer");
    struct evbuffer *body = evbuffer_new();
    if (body) {
        evbuffer_add(body, "{\"error\":", 9);
        frame_json_string(body, msg);
        evbuffer_add_printf(body, ",\"status\":%d}\n", code);
    }
    reply_json(s, req, code, reason, body);
    if (body)
        evbuffer_free(body);
}

/* ---- connections ------------------------------------------------------- */

/* This worker's count, for the others' limit (see wshare.h). */
static void publish_held(struct server *s, int64_t held)
{
    if (s->share.ws)
        wshare_set_held(s->share.ws, s->share.slot, held);
}

static void list_add(struct server *s, struct conn *c)
{
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    s->nstreams += c->stream;
    publish_held(s, (int64_t)(s->nconns + deadline_pending(s->deadline)));
}

/* Forgets the conn: its watch, its place in the list, its close callback,
 * and a stream's socket (closed: what the socket took still goes out).
 * What happens to a poll's HTTP connection is the caller's business. */
static void conn_forget(struct conn *c)
{
    struct server *s = c->s;
    if (c->w)
        hub_unwatch(c->w);
    if (s->hb_next == c)
        s->hb_next = c->next;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nconns--;
    s->nstreams -= c->stream;
    publish_held(s, (int64_t)(s->nconns + deadline_pending(s->deadline)));
    if (c->evcon)
        evhttp_connection_set_closecb(c->evcon, NULL, NULL);
    stream_close(c->st);
    free(c);
}

/* A poll's peer went away (or evhttp gave up on it). evhttp detaches a
 * request the application has not finished from its dying connection and
 * leaves it to us: ending it is what frees it. */
static void on_closed(struct evhttp_connection *evcon, void *arg)
{
    struct conn *c = arg;
    struct evhttp_request *req = c->req;
    (void)evcon;
    conn_forget(c);
    if (evhttp_request_get_connection(req) == NULL)
        evhttp_send_reply_end(req);
}

/* A stream's peer went away. */
static void on_stream_gone(void *arg) { conn_forget(arg); }

/* The stream ends well: its last event goes out, then FIN. */
static void stream_end(struct conn *c) { conn_forget(c); }

/* The reader is too slow: its waiting output is thrown away with it. */
static void stream_drop(struct conn *c)
{
    mseries_add(c->s->dropped, 1);
    log_debug("http", "cut off a slow reader of queue %s (user %s)", c->queue,
              c->user);
    conn_forget(c);
}

/* Sends buf (left empty) on the stream; 0, or -1 when the stream was cut
 * off (too slow) or found gone, and c freed. */
static int stream_write(struct conn *c, struct evbuffer *buf)
{
    enum stream_result r = stream_send(c->st, buf);
    if (r == STREAM_SLOW)
        stream_drop(c);
    else if (r == STREAM_GONE)
        conn_forget(c);
    return r == STREAM_OK ? 0 : -1;
}

static void admission_token(struct server *s, const struct conn *c, char *tok,
                            size_t len)
{
    const char *secret = s->cfg->auth.secret ? s->cfg->auth.secret : "";
    int64_t exp = (int64_t)time(NULL) + (s->cfg->auth.admission_ttl_ms + 999) / 1000;
    if (token_mint(secret, strlen(secret), TOKEN_ADMISSION, c->queue, c->user,
                   exp, tok, len) < 0)
        tok[0] = '\0';
}

/* A broadcast calls this for every watcher of a queue in one go, so it
 * allocates as little as it can: the event is built in place in the
 * server's scratch buffer and written to the socket from there; only
 * what a full socket does not take moves to the stream's own buffer. */
static void stream_notify(struct conn *c, const struct hub_state *st)
{
    struct server *s = c->s;
    struct evbuffer *ev = s->scratch;
    char tok[TOKEN_MAX];
    if (st->state == RANKS_WAITING) {
        frame_event_open(ev, s->next_id++, "rank");
        frame_rank_json(ev, c->queue, c->user, st);
        mseries_add(s->sent_rank, 1);
    } else if (st->state == RANKS_ADMITTED) {
        admission_token(s, c, tok, sizeof tok);
        frame_event_open(ev, s->next_id++, "confirm");
        frame_confirm_json(ev, c->queue, c->user, tok);
        mseries_add(s->sent_confirm, 1);
    } else {
        frame_event_open(ev, s->next_id++, "gone");
        frame_gone_json(ev, c->queue, c->user);
        mseries_add(s->sent_gone, 1);
    }
    frame_event_close(ev);
    if (stream_write(c, ev) == 0 && st->state != RANKS_WAITING)
        stream_end(c);
    /* Empty unless the stream was found gone. */
    evbuffer_drain(ev, evbuffer_get_length(ev));
}

static void poll_notify(struct conn *c, const struct hub_state *st)
{
    struct server *s = c->s;
    struct evhttp_request *req = c->req;
    char tok[TOKEN_MAX] = "";
    struct evbuffer *body = st ? evbuffer_new() : NULL;
    if (st && st->state == RANKS_ADMITTED)
        admission_token(s, c, tok, sizeof tok);
    if (body)
        frame_state_json(body, c->queue, c->user, st, tok);
    conn_forget(c);
    if (!body) {
        fail(s, req, 503, st ? "out of memory" : "the queue store is unreachable");
        return;
    }
    evbuffer_add(body, "\n", 1);
    reply_json(s, req, 200, "OK", body);
    evbuffer_free(body);
}

static void on_state(void *owner, const struct hub_state *st)
{
    struct conn *c = owner;
    if (!c->stream)
        poll_notify(c, st);
    else if (st)
        stream_notify(c, st);
    /* A stream whose first question failed stays open: Redis's return
     * recomputes everything. */
}

/* A poll (req) or a stream (fd, its head sent or not: see stream_start).
 * NULL when out of memory; a stream's fd is then closed. */
static struct conn *conn_new(struct server *s, struct evhttp_request *req,
                             evutil_socket_t fd, const char *queue,
                             const char *user)
{
    size_t ql = strlen(queue) + 1, ul = strlen(user) + 1;
    struct conn *c = calloc(1, sizeof *c + ql + ul);
    if (!c) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    c->s = s;
    c->stream = req == NULL;
    memcpy(c->queue, queue, ql);
    c->user = c->queue + ql;
    memcpy(c->user, user, ul);
    if (req) {
        c->req = req;
        c->evcon = evhttp_request_get_connection(req);
        evhttp_connection_set_closecb(c->evcon, on_closed, c);
    } else {
        /* No read timeout on a stream (browsers send nothing), but a
         * write timeout: a reader that takes nothing for that long is
         * gone. */
        int64_t wt = s->cfg->http.heartbeat_ms * 2;
        if (wt < s->cfg->http.header_timeout_ms)
            wt = s->cfg->http.header_timeout_ms;
        if (!(c->st = stream_open(s->base, fd,
                                  (size_t)s->cfg->http.max_output_buffer, wt,
                                  on_stream_gone, c))) {
            close(fd);
            free(c);
            return NULL;
        }
    }
    list_add(s, c);
    if (!(c->w = hub_watch(s->hub, queue, user, on_state, c))) {
        conn_forget(c);
        return NULL;
    }
    return c;
}

/* Takes the socket of req's connection from evhttp, which frees the
 * connection and the request with it: a stream keeps nothing of evhttp's.
 * libevent 2.1 has no call that hands a socket over, and the connection,
 * when freed, shuts its socket down for writing and closes it; so the
 * socket moves to a descriptor of ours, and /dev/null takes its old
 * number for evhttp to shut down and close. Its events are taken off the
 * loop first, so none outlives the number. -1 when a descriptor cannot
 * be had (req is then still evhttp's, to be answered). */
static evutil_socket_t take_socket(const struct server *s,
                                   struct evhttp_request *req)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon)
                                    : NULL;
    evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
    int mine = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
    if (mine < 0)
        return -1;
    bufferevent_disable(bev, EV_READ | EV_WRITE);
    bufferevent_set_timeouts(bev, NULL, NULL);
    if (dup2(s->devnull, fd) < 0) {
        close(mine);
        bufferevent_enable(bev, EV_READ);
        return -1;
    }
    evhttp_connection_set_closecb(evcon, NULL, NULL);
    evhttp_connection_free(evcon); /* and req; evhttp reads neither again */
    return mine;
}

/* The response's head, written by hand: the body is the stream, ended by
 * closing the connection (no chunked encoding, no length). */
static void stream_head(struct server *s, const char *origin,
                        struct evbuffer *out)
{
    evbuffer_add_printf(out, "HTTP/1.1 200 OK\r\n"
                        "Content-Type: text/event-stream\r\n"
                        "Cache-Control: no-cache\r\n"
                        "X-Accel-Buffering: no\r\n"
                        "Connection: close\r\n");
    if (origin)
        evbuffer_add_printf(out, "Access-Control-Allow-Origin: %s\r\n"
                            "Vary: Origin\r\n", origin);
    evbuffer_add(out, "\r\n", 2);
    frame_retry(out, s->cfg->http.retry_ms);
}

static void stream_start(struct server *s, struct evhttp_request *req,
                         const char *queue, const char *user)
{
    struct evbuffer *head = s->scratch;
    stream_head(s, cors_origin(s, req), head);
    evutil_socket_t fd = take_socket(s, req);
    if (fd < 0) {
        evbuffer_drain(head, evbuffer_get_length(head));
        fail(s, req, 503, "out of descriptors");
        return;
    }
    count_response(s, 200);
    mseries_add(s->streams_total, 1);
    /* The kernel's send buffer is unsent output too: left to autotuning it
     * grows to megabytes behind a stalled reader, unseen by the bound on
     * our own buffer (and 100,000 of them add up). */
    int sndbuf = (int)s->cfg->http.max_output_buffer;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    struct conn *c = conn_new(s, NULL, fd, queue, user);
    if (c)
        stream_write(c, head);
    evbuffer_drain(head, evbuffer_get_length(head));
}

/* ---- requests ---------------------------------------------------------- */

static void preflight(struct server *s, struct evhttp_request *req)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Access-Control-Allow-Methods", "GET, OPTIONS");
    evhttp_add_header(h, "Access-Control-Allow-Headers",
                      "Last-Event-ID, Cache-Control");
    evhttp_add_header(h, "Access-Control-Max-Age", "600");
    evhttp_send_reply(req, 204, "No Content", NULL);
    count_response(s, 204);
}

/* 0 when the request may be served; else the status, with *why. */
static int admit(struct server *s, struct evhttp_request *req,
                 const struct evhttp_uri *uri, struct route *r,
                 const char **why)
{
    const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
    *why = "draining";
    if (s->draining)
        return 503;
    *why = "only GET is served";
    if (evhttp_request_get_command(req) != EVHTTP_REQ_GET)
        return 405;
    const char *secret = s->cfg->auth.mode == SSE_AUTH_NONE ? NULL
                         : s->cfg->auth.secret ? s->cfg->auth.secret : "";
    const char *last = evhttp_find_header(evhttp_request_get_input_headers(req),
                                          "Last-Event-ID");
    int code = route_request(uri ? evhttp_uri_get_path(uri) : NULL, query, last,
                             secret, time(NULL), r, why);
    /* Connections still sending their request count too: otherwise idle
     * sockets pile up past the limit, each holding memory and a
     * descriptor, while the limit is said to be in force. This request is
     * off the clock already (deadline_met) and counts as one of nconns
     * once it is served. */
    int64_t held = (int64_t)(s->nconns + deadline_pending(s->deadline));
    publish_held(s, held);
    if (s->share.ws)
        held += wshare_held_by_others(s->share.ws, s->share.slot);
    if (!code && held >= s->cfg->http.max_connections) {
        mseries_add(s->refused, 1);
        *why = "too many connections";
        code = 503;
    }
    return code;
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct server *s = arg;
    const char *why;
    struct route r = {0};
    deadline_met(s->deadline, req);
    /* One request per connection: the header deadline then covers all. */
    evhttp_add_header(evhttp_request_get_output_headers(req), "Connection",
                      "close");
    cors(s, req);
    if (evhttp_request_get_command(req) == EVHTTP_REQ_OPTIONS && !s->draining) {
        preflight(s, req);
        return;
    }
    int code = admit(s, req, evhttp_request_get_evhttp_uri(req), &r, &why);
    if (code)
        fail(s, req, code, why);
    else if (r.stream)
        stream_start(s, req, r.queue, r.user);
    else if (!conn_new(s, req, -1, r.queue, r.user))
        fail(s, req, 503, "out of memory");
}

/* ---- heartbeats and draining ------------------------------------------ */

/* Pings go out in slices, one every HEARTBEAT_TICK_MS, so that a pass
 * over every stream takes one http.heartbeat_interval: pinging them all at
 * once stalled the loop (and every rank due meanwhile) for a third of a
 * second at 10,000 streams. A pass starts at most once per interval and
 * takes the streams from the head of the list; streams opened during a
 * pass wait for the next one, so two pings of a stream are at most two
 * intervals apart. */
/* After a surge of streams has gone (a deploy's reconnect storm, a sale
 * that ended), hand the freed memory back to the system: glibc keeps it
 * for reuse otherwise, and an instance would sit at its peak for good. */
static void give_back_memory(struct server *s)
{
    if (s->nconns > s->trim_mark)
        s->trim_mark = s->nconns;
    if (s->trim_mark - s->nconns >= TRIM_AFTER &&
        s->nconns < s->trim_mark / 2) {
        malloc_trim(0);
        s->trim_mark = s->nconns;
    }
}

static void on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
    struct server *s = arg;
    (void)fd;
    (void)what;
    int64_t now = clock_mono_ms();
    if (s->hb_done && now - s->hb_pass_ms >= s->cfg->http.heartbeat_ms) {
        int64_t slices = s->cfg->http.heartbeat_ms / HEARTBEAT_TICK_MS;
        s->hb_next = s->conns;
        s->hb_share = (s->nconns + (size_t)slices - 1) / (size_t)(slices > 0 ? slices : 1);
        s->hb_pass_ms = now;
        s->hb_done = 0;
    }
    for (size_t k = 0; !s->hb_done && k < s->hb_share; k++) {
        struct conn *c = s->hb_next;
        if (!c) {
            s->hb_done = 1;
            break;
        }
        s->hb_next = c->next; /* c may be cut off */
        if (!c->stream)
            continue;
        frame_ping(s->scratch);
        mseries_add(s->pings, 1);
        stream_write(c, s->scratch);
        evbuffer_drain(s->scratch, evbuffer_get_length(s->scratch));
    }
    if (!s->hb_next)
        s->hb_done = 1;
    give_back_memory(s);
    publish_held(s, (int64_t)(s->nconns + deadline_pending(s->deadline)));
}

static void on_drain_tick(evutil_socket_t fd, short what, void *arg)
{
    struct server *s = arg;
    (void)fd;
    (void)what;
    int64_t window = s->cfg->http.drain_ms;
    int64_t elapsed = clock_mono_ms() - s->drain_started_ms;
    /* Close so many that the last goes at the end of the window. */
    size_t due = elapsed >= window ? s->drain_total
                 : (size_t)ceil((double)s->drain_total * (double)elapsed /
                                (double)window);
    size_t closed = s->drain_total - s->nstreams;
    for (struct conn *c = s->conns, *next; c && closed < due; c = next) {
        next = c->next;
        if (c->stream) {
            stream_end(c);
            closed++;
        }
    }
    if (s->nstreams == 0) {
        event_del(s->drain_timer);
        if (s->drained)
            s->drained(s->drained_arg);
    }
}

void server_drain(struct server *s, void (*done)(void *arg), void *arg)
{
    if (s->draining)
        return;
    s->draining = 1;
    s->drained = done;
    s->drained_arg = arg;
    if (s->sock)
        evhttp_del_accept_socket(s->http, s->sock);
    s->sock = NULL;
    struct evbuffer *buf = evbuffer_new();
    for (struct conn *c = s->conns, *next; buf && c; c = next) {
        next = c->next;
        if (c->stream) {
            frame_retry(buf, s->cfg->http.retry_ms);
            stream_write(c, buf);
        }
    }
    if (buf)
        evbuffer_free(buf);
    s->drain_total = s->nstreams;
    s->drain_started_ms = clock_mono_ms();
    log_info("http", "draining %zu streams over %" PRId64 " ms", s->nstreams,
             s->cfg->http.drain_ms);
    struct timeval tv = {0, DRAIN_TICK_MS * 1000};
    evtimer_add(s->drain_timer, &tv);
}

/* ---- setup ------------------------------------------------------------- */

static void register_metrics(struct server *s, struct metrics *m)
{
    struct mfamily *ev = metrics_family(m, METRIC_COUNTER, "sse_events_sent_total",
                                        "SSE events sent, by type", "type");
    s->sent_rank = metrics_series(ev, "rank");
    s->sent_confirm = metrics_series(ev, "confirm");
    s->sent_gone = metrics_series(ev, "gone");
    s->pings = metrics_series(ev, "ping");
    s->dropped = metrics_series(metrics_family(m, METRIC_COUNTER,
        "sse_slow_clients_dropped_total",
        "Streams cut off because their reader fell behind", NULL), NULL);
    s->streams_total = metrics_series(metrics_family(m, METRIC_COUNTER,
        "sse_streams_total", "Streams opened", NULL), NULL);
    s->refused = metrics_series(metrics_family(m, METRIC_COUNTER,
        "sse_connections_refused_total",
        "Requests refused at http.max_connections", NULL), NULL);
    s->responses = metrics_family(m, METRIC_COUNTER, "sse_http_responses_total",
                                  "HTTP responses, by status", "code");
    s->header_timeouts = metrics_series(metrics_family(m, METRIC_COUNTER,
        "sse_header_timeouts_total",
        "Connections cut off for not sending a whole request in time", NULL),
        NULL);
}

static double gauge_streams(void *arg) { return (double)((struct server *)arg)->nstreams; }

int server_reuseport_socket(const char *hostport, int port, int listen_too,
                            int *bound)
{
    char host[256], sport[8];
    int ignored, one = 1;
    struct evutil_addrinfo hints = {.ai_family = AF_UNSPEC,
                                    .ai_socktype = SOCK_STREAM,
                                    .ai_flags = EVUTIL_AI_PASSIVE |
                                                EVUTIL_AI_NUMERICHOST},
                           *ai = NULL;
    if (admin_split_hostport(hostport, host, sizeof host, &ignored) < 0) {
        errno = EINVAL;
        return -1;
    }
    snprintf(sport, sizeof sport, "%d", port);
    if (evutil_getaddrinfo(host, sport, &hints, &ai) != 0 || !ai) {
        errno = EINVAL;
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 ||
        bind(fd, ai->ai_addr, (socklen_t)ai->ai_addrlen) < 0 ||
        (listen_too && listen(fd, 4096) < 0)) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        evutil_freeaddrinfo(ai);
        errno = e;
        return -1;
    }
    evutil_freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *bound = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                            : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

/* The listening socket: the port alone, or a worker's share of it. */
static struct evhttp_bound_socket *server_listen(struct server *s)
{
    if (!s->share.ws)
        return admin_http_bind(s->http, s->cfg->http.listen, &s->port);
    int fd = server_reuseport_socket(s->cfg->http.listen, s->share.port, 1,
                                     &s->port);
    struct evhttp_bound_socket *bs = fd < 0 ? NULL
                                     : evhttp_accept_socket_with_handle(s->http, fd);
    if (fd >= 0 && !bs)
        close(fd);
    return bs;
}

struct server *server_new(struct event_base *base, const struct sse_cfg *cfg,
                          struct hub *hub, struct metrics *m,
                          const struct server_share *share, char *err,
                          size_t errlen)
{
    struct server *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    struct timeval now;
    gettimeofday(&now, NULL);
    /* Ids grow across restarts too: a browser's Last-Event-ID is older. */
    *s = (struct server){.base = base, .devnull = -1, .cfg = cfg, .hub = hub,
                         .next_id = (uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_usec};
    if (share)
        s->share = *share;
    if ((s->devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
        snprintf(err, errlen, "cannot open /dev/null: %s", strerror(errno));
        server_free(s);
        return NULL;
    }
    s->http = evhttp_new(base);
    s->heartbeat = event_new(base, -1, EV_PERSIST, on_heartbeat, s);
    s->drain_timer = event_new(base, -1, EV_PERSIST, on_drain_tick, s);
    s->scratch = evbuffer_new();
    if (!s->http || !s->heartbeat || !s->drain_timer || !s->scratch ||
        !(s->sock = server_listen(s))) {
        snprintf(err, errlen, "http.listen: cannot listen on %s (in use?)",
                 cfg->http.listen);
        server_free(s);
        return NULL;
    }
    evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
        EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
        EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
        EVHTTP_REQ_PATCH);
    evhttp_set_max_headers_size(s->http, 16384);
    evhttp_set_max_body_size(s->http, 4096);
    struct timeval ht = {cfg->http.header_timeout_ms / 1000,
                         (cfg->http.header_timeout_ms % 1000) * 1000};
    evhttp_set_timeout_tv(s->http, &ht);
    evhttp_set_gencb(s->http, on_request, s);
    int64_t tick = cfg->http.heartbeat_ms < HEARTBEAT_TICK_MS
                       ? cfg->http.heartbeat_ms : HEARTBEAT_TICK_MS;
    struct timeval hb = {tick / 1000, (tick % 1000) * 1000};
    s->hb_pass_ms = clock_mono_ms();
    s->hb_done = 1;
    evtimer_add(s->heartbeat, &hb);
    if (m) {
        register_metrics(s, m);
        metrics_gauge_cb(m, "sse_connections", "Open SSE streams", gauge_streams, s);
    }
    if (!(s->deadline = deadline_new(base, s->http, cfg->http.header_timeout_ms,
                                     s->header_timeouts))) {
        snprintf(err, errlen, "out of memory");
        server_free(s);
        return NULL;
    }
    return s;
}

void server_free(struct server *s)
{
    if (!s)
        return;
    while (s->conns) /* evhttp_free below closes their connections */
        conn_forget(s->conns);
    if (s->http)
        evhttp_free(s->http);
    deadline_free(s->deadline); /* after evhttp let go of the connections */
    if (s->heartbeat)
        event_free(s->heartbeat);
    if (s->drain_timer)
        event_free(s->drain_timer);
    if (s->scratch)
        evbuffer_free(s->scratch);
    if (s->devnull >= 0)
        close(s->devnull);
    free(s);
}

int server_port(const struct server *s) { return s->port; }

