/* SPDX-License-Identifier: Apache-2.0 */
/*
 * relay: the daemon's work, on its own thread.
 *
 * Reading the binlog blocks (libmariadb has no event-loop API for
 * replication), so the pipeline runs on one thread of its own: it loads
 * the checkpoint, connects (with backoff and jitter on failure), streams
 * events through the pipeline into the sink, serves the producer's
 * delivery reports, and saves the checkpoint every checkpoint.interval and
 * when it stops. The event loop thread keeps serving /healthz and
 * /metrics; the two share only atomics, a stop flag and a pipe that wakes
 * the loop when the pipeline ends by itself (a fatal error).
 *
 * relay_stop wakes a blocked binlog read by shutting the socket down, so
 * a stop takes well under a second even when the source is silent.
 */
#ifndef OUTBOX_RELAY_RELAY_H
#define OUTBOX_RELAY_RELAY_H

#include <event2/event.h>
#include <stddef.h>

#include "config/cfg_relay.h"

struct metrics;
struct relay;

/* `on_end` runs on the loop thread when the pipeline thread has ended,
 * with the process's exit code (0 after a requested stop, 1 on failure). */
struct relay *relay_new(const struct relay_cfg *cfg, struct event_base *base,
                        struct metrics *m, void (*on_end)(void *arg, int code),
                        void *arg);
int relay_start(struct relay *r);
/* Asks the pipeline to stop; on_end follows. */
void relay_stop(struct relay *r);
/* Waits for the thread and frees everything. Returns the exit code. */
int relay_free(struct relay *r);

/* For /healthz: 0 while streaming, -1 with the reason otherwise. */
int relay_health(struct relay *r, char *why, size_t len);

#endif
