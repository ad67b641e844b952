/* SPDX-License-Identifier: Apache-2.0 */
#include "sse/deadline.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "common/clock.h"

#define BUCKETS 4096 /* power of two */
#define TICK_MS 100

/* One connection on the clock: in the deadline order and in a bucket. */
struct pending {
    struct bufferevent *bev;
    struct evbuffer_cb_entry *screen; /* until the method has been seen */
    int64_t due_ms;
    struct pending *prev, *next; /* by due time: all get the same timeout */
    struct pending *hnext;
};

struct deadline {
    struct event_base *base;
    int64_t ms;
    struct pending *head, *tail;
    struct pending *buckets[BUCKETS];
    size_t count; /* on the clock */
    struct event *tick;
    struct mseries *expired;
};

static struct pending **bucket(struct deadline *d, const struct bufferevent *bev)
{
    return &d->buckets[((uintptr_t)bev >> 4) & (BUCKETS - 1)];
}

/* Off the clock: out of both lists, the hold let go. */
static void release(struct deadline *d, struct pending *p)
{
    struct pending **h = bucket(d, p->bev);
    while (*h != p)
        h = &(*h)->hnext;
    *h = p->hnext;
    if (p->prev)
        p->prev->next = p->next;
    else
        d->head = p->next;
    if (p->next)
        p->next->prev = p->prev;
    else
        d->tail = p->prev;
    if (p->screen)
        evbuffer_remove_cb_entry(bufferevent_get_input(p->bev), p->screen);
    bufferevent_decref(p->bev);
    free(p);
    d->count--;
}

static int known_method(const char *m, size_t n)
{
    static const char *const known[] = {"GET", "HEAD", "POST", "PUT",
        "DELETE", "OPTIONS", "TRACE", "CONNECT", "PATCH"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strlen(known[i]) == n && !memcmp(known[i], m, n))
            return 1;
    return 0;
}

/* libevent 2.1's evhttp answers a method it does not know with 501
 * before any callback of ours runs; a made-up method is the client's
 * error, so it is renamed to one we refuse with 405 (and Allow). */
static void screen_method(struct evbuffer *buf,
                          const struct evbuffer_cb_info *info, void *arg)
{
    struct pending *p = arg;
    char head[16];
    if (!info->n_added)
        return;
    ev_ssize_t n = evbuffer_copyout(buf, head, sizeof head);
    const char *sp = n > 0 ? memchr(head, ' ', (size_t)n) : NULL;
    if (!sp && n < (ev_ssize_t)sizeof head)
        return; /* the method is not all there yet */
    evbuffer_remove_cb_entry(buf, p->screen);
    p->screen = NULL;
    if (!sp || known_method(head, (size_t)(sp - head)))
        return; /* a known method, or no request line evhttp will accept */
    evbuffer_drain(buf, (size_t)(sp - head));
    evbuffer_prepend(buf, "PATCH", 5);
}

static struct bufferevent *make_bev(struct event_base *base, void *arg)
{
    struct deadline *d = arg;
    struct bufferevent *bev = bufferevent_socket_new(base, -1,
                                                     BEV_OPT_CLOSE_ON_FREE);
    struct pending *p = bev ? calloc(1, sizeof *p) : NULL;
    if (!p)
        return bev; /* no deadline then, only evhttp's idle timeout */
    bufferevent_incref(bev);
    *p = (struct pending){.bev = bev, .due_ms = clock_mono_ms() + d->ms,
                          .prev = d->tail};
    if (d->tail)
        d->tail->next = p;
    else
        d->head = p;
    d->tail = p;
    struct pending **h = bucket(d, bev);
    p->hnext = *h;
    *h = p;
    d->count++;
    p->screen = evbuffer_add_cb(bufferevent_get_input(bev), screen_method, p);
    return bev;
}

void deadline_met(struct deadline *d, struct evhttp_request *req)
{
    if (!d)
        return;
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon)
                                    : NULL;
    for (struct pending *p = bev ? *bucket(d, bev) : NULL; p; p = p->hnext)
        if (p->bev == bev) {
            release(d, p);
            return;
        }
}

/* evhttp clears a bufferevent's callbacks when it frees it; with our hold
 * the socket would stay open until the deadline, and a client reading an
 * error response to its end would wait for it. */
static int freed_by_evhttp(struct bufferevent *bev)
{
    bufferevent_event_cb eventcb = NULL;
    bufferevent_getcb(bev, NULL, NULL, &eventcb, NULL);
    return eventcb == NULL;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct deadline *d = arg;
    int64_t now = clock_mono_ms();
    (void)fd;
    (void)what;
    for (struct pending *p = d->head, *next; p; p = next) {
        next = p->next;
        if (p->due_ms > now) {
            if (freed_by_evhttp(p->bev))
                release(d, p);
            continue;
        }
        evutil_socket_t s = bufferevent_getfd(p->bev);
        if (!freed_by_evhttp(p->bev) && s >= 0 && shutdown(s, SHUT_RDWR) == 0)
            mseries_add(d->expired, 1); /* evhttp sees EOF and frees it */
        release(d, p);
    }
}

size_t deadline_pending(const struct deadline *d)
{
    return d ? d->count : 0;
}

struct deadline *deadline_new(struct event_base *base, struct evhttp *http,
                              int64_t ms, struct mseries *expired)
{
    struct deadline *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->base = base;
    d->ms = ms;
    d->expired = expired;
    d->tick = event_new(base, -1, EV_PERSIST, on_tick, d);
    if (!d->tick) {
        free(d);
        return NULL;
    }
    struct timeval tv = {0, TICK_MS * 1000};
    event_add(d->tick, &tv);
    evhttp_set_bevcb(http, make_bev, d);
    return d;
}

void deadline_free(struct deadline *d)
{
    if (!d)
        return;
    while (d->head)
        release(d, d->head);
    event_free(d->tick);
    free(d);
}
