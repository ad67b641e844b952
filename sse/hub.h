/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hub: the queues this instance serves, who watches them, and when to ask
 * Redis again.
 *
 * A watch is one browser stream (or one poll) on (queue, user). The hub
 * tells its owner the user's state the first time it is known and then
 * each time it changes (waiting at another rank, admitted, gone); a change
 * of the queue's length alone is not worth an event.
 *
 * Kafka only says "queue X changed". Changes are coalesced per queue: at
 * most one recompute per queues.coalesce_interval, and a change arriving
 * while a recompute is out schedules exactly one more after it. A
 * recompute asks Redis about every user watching the queue in one
 * pipelined batch. Every queues.refresh_interval all queues are recomputed
 * anyway, so users see progress even when no event arrives (Kafka down),
 * and hub_refresh_all does the same at once (Redis back).
 *
 * "Gone" ends a stream, so it is only believed twice: applications often
 * move a user from waiting to admitted with two commands, and a recompute
 * between them finds the user in neither set. The first such answer
 * schedules another look one coalescing interval later.
 *
 * A new watch gets its own one-user question at once: the state must
 * reach the browser even if no change ever follows. ranks hands answers
 * over in the order asked, so an older answer never overwrites a newer one.
 *
 * Loop thread only. The notify callback may call hub_unwatch on its own
 * watch (or any other).
 */
#ifndef OUTBOX_SSE_HUB_H
#define OUTBOX_SSE_HUB_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

#include "common/metrics.h"
#include "config/cfg_sse.h"
#include "sse/ranks.h"

struct hub_state {
    enum ranks_state state;
    int64_t rank;    /* 1-based, while waiting */
    int64_t waiting; /* length of the queue */
    int64_t eta_s;   /* -1 while unknown */
};

/* st is NULL when Redis could not answer the first question of a watch;
 * the hub tries again on the next refresh. */
typedef void (*hub_notify_fn)(void *owner, const struct hub_state *st);

struct hub;
struct hub_watch;

struct hub *hub_new(struct event_base *base, const struct sse_queues_cfg *cfg,
                    struct ranks *ranks, struct metrics *m);
void hub_free(struct hub *h);

/* NULL when out of memory. The queue and user are copied. */
struct hub_watch *hub_watch(struct hub *h, const char *queue, const char *user,
                            hub_notify_fn fn, void *owner);
void hub_unwatch(struct hub_watch *w);

/* Kafka said the queue changed. */
void hub_changed(struct hub *h, const char *queue, size_t len);
/* Recompute every watched queue now (Redis came back). */
void hub_refresh_all(struct hub *h);


#endif
