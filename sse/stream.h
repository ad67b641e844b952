/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stream: one SSE response past its handshake, on a socket of its own.
 *
 * evhttp serves the request; once a stream's request is accepted, the
 * server takes the socket from it (sse/server.c) and from then on the
 * stream is this record, an event and the socket: no request, headers,
 * bufferevent or evbuffers of evhttp's stay behind (they were most of a
 * stream's 3.9 KB).
 *
 * Writes go to the socket at once; only what the socket does not take
 * waits, in an evbuffer made then, and only then is EV_WRITE watched
 * (watching it for every stream and every event cost a fifth of a rank
 * wave in epoll_ctl). A stream whose waiting bytes pass max_pending, or
 * that has had bytes waiting with no progress for stall_ms, is too slow:
 * stream_send says so and the owner cuts it off. The kernel's send buffer
 * is bounded by the server (SO_SNDBUF) for the same reason.
 *
 * EV_READ stays watched so that a peer that leaves is noticed at once
 * (what it sends is read and dropped: browsers send nothing on a
 * stream). That, and a write failing while waiting bytes are flushed,
 * reach the owner's `gone` callback; the owner then calls stream_close.
 *
 * Loop thread only.
 */
#ifndef OUTBOX_SSE_STREAM_H
#define OUTBOX_SSE_STREAM_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct stream;

enum stream_result { STREAM_OK = 0, STREAM_GONE = -1, STREAM_SLOW = -2 };

/* The peer left, or the socket failed. */
typedef void (*stream_gone_fn)(void *owner);

/* Takes fd (non-blocking, connected); NULL when out of memory (fd is
 * then still the caller's). */
struct stream *stream_open(struct event_base *base, evutil_socket_t fd,
                           size_t max_pending, int64_t stall_ms,
                           stream_gone_fn gone, void *owner);

/* Sends buf's bytes (buf is left empty). STREAM_GONE: the socket failed;
 * STREAM_SLOW: the reader is too slow (see above). Either way the owner
 * should close the stream; `gone` is not called for these. */
enum stream_result stream_send(struct stream *st, struct evbuffer *buf);

/* Ends the stream: what the socket took still reaches the peer (the
 * kernel sends it, then FIN); bytes still waiting here are dropped,
 * which a browser survives: it reconnects and is told the state again.
 * Frees st. */
void stream_close(struct stream *st);

#endif
