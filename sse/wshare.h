/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wshare: the page outbox-sse's workers and their supervisor share.
 *
 * One slot per worker, in a memfd the supervisor makes before it starts
 * any worker and hands to each (sse/super.h). A worker publishes there
 * how many connections it holds (streams, polls, and those still sending
 * their request), so that http.max_connections is one limit for the whole
 * server rather than one per process: before it serves a request a worker
 * adds up the others' slots. The supervisor empties the slot of a worker
 * that died.
 *
 * Slots are lock-free atomics: a worker writes only its own; readers may
 * see a count up to one publication old (each worker publishes on every
 * request and every 100 ms), which the limit tolerates.
 */
#ifndef OUTBOX_SSE_WSHARE_H
#define OUTBOX_SSE_WSHARE_H

#include <stddef.h>
#include <stdint.h>

struct wshare;

/* The supervisor's: n slots, all empty. NULL with errno set. */
struct wshare *wshare_create(size_t n);
/* A worker's: the page behind fd (inherited), n slots. NULL with errno. */
struct wshare *wshare_open(int fd, size_t n);
void wshare_free(struct wshare *ws);

/* The memfd, for a worker to inherit. */
int wshare_fd(const struct wshare *ws);

void wshare_set_held(struct wshare *ws, size_t slot, int64_t held);
/* Every slot's count but `slot`'s. */
int64_t wshare_held_by_others(const struct wshare *ws, size_t slot);

#endif
