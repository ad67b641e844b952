/* SPDX-License-Identifier: Apache-2.0 */
#include "sse/wlink.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdlib.h>
#include <string.h>

#define HEAD 9

struct wlink {
    struct bufferevent *bev;
    wlink_frame_fn frame;
    wlink_closed_fn closed;
    void *arg;
    char *scratch; /* a frame's payload, made contiguous */
    size_t cap;
    int dead;
};

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void die(struct wlink *l)
{
    if (l->dead)
        return;
    l->dead = 1;
    bufferevent_disable(l->bev, EV_READ | EV_WRITE);
    l->closed(l->arg); /* may free l */
}

/* One whole frame off the input, or 0 when none is there yet. */
static int next_frame(struct wlink *l, struct evbuffer *in)
{
    unsigned char h[HEAD];
    if (evbuffer_copyout(in, h, HEAD) < HEAD)
        return 0;
    uint32_t len = be32(h + 5);
    if (len > WLINK_MAX) {
        die(l);
        return -1;
    }
    if (evbuffer_get_length(in) < HEAD + (size_t)len)
        return 0;
    if (len + 1 > l->cap) {
        char *p = realloc(l->scratch, len + 1);
        if (!p) {
            die(l);
            return -1;
        }
        l->scratch = p;
        l->cap = len + 1;
    }
    evbuffer_drain(in, HEAD);
    evbuffer_remove(in, l->scratch, len);
    l->scratch[len] = '\0';
    l->frame(l->arg, h[0], be32(h + 1), l->scratch, len);
    return 1;
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct wlink *l = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    /* Only `closed` may free the link, and after it runs nothing here
     * touches the link again (next_frame returns -1). */
    while (!l->dead && next_frame(l, in) > 0)
        ;
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        die(arg);
}

struct wlink *wlink_new(struct event_base *base, int fd, wlink_frame_fn frame,
                        wlink_closed_fn closed, void *arg)
{
    struct wlink *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    evutil_make_socket_nonblocking(fd);
    evutil_make_socket_closeonexec(fd);
    l->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!l->bev) {
        free(l);
        return NULL;
    }
    l->frame = frame;
    l->closed = closed;
    l->arg = arg;
    bufferevent_setcb(l->bev, on_read, NULL, on_event, l);
    bufferevent_enable(l->bev, EV_READ);
    return l;
}

void wlink_free(struct wlink *l)
{
    if (!l)
        return;
    bufferevent_free(l->bev);
    free(l->scratch);
    free(l);
}

int wlink_send(struct wlink *l, int type, uint32_t id, const void *data,
               size_t len)
{
    unsigned char h[HEAD];
    if (len > WLINK_MAX || l->dead)
        return -1;
    h[0] = (unsigned char)type;
    put32(h + 1, id);
    put32(h + 5, (uint32_t)len);
    struct evbuffer *out = bufferevent_get_output(l->bev);
    if (evbuffer_add(out, h, HEAD) < 0 || (len && evbuffer_add(out, data, len) < 0))
        return -1;
    bufferevent_enable(l->bev, EV_WRITE);
    return 0;
}
