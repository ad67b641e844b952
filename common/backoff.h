/* SPDX-License-Identifier: Apache-2.0 */
/*
 * backoff: exponential backoff with full jitter, for reconnect loops.
 *
 * The n-th wait is uniform in [initial/2, min(max, initial * 2^n)]: random
 * so that many clients cut off at once do not return at once (the "full
 * jitter" of the AWS architecture blog, with a floor so a retry is never
 * immediate). Not thread-safe; one per connection.
 */
#ifndef OUTBOX_BACKOFF_H
#define OUTBOX_BACKOFF_H

#include <stdint.h>

struct backoff {
    int64_t initial_ms, max_ms;
    unsigned attempt;
    uint64_t rng;
};

void backoff_init(struct backoff *b, int64_t initial_ms, int64_t max_ms);
/* The next wait in milliseconds; each call grows the ceiling. */
int64_t backoff_next(struct backoff *b);
/* After a success: the next failure starts small again. */
void backoff_reset(struct backoff *b);

#endif
