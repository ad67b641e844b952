/* SPDX-License-Identifier: Apache-2.0 */
/*
 * deadline: a connection has http.header_timeout to deliver its request,
 * all of it, not merely one byte per timeout.
 *
 * evhttp's own timeout is an idle timeout, which a slowloris client that
 * trickles a byte now and then never trips, and libevent 2.1 has no hook
 * for new requests. So the deadline hooks in where connections are made:
 * evhttp asks us for each new connection's bufferevent (evhttp_set_bevcb),
 * we make it, hold a reference to it and note when its time is up. When
 * the request has arrived whole (deadline_met, from the request callback)
 * the hold is let go. A connection still holding at its deadline has its
 * socket shut down: evhttp sees EOF and frees it in its own way, and the
 * reference keeps the bufferevent (and so the socket number) from being
 * reused under us until then. One that evhttp freed before (an error
 * response, a client gone) is let go at the next tick.
 *
 * While it waits for the request line, the deadline also screens its
 * method: evhttp 2.1 answers one it does not know with 501 before any
 * callback of ours runs, and a made-up method is the client's error (4xx).
 *
 * Every response of outbox-sse says "Connection: close", so a connection
 * carries one request and the deadline covers every request.
 *
 * Loop thread only.
 */
#ifndef OUTBOX_SSE_DEADLINE_H
#define OUTBOX_SSE_DEADLINE_H

#include <event2/event.h>
#include <event2/http.h>
#include <stdint.h>

#include "common/metrics.h"

struct deadline;

/* Installs itself as `http`'s bufferevent maker. `expired` counts the
 * connections cut off (may be NULL). */
struct deadline *deadline_new(struct event_base *base, struct evhttp *http,
                              int64_t ms, struct mseries *expired);
void deadline_free(struct deadline *d);

/* The request's headers are in: its connection is off the clock. */
void deadline_met(struct deadline *d, struct evhttp_request *req);

/* Connections on the clock: accepted, their request not yet whole. One
 * that evhttp freed early (an error answer, a client gone) is counted
 * until the next tick, 100 ms at most. */
size_t deadline_pending(const struct deadline *d);

#endif
