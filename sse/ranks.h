/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ranks: where users stand in their queue, asked of Redis.
 *
 * A queue lives in two keys (templates in redis.waiting_key and
 * redis.admitted_key): a ZSET of waiting users scored by join time, and a
 * ZSET or SET of admitted users. A user's rank is ZRANK + 1.
 *
 * ranks_query asks about a batch of users of one queue, pipelined on
 * hiredis's async client attached to the daemon's libevent loop: ZCARD of
 * both sets (SCARD when admitted users are a SET) and ZRANK per user; then,
 * as each ZRANK reply comes, ZSCORE (SISMEMBER) for a user ZRANK did not
 * find, the only one whose admission matters. A batch whose users all
 * wait takes one round trip, another two.
 *
 * A big batch asks the cheaper way: one ZRANGE of the whole waiting set
 * instead of a ZRANK per user, when the set (as last seen: the caller's
 * hint) is at most RANKS_RANGE_RATIO times the batch. Measured on Redis
 * 7.0 here, a ZRANK of a 100,000-member set costs the server about
 * 1.0 us of CPU and a ZRANGE 0 -1 of it about 0.067 us per member, 15
 * times less; the ratio of 10 leaves room for a stale hint. The ranks
 * are read off the reply's order, so the answer is the same either way. The answer comes to a callback
 * once every reply is in, and the callbacks come in the order the batches
 * were asked. While Redis is unreachable,
 * queries fail at once, the client reconnects with backoff, and `on_up`
 * fires when it is back so that the caller can recompute everything.
 *
 * Loop thread only. A batch borrows the queue name, the users array and
 * the names in it: they must stay valid until fn has been called (hiredis
 * copies each command as it is sent; the batch keeps the pointers only to
 * hand them to fn and to name the queue in a log line).
 */
#ifndef OUTBOX_SSE_RANKS_H
#define OUTBOX_SSE_RANKS_H

#include <event2/event.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "config/cfg_sse.h"

enum ranks_state { RANKS_WAITING, RANKS_ADMITTED, RANKS_GONE };

struct ranks_answer {
    enum ranks_state state;
    int64_t rank; /* 1-based, RANKS_WAITING only */
};

struct ranks_totals {
    int64_t waiting;  /* users in the waiting set */
    int64_t admitted; /* users in the admitted set */
};

/* ok = 0 when Redis failed the batch (the rest is then meaningless). */
typedef void (*ranks_done_fn)(void *arg, const char *queue, int ok,
                              const struct ranks_totals *totals,
                              const char *const *users,
                              const struct ranks_answer *answers, size_t n);

struct ranks_stats {
    atomic_uint_fast64_t queries;
    atomic_uint_fast64_t ranges; /* of them, asked with one ZRANGE */
    atomic_uint_fast64_t errors;
    atomic_uint_fast64_t reconnects;
    atomic_int up;
};

struct ranks;

/* Connects (over TLS with redis.tls) and keeps reconnecting. NULL with a
 * message when TLS cannot be set up (files) or memory ran out. */
struct ranks *ranks_new(struct event_base *base, const struct sse_redis_cfg *cfg,
                        void (*on_up)(void *arg), void *arg, char *err,
                        size_t errlen);
void ranks_free(struct ranks *r);

/* 0 when sent (fn will be called exactly once, from the loop, never from
 * inside this call), -1 when Redis is down, the connection is closing or
 * memory ran out (fn is not called). waiting_hint: the queue's length as
 * last seen (0: unknown), which picks ZRANK or ZRANGE (see above). */
int ranks_query(struct ranks *r, const char *queue, const char *const *users,
                size_t n, int64_t waiting_hint, ranks_done_fn fn, void *arg);

/* Settable at build time for measurement: -DRANKS_RANGE_RATIO=0 never
 * asks with ZRANGE (tests/bench/SSE.md compares the two). */
#ifndef RANKS_RANGE_RATIO
#define RANKS_RANGE_RATIO 10
#endif

/* 1 when a batch of n users of a queue of `waiting` is asked with one
 * ZRANGE. Pure. */
int ranks_use_range(size_t n, int64_t waiting);

int ranks_is_up(const struct ranks *r);
struct ranks_stats *ranks_stats(struct ranks *r);

/* Expands a key template's {queue}. Returns the length, or -1 when it does
 * not fit. Pure. */
int ranks_key(const char *tpl, const char *queue, char *buf, size_t len);

#endif
