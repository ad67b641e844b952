#include "sse/deadline.h"

#include <event2/bufferevent.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "common/clock.h"

#define BUCKETS 4096 /* power of two */
#define TICK_MS 100

/* One connection on the clock: in the deadline order and in a bucket. */
struct pending {
    struct bufferevent *bev;
    int64_t due_ms;
    struct pending *prev, *next; /* by due time: all get the same timeout */
    struct pending *hnext;
};

struct deadline {
    struct event_base *base;
    int64_t ms;
    struct pending *head, *tail;
    struct pending *buckets[BUCKETS];
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
    bufferevent_decref(p->bev);
    free(p);
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
