/* SPDX-License-Identifier: Apache-2.0 */
#include "common/backoff.h"

#include <time.h>
#include <unistd.h>

void backoff_init(struct backoff *b, int64_t initial_ms, int64_t max_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    b->initial_ms = initial_ms > 0 ? initial_ms : 1;
    b->max_ms = max_ms > b->initial_ms ? max_ms : b->initial_ms;
    b->attempt = 0;
    b->rng = ((uint64_t)ts.tv_nsec << 16) ^ (uint64_t)getpid() ^ 0x9e3779b97f4a7c15ULL;
}

void backoff_reset(struct backoff *b) { b->attempt = 0; }

int64_t backoff_next(struct backoff *b)
{
    int64_t ceil = b->initial_ms;
    for (unsigned i = 0; i < b->attempt && ceil < b->max_ms; i++)
        ceil *= 2;
    if (ceil > b->max_ms)
        ceil = b->max_ms;
    if (b->attempt < 64)
        b->attempt++;
    b->rng ^= b->rng << 13;
    b->rng ^= b->rng >> 7;
    b->rng ^= b->rng << 17;
    int64_t floor = b->initial_ms / 2;
    return floor + (int64_t)(b->rng % (uint64_t)(ceil - floor + 1));
}
