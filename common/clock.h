/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clock: milliseconds on the monotonic clock, for timeouts and intervals
 * (never for timestamps that leave the process: those are wall time).
 */
#ifndef OUTBOX_CLOCK_H
#define OUTBOX_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
