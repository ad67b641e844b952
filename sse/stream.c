/* SPDX-License-Identifier: Apache-2.0 */
#include "sse/stream.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"

struct stream {
    struct event *ev;
    evutil_socket_t fd;
    struct evbuffer *pend; /* NULL while the socket takes everything */
    int64_t progress_ms;   /* last write that moved bytes, while pending */
    int64_t stall_ms;
    size_t max_pending;
    stream_gone_fn gone;
    void *owner;
};

static void on_io(evutil_socket_t fd, short what, void *arg);

/* Watches EV_WRITE too exactly while bytes wait. */
static int watch(struct stream *st, int want_write)
{
    short flags = EV_READ | EV_PERSIST | (want_write ? EV_WRITE : 0);
    if (st->ev && event_get_events(st->ev) == flags)
        return 0;
    struct event_base *base = event_get_base(st->ev);
    event_del(st->ev);
    if (event_assign(st->ev, base, st->fd, flags, on_io, st) < 0)
        return -1;
    return event_add(st->ev, NULL);
}

static int would_block(void)
{
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

/* Writes what waits; 0, or -1 when the socket failed. */
static int flush(struct stream *st)
{
    size_t before = evbuffer_get_length(st->pend);
    while (evbuffer_get_length(st->pend) > 0) {
        int n = evbuffer_write(st->pend, st->fd);
        if (n < 0 && would_block())
            break;
        if (n <= 0)
            return -1;
    }
    if (evbuffer_get_length(st->pend) < before)
        st->progress_ms = clock_mono_ms();
    return watch(st, evbuffer_get_length(st->pend) > 0);
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
    struct stream *st = arg;
    if (what & EV_READ) {
        char buf[512];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n == 0 || (n < 0 && !would_block())) {
            st->gone(st->owner);
            return;
        }
    }
    if ((what & EV_WRITE) && st->pend && flush(st) < 0)
        st->gone(st->owner);
}

struct stream *stream_open(struct event_base *base, evutil_socket_t fd,
                           size_t max_pending, int64_t stall_ms,
                           stream_gone_fn gone, void *owner)
{
    struct stream *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    *st = (struct stream){.fd = fd, .stall_ms = stall_ms,
                          .max_pending = max_pending, .gone = gone,
                          .owner = owner};
    if (!(st->ev = event_new(base, fd, EV_READ | EV_PERSIST, on_io, st)) ||
        event_add(st->ev, NULL) < 0) {
        if (st->ev)
            event_free(st->ev);
        free(st);
        return NULL;
    }
    return st;
}

enum stream_result stream_send(struct stream *st, struct evbuffer *buf)
{
    if (st->pend && evbuffer_get_length(st->pend) > 0) {
        evbuffer_add_buffer(st->pend, buf);
        if (flush(st) < 0)
            return STREAM_GONE;
    } else {
        while (evbuffer_get_length(buf) > 0) {
            int n = evbuffer_write(buf, st->fd);
            if (n < 0 && would_block())
                break;
            if (n <= 0)
                return STREAM_GONE;
        }
        if (evbuffer_get_length(buf) == 0)
            return STREAM_OK;
        /* The socket is full: the rest waits, and EV_WRITE is watched. */
        if (!st->pend && !(st->pend = evbuffer_new()))
            return STREAM_GONE;
        evbuffer_add_buffer(st->pend, buf);
        st->progress_ms = clock_mono_ms();
        if (watch(st, 1) < 0)
            return STREAM_GONE;
    }
    size_t waiting = evbuffer_get_length(st->pend);
    if (waiting > st->max_pending ||
        (waiting > 0 && clock_mono_ms() - st->progress_ms > st->stall_ms))
        return STREAM_SLOW;
    return STREAM_OK;
}

void stream_close(struct stream *st)
{
    if (!st)
        return;
    event_free(st->ev);
    if (st->pend)
        evbuffer_free(st->pend);
    /* Unread input would turn close() into a reset that may destroy what
     * the peer has not read yet; a stream's peer sends nothing, and what
     * it did has been read by on_io. */
    shutdown(st->fd, SHUT_WR);
    close(st->fd);
    free(st);
}
