/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wlink: frames between outbox-sse's supervisor and one of its workers,
 * over the socketpair the worker inherits (sse/super.h).
 *
 *   frame = type (1 byte) id (4 bytes, big-endian) length (4 bytes, BE)
 *           payload (length bytes)
 *
 *   R  worker -> supervisor   started and serving (payload empty)
 *   M  supervisor -> worker   render your /metrics; the answer is an M of
 *                             the same id with the exposition text
 *   H  supervisor -> worker   your health; the answer is an H of the same
 *                             id: "1" or "0", then the reason, if any
 *   D  supervisor -> worker   drain and exit (a frame, not a signal: a
 *                             worker that systemd or a terminal signalled
 *                             itself is draining already, and a second
 *                             signal would make it exit at once)
 *
 * Both ends are bufferevents on their own loop; a frame is handed over
 * whole. A frame over WLINK_MAX or the peer gone (EOF, error) ends the
 * link: `closed` runs once and nothing more is delivered.
 *
 * Loop thread only. `closed` may call wlink_free; `frame` must not.
 */
#ifndef OUTBOX_SSE_WLINK_H
#define OUTBOX_SSE_WLINK_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

#define WLINK_MAX (16u << 20)

enum { WLINK_READY = 'R', WLINK_METRICS = 'M', WLINK_HEALTH = 'H',
       WLINK_DRAIN = 'D' };

typedef void (*wlink_frame_fn)(void *arg, int type, uint32_t id,
                               const char *data, size_t len);
typedef void (*wlink_closed_fn)(void *arg);

struct wlink;

/* Takes fd (closed by wlink_free). NULL when out of memory. */
struct wlink *wlink_new(struct event_base *base, int fd, wlink_frame_fn frame,
                        wlink_closed_fn closed, void *arg);
void wlink_free(struct wlink *l);

/* Queues a frame; 0, or -1 when out of memory or len > WLINK_MAX. */
int wlink_send(struct wlink *l, int type, uint32_t id, const void *data,
               size_t len);

#endif
