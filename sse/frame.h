/* SPDX-License-Identifier: Apache-2.0 */
/*
 * frame: the bytes of Server-Sent Events and of the JSON they carry.
 *
 * Pure functions over evbuffers, apart from any connection, so that unit
 * tests and fuzzers reach them. Event data is always one line of JSON, so
 * an event is "id: N\nevent: NAME\ndata: JSON\n\n"; names and users are
 * JSON-escaped (control characters as \uXXXX), never copied raw.
 */
#ifndef OUTBOX_SSE_FRAME_H
#define OUTBOX_SSE_FRAME_H

#include <event2/buffer.h>
#include <stdint.h>

#include "sse/hub.h"

/* Appends `s` as a JSON string literal, quotes included. */
void frame_json_string(struct evbuffer *out, const char *s);

/* {"queue","user","rank","waiting"[,"eta_s"]}: the data of a rank event. */
void frame_rank_json(struct evbuffer *out, const char *queue, const char *user,
                     const struct hub_state *st);

/* {"queue","user","admission"}: the data of a confirm event. */
void frame_confirm_json(struct evbuffer *out, const char *queue,
                        const char *user, const char *admission);

/* {"queue","user"}: the data of a gone event. */
void frame_gone_json(struct evbuffer *out, const char *queue, const char *user);

/* The state as one object, for polling clients: {"queue","user","state",
 * and "rank","waiting","eta_s" or "admission" as they apply}. */
void frame_state_json(struct evbuffer *out, const char *queue, const char *user,
                      const struct hub_state *st, const char *admission);

/* id, event name and the data in `data` (drained), as one SSE event. */
void frame_event(struct evbuffer *out, uint64_t id, const char *event,
                 struct evbuffer *data);

/* The same event written in place: frame_event_open, then the data
 * (one line of JSON) appended by the caller, then frame_event_close. One
 * buffer and no copy, for the broadcast path. */
void frame_event_open(struct evbuffer *out, uint64_t id, const char *event);
void frame_event_close(struct evbuffer *out);

/* "retry: MS\n\n" */
void frame_retry(struct evbuffer *out, int64_t ms);

/* ": ping\n\n" */
void frame_ping(struct evbuffer *out);

#endif
